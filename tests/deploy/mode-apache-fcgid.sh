# mode-apache-fcgid.sh: the apache-fcgid mode of run-modes.sh.  Apache httpd
# (Debian's apache2 binary) in the foreground with a generated httpd.conf
# of its own in DIR that includes deploy/apache/msgcmd.conf unchanged;
# mod_fcgid spawns the responders, one of which publishes in its thread.
# As root, the workers and the responders run as www-data.

APACHE_MODULES=/usr/lib/apache2/modules

# mode_conf: DIR/httpd.conf.  The Defines come before the site file,
# whose own defaults give way to them.
mode_conf() {
	local m
	{
		echo "ServerRoot $DIR"
		echo "ServerName 127.0.0.1"
		echo "Listen 127.0.0.1:$PORT"
		echo "PidFile $DIR/run/apache2.pid"
		echo "DefaultRuntimeDir $DIR/run"
		echo "ErrorLog $DIR/log/apache-error.log"
		echo 'LogFormat "%h %l %u %t \"%r\" %>s %b %D" combined'
		for m in mpm_event authz_core alias rewrite fcgid; do
			echo "LoadModule ${m}_module $APACHE_MODULES/mod_$m.so"
		done
		[ "$(id -u)" -eq 0 ] && printf 'User %s\nGroup %s\n' "$RUN_USER" "$RUN_GROUP"
		echo "FcgidIPCDir $DIR/run/fcgid"
		echo "FcgidProcessTableFile $DIR/run/fcgid_shm"
		echo "Define APACHE_LOG_DIR $DIR/log"
		echo "Define MSGCMD_HOME $ROOT"
		echo "Define MSGCMD_BUILD $MSGCMD_BUILD"
		echo "Define MSGCMD_ENV_FILE $DIR/msgcmd.env"
		echo "Define MSGCMD_VHOST 127.0.0.1:$PORT"
		echo "Include $ROOT/deploy/apache/msgcmd.conf"
	} >"$DIR/httpd.conf"
}

mode_start() {
	if ! command -v apache2 >/dev/null || [ ! -f "$APACHE_MODULES/mod_fcgid.so" ]; then
		echo "# apache2 or mod_fcgid is not installed (apache2, libapache2-mod-fcgid)"
		return 1
	fi
	mkdir -p "$DIR/run" && mode_conf || return 1
	apache2 -t -f "$DIR/httpd.conf" >"$DIR/log/configtest.log" 2>&1 ||
		{ cat "$DIR/log/configtest.log"; return 1; }
	env_words
	env -i "${ENVW[@]}" apache2 -DFOREGROUND -f "$DIR/httpd.conf" \
	    2>>"$DIR/log/apache-stderr.log" &
	APACHE_PID=$!
	MODE_PIDS+=("$APACHE_PID")
}

# mode_stop: SIGTERM to the parent named by the pid file (it stops its
# workers, and mod_fcgid its responders).
mode_stop() {
	local pid
	pid=$(cat "$DIR/run/apache2.pid" 2>/dev/null) || pid=$APACHE_PID
	[ "$pid" = "$APACHE_PID" ] || echo "# pid file names $pid, started $APACHE_PID"
	kill -TERM "$pid" 2>/dev/null
	wait "$APACHE_PID" 2>/dev/null
}

mode_logs() { echo "$DIR"/log/*; }
