#!/usr/bin/env bash
# t30-concurrent.sh: several clients at once, each its own conversation
# with a stream of messages, so that t90 can check per-conversation order
# across the responder processes.
. "$(dirname "$0")/lib.sh"

CLIENTS=6 MESSAGES=25
client() {	# client N: one conversation, MESSAGES messages in order
	local sub="user$1" cid i
	cid=$(create "$sub" "concurrent $1")
	[ -n "$cid" ] && [ "$cid" != null ] || { echo "create failed"; return 1; }
	for i in $(seq "$MESSAGES"); do
		as "$sub" POST "/conversations/$cid" "${JSON[@]}" \
		    -d "{\"message_content\":\"message $i\"}"
		[ "$STATUS" = 201 ] || { echo "message $i: $STATUS"; return 1; }
	done
}

pids=()
for n in $(seq "$CLIENTS"); do
	client "$n" >"$STATE/client-$n.out" 2>&1 &
	pids+=($!)
done
for n in $(seq "$CLIENTS"); do
	if wait "${pids[$((n - 1))]}"; then
		ok "client $n: 1 create + $MESSAGES messages accepted"
	else
		not_ok "client $n: $(cat "$STATE/client-$n.out")"
	fi
done
