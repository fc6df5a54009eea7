#!/usr/bin/env bash
# t97-shards.sh: two shards behind one lighttpd (docs/SCALING.md).  Each
# shard is a group of responders started by spawn-fcgi + multiwatch on a
# socket of its own, with its own database and SHARD=i/2; lighttpd routes
# with deploy/lighttpd-shards.conf (its socket lines rewritten).  Shows
# that creates reach both shards, every later command of a conversation
# reaches the shard its id names (and only that one's database changes),
# and every event reaches the one topic exactly once, in order per
# conversation.  Shard 1 starts without a publisher: its backlog is then
# published by msgcmd-relay while shard 0's events, with the same
# msgcmd-seq numbers, are already on the topic, which a recovery that
# did not tell the shards apart would take for its own and skip.
. "$(dirname "$0")/lib.sh"

DIR="$STATE/shards"

if ! command -v spawn-fcgi >/dev/null || ! command -v multiwatch >/dev/null; then
	not_ok "spawn-fcgi and multiwatch are installed (scripts/deps.sh)"
	exit 0
fi
mkdir -p "$DIR/www" "$DIR/s0" "$DIR/s1" || exit 1
export ACCEPTED="$DIR/accepted.jsonl"	# not the suite's: another topic
: >"$ACCEPTED"
SHARD_TOPIC="$TOPIC-shards"
PUB=$(openssl pkey -in "$PRIVATE_KEY" -pubout | grep -v -- '-----' | tr -d '\n')
PIDS=()

# shard_env I PUBLISHER: the settings of shard I, for env -i.
shard_env() {
	echo PATH="$PATH" "${SAN_ENV[@]}" ENV_FILE=/dev/null SHARD="$1/2" PUBLISHER="$2" \
	    DATABASE_PATH="$DIR/s$1/msgcmd.db" TOPIC="$SHARD_TOPIC" \
	    BOOTSTRAP_SERVERS="$BOOTSTRAP_SERVERS" KEYCLOAK_PUBLIC_KEY="$PUB"
}

# start_shard I PUBLISHER: two responders on DIR/sI/msgcmd.sock.
start_shard() {
	# shellcheck disable=SC2046
	env -i $(shard_env "$1" "$2") spawn-fcgi -n -s "$DIR/s$1/msgcmd.sock" \
	    -- "$(command -v multiwatch)" -f 2 -s TERM -- "$BIN/msgcmd" \
	    2>>"$DIR/s$1/responders.log" &
	PIDS+=($!)
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

start_shard 0 thread
start_shard 1 off
sed -E -e "s|^(var\\.msgcmd_shard0 *= *).*|\\1\"$DIR/s0/msgcmd.sock\"|" \
    -e "s|^(var\\.msgcmd_shard1 *= *).*|\\1\"$DIR/s1/msgcmd.sock\"|" \
    "$ROOT/deploy/lighttpd-shards.conf" >"$DIR/site.conf"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
cat >"$DIR/lighttpd.conf" <<EOF
server.document-root = "$DIR/www"
server.errorlog = "$DIR/lighttpd.log"
server.bind = "127.0.0.1"
server.port = $PORT
include "$DIR/site.conf"
EOF
lighttpd -D -f "$DIR/lighttpd.conf" 2>>"$DIR/lighttpd.log" &
PIDS+=($!)

# ready: both sockets exist and /readyz answers through lighttpd (30 s).
ready() {
	for _ in $(seq 300); do
		[ -S "$DIR/s0/msgcmd.sock" ] && [ -S "$DIR/s1/msgcmd.sock" ] &&
			[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" = 200 ] &&
			return 0
		sleep 0.1
	done
	return 1
}
if ! ready; then
	not_ok "two shards behind one lighttpd come up; logs: $(tail -3 "$DIR"/s*/responders.log "$DIR/lighttpd.log" | tr '\n' '|')"
	exit 0
fi
ok "two shards behind one lighttpd come up"

# --- commands --------------------------------------------------------
ids=() bad=0
for i in $(seq 8); do
	id=$(create alice "shard test $i")
	case "$id" in [0-9a-f]*-*) ids+=("$id") ;; *) bad=$((bad + 1)) ;; esac
