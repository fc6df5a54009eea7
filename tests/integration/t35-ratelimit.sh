#!/usr/bin/env bash
# t35-ratelimit.sh: the per-subject rate limit holds across processes.
# First as plain CGI, where every request is a process of its own: of
# rapid commands by one subject exactly RATE_LIMIT_BURST get 201, the next
# gets 429 with Retry-After and a problem+json naming the limit, another
# subject is unaffected, the token check and probes are not limited,
# nothing refused is stored, and once Retry-After has passed a command is
# admitted again.  Then behind a lighttpd of its own with four FastCGI
# responders: concurrent commands get exactly the burst between them, and
# a CGI process on the same database is refused too.  The runner's stack
# keeps the limit off.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/extra-stack.sh"

DIR=$(mktemp -d /tmp/msgcmd-t35.XXXXXX)
cleanup() { extra_stop_all; rm -rf "$DIR"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
PER_MINUTE=12	# one every 5 s: room for slow (ASan) processes
BURST=3

# cgi DB SUB METHOD URI [BODY [HEADER-VAR=VALUE...]]: one request as
# plain CGI with the limit on, on database DB; sets STATUS, HEADERS, BODY.
cgi() {
	local db=$1 sub=$2 method=$3 uri=$4 body=${5:-} out
	shift $(($# < 5 ? $# : 5))
	out=$(printf '%s' "$body" | env -i PATH="$PATH" ENV_FILE=/dev/null "${SAN_ENV[@]}" \
	    DATABASE_PATH="$db" KEYCLOAK_PUBLIC_KEY="$KEYCLOAK_PUBLIC_KEY" \
	    RATE_LIMIT_PER_MINUTE="$PER_MINUTE" RATE_LIMIT_BURST="$BURST" \
	    GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD="$method" \
	    REQUEST_URI="$uri" CONTENT_LENGTH="${#body}" \
	    CONTENT_TYPE=application/json "$@" \
	    HTTP_AUTHORIZATION="Bearer $(token "$sub")" \
	    "$BIN/msgcmd" 2>>"$DIR/cgi.err" | tr -d '\r')
	HEADERS=$(sed '/^$/q' <<<"$out")
	BODY=$(sed '1,/^$/d' <<<"$out")
	STATUS=$(sed -nE '1s/^Status: ([0-9]+).*/\1/p' <<<"$out")
}

# rows DB SQL: one number from the database.
rows() { sqlite3 -cmd '.timeout 5000' "$1" "$2" 2>/dev/null; }

# retry_after: the Retry-After of the last answer (empty when none).
retry_after() { sed -nE 's/^retry-after: *([0-9]+)$/\1/Ip' <<<"$HEADERS"; }

# --- plain CGI: one process per request ---------------------------------------
DB="$DIR/cgi.db"
ok201=0
for i in $(seq "$BURST"); do
	cgi "$DB" carol POST /conversations/ "{\"name\":\"t35 cgi $i\"}"
	[ "$STATUS" = 201 ] && ok201=$((ok201 + 1))
done
is "CGI: $BURST rapid commands by one subject, each a new process, all 201" "$ok201" "$BURST"
cgi "$DB" carol POST /conversations/ '{"name":"t35 refused"}' HTTP_IDEMPOTENCY_KEY=t35-refused
status_is "CGI: command $((BURST + 1)) in a row is refused" 429
header_has "CGI: 429 is problem+json" '^content-type: application/problem\+json'
body_is "CGI: the problem type" .type urn:msgcmd:problem:rate-limited
body_is "CGI: the detail names the limit" \
    '.detail | test("limit is 12 commands a minute per subject, 3 at once")' true
WAIT=$(retry_after)
case "$WAIT" in
[1-5]) ok "CGI: Retry-After is whole seconds within one interval ($WAIT)" ;;
*) not_ok "CGI: Retry-After '$WAIT', want 1 to 5 (one 5 s interval, rounded up)" ;;
esac
cgi "$DB" dave POST /conversations/ '{"name":"t35 dave"}'
status_is "CGI: another subject is not limited" 201
cgi "$DB" carol GET /conversations/test
status_is "CGI: the token check is not limited" 200
cgi "$DB" carol GET /healthz
status_is "CGI: /healthz is not limited" 200
is "CGI: only the admitted commands are stored (outbox rows)" \
    "$(rows "$DB" 'SELECT count(*) FROM outbox')" $((BURST + 1))
is "CGI: the refused command left no conversation" \
    "$(rows "$DB" "SELECT count(*) FROM conversations WHERE name = 't35 refused'")" 0
is "CGI: the refused command left no Idempotency-Key" \
    "$(rows "$DB" "SELECT count(*) FROM idempotency")" 0
# Retry-After is the promise: after that long the same command passes
# (and its Idempotency-Key was not used up by the refusal).
sleep "${WAIT:-5}"
cgi "$DB" carol POST /conversations/ '{"name":"t35 refused"}' HTTP_IDEMPOTENCY_KEY=t35-refused
status_is "CGI: after Retry-After seconds the command is admitted" 201
header_has "CGI: and it is a first answer, not a replay" '^location: /conversations/'
is "CGI: the rate-limit file beside the database is 0600" \
    "$(stat -c %a "$DB.ratelimit" 2>/dev/null)" 600

# --- FastCGI: four responders of a lighttpd of our own ------------------------
FBURST=4
if ! extra_start "$DIR/fcgi" RATE_LIMIT_PER_MINUTE=1 RATE_LIMIT_BURST="$FBURST"; then
	not_ok "t35's own stack (rate limit on) starts"
	exit 1
fi
X=$EXTRA_BASE

# burst SUB: 12 commands by SUB at once, from one curl whose connections
# open together (12 curl processes started one by one on a slow machine
# could each be answered before the next connects, all by the same
# responder); their statuses in $DIR/codes-SUB, one per line.
burst() {
	local i
	for i in $(seq 12); do
		printf 'url = "%s"\noutput = "/dev/null"\n' "$X/conversations/"
	done >"$DIR/burst.cfg"
	curl -s -Z --parallel-immediate --parallel-max 12 -K "$DIR/burst.cfg" \
	    -X POST -H "Authorization: Bearer $(token "$1")" "${JSON[@]}" \
	    -d "{\"name\":\"t35 fcgi $1\"}" -w '%{http_code}\n' >"$DIR/codes-$1"
}

# pids SUB: how many responder processes answered SUB.
pids() {
	grep '"msg":"request"' "$DIR/fcgi/lighttpd.log" | grep "\"subject\":\"$1\"" |
	    grep -oE '"pid":[0-9]+' | sort -u | wc -l
}

# The limit is per subject, so a burst that one responder happened to
# answer alone is sent again by another subject (three tries at most).
for try in 1 2 3; do
	SUB=erin$try
	burst "$SUB"
	PIDS=$(pids "$SUB")
	[ "$PIDS" -ge 2 ] && break
done
is "FastCGI: of 12 concurrent commands by one subject, $FBURST get 201" \
    "$(grep -c '^201$' "$DIR/codes-$SUB")" "$FBURST"
is "FastCGI: and the other 8 get 429" "$(grep -c '^429$' "$DIR/codes-$SUB")" 8
if [ "$PIDS" -ge 2 ]; then
	ok "FastCGI: the 12 were answered by $PIDS responder processes"
else
	not_ok "FastCGI: the 12 were answered by $PIDS responder process(es) in each of 3 bursts, want 2 or more"
fi
extra_as "$X" frank POST /conversations/ "${JSON[@]}" -d '{"name":"t35 frank"}'
status_is "FastCGI: another subject is not limited" 201
extra_req "$X" GET /readyz
status_is "FastCGI: /readyz is not limited" 200
extra_req "$X" GET /metrics
is "FastCGI: /metrics counts the 8 refusals of each burst under status 429" \
    "$(grep -E '^msgcmd_requests_total\{method="POST",route="/conversations",status="429"\} ' <<<"$BODY" | awk '{print $2}')" $((8 * try))
PER_MINUTE=1 BURST=$FBURST
cgi "$DIR/fcgi/msgcmd.db" "$SUB" POST /conversations/ '{"name":"t35 via cgi"}'
status_is "a CGI process on the same database sees the FastCGI responders' charges" 429
is "FastCGI: only the admitted commands are stored (outbox rows)" \
    "$(rows "$DIR/fcgi/msgcmd.db" 'SELECT count(*) FROM outbox')" $((FBURST * try + 1))
extra_stop "$EXTRA_PID"
