# extra-stack.sh: sourced after lib.sh by tests that need a msgcmd of
# their own beside the runner's: another lighttpd with its responders, its
# own state directory, database and settings.  Only processes started here
# are stopped, by pid.

EXTRA_PIDS=()	# lighttpd pids started by extra_start, not yet stopped

# extra_start DIR [VAR=VALUE...]: starts lighttpd with lighttpd.conf on a
# free port, its socket and log in DIR.  The responders inherit lighttpd's
# environment; the defaults keep the stack apart from the runner's (its
# own database DIR/msgcmd.db, no publisher, a topic of its own), and each
# VAR=VALUE overrides one.  Waits (30 s at most) until EXTRA_PROBE
# (default /readyz; /healthz for a store meant to be broken) answers 200.
# Sets EXTRA_PID and EXTRA_BASE; returns 1, the stack stopped, when it
# did not come up.  Call it in the test's own shell, not in $(...), so
# that extra_stop can wait for lighttpd.
extra_start() {
	local dir=$1 port
	shift
	mkdir -p "$dir" && port=$(free_port) || return 1
	EXTRA_BASE="http://127.0.0.1:$port"
	env MSGCMD_ROOT="$ROOT" MSGCMD_BUILD="${MSGCMD_BUILD:-build}" \
	    MSGCMD_STATE="$dir" PORT="$port" \
	    MSGCMD_ERRORLOG="$dir/lighttpd.log" DATABASE_PATH="$dir/msgcmd.db" \
	    PUBLISHER=off TOPIC="msgcmd-extra-$$-$RANDOM" "$@" \
	    lighttpd -D -f "$ROOT/lighttpd.conf" 2>>"$dir/lighttpd.log" &
	EXTRA_PID=$!
	EXTRA_PIDS+=("$EXTRA_PID")
	extra_wait "$EXTRA_BASE${EXTRA_PROBE:-/readyz}" "$EXTRA_PID" && return 0
	echo "# extra stack in $dir did not come up; log:" && tail -5 "$dir/lighttpd.log"
	extra_stop "$EXTRA_PID"
	return 1
}

# extra_wait URL PID: polls URL until it answers 200, while PID lives.
extra_wait() {
	local i code
	for i in $(seq 300); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "$1") || code=000
		[ "$code" = 200 ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# extra_children PID: prints the pids of PID's children (the responders
# of a lighttpd), read from /proc.
extra_children() {
	local f line fields
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		# After "pid (comm) ": state ppid ...; comm may hold spaces.
		read -r -a fields <<<"${line##*) }"
		[ "${fields[1]}" = "$1" ] && { f=${f#/proc/}; echo "${f%/stat}"; }
	done
}

# extra_alive PID...: prints those PIDs that still run (zombies count as
# gone: nobody may be left to reap a responder whose lighttpd died).
extra_alive() {
	local p line
	for p in "$@"; do
		{ read -r line <"/proc/$p/stat"; } 2>/dev/null || continue
		line=${line##*) }
		[ "${line:0:1}" = Z ] || echo "$p"
	done
}

# extra_stop PID: stops that lighttpd with SIGTERM (it stops its
# responders) and waits until none of its responders runs any more (15 s
# at most: ASan responders exiting together on two cores, each with a
# checkpoint, an fsync and LeakSanitizer's scan, can take near 5 s).
# Returns 1, after SIGKILLing them by pid, when some were left.
extra_stop() {
	local pid=$1 kids left i p rest=()
	kids=$(extra_children "$pid")
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	for p in "${EXTRA_PIDS[@]}"; do [ "$p" = "$pid" ] || rest+=("$p"); done
	EXTRA_PIDS=("${rest[@]}")
	for i in $(seq 150); do
		# shellcheck disable=SC2086
		left=$(extra_alive $kids)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "# responders still running after lighttpd stopped:" $left
	# shellcheck disable=SC2086
	kill -KILL $left 2>/dev/null
	return 1
}

# extra_stop_all: for an EXIT trap.
extra_stop_all() {
	local p
	for p in "${EXTRA_PIDS[@]}"; do extra_stop "$p"; done
}

# extra_req BASE METHOD PATH [curl args...] and
# extra_as BASE SUB METHOD PATH [curl args...]: lib.sh's req and as
# against another stack.  Its events are not the runner's topic's, so
# none is added to $ACCEPTED.
extra_req() {
	local BASE=$1 ACCEPTED=/dev/null
	shift
	req "$@"
}

extra_as() {
	local BASE=$1 ACCEPTED=/dev/null
	shift
	as "$@"
}
