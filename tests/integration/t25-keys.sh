#!/usr/bin/env bash
# t25-keys.sh: key sources, black-box.  A JWKS file made by msgcmd-token
# --jwks: the token's kid picks the key (CGI).  Then one FastCGI responder
# of our own, driven by a small FastCGI client: the JWKS file changes on
# disk and is picked up without a restart; SIGHUP reloads and does not
# stop the accept loop; a broken file keeps the previous keys.  Needs only
# build/, openssl, jq and python3.
. "$(dirname "$0")/lib.sh"

DIR=$(mktemp -d /tmp/msgcmd-t25.XXXXXX)
FCGI_PID=
cleanup() {
	if [ -n "$FCGI_PID" ]; then kill -TERM "$FCGI_PID" 2>/dev/null; wait "$FCGI_PID" 2>/dev/null; fi
	rm -rf "$DIR"
}
trap cleanup EXIT

for name in a b; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$DIR/$name.pem" 2>/dev/null &&
	    openssl pkey -in "$DIR/$name.pem" -pubout -out "$DIR/$name.pub" ||
	    { not_ok "t25: openssl cannot make keys"; exit 1; }
done
TOKEN="$ROOT/build/msgcmd-token"
"$TOKEN" --jwks "$DIR/a.pub" ka >"$DIR/a.jwks"
"$TOKEN" --jwks "$DIR/b.pub" kb >"$DIR/b.jwks"
jq -cs '{keys: map(.keys[])}' "$DIR/a.jwks" "$DIR/b.jwks" >"$DIR/ab.jwks"

is "token tool: JWKS with kid, use and alg" \
    "$(jq -c '.keys[0] | [.kty, .kid, .use, .alg, (.n | length), .e]' "$DIR/a.jwks")" \
    '["RSA","ka","sig","RS256",342,"AQAB"]'

# tok KEY [msgcmd-token options...]: a token signed with key KEY (a, b).
tok() {
	local key=$1
	shift
	"$TOKEN" --key "$DIR/$key.pem" --sub carol "$@"
}

# The settings every responder here gets; callers add the key source.
BASE_ENV=(PATH="$PATH" ENV_FILE=/dev/null DATABASE_PATH="$DIR/msgcmd.db"
    PUBLISHER=off "${SAN_ENV[@]}")

# cgi TOKEN [VAR=VALUE...]: GET /conversations/test as plain CGI with
# KEYCLOAK_JWKS_FILE=ab.jwks unless a VAR=VALUE says otherwise; sets
# STATUS, HEADERS, BODY and RC (the exit status).
cgi() {
	local token=$1 out
	shift
	env -i "${BASE_ENV[@]}" KEYCLOAK_JWKS_FILE="$DIR/ab.jwks" "$@" \
	    GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
	    REQUEST_URI=/conversations/test HTTP_AUTHORIZATION="Bearer $token" \
	    "$BIN/msgcmd" </dev/null >"$DIR/cgi.out" 2>"$DIR/cgi.err"
	RC=$?
	out=$(tr -d '\r' <"$DIR/cgi.out")
	HEADERS=$(sed '/^$/q' <<<"$out")
	BODY=$(sed '1,/^$/d' <<<"$out")
	STATUS=$(sed -nE '1s/^Status: ([0-9]+).*/\1/p' <<<"$out")
}

cgi "$(tok a --kid ka)"
status_is "JWKS: kid ka, signed by a" 200
cgi "$(tok b --kid kb)"
status_is "JWKS: kid kb, signed by b" 200
cgi "$(tok b --kid ka)"
status_is "JWKS: kid ka, signed by b" 401
cgi "$(tok a --kid kz)"
status_is "JWKS: unknown kid" 401
header_has "unknown kid: WWW-Authenticate names it" \
    "^www-authenticate: Bearer error=\"invalid_token\", error_description=\"The token's key id is unknown\""
cgi "$(tok a)"
status_is "JWKS of two keys: token without kid" 401
cgi "$(tok a)" KEYCLOAK_JWKS_FILE="$DIR/a.jwks"
status_is "JWKS of one key: token without kid" 200
cgi "$(tok a --kid other)" KEYCLOAK_JWKS_FILE= \
    KEYCLOAK_PUBLIC_KEY="$("$TOKEN" --print-public-body "$DIR/a.pub")"
