# mode-cgi.sh: the cgi mode of run-modes.sh.  lighttpd's mod_cgi with
# deploy/lighttpd-cgi.conf runs build/msgcmd once per request; a CGI
# process never publishes, so msgcmd-relay runs beside it, as
# msgcmd-relay.service would, on the same database.  As root, lighttpd,
# its CGI processes and the relay run as www-data.

. "$(dirname "${BASH_SOURCE[0]}")/lighttpd.sh"

mode_start() {
	start_relay
	lighttpd_start lighttpd-cgi.conf \
	    "s|^(var\\.msgcmd_build *= *).*|\\1\"$ROOT/$MSGCMD_BUILD\"|" \
	    "s|^(var\\.msgcmd_env_file *= *).*|\\1\"$DIR/msgcmd.env\"|"
}

mode_stop() {
	lighttpd_stop
	kill -TERM "$RELAY_PID" 2>/dev/null
	wait "$RELAY_PID" 2>/dev/null
}

mode_logs() { echo "$DIR"/log/*; }
