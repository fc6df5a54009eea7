# mode-spawn-fcgi.sh: the spawn-fcgi mode of run-modes.sh, the layout of
# deploy/systemd/: the responders started as msgcmd-fcgi.service starts
# them (its ExecStart= and Environment= lines, the settings file as
# EnvironmentFile=, the database directory as working directory), the
# publisher as msgcmd-relay.service starts it, and lighttpd connecting to
# the socket with deploy/lighttpd-spawn-fcgi.conf.  As root, -u/-g stand
# for the units' User= and Group=, and lighttpd drops to www-data.

. "$(dirname "${BASH_SOURCE[0]}")/lighttpd.sh"

mode_start() {
	local env_args cmd
	if ! command -v spawn-fcgi >/dev/null || ! command -v multiwatch >/dev/null; then
		echo "# spawn-fcgi or multiwatch is not installed"
		return 1
	fi
	own_dir "$DIR/run" || return 1
	mapfile -t env_args < <(unit_env_args msgcmd-fcgi.service)
	read -r -a cmd <<<"$(unit_value msgcmd-fcgi.service ExecStart)"
	[ "$(id -u)" -eq 0 ] && cmd=("${cmd[0]}" -u "$RUN_USER" -g "$RUN_GROUP" "${cmd[@]:1}")
	env_words "${env_args[@]}"
	(cd "$DIR/db" && exec env -i "${ENVW[@]}" "${cmd[@]}") \
	    2>>"$DIR/log/responders.log" &
	FCGI_PID=$!
	MODE_PIDS+=("$FCGI_PID")
	start_relay
	lighttpd_start lighttpd-spawn-fcgi.conf \
	    "s|^(var\\.msgcmd_socket *= *).*|\\1\"$DIR/run/msgcmd.sock\"|"
}

# mode_stop: lighttpd, then multiwatch (it hands SIGTERM to the
# responders and waits for them), then the relay.
mode_stop() {
	lighttpd_stop
	kill -TERM "$FCGI_PID" 2>/dev/null
	wait "$FCGI_PID" 2>/dev/null
	kill -TERM "$RELAY_PID" 2>/dev/null
	wait "$RELAY_PID" 2>/dev/null
}

# mode_checks: the units themselves, as far as this machine can check
# them without a running systemd.
mode_checks() {
	local u out
	command -v systemd-analyze >/dev/null ||
		{ echo "# systemd-analyze is not installed: units not verified"; return 0; }
	mkdir -p "$DIR/units"
	for u in msgcmd-fcgi.service msgcmd-relay.service; do
		sed "s|/opt/msgcmd/|$ROOT/|g" "$ROOT/deploy/systemd/$u" >"$DIR/units/$u"
	done
	if out=$(cd "$DIR/units" && systemd-analyze verify ./*.service 2>&1) && [ -z "$out" ]; then
		echo "ok - systemd-analyze verify accepts msgcmd-fcgi.service and msgcmd-relay.service"
	else
		echo "not ok - systemd-analyze verify: $(tr '\n' '|' <<<"$out")"
	fi
}

mode_logs() { echo "$DIR"/log/*; }