status_is "KEYCLOAK_PUBLIC_KEY: kid ignored" 200
cgi "$(tok a)" KEYCLOAK_PUBLIC_KEY_FILE="$DIR/a.pub"
is "two key sources: start-up refused" "$RC/$STATUS" "1/"
is "two key sources: the error names them" "$(grep -c 'KEYCLOAK_PUBLIC_KEY_FILE, KEYCLOAK_JWKS_FILE: more than one is set' "$DIR/cgi.err")" 2
printf '{"keys":[{"kty":"RSA","kid":"x","n":"a+b","e":"AQAB"}]}' >"$DIR/bad.jwks"
cgi "$(tok a)" KEYCLOAK_JWKS_FILE="$DIR/bad.jwks"
is "broken JWKS: start-up refused" "$RC" 1
is "broken JWKS: the error names the setting and key" \
    "$(grep -c "KEYCLOAK_JWKS_FILE: $DIR/bad.jwks: keys\[0\]: n and e must be base64url" "$DIR/cgi.err")" 2

# The interpreter itself: a python3 shim (pyenv) is slow and needs
# variables env -i drops.
PY=$(python3 -c 'import sys; print(sys.executable)')

# fcgi URI TOKEN: one request to our responder; sets STATUS and HEADERS.
fcgi() {
	local out
	out=$("$PY" -S -E "$ROOT/tests/fcgi.py" request "$DIR/fcgi.sock" "$1" "$2" 2>/dev/null | tr -d '\r')
	HEADERS=$(sed '/^$/q' <<<"$out")
	STATUS=$(sed -nE '1s/^Status: ([0-9]+).*/\1/p' <<<"$out")
}

# fcgi_until WANT URI TOKEN: repeats the request for up to 5 s until the
# status is WANT (a file change is seen within a second).
fcgi_until() {
	local i
	for i in $(seq 50); do
		fcgi "$2" "$3"
		[ "$STATUS" = "$1" ] && return 0
		sleep 0.1
	done
}

# logged TEXT: how many responder log lines contain TEXT.
logged() { grep -cF "$1" "$DIR/fcgi.log"; }

cp "$DIR/a.jwks" "$DIR/live.jwks"
env -i "${BASE_ENV[@]}" KEYCLOAK_JWKS_FILE="$DIR/live.jwks" \
    "$PY" -S -E "$ROOT/tests/fcgi.py" spawn "$DIR/fcgi.sock" "$BIN/msgcmd" \
    </dev/null >/dev/null 2>"$DIR/fcgi.log" &
FCGI_PID=$!
fcgi_until 200 /healthz ""
status_is "FastCGI: responder up" 200
TA=$(tok a --kid ka)
TB=$(tok b --kid kb)
fcgi /conversations/test "$TA"
status_is "FastCGI: kid ka" 200
fcgi /conversations/test "$TB"
status_is "FastCGI: kid kb not in the file yet" 401

cp "$DIR/ab.jwks" "$DIR/live.tmp" && mv "$DIR/live.tmp" "$DIR/live.jwks"
fcgi_until 200 /conversations/test "$TB"
status_is "FastCGI: file replaced, kid kb accepted without restart" 200
is "FastCGI: the change is logged" "$(logged 'keys reloaded (key file changed)')" 1

cp "$DIR/a.jwks" "$DIR/live.jwks"
kill -HUP "$FCGI_PID"
sleep 0.3
fcgi /conversations/test "$TB"
status_is "FastCGI: after SIGHUP, kid kb gone" 401
is "FastCGI: SIGHUP reload logged" "$(logged 'keys reloaded (on request)')" 1
fcgi /conversations/test "$TA"
status_is "FastCGI: still serving after SIGHUP" 200

cp "$DIR/bad.jwks" "$DIR/live.jwks"
kill -HUP "$FCGI_PID"
sleep 0.3
fcgi /conversations/test "$TA"
status_is "FastCGI: broken file, previous keys kept" 200
is "FastCGI: failed reload logged once" "$(logged 'keys not reloaded')" 1
if kill -0 "$FCGI_PID" 2>/dev/null; then ok "FastCGI: responder alive"; else not_ok "FastCGI: responder died"; fi
