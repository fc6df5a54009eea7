# stack.sh: sourced by run.sh and the tests.  Starts and stops the pieces
# of a local msgcmd: a Kafka broker (unless BOOTSTRAP_SERVERS names one),
# a dev key pair (unless KEYCLOAK_PUBLIC_KEY is set) and lighttpd with
# the responders.  Only processes started here are ever stopped, by pid.

# Callers outside scripts/ and tests/ set STACK_ROOT first.
STACK_ROOT=${STACK_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
# lighttpd.conf reads the address to listen on from BIND, as it reads
# PORT; lighttpd stops on an unset one, so every stack gets the default.
export BIND="${BIND:-127.0.0.1}"

stack_die() { echo "msgcmd: $*" >&2; exit 1; }

# stack_kafka STATE PORT: exports BOOTSTRAP_SERVERS, starting a broker
# in STATE/kafka on PORT when none is configured.
stack_kafka() {
	if [ -n "${BOOTSTRAP_SERVERS:-${BOOTSTRAP_SERVER:-}}" ]; then
		export BOOTSTRAP_SERVERS="${BOOTSTRAP_SERVERS:-$BOOTSTRAP_SERVER}"
		return 0
	fi
	"$STACK_ROOT/scripts/kafka.sh" fetch || stack_die "cannot fetch Kafka"
	"$STACK_ROOT/scripts/kafka.sh" start "$1/kafka" "$2" ||
		stack_die "Kafka did not start; see $1/kafka/kafka.log"
	STACK_KAFKA_DIR="$1/kafka"
	export BOOTSTRAP_SERVERS="127.0.0.1:$2"
}

# stack_keys STATE: makes STATE/dev-private.pem once and exports
# KEYCLOAK_PUBLIC_KEY as Keycloak shows it (the base64 body), leaving
# STACK_PRIVATE_KEY naming that file.  A KEYCLOAK_PUBLIC_KEY already set
# is the user's realm: it is kept, and STACK_PRIVATE_KEY is empty (a dev
# key left in STATE by an earlier run signs nothing it would accept).
stack_keys() {
	STACK_PRIVATE_KEY=
	[ -n "${KEYCLOAK_PUBLIC_KEY:-}" ] && return 0
	STACK_PRIVATE_KEY="$1/dev-private.pem"
	if [ ! -s "$STACK_PRIVATE_KEY" ]; then
		(umask 077 && openssl genpkey -algorithm RSA \
		    -pkeyopt rsa_keygen_bits:2048 -out "$STACK_PRIVATE_KEY" \
		    2>/dev/null) || stack_die "openssl cannot make a dev key"
	fi
	KEYCLOAK_PUBLIC_KEY=$(openssl pkey -in "$STACK_PRIVATE_KEY" -pubout |
	    grep -v -- '-----' | tr -d '\n')
	export KEYCLOAK_PUBLIC_KEY
}

# stack_lighttpd STATE PORT: starts lighttpd in the foreground of a
# background job and waits until /readyz answers 200.
stack_lighttpd() {
	export MSGCMD_ROOT="$STACK_ROOT" MSGCMD_STATE="$1" PORT="$2"
	# The responders' build: build, or build-asan for `make test-asan`.
	export MSGCMD_BUILD="${MSGCMD_BUILD:-build}"
	export MSGCMD_ERRORLOG="${MSGCMD_ERRORLOG:-$1/lighttpd.log}"
	export DATABASE_PATH="${DATABASE_PATH:-$1/msgcmd.db}"
	# lighttpd restarts a responder that cannot start, forever, with the
	# reason in its log each time: say it once, here, and stop.
	check=$("$STACK_ROOT/$MSGCMD_BUILD/msgcmd" --check </dev/null 2>&1) ||
		stack_die "$(printf '%s\n' "$check" | sed -n 's/^msgcmd: //p' |
		    head -1)"
	# The responders inherit stderr: their JSON lines join lighttpd's log.
	lighttpd -D -f "$STACK_ROOT/lighttpd.conf" 2>>"$MSGCMD_ERRORLOG" &
	STACK_LIGHTTPD_PID=$!
	stack_wait_ready "$2" || stack_die "lighttpd did not become ready; see $MSGCMD_ERRORLOG"
}

# stack_url PORT: the base URL of the stack's lighttpd (the loopback
# address when it listens on every IPv4 address).
stack_url() {
	if [ "$BIND" = 0.0.0.0 ]; then echo "http://127.0.0.1:$1"; else echo "http://$BIND:$1"; fi
}

# stack_wait_ready PORT: polls /readyz for up to 30 s.
stack_wait_ready() {
	i=0
	while [ $i -lt 300 ]; do
		code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
		    "$(stack_url "$1")/readyz" 2>/dev/null) || code=000
		[ "$code" = 200 ] && return 0
		kill -0 "$STACK_LIGHTTPD_PID" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# stack_stop: stops what this shell started, lighttpd first (it sends
# SIGTERM to its responders), then the broker.
stack_stop() {
	if [ -n "${STACK_LIGHTTPD_PID:-}" ]; then
		kill -TERM "$STACK_LIGHTTPD_PID" 2>/dev/null
		wait "$STACK_LIGHTTPD_PID" 2>/dev/null
		STACK_LIGHTTPD_PID=
	fi
	if [ -n "${STACK_KAFKA_DIR:-}" ]; then
		"$STACK_ROOT/scripts/kafka.sh" stop "$STACK_KAFKA_DIR"
		STACK_KAFKA_DIR=
	fi
}
