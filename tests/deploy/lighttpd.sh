# lighttpd.sh: lighttpd for the modes that put it in front
# (mode-spawn-fcgi.sh, mode-cgi.sh): a top configuration with the server settings of Debian's own
# /etc/lighttpd/lighttpd.conf (its module list, www-data as root) that
# includes the mode's file from deploy/, as lighty-enable-mod would, with
# only its site lines rewritten.

# lighttpd_start FILE SED-EXPR...: DIR/msgcmd-site.conf is deploy/FILE
# with each sed -E expression applied (each must change a line), then
# lighttpd starts with DIR/lighttpd.conf.  Sets LIGHTTPD_PID.
lighttpd_start() {
	local file=$1 e
	shift
	cp "$ROOT/deploy/$file" "$DIR/msgcmd-site.conf"
	for e in "$@"; do
		sed -E "$e" "$DIR/msgcmd-site.conf" >"$DIR/site.tmp"
		cmp -s "$DIR/site.tmp" "$DIR/msgcmd-site.conf" &&
			{ echo "# $file: no line matches $e"; return 1; }
		mv "$DIR/site.tmp" "$DIR/msgcmd-site.conf"
	done
	{
		echo 'server.modules = ( "mod_indexfile", "mod_access", "mod_alias", "mod_redirect" )'
		echo "server.document-root = \"$DIR/www\""
		echo "server.errorlog = \"$DIR/log/lighttpd.log\""
		echo "server.port = $PORT"
		echo 'server.bind = "127.0.0.1"'
		[ "$(id -u)" -eq 0 ] &&
			printf 'server.username = "%s"\nserver.groupname = "%s"\n' "$RUN_USER" "$RUN_GROUP"
		echo 'include "msgcmd-site.conf"'
	} >"$DIR/lighttpd.conf"
	mkdir -p "$DIR/www"
	lighttpd -tt -f "$DIR/lighttpd.conf" || return 1
	env_words
	env -i "${ENVW[@]}" lighttpd -D -f "$DIR/lighttpd.conf" \
	    2>>"$DIR/log/lighttpd-stderr.log" &
	LIGHTTPD_PID=$!
	MODE_PIDS+=("$LIGHTTPD_PID")
}

lighttpd_stop() {
	kill -TERM "$LIGHTTPD_PID" 2>/dev/null
	wait "$LIGHTTPD_PID" 2>/dev/null
}
