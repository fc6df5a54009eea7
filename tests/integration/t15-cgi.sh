#!/usr/bin/env bash
# t15-cgi.sh: the same binary as plain CGI (environment + stdin in, one
# response on stdout), sharing the database of the running stack, so the
# stack's publisher sends its event (checked by t90).
. "$(dirname "$0")/lib.sh"

# cgi METHOD URI [BODY [CONTENT-TYPE]]: sets STATUS, BODY and HEADERS.
# CONTENT_LENGTH is the body's length unless CL says otherwise.
cgi() {
	local out
	out=$(printf '%s' "${3:-}" | env -i PATH="$PATH" "${SAN_ENV[@]}" \
	    DATABASE_PATH="$DATABASE_PATH" KEYCLOAK_PUBLIC_KEY="$KEYCLOAK_PUBLIC_KEY" \
	    ENV_FILE=/dev/null GATEWAY_INTERFACE=CGI/1.1 \
	    ${SQLITE_BUSY_TIMEOUT_MS:+SQLITE_BUSY_TIMEOUT_MS=$SQLITE_BUSY_TIMEOUT_MS} \
	    REQUEST_METHOD="$1" REQUEST_URI="$2" CONTENT_LENGTH="${CL-${#3}}" \
	    CONTENT_TYPE="${4:-}" HTTP_AUTHORIZATION="Bearer $(token carol)" \
	    "$BIN/msgcmd" | tr -d '\r')
	HEADERS=$(sed '/^$/q' <<<"$out")
	BODY=$(sed '1,/^$/d' <<<"$out")
	STATUS=$(sed -nE '1s/^Status: ([0-9]+).*/\1/p' <<<"$out")
	if [ "$STATUS" = 201 ]; then printf '%s\n' "$BODY" >>"$ACCEPTED"; fi
}

cgi GET /healthz
status_is "CGI: GET /healthz" 200

# A store another process holds past the busy timeout when the CGI
# process opens it: the 503 with Retry-After a responder gives, not a
# program that exits without an answer (which a web server turns into
# a 500).
hold=$(mktemp -u "$STATE/hold.XXXXXX")
mkfifo "$hold"
sqlite3 -cmd '.timeout 5000' "$DATABASE_PATH" <"$hold" >/dev/null 2>&1 &
holder=$!
exec 7>"$hold"
echo 'BEGIN IMMEDIATE; SELECT 1;' >&7
# Wait until the lock is taken (a write that cannot get it fails fast).
for _ in $(seq 100); do
	sqlite3 "$DATABASE_PATH" 'BEGIN IMMEDIATE; ROLLBACK;' 2>/dev/null || break
	sleep 0.05
done
SQLITE_BUSY_TIMEOUT_MS=200 cgi POST /conversations/ '{"name":"busy"}' application/json
status_is "CGI: a store locked past the busy timeout at start-up" 503
header_has "CGI: with Retry-After" '^retry-after: 1'
body_is "CGI: problem type" .type urn:msgcmd:problem:store-unavailable
echo 'COMMIT;' >&7
exec 7>&-
wait "$holder"
rm -f "$hold"
cgi POST /conversations/ '{"name":"over CGI"}' application/json
status_is "CGI: create conversation" 201
body_is "CGI: the event names the token subject" .creator_id carol
header_has "CGI: Location header" '^location: /conversations/'
cgi POST /conversations/ '{}' application/json
status_is "CGI: validation error" 400
body_is "CGI: problem+json errors object" '.errors.name[0]' "This field is required."
cgi DELETE /conversations/
status_is "CGI: wrong method" 405

# A CGI caller, unlike a web server, may give a Content-Length that the
# body does not have: 400, nothing stored.
seq_now() {
	sqlite3 -cmd '.timeout 5000' "$DATABASE_PATH" \
	    "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)"
}
before=$(seq_now)
CL=100 cgi POST /conversations/ '{"name":"short"}' application/json
status_is "CGI: a body shorter than CONTENT_LENGTH" 400
body_is "CGI: the detail names the length" .detail "The body does not match its Content-Length."
CL=12abc cgi POST /conversations/ '{"name":"short"}' application/json
status_is "CGI: a CONTENT_LENGTH that is not a number" 400
is "CGI: nothing stored for either" "$(seq_now)" "$before"
