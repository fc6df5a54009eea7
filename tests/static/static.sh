#!/usr/bin/env bash
# static.sh: `make static`.  clang-tidy (checks in .clang-tidy) and
# cppcheck (options below, suppressions in cppcheck.supp) over lib/ and
# cgi/.  Prints each finding not suppressed and exits non-zero when there
# is one, or when a tool could not analyse a file.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PKGS="fcgi json-c libjwt libcrypto sqlite3 rdkafka"
JOBS=$(nproc 2>/dev/null || echo 2)
out=$(mktemp -d /tmp/msgcmd-static.XXXXXX)
trap 'rm -rf "$out"' EXIT

# The compiler's view of each file, as the Makefile builds it.
export TIDY_FLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Ilib $(pkg-config --cflags $PKGS)"

# tidy_suppressed FILE LINE CHECKS: succeeds when an entry of tidy.supp
# (FILE CHECK TEXT) names the file, one of the checks, and text found on
# that source line.
tidy_suppressed() {
	local src
	src=$(sed -n "${2}p" "$1")
	while read -r file check text; do
		case $file in ''|'#'*) continue ;; esac
		[ "$file" = "$1" ] || continue
		case ",$3," in *",$check,"*) ;; *) continue ;; esac
		[[ "$src" == *"$text"* ]] && return 0
	done <tests/static/tidy.supp
	return 1
}

run_tidy() {
	local n=0 shown=0 line file lno checks
	# Four files per clang-tidy process, one process per core.
	printf '%s\n' lib/*.c cgi/*.c | xargs -P "$JOBS" -n 4 sh -c \
	    'clang-tidy --quiet "$@" -- $TIDY_FLAGS' sh >"$out/tidy" 2>"$out/tidy.err"
	local rc=$?
	while IFS= read -r line; do
		line=${line#"$ROOT"/}
		file=${line%%:*}
		lno=$(cut -d: -f2 <<<"$line")
		checks=$(sed -nE 's/.*\[([^]]+)\]$/\1/p' <<<"$line")
		n=$((n + 1))
		tidy_suppressed "$file" "$lno" "$checks" && continue
		echo "$line"
		shown=$((shown + 1))
	done < <(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$out/tidy" | sort -u)
	echo "static: clang-tidy: $shown finding(s), $((n - shown)) suppressed"
	# xargs exits 123 when a clang-tidy exited 1 (findings), which the
	# list above judges; anything else means a tool failure.
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 123 ]; then
		echo "static: clang-tidy failed (exit $rc)" >&2
		cat "$out/tidy.err" >&2
		return 1
	fi
	[ "$shown" -eq 0 ]
}

# warning, style, performance and portability: all but "information"
# (missing system headers) and unusedFunction (lib/ functions used only
# by tests).  --inconclusive reports what cppcheck is not sure of, too.
run_cppcheck() {
	cppcheck --quiet --std=c11 -D_GNU_SOURCE -Ilib -j "$JOBS" \
	    --enable=warning,style,performance,portability --inconclusive \
	    --library=posix,gnu,openssl,sqlite3 --inline-suppr \
	    --suppressions-list=tests/static/cppcheck.supp \
	    --template='{file}:{line}: {severity}: {message} [{id}]' \
	    --error-exitcode=1 lib cgi >"$out/cppcheck" 2>&1
	local rc=$?
	grep -E '^[^ ]+:[0-9]+: ' "$out/cppcheck"
	echo "static: cppcheck: $(grep -cE '^[^ ]+:[0-9]+: ' "$out/cppcheck") finding(s)"
	[ "$rc" -eq 0 ] || { grep -vE '^[^ ]+:[0-9]+: ' "$out/cppcheck" >&2; return 1; }
}

status=0
run_tidy || status=1
run_cppcheck || status=1
exit $status
