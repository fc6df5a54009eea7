#!/usr/bin/env bash
# run-modes.sh [MODE...]: the mode-independent black-box tests through
# every deployment we claim besides the suite's own lighttpd:
#   apache-fcgid  Apache httpd + mod_fcgid, deploy/apache/msgcmd.conf
#   spawn-fcgi    spawn-fcgi + multiwatch as deploy/systemd/ runs them, the
#                 relay, lighttpd with deploy/lighttpd-spawn-fcgi.conf
#   cgi           lighttpd mod_cgi with deploy/lighttpd-cgi.conf, the relay
# (all three when none is named; each is tests/deploy/mode-MODE.sh).
# Each mode gets a free port, its own database, settings file and
# topic, on the suite's broker (BOOTSTRAP_SERVERS) and key (PRIVATE_KEY),
# or on its own when those are unset; then t05-front-end.sh and the
# integration tests t10, t20, t30 and t90 run against it.  Prints each
# check as "ok - MODE tNN: ..." and ends with "modes: N passed, N
# failed", counting checks.  Run as root, the front ends' workers, the
# responders, the relay and the database are www-data's (a check says
# so; only Apache's parent stays root); run as another user, everything
# is that user's.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
export MSGCMD_BUILD=${MSGCMD_BUILD:-build}
[ $# -gt 0 ] || set -- apache-fcgid spawn-fcgi cgi

TESTS=(tests/deploy/t05-front-end.sh tests/integration/t10-commands.sh
    tests/integration/t20-errors.sh tests/integration/t30-concurrent.sh
    tests/integration/t90-topic.sh)

PORT=0 . tests/integration/lib.sh	# free_port, ok, not_ok
STACK_ROOT=$ROOT
. scripts/stack.sh
. tests/deploy/lib.sh

WORK=$(mktemp -d /tmp/msgcmd-modes.XXXXXX) || exit 1
chmod 0755 "$WORK"	# RUN_USER reaches its directories below
cleanup() { stack_stop; [ -n "${KEEP_STATE:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${BOOTSTRAP_SERVERS:-${BOOTSTRAP_SERVER:-}}" ]; then
	stack_kafka "$WORK" "$(scripts/kafka.sh port)"
fi
export BOOTSTRAP_SERVERS=${BOOTSTRAP_SERVERS:-$BOOTSTRAP_SERVER}
if [ -z "${PRIVATE_KEY:-}" ]; then
	unset KEYCLOAK_PUBLIC_KEY
	stack_keys "$WORK"
	export PRIVATE_KEY=$STACK_PRIVATE_KEY
fi
KEYCLOAK_PUBLIC_KEY=$(openssl pkey -in "$PRIVATE_KEY" -pubout | grep -v -- '-----' | tr -d '\n')

# run_test MODE FILE: one test file against the mode, its lines prefixed.
run_test() {
	local name out rc t0=$SECONDS
	name=$(basename "$2" .sh)
	name=${name%%-*}
	out=$(PORT=$PORT STATE=$DIR/tests ACCEPTED=$DIR/tests/accepted.jsonl \
	    TOPIC=$TOPIC bash "$2" 2>&1)
	rc=$?
	sed -E -e "s/^(ok|not ok) - /\\1 - $1 $name: /" \
	    -e "/^(ok|not ok) - /!s/^/# $1 $name: /" <<<"$out"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' <<<"$out"; then
		not_ok "$1 $name: exited with status $rc"
	fi
	echo "# $1 $name: $((SECONDS - t0)) s"
}

# check_users MODE: the msgcmd processes and the database belong to
# RUN_USER (www-data when run as root).
check_users() {
	local procs owner bad
	# shellcheck disable=SC2046
	procs=$(process_users $(descendants "${MODE_PIDS[@]}"))
	owner=$(stat -c %U "$DIR/db/msgcmd.db" 2>/dev/null)
	bad=$(awk -v u="$RUN_USER" '$1 != u' <<<"$procs")
	if [ -n "$procs" ] && [ -z "$bad" ] && [ "$owner" = "$RUN_USER" ]; then
		ok "$1: msgcmd processes ($(awk '{print $2}' <<<"$procs" | sort |
		    uniq -c | xargs)) and the database belong to $RUN_USER"
	else
		not_ok "$1: msgcmd processes and database belong to $RUN_USER: got '$(tr '\n' ',' <<<"$procs")', database owner '$owner'"
	fi
}

