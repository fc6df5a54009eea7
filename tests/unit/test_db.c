/* test_db.c: the connection every store module opens (file created 0600,
 * WAL, the configured synchronous mode, the checkpoint backstop, the
 * schema, errors naming DATABASE_PATH), the busy handler (gives up after
 * the timeout, reads the timeout at each wait, takes a lock released
 * while it waits) and SQLite result codes mapped to store_err. */
#include "unit.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "store.h"
#include "tmpdb.h"

static struct tmpdb tmp;

static void setup(void)
{
	tmpdb_make(&tmp, "test_db", 100);
}

static void teardown(void)
{
	tmpdb_remove(&tmp);
}

/* db_open() that must succeed. */
static sqlite3 *open_ok(void)
{
	char err[256] = "";
	sqlite3 *db = NULL;

	ck_assert_msg(db_open(&tmp.cfg, &db, err, sizeof err) == 0, "%s", err);
	ck_assert_ptr_nonnull(db);
	return db;
}

/* Processes opening a database that does not exist yet, all at once:
 * the first to switch it to WAL takes a lock the others want, and SQLite
 * answers some of them SQLITE_BUSY without waiting, where a wait could
 * deadlock.  Every one must open it: a responder that cannot exits, a
 * CGI request gets a 500.  Before db_open() tried again, 7 to 25 of
 * these 800 opens failed here. */
#define RACE_PROCS 8
#define RACE_ROUNDS 100

/* A child: waits until the parent closes the pipe (all start at once),
 * opens, and exits 0 when it could. */
static void open_in_child(int go)
{
	char c, err[256];
	sqlite3 *db = NULL;
	int rc;

	if (read(go, &c, 1) != 0)
		_exit(3);
	rc = db_open(&tmp.cfg, &db, err, sizeof err);
	sqlite3_close(db);
	_exit(rc == 0 ? 0 : 1);
}

START_TEST(test_db_open_many_at_once)
{
	int failed = 0;

	for (int r = 0; r < RACE_ROUNDS; r++) {
		pid_t pids[RACE_PROCS];
		int go[2], st;

		snprintf(tmp.path, sizeof tmp.path, "%s/race%d.db", tmp.dir, r);
		ck_assert_int_eq(pipe(go), 0);
		for (int i = 0; i < RACE_PROCS; i++) {
			pids[i] = fork();
			ck_assert_int_ge(pids[i], 0);
			if (pids[i] == 0) {
				close(go[1]);
				open_in_child(go[0]);
			}
		}
		close(go[0]);
		close(go[1]);
		for (int i = 0; i < RACE_PROCS; i++) {
			ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
			failed += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
		}
	}
	ck_assert_msg(failed == 0, "%d of %d first opens failed", failed,
	    RACE_PROCS * RACE_ROUNDS);
}
END_TEST

/* Created 0600 whatever the umask: the file holds message contents, and
 * SQLite alone would create it 0644 (0666 under umask 0). */
