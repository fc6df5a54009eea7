#!/usr/bin/env bash
# t70-kafka-outage.sh: with the broker stopped, commands keep answering
# 201 and /readyz reports the backlog; when the broker returns the backlog
# drains in commit order.  Uses a broker and a stack of its own (the
# suite's broker is never stopped) and prints the drain rate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/extra-stack.sh"

DIR=$(mktemp -d /tmp/msgcmd-outage.XXXXXX)
KPORT=$("$ROOT/scripts/kafka.sh" port)
TOPIC_O="msgcmd-outage-$$-$RANDOM"
N=${OUTAGE_COMMANDS:-400}
trap 'extra_stop_all; "$ROOT/scripts/kafka.sh" stop "$DIR/kafka" >/dev/null 2>&1; rm -rf "$DIR"' EXIT

"$ROOT/scripts/kafka.sh" start "$DIR/kafka" "$KPORT" >/dev/null 2>&1 ||
	{ not_ok "broker starts"; exit 1; }
extra_start "$DIR/stack" PUBLISHER=thread TOPIC="$TOPIC_O" \
    BOOTSTRAP_SERVERS="127.0.0.1:$KPORT" || { not_ok "stack starts"; exit 1; }
ready() { curl -s "$EXTRA_BASE/readyz"; }
tok=$(token outage)
post() {	# post PATH JSON: prints the status; appends 201 bodies to $DIR/accepted
	local out
	out=$(curl -s -w '\n%{http_code}' -X POST "$EXTRA_BASE$1" \
	    -H "Authorization: Bearer $tok" "${JSON[@]}" -d "$2")
	[ "${out##*$'\n'}" = 201 ] && printf '%s\n' "${out%$'\n'*}" >>"$DIR/accepted"
	echo "${out##*$'\n'}"
}

CID=$(post /conversations/ '{"name":"before the outage"}' >/dev/null; jq -r .id "$DIR/accepted")
for _ in $(seq 100); do [ "$(ready | jq -r .outbox.backlog)" = 0 ] && break; sleep 0.1; done
is "the first event is published while Kafka is up" "$(ready | jq -r .outbox.backlog)" 0

"$ROOT/scripts/kafka.sh" stop "$DIR/kafka" >/dev/null
codes=$(for i in $(seq "$N"); do post "/conversations/$CID" "{\"message_content\":\"m$i\"}"; done | sort | uniq -c | awk '{print $2 "x" $1}')
is "with the broker stopped, every command is answered 201" "$codes" "201x$N"
is "/readyz still answers 200" "$(curl -s -o /dev/null -w '%{http_code}' "$EXTRA_BASE/readyz")" 200
is "/readyz reports the backlog" "$(ready | jq -r .outbox.backlog)" "$N"
for _ in $(seq 50); do [ "$(ready | jq -r .publisher.state)" = kafka-down ] && break; sleep 0.1; done
is "/readyz reports Kafka down" "$(ready | jq -r .publisher.state)" kafka-down

# A loaded machine (the sanitizer pass) can take a while to restart it.
if ! out=$(KAFKA_WAIT_SECONDS=180 "$ROOT/scripts/kafka.sh" start "$DIR/kafka" "$KPORT" 2>&1); then
	not_ok "broker restarts: $(tail -2 <<<"$out" | tr '\n' ' ')"
	tail -20 "$DIR/kafka/kafka.out" 2>/dev/null | sed 's/^/# /'
	exit 1
fi
# Poll the backlog: t0 when the broker answers, t1 when publishing
# resumed (backlog below N), t2 when it reached 0.
t0=$(date +%s.%N) t1=
for _ in $(seq 1200); do
	b=$(ready | jq -r .outbox.backlog)
	[ -z "$t1" ] && [ "$b" -lt "$N" ] && t1=$(date +%s.%N)
	[ "$b" = 0 ] && break
	sleep 0.01
done
t2=$(date +%s.%N)
is "after the broker returns the backlog drains" "$(ready | jq -r .outbox.backlog)" 0
echo "# broker up to publishing resumed: $(awk -v a="$t0" -v b="${t1:-$t2}" 'BEGIN { printf "%.2f s", b - a }')," \
    "drained $N events in $(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.2f s", b - a }')"

kcat -C -b "127.0.0.1:$KPORT" -t "$TOPIC_O" -o beginning -e -J -q >"$DIR/topic.jsonl" 2>/dev/null
is "every accepted command is on the topic once" \
    "$(jq -r '.payload | fromjson | .event_id' "$DIR/topic.jsonl" | sort | md5sum)" \
    "$(jq -r .event_id "$DIR/accepted" | sort | md5sum)"
is "in commit order" \
    "$(jq -r '[.partition, .offset, (.payload | fromjson | .event_id)] | @tsv' "$DIR/topic.jsonl" | sort -n -k1,1 -k2,2 | cut -f3 | md5sum)" \
    "$(jq -r .event_id "$DIR/accepted" | md5sum)"
