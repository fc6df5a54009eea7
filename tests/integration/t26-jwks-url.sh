#!/usr/bin/env bash
# t26-jwks-url.sh: KEYCLOAK_JWKS_URL, black-box.  A small HTTP server of
# our own (python3) plays the realm's certs endpoint: each GET takes the
# next answer of a queue the test fills, and is written to an access log.
# As plain CGI: the start-up fetch, an unknown kid refetched and then
# accepted, a kid still unknown after the refetch (401), start-up refused
# on a bad answer, no server, a server that hangs (timeout), two key
# settings.  Then one FastCGI responder of our own: a failed refetch keeps
# the keys, refetches are rate-limited (the access log shows at most one
# per 10 s however many unknown kids come), SIGHUP fetches again.
. "$(dirname "$0")/lib.sh"

DIR=$(mktemp -d /tmp/msgcmd-t26.XXXXXX)
SERVER_PID= FCGI_PID=
cleanup() {
	local p
	for p in $FCGI_PID $SERVER_PID; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$DIR"
}
trap cleanup EXIT

# The interpreter itself: a python3 shim (pyenv) is slow and needs
# variables env -i drops.
PY=$(python3 -c 'import sys; print(sys.executable)')
TOKEN="$ROOT/build/msgcmd-token"

# Keys a and b are published under ka and kb; c never is.
for name in a b c; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$DIR/$name.pem" 2>/dev/null &&
	    openssl pkey -in "$DIR/$name.pem" -pubout -out "$DIR/$name.pub" ||
	    { not_ok "t26: openssl cannot make keys"; exit 1; }
done
"$TOKEN" --jwks "$DIR/a.pub" ka >"$DIR/a.jwks"
"$TOKEN" --jwks "$DIR/b.pub" kb >"$DIR/b.jwks"
jq -cs '{keys: map(.keys[])}' "$DIR/a.jwks" "$DIR/b.jwks" >"$DIR/ab.jwks"
echo 'not json' >"$DIR/junk.jwks"

# GET /certs answers the lowest-numbered file of queue/ (N.json: 200,
# N.503: 503) and removes it while another waits behind it, so the last
# answer repeats.  GET /hang answers after 30 s; GET /ping is not logged.
# The log stamps a request when it arrives.
mkdir "$DIR/queue"
cat >"$DIR/server.py" <<'EOF'
import http.server, os, sys, time

queue, log, portfile = sys.argv[1:4]

class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body):
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        arrived = time.time()
        if self.path in ('/ping', '/hang'):
            time.sleep(30 if self.path == '/hang' else 0)
            return self.answer(200, b'{}')
        names = sorted(os.listdir(queue), key=lambda n: int(n.split('.')[0]))
        path = os.path.join(queue, names[0])
        with open(path, 'rb') as f:
            body = f.read()
        if len(names) > 1:
            os.unlink(path)
        status = 503 if names[0].endswith('.503') else 200
        with open(log, 'a') as f:
            f.write('%.3f %s %d\n' % (arrived, self.path, status))
        self.answer(status, body)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
with open(portfile + '.tmp', 'w') as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + '.tmp', portfile)
server.serve_forever()
EOF
: >"$DIR/access.log"
"$PY" -S -E "$DIR/server.py" "$DIR/queue" "$DIR/access.log" "$DIR/port" \
    </dev/null >/dev/null 2>"$DIR/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do
	[ -s "$DIR/port" ] && curl -sf "http://127.0.0.1:$(cat "$DIR/port")/ping" >/dev/null && break
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.1
done
[ -s "$DIR/port" ] || { not_ok "t26: the JWKS server did not start"; exit 1; }
SERVER="http://127.0.0.1:$(cat "$DIR/port")"
URL="$SERVER/certs"

