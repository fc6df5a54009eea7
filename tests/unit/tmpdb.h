/* tmpdb.h: for the tests over a real SQLite file: a fresh temporary
 * directory per test that holds the database, the config naming it,
 * and raw connections of the test's own that play another process (to
 * check what was committed, change rows behind the code's back, hold
 * locks). */
#ifndef MSGCMD_TEST_TMPDB_H
#define MSGCMD_TEST_TMPDB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sqlite3.h>

#include "config.h"

struct tmpdb {
	char dir[64];
	char path[96];		/* <dir>/msgcmd.db */
	struct config cfg;	/* names path; lives as long as the test */
};

/* Makes the directory /tmp/<name>.XXXXXX and fills t: cfg names
 * <dir>/msgcmd.db (not created yet) with synchronous NORMAL and a busy
 * timeout of busy_ms. */
static inline void tmpdb_make(struct tmpdb *t, const char *name, int busy_ms)
{
	memset(t, 0, sizeof *t);
	snprintf(t->dir, sizeof t->dir, "/tmp/%s.XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->path, sizeof t->path, "%s/msgcmd.db", t->dir);
	t->cfg.db_path = t->path;
	t->cfg.synchronous = SYNC_NORMAL;
	t->cfg.busy_timeout_ms = busy_ms;
}

/* Removes the directory and all in it (the database, its -wal and -shm,
 * the metrics file beside it). */
static inline void tmpdb_remove(const struct tmpdb *t)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Opens another connection to the file, which waits up to a second for
 * a lock; the caller closes it with sqlite3_close(). */
static inline sqlite3 *tmpdb_other(const struct tmpdb *t)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open(t->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 1000);
	return db;
}

/* Runs sql (statements without results) on another connection. */
static inline void tmpdb_exec(const struct tmpdb *t, const char *sql)
{
	sqlite3 *db = tmpdb_other(t);

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* Runs a query of one integer on the connection db. */
static inline long long tmpdb_int_on(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long n;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* The same on another connection. */
static inline long long tmpdb_int(const struct tmpdb *t, const char *sql)
{
	sqlite3 *db = tmpdb_other(t);
	long long n = tmpdb_int_on(db, sql);

	sqlite3_close(db);
	return n;
}

#endif
