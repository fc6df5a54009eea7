/* outbox.c: the publisher's own SQLite connection: committed events in
 * seq order, the published cursor, the heartbeat row and the purge of
 * expired idempotency rows. */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "store.h"

enum outbox_stmt {
	OB_FETCH, OB_CURSOR, OB_ADVANCE, OB_HEARTBEAT, OB_PENDING, OB_LAST,
	OB_PURGE, OB__MAX
};

/* Prepared once: the publisher runs these in a loop for hours. */
static const char *const outbox_sql[OB__MAX] = {
	[OB_FETCH] = "SELECT seq, conversation_id, event_id, event_type,"
	    " created_at, idem_key, payload FROM outbox"
	    " WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[OB_CURSOR] = "SELECT published_seq FROM publisher WHERE id = 1",
	/* One statement, so one implicit transaction: cursor and heartbeat
	 * change together.  MAX() keeps the cursor from ever moving
	 * backwards, whatever a confused caller passes. */
	[OB_ADVANCE] = "UPDATE publisher SET"
	    " published_seq = MAX(published_seq, ?1), pid = ?2, state = ?3,"
	    " seen = ?4 WHERE id = 1",
	[OB_HEARTBEAT] = "UPDATE publisher SET pid = ?1, state = ?2, seen = ?3"
	    " WHERE id = 1",
	[OB_PENDING] = "SELECT 1 FROM outbox WHERE seq > ?1 LIMIT 1",
	[OB_LAST] = "SELECT COALESCE(MAX(seq), 0) FROM outbox",
	/* The table is WITHOUT ROWID, hence the row-value IN.  The subquery
	 * walks the idempotency_age index, which also holds the key columns,
	 * so the write lock is held for about LIMIT row deletions. */
	[OB_PURGE] = "DELETE FROM idempotency WHERE (subject, key) IN"
	    " (SELECT subject, key FROM idempotency WHERE created_at < ?1"
	    " LIMIT ?2)",
};

struct outbox {
	sqlite3 *db;
	sqlite3_stmt *stmt[OB__MAX];
	const int *busy_timeout_ms;	/* the configured wait, restored */
};

/* How long a WAL restart may keep the responders' commits waiting. */
static const int outbox_restart_wait_ms = 20;

int outbox_open(struct outbox **out, const struct config *cfg, char *errstr,
    size_t errstr_size)
{
	struct outbox *ob = calloc(1, sizeof *ob);
	int rc;

	*out = NULL;
	if (ob == NULL)
		return STORE_ENOMEM;
	rc = db_open(cfg, &ob->db, errstr, errstr_size);
	/* This connection checkpoints when told to (outbox_checkpoint). */
	if (rc == 0)
		sqlite3_wal_autocheckpoint(ob->db, 0);
	ob->busy_timeout_ms = &cfg->busy_timeout_ms;
	for (int i = 0; rc == 0 && i < OB__MAX; i++) {
		if (sqlite3_prepare_v3(ob->db, outbox_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &ob->stmt[i], NULL) != SQLITE_OK) {
			snprintf(errstr, errstr_size, "DATABASE_PATH: %s",
			    sqlite3_errmsg(ob->db));
			rc = STORE_EOPEN;
		}
	}
	if (rc != 0) {
		outbox_close(ob);
		return rc;
	}
	*out = ob;
	return 0;
}

void outbox_close(struct outbox *ob)
{
	if (ob == NULL)
		return;
	for (int i = 0; i < OB__MAX; i++)
		sqlite3_finalize(ob->stmt[i]);
	sqlite3_close(ob->db);
	free(ob);
}

/* Steps a statement that returns no rows, then resets it so that no
 * transaction stays open between calls. */
static int outbox_exec(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_err(rc);
}

int outbox_cursor(struct outbox *ob, int64_t *seq)
{
	sqlite3_stmt *st = ob->stmt[OB_CURSOR];
	int rc = sqlite3_step(st);

	*seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	/* The schema inserts the row; SQLITE_DONE means it was deleted. */
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_EIO : db_err(rc);
}

/* Copies text column col into dst of size cap; a value that does not fit
 * is a corrupt row, not something to publish truncated. */
static int outbox_copy(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);

	if (s == NULL || len >= cap)
		return STORE_EIO;
	memcpy(dst, s, len + 1);
	return 0;
}

