#!/usr/bin/env bash
# run.sh: runs the libFuzzer harnesses built by `make fuzz-build`.
#   run.sh fuzz SECONDS NAME...   fuzzes each harness for SECONDS, starting
#                                 from a scratch copy of its seed corpus
#                                 (tests/fuzz/corpus/NAME) and regressions
#   run.sh regress 0 NAME...      runs each harness once over its seed
#                                 corpus and tests/fuzz/regress/NAME, no
#                                 mutation
# Prints one line of figures per harness (executions; libFuzzer's cov:,
# the edges reached, from the seeds alone and at the end, of all the
# instrumented edges linked in; its final ft:, features; the corpus size)
# and exits non-zero on any crash, leak,
# timeout or out-of-memory; the input that did it is kept under
# build/fuzz/crashes/NAME/ and the log under build/fuzz/logs/.
# FUZZ_JOBS (default 1) harnesses fuzz at the same time.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
mode=$1 seconds=$2
shift 2
FB=build/fuzz
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# inputs NAME: the seed and regression files of a harness, one a line.
inputs() {
	find "tests/fuzz/corpus/$1" "tests/fuzz/regress/$1" -type f \
	    ! -name '.*' 2>/dev/null | sort
}

# figure LOG KEY [WHEN]: the number after "KEY: " on libFuzzer's last
# status line, or its WHEN line ("#123 DONE cov: 456 ft: 789 ...").
figure() {
	grep -E "^#[0-9]+[[:space:]]+${3:-}" "$1" | tail -1 |
	    sed -nE "s/.* $2: ([0-9]+).*/\\1/p"
}

# edges LOG: the instrumented edges linked in ("Loaded 1 modules (570
# inline 8-bit counters)").
edges() {
	sed -nE 's/^INFO: Loaded 1 modules +\(([0-9]+) inline.*/\1/p' "$1" | head -1
}

# stat LOG NAME: a -print_final_stats=1 figure.
stat() {
	sed -nE "s/^stat::$2: *([0-9]+)$/\\1/p" "$1" | tail -1
}

# report NAME RC LOG: prints the crash and where its input was kept.
report() {
	echo "fuzz: $1: FAILED (exit $2); log $3" >&2
	grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error:|artifact_prefix|Test unit written)' "$3" |
	    head -10 | sed 's/^/  /' >&2
	echo "  once fixed, add the input to tests/fuzz/regress/$1/" >&2
}

fuzz_one() {
	local name=$1 bin=$FB/fuzz_$1 work=$FB/work/$1 crashes=$FB/crashes/$1
	local log=$FB/logs/$1.log dict=() rc
	rm -rf "$work"
	mkdir -p "$work" "$crashes" "$FB/logs"
	inputs "$name" | while read -r f; do cp "$f" "$work/"; done
	[ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" \
	    "$work" >"$log" 2>&1 </dev/null
	rc=$?
	if [ "$rc" -ne 0 ]; then
		report "$name" "$rc" "$log"
		return 1
	fi
	printf 'fuzz: %-6s %9s execs %6s/s  cov %4s -> %4s of %4s  ft %5s  corpus %4s  %ss\n' \
	    "$name" "$(stat "$log" number_of_executed_units)" \
	    "$(stat "$log" average_exec_per_sec)" "$(figure "$log" cov INITED)" \
	    "$(figure "$log" cov)" "$(edges "$log")" "$(figure "$log" ft)" \
	    "$(find "$work" -type f | wc -l)" "$seconds"
}

regress_one() {
	local name=$1 bin=$FB/fuzz_$1 log=$FB/logs/$1-regress.log rc
	local -a files
	mapfile -t files < <(inputs "$name")
	mkdir -p "$FB/logs" "$FB/crashes/$name"
	[ "${#files[@]}" -gt 0 ] || { echo "fuzz-regress: $name: no inputs" >&2; return 1; }
	"$bin" -timeout=10 -artifact_prefix="$FB/crashes/$name/" "${files[@]}" \
	    >"$log" 2>&1 </dev/null
	rc=$?
	if [ "$rc" -ne 0 ]; then
		report "$name" "$rc" "$log"
		return 1
	fi
	echo "fuzz-regress: $name: ${#files[@]} inputs replayed, no finding"
}

case $mode in
fuzz) one=fuzz_one ;;
regress) one=regress_one ;;
*) echo "usage: run.sh fuzz|regress SECONDS NAME..." >&2; exit 2 ;;
esac
# Each harness runs in the background, at most FUZZ_JOBS at a time; the
# lines are printed in the order of the names once all are done.
mkdir -p "$FB/logs"
status=0 pids=()
for name in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "${FUZZ_JOBS:-1}" ]; do wait -n; done
	"$one" "$name" >"$FB/logs/$name.out" 2>&1 &
	pids+=("$!")
done
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || status=1
	cat "$FB/logs/${*:i+1:1}.out"
done
exit $status
