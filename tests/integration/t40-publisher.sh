#!/usr/bin/env bash
# t40-publisher.sh: the publisher, as the real msgcmd-relay binary, against
# a real broker.  Rows written straight into the outbox reach the topic
# exactly once, byte for byte, keyed and ordered by conversation, with
# CloudEvents headers; only the lock holder publishes and a waiting relay
# takes over after a SIGKILL; while Kafka is down rows wait and drain when
# it is back.  Uses BOOTSTRAP_SERVERS when set (a broker it must not
# stop); the Kafka-down part always runs on a broker of its own.
# Prints "ok - ..." lines and a last line "publisher: N passed, N failed".
N=${PUBLISHER_EVENTS:-500}
WORK_NAME=publisher OWN_PORT=${PUBLISHER_KAFKA_PORT:-}
. "$(dirname "${BASH_SOURCE[0]}")/relay-lib.sh"

# check_topic DB TOPIC BOOTSTRAP DESC: the topic holds exactly the outbox.
check_topic() {
	local db=$1 topic=$2 bs=$3 d=$4 dump=$WORK/$2.jsonl rows=$WORK/$2.rows
	kcat -C -b "$bs" -t "$topic" -o beginning -e -J -q >"$dump" 2>/dev/null
	q "$db" "SELECT json_group_array(json_object('seq', seq, 'event_id',
	    event_id, 'conversation_id', conversation_id, 'event_type',
	    event_type, 'created_at', created_at, 'idem_key', idem_key,
	    'payload', CAST(payload AS TEXT))) FROM outbox" >"$rows"
	is "$d: one message per outbox row" "$(wc -l <"$dump")" \
	    "$(q "$db" 'SELECT COUNT(*) FROM outbox')"
	is "$d: every seq exactly once" "$(jq -r '.headers as $h |
	    [range(0; $h | length; 2) | select($h[.] == "msgcmd-seq")
	    | $h[. + 1]] | .[]' "$dump" | sort -n | uniq | wc -l)" \
	    "$(q "$db" 'SELECT COUNT(*) FROM outbox')"
	is "$d: key, payload bytes and every header match the row" "$(jq -n \
	    --slurpfile r "$rows" --slurpfile m "$dump" '
	    ($r[0] | map({(.seq | tostring): .}) | add) as $row
	    | [$m[] | (.headers as $h | [range(0; $h | length; 2)
	        | {key: $h[.], value: $h[. + 1]}] | from_entries) as $h
	      | $row[$h["msgcmd-seq"]] as $e
	      | select($e == null or .key != $e.conversation_id
	        or .payload != $e.payload or $h.ce_specversion != "1.0"
	        or $h.ce_id != $e.event_id or $h.ce_type != $e.event_type
	        or $h.ce_source != "/msgcmd-test" or $h.ce_time != $e.created_at
	        or $h.ce_subject != $e.conversation_id
	        or $h["content-type"] != "application/json"
	        or $h["idempotency-key"] != $e.idem_key)] | length')" 0
	is "$d: per key, one partition and offsets in seq order" "$(jq -s '
	    group_by(.key) | map(sort_by(.offset)
	      | [(map(.partition) | unique | length == 1),
	         (map(.headers as $h | [range(0; $h | length; 2)
	           | select($h[.] == "msgcmd-seq") | $h[. + 1] | tonumber][0])
	          | . == sort)] | all) | all' "$dump")" true
}

[ -x "$RELAY" ] || { not_ok "relay binary $RELAY exists (make all)"; exit 1; }

# --- start-up errors name the setting -----------------------------------
out=$(cd "$WORK" && ENV_FILE=/dev/null DATABASE_PATH=$WORK/bad.db \
    KAFKA_PROPERTIES='no.such.property=1' "$RELAY" 2>&1)
rc=$?
is "bad KAFKA_PROPERTIES: exit 1 with one line naming it" \
    "$rc:$(grep -c KAFKA_PROPERTIES <<<"$out"):$(wc -l <<<"$out")" "1:1:1"
out=$(cd "$WORK" && ENV_FILE=/dev/null DATABASE_PATH=$WORK/bad.db \
    KAFKA_PROPERTIES='acks=1' "$RELAY" 2>&1)
rc=$?
is "KAFKA_PROPERTIES cannot weaken acks" "$rc:$(grep -c 'acks must be all' <<<"$out")" "1:1"

# --- publish, exactly one publisher, takeover ----------------------------
if [ -n "${BOOTSTRAP_SERVERS:-}" ]; then
	BS=$BOOTSTRAP_SERVERS
else
	own_broker kafka
	BS=127.0.0.1:$OWN_PORT