# serve ANSWER...: the queue from now on; each ANSWER is a JWKS file of
# $DIR (a, ab, junk) or 503.
serve() {
	local i=0 a
	rm -f "$DIR/queue"/*
	for a in "$@"; do
		i=$((i + 1))
		if [ "$a" = 503 ]; then echo '{"error":"unavailable"}' >"$DIR/queue/$i.503"
		else cp "$DIR/$a.jwks" "$DIR/queue/$i.json"; fi
	done
}

# fetches: how many GET /certs the server has answered so far.
fetches() { wc -l <"$DIR/access.log"; }

# tok KEY [msgcmd-token options...]: a token signed with key KEY.
tok() { "$TOKEN" --key "$DIR/$1.pem" --sub carol "${@:2}"; }

BASE_ENV=(PATH="$PATH" ENV_FILE=/dev/null DATABASE_PATH="$DIR/msgcmd.db"
    PUBLISHER=off "${SAN_ENV[@]}")

# cgi TOKEN [VAR=VALUE...]: GET /conversations/test as plain CGI with
# KEYCLOAK_JWKS_URL=$URL unless a VAR=VALUE says otherwise; sets STATUS,
# HEADERS, RC and ERR (the responder's log).
cgi() {
	local token=$1 out
	shift
	env -i "${BASE_ENV[@]}" KEYCLOAK_JWKS_URL="$URL" "$@" \
	    GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
	    REQUEST_URI=/conversations/test HTTP_AUTHORIZATION="Bearer $token" \
	    "$BIN/msgcmd" </dev/null >"$DIR/cgi.out" 2>"$DIR/cgi.err"
	RC=$?
	out=$(tr -d '\r' <"$DIR/cgi.out")
	HEADERS=$(sed '/^$/q' <<<"$out")
	STATUS=$(sed -nE '1s/^Status: ([0-9]+).*/\1/p' <<<"$out")
	ERR=$(cat "$DIR/cgi.err")
}

# has DESC TEXT: the last responder log contains TEXT.
has() {
	if grep -qF -- "$2" <<<"$ERR"; then ok "$1"; else
		not_ok "$1: no '$2' in: ${ERR:0:400}"; fi
}

serve a
cgi "$(tok a --kid ka)"
status_is "CGI: start-up fetch, kid ka accepted" 200
is "CGI: one fetch" "$(fetches)" 1

serve a ab
cgi "$(tok b --kid kb)"
status_is "CGI: kid kb unknown at start-up, refetched, accepted" 200
is "CGI: start-up fetch and one refetch" "$(fetches)" 3
has "CGI: the refetch is logged" "keys refetched (unknown kid) from $URL: 2 key(s)"

serve ab
cgi "$(tok c --kid kz)"
status_is "CGI: kid kz unknown after the refetch" 401
header_has "CGI: WWW-Authenticate names the unknown kid" \
    "^www-authenticate: Bearer error=\"invalid_token\", error_description=\"The token's key id is unknown\""
is "CGI: start-up fetch and one refetch again" "$(fetches)" 5

serve a 503
cgi "$(tok b --kid kb)"
is "CGI: refetch answered 503: 401, responder fine" "$STATUS/$RC" 401/0
has "CGI: the failed refetch is logged" "keys not refetched (unknown kid), the previous ones stay in use: KEYCLOAK_JWKS_URL: $URL: HTTP status 503"

serve 503
cgi "$(tok a --kid ka)"
is "start-up: 503 refused" "$RC/$STATUS" 1/
has "start-up: 503 named" "KEYCLOAK_JWKS_URL: $URL: HTTP status 503"
serve junk
cgi "$(tok a --kid ka)"
is "start-up: not JSON refused" "$RC" 1
has "start-up: not JSON named" "KEYCLOAK_JWKS_URL: $URL: not a JSON object"
cgi "$(tok a --kid ka)" KEYCLOAK_JWKS_URL="http://127.0.0.1:$(free_port)/certs"
is "start-up: nothing listening refused" "$RC" 1
has "start-up: nothing listening named" "Couldn't connect to server"
cgi "$(tok a --kid ka)" KEYCLOAK_JWKS_URL="file://$DIR/a.jwks"
is "start-up: a file:// URL refused" "$RC" 1
has "start-up: only http and https" "not supported or disabled in libcurl"
cgi "$(tok a --kid ka)" KEYCLOAK_JWKS_FILE="$DIR/a.jwks"
is "start-up: two key settings refused" "$RC" 1
has "start-up: both named" "KEYCLOAK_JWKS_FILE, KEYCLOAK_JWKS_URL: more than one is set"
TA=$(tok a --kid ka)	# first: the time measured is the start-up's alone
start=$(date +%s%N)
cgi "$TA" KEYCLOAK_JWKS_URL="$SERVER/hang"
ms=$((($(date +%s%N) - start) / 1000000))
is "start-up: a server that hangs refused" "$RC" 1
has "start-up: the timeout named" "Operation timed out after"
# Far below the 30 s the server takes, whatever the machine's speed.
if [ "$ms" -ge 4500 ] && [ "$ms" -lt 15000 ]; then ok "start-up: gave up after ${ms} ms (5 s total timeout)"
else not_ok "start-up: gave up after ${ms} ms, want about 5000"; fi

