#!/usr/bin/env bash
# t60-sqlite-faults.sh: the 503 row of SPEC section 2.  On a stack of its
# own whose database lives on a small tmpfs, with a 300 ms busy timeout
# and no publisher: a full disk, a file system that fails writes as a
# read-only one does, and a write lock held past the busy timeout each
# answer 503 with Retry-After and problem+json, /readyz says 503, nothing
# is half-written (integrity_check, row counts equal the accepted
# commands), and once the fault is gone the same responders, not
# restarted, accept commands again.  Needs root (mount); says SKIP
# otherwise.  The read-only part needs strace, see there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/extra-stack.sh"

DIR="$STATE/t60" MNT="$STATE/t60/db"
DB="$MNT/msgcmd.db"
mkdir -p "$MNT"
MOUNTED="" HELPER_PID=""
cleanup() {
	[ -n "$HELPER_PID" ] && kill -TERM "$HELPER_PID" 2>/dev/null &&
		wait "$HELPER_PID" 2>/dev/null
	extra_stop_all
	[ -z "$MOUNTED" ] || umount "$MNT" || echo "# could not unmount $MNT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$MNT" 2>/dev/null; then
	ok "# SKIP cannot mount a tmpfs (needs root)"
	exit 0
fi
MOUNTED=yes

extra_start "$DIR" DATABASE_PATH="$DB" SQLITE_BUSY_TIMEOUT_MS=300 PUBLISHER=off ||
	{ not_ok "fault stack starts"; exit 1; }
X=$EXTRA_BASE
RESPONDERS=$(extra_children "$EXTRA_PID" | sort | tr '\n' ' ')
ACCEPTED_N=0 CREATED_N=0	# what this stack accepted, to count rows by

# cmd METHOD PATH [curl args...]: alice's command on the fault stack,
# counting what it accepts.
cmd() {
	extra_as "$X" alice "$@"
	if [ "$STATUS" = 201 ]; then
		ACCEPTED_N=$((ACCEPTED_N + 1))
		[ "$(jq -r .event <<<"$BODY")" = userCreatedConversation ] &&
			CREATED_N=$((CREATED_N + 1))
	fi
	return 0
}

# unavailable DESC: the last answer is the store's 503.
unavailable() {
	status_is "$1: 503" 503
	header_has "$1: Retry-After" '^retry-after: [0-9]+$'
	header_has "$1: problem+json" '^content-type: application/problem\+json$'
	body_is "$1: problem type" .type urn:msgcmd:problem:store-unavailable
}

ready_is() {	# ready_is DESC WANT: /readyz's status
	extra_req "$X" GET /readyz
	status_is "$1" "$2"
}

sql() { sqlite3 -batch -noheader "$DB" "$1"; }

# intact DESC: the database passes integrity_check and holds exactly the
# rows of the commands this stack accepted.
intact() {
	is "$1: integrity_check" "$(sql 'PRAGMA integrity_check')" ok
	is "$1: one outbox row per accepted command" \
	    "$(sql 'SELECT count(*) FROM outbox')" "$ACCEPTED_N"
	is "$1: one conversation per accepted create" \
	    "$(sql 'SELECT count(*) FROM conversations')" "$CREATED_N"
}

# same_responders DESC: the responders are those the stack started with.
same_responders() {
	is "$1: the same responders, none restarted" \
	    "$(extra_children "$EXTRA_PID" | sort | tr '\n' ' ')" "$RESPONDERS"
}

cmd POST /conversations/ "${JSON[@]}" -d '{"name":"before faults"}'
status_is "fault stack accepts a create" 201
CID=$(jq -r .id <<<"$BODY")
cmd POST "/conversations/$CID" "${JSON[@]}" -d '{"message_content":"hello"}'
status_is "fault stack accepts a message" 201
intact "before faults"

# --- disk full --------------------------------------------------------------
# The filler takes every free block; the database and its WAL keep theirs.
dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null
is "the tmpfs is full" "$(df --output=avail "$MNT" | tail -1 | tr -d ' ')" 0
# The WAL may have room left in blocks it already has: commands until one
# needs a new block.
for i in $(seq 50); do
	cmd POST /conversations/ "${JSON[@]}" -d "{\"name\":\"full $i\"}"
	[ "$STATUS" = 201 ] || break
done
FAILED_NAME="full $i"
unavailable "disk full: create"
body_is "disk full: detail says so" .detail "database or disk is full"
cmd POST "/conversations/$CID" "${JSON[@]}" -d '{"message_content":"full"}'
unavailable "disk full: message"
ready_is "disk full: /readyz 503" 503
rm -f "$MNT/filler"
cmd POST /conversations/ "${JSON[@]}" -d '{"name":"after full"}'
status_is "space freed: the next create is 201" 201
ready_is "space freed: /readyz 200" 200
same_responders "disk full"
intact "disk full"
is "disk full: the refused create left no conversation" \
    "$(sql "SELECT count(*) FROM conversations WHERE name = '$FAILED_NAME'")" 0
echo "# disk full: $((i - 1)) creates fitted in the WAL's blocks before the first 503"

# --- read-only --------------------------------------------------------------
# `mount -o remount,ro` is refused (EBUSY) while any process holds a file
# of the mount open for writing, as every responder holds the database,
# so a running service never meets it.  It meets a file system turned
# read-only under it by the kernel after an I/O error (ext4
# errors=remount-ro): each write then fails with EROFS.  strace injects
# exactly that into the responders' writes (SQLite writes with pwrite64;
# the -shm index is memory-mapped and stays writable, as it does on such
# a file system), and detaching ends the fault without a restart.
if err=$(mount -o remount,ro "$MNT" 2>&1); then
	mount -o remount,rw "$MNT"
	echo "# note: remount,ro was allowed here; EROFS is injected all the same"
else
	echo "# remount,ro while the responders run: ${err%%$'\n'*}"
fi
tracers() {	# tracers: the TracerPid of each responder
	local p
	for p in $RESPONDERS; do awk '/^TracerPid:/ {print $2}' "/proc/$p/status"; done | sort -u | tr '\n' ' '
}
if ! command -v strace >/dev/null; then
	ok "# SKIP read-only: strace is not installed"
else
	# shellcheck disable=SC2046
	strace -qq -f -o /dev/null -e trace=pwrite64 \
	    -e inject=pwrite64:error=EROFS $(printf -- '-p %s ' $RESPONDERS) &
	HELPER_PID=$!
	for i in $(seq 100); do
		[ "$(tracers)" = "$HELPER_PID " ] && break
		sleep 0.05
	done
	is "read-only: every responder's writes fail with EROFS" "$(tracers)" "$HELPER_PID "
	cmd POST /conversations/ "${JSON[@]}" -d '{"name":"read-only"}'
	unavailable "read-only: create"
	echo "# read-only: the 503 says: $(jq -r .detail <<<"$BODY")"
	cmd POST "/conversations/$CID" "${JSON[@]}" -d '{"message_content":"read-only"}'
	unavailable "read-only: message"
	ready_is "read-only: /readyz 503" 503
	kill -TERM "$HELPER_PID" && wait "$HELPER_PID" 2>/dev/null
	HELPER_PID=""
	for i in $(seq 100); do
		[ "$(tracers)" = "0 " ] && break
		sleep 0.05
	done
	is "writable again: strace detached" "$(tracers)" "0 "
	cmd POST /conversations/ "${JSON[@]}" -d '{"name":"after read-only"}'
	status_is "writable again: the next create is 201" 201
	ready_is "writable again: /readyz 200" 200
	same_responders "read-only"
	intact "read-only"
	is "read-only: the refused create left no conversation" \
	    "$(sql "SELECT count(*) FROM conversations WHERE name = 'read-only'")" 0
fi

# --- a write lock held past the busy timeout --------------------------------
coproc LOCK { exec python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
' "$DB"; }
HELPER_PID=$LOCK_PID
read -r -t 10 locked <&"${LOCK[0]}"
is "another process holds the write lock" "$locked" locked
# The token first: the time measured is the request's alone.
TOK=$(token alice)
t0=$(date +%s%N)
extra_req "$X" POST /conversations/ -H "Authorization: Bearer $TOK" \
    "${JSON[@]}" -d '{"name":"locked out"}'
ms=$((($(date +%s%N) - t0) / 1000000))
unavailable "lock held: create"
body_is "lock held: detail says busy" .detail "database busy: lock not obtained in time"
# Under 4.5 s: well before the 5 s default would have given up.
is "lock held: the 503 came after the 300 ms busy timeout, not much later" \
    "$([ "$ms" -ge 250 ] && [ "$ms" -lt 4500 ] && echo yes || echo "no: $ms ms")" yes
ready_is "lock held: /readyz 503" 503
echo >&"${LOCK[1]}"
wait "$HELPER_PID"
is "the lock holder rolled back and ended" "$?" 0
HELPER_PID=""
cmd POST /conversations/ "${JSON[@]}" -d '{"name":"after the lock"}'
status_is "lock released: the next create is 201" 201
ready_is "lock released: /readyz 200" 200
same_responders "lock held"
intact "lock held"
is "lock held: the refused create left no conversation" \
    "$(sql "SELECT count(*) FROM conversations WHERE name = 'locked out'")" 0

extra_stop "$EXTRA_PID"
is "fault stack stopped, no responder left" "$?" 0
