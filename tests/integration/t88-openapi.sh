#!/usr/bin/env bash
# t88-openapi.sh: the running service answers as docs/openapi.yaml says.
# The description passes `redocly lint` (tests/openapi/lint.sh); then
# every documented (path, method, status) is provoked by a real request,
# on the runner's stack or, for the 503s, on a stack of its own whose
# write lock another process holds, and for the 429s on one with a rate
# limit of one command a minute.  tests/openapi/validate.mjs checks
# each answer: its status is documented for the operation, its media
# type, headers and body match the documented ones (JSON Schema 2020-12
# with formats, ajv), and every documented pair was exercised.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/extra-stack.sh"

OA="$ROOT/tests/openapi"
SPEC="$ROOT/docs/openapi.yaml"
REC="$STATE/t88-exchanges.jsonl"
: >"$REC"
HELPER_PID=""
cleanup() {
	[ -n "$HELPER_PID" ] && kill -TERM "$HELPER_PID" 2>/dev/null &&
		wait "$HELPER_PID" 2>/dev/null
	extra_stop_all
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$OA/setup.sh"; then
	not_ok "the npm tools of tests/openapi install (npm ci)"
	exit 1
fi
if out=$("$OA/lint.sh" 2>&1); then
	ok "docs/openapi.yaml passes redocly lint with tests/openapi/redocly.yaml"
else
	not_ok "docs/openapi.yaml passes redocly lint:"
	grep -E 'error|warn|^ *[0-9]+:[0-9]+' <<<"$out" | sed 's/^/#   /' | head -40
fi

# record NAME TEMPLATE: appends the last exchange (lib.sh's METHOD is not
# kept, so the caller's is passed in M) to the record file.
record() {
	jq -cn --arg name "$1" --arg path "$2" --arg method "$M" \
	    --arg status "$STATUS" --arg headers "$HEADERS" --arg body "$BODY" \
	    '{name: $name, path: $path, method: $method, status: ($status | tonumber? // 0),
	      headers: $headers, body: $body}' >>"$REC"
}

# ex NAME TEMPLATE SUB METHOD PATH [curl args...]: a request as SUB (or
# "-" for none) on the runner's stack, recorded under TEMPLATE.
ex() {
	local name=$1 tpl=$2 sub=$3
	M=$4
	shift 3
	if [ "$sub" = - ]; then req "$@"; else as "$sub" "$@"; fi
	record "$name" "$tpl"
}

# ex_extra BASE NAME TEMPLATE SUB METHOD PATH [curl args...]: the same on
# another stack (its events are not the runner's topic's).
ex_extra() {
	local base=$1 name=$2 tpl=$3 sub=$4
	M=$5
	shift 4
	if [ "$sub" = - ]; then extra_req "$base" "$@"; else extra_as "$base" "$sub" "$@"; fi
	record "$name" "$tpl"
}

# skip TEMPLATE METHOD STATUS REASON: a documented pair not provoked.
skip() {
	jq -cn --arg path "$1" --arg method "$2" --arg status "$3" --arg skip "$4" \
	    '{skip: $skip, path: $path, method: $method, status: ($status | tonumber)}' >>"$REC"
}

RUN="t88-$$-$RANDOM"
key() { echo "$RUN-$1"; }
BIG=$(head -c 70000 /dev/zero | tr '\0' a)
LONGKEY=$(printf 'k%.0s' $(seq 256))
NOCONV=00000000-0000-4000-8000-000000000000
EXPIRED=(-H "Authorization: Bearer $(token alice --ttl -120)")
ORIGIN=(-H 'Origin: https://app.example' -H 'Access-Control-Request-Method: POST')

C='/conversations' CI='/conversations/{id}' CD='/conversations/{id}/delete'
CM='/conversations/{id}/members'
CR='/conversations/{id}/members/{participant_id}/remove'
CP='/conversations/{id}/members/{participant_id}'

# --- /conversations ----------------------------------------------------------
ex "create (JSON)" "$C" alice POST /conversations "${JSON[@]}" -d '{"name":"t88 main"}'
CID=$(jq -r .id <<<"$BODY")
ex "create (urlencoded, trailing slash)" "$C" alice POST /conversations/ -d 'name=t88 form'
ex "create (multipart)" "$C" alice POST /conversations -F 'name=t88 multipart'
ex "create with a key" "$C" alice POST /conversations "${JSON[@]}" \
    -H "Idempotency-Key: $(key create)" -d '{"name":"t88 keyed"}'
