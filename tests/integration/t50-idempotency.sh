#!/usr/bin/env bash
# t50-idempotency.sh: the Idempotency-Key of SPEC section 2.  A repeat of
# the same request replays the stored status, body and Location with
# Idempotent-Replayed: true and makes no event; a different request under
# the key is 422; keys are per subject; the fingerprint is over the parsed
# command, so JSON, form and multipart bodies and path aliases are the
# same request; refusals (403/404/409) are stored and replayed, 400s
# are not; malformed keys are 400;
# concurrent duplicates make one event; the TTL and the mandatory header
# are checked on stacks of their own.  Events are counted by the outbox
# sequence that /readyz reports.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/extra-stack.sh"
trap extra_stop_all EXIT
trap 'exit 130' INT TERM

RUN="t50-$$-$(date +%s)"	# keys unique to this run

# last_seq [BASE]: the newest outbox sequence number of a stack.
last_seq() { curl -s "${1:-$BASE}/readyz" | jq -r .outbox.last_seq; }

# replayed: whether the last response carries Idempotent-Replayed: true.
replayed() { grep -qi '^idempotent-replayed: true$' <<<"$HEADERS" && echo yes || echo no; }

location() { grep -i '^location:' <<<"$HEADERS"; }

# --- a create, repeated ---------------------------------------------------
K="$RUN-create"
seq0=$(last_seq)
as alice POST /conversations/ "${JSON[@]}" -H "Idempotency-Key: $K" -d '{"name":"idem"}'
status_is "create with a key" 201
is "first answer is not marked replayed" "$(replayed)" no
FIRST=$BODY FIRST_LOC=$(location)
CID=$(jq -r .id <<<"$BODY")
header_has "first answer names the conversation in Location" "^location: /conversations/$CID\$"

as alice POST /conversations/ "${JSON[@]}" -H "Idempotency-Key: $K" -d '{"name":"idem"}'
status_is "repeat: the stored status" 201
is "repeat: byte-identical body" "$BODY" "$FIRST"
header_has "repeat: Idempotent-Replayed: true" '^idempotent-replayed: true$'
is "repeat: the same Location" "$(location)" "$FIRST_LOC"
header_has "repeat: application/json" '^content-type: application/json$'
is "the repeat made no event" "$(last_seq)" "$((seq0 + 1))"

# --- the fingerprint is over the parsed fields ----------------------------
as alice POST /conversations/ -H "Idempotency-Key: $K" -d 'name=idem'
is "the same fields as urlencoded form: replayed" "$STATUS $(replayed)" "201 yes"
is "form repeat: byte-identical body" "$BODY" "$FIRST"
as alice POST /conversations -H "Idempotency-Key: $K" -F 'name=idem'
is "as multipart, without trailing slash: replayed" "$STATUS $(replayed)" "201 yes"
as alice POST /conversations/ "${JSON[@]}" -H "Idempotency-Key: $K" \
    -d '{"unknown":"ignored","name":"idem"}'
is "an ignored unknown field does not change the request" "$STATUS $(replayed)" "201 yes"
is "no event from the variants" "$(last_seq)" "$((seq0 + 1))"

# --- a different request under the key ------------------------------------
as alice POST /conversations/ "${JSON[@]}" -H "Idempotency-Key: $K" -d '{"name":"other"}'
status_is "same key, different body" 422
header_has "422 is problem+json" '^content-type: application/problem\+json$'
body_is "422 names the reuse" .type urn:msgcmd:problem:idempotency-key-reused
body_is "422 body has a status" .status 422
as alice POST "/conversations/$CID" "${JSON[@]}" -H "Idempotency-Key: $K" \
    -d '{"message_content":"idem"}'
status_is "same key, other path and command" 422
as alice DELETE "/conversations/$CID" -H "Idempotency-Key: $K"
status_is "same key, other method" 422
is "no event from the mismatches" "$(last_seq)" "$((seq0 + 1))"

CID2=$(create alice "idem two")
KM="$RUN-message"
as alice POST "/conversations/$CID" "${JSON[@]}" -H "Idempotency-Key: $KM" \
    -d '{"message_content":"once"}'
status_is "message with a key" 201
MSG=$BODY
as alice POST "/conversations/$CID2" "${JSON[@]}" -H "Idempotency-Key: $KM" \
    -d '{"message_content":"once"}'
status_is "same key and body, another conversation: 422" 422
UPPER=$(tr a-f A-F <<<"$CID")
as alice POST "/conversations/$UPPER/" "${JSON[@]}" -H "Idempotency-Key: $KM" \
    -d '{"message_content":"once"}'
is "the same conversation as upper-case id with slash: replayed" \
    "$STATUS $(replayed)" "201 yes"
is "its body is the first message's" "$BODY" "$MSG"

