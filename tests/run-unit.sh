#!/bin/sh
# Runs each Check unit-test program given as an argument and prints the
# totals as "unit: N passed, N failed".  Exits non-zero when any failed.
pass=0 fail=0 status=0
for t in "$@"; do
	out=$("$t" 2>&1) || status=1
	printf '%s\n' "$out" | sed "s|^|  $(basename "$t"): |"
	line=$(printf '%s\n' "$out" | grep -E 'Checks: [0-9]+' | tail -1)
	n=$(printf '%s' "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
	e=$(printf '%s' "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
	if [ -z "$line" ]; then fail=$((fail + 1)); status=1; continue; fi
	pass=$((pass + n - f - e)); fail=$((fail + f + e))
done
echo "unit: $pass passed, $fail failed"
exit $status