ex "create replayed" "$C" alice POST /conversations "${JSON[@]}" \
    -H "Idempotency-Key: $(key create)" -d '{"name":"t88 keyed"}'
header_has "the replay says Idempotent-Replayed" '^idempotent-replayed: true'
ex "create, key reused with another name" "$C" alice POST /conversations "${JSON[@]}" \
    -H "Idempotency-Key: $(key create)" -d '{"name":"t88 other"}'
ex "create without name" "$C" alice POST /conversations "${JSON[@]}" -d '{}'
ex "create, malformed JSON" "$C" alice POST /conversations "${JSON[@]}" -d '{"name":'
ex "create, key too long" "$C" alice POST /conversations "${JSON[@]}" \
    -H "Idempotency-Key: $LONGKEY" -d '{"name":"x"}'
ex "create without a token" "$C" - POST /conversations "${JSON[@]}" -d '{"name":"x"}'
ex "create, body over the limit" "$C" alice POST /conversations "${JSON[@]}" \
    -d "{\"name\":\"$BIG\"}"
ex "create, text/plain" "$C" alice POST /conversations -H 'Content-Type: text/plain' -d 'name=x'
ex "create path, PUT" "$C" alice PUT /conversations
ex "create path, preflight" "$C" - OPTIONS /conversations "${ORIGIN[@]}"

# --- /conversations/test -----------------------------------------------------
T=/conversations/test
ex "token check" "$T" alice GET "$T"
ex "token check, expired token" "$T" - GET "$T" "${EXPIRED[@]}"
ex "token check path, PUT" "$T" alice PUT "$T"
ex "token check path, preflight" "$T" - OPTIONS "$T" "${ORIGIN[@]}"

# --- /conversations/{id}/members (bob becomes a member) -----------------------
ex "add bob" "$CM" alice POST "$C/$CID/members" "${JSON[@]}" -d '{"participant_id":"bob"}'
ex "add carol (urlencoded)" "$CM" alice POST "$C/$CID/members" -d 'participant_id=carol'
ex "add dan (multipart)" "$CM" alice POST "$C/$CID/members" -F 'participant_id=dan'
ex "add bob again" "$CM" alice POST "$C/$CID/members" "${JSON[@]}" \
    -H "Idempotency-Key: $(key addbob)" -d '{"participant_id":"bob"}'
ex "add bob again, replayed refusal" "$CM" alice POST "$C/$CID/members" "${JSON[@]}" \
    -H "Idempotency-Key: $(key addbob)" -d '{"participant_id":"bob"}'
ex "add, key reused for another participant" "$CM" alice POST "$C/$CID/members" "${JSON[@]}" \
    -H "Idempotency-Key: $(key addbob)" -d '{"participant_id":"erin"}'
ex "add, participant_id not a string" "$CM" alice POST "$C/$CID/members" "${JSON[@]}" \
    -d '{"participant_id":7}'
ex "add without a token" "$CM" - POST "$C/$CID/members" "${JSON[@]}" -d '{"participant_id":"x"}'
ex "member bob adds" "$CM" bob POST "$C/$CID/members" "${JSON[@]}" -d '{"participant_id":"x"}'
ex "add to an unknown conversation" "$CM" alice POST "$C/$NOCONV/members" "${JSON[@]}" \
    -d '{"participant_id":"x"}'
ex "add, body over the limit" "$CM" alice POST "$C/$CID/members" "${JSON[@]}" \
    -d "{\"participant_id\":\"$BIG\"}"
ex "add, XML" "$CM" alice POST "$C/$CID/members" -H 'Content-Type: application/xml' -d '<a/>'
ex "members path, PUT" "$CM" alice PUT "$C/$CID/members"
ex "members path, preflight" "$CM" - OPTIONS "$C/$CID/members" "${ORIGIN[@]}"

# --- /conversations/{id} (POST: send) ------------------------------------------
ex "bob sends (JSON)" "$CI" bob POST "$C/$CID" "${JSON[@]}" -d '{"message_content":"hi ✓"}'
ex "alice sends (urlencoded, trailing slash)" "$CI" alice POST "$C/$CID/" -d 'message_content=form'
ex "alice sends (multipart)" "$CI" alice POST "$C/$CID" -F 'message_content=multipart'
ex "send with a key" "$CI" bob POST "$C/$CID" "${JSON[@]}" \
    -H "Idempotency-Key: $(key send)" -d '{"message_content":"once"}'