done
is "8 creates through the front end answer 201 with an id" "${#ids[@]}:$bad" 8:0
even=$(printf '%s\n' "${ids[@]}" | grep -c '^[02468ace]')
odd=$(printf '%s\n' "${ids[@]}" | grep -c '^[13579bdf]')
is "creates land on both shards (ids of shard 0 and of shard 1)" \
    "$([ "$even" -gt 0 ] && [ "$odd" -gt 0 ] && echo yes)" yes

codes=""
for id in "${ids[@]}"; do
	as alice POST "/conversations/$id/members" "${JSON[@]}" -d '{"participant_id":"bob"}'
	codes+=" $STATUS"
	for m in one two three; do
		as alice POST "/conversations/$id" "${JSON[@]}" -d "{\"message_content\":\"$m\"}"
		codes+=" $STATUS"
	done
	as bob POST "/conversations/$id" "${JSON[@]}" -d '{"message_content":"hi"}'
	codes+=" $STATUS"
	as alice DELETE "/conversations/$id/members/bob"
	codes+=" $STATUS"
done
as alice DELETE "/conversations/${ids[0]}"
codes+=" $STATUS"
is "every command to an existing conversation answers 201" \
    "$(tr ' ' '\n' <<<"$codes" | grep -v '^$' | sort -u | xargs)" 201
as bob POST "/conversations/${ids[1]}" "${JSON[@]}" -d '{"message_content":"gone"}'
is "bob, removed, is refused by his conversation's shard" "$STATUS" 403