# stop_mode MODE: stops the mode's processes by pid, then checks that
# none of them, nor any process they started, is left (15 s at most).
stop_mode() {
	local kids left
	[ -n "${STOPPED:-}" ] && return 0
	STOPPED=1
	kids=$(descendants "${MODE_PIDS[@]}")
	mode_stop
	# shellcheck disable=SC2086
	if wait_gone 15 $kids; then
		ok "$1: stopped by pid; no process of it left"
	else
		left=$(alive $kids)
		not_ok "$1: still running after the stop: $(ps -o pid=,user=,args= -p "$(tr '\n' , <<<"$left")" | tr '\n' '|')"
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null
	fi
}

# check_logs MODE: no sanitizer report in any of the mode's logs.
check_logs() {
	local reports
	reports=$(grep -E -A5 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' \
	    "$DIR"/log/* 2>/dev/null | head -40)
	if [ -n "$reports" ]; then
		not_ok "$1: sanitizer reports in its logs: $(tr '\n' '|' <<<"$reports")"
	else
		ok "$1: no sanitizer report in its logs ($MSGCMD_BUILD)"
	fi
}

# run_mode MODE: everything of one mode, in a subshell of its own.
run_mode() (
	local mode=$1 t start=$SECONDS f
	DIR=$WORK/$mode
	[ -f "tests/deploy/mode-$mode.sh" ] || { not_ok "$mode: no tests/deploy/mode-$mode.sh"; return; }
	# shellcheck source=/dev/null
	. "tests/deploy/mode-$mode.sh"
	MODE_PIDS=() STOPPED=
	mkdir -p "$DIR/tests" && chmod 0755 "$DIR" && own_dir "$DIR/db" "$DIR/log" || return
	PORT=$(free_port)
	TOPIC="msgcmd-deploy-$mode-$(date +%s)-$$"
	write_env "$DIR/msgcmd.env" "$DIR" "$TOPIC"
	: >"$DIR/tests/accepted.jsonl"
	trap 'stop_mode "$mode"' EXIT
	trap 'exit 130' INT TERM
	if mode_start && wait_ready "http://127.0.0.1:$PORT/readyz" 30 "${MODE_PIDS[@]}"; then
		ok "$mode: up on 127.0.0.1:$PORT, /readyz 200 after $((SECONDS - start)) s"
	else
		not_ok "$mode: did not come up on 127.0.0.1:$PORT"
		for f in $(mode_logs); do
			[ -f "$f" ] && { echo "# --- $f"; tail -5 "$f" | sed 's/^/# /'; }
		done
		return
	fi
	if declare -F mode_checks >/dev/null; then
		mode_checks | sed -E "s/^(ok|not ok) - /\\1 - $mode: /"
	fi
	for t in "${TESTS[@]}"; do run_test "$mode" "$t"; done
	check_users "$mode"
	stop_mode "$mode"
	check_logs "$mode"
	echo "# $mode: $((SECONDS - start)) s"
)

for m in "$@"; do
	echo "# mode $m"
	run_mode "$m" | tee "$WORK/$m.out"
	p=$(grep -c '^ok ' "$WORK/$m.out")
	f=$(grep -c '^not ok ' "$WORK/$m.out")
	echo "# $m: $p passed, $f failed"
	pass=$((${pass:-0} + p)) fail=$((${fail:-0} + f))
done
echo "modes: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
