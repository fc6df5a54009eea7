#!/usr/bin/env bash
# run.sh: `make test`.  Unit tests (Check), then the black-box suite
# against a real Kafka broker and lighttpd with the responders.  Ends
# with the line "N passed, N failed".  MSGCMD_BUILD=build-asan (make
# test-asan) runs the unit tests and the responders of that build, and
# any sanitizer report of its processes fails the run; UNIT_TESTS,
# when set, names the unit-test programs instead of all of the build's.
# The integration tests also run through the other deployment modes
# (tests/deploy/run-modes.sh) unless DEPLOY_MODES=0.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
export MSGCMD_BUILD=${MSGCMD_BUILD:-build}

unit_out=$(mktemp)
# shellcheck disable=SC2086
tests/run-unit.sh ${UNIT_TESTS:-"$MSGCMD_BUILD"/tests/test_*} | tee "$unit_out"
read -r upass ufail < <(sed -nE 's/^unit: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$unit_out")
rm -f "$unit_out"

export STATE=$(mktemp -d /tmp/msgcmd-test.XXXXXX)
export TOPIC="msgcmd-test-$(date +%s)-$$"
export ACCEPTED="$STATE/accepted.jsonl"
# The suite's own settings only: no .env, no database of a `make run`.
export ENV_FILE=/dev/null DATABASE_PATH="$STATE/msgcmd.db" BIND=127.0.0.1
unset KEYCLOAK_PUBLIC_KEY_FILE KEYCLOAK_JWKS_FILE KEYCLOAK_JWKS_URL KEYCLOAK_ISSUER KAFKA_PROPERTIES
: >"$ACCEPTED"
. scripts/stack.sh
cleanup() { stack_stop; [ -n "${KEEP_STATE:-}" ] || rm -rf "$STATE"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

stack_kafka "$STATE" "${TEST_KAFKA_PORT:-19092}"
unset KEYCLOAK_PUBLIC_KEY
stack_keys "$STATE"
export PRIVATE_KEY="$STACK_PRIVATE_KEY"
stack_lighttpd "$STATE" "${TEST_PORT:-18000}"

ipass=0 ifail=0
for t in tests/integration/t*.sh; do
	echo "# $t"
	out=$(bash "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/  /'
	p=$(grep -c '^ok ' <<<"$out")
	f=$(grep -c '^not ok ' <<<"$out")
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	ipass=$((ipass + p)) ifail=$((ifail + f))
done

# The same tests through Apache mod_fcgid, spawn-fcgi and plain CGI, on
# this suite's broker and key and with this build (tests/deploy/).
# DEPLOY_MODES=0 leaves them out (about 35 s here, 50 s with ASan).
if [ "${DEPLOY_MODES:-1}" != 0 ]; then
	echo "# tests/deploy/run-modes.sh"
	modes_out=$(mktemp)
	tests/deploy/run-modes.sh 2>&1 | sed 's/^/  /' | tee "$modes_out"
	rc=${PIPESTATUS[0]}
	read -r p f < <(sed -nE 's/^  modes: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$modes_out")
	p=${p:-$(grep -c '^  ok ' "$modes_out")}
	f=${f:-$(grep -c '^  not ok ' "$modes_out")}
	rm -f "$modes_out"
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	ipass=$((ipass + p)) ifail=$((ifail + f))
fi

# children PID: the pids of PID's children (lighttpd's responders).
children() {
	local f line fields
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		read -r -a fields <<<"${line##*) }"	# after "pid (comm) "
		[ "${fields[1]}" = "$1" ] && { f=${f%/stat}; echo "${f#/proc/}"; }
	done
}

# running PID...: succeeds while one of them runs (a zombie does not).
running() {
	local p line
	for p in "$@"; do
		{ read -r line <"/proc/$p/stat"; } 2>/dev/null || continue
		line=${line##*) }
		[ "${line:0:1}" = Z ] || return 0
	done
	return 1
}

# The responders write their sanitizer reports (LeakSanitizer's at exit)
# to the lighttpd logs, so those are read once every responder is gone
# (10 s at most); the processes the tests start themselves write theirs
# under $STATE/sanitizer (SAN_ENV in tests/integration/lib.sh).
kids=$(children "$STACK_LIGHTTPD_PID")
stack_stop
for _ in $(seq 100); do
	# shellcheck disable=SC2086
	running $kids || break
	sleep 0.1
done
reports=$({ find "$STATE" \( -name lighttpd.log -o -path "$STATE/sanitizer/*" \) -type f
    echo "$MSGCMD_ERRORLOG"; } |
    sort -u | xargs -d '\n' grep -H -E -A20 \
    'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' 2>/dev/null)
if [ -n "$reports" ]; then
	echo "not ok - sanitizer reports of the responders or of the processes the tests started ($MSGCMD_BUILD):"
	printf '%s\n' "$reports" | head -80 | sed 's/^/  /'
	ifail=$((ifail + 1))
else
	echo "ok - no sanitizer report of the responders or of the processes the tests started ($MSGCMD_BUILD)"
	ipass=$((ipass + 1))
fi
echo "integration: $ipass passed, $ifail failed"
if [ "$ifail" -ne 0 ] || [ "${ufail:-1}" -ne 0 ]; then
	echo "--- lighttpd/responder log (last 40 lines)"
	tail -40 "$MSGCMD_ERRORLOG"
fi
echo "$((${upass:-0} + ipass)) passed, $((${ufail:-1} + ifail)) failed"
[ "$ifail" -eq 0 ] && [ "${ufail:-1}" -eq 0 ]
