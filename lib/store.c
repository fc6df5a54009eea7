/* store.c: the write model's statements, its opening and its
 * transactions: one SQLite transaction per command (store_command.c). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "config.h"
#include "db.h"
#include "store_int.h"

/* The state statements share one binding convention, so that store_apply
 * can run them from a table: ?1 conversation id, ?2 user, ?3 name,
 * ?4 created_at.  Each uses a prefix of these. */
static const char *const store_sql[S__MAX] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	/* One primary-key lookup plus two on the members key; ?3 may be
	 * NULL, which makes both participant columns 0. */
	[S_LOAD] = "SELECT deleted, owner = ?2, owner IS ?3,"
	    " EXISTS(SELECT 1 FROM members"
	    "  WHERE conversation_id = ?1 AND user_id = ?2),"
	    " EXISTS(SELECT 1 FROM members"
	    "  WHERE conversation_id = ?1 AND user_id = ?3)"
	    " FROM conversations WHERE id = ?1",
	[S_INS_CONV] = "INSERT INTO conversations(id, owner, name, created_at)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[S_INS_MEMBER] = "INSERT INTO members(conversation_id, user_id)"
	    " VALUES (?1, ?2)",
	[S_DEL_MEMBER] = "DELETE FROM members"
	    " WHERE conversation_id = ?1 AND user_id = ?2",
	[S_DEL_CONV] = "UPDATE conversations SET deleted = 1 WHERE id = ?1",
	[S_INS_OUTBOX] = "INSERT INTO outbox(event_id, conversation_id,"
	    " event_type, created_at, idem_key, payload)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* REPLACE: an expired row for the same key may still be there. */
	[S_INS_IDEM] = "INSERT OR REPLACE INTO idempotency(subject, key,"
	    " fingerprint, status, body, created_at)"
	    " VALUES (?1, ?2, ?3, ?6, ?4, ?5)",
	[S_FIND_IDEM] = "SELECT fingerprint, status, body FROM idempotency"
	    " WHERE subject = ?1 AND key = ?2 AND created_at >= ?3",
	/* seq is the rowid, so "ORDER BY seq DESC LIMIT 1" is one b-tree
	 * step.  The cursor is a floor for it: published rows may have been
	 * purged.  One statement, so one snapshot for both numbers. */
	[S_HEALTH] = "SELECT MAX(COALESCE((SELECT seq FROM outbox"
	    " ORDER BY seq DESC LIMIT 1), 0), published_seq),"
	    " published_seq, pid, state, seen FROM publisher WHERE id = 1",
	/* A page write that changes nothing in the end; see
	 * store_writable(). */
	[S_TOUCH_UP] = "UPDATE publisher SET seen = seen + 1 WHERE id = 1",
	[S_TOUCH_DOWN] = "UPDATE publisher SET seen = seen - 1 WHERE id = 1",
};

static const char *const store_errors[] = {
	[-STORE_OK] = "success",
	[-STORE_EBUSY] = "database busy: lock not obtained in time",
	[-STORE_EFULL] = "database or disk is full",
	[-STORE_EREADONLY] = "database is read-only",
	[-STORE_EIO] = "database error",
	[-STORE_ENOMEM] = "out of memory",
	[-STORE_EOPEN] = "cannot open the database",
};

const char *store_strerror(int err)
{
	if (err > 0 || -err >= (int)(sizeof store_errors /
	    sizeof store_errors[0]))
		return "unknown store error";
	return store_errors[-err];
}

int store_transient(int err)
{
	return err == STORE_EBUSY || err == STORE_EREADONLY ||
	    err == STORE_EFULL;
}

/* Makes s ready for reuse and maps rc, the result of its last step: a
 * row or done is 0.  The bindings are cleared so that no pointer borrowed
 * with SQLITE_STATIC outlives the call that bound it. */
int store_end(sqlite3_stmt *s, int rc)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(rc);
}

int store_run(sqlite3_stmt *s)
{
	return store_end(s, sqlite3_step(s));
}

/* Binds text, or NULL when t is NULL; SQLITE_STATIC, see store_end(). */
int store_text(sqlite3_stmt *s, int i, const char *t)
{
	return sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
}

/* Runs sql (several statements, no parameters); rolls back on error. */
int store_exec(struct store *st, const char *sql)
{
	int err = db_err(sqlite3_exec(st->db, sql, NULL, NULL, NULL));

	if (err != 0)
		store_rollback(st);
	return err;
}

void store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < S__MAX; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

/* Prepares every statement of store_sql, persistent because each lives
 * as long as the process. */
static int store_prepare(struct store *st, const char *path, char *errstr,
    size_t errstr_size)
{
	int i;

	for (i = S_NONE + 1; i < S__MAX; i++)
		if (sqlite3_prepare_v3(st->db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK) {
			snprintf(errstr, errstr_size, "DATABASE_PATH: %s: %s",
			    path, sqlite3_errmsg(st->db));
			return STORE_EOPEN;
		}
	return 0;
}

int store_open(struct store **out, const struct config *cfg, char *errstr,
    size_t errstr_size)
{
	struct store *st;
	int rc;

	*out = NULL;
	if ((st = calloc(1, sizeof *st)) == NULL) {
		snprintf(errstr, errstr_size, "DATABASE_PATH: out of memory");
		return STORE_EOPEN;
	}
	rc = db_open(cfg, &st->db, errstr, errstr_size);
	if (rc == 0)
		rc = store_prepare(st, cfg->db_path, errstr, errstr_size);
	if (rc != 0) {
		store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void store_rollback(struct store *st)
{
	/* SQLite may have rolled back by itself (after SQLITE_FULL, say);
	 * a ROLLBACK with no transaction would only be an error. */
	if (!sqlite3_get_autocommit(st->db))
		store_run(st->stmt[S_ROLLBACK]);
}

int store_begin(struct store *st)
{
	/* A transaction left open by an earlier request would hold the write
	 * lock against every other process; nothing in it was answered 2xx,
	 * so it is dropped rather than carried into this request. */
	store_rollback(st);
	return store_run(st->stmt[S_BEGIN]);
}

int store_commit(struct store *st)
{
	int err = store_run(st->stmt[S_COMMIT]);

	if (err != 0)
		store_rollback(st);
	return err;
}

