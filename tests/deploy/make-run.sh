#!/usr/bin/env bash
# make-run.sh: `make run` as the README has a new user run it.  Three
# runs, each `make run` in a session of its own on free ports:
#   1. defaults: its own broker, a dev key; the curl command it prints
#      answers 201 with the event, and the kcat command it prints shows
#      that event on the topic; SIGTERM to make leaves no process behind;
#   2. again on the same state: the conversation and the key survived,
#      a command on it is taken; Ctrl-C (SIGINT to the process group)
#      leaves no process behind;
#   3. overrides: BOOTSTRAP_SERVERS (a broker this script starts; make
#      run starts none), TOPIC, KEYCLOAK_PUBLIC_KEY and KEYCLOAK_ALG;
#   4. a bad setting: make run stops at once with the line naming it.
# Prints "ok - ..." per check and ends with "N passed, N failed".
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PORT=0 . tests/integration/lib.sh	# ok, not_ok, is, free_port, backlog

WORK=$(mktemp -d /tmp/msgcmd-make-run.XXXXXX) || exit 1
RUN_PID=
cleanup() {
	[ -n "$RUN_PID" ] && kill -TERM -- "-$RUN_PID" 2>/dev/null
	scripts/kafka.sh stop "$WORK/broker" 2>/dev/null
	[ -n "${KEEP_STATE:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The user's environment, not the suite's: only what each run sets.
unset DATABASE_PATH BOOTSTRAP_SERVERS BOOTSTRAP_SERVER TOPIC KEYCLOAK_PUBLIC_KEY \
    KEYCLOAK_PUBLIC_KEY_FILE KEYCLOAK_JWKS_FILE KEYCLOAK_JWKS_URL \
    KEYCLOAK_ISSUER KEYCLOAK_ALG KAFKA_PROPERTIES MSGCMD_ERRORLOG
export ENV_FILE=/dev/null VAR_DIR="$WORK/var" ACCEPTED=/dev/null
pass=0 fail=0
check() { if [ "$1" = ok ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi; }
ok() { echo "ok - $1"; check ok; }
not_ok() { echo "not ok - $1"; check fail; }

# start_run OUT [VAR=value...]: `make run` in a new session, stdin
# closed, until it prints its curl command (3 minutes at most, the
# first broker start included).  RUN_PID is make's pid, also the
# session's and the process group's id.
start_run() {
	local out=$1 i
	shift
	env "$@" setsid make --no-print-directory run </dev/null >"$out" 2>&1 &
	RUN_PID=$!
	for i in $(seq 1800); do
		grep -q '^  curl ' "$out" && return 0
		kill -0 "$RUN_PID" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/  | /' "$out"
	return 1
}

# printed OUT START END: the command make run printed from the line
# matching START to the one matching END, joined into one line.
printed() {
	sed -n "/$2/,/$3/p" "$1" | sed 's/\\$//' | tr -d '\n'
}

# session_gone: succeeds once no process of make run's session is left
# (60 s at most: the broker's controlled shutdown takes a few seconds).
session_gone() {
	local i
	for i in $(seq 600); do
		[ -z "$(ps -s "$RUN_PID" -o pid= 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	ps -s "$RUN_PID" -o pid,cmd | cut -c1-120 | sed 's/^/  | /'
	return 1
}

# listening PORT: succeeds while something accepts on 127.0.0.1:PORT.
listening() {
	curl -s -m 2 -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null
	[ $? -ne 7 ]
}

# topic_has CMD ID: runs the kcat command CMD (which follows the topic)
# until it prints a line for ID (30 s), then prints that line.
topic_has() {
	local got=$WORK/kcat.out i line
	: >"$got"
	# Line-buffered as on a terminal: to a file kcat's stdio buffers.
	sh -c "exec stdbuf -oL $1" >"$got" 2>&1 &
	local kpid=$!
	for i in $(seq 300); do
		line=$(grep -F "$2" "$got") && break
		sleep 0.1
	done
	kill "$kpid" 2>/dev/null
	wait "$kpid" 2>/dev/null
	printf '%s\n' "$line"
}

# --- 1. defaults ---------------------------------------------------------
WEB=$(free_port) KAFKA=$(scripts/kafka.sh port)
out1=$WORK/run1.out
if start_run "$out1" PORT="$WEB" KAFKA_PORT="$KAFKA"; then
	ok "make run prints its curl command"
else
	not_ok "make run did not get ready"
	echo "$pass passed, $((fail + 1)) failed"
	exit 1
fi
grep -q "Kafka: 127.0.0.1:$KAFKA" "$out1" &&
	ps -s "$RUN_PID" -o cmd= | grep -q '^java .*kafka.Kafka' &&
	ok "it started its own broker on KAFKA_PORT" ||
	not_ok "no broker of its own on $KAFKA"
[ -s "$VAR_DIR/dev-private.pem" ] && ok "a dev key pair under VAR_DIR" ||
	not_ok "no dev key in $VAR_DIR"

answer=$(sh -c "$(printed "$out1" '^  curl ' " -d '")" 2>/dev/null | tr -d '\r')
status=$(printf '%s\n' "$answer" | awk 'NR == 1 {print $2}')
body=$(printf '%s\n' "$answer" | tail -1)
id=$(jq -r '.id' <<<"$body" 2>/dev/null)
is "the printed curl command answers" "$status" 201
is "with the creation event" "$(jq -r '.event + " " + .creator_id + " " + .name' <<<"$body")" \
    "userCreatedConversation alice hello"
grep -qx "Location: /conversations/$id" <<<"$answer" &&
	ok "and its Location" || not_ok "no Location /conversations/$id"

wait_published 30 "http://127.0.0.1:$WEB" && ok "the event left the outbox" ||
	not_ok "backlog still $(backlog "http://127.0.0.1:$WEB")"
line=$(topic_has "$(sed -n 's/^  \(kcat .*\)/\1/p' "$out1")" "$id")
is "the printed kcat command shows the event, key and bytes" "$line" "$id $body"

kill -TERM "$RUN_PID"
session_gone && ok "SIGTERM to make stops every process it started" ||
	not_ok "processes left after SIGTERM"
! listening "$WEB" && ! listening "$KAFKA" && ok "both ports are free again" ||
	not_ok "a port still answers"

# --- 2. the same state again, stopped with Ctrl-C ------------------------
out2=$WORK/run2.out
if start_run "$out2" PORT="$WEB" KAFKA_PORT="$KAFKA"; then
	token=$(sed -n "s/.*Authorization: Bearer \([^']*\)'.*/\1/p" "$out2")
	status=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	    "http://127.0.0.1:$WEB/conversations/$id" \
	    -H "Authorization: Bearer $token" "${JSON[@]}" \
	    -d '{"message_content":"still here"}')
	is "after a restart the conversation and the dev key are still there" "$status" 201
	wait_published 30 "http://127.0.0.1:$WEB" && ok "that event is published too" ||
		not_ok "backlog still $(backlog "http://127.0.0.1:$WEB")"
	kill -INT -- "-$RUN_PID"
	session_gone && ok "Ctrl-C stops every process it started" ||
		not_ok "processes left after Ctrl-C"
else
	not_ok "make run did not start again on its own state"
fi

# --- 3. overrides ----------------------------------------------------------
BROKER=$(scripts/kafka.sh port)
scripts/kafka.sh start "$WORK/broker" "$BROKER" 2>/dev/null ||
	not_ok "the external broker did not start"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$WORK/realm.pem" 2>/dev/null
realm=$(openssl pkey -in "$WORK/realm.pem" -pubout | grep -v -- '-----' | tr -d '\n')
out3=$WORK/run3.out
if start_run "$out3" PORT="$WEB" BOOTSTRAP_SERVERS="127.0.0.1:$BROKER" \
    TOPIC=made-run KEYCLOAK_PUBLIC_KEY="$realm" KEYCLOAK_ALG=RS512; then
	ps -s "$RUN_PID" -o cmd= | grep -q '^java' &&
		not_ok "a broker started although BOOTSTRAP_SERVERS is set" ||
		ok "with BOOTSTRAP_SERVERS it starts no broker"
	grep -q "Kafka: 127.0.0.1:$BROKER, topic: made-run" "$out3" &&
		ok "it names the configured broker and topic" ||
		not_ok "the configured broker or topic is not named"
	grep -q 'a token from your Keycloak realm' "$out3" &&
		ok "with KEYCLOAK_PUBLIC_KEY it offers no dev token" ||
		not_ok "it printed a dev token for a key it does not hold"
	PORT=$WEB BASE="http://127.0.0.1:$WEB"
	for alg in RS256 RS512; do
		t=$(build/msgcmd-token --key "$WORK/realm.pem" --sub carol --alg "$alg")
		req POST /conversations/ \
		    -H "Authorization: Bearer $t" "${JSON[@]}" -d '{"name":"over"}'
		[ "$alg" = RS512 ] && want=201 || want=401
		status_is "a $alg token under KEYCLOAK_ALG=RS512" "$want"
	done
	id=$(jq -r '.id' <<<"$BODY")
	wait_published 30 || not_ok "backlog still $(backlog)"
	line=$(topic_has "kcat -C -b 127.0.0.1:$BROKER -t made-run -f '%k %s\n'" "$id")
	is "the event is on TOPIC at BOOTSTRAP_SERVERS" "$line" "$id $BODY"
	kill -TERM "$RUN_PID"
	session_gone && ok "SIGTERM stops it" || not_ok "processes left"
	kcat -L -b "127.0.0.1:$BROKER" -m 2 >/dev/null 2>&1 &&
		ok "and leaves the broker it did not start running" ||
		not_ok "it stopped a broker it did not start"
else
	not_ok "make run with overrides did not get ready"
fi
RUN_PID=

# --- 4. a bad setting: one line naming it, and nothing left running -----
out4=$WORK/run4.out
env PORT="$WEB" BOOTSTRAP_SERVERS="127.0.0.1:$BROKER" MAX_NAME_CHARS=lots \
    timeout 120 setsid make --no-print-directory run </dev/null >"$out4" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && ok "a bad setting stops make run" ||
	not_ok "make run with a bad setting: exit $rc"
grep -qx 'msgcmd: MAX_NAME_CHARS: invalid value "lots" (want a number from 1 to 100000)' \
    "$out4" && ok "with one line naming the setting" ||
	not_ok "no line naming MAX_NAME_CHARS: $(head -c 300 "$out4")"
! listening "$WEB" && ok "and no lighttpd left on its port" ||
	not_ok "something answers on $WEB"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
