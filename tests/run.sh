#!/usr/bin/env bash
# run.sh: `make test`.  Unit tests (Check), then the black-box suite
# against a real Kafka broker and lighttpd with the responders.  Ends
# with the line "N passed, N failed".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

unit_out=$(mktemp)
tests/run-unit.sh build/tests/test_* | tee "$unit_out"
read -r upass ufail < <(sed -nE 's/^unit: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$unit_out")
rm -f "$unit_out"

export STATE=$(mktemp -d /tmp/msgcmd-test.XXXXXX)
export TOPIC="msgcmd-test-$(date +%s)-$$"
export ACCEPTED="$STATE/accepted.jsonl"
# The suite's own settings only: no .env, no database of a `make run`.
export ENV_FILE=/dev/null DATABASE_PATH="$STATE/msgcmd.db"
unset KEYCLOAK_PUBLIC_KEY_FILE KEYCLOAK_ISSUER KAFKA_PROPERTIES
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
echo "integration: $ipass passed, $ifail failed"
if [ "$ifail" -ne 0 ] || [ "${ufail:-1}" -ne 0 ]; then
	echo "--- lighttpd/responder log (last 40 lines)"
	tail -40 "$MSGCMD_ERRORLOG"
fi
echo "$((${upass:-0} + ipass)) passed, $((${ufail:-1} + ifail)) failed"
[ "$ifail" -eq 0 ] && [ "${ufail:-1}" -eq 0 ]
