#!/usr/bin/env bash
# t22-input.sh: hostile input beyond t20's: header sizes, many fields,
# control characters, Content-Length disagreeing with the body.  Where
# msgcmd answers, the 4xx of SPEC section 2 as problem+json naming the
# problem; where lighttpd answers first, a 4xx of its own; either way
# nothing is stored: the outbox's sequence (AUTOINCREMENT, never reused,
# unaffected by purging published rows) does not move.
. "$(dirname "$0")/lib.sh"

seq_now() {
	sqlite3 -cmd '.timeout 5000' "$DATABASE_PATH" \
	    "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)" 2>/dev/null
}

# refused DESC WANT-STATUS [PROBLEM-SLUG]: the last answer has that
# status (and, when a slug is given, is msgcmd's problem+json of that
# type), and the outbox sequence is where it was before the request.
refused() {
	status_is "$1" "$2"
	if [ -n "${3:-}" ]; then
		header_has "$1: problem+json" '^content-type: application/problem\+json'
		body_is "$1: names the problem" .type "urn:msgcmd:problem:$3"
	fi
	is "$1: nothing stored" "$(seq_now)" "$BEFORE"
}

BEFORE=$(seq_now)
TOK=$(token alice)
AUTH=(-H "Authorization: Bearer $TOK")

# --- header sizes ------------------------------------------------------------
# lighttpd.conf limits the request head to 16 KiB (431 from lighttpd);
# below that, msgcmd refuses tokens over 8 KiB itself.
A10K=$(head -c 10000 /dev/zero | tr '\0' A)
A20K=$(head -c 20000 /dev/zero | tr '\0' A)
req POST /conversations/ "${JSON[@]}" -H "Authorization: Bearer $A10K" -d '{"name":"t22"}'
refused "a 10 KB Authorization header" 401 unauthorized
header_has "a 10 KB Authorization header: WWW-Authenticate" '^www-authenticate: Bearer error="invalid_token"'
req POST /conversations/ "${JSON[@]}" -H "Authorization: Bearer $A20K" -d '{"name":"t22"}'
refused "a 20 KB Authorization header (lighttpd)" 431
as alice POST /conversations/ "${JSON[@]}" -H "X-Filler: $A20K" -d '{"name":"t22"}'
refused "a 20 KB other header (lighttpd)" 431
as alice POST /conversations/ "${JSON[@]}" -H "Idempotency-Key: ${A10K:0:8000}" -d '{"name":"t22"}'
refused "an 8 KB Idempotency-Key" 400 bad-idempotency-key

# --- number of fields ----------------------------------------------------------
# No separate count: MAX_BODY_BYTES bounds it.  Past it, 413; within it,
# thousands of unknown fields are ignored, in bounded time.
keys() { seq "$1" | sed 's/.*/"k&":1/' | paste -sd, -; }
printf '{%s,"name":"t22"}' "$(keys 12000)" >"$STATE/t22-keys.json"
as alice POST /conversations/ "${JSON[@]}" --data-binary @"$STATE/t22-keys.json"
refused "a JSON object of 12000 keys (over 64 KiB)" 413 body-too-large
seq 12000 | sed 's/.*/f&=1/' | paste -sd'&' - | sed 's/$/\&name=t22/' >"$STATE/t22-form"
as alice POST /conversations/ --data-binary @"$STATE/t22-form"
refused "a form of 12000 fields (over 64 KiB)" 413 body-too-large
printf '{%s,"name":"t22 many keys"}' "$(keys 5000)" >"$STATE/t22-keys.json"
TOK=$(token alice)	# first: the time measured is the request's alone
T0=$(date +%s%N)
req POST /conversations/ -H "Authorization: Bearer $TOK" "${JSON[@]}" \
    --data-binary @"$STATE/t22-keys.json"
MS=$((($(date +%s%N) - T0) / 1000000))
status_is "a JSON object of 5000 unknown keys and a name (under 64 KiB) is one command" 201
if [ "$MS" -lt 3000 ]; then ok "5000 keys answered in $MS ms"; else not_ok "5000 keys took $MS ms"; fi
printf '{%s,"name":"a","name":"b"}' "$(keys 100)" >"$STATE/t22-keys.json"
BEFORE=$(seq_now)
as alice POST /conversations/ "${JSON[@]}" --data-binary @"$STATE/t22-keys.json"
refused "many keys and the known one twice" 400 malformed-body

as alice POST /conversations/ "${JSON[@]}" -d '{"name":1e999999}'
refused "a huge number where a string belongs" 400 validation-failed
as alice POST /conversations/ "${JSON[@]}" -d '{"name":"t22","n":1e999999}'
status_is "a huge number in an unknown field is ignored" 201
BEFORE=$(seq_now)

