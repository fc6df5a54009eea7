#!/bin/sh
# kafka.sh: fetches, starts, waits for and stops a single-node KRaft Apache
# Kafka broker for development and tests (see docs/KAFKA.md).
#
#   kafka.sh fetch                  jars into the cache, once
#   kafka.sh start DATA_DIR [PORT]  format if needed, start, wait until it answers
#   kafka.sh stop DATA_DIR          stop the broker started in DATA_DIR
#   kafka.sh wait [HOST:PORT]       wait until a broker answers (default 127.0.0.1:9092)
#   kafka.sh port                   print a free PORT for start (PORT + 1 free too)
#
# Only the process whose pid is in DATA_DIR/kafka.pid is ever signalled.
set -eu

KAFKA_VERSION=4.1.1
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${MSGCMD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/msgcmd}
DIST=$CACHE/kafka-$KAFKA_VERSION
WAIT_S=${KAFKA_WAIT_SECONDS:-60}

die() { echo "kafka.sh: $*" >&2; exit 1; }

. "$HERE/fetch.sh"

# Fills DIST with the broker's jars (fetch_once runs it).
fetch_jars() {
	echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION jars into $DIST" >&2
	rm -rf "$DIST"
	mkdir -p "$DIST"
	mvn_quiet kafka "the Kafka jars" -f "$HERE/kafka/pom.xml" \
	    dependency:copy-dependencies -DoutputDirectory="$DIST/libs" \
	    -DincludeScope=runtime
	ls "$DIST/libs/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null ||
		die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"
}

fetch() { fetch_once kafka "$DIST" fetch_jars; }

# Runs in a subshell, ( kafka_java ... ), so that exec keeps the pid of
# a background start: that pid is the broker's, the one kafka.pid names.
kafka_java() {
	exec java -Xms64m -Xmx512m -XX:+ExitOnOutOfMemoryError \
	    -Djava.awt.headless=true \
	    -Dlog4j2.configurationFile="$DATA/log4j2.properties" \
	    -cp "$DIST/libs/*" "$@"
}

# Returns success when something answers Kafka metadata requests at $1.
answers() {
	kcat -L -b "$1" -m 1 >/dev/null 2>&1
}

# Prints the pid from DATA/kafka.pid when that process is our broker.
running_pid() {
	[ -f "$DATA/kafka.pid" ] || return 1
	pid=$(cat "$DATA/kafka.pid")
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	# A recycled pid belongs to someone else: check it is our command line.
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$DATA/server.properties" ||
		return 1
	echo "$pid"
}

render_config() {
	sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$((PORT + 1))|g" \
	    -e "s|@LOG_DIR@|$DATA/log|g" \
	    "$HERE/kafka/server.properties" >"$DATA/server.properties"
	cat >"$DATA/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $DATA/kafka.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
EOF
}

format_storage() {
	[ -f "$DATA/log/meta.properties" ] && return 0
	uuid=$( (kafka_java kafka.tools.StorageTool random-uuid) 2>>"$DATA/kafka.out")
	(kafka_java kafka.tools.StorageTool format -t "$uuid" \
	    -c "$DATA/server.properties") >>"$DATA/kafka.out" 2>&1 ||
		die "storage format failed, see $DATA/kafka.out"
}

# Polls until the broker answers; fails early when our process died.
wait_ready() {
	deadline=$(($(date +%s) + WAIT_S))
	until answers "$1"; do
		if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
			die "broker exited, see $DATA/kafka.log and $DATA/kafka.out"
		fi
		[ "$(date +%s)" -lt "$deadline" ] ||
			die "no broker answers at $1 after ${WAIT_S}s"
		sleep 0.2
	done
}

start() {
	[ $# -ge 1 ] || die "usage: kafka.sh start DATA_DIR [PORT]"
	mkdir -p "$1"
	DATA=$(cd "$1" && pwd)
	PORT=${2:-9092}
	if pid=$(running_pid); then
		echo "kafka.sh: already running in $DATA (pid $pid)" >&2
		wait_ready "127.0.0.1:$PORT" "$pid"
		return 0
	fi
	# Success must mean our broker answers, not one already on the port.
	answers "127.0.0.1:$PORT" && die "port $PORT is already serving Kafka"
	fetch
	render_config
	format_storage
	(kafka_java kafka.Kafka "$DATA/server.properties") \
	    >>"$DATA/kafka.out" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$DATA/kafka.pid"
	wait_ready "127.0.0.1:$PORT" "$pid"
	echo "kafka.sh: broker up at 127.0.0.1:$PORT (pid $pid, data $DATA)" >&2
}

stop() {
	[ $# -ge 1 ] || die "usage: kafka.sh stop DATA_DIR"
	[ -d "$1" ] || die "$1: no such directory"
	DATA=$(cd "$1" && pwd)
	if ! pid=$(running_pid); then
		rm -f "$DATA/kafka.pid"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	# A controlled shutdown takes a few seconds; then we stop asking.
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "kafka.sh: broker $pid ignored TERM for 30s, killing" >&2
		kill -KILL "$pid" 2>/dev/null || true
		while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	fi
	rm -f "$DATA/kafka.pid"
}

# A port P, with P + 1 (the controller's), free now and below the
# kernel's ephemeral range.  Within that range a broker that is stopped
# and started again may find its port taken: a client retrying the
# connection can be given that very port as its own local one and then
# connect to itself (TCP simultaneous open).
free_port_pair() {
	python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    p = random.randrange(10000, low - 1)
    try:
        a = socket.socket(); a.bind(("127.0.0.1", p))
        b = socket.socket(); b.bind(("127.0.0.1", p + 1))
    except OSError:
        continue
    print(p)
    break
else:
    raise SystemExit("kafka.sh: no free port pair")'
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
fetch)	fetch ;;
start)	start "$@" ;;
stop)	stop "$@" ;;
wait)	DATA=.; wait_ready "${1:-127.0.0.1:9092}" ;;
port)	free_port_pair ;;
*)	die "usage: kafka.sh fetch|start DATA_DIR [PORT]|stop DATA_DIR|wait [HOST:PORT]|port" ;;
esac
