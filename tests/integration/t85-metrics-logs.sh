#!/usr/bin/env bash
# t85-metrics-logs.sh: GET /metrics counts the requests of every process
# (lighttpd's responders and a CGI run), checked as exact deltas over a
# known set of requests, with its histograms and gauges; and the lighttpd
# log holds one JSON line per request with its fields, never a token or
# a message body.
. "$(dirname "$0")/lib.sh"

TMP=$(mktemp -d /tmp/msgcmd-t85.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
LOG=$MSGCMD_ERRORLOG
RUN="t85-$$-$RANDOM"
USER_ID="$RUN-user"
TOKEN=$(token "$USER_ID")
FAKE_TOKEN="$RUN.not-a-real-token.signature"
SECRET="$RUN-secret-message-body"

# scrape FILE: GET /metrics into FILE; sets STATUS and HEADERS.
scrape() { req GET /metrics; printf '%s\n' "$BODY" >"$1"; }
# value FILE SERIES: the value of the series written exactly so, or 0.
value() {
	awk -v s="$2" '$1 == s { v = $2 } END { print v == "" ? 0 : v }' "$1"
}
# delta SERIES: its growth from the first scrape to the second.
delta() {
	echo $(($(value "$TMP/after" "$1") - $(value "$TMP/before" "$1")))
}
requests() {
	echo "msgcmd_requests_total{method=\"$1\",route=\"$2\",status=\"$3\"}"
}
# id_of: the X-Request-Id of the last response.
id_of() { sed -nE 's/^x-request-id: (.*)$/\1/Ip' <<<"$HEADERS"; }

wait_published 30
start=$(stat -c %s "$LOG")
scrape "$TMP/before"
status_is "GET /metrics needs no token" 200
header_has "/metrics is Prometheus text 0.0.4" \
    '^content-type: text/plain; version=0\.0\.4'
n=1	# requests sent since $start

EIDS=()
for i in 1 2 3 4 5; do
	as "$USER_ID" POST /conversations/ "${JSON[@]}" \
	    -H "X-Request-Id: $RUN-c$i" -d "{\"name\":\"t85 $i\"}"
	[ "$STATUS" = 201 ] || not_ok "create $i: status $STATUS"
	EIDS+=("$(jq -r .event_id <<<"$BODY")")
	CID=$(jq -r .id <<<"$BODY")
done
is "X-Request-Id is echoed" "$(id_of)" "$RUN-c5"
req POST "/conversations/$CID" "${JSON[@]}" -H "Authorization: Bearer $TOKEN" \
    -H "X-Request-Id: $RUN-send" -d "{\"message_content\":\"$SECRET\"}"
status_is "a message with a known body" 201
SEND_EID=$(jq -r .event_id <<<"$BODY")
# At once, so that more than one responder may answer.
for i in 1 2; do curl -s -o /dev/null "$BASE/no-such-path/$RUN/$i" & done
req GET "/no-such-path/$RUN/3"
wait
status_is "an unknown path" 404
GEN_ID=$(id_of)
if [[ $GEN_ID =~ ^[0-9a-f]{16}$ ]]; then ok "without X-Request-Id one is made up"
else not_ok "generated request id: '$GEN_ID'"; fi
req GET /nope -H "X-Request-Id: bad \"id\" $RUN"
BAD_ID=$(id_of)
if [[ $BAD_ID =~ ^[0-9a-f]{16}$ ]]; then ok "an unsafe X-Request-Id is replaced"
else not_ok "unsafe request id came back as '$BAD_ID'"; fi
for i in 1 2; do
	req POST /conversations/ "${JSON[@]}" -H "Authorization: Bearer $FAKE_TOKEN" \
	    -H "X-Request-Id: $RUN-401-$i" -d '{"name":"nope"}'
done
status_is "a bad token" 401
n=$((n + 5 + 1 + 3 + 1 + 2))

# A CGI process of its own, counted into the same file.
cgi_err=$(env -i PATH="$PATH" "${SAN_ENV[@]}" DATABASE_PATH="$DATABASE_PATH" \
    KEYCLOAK_PUBLIC_KEY="$KEYCLOAK_PUBLIC_KEY" ENV_FILE=/dev/null \
    GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REQUEST_URI=/healthz \
    HTTP_X_REQUEST_ID="$RUN-cgi" "$BIN/msgcmd" \
    2>&1 >/dev/null)
is "the CGI run logs its request as a JSON line" \
    "$(jq -r '[.request_id, .route, .status] | join(" ")' <<<"$cgi_err")" \
    "$RUN-cgi /healthz 200"

scrape "$TMP/after"
n=$((n + 1))
end=$(stat -c %s "$LOG")
is "5 creates counted" "$(delta "$(requests POST /conversations 201)")" 5
is "1 message counted" "$(delta "$(requests POST '/conversations/{id}' 201)")" 1
is "4 unknown paths counted under route unmatched" \
    "$(delta "$(requests GET unmatched 404)")" 4
is "2 bad tokens counted" "$(delta "$(requests POST /conversations 401)")" 2
is "the CGI request counted" "$(delta "$(requests GET /healthz 200)")" 1
is "the first scrape counted" "$(delta "$(requests GET /metrics 200)")" 1
H=msgcmd_request_duration_seconds
is "the /conversations histogram counted 7" \
    "$(delta "${H}_count{route=\"/conversations\"}")" 7
is "the unmatched histogram counted 4" \
    "$(delta "${H}_count{route=\"unmatched\"}")" 4
is "+Inf bucket equals _count" \
    "$(value "$TMP/after" "${H}_bucket{route=\"/conversations\",le=\"+Inf\"}")" \
    "$(value "$TMP/after" "${H}_count{route=\"/conversations\"}")"
sum=$(awk -v s="${H}_sum{route=\"/conversations\"}" '$1 == s { print $2 }' "$TMP/after")
if awk -v s="$sum" 'BEGIN { exit !(s > 0) }'; then ok "latency sum grows ($sum s)"
else not_ok "latency sum '$sum'"; fi
if grep -Eq '^msgcmd_outbox_backlog [0-9]+$' "$TMP/after"; then ok "backlog gauge"
else not_ok "no backlog gauge"; fi
is "exactly one publisher state is 1" \
    "$(grep -c '^msgcmd_publisher_state{state="[a-z-]*"} 1$' "$TMP/after")" 1
is "the publisher is connected" \
    "$(value "$TMP/after" 'msgcmd_publisher_state{state="connected"}')" 1
if grep -Eq '^msgcmd_publisher_pid [1-9][0-9]*$' "$TMP/after"; then ok "publisher pid gauge"
else not_ok "no publisher pid"; fi
is "three Kafka error kinds" "$(grep -c '^msgcmd_kafka_errors_total{kind=' "$TMP/after")" 3
bad=$(grep -v '^#' "$TMP/after" | grep -Evc '^[a-z_]+(\{.*\})? -?[0-9.]+$')
is "every sample line is well-formed" "$bad" 0

# Publish lag: one observation per event published (6), once delivered;
# nothing was waiting at the first scrape.
wait_published 30
scrape "$TMP/lag"
is "publish lag counted the 6 events" $(($(value "$TMP/lag" \
    msgcmd_publish_lag_seconds_count) - $(value "$TMP/before" \
    msgcmd_publish_lag_seconds_count))) 6

# The log: one JSON line per request sent from $start to $end.
tail -c +"$((start + 1))" "$LOG" | head -c "$((end - start))" |
    grep -F '"msg":"request"' >"$TMP/requests.jsonl"
is "one log line per request" "$(wc -l <"$TMP/requests.jsonl")" "$n"
ids=$(jq -r .request_id "$TMP/requests.jsonl" | grep -c "^$RUN-")
is "one line per request id sent" "$ids" 8
if jq -e . "$TMP/requests.jsonl" >/dev/null 2>&1; then ok "request lines are JSON"
else not_ok "a request line is not JSON"; fi
line() { jq -c "select(.request_id == \"$1\")" "$TMP/requests.jsonl"; }
fields='[.level, .program, .msg, .method, .route, .status, .subject, .event_id] | map(tostring) | join(" ")'
is "a create's line" "$(line "$RUN-c1" | jq -r "$fields")" \
    "info msgcmd request POST /conversations 201 $USER_ID ${EIDS[0]}"
is "the message's line" "$(line "$RUN-send" | jq -r "$fields")" \
    "info msgcmd request POST /conversations/{id} 201 $USER_ID $SEND_EID"
is "a 401's line: no subject, no event" "$(line "$RUN-401-1" | jq -r "$fields")" \
    "info msgcmd request POST /conversations 401 null null"
is "a 404's line: the pattern, not the path" "$(line "$GEN_ID" | jq -r "$fields")" \
    "info msgcmd request GET unmatched 404 null null"
is "time, pid and latency have their types" "$(line "$RUN-c1" | jq -r \
    '[(.time | test("^[0-9-]{10}T[0-9:]{8}\\.[0-9]{6}Z$")), (.pid | type), (.latency_us | type)] | map(tostring) | join(" ")')" \
    "true number number"
is "the unsafe id is not logged" "$(grep -cF 'bad \"id\"' "$TMP/requests.jsonl")" 0
is "no token in the log" "$(grep -cF -e "$TOKEN" -e "${TOKEN##*.}" -e "$FAKE_TOKEN" "$LOG")" 0
is "no message body in the log" "$(grep -cF "$SECRET" "$LOG")" 0
other=$(grep -F '"program":"msgcmd"' "$LOG" | grep -vF '"msg":"request"' |
    jq -r 'select(has("time") and has("level") and has("pid") and has("msg")) | 1' 2>/dev/null | wc -l)
is "start-up and publisher lines are JSON with the same fields" "$other" \
    "$(grep -F '"program":"msgcmd"' "$LOG" | grep -vcF '"msg":"request"')"
echo "# $n requests in the window, served by $(jq -r .pid "$TMP/requests.jsonl" | sort -u | wc -l) responder processes"
