#!/bin/sh
# keycloak.sh: fetches, starts, waits for and stops a development Keycloak
# (start-dev, in-memory database, 127.0.0.1 only) for the end-to-end tests
# (see docs/KEYCLOAK.md).
#
#   keycloak.sh fetch                       the distribution into the cache, once
#   keycloak.sh start DIR REALM_JSON [PORT] start on PORT (default 8180) with
#                                           the realm imported; wait until it answers
#   keycloak.sh stop DIR                    stop the Keycloak started in DIR
#
# The admin account of the master realm is KEYCLOAK_ADMIN_USER /
# KEYCLOAK_ADMIN_PASSWORD (default admin/admin: a throwaway dev server).
# KEYCLOAK_JAVA_HOME picks the JDK (default: JAVA_HOME, else java on PATH).
# Only the process whose pid is in DIR/keycloak.pid, and its children,
# are ever signalled.
set -eu

KEYCLOAK_VERSION=26.7.3
CACHE=${MSGCMD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/msgcmd}
DIST=$CACHE/keycloak-$KEYCLOAK_VERSION
WAIT_S=${KEYCLOAK_WAIT_SECONDS:-600}
HEAP=${KEYCLOAK_HEAP:-768m}

die() { echo "keycloak.sh: $*" >&2; exit 1; }
. "$(cd "$(dirname "$0")" && pwd)/fetch.sh"

# Unzips $1 into $2 (unzip when there, else Python's zipfile, which
# drops the execute bits: put back those of the scripts).
unpack() {
	if command -v unzip >/dev/null; then
		unzip -q "$1" -d "$2"
	else
		python3 -m zipfile -e "$1" "$2"
	fi
	chmod +x "$2/keycloak-$KEYCLOAK_VERSION/bin/"*.sh
}

# Fills DIST with the distribution (fetch_once runs it).
fetch_dist() {
	echo "keycloak.sh: fetching Keycloak $KEYCLOAK_VERSION into $DIST" >&2
	tmp=$CACHE/keycloak-$KEYCLOAK_VERSION.tmp
	rm -rf "$DIST" "$tmp"
	# No project here: run where no pom.xml can be picked up.
	(cd "$CACHE" && mvn_quiet keycloak \
	    "org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
	    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
	    -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
	    -DoutputDirectory="$tmp") || exit 1
	unpack "$tmp/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" "$tmp"
	mv "$tmp/keycloak-$KEYCLOAK_VERSION" "$DIST"
	rm -rf "$tmp"
}

fetch() { fetch_once keycloak "$DIST" fetch_dist; }

# Prints the java to run Keycloak with; Keycloak 26 runs on 17, 21 or 25.
java_bin() {
	home=${KEYCLOAK_JAVA_HOME:-${JAVA_HOME:-}}
	if [ -n "$home" ]; then j=$home/bin/java; else j=$(command -v java) ||
		die "no java (make deps, or set KEYCLOAK_JAVA_HOME)"; fi
	v=$("$j" -XshowSettings:properties -version 2>&1 |
	    sed -n 's/^ *java\.specification\.version = //p')
	[ "${v:-0}" -ge 17 ] 2>/dev/null ||
		die "$j is Java ${v:-?}; Keycloak $KEYCLOAK_VERSION needs 17 or newer"
	echo "$j"
}

# Prints the pid from DATA/keycloak.pid when that process is ours.
running_pid() {
	[ -f "$DATA/keycloak.pid" ] || return 1
	pid=$(cat "$DATA/keycloak.pid")
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	# A recycled pid belongs to someone else: check it is our command line.
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$DATA/home" || return 1
	echo "$pid"
}

