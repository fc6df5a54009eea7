#!/usr/bin/env bash
# t15-cgi.sh: the same binary as plain CGI (environment + stdin in, one
# response on stdout), sharing the database of the running stack, so the
# stack's publisher sends its event (checked by t90).
. "$(dirname "$0")/lib.sh"

# cgi METHOD URI [BODY [CONTENT-TYPE]]: sets STATUS, BODY and HEADERS.
cgi() {
	local out
	out=$(printf '%s' "${3:-}" | env -i PATH="$PATH" \
	    DATABASE_PATH="$DATABASE_PATH" KEYCLOAK_PUBLIC_KEY="$KEYCLOAK_PUBLIC_KEY" \
	    ENV_FILE=/dev/null GATEWAY_INTERFACE=CGI/1.1 \
	    REQUEST_METHOD="$1" REQUEST_URI="$2" CONTENT_LENGTH="${#3}" \
	    CONTENT_TYPE="${4:-}" HTTP_AUTHORIZATION="Bearer $(token carol)" \
	    "$ROOT/build/msgcmd" | tr -d '\r')
	HEADERS=$(sed '/^$/q' <<<"$out")
	BODY=$(sed '1,/^$/d' <<<"$out")
	STATUS=$(sed -nE '1s/^Status: ([0-9]+).*/\1/p' <<<"$out")
	if [ "$STATUS" = 201 ]; then printf '%s\n' "$BODY" >>"$ACCEPTED"; fi
}

cgi GET /healthz
status_is "CGI: GET /healthz" 200
cgi POST /conversations/ '{"name":"over CGI"}' application/json
status_is "CGI: create conversation" 201
body_is "CGI: the event names the token subject" .creator_id carol
header_has "CGI: Location header" '^location: /conversations/'
cgi POST /conversations/ '{}' application/json
status_is "CGI: validation error" 400
body_is "CGI: problem+json errors object" '.errors.name[0]' "This field is required."
cgi DELETE /conversations/
status_is "CGI: wrong method" 405