# The documented aliases are the same command, hence the same request.
as alice POST "/conversations/$CID/members" "${JSON[@]}" -d '{"participant_id":"bob"}'
status_is "owner adds bob" 201
KR="$RUN-remove"
as alice POST "/conversations/$CID/members/bob/remove" -H "Idempotency-Key: $KR" -d ''
status_is "remove bob with a key (POST .../remove)" 201
REMOVED=$BODY seq1=$(last_seq)
as alice DELETE "/conversations/$CID/members/bob" -H "Idempotency-Key: $KR"
is "the DELETE alias under the same key: replayed" "$STATUS $(replayed)" "201 yes"
is "the alias replays the first body" "$BODY" "$REMOVED"
is "no event from the alias" "$(last_seq)" "$seq1"

# --- keys are per subject -------------------------------------------------
seq1=$(last_seq)
as bob POST /conversations/ "${JSON[@]}" -H "Idempotency-Key: $K" -d '{"name":"idem"}'
is "another subject's same key is a new command" "$STATUS $(replayed)" "201 no"
body_is "it creates bob's own conversation" .creator_id bob
is "another subject's key makes its own event" "$(last_seq)" "$((seq1 + 1))"

# --- a refusal is the key's answer; bad input is not stored --------------
KF="$RUN-refused"
as bob POST "/conversations/$CID" "${JSON[@]}" -H "Idempotency-Key: $KF" \
    -d '{"message_content":"let me in"}'
status_is "a non-member's message with a key is refused" 403
first="$BODY"
as alice POST "/conversations/$CID/members" "${JSON[@]}" -d '{"participant_id":"bob"}'
status_is "owner adds bob again" 201
seq1=$(last_seq)
as bob POST "/conversations/$CID" "${JSON[@]}" -H "Idempotency-Key: $KF" \
    -d '{"message_content":"let me in"}'
is "the repeat replays the stored refusal, although bob is now a member" \
    "$STATUS $(replayed)" "403 yes"
is "the replayed refusal is byte-identical" "$BODY" "$first"
header_has "the replayed refusal is problem+json" '^content-type: application/problem\+json'
is "no event for the refused key" "$(last_seq)" "$seq1"
as bob POST "/conversations/$CID" "${JSON[@]}" -H "Idempotency-Key: $KF-new" \
    -d '{"message_content":"let me in"}'
is "a new key is decided against the current state" "$STATUS $(replayed)" "201 no"

KB="$RUN-invalid"
as alice POST /conversations/ "${JSON[@]}" -H "Idempotency-Key: $KB" -d '{"name":""}'
status_is "an invalid body with a key is 400" 400
as alice POST /conversations/ "${JSON[@]}" -H "Idempotency-Key: $KB" -d '{"name":"fixed"}'
is "the corrected request under that key is new, not 422" "$STATUS $(replayed)" "201 no"

# --- malformed keys -------------------------------------------------------
long=$(printf 'k%.0s' $(seq 256))
seq1=$(last_seq)
bad_key() {	# bad_key DESC HEADER-ARG
	as alice POST /conversations/ "${JSON[@]}" -H "$2" -d '{"name":"bad key"}'
	status_is "$1 is 400" 400
	body_is "$1: problem names the key" .type urn:msgcmd:problem:bad-idempotency-key
}
bad_key "a 256-character key" "Idempotency-Key: $long"
bad_key "a non-ASCII key" $'Idempotency-Key: caf\xc3\xa9'
bad_key "a key with a control character (tab)" $'Idempotency-Key: a\tb'
as alice POST /conversations/ "${JSON[@]}" -H $'Idempotency-Key: a\x01b' -d '{"name":"bad key"}'
status_is "a key with a control character (0x01) is 400" 400
is "no event from malformed keys" "$(last_seq)" "$seq1"

