#!/usr/bin/env bash
# bench.sh: `make bench`.  One run, one table: msgcmd's create-only and
# mixed loads at 1, 8 and 32 connections for SQLITE_SYNCHRONOUS NORMAL and
# FULL, side by side with the ceilings measured in the same run: a trivial
# FastCGI responder behind the same lighttpd, and SQLite's own
# single-process durable-commit rate on the same disk.  Then the publish
# lag at half the load, the drain rate of a 200 000-event backlog, RSS per
# responder, the loads at 32 connections on a database holding 10 million
# events of history beside an empty one, and a soak sampling RSS.
# BENCH_SECONDS (default 10) per wrk run; BENCH_BACKLOG (default 200000);
# BENCH_HISTORY events (default 10000000; 0 skips); BENCH_SOAK_SECONDS
# (default 600; 0 skips); BENCH_PARTS, a subset of "sqlite trivial
# normal full lag drain history soak", runs only those.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
STACK_ROOT=$ROOT
. scripts/stack.sh

SECS=${BENCH_SECONDS:-10} BACKLOG=${BENCH_BACKLOG:-200000}
HISTORY=${BENCH_HISTORY:-10000000} SOAK=${BENCH_SOAK_SECONDS:-600}
PARTS=${BENCH_PARTS:-"sqlite trivial normal full lag drain history soak"}
CONNS=${BENCH_CONNS:-"1 8 32"}
STATE=$(mktemp -d "$ROOT/var/bench.XXXXXX" 2>/dev/null || mktemp -d)
OUT="$STATE/results"
export ENV_FILE=/dev/null MSGCMD_ERRORLOG="$STATE/lighttpd.log"
unset KEYCLOAK_PUBLIC_KEY KAFKA_PROPERTIES
trap 'stack_stop; [ -n "${KEEP_STATE:-}" ] || rm -rf "$STATE"' EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

build_tools() {
	mkdir -p build/bench
	cc -O2 -o build/bench/trivial tests/bench/trivial.c \
	    $(pkg-config --cflags --libs fcgi) &&
	cc -O2 -o build/bench/sqlite_rate tests/bench/sqlite_rate.c \
	    $(pkg-config --cflags --libs sqlite3)
}

# wrk_run NAME CONNS MODE: one wrk run against $PORT; appends a row.
wrk_run() {
	local threads=$(( $2 < 2 ? 1 : 2 )) line
	line=$(TOKEN="$TOKEN" MODE="$3" wrk -t"$threads" -c"$2" -d"${SECS}s" \
	    -s tests/bench/commands.lua "http://127.0.0.1:$PORT" 2>&1 |
	    grep '^RESULT')
	echo "$1 c=$2 ${line#RESULT }" | tee -a "$OUT"
}

# up PID: polls /healthz until it answers 2xx (the trivial responder
# answers 201 to everything), at most 30 s, while PID lives.
up() {
	local code
	for _ in $(seq 300); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
		case "$code" in 2??) return 0 ;; esac
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# with_stack NAME CONFIG-FILE VAR=VALUE...: runs the wrk loads on a fresh
# lighttpd (and database) with the given settings, then stops it.
with_stack() {
	local name=$1 conf=$2 dir="$STATE/$1" c
	shift 2
	mkdir -p "$dir"
	env "$@" DATABASE_PATH="$dir/msgcmd.db" MSGCMD_ERRORLOG="$dir/lighttpd.log" \
	    MSGCMD_ROOT="$ROOT" MSGCMD_BUILD="${MSGCMD_BUILD:-build}" \
	    MSGCMD_STATE="$dir" PORT="$PORT" \
	    lighttpd -D -f "$conf" 2>>"$dir/lighttpd.log" &
	STACK_LIGHTTPD_PID=$!
	up "$STACK_LIGHTTPD_PID" || { echo "bench: $name did not start" >&2; exit 1; }
	[ -n "${WARM_TOPIC:-}" ] && warm "$WARM_TOPIC"
	for c in $CONNS; do
		wrk_run "$name/create" "$c" create
		[ "$name" = trivial ] || [ -n "${CREATE_ONLY:-}" ] ||
			wrk_run "$name/mix" "$c" mix
	done
	rss "$name"
	kill -TERM "$STACK_LIGHTTPD_PID"; wait "$STACK_LIGHTTPD_PID"
	STACK_LIGHTTPD_PID=
}

# rss NAME: the RSS and, in brackets, the PSS (shared pages divided
# among the processes that map them) of each responder of the running
# lighttpd, in kB.
rss() {
	local p line=""
	for p in $(ps -o pid= --ppid "$STACK_LIGHTTPD_PID"); do
		line+=" $(awk '/^Rss:/ { r = $2 } /^Pss:/ { s = $2 } END { print r "[" s "]" }' \
		    "/proc/$p/smaps_rollup")"
	done
	echo "$1/rss_kb$(tr ' ' '\n' <<<"$line" | sort -n | tr '\n' ' ' | sed 's/ *$//')" |
	    tee -a "$OUT"
}

