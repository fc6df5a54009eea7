#!/bin/sh
# Installs, with apt-get, the Debian/Ubuntu packages msgcmd builds, runs
# and tests with, when any is missing.  Quiet when everything is there.
set -eu

# The second line is for the checks of `make test`: libFuzzer (clang and
# its compiler-rt, which holds libclang_rt.fuzzer), clang-tidy, cppcheck
# and valgrind.
PKGS="gcc make pkg-config libc6-dev libfcgi-dev libjson-c-dev libjwt-dev
libsqlite3-dev librdkafka-dev check libsubunit-dev libssl-dev lighttpd kcat
curl libcurl4-openssl-dev jq openssl sqlite3 maven ca-certificates python3 strace
clang libclang-rt-14-dev clang-tidy cppcheck valgrind wrk"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless"
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
