#!/bin/sh
# run.sh: `make run`.  Starts Kafka on 127.0.0.1:${KAFKA_PORT:-9092}
# (unless BOOTSTRAP_SERVERS is set), lighttpd with the responders on
# ${BIND:-127.0.0.1}:${PORT:-8000}, prints a curl command with a dev
# token, and stays in the foreground until Ctrl-C or SIGTERM, then stops
# everything it started.  Its state (broker data, dev key, database,
# logs) lives in ${VAR_DIR:-var/} of the checkout.
set -u
. "$(dirname "$0")/stack.sh"

STATE="${VAR_DIR:-$STACK_ROOT/var}"
PORT="${PORT:-8000}"
export BIND="${BIND:-127.0.0.1}"
export TOPIC="${TOPIC:-conversations}"
mkdir -p "$STATE" && chmod 700 "$STATE"
# Responders run with lighttpd's working directory unknown to the user:
# point them at the checkout's .env explicitly when there is one and no
# ENV_FILE names another.
[ -z "${ENV_FILE:-}" ] && [ -f "$STACK_ROOT/.env" ] &&
	export ENV_FILE="$STACK_ROOT/.env"

trap 'stack_stop; exit 0' INT TERM
trap 'stack_stop' EXIT
stack_kafka "$STATE" "${KAFKA_PORT:-9092}"
stack_keys "$STATE"
stack_lighttpd "$STATE" "$PORT"

if [ -n "$STACK_PRIVATE_KEY" ]; then
	TOKEN=$("$STACK_ROOT/build/msgcmd-token" --key "$STACK_PRIVATE_KEY" \
	    --sub alice --ttl 3600)
else
	TOKEN='<a token from your Keycloak realm>'
fi
cat <<MSG

msgcmd is ready on $(stack_url "$PORT") (Kafka: $BOOTSTRAP_SERVERS, topic: $TOPIC)
Create a conversation (dev token for "alice", valid one hour):

  curl -i -X POST $(stack_url "$PORT")/conversations/ \\
    -H 'Authorization: Bearer $TOKEN' \\
    -H 'Content-Type: application/json' -d '{"name":"hello"}'

Watch the topic (created with the first event):
  kcat -C -b $BOOTSTRAP_SERVERS -t $TOPIC -f '%k %s\\n'
More tokens:      build/msgcmd-token --key $STACK_PRIVATE_KEY --sub bob
Logs:             $MSGCMD_ERRORLOG      Stop: Ctrl-C
MSG
wait "$STACK_LIGHTTPD_PID"