# publish_lag: Kafka's append timestamp minus the event's created_at,
# over the events of the NORMAL create runs (ms, p50 and p99).
publish_lag() {
	kcat -C -b "$BOOTSTRAP_SERVERS" -t "$1" -o beginning -e -J -q 2>/dev/null |
	    jq -r '[.ts, (.payload | fromjson | .created_at)] | @tsv' |
	    python3 -c '
import sys, datetime
lags = sorted(int(ts) - datetime.datetime.strptime(c, "%Y-%m-%dT%H:%M:%S.%fZ")
              .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000
              for ts, c in (l.rstrip("\n").split("\t") for l in sys.stdin if l.strip()))
p = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] if lags else float("nan")
print("publish_lag events=%d p50_ms=%.1f p99_ms=%.1f" % (len(lags), p(0.5), p(0.99)))
' | tee -a "$OUT"
}

# drain: a backlog of BACKLOG events written straight into a fresh
# outbox, then msgcmd-relay against a new topic; events per second.
drain() {
	local dir="$STATE/drain" t0 t1 done=0
	mkdir -p "$dir"
	DATABASE_PATH="$dir/msgcmd.db" REQUEST_METHOD=GET REQUEST_URI=/healthz \
	    build/msgcmd </dev/null >/dev/null
	sqlite3 "$dir/msgcmd.db" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL
	    SELECT x + 1 FROM c WHERE x < $BACKLOG)
	    INSERT INTO outbox(event_id, conversation_id, event_type, created_at, payload)
	    SELECT printf('%08x-0000-4000-8000-%012x', x, x),
	           printf('00000000-0000-4000-8000-%012x', x % 1000),
	           'userSentMessageToConversation', '2026-01-01T00:00:00.000000Z',
	           printf('{\"id\":\"%08x\",\"message_content\":\"%s\"}', x, hex(randomblob(60)))
	    FROM c;"
	t0=$(date +%s.%N)
	DATABASE_PATH="$dir/msgcmd.db" TOPIC="bench-drain-$$" build/msgcmd-relay \
	    2>>"$dir/relay.log" &
	local relay=$!
	for _ in $(seq 6000); do
		done=$(sqlite3 "$dir/msgcmd.db" 'SELECT published_seq FROM publisher')
		[ "$done" -ge "$BACKLOG" ] && break
		sleep 0.05
	done
	t1=$(date +%s.%N)
	kill -TERM "$relay"; wait "$relay"
	awk -v n="$done" -v a="$t0" -v b="$t1" \
	    'BEGIN { printf "drain events=%d seconds=%.2f events_per_s=%.0f\n", n, b - a, n / (b - a) }' |
	    tee -a "$OUT"
}

# history: the create-only and mixed loads at 32 connections, every
# request with its own Idempotency-Key, on an empty database and on one
# already holding HISTORY published events of HISTORY/10 conversations
# (two members each) and HISTORY/10 idempotency keys.
history() {
	local dir="$STATE/history" n=$HISTORY t0
	mkdir -p "$dir"
	DATABASE_PATH="$dir/msgcmd.db" REQUEST_METHOD=GET REQUEST_URI=/healthz \
	    build/msgcmd </dev/null >/dev/null
	t0=$(date +%s)
	sqlite3 "$dir/msgcmd.db" <<SQL || { echo "bench: history not written" >&2; return 1; }
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $((n / 10)))
INSERT INTO conversations(id, name, owner, deleted, created_at)
SELECT lower(hex(randomblob(4))) || printf('-%04x-4%03x-8%03x-%012x', x % 65536, x % 4096, x % 4096, x),
       'history ' || x, 'user' || (x % 10000), 0, '2026-01-01T00:00:00.000000Z' FROM c;
INSERT INTO members(conversation_id, user_id) SELECT id, owner FROM conversations;
INSERT INTO members(conversation_id, user_id) SELECT id, 'peer' || substr(id, 1, 6) FROM conversations;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $n)
INSERT INTO outbox(event_id, conversation_id, event_type, created_at, payload)
SELECT printf('%08x-0000-4000-8000-%012x', x, x), printf('%08x-0000-4000-8000-%012x', x % $((n / 10)), 0),
       'userSentMessageToConversation', '2026-01-01T00:00:00.000000Z',
       '{"message_content":"' || hex(randomblob(80)) || '"}' FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $((n / 10)))
INSERT INTO idempotency(subject, key, fingerprint, status, body, created_at)
SELECT 'user' || (x % 10000), 'key-' || x, hex(randomblob(16)), 201,
       '{"id":"' || hex(randomblob(16)) || '"}', CAST(strftime('%s', 'now') AS INTEGER) FROM c;