# --- each conversation lives in its shard's database only ------------
q() { sqlite3 -readonly "file:$DIR/s$1/msgcmd.db?mode=ro" "$2" 2>/dev/null; }
wrong=0
for id in "${ids[@]}"; do
	s=$(( 16#${id:0:1} % 2 ))
	[ "$(q "$s" "SELECT count(*) FROM conversations WHERE id = '$id'")" = 1 ] &&
		[ "$(q $((1 - s)) "SELECT count(*) FROM conversations WHERE id = '$id'")" = 0 ] &&
		[ "$(q "$s" "SELECT count(*) FROM outbox WHERE conversation_id = '$id'")" = \
		    "$([ "$id" = "${ids[0]}" ] && echo 8 || echo 7)" ] ||
		wrong=$((wrong + 1))
done
is "each conversation and its events (7, 8 with the delete) are in its shard's database only" "$wrong" 0
is "no event row in either database for another shard's conversation" \
    "$(q 0 "SELECT count(*) FROM outbox WHERE substr(conversation_id, 1, 1) IN ('1','3','5','7','9','b','d','f')"):$(q 1 "SELECT count(*) FROM outbox WHERE substr(conversation_id, 1, 1) IN ('0','2','4','6','8','a','c','e')")" 0:0

# An id whose first digit names the other shard is routed there, where
# it does not exist: 404, and that shard's database is unchanged.
id=${ids[1]}
other=$(printf '%x' $(( (16#${id:0:1} + 1) % 16 )))${id:1}
s=$(( 16#${other:0:1} % 2 ))
before=$(q "$s" "SELECT count(*) FROM outbox")
as alice POST "/conversations/$other" "${JSON[@]}" -d '{"message_content":"x"}'
is "an id naming the other shard is unknown there: 404, nothing stored" \
    "$STATUS:$(q "$s" "SELECT count(*) FROM outbox")" "404:$before"

# --- the topic -------------------------------------------------------
dump="$DIR/topic.jsonl"
want0=$(jq -r "$CONV_OF" "$ACCEPTED" | grep -c '^[02468ace]')
want=$(wc -l <"$ACCEPTED")
# topic_has N: polls the topic until it holds N messages (60 s).
topic_has() {
	for _ in $(seq 120); do
		kcat -C -b "$BOOTSTRAP_SERVERS" -t "$SHARD_TOPIC" -o beginning -e -J -q \
		    >"$dump" 2>/dev/null
		[ "$(wc -l <"$dump")" -ge "$1" ] && return 0
		sleep 0.5
	done
	return 1
}
topic_has "$want0"
is "shard 0's publisher put its $want0 events on the topic; shard 1's wait" \
    "$(wc -l <"$dump")" "$want0"

# relay: starts shard 1's publisher as a standalone relay; sets RELAY.
relay() {
	# shellcheck disable=SC2046
	env -i $(shard_env 1 thread) "$BIN/msgcmd-relay" </dev/null \
	    >>"$DIR/s1/relay.log" 2>&1 &
	RELAY=$!
	PIDS+=("$RELAY")
}
# published: polls (60 s) until shard 1's cursor is at its last event.
last1=$(q 1 "SELECT max(seq) FROM outbox")
published() {
	for _ in $(seq 600); do
		[ "$(q 1 "SELECT published_seq FROM publisher")" = "$last1" ] && return 0
		sleep 0.1
	done
	return 1
}
relay
published
is "shard 1's relay brings its cursor to its last event" "$?" 0
topic_has "$want"
is "then shard 1's relay publishes its backlog: one message per accepted command" \
    "$(wc -l <"$dump")" "$want"

# A relay killed after Kafka's acknowledgement but before its cursor
# write, as it looks to the next one: shard 1's events are on the topic
# beyond its cursor, interleaved with shard 0's, which carry the same
# msgcmd-seq numbers.  The next relay must find exactly its own.
kill -TERM "$RELAY"
wait "$RELAY" 2>/dev/null
sqlite3 "$DIR/s1/msgcmd.db" "PRAGMA busy_timeout = 5000; UPDATE publisher SET published_seq = 0" >/dev/null
relay
published
is "after a rewind to 0, the next relay brings the cursor back to the end" "$?" 0
kill -TERM "$RELAY"
wait "$RELAY" 2>/dev/null
grep -q "skipped $last1 events already on the topic" "$DIR/s1/relay.log"
is "it skipped all $last1 of shard 1's events as already on the topic" "$?" 0
topic_has "$want"
is "and nothing twice: still one message per accepted command" \
    "$(wc -l <"$dump")" "$want"
is "payloads equal the 201 bodies, each exactly once" \
    "$(jq -r .payload "$dump" | sort | md5sum)" "$(sort "$ACCEPTED" | md5sum)"
is "every message's msgcmd-shard header is its conversation's shard" "$(jq -r '
    (.headers as $h | [range(0; $h | length; 2) | {key: $h[.], value: $h[. + 1]}]
     | from_entries) as $h
    | select($h["msgcmd-shard"] != ((.key[0:1] | ascii_downcase) as $d
        | "0123456789abcdef" | index($d) % 2 | tostring))' "$dump" | wc -l)" 0
order_is "$dump"

# --- each shard rebuilds its own write model from the one topic -------
conv_sql='SELECT id, name, owner, deleted, created_at FROM conversations ORDER BY id'
memb_sql='SELECT conversation_id, user_id FROM members ORDER BY 1, 2'
for s in 0 1; do
	# shellcheck disable=SC2046
	out=$(env -i $(shard_env "$s" off) "$BIN/msgcmd-rebuild" \
	    --db "$DIR/s$s/rebuilt.db" 2>&1)
	echo "# shard $s: ${out##*$'\n'}"
	is "shard $s rebuilt from the topic: its conversations and members, no other shard's" \
	    "$(sqlite3 "$DIR/s$s/rebuilt.db" "$conv_sql; $memb_sql" | md5sum)" \
	    "$(q "$s" "$conv_sql; $memb_sql" | md5sum)"
	is "shard $s's rebuilt cursor continues its own sequence" \
	    "$(sqlite3 "$DIR/s$s/rebuilt.db" 'SELECT published_seq FROM publisher')" \
	    "$(q "$s" 'SELECT max(seq) FROM outbox')"
done
