#!/bin/sh
# Installs, with apt-get, the Debian/Ubuntu packages msgcmd builds, runs
# and tests with, when any is missing.  Quiet when everything is there.
set -eu

# The second line is for the checks of `make test`: libFuzzer (clang and
# its compiler-rt, which holds libclang_rt.fuzzer), clang-tidy, cppcheck
# and valgrind.  The third is for the deployment modes it runs
# (tests/deploy/run-modes.sh): Apache httpd with mod_fcgid, spawn-fcgi
# with multiwatch, and setpriv (util-linux) and systemd-analyze for
# running the responders as www-data and checking the units; ps (procps)
# finds the processes a test started, and that none is left.
PKGS="gcc make pkg-config libc6-dev libfcgi-dev libjson-c-dev libjwt-dev
libsqlite3-dev librdkafka-dev check libsubunit-dev libssl-dev lighttpd kcat
curl libcurl4-openssl-dev jq openssl sqlite3 maven ca-certificates python3 strace
clang libclang-rt-14-dev clang-tidy cppcheck valgrind wrk
apache2 libapache2-mod-fcgid spawn-fcgi multiwatch util-linux systemd procps"

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

# Debian starts a daemon it installs (apache2, lighttpd) on port 80; the
# tests start their own on free ports and want none of those.  A
# policy-rc.d answering 101 ("action not allowed") stops invoke-rc.d and
# deb-systemd-invoke from starting them during this install; one the
# machine already has (as Docker images do) is left as it is.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
	$SUDO chmod 0755 "$POLICY"
	trap '$SUDO rm -f "$POLICY"' EXIT
	trap 'exit 130' INT TERM
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
