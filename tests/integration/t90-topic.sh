#!/usr/bin/env bash
# t90-topic.sh: runs last.  Reads the topic back and checks that every
# 201 body of the earlier tests is there exactly once, byte for byte,
# keyed by its conversation, with CloudEvents headers, and that each
# conversation's events are in the order they were accepted.
. "$(dirname "$0")/lib.sh"

want=$(wc -l <"$ACCEPTED")
dump="$STATE/topic.jsonl"
# Poll the topic until every accepted event arrived (or 60 s passed).
for _ in $(seq 120); do
	kcat -C -b "$BOOTSTRAP_SERVERS" -t "$TOPIC" -o beginning -e -J -q \
	    >"$dump" 2>/dev/null
	[ "$(wc -l <"$dump")" -ge "$want" ] && break
	sleep 0.5
done
is "topic holds one message per accepted command" "$(wc -l <"$dump")" "$want"

# Payloads: the same multiset of byte strings as the 201 bodies.
is "payloads equal the 201 bodies, each exactly once" \
    "$(jq -r .payload "$dump" | sort | md5sum)" "$(sort "$ACCEPTED" | md5sum)"
is "no event_id appears twice" \
    "$(jq -r '.payload | fromjson | .event_id' "$dump" | sort | uniq -d | wc -l)" 0

# Keys: the conversation id, never null.
is "every key is its event's conversation id" "$(jq -r '
    (.payload | fromjson) as $e
    | select(.key != (if $e.event == "userCreatedConversation"
                      then $e.id else $e.conversation_id end))' "$dump" | wc -l)" 0

# Headers: CloudEvents binary mode, with values matching the payload.
is "CloudEvents headers present and consistent" "$(jq -r '
    (.payload | fromjson) as $e
    | (.headers as $h | [range(0; $h | length; 2) | {key: $h[.], value: $h[. + 1]}]
       | from_entries) as $h
    | select($h.ce_specversion != "1.0" or $h.ce_id != $e.event_id
        or $h.ce_type != $e.event or $h.ce_time != $e.created_at
        or $h.ce_subject != .key or ($h.ce_source | length) == 0
        or $h["content-type"] != "application/json")' "$dump" | wc -l)" 0

# Order: per conversation, topic order equals acceptance order.
order_is "$dump"
