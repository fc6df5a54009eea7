#!/usr/bin/env bash
# t45-recovery.sh: publisher recovery, as the real msgcmd-relay binary
# against a real broker.  A holder that dies after Kafka acknowledged
# events but before its cursor write (the MSGCMD_FAULT_CRASH_AFTER_ACKS
# hook, then SIGKILL at random moments) leaves events on the topic beyond
# the cursor; the next holder finds them in the topic's tail and skips
# them: every seq exactly once, per-key order = seq order.  A holder that
# starts while Kafka is down publishes nothing until recovery succeeded.
# Uses BOOTSTRAP_SERVERS when set (a broker it must not stop); the
# Kafka-down part always runs on a broker of its own.  Prints "ok - ..."
# lines, "# ..." measurements and a last line "recovery: N passed, N failed".
N=${RECOVERY_EVENTS:-2000}
BIG=${RECOVERY_BIG_EVENTS:-20000}
ROUNDS=${RECOVERY_ROUNDS:-5}
WORK_NAME=recovery OWN_PORT=${RECOVERY_KAFKA_PORT:-}
. "$(dirname "${BASH_SOURCE[0]}")/relay-lib.sh"

# msgs TOPIC BOOTSTRAP: every message as "partition offset key seq ce_id"
# into $WORK/TOPIC.msgs ("-" for a missing header).  kcat's format and awk
# rather than -J and jq: a hundred thousand messages in a second.
msgs() {
	kcat -C -b "$2" -t "$1" -o beginning -e -q -f '%p %o %k %h\n' \
	    2>/dev/null | awk '{
		seq = "-"; id = "-"; n = split($4, h, ",")
		for (i = 1; i <= n; i++)
			if (h[i] ~ /^msgcmd-seq=/) seq = substr(h[i], 12)
			else if (h[i] ~ /^ce_id=/) id = substr(h[i], 7)
		print $1, $2, $3, seq, id }' >"$WORK/$1.msgs"
}

# check_topic DB TOPIC BOOTSTRAP DESC: every outbox seq exactly once, each
# with its row's event id, and per key one partition in seq order.
check_topic() {
	local db=$1 topic=$2 bs=$3 d=$4 rows=$WORK/$2.rows m=$WORK/$2.msgs
	msgs "$topic" "$bs"
	q "$db" "SELECT seq || ' ' || event_id FROM outbox ORDER BY seq" >"$rows"
	is "$d: one message per outbox row" "$(wc -l <"$m")" "$(wc -l <"$rows")"
	is "$d: every seq exactly once" "$(cut -d' ' -f4 "$m" | sort -n |
	    uniq -d | wc -l):$(cut -d' ' -f4 "$m" | sort -nu | wc -l)" \
	    "0:$(wc -l <"$rows")"
	is "$d: each message carries its row's event id" "$(cut -d' ' -f4,5 \
	    "$m" | sort -n | cmp - "$rows" && echo same)" same
	is "$d: per key, one partition and offsets in seq order" "$(sort \
	    -k3,3 -k2,2n "$m" | awk '$3 == k && ($1 != p || $4 + 0 <= s) {
		bad++ } { k = $3; p = $1; s = $4 + 0 } END { print bad + 0 }')" 0
}

# beyond TOPIC BOOTSTRAP SEQ: how many messages on the topic have seq > SEQ.
beyond() { msgs "$1" "$2"; awk -v c="$3" '$4 + 0 > c' "$WORK/$1.msgs" | wc -l; }

# settled_beyond TOPIC BOOTSTRAP SEQ: beyond, once two reads 0.5 s apart
# agree (5 s at most).  A relay that died may have left produce requests
# in flight, which the broker can still append after a first read: the
# window recovery's own settling exists for.
settled_beyond() {
	local n prev=-1 i
	for i in $(seq 10); do
		n=$(beyond "$@")
		[ "$n" = "$prev" ] && break
		prev=$n
		sleep 0.5
	done
	echo "$n"
}

[ -x "$RELAY" ] || { not_ok "relay binary $RELAY exists (make all)"; exit 1; }
if [ -n "${BOOTSTRAP_SERVERS:-}" ]; then
	BS=$BOOTSTRAP_SERVERS
else
	own_broker kafka
	BS=127.0.0.1:$OWN_PORT
fi

# --- crash after Kafka's acknowledgement, before the cursor write --------
DB=$WORK/crash.db TOPIC1="msgcmd-recovery-crash-$RUN_ID"
relay r1 "$DB" "$TOPIC1" "$BS" MSGCMD_FAULT_CRASH_AFTER_ACKS=$((N / 2))
R1=$RELAY_PID
wait_for 30 log_has r1 "publishing after seq 0"
last=$(insert "$DB" "$N")
wait_for 60 dead "$R1"
reap "$R1"
is "r1 dies by the fault hook (status 137)" "$REAPED" 137
log_has r1 "MSGCMD_FAULT_CRASH_AFTER_ACKS: dying"
is "r1's log names the hook" "$?" 0
c1=$(cursor "$DB")
[ "$c1" -lt "$last" ]
is "r1's cursor ($c1) stays below the last seq ($last)" "$?" 0
b1=$(settled_beyond "$TOPIC1" "$BS" "$c1")
[ "$b1" -gt 0 ]
is "the topic already holds events beyond r1's cursor ($b1)" "$?" 0

# Expired idempotency rows for r2's purge: more than one batch of 500.
q "$DB" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < 1234) INSERT INTO idempotency SELECT 'alice', 'old-' || i,
    'fp', 201, '{}', 1000 + i FROM n; INSERT INTO idempotency VALUES
    ('alice', 'fresh', 'fp', 201, '{}', strftime('%s', 'now'))"
