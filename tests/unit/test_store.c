/* test_store.c: the write model on a real SQLite file in a fresh temporary
 * directory per test.  A second, raw connection plays the other process:
 * it checks what was committed, backdates rows and holds locks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "unit.h"
#include "config.h"
#include "event.h"
#include "store.h"
#include "tmpdb.h"

static struct tmpdb tmp;
static struct store *st;

static void setup(void)
{
	char err[256] = "";

	tmpdb_make(&tmp, "test_store", 100);
	ck_assert_msg(store_open(&st, &tmp.cfg, err, sizeof err) == 0, "%s",
	    err);
}

static void teardown(void)
{
	store_close(st);
	st = NULL;
	tmpdb_remove(&tmp);
}

/* Short names for the other process's view of the file (tmpdb.h): an
 * integer query, and statements. */
static long long count(const char *sql)
{
	return tmpdb_int(&tmp, sql);
}

static void exec_other(const char *sql)
{
	tmpdb_exec(&tmp, sql);
}

/* Stamps, encodes and applies one command in its own transaction, as the
 * responder does.  conv is the conversation (NULL for a create, then
 * filled in). */
static int command(enum command_kind kind, char *conv, const char *actor,
    const char *participant, const struct store_idem *idem)
{
	struct event ev = { .kind = kind, .actor = actor, .name = "chat",
	    .participant_id = participant, .message_content = "hi" };
	size_t len;
	char *json;
	int err;

	if (kind != CMD_CREATE)
		memcpy(ev.conversation_id, conv, EVENT_UUID_LEN + 1);
	ck_assert_int_eq(event_stamp(&ev), 0);
	if (kind == CMD_CREATE)
		memcpy(conv, ev.conversation_id, EVENT_UUID_LEN + 1);
	ck_assert_ptr_nonnull(json = event_encode(&ev, &len));
	ck_assert_int_eq(store_begin(st), 0);
	err = store_apply(st, &ev, json, len, idem);
	err = err ? err : store_commit(st);
	if (err)
		store_rollback(st);
	free(json);
	return err;
}

static struct conv_state load(const char *conv, const char *actor,
    const char *participant)
{
	struct conv_state cs;

	ck_assert_int_eq(store_load(st, conv, actor, participant, &cs), 0);
	return cs;
}