# --- control characters -----------------------------------------------------------
as alice POST /conversations/ "${JSON[@]}" -d '{"name":"a\u0000b"}'
refused "escaped NUL (\\u0000) in a JSON value" 400 validation-failed
body_is "escaped NUL: the field's message" '.errors.name[0]' "This field may not contain NUL characters."
printf '{"name":"a\0b"}' >"$STATE/t22-nul.json"
as alice POST /conversations/ "${JSON[@]}" --data-binary @"$STATE/t22-nul.json"
refused "a raw NUL byte in a JSON value" 400 malformed-body
as alice POST /conversations/ "${JSON[@]}" -d '{"name\u0000":"x"}'
refused "escaped NUL in a JSON key (not the field name)" 400 validation-failed
as alice POST /conversations/ -d 'name=a%00b'
refused "%00 in a form value" 400 validation-failed
as alice POST /conversations/ -d 'na%00me=ab'
refused "%00 in a form field name" 400 validation-failed
as alice POST /conversations/ -F "name=$(printf 'a\001b')" -F 'x=1'
refused "a control character (0x01) in a multipart name" 400 validation-failed
body_is "0x01 in a name: the field's message" '.errors.name[0]' "This field may not contain control characters."
as alice POST /conversations/ "${JSON[@]}" -d '{"name":"tab\there"}'
refused "an escaped tab in a name" 400 validation-failed
printf '{"name":"a\001b"}' >"$STATE/t22-ctl.json"
as alice POST /conversations/ "${JSON[@]}" --data-binary @"$STATE/t22-ctl.json"
refused "a raw control byte inside a JSON string" 400 malformed-body
body_is "raw control byte: the detail says so" .detail "The JSON body has an unescaped control character in a string."
as alice POST /conversations/ "${JSON[@]}" -d '{"name":"t22"}'
CID=$(jq -r .id <<<"$BODY")
BEFORE=$(seq_now)
printf -- '--B\r\nContent-Disposition: form-data; name="message_content"\r\n\r\na\0b\r\n--B--\r\n' >"$STATE/t22-mp"
as alice POST "/conversations/$CID" -H 'Content-Type: multipart/form-data; boundary=B' \
    --data-binary @"$STATE/t22-mp"
refused "a raw NUL in a multipart value" 400 validation-failed
# A message keeps its tabs and line breaks (escaped in the event, so the
# JSON stays valid for every consumer); other control characters, 400.
as alice POST "/conversations/$CID" "${JSON[@]}" -d '{"message_content":"a\u0001b\u007fc"}'
refused "\\u0001 and \\u007f in a message" 400 validation-failed
body_is "control characters in a message: the field's message" '.errors.message_content[0]' \
    "This field may not contain control characters."
as alice POST "/conversations/$CID" "${JSON[@]}" -d '{"message_content":"line one\nline two\r\n\tindented"}'
status_is "a message with tabs and line breaks is accepted" 201
is "and they come back escaped in the event" "$(grep -o '"message_content":"[^"]*"' <<<"$BODY")" \
    '"message_content":"line one\nline two\r\n\tindented"'
BEFORE=$(seq_now)
as alice POST /conversations/ "${JSON[@]}" -H "Idempotency-Key: $(printf 'k\001')" -d '{"name":"t22"}'
refused "a control byte in a header value (lighttpd)" 400

# --- Content-Length disagreeing with the body --------------------------------------
# raw CL BODY: sends a POST /conversations/ with that Content-Length and
# body, closes its sending side, and sets STATUS, HEADERS, BODY from
# whatever came back before the connection closed ("none": nothing).
raw() {
	local out
	out=$(python3 - "$PORT" "$1" "$2" "$TOK" <<'EOF'
import socket, sys
port, cl, body, tok = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode(), sys.argv[4]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall((f"POST /conversations/ HTTP/1.1\r\nHost: t22\r\n"
           f"Authorization: Bearer {tok}\r\nContent-Type: application/json\r\n"
           f"Content-Length: {cl}\r\nConnection: close\r\n\r\n").encode() + body)
s.shutdown(socket.SHUT_WR)
out = b""
while chunk := s.recv(65536):
    out += chunk
sys.stdout.write(out.decode("utf-8", "replace"))
EOF
)
	out=$(tr -d '\r' <<<"$out")
	STATUS=$(sed -nE '1s/^HTTP\/1\.1 ([0-9]+).*/\1/p' <<<"$out")
	STATUS=${STATUS:-none}
	HEADERS=$(sed '/^$/q' <<<"$out")
	BODY=$(sed '1,/^$/d' <<<"$out")
}
raw 10 '{"name":"t22 content-length"}'
refused "Content-Length shorter than the body: the cut body is malformed" 400 malformed-body
raw 60 '{"name":"t22 content-length"}'
status_is "Content-Length longer than the body: lighttpd never passes it on, no answer" none
is "Content-Length longer than the body: nothing stored" "$(seq_now)" "$BEFORE"
raw -5 '{"name":"t22 content-length"}'
refused "a negative Content-Length (lighttpd)" 400
raw 1x '{"name":"t22 content-length"}'
refused "a Content-Length that is not a number (lighttpd)" 400