UPDATE publisher SET published_seq = (SELECT max(seq) FROM outbox);
COMMIT;
SQL
	echo "history events=$n conversations=$((n / 10)) idempotency_keys=$((n / 10)) db_mb=$(( $(stat -c %s "$dir/msgcmd.db") / 1048576 )) written_s=$(( $(date +%s) - t0 ))" |
	    tee -a "$OUT"
	IDEM=1 CONNS=32 with_stack empty "$ROOT/lighttpd.conf" \
	    SQLITE_SYNCHRONOUS=NORMAL TOPIC="bench-empty-$$"
	IDEM=1 CONNS=32 with_stack history "$ROOT/lighttpd.conf" \
	    SQLITE_SYNCHRONOUS=NORMAL TOPIC="bench-history-$$"
}

# lag: the create-only load at half the rate of the NORMAL run at 8
# connections (each connection pausing between requests), on a fresh
# database and a topic warmed by one event; then the publish lag of
# those events.
lag() {
	local rps delay topic="bench-lag-$$"
	rps=$(sed -nE 's/^normal\/create c=8 rps=([0-9]+).*/\1/p' "$OUT")
	[ -n "$rps" ] && [ "$rps" -gt 0 ] || rps=1000
	# 8 connections at rps/2 in all: each waits 16000/rps ms.
	delay=$(( 16000 / rps ))
	[ "$delay" -ge 1 ] || delay=1
	echo "lag target_rps=$((rps / 2)) delay_ms=$delay" | tee -a "$OUT"
	WARM_TOPIC=$topic DELAY_MS=$delay CONNS=8 CREATE_ONLY=1 \
	    with_stack lag "$ROOT/lighttpd.conf" SQLITE_SYNCHRONOUS=NORMAL \
	    TOPIC="$topic"
	publish_lag "$topic"
}

# soak: the mixed load at 8 connections for SOAK seconds, the responders'
# RSS sampled every SOAK/10 seconds.
soak() {
	local dir="$STATE/soak" i
	mkdir -p "$dir"
	env SQLITE_SYNCHRONOUS=NORMAL TOPIC="bench-soak-$$" \
	    DATABASE_PATH="$dir/msgcmd.db" MSGCMD_ERRORLOG="$dir/lighttpd.log" \
	    MSGCMD_ROOT="$ROOT" MSGCMD_BUILD="${MSGCMD_BUILD:-build}" \
	    MSGCMD_STATE="$dir" PORT="$PORT" \
	    lighttpd -D -f "$ROOT/lighttpd.conf" 2>>"$dir/lighttpd.log" &
	STACK_LIGHTTPD_PID=$!
	up "$STACK_LIGHTTPD_PID" || { echo "bench: soak did not start" >&2; exit 1; }
	rss soak/0s
	for i in $(seq 10); do
		SECS=$((SOAK / 10)) wrk_run soak/mix 8 mix >/dev/null
		rss "soak/$((i * SOAK / 10))s"
	done
	kill -TERM "$STACK_LIGHTTPD_PID"; wait "$STACK_LIGHTTPD_PID"
	STACK_LIGHTTPD_PID=
}

build_tools || { echo "bench: cannot build the tools" >&2; exit 1; }
stack_kafka "$STATE" "$(scripts/kafka.sh port)"
stack_keys "$STATE"
TOKEN=$(build/msgcmd-token --key "$STACK_PRIVATE_KEY" --sub bench --ttl 7200)
PORT=$(free_port)
: >"$OUT"

part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

if part sqlite; then
	for s in NORMAL FULL; do
		echo "sqlite/$s commits_per_s=$(build/bench/sqlite_rate "$STATE/rate-$s.db" "$s" 5)" |
		    tee -a "$OUT"
	done
fi
cat >"$STATE/trivial.conf" <<CONF
include "$ROOT/lighttpd.conf"
fastcgi.server := ( "/" => (( "socket" => "$STATE/trivial.sock",
	"bin-path" => "$ROOT/build/bench/trivial", "max-procs" => 4,
	"check-local" => "disable" )) )
CONF
part trivial && with_stack trivial "$STATE/trivial.conf"
part normal && with_stack normal "$ROOT/lighttpd.conf" SQLITE_SYNCHRONOUS=NORMAL TOPIC="bench-normal-$$"
part full && with_stack full "$ROOT/lighttpd.conf" SQLITE_SYNCHRONOUS=FULL TOPIC="bench-full-$$"
part lag && lag
part drain && drain
part history && [ "$HISTORY" -gt 0 ] && history
part soak && [ "$SOAK" -gt 0 ] && soak
python3 tests/bench/table.py "$OUT"