/* Duplicates a text or blob column into a malloc'd NUL-terminated copy. */
static char *outbox_dup(sqlite3_stmt *st, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	char *s = malloc(n + 1);

	if (s != NULL) {
		if (n > 0)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	if (len != NULL)
		*len = n;
	return s;
}

/* Fills r from the current result row of the fetch statement. */
static int outbox_read_row(sqlite3_stmt *st, struct outbox_row *r)
{
	memset(r, 0, sizeof *r);
	r->seq = sqlite3_column_int64(st, 0);
	if (outbox_copy(st, 1, r->conversation_id, sizeof r->conversation_id)
	    || outbox_copy(st, 2, r->event_id, sizeof r->event_id)
	    || outbox_copy(st, 3, r->event_type, sizeof r->event_type)
	    || outbox_copy(st, 4, r->created_at, sizeof r->created_at))
		return STORE_EIO;
	if (sqlite3_column_type(st, 5) != SQLITE_NULL &&
	    (r->idem_key = outbox_dup(st, 5, NULL)) == NULL)
		return STORE_ENOMEM;
	r->payload = outbox_dup(st, 6, &r->payload_len);
	return r->payload != NULL ? 0 : STORE_ENOMEM;
}

int outbox_fetch(struct outbox *ob, int64_t after, struct outbox_row *rows,
    int max, int *n)
{
	sqlite3_stmt *st = ob->stmt[OB_FETCH];
	int rc = SQLITE_ROW, err = 0;

	*n = 0;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, max);
	while (err == 0 && *n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		err = outbox_read_row(st, &rows[*n]);
		(*n)++;
	}
	sqlite3_reset(st);
	if (err == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = db_err(rc);
	if (err != 0) {
		outbox_rows_free(rows, *n);
		*n = 0;
	}
	return err;
}

void outbox_rows_free(struct outbox_row *rows, int n)
{
	for (int i = 0; i < n; i++) {
		free(rows[i].idem_key);
		free(rows[i].payload);
		rows[i].idem_key = rows[i].payload = NULL;
	}
}

int outbox_advance(struct outbox *ob, int64_t seq, long pid,
    const char *state)
{
	sqlite3_stmt *st = ob->stmt[OB_ADVANCE];

	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_text(st, 3, state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	return outbox_exec(st);
}

int outbox_heartbeat(struct outbox *ob, long pid, const char *state)
{
	sqlite3_stmt *st = ob->stmt[OB_HEARTBEAT];

	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	return outbox_exec(st);
}

int outbox_pending(struct outbox *ob, int64_t after)
{
	sqlite3_stmt *st = ob->stmt[OB_PENDING];
	int rc;

	sqlite3_bind_int64(st, 1, after);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_err(rc);
}

int outbox_last(struct outbox *ob, int64_t *seq)
{
	sqlite3_stmt *st = ob->stmt[OB_LAST];
	int rc = sqlite3_step(st);

	*seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : db_err(rc);
}

int outbox_purge_idempotency(struct outbox *ob, int64_t older_than,
    int limit, int *deleted)
{
	sqlite3_stmt *st = ob->stmt[OB_PURGE];
	int rc;

	*deleted = 0;
	sqlite3_bind_int64(st, 1, older_than);
	sqlite3_bind_int(st, 2, limit);
	if ((rc = outbox_exec(st)) == 0)
		*deleted = sqlite3_changes(ob->db);
	return rc;
}

int outbox_checkpoint(struct outbox *ob, int restart_pages, int *wal_pages)
{
	int log = 0, done = 0;
	int rc = sqlite3_wal_checkpoint_v2(ob->db, NULL,
	    SQLITE_CHECKPOINT_PASSIVE, &log, &done);

	/* A steady load never lets a passive checkpoint finish: restart
	 * the WAL, waiting for the writer and readers of the moment.  New
	 * commits wait meanwhile, so not for long: a reader that keeps its
	 * snapshot makes it fail, and it is tried again later. */
	if (rc == SQLITE_OK && log >= restart_pages) {
		db_busy_wait(ob->db, &outbox_restart_wait_ms);
		rc = sqlite3_wal_checkpoint_v2(ob->db, NULL,
		    SQLITE_CHECKPOINT_RESTART, &log, &done);
		db_busy_wait(ob->db, ob->busy_timeout_ms);
	}
	*wal_pages = log;
	return db_err(rc);
}