# fcgi URI TOKEN: one request to our responder; sets STATUS.  logged
# TEXT: how many lines of its log contain TEXT.
fcgi() {
	STATUS=$("$PY" -S -E "$ROOT/tests/fcgi.py" request "$DIR/fcgi.sock" "$1" "$2" \
	    2>/dev/null | tr -d '\r' | sed -nE '1s/^Status: ([0-9]+).*/\1/p')
}
logged() { grep -cF -- "$1" "$DIR/fcgi.log"; }

serve a
: >"$DIR/access.log"
env -i "${BASE_ENV[@]}" KEYCLOAK_JWKS_URL="$URL" \
    "$PY" -S -E "$ROOT/tests/fcgi.py" spawn "$DIR/fcgi.sock" "$BIN/msgcmd" \
    </dev/null >/dev/null 2>"$DIR/fcgi.log" &
FCGI_PID=$!
for _ in $(seq 100); do
	fcgi /healthz ""
	[ "$STATUS" = 200 ] && break
	kill -0 "$FCGI_PID" 2>/dev/null || break
	sleep 0.1
done
status_is "FastCGI: responder up" 200
is "FastCGI: one fetch at start-up" "$(fetches)" 1
TA=$(tok a --kid ka)
TB=$(tok b --kid kb)
fcgi /conversations/test "$TA"
status_is "FastCGI: kid ka" 200

# Tokens first, so that the burst below is quick.
MADE_UP=()
for i in $(seq 20); do MADE_UP+=("$(tok c --kid "made-up-$i")"); done
now_ms() { echo $(($(date +%s%N) / 1000000)); }

serve 503 ab
T2=$(now_ms)
fcgi /conversations/test "$TB"
status_is "FastCGI: kid kb, the refetch answered 503" 401
is "FastCGI: that refetch reached the server" "$(fetches)" 2
is "FastCGI: the failed refetch is logged" "$(logged 'keys not refetched (unknown kid)')" 1
fcgi /conversations/test "$TB"
status_is "FastCGI: kid kb again at once: 401" 401
is "FastCGI: rate limit: no second fetch at once" "$(fetches)" 2
fcgi /conversations/test "$TA"
status_is "FastCGI: the previous keys stay in use" 200

refused=0
for t in "${MADE_UP[@]}"; do
	fcgi /conversations/test "$t"
	[ "$STATUS" = 401 ] && refused=$((refused + 1))
done
ms=$(($(now_ms) - T2))
n=$(($(fetches) - 2))
is "FastCGI: 20 made-up kids: all 401" "$refused" 20
# However slow the machine, at most one fetch per 10 s since T2.
if [ "$n" -le $((ms / 10000)) ]; then ok "FastCGI: rate limit: 20 made-up kids in $ms ms cost $n fetch(es)"
else not_ok "FastCGI: rate limit: 20 made-up kids in $ms ms cost $n fetches"; fi

# The pause is 10 s: poll (15 s at most) until kb is accepted.
for _ in $(seq 75); do
	fcgi /conversations/test "$TB"
	[ "$STATUS" = 200 ] && break
	sleep 0.2
done
status_is "FastCGI: kid kb accepted after the pause, without a restart" 200
gap=$(awk 'NR > 2 && (min == "" || $1 - t < min) {min = $1 - t}
    NR > 1 {t = $1} END {printf "%d", min * 1000}' "$DIR/access.log")
# The pause is counted from the start of a fetch, and the server stamps a
# fetch when it arrives: a late first arrival may shorten the gap it sees
# a little.  Without the pause, refetches would come at once (200 ms).
if [ "${gap:-0}" -ge 9500 ]; then ok "FastCGI: refetches at least ${gap} ms apart (10 s)"
else not_ok "FastCGI: two refetches ${gap:-?} ms apart, want at least 9500 (a 10 s pause)"; fi
is "FastCGI: the refetch is logged" "$(logged 'keys refetched (unknown kid)' | awk '{print ($1 >= 1)}')" 1

before=$(fetches)
kill -HUP "$FCGI_PID"
for _ in $(seq 50); do
	fcgi /conversations/test "$TA"
	[ "$(fetches)" -gt "$before" ] && break
	sleep 0.1
done
is "FastCGI: SIGHUP fetches the set again" "$(fetches)" $((before + 1))
status_is "FastCGI: still serving after SIGHUP" 200
if kill -0 "$FCGI_PID" 2>/dev/null; then ok "FastCGI: responder alive"; else not_ok "FastCGI: responder died"; fi