START_TEST(test_store_file_mode_0600)
{
	struct stat sb;
	char wal[128];
	char conv[EVENT_UUID_LEN + 1];

	ck_assert_int_eq(command(CMD_CREATE, conv, "alice", NULL, NULL), 0);
	ck_assert_int_eq(stat(tmp.path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	snprintf(wal, sizeof wal, "%s-wal", tmp.path);
	ck_assert_int_eq(stat(wal, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
}
END_TEST

START_TEST(test_store_open_bad_path_names_setting)
{
	struct config bad = tmp.cfg;
	struct store *s2 = (struct store *)1;
	char err[256] = "";

	bad.db_path = "/nonexistent-dir/x.db";
	ck_assert_int_eq(store_open(&s2, &bad, err, sizeof err), STORE_EOPEN);
	ck_assert_ptr_null(s2);
	ck_assert_ptr_nonnull(strstr(err, "DATABASE_PATH"));
}
END_TEST

START_TEST(test_store_create_then_load)
{
	char conv[EVENT_UUID_LEN + 1];
	struct conv_state cs;

	ck_assert_int_eq(command(CMD_CREATE, conv, "alice", NULL, NULL), 0);
	cs = load(conv, "alice", "alice");
	ck_assert(cs.exists && !cs.deleted);
	ck_assert(cs.actor_is_owner && cs.actor_is_member);
	ck_assert(cs.participant_is_owner && cs.participant_is_member);
	cs = load(conv, "bob", NULL);
	ck_assert(cs.exists && !cs.actor_is_owner && !cs.actor_is_member);
	ck_assert(!cs.participant_is_owner && !cs.participant_is_member);
	cs = load("00000000-0000-4000-8000-000000000000", "alice", NULL);
	ck_assert_int_eq(cs.exists, 0);
	ck_assert_int_eq(count("SELECT count(*) FROM members"), 1);
}
END_TEST

START_TEST(test_store_add_remove_delete)
{
	char conv[EVENT_UUID_LEN + 1];
	struct conv_state cs;

	ck_assert_int_eq(command(CMD_CREATE, conv, "alice", NULL, NULL), 0);
	ck_assert_int_eq(command(CMD_ADD, conv, "alice", "bob", NULL), 0);
	cs = load(conv, "alice", "bob");
	ck_assert(cs.participant_is_member && !cs.participant_is_owner);
	cs = load(conv, "bob", NULL);
	ck_assert(cs.actor_is_member && !cs.actor_is_owner);
	ck_assert_int_eq(command(CMD_SEND, conv, "bob", NULL, NULL), 0);
	ck_assert_int_eq(command(CMD_REMOVE, conv, "alice", "bob", NULL), 0);
	cs = load(conv, "alice", "bob");
	ck_assert(!cs.participant_is_member && cs.actor_is_member);
	ck_assert_int_eq(command(CMD_DELETE, conv, "alice", NULL, NULL), 0);
	cs = load(conv, "alice", NULL);
	ck_assert(cs.exists && cs.deleted);
	ck_assert_int_eq(count("SELECT count(*) FROM outbox"), 5);
}
END_TEST

/* The outbox keeps commit order and the exact bytes of each event. */
START_TEST(test_store_outbox_rows_in_order)
{
	struct event ev[3] = { { .kind = CMD_CREATE, .actor = "alice",
	    .name = "a/b \"c\"" }, { .kind = CMD_SEND, .actor = "alice",
	    .message_content = "one" }, { .kind = CMD_SEND, .actor = "alice",
	    .message_content = "two \xc3\xa9" } };
	struct store_idem idem = { "alice", "key-2", "fp" };
	char *json[3];
	size_t len[3];
	sqlite3 *db;
	sqlite3_stmt *s;
	int i;

	for (i = 0; i < 3; i++) {
		if (i > 0)
			memcpy(ev[i].conversation_id, ev[0].conversation_id,
			    sizeof ev[i].conversation_id);
		ck_assert_int_eq(event_stamp(&ev[i]), 0);
		json[i] = event_encode(&ev[i], &len[i]);
		ck_assert_int_eq(store_begin(st), 0);
		ck_assert_int_eq(store_apply(st, &ev[i], json[i], len[i],
		    i == 2 ? &idem : NULL), 0);
		ck_assert_int_eq(store_commit(st), 0);
	}
	db = tmpdb_other(&tmp);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT seq, event_id,"
	    " conversation_id, event_type, created_at, idem_key, payload"
	    " FROM outbox ORDER BY seq", -1, &s, NULL), SQLITE_OK);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
		ck_assert_int_eq(sqlite3_column_int64(s, 0), i + 1);
		ck_assert_str_eq((const char *)sqlite3_column_text(s, 1),
		    ev[i].event_id);
		ck_assert_str_eq((const char *)sqlite3_column_text(s, 2),
		    ev[0].conversation_id);
		ck_assert_str_eq((const char *)sqlite3_column_text(s, 3),
		    decide_event_name(ev[i].kind));
		ck_assert_str_eq((const char *)sqlite3_column_text(s, 4),
		    ev[i].created_at);
		if (i == 2)
			ck_assert_str_eq((const char *)
			    sqlite3_column_text(s, 5), "key-2");
		else
			ck_assert_int_eq(sqlite3_column_type(s, 5), SQLITE_NULL);
		ck_assert_int_eq(sqlite3_column_bytes(s, 6), (int)len[i]);
		ck_assert_mem_eq(sqlite3_column_blob(s, 6), json[i], len[i]);
		free(json[i]);
	}
	ck_assert_int_eq(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	sqlite3_close(db);
}
END_TEST

START_TEST(test_store_rollback_leaves_nothing)
{
	struct event ev = { .kind = CMD_CREATE, .actor = "alice",
	    .name = "x" };
	struct store_idem idem = { "alice", "k", "fp" };
	struct conv_state cs;

	ck_assert_int_eq(event_stamp(&ev), 0);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_apply(st, &ev, "{}", 2, &idem), 0);
	store_rollback(st);
	cs = load(ev.conversation_id, "alice", NULL);
	ck_assert_int_eq(cs.exists, 0);
	ck_assert_int_eq(count("SELECT (SELECT count(*) FROM conversations)"
	    " + (SELECT count(*) FROM members) + (SELECT count(*) FROM outbox)"
	    " + (SELECT count(*) FROM idempotency)"), 0);
	store_rollback(st);	/* harmless without a transaction */
	ck_assert_int_eq(store_writable(st), 0);
}
END_TEST

/* A failing statement reports an error; the caller's rollback then
 * removes the statements that did succeed in the same transaction. */
START_TEST(test_store_apply_error_then_rollback)
{
	char conv[EVENT_UUID_LEN + 1];
	struct event ev = { .kind = CMD_ADD, .actor = "alice",
	    .participant_id = "alice" };

	ck_assert_int_eq(command(CMD_CREATE, conv, "alice", NULL, NULL), 0);
	memcpy(ev.conversation_id, conv, sizeof ev.conversation_id);
	ck_assert_int_eq(event_stamp(&ev), 0);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_apply(st, &ev, "{}", 2, NULL), STORE_EIO);
	store_rollback(st);
	ck_assert_int_eq(count("SELECT count(*) FROM outbox"), 1);
	ck_assert_int_eq(store_commit(st), STORE_EIO);	/* no transaction */
	ck_assert_int_eq(store_begin(st), 0);		/* none left open */
	store_rollback(st);
}
END_TEST

