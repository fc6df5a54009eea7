/* db.c: opens the database with our pragmas and creates the schema. */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "store.h"

/* outbox.seq is AUTOINCREMENT so that a sequence number is never reused,
 * even after published rows are purged: the publisher's cursor and the
 * Kafka header carrying it stay unambiguous. */
static const char db_schema[] =
    "CREATE TABLE IF NOT EXISTS conversations("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, owner TEXT NOT NULL,"
    " deleted INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS members("
    " conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,"
    " PRIMARY KEY(conversation_id, user_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS outbox("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL,"
    " conversation_id TEXT NOT NULL, event_type TEXT NOT NULL,"
    " created_at TEXT NOT NULL, idem_key TEXT, payload BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS idempotency("
    " subject TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,"
    " status INTEGER NOT NULL, body BLOB NOT NULL,"
    " created_at INTEGER NOT NULL, PRIMARY KEY(subject, key)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS idempotency_age ON idempotency(created_at);"
    "CREATE TABLE IF NOT EXISTS publisher("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " published_seq INTEGER NOT NULL, pid INTEGER NOT NULL,"
    " state TEXT NOT NULL, seen INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO publisher VALUES (1, 0, 0, 'none', 0);";

static const char *const db_sync_names[] = { "OFF", "NORMAL", "FULL", "EXTRA" };

int db_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW:
		return STORE_OK;
	case SQLITE_BUSY: case SQLITE_LOCKED:
		return STORE_EBUSY;
	case SQLITE_FULL:
		return STORE_EFULL;
	case SQLITE_READONLY: case SQLITE_CANTOPEN:
		return STORE_EREADONLY;
	case SQLITE_NOMEM:
		return STORE_ENOMEM;
	default:
		return STORE_EIO;
	}
}

/* When the current wait for a lock began; one per thread, since a
 * connection is used by one thread at a time and waits for one lock. */
static _Thread_local struct timespec db_wait_start;

/* Microseconds since start, on the monotonic clock. */
static long db_us_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000000L +
	    (now.tv_nsec - start->tv_nsec) / 1000;
}

/* The busy handler: another process holds the write lock.  SQLite's own
 * sleeps 1, 2, 5, 10... ms, while a command's transaction holds the lock
 * for tens of microseconds, so several responders sharing the file spent
 * most of their time asleep with the lock free.  This one yields once,
 * then sleeps 20 us doubling to 1 ms, until the busy timeout (arg points
 * at it, in ms) has passed since the wait began.  Returns 1 to try
 * again, 0 to give up with SQLITE_BUSY. */
static int db_busy(void *arg, int count)
{
	const int *timeout_ms = arg;
	long us;

	if (count == 0)
		clock_gettime(CLOCK_MONOTONIC, &db_wait_start);
	else if (db_us_since(&db_wait_start) >= *timeout_ms * 1000L)
		return 0;
	if (count == 0) {
		sched_yield();
		return 1;
	}
	us = count > 6 ? 1000 : 20L << (count - 1);
	nanosleep(&(struct timespec){ 0, us * 1000 }, NULL);
	return 1;
}

int db_busy_wait(sqlite3 *db, const int *timeout_ms)
{
	return sqlite3_busy_handler(db, db_busy, (void *)timeout_ms);
}

/* Creates the file with mode 0600 before SQLite does, which would use
 * 0644 under the usual umask: the database holds message contents.  A
 * file that exists but cannot be opened for writing (read-only) is left
 * to SQLite, whose first write then says so. */
static int db_create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return (errno == EROFS || errno == EACCES) &&
		    access(path, F_OK) == 0 ? 0 : -1;
	close(fd);
	return 0;
}

/* Runs sql, which must be safe to run again from its start.  SQLite
 * answers SQLITE_BUSY without calling the busy handler where waiting
 * could deadlock: two processes opening a new database at once both
 * hold a shared lock and want the exclusive one that switching it to WAL
 * takes.  Then one of them tries again every millisecond, until the
 * busy timeout has passed. */
static int db_exec_retry(sqlite3 *db, const char *sql, int timeout_ms)
{
	struct timespec start;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK &&
	    (rc & 0xff) == SQLITE_BUSY &&
	    db_us_since(&start) < timeout_ms * 1000L)
		nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
	return rc;
}

int db_open(const struct config *cfg, sqlite3 **out, char *errstr,
    size_t errstr_size)
{
	sqlite3 *db = NULL;
	char pragmas[160];
	int rc;

	*out = NULL;
	if (db_create_private(cfg->db_path) != 0) {
		snprintf(errstr, errstr_size, "DATABASE_PATH: cannot create %s",
		    cfg->db_path);
		return STORE_EOPEN;
	}
	rc = sqlite3_open_v2(cfg->db_path, &db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = db_busy_wait(db, &cfg->busy_timeout_ms);
	snprintf(pragmas, sizeof pragmas,
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
	    " PRAGMA foreign_keys=OFF; PRAGMA wal_autocheckpoint=%d;",
	    db_sync_names[cfg->synchronous], DB_CKPT_BACKSTOP);
	if (rc == SQLITE_OK)
		rc = db_exec_retry(db, pragmas, cfg->busy_timeout_ms);
	if (rc == SQLITE_OK)
		rc = db_exec_retry(db, db_schema, cfg->busy_timeout_ms);
	if (rc != SQLITE_OK) {
		snprintf(errstr, errstr_size, "DATABASE_PATH: %s: %s",
		    cfg->db_path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		/* Causes that go away by themselves, which a caller may
		 * answer with 503 rather than give up. */
		rc = db_err(rc);
		return store_transient(rc) ? rc : STORE_EOPEN;
	}
	*out = db;
	return 0;
}
