#!/usr/bin/env bash
# valgrind.sh: `make test-valgrind`.  The real responder, build/msgcmd,
# under valgrind memcheck: first as plain CGI (one valgrind per request),
# then as a FastCGI responder serving every request in one process and
# stopped by SIGTERM, as lighttpd stops it.  The requests, every endpoint
# with good and bad inputs, are the table in drive.py.  Fails on any
# memory error, any definite or indirect leak, or an unexpected status;
# valgrind's reports are printed.  No Kafka: the publisher is off.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
STATE=$(mktemp -d /tmp/msgcmd-valgrind.XXXXXX)
trap 'rm -rf "$STATE"' EXIT

STACK_ROOT=$ROOT
. scripts/stack.sh
unset KEYCLOAK_PUBLIC_KEY
stack_keys "$STATE"
export PRIVATE_KEY="$STACK_PRIVATE_KEY"
export TOKEN_TOOL="$ROOT/build/msgcmd-token"

# Memory errors and definite or indirect leaks exit 99 (drive.py's
# VG_EXIT), apart from the responder's own exit statuses.  Reachable
# blocks at exit (OpenSSL's and json-c's process-wide tables) are not
# leaks.
VALGRIND=(valgrind -q --tool=memcheck --leak-check=full
    --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --error-exitcode=99
    --log-file="$STATE/valgrind.%p.log")

status=0
for gw in cgi fastcgi; do
	rm -f "$STATE/msgcmd.db"*
	echo "# valgrind: $gw"
	DATABASE_PATH="$STATE/msgcmd.db" timeout 600 python3 \
	    tests/sanitize/drive.py "$gw" "$ROOT/build/msgcmd" "${VALGRIND[@]}" |
	    sed 's/^/  /'
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done
for log in "$STATE"/valgrind.*.log; do
	[ -s "$log" ] || continue
	echo "--- $(basename "$log")"
	head -60 "$log"
	status=1
done
echo "test-valgrind: $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status