relay r2 "$DB" "$TOPIC1" "$BS"
R2=$RELAY_PID
wait_for 60 cursor_is "$DB" "$last"
is "r2 brings the cursor to the last seq" "$?" 0
check_topic "$DB" "$TOPIC1" "$BS" "after a crash before the cursor write"
skipped=$(log_num r2 'skipped [0-9]+')
is "r2 skipped exactly what r1 had left beyond the cursor" "${skipped:-0}" "$b1"
echo "# crash hook: cursor $c1 of $last, $b1 events beyond it skipped;" \
    "recovery $(log_num r2 'partitions in [0-9]+ ms') ms"
wait_for 10 log_has r2 "purged 1234 expired idempotency keys"
is "r2 purged the expired idempotency rows, in batches" "$?:$(q "$DB" \
    "SELECT group_concat(key) FROM idempotency")" "0:fresh"
kill -TERM "$R2"
reap "$R2"
is "r2 exits 0 on SIGTERM" "$REAPED" 0

# --- SIGKILL at random moments during a large publish --------------------
DB=$WORK/kill.db TOPIC2="msgcmd-recovery-kill-$RUN_ID"
relay h0 "$DB" "$TOPIC2" "$BS"
HOLDER=$RELAY_PID
wait_for 30 log_has h0 "publishing after seq 0"
# A first small batch creates the topic: the rounds measure takeovers,
# not the broker creating a topic.
first=$(insert "$DB" 10)
wait_for 30 cursor_is "$DB" "$first"
is "h0 publishes a first batch" "$?" 0
total_skipped=0 mid=0
for ((round = 1; round <= ROUNDS; round++)); do
	relay "s$round" "$DB" "$TOPIC2" "$BS"
	STANDBY=$RELAY_PID
	wait_for 10 log_has "s$round" "standing by"
	last=$(insert "$DB" "$BIG")
	start=$(cursor "$DB")
	# A random point of the first half of the batch: the holder drains
	# it in a fraction of a second, so a random sleep often woke too
	# late to kill it mid-publish.
	wait_for 30 cursor_past "$DB" $((start + 1 + RANDOM % (BIG / 2)))
	t_kill=$(now_ms)
	kill -KILL "$HOLDER"
	reap "$HOLDER"
	at=$(cursor "$DB")
	[ "$at" -gt "$start" ] && [ "$at" -lt "$last" ] && mid=$((mid + 1))
	wait_for 60 cursor_is "$DB" "$last"
	is "round $round: the standby takes over and reaches the last seq" "$?" 0
	s=$(log_num "s$round" 'skipped [0-9]+')
	r=$(log_num "s$round" 'partitions in [0-9]+ ms')
	total_skipped=$((total_skipped + ${s:-0}))
	r=${r:+recovery $r ms, skipped ${s:-0}}
	took=$(log_ms "s$round" 'publishing after') && took="$((took - t_kill)) ms"
	echo "# round $round: killed at cursor $at of $last;" \
	    "takeover ${took:-not logged} (${r:-no recovery needed})"
	HOLDER=$STANDBY
done
check_topic "$DB" "$TOPIC2" "$BS" "after $ROUNDS SIGKILLs"
[ "$mid" -gt 0 ] && [ "$total_skipped" -gt 0 ]
is "some kills landed mid-publish ($mid) and recovery skipped events ($total_skipped)" "$?" 0
kill -TERM "$HOLDER"
reap "$HOLDER"
is "the last holder exits 0 on SIGTERM" "$REAPED" 0

# --- Kafka down when a holder starts: nothing before recovery ------------
if [ -n "${BOOTSTRAP_SERVERS:-}" ]; then
	own_broker kafka-down
	DOWN_DIR=$WORK/kafka-down
else
	DOWN_DIR=$WORK/kafka
fi
BSD=127.0.0.1:$OWN_PORT
DB=$WORK/down.db TOPIC3="msgcmd-recovery-down-$RUN_ID"
relay d1 "$DB" "$TOPIC3" "$BSD" MSGCMD_FAULT_CRASH_AFTER_ACKS=$((N / 2))
D1=$RELAY_PID
wait_for 30 log_has d1 "publishing after seq 0"
last=$(insert "$DB" "$N")
wait_for 60 dead "$D1"
reap "$D1"
c3=$(cursor "$DB")
b3=$(settled_beyond "$TOPIC3" "$BSD" "$c3")
"$KAFKA_SH" stop "$DOWN_DIR"
relay d2 "$DB" "$TOPIC3" "$BSD"
D2=$RELAY_PID
wait_for 30 state_is "$DB" recovering
is "a holder starting while Kafka is down says recovering" "$?" 0
moved() { ! cursor_is "$DB" "$c3"; }
wait_for 3 moved
is "while recovery cannot read the topic the cursor holds still" "$?" 1
"$KAFKA_SH" start "$DOWN_DIR" "$OWN_PORT" 2>>"$WORK/kafka.sh.log"
t0=$(now_ms)
wait_for 60 cursor_is "$DB" "$last"
is "once Kafka is back, recovery completes and the rest is published" "$?" 0
echo "# drained $(($(now_ms) - t0)) ms after the restarted broker answered"
check_topic "$DB" "$TOPIC3" "$BSD" "across a recovery that waited"
is "d2 skipped what d1 had left beyond the cursor" \
    "$(log_num d2 'skipped [0-9]+')" "$b3"

echo "recovery: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
