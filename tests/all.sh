#!/usr/bin/env bash
# all.sh: the test stages of `make test`.  Every stage runs even when an
# earlier one failed; the output closes with one line "N passed, N
# failed" summing them (a stage without such a line counts as one test).
set -u
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0
failures=$(mktemp)
trap 'rm -f "$failures"' EXIT

# stage NAME COMMAND...: runs COMMAND and adds its counts.
stage() {
	local name=$1 out rc line p f
	shift
	echo "== $name"
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
	# Each failed check with the lines that explain it, for the recap.
	grep -E -A8 '^[[:space:]]*not ok' "$out" | sed "s/^/[$name] /" >>"$failures"
	rm -f "$out"
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*, }
		f=${f%% failed*}
	else
		p=$((rc == 0)) f=$((rc != 0))
	fi
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	[ "$f" -ne 0 ] && echo "[$name] failed: exit $rc, $f failed" >>"$failures"
	pass=$((pass + p)) fail=$((fail + f))
}

stage "unit and integration tests" tests/run.sh
stage "make run, as the README has it run" tests/deploy/make-run.sh
stage "ASan + UBSan build" make --no-print-directory test-asan
stage "valgrind" make --no-print-directory test-valgrind
stage "fuzz regressions" make --no-print-directory fuzz-regress
stage "fuzz smoke run" make --no-print-directory fuzz-smoke
# Real Keycloak tokens (make e2e): about 4 minutes, the first time with
# the Keycloak download; E2E=0 leaves it out.
[ "${E2E:-1}" = 0 ] || stage "end to end with Keycloak" tests/e2e/run.sh
# The failures again at the end, where a log cut to its tail still has them.
if [ -s "$failures" ]; then
	echo "== failures"
	head -100 "$failures"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
