# lib.sh: helpers for the black-box tests, sourced by each t*.sh.  The
# runner (tests/run.sh) exports PORT, PRIVATE_KEY, TOPIC, BOOTSTRAP_SERVERS,
# STATE and ACCEPTED (a file of every 201 body, one per line, in order).
# Each check prints "ok - ..." or "not ok - ..."; the runner counts them.

export LC_ALL=C
BASE="http://127.0.0.1:$PORT"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# BIN: the build under test (build-asan under make test-asan).
BIN="$ROOT/${MSGCMD_BUILD:-build}"

# SAN_ENV: under a sanitizer build, its options as VAR=VALUE words for
# the processes a test starts itself (env -i drops them), with the reports
# written under $STATE/sanitizer (as TEST.asan.PID), which tests/run.sh
# reads at the end.
SAN_ENV=()
if [ -n "${ASAN_OPTIONS:-}${UBSAN_OPTIONS:-}" ] && [ -n "${STATE:-}" ] &&
    mkdir -p "$STATE/sanitizer"; then
	SAN_LOG="$STATE/sanitizer/$(basename "$0" .sh)"
	SAN_ENV=("ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$SAN_LOG.asan"
	    "UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$SAN_LOG.ubsan")
fi

# token SUB [msgcmd-token options...]: a token signed with the test key.
token() {
	local sub=$1
	shift
	"$ROOT/build/msgcmd-token" --key "$PRIVATE_KEY" --sub "$sub" "$@"
}

# req METHOD PATH [curl args...]: sets STATUS, BODY and HEADERS.
req() {
	local method=$1 path=$2 hdrs
	shift 2
	hdrs=$(mktemp)
	BODY=$(curl -s -X "$method" -D "$hdrs" "$BASE$path" "$@")
	STATUS=$(awk 'NR==1 {print $2}' "$hdrs")
	HEADERS=$(tr -d '\r' <"$hdrs")
	rm -f "$hdrs"
	# A replayed answer is not a new event: t90 counts each event once.
	if [ "$STATUS" = 201 ] && ! grep -qi '^idempotent-replayed: true' <<<"$HEADERS"; then
		printf '%s\n' "$BODY" >>"$ACCEPTED"
	fi
}

# backlog [BASE]: the outbox backlog /readyz reports at BASE (the suite's
# front end when none is given).
backlog() {
	curl -s -m 5 "${1:-$BASE}/readyz" | jq -r '.outbox.backlog' 2>/dev/null
}

# wait_published SECONDS [BASE]: polls /readyz every 0.1 s, SECONDS at
# most, until every committed event has left the outbox.
wait_published() {
	local i
	for i in $(seq $(($1 * 10))); do
		[ "$(backlog "${2:-$BASE}")" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# as SUB METHOD PATH [curl args...]: req with SUB's bearer token.
as() {
	local sub=$1 method=$2 path=$3
	shift 3
	req "$method" "$path" -H "Authorization: Bearer $(token "$sub")" "$@"
}

# "${JSON[@]}" -d DATA: a JSON request body.
JSON=(-H 'Content-Type: application/json')

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; }

# is DESC GOT WANT
is() {
	if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi
}

# status_is DESC WANT: checks the last response's status.
status_is() {
	if [ "$STATUS" == "$2" ]; then ok "$1"; else
		not_ok "$1: status $STATUS, want $2; body: ${BODY:0:300}"; fi
}

# header_has DESC LINE-REGEX: the last response has a matching header.
header_has() {
	if grep -Eiq "$2" <<<"$HEADERS"; then ok "$1"; else
		not_ok "$1: no header matching /$2/ in: $(tr '\n' '|' <<<"$HEADERS")"; fi
}

# body_is DESC JQ-FILTER WANT: checks a value of the last JSON body.
body_is() {
	is "$1" "$(jq -r "$2" <<<"$BODY" 2>/dev/null)" "$3"
}

# The conversation of an event, in jq.
CONV_OF='if .event == "userCreatedConversation" then .id else .conversation_id end'

# order_is DUMP: per conversation, the events of DUMP (kcat -J lines) are
# in the order in which $ACCEPTED has them.
order_is() {
	local accepted topic
	accepted=$(jq -r "[($CONV_OF), .event_id] | @tsv" "$ACCEPTED" |
	    sort -s -k1,1 | md5sum)
	topic=$(jq -r "[.partition, .offset] + (.payload | fromjson
	    | [($CONV_OF), .event_id]) | @tsv" "$1" |
	    sort -n -k1,1 -k2,2 | cut -f3,4 | sort -s -k1,1 | md5sum)
	is "per-conversation order on the topic equals acceptance order" \
	    "$topic" "$accepted"
}

# create SUB NAME: creates a conversation and prints its id.
create() {
	as "$1" POST /conversations/ "${JSON[@]}" -d "{\"name\":\"$2\"}"
	jq -r .id <<<"$BODY"
}
