# relay-lib.sh: sourced by the tests that drive the real msgcmd-relay
# against brokers of their own (t40, t45): checks that count themselves,
# a work folder kept when a check failed, the brokers and relays they
# start (stopped at exit, by data dir and pid), and probes of the
# database and the relays' logs.  The test sets WORK_NAME (the folder's
# name) and may set OWN_PORT (its brokers' port) first.
set -u
# ROOT, BIN and SAN_ENV; ok, not_ok and is are redefined below.
PORT=${PORT:-0} . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RELAY=${RELAY:-$BIN/msgcmd-relay}
KAFKA_SH=$ROOT/scripts/kafka.sh
WORK=$(mktemp -d "/tmp/msgcmd-$WORK_NAME.XXXXXX")
RUN_ID="$(date +%s)-$$"
PIDS=() BROKERS=() pass=0 fail=0

ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $1"; fail=$((fail + 1)); }
is() { if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Stops only what this script started: relays by pid, brokers by data dir.
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for d in "${BROKERS[@]}"; do "$KAFKA_SH" stop "$d"; done
	if [ "$fail" -ne 0 ] || [ -n "${KEEP_STATE:-}" ]; then
		echo "# state kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port below the ephemeral range, where a broker can be restarted.
OWN_PORT=${OWN_PORT:-$("$KAFKA_SH" port)}

# own_broker NAME: starts a broker in $WORK/NAME on OWN_PORT.
own_broker() {
	"$KAFKA_SH" start "$WORK/$1" "$OWN_PORT" 2>>"$WORK/kafka.sh.log" ||
		{ not_ok "broker starts (see $WORK/$1/kafka.log)"; exit 1; }
	BROKERS+=("$WORK/$1")
}

# relay NAME DB TOPIC BOOTSTRAP [VAR=VALUE...]: starts a relay with extra
# environment; its pid in RELAY_PID.
relay() {
	local name=$1 db=$2 topic=$3 bs=$4
	shift 4
	(cd "$WORK" && exec env "${SAN_ENV[@]}" ENV_FILE=/dev/null DATABASE_PATH="$db" \
	    TOPIC="$topic" BOOTSTRAP_SERVERS="$bs" CE_SOURCE=/msgcmd-test \
	    "$@" "$RELAY" 2>>"$WORK/$name.log") &
	RELAY_PID=$!
	PIDS+=("$RELAY_PID")
}

# reap PID: waits for a relay that died or was killed; its status in
# REAPED.  bash reports a killed child on its own stderr: keep that out.
reap() { { wait "$1"; } 2>/dev/null; REAPED=$?; }

q() { sqlite3 -cmd '.timeout 5000' "$1" "$2" 2>/dev/null; }
cursor() { q "$1" 'SELECT published_seq FROM publisher'; }
cursor_is() { [ "$(cursor "$1")" = "$2" ]; }
cursor_past() { [ "$(cursor "$1")" -ge "$2" ]; }
state_is() { [ "$(q "$1" 'SELECT state FROM publisher')" = "$2" ]; }
log_has() { grep -q "$2" "$WORK/$1.log" 2>/dev/null; }
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! alive "$1"; }

# wait_for SECONDS COMMAND...: polls COMMAND every 20 ms until it succeeds.
wait_for() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# log_ms NAME PATTERN: the time (epoch ms) of the first line matching.
log_ms() {
	local t
	t=$(grep -m1 "$2" "$WORK/$1.log" | jq -r .time)
	[ -n "$t" ] || return 1
	echo $(($(date -d "$t" +%s%N) / 1000000))
}
# log_num NAME REGEX: the number the last matching line captures.
log_num() { grep -oE "$2" "$WORK/$1.log" | tail -1 | grep -oE '[0-9]+' | head -1; }

# insert DB COUNT: COUNT outbox rows as store_apply() writes them, over 7
# conversations, every third with an idempotency key; prints the last seq.
# SQLite makes the rows (a hundred thousand in a second); MATERIALIZED
# keeps one event id per row in both the column and the payload.
insert() {
	local convs="" c i
	for i in 0 1 2 3 4 5 6; do
		read -r c </proc/sys/kernel/random/uuid
		convs+="${convs:+, }($i, '$c')"
	done
	q "$1" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
	    WHERE i < $2), c(k, id) AS (VALUES $convs),
	  t(now) AS (SELECT strftime('%Y-%m-%dT%H:%M:%f') || '000Z'),
	  e AS MATERIALIZED (SELECT i, lower(hex(randomblob(4)) || '-' ||
	    hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a'
	    || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))) AS eid
	    FROM n)
	INSERT INTO outbox(event_id, conversation_id, event_type, created_at,
	    idem_key, payload)
	SELECT eid, c.id, 'userSentMessageToConversation',
	    now,
	    CASE WHEN i % 3 = 0 THEN 'idem-' || i END, json_object('id', eid, 'user_id', 'alice', 'conversation_id',
	    c.id, 'message_content', 'héllo ✓ ' || i, 'event',
	    'userSentMessageToConversation', 'created_at', now, 'event_id', eid)
	FROM e JOIN c ON c.k = e.i % 7, t ORDER BY i;
	SELECT MAX(seq) FROM outbox;"
}