# children PID: the pids whose parent is PID (kc.sh runs java as a
# child, unless it re-augmented and exec'd it).
children() {
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		rest=${line##*) }	# after "pid (comm) ": state ppid ...
		ppid=${rest#* }
		[ "${ppid%% *}" = "$1" ] && { f=${f%/stat}; echo "${f#/proc/}"; }
	done
	return 0
}

# A home of our own in DATA: kc.sh finds home as its own directory's
# parent, and reads data/import from there; the large parts are links into
# the cache.  The first start re-augments lib/quarkus for dev mode, in the
# cache, under the start lock.
make_home() {
	rm -rf "$DATA/home"
	mkdir -p "$DATA/home/bin" "$DATA/home/data/import"
	cp "$DIST/bin/kc.sh" "$DATA/home/bin/"
	cp -R "$DIST/conf" "$DATA/home/"
	for d in lib themes providers; do ln -s "$DIST/$d" "$DATA/home/$d"; done
	cp "$REALM_JSON" "$DATA/home/data/import/realm.json"
}

# Polls the realm's discovery document until it answers; fails (with a
# line saying why) early when our process died, or after WAIT_S.
wait_ready() {
	url=http://127.0.0.1:$PORT/realms/$REALM/.well-known/openid-configuration
	deadline=$(($(date +%s) + WAIT_S))
	until curl -sf -o /dev/null "$url"; do
		if ! kill -0 "$1" 2>/dev/null; then
			echo "keycloak.sh: Keycloak exited, see $DATA/keycloak.out" >&2
			return 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "keycloak.sh: realm $REALM not served at 127.0.0.1:$PORT after ${WAIT_S}s, see $DATA/keycloak.out" >&2
			return 1
		fi
		sleep 0.5
	done
}

# Runs in a subshell, ( launch ), so that exec keeps the pid that
# keycloak.pid names; the start lock (fd 9) is not inherited.
launch() {
	exec 9>&-
	export KC_BOOTSTRAP_ADMIN_USERNAME="${KEYCLOAK_ADMIN_USER:-admin}"
	export KC_BOOTSTRAP_ADMIN_PASSWORD="${KEYCLOAK_ADMIN_PASSWORD:-admin}"
	export JAVA="$JAVA_BIN" JAVA_OPTS_KC_HEAP="-Xms64m -Xmx$HEAP"
	exec "$DATA/home/bin/kc.sh" start-dev --http-host=127.0.0.1 \
	    --http-port="$PORT" --db=dev-mem --import-realm
}

start() {
	[ $# -ge 2 ] || die "usage: keycloak.sh start DIR REALM_JSON [PORT]"
	mkdir -p "$1"
	DATA=$(cd "$1" && pwd)
	REALM_JSON=$2
	PORT=${3:-8180}
	REALM=$(jq -er .realm "$REALM_JSON") || die "$REALM_JSON: no \"realm\""
	if pid=$(running_pid); then
		echo "keycloak.sh: already running in $DATA (pid $pid)" >&2
		wait_ready "$pid" || exit 1
		return 0
	fi
	curl -s -o /dev/null "http://127.0.0.1:$PORT/" &&
		die "port $PORT is already in use"
	fetch
	JAVA_BIN=$(java_bin)
	make_home
	exec 9>"$CACHE/.keycloak-start.lock"
	flock 9
	(launch) >>"$DATA/keycloak.out" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$DATA/keycloak.pid"
	# A start that failed leaves nothing running behind it.
	wait_ready "$pid" || { stop "$DATA"; exit 1; }
	exec 9>&-
	echo "keycloak.sh: realm $REALM up at http://127.0.0.1:$PORT (pid $pid, $DATA)" >&2
}

stop() {
	[ $# -ge 1 ] || die "usage: keycloak.sh stop DIR"
	[ -d "$1" ] || die "$1: no such directory"
	DATA=$(cd "$1" && pwd)
	if ! pid=$(running_pid); then
		rm -f "$DATA/keycloak.pid"
		return 0
	fi
	kids=$(children "$pid")
	# kc.sh passes TERM on to java, which shuts down in a few seconds.
	kill -TERM "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	# During its boot Quarkus finishes starting before it honours TERM.
	for p in $pid $kids; do
		kill -0 "$p" 2>/dev/null || continue
		echo "keycloak.sh: $p ignored TERM for 30s, killing" >&2
		kill -KILL "$p" 2>/dev/null || true
		while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
	done
	rm -f "$DATA/keycloak.pid"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
fetch)	fetch ;;
start)	start "$@" ;;
stop)	stop "$@" ;;
*)	die "usage: keycloak.sh fetch|start DIR REALM_JSON [PORT]|stop DIR" ;;
esac