START_TEST(test_db_open_creates_private_wal_file)
{
	mode_t old = umask(0);
	struct stat sb;
	sqlite3 *db = open_ok();

	umask(old);
	ck_assert_int_eq(stat(tmp.path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(tmpdb_int(&tmp,
	    "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	ck_assert_int_eq(tmpdb_int_on(db, "PRAGMA wal_autocheckpoint"),
	    DB_CKPT_BACKSTOP);
	ck_assert_int_eq(tmpdb_int_on(db, "PRAGMA foreign_keys"), 0);
	sqlite3_close(db);
}
END_TEST

/* SQLITE_SYNCHRONOUS reaches the connection; PRAGMA synchronous counts
 * OFF, NORMAL, FULL, EXTRA from 0 as enum config_sync does. */
START_TEST(test_db_open_synchronous)
{
	sqlite3 *db;

	tmp.cfg.synchronous = (enum config_sync)_i;
	db = open_ok();
	ck_assert_int_eq(tmpdb_int_on(db, "PRAGMA synchronous"), _i);
	sqlite3_close(db);
}
END_TEST

/* Every table and index of the write model, and the one heartbeat row a
 * fresh database starts with. */
START_TEST(test_db_open_schema)
{
	sqlite3 *db = open_ok();

	ck_assert_int_eq(tmpdb_int_on(db, "SELECT count(*) FROM sqlite_schema"
	    " WHERE name IN ('conversations', 'members', 'outbox',"
	    " 'idempotency', 'idempotency_age', 'publisher')"), 6);
	ck_assert_int_eq(tmpdb_int_on(db, "SELECT count(*) FROM publisher"
	    " WHERE id = 1 AND published_seq = 0 AND pid = 0"
	    " AND state = 'none' AND seen = 0"), 1);
	ck_assert_int_eq(tmpdb_int_on(db, "SELECT count(*) FROM publisher"), 1);
	sqlite3_close(db);
}
END_TEST

/* Opening an existing database keeps its rows, the heartbeat row and
 * the outbox sequence included. */
START_TEST(test_db_open_again_keeps_rows)
{
	sqlite3 *db = open_ok();

	ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO outbox(event_id,"
	    " conversation_id, event_type, created_at, payload)"
	    " VALUES ('e', 'c', 't', 'now', x'7b7d');"
	    " UPDATE publisher SET published_seq = 1, pid = 42,"
	    " state = 'connected', seen = 1700000000", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	db = open_ok();
	ck_assert_int_eq(tmpdb_int_on(db, "SELECT count(*) FROM publisher"
	    " WHERE published_seq = 1 AND pid = 42 AND state = 'connected'"
	    " AND seen = 1700000000"), 1);
	ck_assert_int_eq(tmpdb_int_on(db, "SELECT max(seq) FROM outbox"), 1);
	sqlite3_close(db);
}
END_TEST

/* Paths that cannot be opened as a database (a %s in one is the test's
 * directory) and the errstr expected (its %s is the path). */
static const struct {
	const char *path, *want;
} bad_opens[] = {
	{ "/nonexistent-dir/x.db", "DATABASE_PATH: cannot create %s" },
	{ "%s", "DATABASE_PATH: cannot create %s" },	/* a directory */
	{ "%s/garbage.db", "DATABASE_PATH: %s: file is not a database" },
};

START_TEST(test_db_open_errors)
{
	static char path[160];	/* named by tmp.cfg until the next test */
	char want[256], err[256] = "";
	sqlite3 *db = (sqlite3 *)&tmp;	/* must be reset to NULL */

	snprintf(path, sizeof path, bad_opens[_i].path, tmp.dir);
	snprintf(want, sizeof want, bad_opens[_i].want, path);
	if (strstr(path, "garbage") != NULL) {
		FILE *f = fopen(path, "w");

		ck_assert_ptr_nonnull(f);
		for (int i = 0; i < 128; i++)
			fputs("not a database! ", f);
		ck_assert_int_eq(fclose(f), 0);
	}
	tmp.cfg.db_path = path;
	ck_assert_int_eq(db_open(&tmp.cfg, &db, err, sizeof err), STORE_EOPEN);
	ck_assert_ptr_null(db);
	ck_assert_str_eq(err, want);
}
END_TEST

/* errstr is cut to errstr_size, and still a string. */
START_TEST(test_db_open_error_cut)
{
	char err[16];
	sqlite3 *db = NULL;

	memset(err, '#', sizeof err);
	tmp.cfg.db_path = "/nonexistent-dir/x.db";
	ck_assert_int_eq(db_open(&tmp.cfg, &db, err, sizeof err), STORE_EOPEN);
	ck_assert_str_eq(err, "DATABASE_PATH: ");
}
END_TEST

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Starts a write transaction on db; returns its SQLite result and the
 * milliseconds it took in *ms. */
static int begin_timed(sqlite3 *db, double *ms)
{
	double t0 = now_ms();
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	*ms = now_ms() - t0;
	return rc;
}

/* Another connection holds the write lock: we wait the configured
 * 100 ms, not less, then give up with busy rather than hang. */
START_TEST(test_db_busy_gives_up_after_timeout)
{
	sqlite3 *holder = open_ok(), *db = open_ok();
	double ms;
	int rc;

	ck_assert_int_eq(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	rc = begin_timed(db, &ms);
	ck_assert_int_eq(rc, SQLITE_BUSY);
	ck_assert_int_eq(db_err(rc), STORE_EBUSY);
	ck_assert_msg(ms >= 100 && ms < 2000, "gave up after %.0f ms", ms);
	ck_assert_int_eq(sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(begin_timed(db, &ms), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	sqlite3_close(holder);
}
END_TEST

/* The timeout is read at each wait, not copied when set: a reload of
 * the setting reaches open connections. */
START_TEST(test_db_busy_reads_timeout_each_wait)
{
	sqlite3 *holder = open_ok(), *db = open_ok();
	int timeout_ms = 40;
	double ms;

	ck_assert_int_eq(db_busy_wait(db, &timeout_ms), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(begin_timed(db, &ms), SQLITE_BUSY);
	ck_assert_msg(ms >= 40 && ms < 250, "40 ms timeout: gave up after"
	    " %.0f ms", ms);
	timeout_ms = 300;
	ck_assert_int_eq(begin_timed(db, &ms), SQLITE_BUSY);
	ck_assert_msg(ms >= 300 && ms < 2000, "300 ms timeout: gave up"
	    " after %.0f ms", ms);
	sqlite3_close(db);	/* before timeout_ms goes out of scope */
	ck_assert_int_eq(sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(holder);
}
END_TEST

/* Between two of SQLite's own retries (at 228 and 328 ms of waiting). */
#define HOLD_MS 230

static int release_rc = -1;

/* The other process: ends its transaction after HOLD_MS.  The result is
 * checked by the main thread, where a failed assertion belongs. */
static void *release_later(void *holder)
{
	nanosleep(&(struct timespec){ 0, HOLD_MS * 1000000L }, NULL);
	release_rc = sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL);
	return NULL;
}

/* A lock released during the wait is taken within a few milliseconds,
 * not at the end of the (here 5 s) timeout, nor at the next of SQLite's
 * own sleeps, which reach 100 ms: a command holds the lock for far
 * less, so sleeping that long would leave it free most of the time. */
START_TEST(test_db_busy_takes_released_lock)
{
	sqlite3 *holder, *db;
	pthread_t th;
	double ms;

	tmp.cfg.busy_timeout_ms = 5000;
	holder = open_ok();
	db = open_ok();
	ck_assert_int_eq(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(pthread_create(&th, NULL, release_later, holder), 0);
	ck_assert_int_eq(begin_timed(db, &ms), SQLITE_OK);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(release_rc, SQLITE_OK);
	/* Slack for a loaded machine (valgrind, sanitizers), still short
	 * of SQLite's next retry at 328 ms. */
	ck_assert_msg(ms >= HOLD_MS - 5 && ms < HOLD_MS + 80, "released after"
	    " %d ms, taken after %.0f ms", HOLD_MS, ms);
	ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	sqlite3_close(holder);
}
END_TEST

/* Primary and extended codes (the low byte is the primary one). */
static const struct {
	int rc, err;
} codes[] = {
	{ SQLITE_OK, STORE_OK }, { SQLITE_ROW, STORE_OK },
	{ SQLITE_DONE, STORE_OK },
	{ SQLITE_BUSY, STORE_EBUSY }, { SQLITE_BUSY_SNAPSHOT, STORE_EBUSY },
	{ SQLITE_BUSY_RECOVERY, STORE_EBUSY }, { SQLITE_LOCKED, STORE_EBUSY },
	{ SQLITE_LOCKED_SHAREDCACHE, STORE_EBUSY },
	{ SQLITE_FULL, STORE_EFULL },
	{ SQLITE_READONLY, STORE_EREADONLY },
	{ SQLITE_READONLY_DBMOVED, STORE_EREADONLY },
	{ SQLITE_CANTOPEN, STORE_EREADONLY },
	{ SQLITE_CANTOPEN_ISDIR, STORE_EREADONLY },
	{ SQLITE_NOMEM, STORE_ENOMEM },
	{ SQLITE_IOERR, STORE_EIO }, { SQLITE_IOERR_WRITE, STORE_EIO },
	{ SQLITE_IOERR_FSYNC, STORE_EIO }, { SQLITE_CORRUPT, STORE_EIO },
	{ SQLITE_ERROR, STORE_EIO }, { SQLITE_CONSTRAINT, STORE_EIO },
	{ SQLITE_CONSTRAINT_PRIMARYKEY, STORE_EIO }, { SQLITE_NOTADB, STORE_EIO },
	{ SQLITE_MISUSE, STORE_EIO }, { SQLITE_PROTOCOL, STORE_EIO },
};

START_TEST(test_db_err_mapping)
{
	ck_assert_int_eq(db_err(codes[_i].rc), codes[_i].err);
}
END_TEST

/* The same mapping on codes a real connection returns. */
START_TEST(test_db_err_real_codes)
{
	sqlite3 *db = open_ok();

	ck_assert_int_eq(db_err(sqlite3_exec(db, "INSERT INTO publisher"
	    " VALUES (1, 0, 0, 'none', 0)", NULL, NULL, NULL)), STORE_EIO);
	ck_assert_int_eq(db_err(sqlite3_exec(db, "SELECT * FROM nowhere",
	    NULL, NULL, NULL)), STORE_EIO);
	ck_assert_int_eq(db_err(sqlite3_exec(db, "SELECT 1", NULL, NULL,
	    NULL)), STORE_OK);
	sqlite3_close(db);
}
END_TEST

static Suite *db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *open = tcase_create("open");
	TCase *busy = tcase_create("busy");

	tcase_add_checked_fixture(open, setup, teardown);
	tcase_add_test(open, test_db_open_creates_private_wal_file);
	tcase_add_loop_test(open, test_db_open_synchronous, SYNC_OFF,
	    SYNC_EXTRA + 1);
	tcase_add_test(open, test_db_open_schema);
	tcase_add_test(open, test_db_open_many_at_once);
	tcase_add_test(open, test_db_open_again_keeps_rows);
	tcase_add_loop_test(open, test_db_open_errors, 0,
	    sizeof bad_opens / sizeof bad_opens[0]);
	tcase_add_test(open, test_db_open_error_cut);
	tcase_add_loop_test(open, test_db_err_mapping, 0,
	    sizeof codes / sizeof codes[0]);
	tcase_add_test(open, test_db_err_real_codes);
	suite_add_tcase(s, open);
	tcase_add_checked_fixture(busy, setup, teardown);
	tcase_add_test(busy, test_db_busy_gives_up_after_timeout);
	tcase_add_test(busy, test_db_busy_reads_timeout_each_wait);
	tcase_add_test(busy, test_db_busy_takes_released_lock);
	suite_add_tcase(s, busy);
	return s;
}

UNIT_MAIN(db_suite)