fi
DB=$WORK/one.db TOPIC1="msgcmd-publisher-$RUN_ID"
relay r1 "$DB" "$TOPIC1" "$BS"
R1=$RELAY_PID
wait_for 30 state_is "$DB" connected
is "relay r1 holds the lock and reports connected" "$?" 0
relay r2 "$DB" "$TOPIC1" "$BS"
R2=$RELAY_PID
wait_for 10 log_has r2 "standing by"
is "relay r2 on the same database stands by" "$?" 0

last=$(insert "$DB" "$N")
t0=$(now_ms)
wait_for 60 cursor_is "$DB" "$last"
is "cursor reaches the last seq ($last)" "$?" 0
echo "# $N events (new topic) published $(($(now_ms) - t0)) ms after commit"
check_topic "$DB" "$TOPIC1" "$BS" "one publisher"
is "r2 never published" "$(grep -c 'holding the lock' "$WORK/r2.log")" 0
is "publisher row names r1" "$(q "$DB" 'SELECT pid FROM publisher')" "$R1"

# bash reports a killed child on its own stderr: keep that out of the log.
{ kill -KILL "$R1"; wait "$R1"; } 2>/dev/null
t0=$(now_ms)
wait_for 10 log_has r2 "holding the lock"
is "r2 takes over after r1 is killed" "$?" 0
echo "# takeover after SIGKILL in $(($(now_ms) - t0)) ms"
last=$(insert "$DB" "$N")
t0=$(now_ms)
wait_for 30 cursor_is "$DB" "$last"
is "r2 publishes the next rows" "$?" 0
echo "# $N events published $(($(now_ms) - t0)) ms after commit"
is "publisher row names r2" "$(q "$DB" 'SELECT pid FROM publisher')" "$R2"
check_topic "$DB" "$TOPIC1" "$BS" "after takeover"

t0=$(now_ms)
kill -TERM "$R2"
wait "$R2"
is "r2 exits 0 on SIGTERM" "$?" 0
echo "# SIGTERM to exit in $(($(now_ms) - t0)) ms"
is "heartbeat says stopped" "$(q "$DB" 'SELECT state FROM publisher')" stopped

# --- Kafka down: rows wait, then drain -----------------------------------
# r3 runs with the default infinite message timeout; r4 with a short one,
# so its events expire while Kafka is away and it restarts its producer.
if [ -n "${BOOTSTRAP_SERVERS:-}" ]; then
	own_broker kafka-down
	DOWN_DIR=$WORK/kafka-down
else
	DOWN_DIR=$WORK/kafka
fi
BSD=127.0.0.1:$OWN_PORT
DB3=$WORK/down.db TOPIC3="msgcmd-publisher-down-$RUN_ID"
DB4=$WORK/expire.db TOPIC4="msgcmd-publisher-expire-$RUN_ID"
relay r3 "$DB3" "$TOPIC3" "$BSD"
R3=$RELAY_PID
relay r4 "$DB4" "$TOPIC4" "$BSD" KAFKA_PROPERTIES=message.timeout.ms=1500
R4=$RELAY_PID
wait_for 30 state_is "$DB3" connected && wait_for 30 state_is "$DB4" connected
first3=$(insert "$DB3" 50)
first4=$(insert "$DB4" 50)
wait_for 30 cursor_is "$DB3" "$first3" && wait_for 30 cursor_is "$DB4" "$first4"
is "r3 and r4 publish before the outage" "$?" 0

"$KAFKA_SH" stop "$DOWN_DIR"
wait_for 30 state_is "$DB3" kafka-down
is "heartbeat says kafka-down once the broker is gone" "$?" 0
last3=$(insert "$DB3" 50)
last4=$(insert "$DB4" 50)
# The cursors must hold still: watch them for 4 s rather than sleep.
moved() {
	! cursor_is "$DB3" "$first3" || ! cursor_is "$DB4" "$first4"
}
wait_for 4 moved
is "while Kafka is down the cursors do not move" "$?" 1
kill -0 "$R3" 2>/dev/null && kill -0 "$R4" 2>/dev/null
is "the relays keep running while Kafka is down" "$?" 0
wait_for 10 log_has r4 "restarting the producer"
is "expired events make r4 restart its producer" "$?" 0

"$KAFKA_SH" start "$DOWN_DIR" "$OWN_PORT" 2>>"$WORK/kafka.sh.log"
t0=$(now_ms)
wait_for 60 cursor_is "$DB3" "$last3"
is "after the broker is back the waiting rows drain" "$?" 0
echo "# drained $(($(now_ms) - t0)) ms after the restarted broker answered"
wait_for 30 cursor_is "$DB4" "$last4"
is "r4 drains too, after its restarts" "$?" 0
wait_for 5 state_is "$DB3" connected
is "heartbeat says connected again" "$?" 0
check_topic "$DB3" "$TOPIC3" "$BSD" "across the outage"
check_topic "$DB4" "$TOPIC4" "$BSD" "across expiries"

echo "publisher: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