# lighttpd forwards no header whose value is empty, so behind it an empty
# key is no key (see the IDEMPOTENCY_REQUIRED stack below).  A gateway
# that does forward it gets 400: the binary as CGI shows it.
cgi_body='{"name":"empty key"}'
cgi_out=$(printf '%s' "$cgi_body" | env -i PATH="$PATH" "${SAN_ENV[@]}" \
    DATABASE_PATH="$DATABASE_PATH" KEYCLOAK_PUBLIC_KEY="$KEYCLOAK_PUBLIC_KEY" \
    ENV_FILE=/dev/null PUBLISHER=off GATEWAY_INTERFACE=CGI/1.1 \
    REQUEST_METHOD=POST REQUEST_URI=/conversations/ CONTENT_LENGTH=${#cgi_body} \
    CONTENT_TYPE=application/json HTTP_AUTHORIZATION="Bearer $(token alice)" \
    HTTP_IDEMPOTENCY_KEY= "$BIN/msgcmd" | tr -d '\r')
is "an empty key (CGI) is 400 bad-idempotency-key" \
    "$(sed -nE '1s/^Status: ([0-9]+).*/\1/p' <<<"$cgi_out") $(sed '1,/^$/d' <<<"$cgi_out" | jq -r .type)" \
    "400 urn:msgcmd:problem:bad-idempotency-key"
is "no event from the empty key" "$(last_seq)" "$seq1"
k255="$RUN-$long" k255=${k255:0:255}
as alice POST /conversations/ "${JSON[@]}" -H "Idempotency-Key: $k255" \
    -d '{"name":"long key"}'
is "a 255-character key is accepted" "$STATUS $(replayed)" "201 no"
as alice POST /conversations/ "${JSON[@]}" -H "Idempotency-Key: $k255" \
    -d '{"name":"long key"}'
is "... and replayed" "$STATUS $(replayed)" "201 yes"

# --- 30 concurrent duplicates ---------------------------------------------
N=30 KC="$RUN-concurrent" dir="$STATE/t50-concurrent"
mkdir -p "$dir"
tok=$(token carol)
seq1=$(last_seq)
pids=()
for i in $(seq "$N"); do
	curl -s -o "$dir/body.$i" -D "$dir/head.$i" -X POST "$BASE/conversations/" \
	    -H "Authorization: Bearer $tok" -H "Idempotency-Key: $KC" \
	    "${JSON[@]}" -d '{"name":"thirty at once"}' &
	pids+=($!)
done
wait "${pids[@]}"
is "all $N concurrent duplicates answered 201" \
    "$(for i in $(seq "$N"); do awk 'NR==1 {print $2}' "$dir/head.$i"; done | sort | uniq -c | awk '{$1=$1; print}')" \
    "$N 201"
is "all $N bodies are byte-identical" \
    "$(md5sum "$dir"/body.* | awk '{print $1}' | sort -u | wc -l)" 1
# The header files keep curl's CRLF line ends.
is "exactly one answer is not a replay" \
    "$(grep -Li '^idempotent-replayed: true' "$dir"/head.* | wc -l)" 1
is "exactly one event for $N duplicates" "$(last_seq)" "$((seq1 + 1))"
# The runner's topic check (t90) counts each accepted event once.
printf '%s\n' "$(cat "$dir/body.1")" >>"$ACCEPTED"

# --- the TTL, on a stack of its own ---------------------------------------
if extra_start "$STATE/t50-ttl" IDEMPOTENCY_TTL_SECONDS=1; then
	X=$EXTRA_BASE XPID=$EXTRA_PID KT="$RUN-ttl"
	extra_as "$X" alice POST /conversations/ "${JSON[@]}" \
	    -H "Idempotency-Key: $KT" -d '{"name":"short-lived"}'
	status_is "TTL stack: create with a key" 201
	TTL_FIRST=$BODY t0=$(date +%s%N) repeats_ok=yes
	# Repeat until the key has expired: replays until then, 5 s at most.
	for i in $(seq 50); do
		extra_as "$X" alice POST /conversations/ "${JSON[@]}" \
		    -H "Idempotency-Key: $KT" -d '{"name":"short-lived"}'
		[ "$(replayed)" = yes ] || break
		[ "$BODY" = "$TTL_FIRST" ] || repeats_ok=no
		sleep 0.1
	done
	echo "# the first new answer came $((($(date +%s%N) - t0) / 1000000)) ms after the first one"
	is "TTL stack: repeats within the TTL were replays of the first" "$repeats_ok" yes
	is "TTL stack: after the TTL the same key is a new command" \
	    "$STATUS $(replayed)" "201 no"
	is "TTL stack: ... with a new conversation" \
	    "$([ "$(jq -r .id <<<"$BODY")" != "$(jq -r .id <<<"$TTL_FIRST")" ] && echo new)" new
	is "TTL stack: two events" "$(last_seq "$X")" 2
	extra_stop "$XPID"
	is "TTL stack: stopped, no responder left" "$?" 0
else
	not_ok "TTL stack starts"
fi

# --- IDEMPOTENCY_REQUIRED, on a stack of its own --------------------------
if extra_start "$STATE/t50-required" IDEMPOTENCY_REQUIRED=true; then
	X=$EXTRA_BASE XPID=$EXTRA_PID
	extra_as "$X" alice POST /conversations/ "${JSON[@]}" -d '{"name":"no key"}'
	status_is "required: a command without a key is 400" 400
	body_is "required: problem names the key" .type urn:msgcmd:problem:bad-idempotency-key
	body_is "required: detail says the header is required" \
	    '.detail | test("requires an Idempotency-Key")' true
	extra_as "$X" alice POST /conversations/ "${JSON[@]}" -H 'Idempotency-Key;' \
	    -d '{"name":"empty key"}'
	status_is "required: an empty key (not forwarded by lighttpd) is 400" 400
	extra_as "$X" alice DELETE "/conversations/$CID"
	status_is "required: a DELETE without a key is 400 too" 400
	extra_as "$X" alice POST /conversations/ "${JSON[@]}" \
	    -H "Idempotency-Key: $RUN-required" -d '{"name":"with key"}'
	status_is "required: with a key, 201" 201
	extra_req "$X" GET /healthz
	status_is "required: GET /healthz needs no key" 200
	extra_req "$X" GET /readyz
	status_is "required: GET /readyz needs no key" 200
	extra_as "$X" alice GET /conversations/test
	status_is "required: the token check needs no key" 200
	is "required: one event" "$(last_seq "$X")" 1
	extra_stop "$XPID"
	is "required stack: stopped, no responder left" "$?" 0
else
	not_ok "IDEMPOTENCY_REQUIRED stack starts"
fi
