/* store_health.c: what the store can say of itself: row counts for a
 * rebuild's summary, the outbox and publisher figures for /readyz and
 * /metrics, and a probe that the database still takes writes. */
#include "store.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "store_int.h"

int store_count(struct store *st, struct store_counts *c)
{
	sqlite3_stmt *s = NULL;
	int rc;

	memset(c, 0, sizeof *c);
	rc = sqlite3_prepare_v2(st->db, "SELECT"
	    " (SELECT COUNT(*) FROM conversations),"
	    " (SELECT COUNT(*) FROM conversations WHERE deleted),"
	    " (SELECT COUNT(*) FROM members)", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		c->conversations = sqlite3_column_int64(s, 0);
		c->deleted = sqlite3_column_int64(s, 1);
		c->members = sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	return db_err(rc);
}

int store_health(struct store *st, struct store_health *h)
{
	sqlite3_stmt *s = st->stmt[S_HEALTH];
	int rc, err;

	memset(h, 0, sizeof *h);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(s, 3);

		h->last_seq = sqlite3_column_int64(s, 0);
		h->published_seq = sqlite3_column_int64(s, 1);
		h->backlog = h->last_seq - h->published_seq;
		h->publisher_pid = (long)sqlite3_column_int64(s, 2);
		snprintf(h->publisher_state, sizeof h->publisher_state, "%s",
		    state ? state : "");
		h->publisher_seen = sqlite3_column_int64(s, 4);
	}
	/* No publisher row means db.c's schema was not applied: an error. */
	err = store_end(s, rc);
	return err == 0 && rc == SQLITE_DONE ? STORE_EIO : err;
}

/* BEGIN IMMEDIATE alone proves the write lock, not the disk: it writes
 * nothing, and neither does rewriting a row unchanged (SQLite skips the
 * page).  So the probe moves the publisher's heartbeat one second and
 * back: the page is dirty, COMMIT appends it to the WAL, and a full disk
 * or read-only file fails the probe as it would fail a command.  Nobody
 * sees the intermediate value, and the publisher's value is kept. */
int store_writable(struct store *st)
{
	int err = store_begin(st);

	if (err != 0)
		return err;
	err = store_run(st->stmt[S_TOUCH_UP]);
	if (err == 0)
		err = store_run(st->stmt[S_TOUCH_DOWN]);
	if (err == 0)
		return store_commit(st);
	store_rollback(st);
	return err;
}
