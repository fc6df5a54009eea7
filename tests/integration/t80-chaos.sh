#!/usr/bin/env bash
# t80-chaos.sh: a short chaos run (its own broker, lighttpd and topic):
# SIGKILLs of responders and the publisher and a broker restart while
# clients send commands with Idempotency-Keys.  `make chaos` is the long one.
. "$(dirname "$0")/lib.sh"

out=$(CHAOS_COMMANDS=${CHAOS_COMMANDS:-3000} CHAOS_KILLS=${CHAOS_KILLS:-12} \
    CHAOS_RESTARTS=${CHAOS_RESTARTS:-1} CHAOS_USERS=${CHAOS_USERS:-8} \
    CHAOS_KILL_EVERY_MS=${CHAOS_KILL_EVERY_MS:-400} CHAOS_RESTART_EVERY_S=${CHAOS_RESTART_EVERY_S:-4} \
    "$ROOT/tests/chaos/chaos.sh" 2>&1)
rc=$?
line=$(grep '^chaos: ' <<<"$out")
echo "# ${line:-$(tail -5 <<<"$out")}"
figure() { sed -nE "s/.* $1=([0-9.a-z]+).*/\1/p" <<<"$line"; }
is "chaos run exits 0" "$rc" 0
for f in lost duplicated misordered phantom null_or_wrong_key replay_mismatch unresolved; do
	is "chaos: $f" "$(figure "$f")" 0
done
is "chaos: every command answered and accepted" "$(figure accepted)" "$(figure commands)"
is "chaos: the backlog drained" "$(figure drained)" yes
is "chaos: every planned SIGKILL was sent" "$(figure kills)" "${CHAOS_KILLS:-12}"
is "chaos: every planned broker restart happened" "$(figure broker_restarts)" "${CHAOS_RESTARTS:-1}"