/* A request that forgot to end its transaction does not leak it into
 * the next one, nor keep the write lock. */
START_TEST(test_store_begin_drops_stale_transaction)
{
	struct event ev = { .kind = CMD_CREATE, .actor = "alice",
	    .name = "x" };

	ck_assert_int_eq(event_stamp(&ev), 0);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_apply(st, &ev, "{}", 2, NULL), 0);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM outbox"), 0);
	ck_assert_int_eq(load(ev.conversation_id, "alice", NULL).exists, 0);
}
END_TEST

START_TEST(test_store_idempotency)
{
	struct store_idem a = { "alice", "k1", "fp-a" };
	struct store_idem b = { "alice", "k1", "fp-b" };
	struct store_idem other_subject = { "bob", "k1", "fp-b" };
	char conv[EVENT_UUID_LEN + 1];
	int status = 0;
	char *body = NULL;
	size_t len = 0;

	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_idem_find(st, &a, 3600, &status, &body, &len),
	    STORE_IDEM_NEW);
	store_rollback(st);
	ck_assert_int_eq(command(CMD_CREATE, conv, "alice", NULL, &a), 0);

	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_idem_find(st, &a, 3600, &status, &body, &len),
	    STORE_IDEM_REPLAY);
	ck_assert_int_eq(status, 201);
	ck_assert_ptr_nonnull(strstr(body, conv));
	ck_assert_uint_eq(strlen(body), len);
	free(body);
	ck_assert_int_eq(store_idem_find(st, &b, 3600, &status, &body, &len),
	    STORE_IDEM_MISMATCH);
	ck_assert_int_eq(store_idem_find(st, &other_subject, 3600, &status,
	    &body, &len), STORE_IDEM_NEW);
	store_rollback(st);
}
END_TEST

START_TEST(test_store_idempotency_refusal_saved)
{
	struct store_idem a = { "alice", "k9", "fp-a" };
	const char problem[] = "{\"status\":403}";
	int status = 0;
	char *body = NULL;
	size_t len = 0;

	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_idem_save(st, &a, 403, problem, strlen(problem)), 0);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM outbox"), 0);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_idem_find(st, &a, 3600, &status, &body, &len),
	    STORE_IDEM_REPLAY);
	store_rollback(st);
	ck_assert_int_eq(status, 403);
	ck_assert_str_eq(body, problem);
	ck_assert_uint_eq(len, strlen(problem));
	free(body);
}
END_TEST

/* An expired key is new again, and its reuse replaces the old row. */
START_TEST(test_store_idempotency_expired)
{
	struct store_idem a = { "alice", "k1", "fp-a" };
	struct store_idem b = { "alice", "k1", "fp-b" };
	char conv[EVENT_UUID_LEN + 1];
	int status = 0;
	char *body = NULL;
	size_t len = 0;

	ck_assert_int_eq(command(CMD_CREATE, conv, "alice", NULL, &a), 0);
	exec_other("UPDATE idempotency SET created_at = created_at - 86401");
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_idem_find(st, &b, 86400, &status, &body, &len),
	    STORE_IDEM_NEW);
	store_rollback(st);
	ck_assert_int_eq(command(CMD_CREATE, conv, "alice", NULL, &b), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM idempotency"), 1);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_idem_find(st, &b, 86400, &status, &body, &len),
	    STORE_IDEM_REPLAY);
	store_rollback(st);
	ck_assert_ptr_nonnull(strstr(body, conv));
	free(body);
}
END_TEST

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Another writer holding the lock makes us give up after the busy
 * timeout (100 ms here), not hang, and not fail sooner. */
START_TEST(test_store_busy)
{
	sqlite3 *db = tmpdb_other(&tmp);
	double t0, ms;

	ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	t0 = now_ms();
	ck_assert_int_eq(store_begin(st), STORE_EBUSY);
	ms = now_ms() - t0;
	ck_assert_msg(ms >= 80 && ms < 2000, "gave up after %.0f ms", ms);
	ck_assert_int_eq(store_writable(st), STORE_EBUSY);
	ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(store_writable(st), 0);
	ck_assert_int_eq(store_begin(st), 0);
	store_rollback(st);
}
END_TEST

