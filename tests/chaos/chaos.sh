#!/usr/bin/env bash
# chaos.sh: `make chaos` (and a short run in `make test`).  Concurrent
# clients send commands of every kind with Idempotency-Keys and
# deliberate retries while responders and the current publisher are
# killed with SIGKILL and the Kafka broker is stopped and restarted.  Then
# the clients' record is compared with the topic.  Sizes come from
# CHAOS_COMMANDS (at least that many: the clients go on until every kill
# and restart happened), CHAOS_KILLS, CHAOS_RESTARTS, CHAOS_USERS.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
STACK_ROOT=$ROOT
. scripts/stack.sh

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

COMMANDS=${CHAOS_COMMANDS:-20000} KILLS=${CHAOS_KILLS:-60}
RESTARTS=${CHAOS_RESTARTS:-3} USERS=${CHAOS_USERS:-16}
PAUSE_MS=${CHAOS_KILL_EVERY_MS:-400}	# mean pause between two kills
RESTART_GAP=${CHAOS_RESTART_EVERY_S:-15}	# seconds between broker restarts
STATE=$(mktemp -d /tmp/msgcmd-chaos.XXXXXX)
export ENV_FILE=/dev/null DATABASE_PATH="$STATE/msgcmd.db"
export TOPIC="msgcmd-chaos-$(date +%s)-$$" MSGCMD_ERRORLOG="$STATE/lighttpd.log"
unset BOOTSTRAP_SERVERS BOOTSTRAP_SERVER KEYCLOAK_PUBLIC_KEY KAFKA_PROPERTIES
CLIENT_PID= RESTARTER_PID=

cleanup() {
	[ -n "$CLIENT_PID" ] && kill "$CLIENT_PID" 2>/dev/null
	[ -n "$RESTARTER_PID" ] && kill "$RESTARTER_PID" 2>/dev/null && wait "$RESTARTER_PID"
	stack_stop
	[ -n "${KEEP_STATE:-}" ] || rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

KAFKA_PORT=$(scripts/kafka.sh port)
stack_kafka "$STATE" "$KAFKA_PORT"
stack_keys "$STATE"
stack_lighttpd "$STATE" "$(free_port)"
for i in $(seq 0 $((USERS - 1))); do
	build/msgcmd-token --key "$STACK_PRIVATE_KEY" --sub "chaos$i" --ttl 7200
done >"$STATE/tokens"

# responders: the FastCGI children of our lighttpd, by parent pid.
responders() { ps -o pid= --ppid "$STACK_LIGHTTPD_PID" 2>/dev/null; }

# publisher_pid: the holder of the publisher lock, if it is one of ours:
# the flock on <db>.publisher.lock, read from /proc/locks (asking
# /readyz instead would wait in lighttpd's queue behind the clients).
publisher_pid() {
	local ino p
	ino=$(stat -c %i "$DATABASE_PATH.publisher.lock" 2>/dev/null) || return 0
	p=$(awk -v ino=":$ino" '$2 == "FLOCK" && $6 ~ ino "$" { print $5 }' /proc/locks | head -1)
	[ -n "$p" ] && responders | grep -qx " *$p" && echo "$p"
}

kill_one() {	# kill_one N: every fourth victim is the publisher
	local victim=""
	[ $(($1 % 4)) -eq 0 ] && victim=$(publisher_pid)
	[ -n "$victim" ] || victim=$(responders | shuf -n 1)
	[ -n "$victim" ] && kill -KILL "$victim" 2>/dev/null
}

# restarter: in the background, stops and restarts the broker RESTARTS
# times, RESTART_GAP seconds apart; counts them in $STATE/restarts.
restarter() {
	local r
	echo 0 >"$STATE/restarts"
	for r in $(seq "$RESTARTS"); do
		sleep "$RESTART_GAP"
		scripts/kafka.sh stop "$STATE/kafka" >/dev/null
		# Down a while, so that commands pile up in the outbox.
		sleep 3
		scripts/kafka.sh start "$STATE/kafka" "$KAFKA_PORT" >/dev/null ||
			{ echo "chaos: broker did not restart" >&2; return 1; }
		echo "$r" >"$STATE/restarts"
	done
}

start=$(date +%s.%N)
python3 tests/chaos/client.py --port "$PORT" --tokens "$STATE/tokens" \
    --commands "$COMMANDS" --record "$STATE/record.jsonl" \
    --until "$STATE/faults-done" &
CLIENT_PID=$!
restarter &
RESTARTER_PID=$!
kills=0
while kill -0 "$CLIENT_PID" 2>/dev/null && [ $kills -lt "$KILLS" ]; do
	# A kill every PAUSE_MS on average, at random moments.
	sleep "$(awk -v m="$PAUSE_MS" -v r="$RANDOM" 'BEGIN { printf "%.3f", m * (0.5 + r / 32767) / 1000 }')"
	kill_one "$kills" && kills=$((kills + 1))
done
# The clients go on past COMMANDS until every fault happened.
wait "$RESTARTER_PID"
RESTARTER_PID=
touch "$STATE/faults-done"
wait "$CLIENT_PID"
client_rc=$?
CLIENT_PID=
restarts=$(cat "$STATE/restarts")
end_clients=$(date +%s.%N)

# Drain: poll /readyz until the outbox backlog is 0 (at most 5 minutes).
drained=no
for _ in $(seq 3000); do
	b=$(curl -s "http://127.0.0.1:$PORT/readyz" | jq -r '.outbox.backlog // empty')
	[ "$b" = 0 ] && { drained=yes; break; }
	sleep 0.1
done
end=$(date +%s.%N)
kcat -C -b "$BOOTSTRAP_SERVERS" -t "$TOPIC" -o beginning -e -J -q >"$STATE/topic.jsonl"
figures=$(python3 tests/chaos/verify.py "$STATE/record.jsonl" "$STATE/topic.jsonl")
verify_rc=$?
echo "chaos: $figures kills=$kills broker_restarts=$restarts" \
    "clients_s=$(seconds "$start" "$end_clients")" \
    "drain_s=$(seconds "$end_clients" "$end")" \
    "drained=$drained"
[ "$client_rc" -eq 0 ] && [ "$verify_rc" -eq 0 ] && [ "$drained" = yes ] &&
    [ "$kills" -ge "$KILLS" ] && [ "$restarts" -ge "$RESTARTS" ]
