#!/usr/bin/env bash
# t95-rebuild.sh: runs after t90.  Once the live publisher has published
# everything, msgcmd-rebuild rebuilds the write model from the suite's
# topic alone into a new file, which must equal the live database row
# for row; it refuses a database that is not new.
. "$(dirname "$0")/lib.sh"

REBUILD="$BIN/msgcmd-rebuild"
# rebuild ARGS...: msgcmd-rebuild, its sanitizer reports (if any) kept.
rebuild() { env "${SAN_ENV[@]}" "$REBUILD" "$@"; }
NEW="$STATE/rebuilt.db"
if [ ! -x "$REBUILD" ]; then
	not_ok "build/msgcmd-rebuild exists (add \$(B)/msgcmd-rebuild to PROGS)"
	exit 0
fi

# live SQL / new SQL: one query's rows from either database.
live() { sqlite3 -batch "$DATABASE_PATH" "$1"; }
new() { sqlite3 -batch "$NEW" "$1"; }

# Everything accepted must be on the topic before it is read back.
wait_published 60
is "the live publisher drained the outbox" "$(backlog)" 0

start=$(date +%s%N)
out=$(rebuild --db "$NEW" 2>&1)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "# ${out##*$'\n'} (wall ${ms} ms)"
is "msgcmd-rebuild exits 0" "$rc" 0
summary=$(grep '^msgcmd-rebuild: read ' <<<"$out")
is "the summary line says skipped 0" \
    "$(grep -Eo ' skipped [0-9]+ ' <<<"$summary")" " skipped 0 "
is "every accepted event was read once" \
    "$(sed -nE 's/^msgcmd-rebuild: read ([0-9]+) .*/\1/p' <<<"$summary")" \
    "$(wc -l <"$ACCEPTED")"

conv_sql='SELECT id, name, owner, deleted, created_at FROM conversations ORDER BY id'
memb_sql='SELECT conversation_id, user_id FROM members ORDER BY 1, 2'
n=$(live 'SELECT COUNT(*) FROM conversations')
m=$(live 'SELECT COUNT(*) FROM members')
if [ "${n:-0}" -gt 0 ] && [ "${m:-0}" -gt 0 ]; then
	ok "the live database has something to compare ($n conversations, $m members)"
else
	not_ok "the live database has conversations and members: got '$n', '$m'"
fi
is "conversations (id, name, owner, deleted, created_at) equal the live ones" \
    "$(new "$conv_sql" | md5sum)" "$(live "$conv_sql" | md5sum)"
is "members equal the live ones" \
    "$(new "$memb_sql" | md5sum)" "$(live "$memb_sql" | md5sum)"
is "deleted conversations equal the live ones" \
    "$(new 'SELECT COUNT(*) FROM conversations WHERE deleted')" \
    "$(live 'SELECT COUNT(*) FROM conversations WHERE deleted')"
is "the rebuilt database has no outbox or idempotency rows" \
    "$(new 'SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM idempotency)')" 0
# New events must follow the topic's msgcmd-seq numbers, not restart at 1.
is "the rebuilt publisher cursor continues the live sequence" \
    "$(new 'SELECT published_seq FROM publisher')" \
    "$(live 'SELECT published_seq FROM publisher')"

# It writes only into a new database.
before=$(md5sum <"$NEW")
out=$(rebuild --db "$NEW" 2>&1)
rc=$?
is "a second rebuild into the same file is refused" "$rc" 1
is "the refusal names the file" \
    "$(grep -c "rebuilt.db: exists and is not empty" <<<"$out")" 1
is "the refused database is unchanged" "$(md5sum <"$NEW")" "$before"
rebuild --db "$DATABASE_PATH" >/dev/null 2>&1
is "a rebuild into the live database is refused" "$?" 1

# A failed rebuild leaves no file behind, so a retry is not refused.
rebuild --db "$STATE/none.db" --topic "no-such-topic-$$" >/dev/null 2>&1
is "an unknown topic fails" "$?" 1
is "and leaves no database behind" "$(ls "$STATE" | grep -c '^none\.db')" 0