START_TEST(test_store_health)
{
	struct store_health h;
	char conv[EVENT_UUID_LEN + 1];

	ck_assert_int_eq(store_health(st, &h), 0);
	ck_assert_int_eq(h.last_seq, 0);
	ck_assert_int_eq(h.backlog, 0);
	ck_assert_int_eq(h.publisher_pid, 0);
	ck_assert_str_eq(h.publisher_state, "none");
	ck_assert_int_eq(command(CMD_CREATE, conv, "alice", NULL, NULL), 0);
	ck_assert_int_eq(command(CMD_SEND, conv, "alice", NULL, NULL), 0);
	ck_assert_int_eq(command(CMD_SEND, conv, "alice", NULL, NULL), 0);
	exec_other("UPDATE publisher SET published_seq = 2, pid = 4242,"
	    " state = 'connected', seen = 1700000000");
	ck_assert_int_eq(store_health(st, &h), 0);
	ck_assert_int_eq(h.last_seq, 3);
	ck_assert_int_eq(h.published_seq, 2);
	ck_assert_int_eq(h.backlog, 1);
	ck_assert_int_eq(h.publisher_pid, 4242);
	ck_assert_str_eq(h.publisher_state, "connected");
	ck_assert_int_eq(h.publisher_seen, 1700000000);
	/* Published rows purged: the cursor still bounds the sequence. */
	exec_other("DELETE FROM outbox WHERE seq <= 3;"
	    " UPDATE publisher SET published_seq = 3");
	ck_assert_int_eq(store_health(st, &h), 0);
	ck_assert_int_eq(h.last_seq, 3);
	ck_assert_int_eq(h.backlog, 0);
}
END_TEST

/* The probe commits a real page write, and changes no value. */
START_TEST(test_store_writable_writes_wal)
{
	struct stat before, after;
	char wal[128];

	snprintf(wal, sizeof wal, "%s-wal", tmp.path);
	exec_other("PRAGMA wal_checkpoint(TRUNCATE)");
	ck_assert_int_eq(stat(wal, &before), 0);
	ck_assert_int_eq(store_writable(st), 0);
	ck_assert_int_eq(stat(wal, &after), 0);
	ck_assert_int_gt(after.st_size, before.st_size);
	ck_assert_int_eq(count("SELECT seen FROM publisher"), 0);
}
END_TEST

START_TEST(test_store_strerror)
{
	static const int errs[] = { STORE_OK, STORE_EBUSY, STORE_EFULL,
	    STORE_EREADONLY, STORE_EIO, STORE_ENOMEM, STORE_EOPEN };
	size_t i, j;

	for (i = 0; i < sizeof errs / sizeof errs[0]; i++)
		for (j = 0; j < i; j++)
			ck_assert_str_ne(store_strerror(errs[i]),
			    store_strerror(errs[j]));
	ck_assert_str_eq(store_strerror(-99), "unknown store error");
	ck_assert_str_eq(store_strerror(1), "unknown store error");
}
END_TEST

/* Only the causes that may pass by themselves are worth a 503. */
START_TEST(test_store_transient)
{
	ck_assert_int_eq(store_transient(STORE_EBUSY), 1);
	ck_assert_int_eq(store_transient(STORE_EREADONLY), 1);
	ck_assert_int_eq(store_transient(STORE_EFULL), 1);
	ck_assert_int_eq(store_transient(STORE_OK), 0);
	ck_assert_int_eq(store_transient(STORE_EIO), 0);
	ck_assert_int_eq(store_transient(STORE_ENOMEM), 0);
	ck_assert_int_eq(store_transient(STORE_EOPEN), 0);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_file_mode_0600);
	tcase_add_test(tc, test_store_open_bad_path_names_setting);
	tcase_add_test(tc, test_store_create_then_load);
	tcase_add_test(tc, test_store_add_remove_delete);
	tcase_add_test(tc, test_store_outbox_rows_in_order);
	tcase_add_test(tc, test_store_rollback_leaves_nothing);
	tcase_add_test(tc, test_store_apply_error_then_rollback);
	tcase_add_test(tc, test_store_begin_drops_stale_transaction);
	tcase_add_test(tc, test_store_idempotency);
	tcase_add_test(tc, test_store_idempotency_expired);
	tcase_add_test(tc, test_store_idempotency_refusal_saved);
	tcase_add_test(tc, test_store_busy);
	tcase_add_test(tc, test_store_health);
	tcase_add_test(tc, test_store_writable_writes_wal);
	tcase_add_test(tc, test_store_strerror);
	tcase_add_test(tc, test_store_transient);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(store_suite)