ex "send, key reused with another message" "$CI" bob POST "$C/$CID" "${JSON[@]}" \
    -H "Idempotency-Key: $(key send)" -d '{"message_content":"twice"}'
ex "send an empty message" "$CI" bob POST "$C/$CID" "${JSON[@]}" -d '{"message_content":""}'
ex "send without a token" "$CI" - POST "$C/$CID" "${JSON[@]}" -d '{"message_content":"x"}'
ex "non-member sends" "$CI" mallory POST "$C/$CID" "${JSON[@]}" -d '{"message_content":"x"}'
ex "send to a malformed id" "$CI" alice POST "$C/not-a-uuid" "${JSON[@]}" -d '{"message_content":"x"}'
ex "send to an unknown conversation" "$CI" alice POST "$C/$NOCONV" "${JSON[@]}" \
    -d '{"message_content":"x"}'
ex "send, body over the limit" "$CI" bob POST "$C/$CID" "${JSON[@]}" \
    -d "{\"message_content\":\"$BIG\"}"
ex "send, text/plain" "$CI" bob POST "$C/$CID" -H 'Content-Type: text/plain' -d 'x'
ex "conversation path, PUT" "$CI" alice PUT "$C/$CID"
ex "conversation path, preflight" "$CI" - OPTIONS "$C/$CID" "${ORIGIN[@]}"

# --- removing: POST .../remove and DELETE .../{participant_id} -------------------
# A POST needs a Content-Length (lighttpd answers 411 without one), so
# the bodiless POST .../remove sends an empty body, as clients do.
NOBODY=(-d '')
ex "remove carol (POST .../remove)" "$CR" alice POST "$C/$CID/members/carol/remove" "${NOBODY[@]}"
ex "remove dan (DELETE)" "$CP" alice DELETE "$C/$CID/members/dan" \
    -H "Idempotency-Key: $(key removedan)"
ex "remove, key reused for another participant" "$CP" alice DELETE "$C/$CID/members/bob" \
    -H "Idempotency-Key: $(key removedan)"
ex "remove (POST), key reused" "$CR" alice POST "$C/$CID/members/bob/remove" \
    -H "Idempotency-Key: $(key removedan)" "${NOBODY[@]}"
for v in "$CR POST /remove" "$CP DELETE "; do
	read -r tpl m suffix <<<"$v"
	if [ "$m" = POST ]; then B=("${NOBODY[@]}"); else B=(); fi
	ex "remove ($m), key too long" "$tpl" alice "$m" "$C/$CID/members/bob$suffix" \
	    -H "Idempotency-Key: $LONGKEY" "${B[@]}"
	ex "remove ($m) without a token" "$tpl" - "$m" "$C/$CID/members/bob$suffix" "${B[@]}"
	ex "member bob removes ($m)" "$tpl" bob "$m" "$C/$CID/members/alice$suffix" "${B[@]}"
	ex "remove ($m) from an unknown conversation" "$tpl" alice "$m" "$C/$NOCONV/members/bob$suffix" "${B[@]}"
	ex "remove ($m) a non-member" "$tpl" alice "$m" "$C/$CID/members/zoe$suffix" "${B[@]}"
	ex "remove ($m) the owner" "$tpl" alice "$m" "$C/$CID/members/alice$suffix" "${B[@]}"
	ex "remove path ($m), PUT" "$tpl" alice PUT "$C/$CID/members/bob$suffix"
	ex "remove path ($m), preflight" "$tpl" - OPTIONS "$C/$CID/members/bob$suffix" "${ORIGIN[@]}"
done

# --- deleting: DELETE /conversations/{id} and .../delete ------------------------
for v in "$CI " "$CD /delete"; do
	read -r tpl suffix <<<"$v"
	D1=$(create alice "t88 delete $suffix")
	D2=$(create alice "t88 delete 2 $suffix")
	[ -n "$suffix" ] && {
		ex "delete path ($tpl), PUT" "$tpl" alice PUT "$C/$D1$suffix"
		ex "delete path ($tpl), preflight" "$tpl" - OPTIONS "$C/$D1$suffix" "${ORIGIN[@]}"
	}
	ex "delete ($tpl), key too long" "$tpl" alice DELETE "$C/$D1$suffix" -H "Idempotency-Key: $LONGKEY"
	ex "delete ($tpl) without a token" "$tpl" - DELETE "$C/$D1$suffix"
	ex "member bob deletes ($tpl)" "$tpl" bob DELETE "$C/$CID$suffix"
	ex "delete ($tpl) with a key" "$tpl" alice DELETE "$C/$D1$suffix" \
	    -H "Idempotency-Key: $(key "delete$suffix")"
	ex "delete ($tpl), key reused on another conversation" "$tpl" alice DELETE "$C/$D2$suffix" \
	    -H "Idempotency-Key: $(key "delete$suffix")"
	ex "delete ($tpl) a deleted conversation" "$tpl" alice DELETE "$C/$D1$suffix"
done

# --- probes --------------------------------------------------------------------
for p in /healthz /readyz; do
	ex "GET $p" "$p" - GET "$p"
	ex "$p, PUT" "$p" - PUT "$p"
	ex "$p, preflight" "$p" - OPTIONS "$p" "${ORIGIN[@]}"
done
# /metrics comes with its own change; until the service serves it, its
# pairs are skipped, not failed.
req GET /metrics
if [ "$STATUS" = 404 ]; then
	for v in "get 200" "options 204" "other 405"; do
		skip /metrics ${v% *} ${v#* } "GET /metrics answers 404: not served by this build"
	done
else
	M=GET
	record "GET /metrics" /metrics
	ex "/metrics, PUT" /metrics - PUT /metrics
	ex "/metrics, preflight" /metrics - OPTIONS /metrics "${ORIGIN[@]}"
fi

# ex_commands BASE WHY SUB: every command once against BASE as SUB, each
# recorded as "COMMAND, WHY" (answers that come before any rule, so the
# conversation need not exist).
ex_commands() {
	local x=$1 why=$2 sub=$3
	ex_extra "$x" "create, $why" "$C" "$sub" POST /conversations "${JSON[@]}" -d '{"name":"x"}'
	ex_extra "$x" "send, $why" "$CI" "$sub" POST "$C/$NOCONV" "${JSON[@]}" -d '{"message_content":"x"}'
	ex_extra "$x" "add, $why" "$CM" "$sub" POST "$C/$NOCONV/members" "${JSON[@]}" -d '{"participant_id":"x"}'
	ex_extra "$x" "remove (POST), $why" "$CR" "$sub" POST "$C/$NOCONV/members/x/remove" "${NOBODY[@]}"
	ex_extra "$x" "remove (DELETE), $why" "$CP" "$sub" DELETE "$C/$NOCONV/members/x"
	ex_extra "$x" "delete, $why" "$CI" "$sub" DELETE "$C/$NOCONV"
	ex_extra "$x" "delete (.../delete), $why" "$CD" "$sub" DELETE "$C/$NOCONV/delete"
}

# --- 503: a stack of its own, its write lock held by another process ----------------
if ! extra_start "$STATE/t88" SQLITE_BUSY_TIMEOUT_MS=300; then
	not_ok "t88's own stack starts"
else
	X=$EXTRA_BASE
	coproc LOCK { exec python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
' "$STATE/t88/msgcmd.db"; }
	HELPER_PID=$LOCK_PID
	read -r -t 10 locked <&"${LOCK[0]}"
	is "another process holds the write lock of t88's stack" "$locked" locked
	ex_commands "$X" "lock held" alice
	ex_extra "$X" "GET /readyz, lock held" /readyz - GET /readyz
	echo >&"${LOCK[1]}"
	wait "$HELPER_PID"
	HELPER_PID=""
	extra_stop "$EXTRA_PID"
fi

# --- 429: a stack of its own with a limit of one command a minute ---------------
if ! extra_start "$STATE/t88-limit" RATE_LIMIT_PER_MINUTE=1 RATE_LIMIT_BURST=1; then
	not_ok "t88's rate-limited stack starts"
else
	X=$EXTRA_BASE
	ex_extra "$X" "create, within the limit" "$C" limited POST /conversations "${JSON[@]}" -d '{"name":"x"}'
	ex_commands "$X" "over the limit" limited
	extra_stop "$EXTRA_PID"
fi

echo "# $(wc -l <"$REC") exchanges recorded"
node "$OA/validate.mjs" "$SPEC" "$REC"
exit 0
