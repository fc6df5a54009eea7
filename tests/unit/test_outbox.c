/* test_outbox.c: the publisher's view of the database (fetch order,
 * limits, the cursor that never goes backwards, pending, the last seq,
 * the idempotency purge), the window that decides how far the cursor may
 * move, and the set of events recovery found on the topic. */
#include "unit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "outbox.h"
#include "publisher_int.h"
#include "store.h"

#define CONV_A "0b8e1c1e-6f7a-4c39-9f4e-7a1d2f3b4c5d"
#define CONV_B "1c9f2d2f-7a8b-4d4a-8a5f-8b2e3a4c5d6e"
#define TIME "2026-11-24T10:00:00.123456Z"

static char db_path[64];
static struct config cfg;
static struct outbox *ob;
static sqlite3 *raw;	/* the test's own connection, as a responder */

static void setup(void)
{
	char err[256] = "";
	int fd;

	snprintf(db_path, sizeof db_path, "/tmp/test_outbox.XXXXXX");
	fd = mkstemp(db_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	memset(&cfg, 0, sizeof cfg);
	cfg.db_path = db_path;
	cfg.synchronous = SYNC_NORMAL;
	cfg.busy_timeout_ms = 1000;
	ck_assert_msg(outbox_open(&ob, &cfg, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(sqlite3_open(db_path, &raw), SQLITE_OK);
}

static void teardown(void)
{
	outbox_close(ob);
	sqlite3_close(raw);
	unlink(db_path);
}

/* Inserts an outbox row as store_apply() would; payload may hold NULs. */
static void insert(const char *conv, const char *idem, const void *payload,
    int len)
{
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_prepare_v2(raw, "INSERT INTO outbox(event_id,"
	    " conversation_id, event_type, created_at, idem_key, payload)"
	    " VALUES (lower(hex(randomblob(18))), ?1, 'userSentMessageTo"
	    "Conversation', ?2, ?3, ?4)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, conv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, TIME, -1, SQLITE_STATIC);
	if (idem != NULL)
		sqlite3_bind_text(st, 3, idem, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, payload, len, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void insert_n(int n)
{
	char body[32];

	for (int i = 1; i <= n; i++) {
		int len = snprintf(body, sizeof body, "{\"n\":%d}", i);
		insert(i % 2 ? CONV_A : CONV_B, NULL, body, len);
	}
}

START_TEST(test_empty_outbox)
{
	struct outbox_row rows[4];
	int64_t cursor = -1;
	int n = -1;

	ck_assert_int_eq(outbox_cursor(ob, &cursor), 0);
	ck_assert_int_eq(cursor, 0);
	ck_assert_int_eq(outbox_fetch(ob, 0, rows, 4, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(outbox_pending(ob, 0), 0);
}
END_TEST

START_TEST(test_fetch_in_seq_order_with_limit)
{
	struct outbox_row rows[8];
	int n;

	insert_n(5);
	ck_assert_int_eq(outbox_fetch(ob, 0, rows, 3, &n), 0);
	ck_assert_int_eq(n, 3);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(rows[i].seq, i + 1);
	ck_assert_str_eq(rows[0].conversation_id, CONV_A);
	ck_assert_str_eq(rows[1].conversation_id, CONV_B);
	ck_assert_str_eq(rows[0].event_type, "userSentMessageToConversation");
	ck_assert_str_eq(rows[0].created_at, TIME);
	ck_assert_str_eq(rows[2].payload, "{\"n\":3}");
	ck_assert_uint_eq(rows[2].payload_len, 7);
	ck_assert_ptr_null(rows[0].idem_key);
	outbox_rows_free(rows, n);

	ck_assert_int_eq(outbox_fetch(ob, 3, rows, 8, &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(rows[0].seq, 4);
	ck_assert_int_eq(rows[1].seq, 5);
	outbox_rows_free(rows, n);
}
END_TEST

START_TEST(test_fetch_keeps_payload_bytes_and_idem_key)
{
	static const char bin[] = { '{', 0, '}', (char)0xff };
	struct outbox_row row;
	int n;

	insert(CONV_A, "key-1", bin, sizeof bin);
	ck_assert_int_eq(outbox_fetch(ob, 0, &row, 1, &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(row.payload_len, sizeof bin);
	ck_assert_mem_eq(row.payload, bin, sizeof bin);
	ck_assert_str_eq(row.idem_key, "key-1");
	outbox_rows_free(&row, n);
}
END_TEST

START_TEST(test_fetch_skips_gaps)
{
	struct outbox_row rows[8];
	int n;

	insert_n(4);
	ck_assert_int_eq(sqlite3_exec(raw, "DELETE FROM outbox WHERE seq = 2",
	    NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(outbox_fetch(ob, 1, rows, 8, &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(rows[0].seq, 3);
	ck_assert_int_eq(rows[1].seq, 4);
	outbox_rows_free(rows, n);
}
END_TEST

START_TEST(test_corrupt_row_is_an_error_not_a_truncation)
{
	struct outbox_row rows[2];
	int n = -1;

	insert(CONV_A "-far-too-long-for-a-uuid", NULL, "{}", 2);
	ck_assert_int_eq(outbox_fetch(ob, 0, rows, 2, &n), STORE_EIO);
	ck_assert_int_eq(n, 0);
}
END_TEST

/* Reads the publisher row through the test's own connection. */
static void publisher_row(int64_t *seq, long *pid, char *state, size_t cap,
    int64_t *seen)
{
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_prepare_v2(raw, "SELECT published_seq, pid,"
	    " state, seen FROM publisher WHERE id = 1", -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	*seq = sqlite3_column_int64(st, 0);
	*pid = (long)sqlite3_column_int64(st, 1);
	snprintf(state, cap, "%s", sqlite3_column_text(st, 2));
	*seen = sqlite3_column_int64(st, 3);
	sqlite3_finalize(st);
}

START_TEST(test_cursor_never_goes_backwards)
{
	char state[32];
	int64_t cursor, seq, seen;
	long pid;

	insert_n(5);
	ck_assert_int_eq(outbox_advance(ob, 4, 1234, "connected"), 0);
	ck_assert_int_eq(outbox_cursor(ob, &cursor), 0);
	ck_assert_int_eq(cursor, 4);
	ck_assert_int_eq(outbox_advance(ob, 2, 1234, "kafka-down"), 0);
	ck_assert_int_eq(outbox_cursor(ob, &cursor), 0);
	ck_assert_int_eq(cursor, 4);
	publisher_row(&seq, &pid, state, sizeof state, &seen);
	ck_assert_int_eq(seq, 4);
	ck_assert_int_eq(pid, 1234);
	ck_assert_str_eq(state, "kafka-down");
	ck_assert_int_ge(seen, time(NULL) - 5);
}
END_TEST

START_TEST(test_heartbeat_leaves_the_cursor)
{
	char state[32];
	int64_t seq, seen;
	long pid;

	ck_assert_int_eq(outbox_advance(ob, 3, 1, "connected"), 0);
	ck_assert_int_eq(outbox_heartbeat(ob, 99, "kafka-down"), 0);
	publisher_row(&seq, &pid, state, sizeof state, &seen);
	ck_assert_int_eq(seq, 3);
	ck_assert_int_eq(pid, 99);
	ck_assert_str_eq(state, "kafka-down");
}
END_TEST

START_TEST(test_pending_sees_other_connections_commits)
{
	ck_assert_int_eq(outbox_pending(ob, 0), 0);
	insert_n(3);
	ck_assert_int_eq(outbox_pending(ob, 0), 1);
	ck_assert_int_eq(outbox_pending(ob, 2), 1);
	ck_assert_int_eq(outbox_pending(ob, 3), 0);
}
END_TEST

START_TEST(test_window_moves_only_over_acknowledged_prefix)
{
	static struct pk_window w;

	pk_window_init(&w, 10);
	pk_window_push(&w, 11);
	pk_window_push(&w, 12);
	pk_window_push(&w, 14);	/* seq 13 was purged: gaps are fine */
	pk_window_push(&w, 15);
	pk_window_ack(&w, 12);	/* another partition answered first */
	pk_window_ack(&w, 14);
	ck_assert_int_eq(w.base, 10);
	pk_window_ack(&w, 11);
	ck_assert_int_eq(w.base, 14);
	pk_window_ack(&w, 99);	/* unknown: ignored */
	pk_window_ack(&w, 11);	/* already past: ignored */
	ck_assert_int_eq(w.base, 14);
	ck_assert_uint_eq(w.count, 1);
	pk_window_ack(&w, 15);
	ck_assert_int_eq(w.base, 15);
	ck_assert_uint_eq(w.count, 0);
}
END_TEST

START_TEST(test_window_wraps_around)
{
	static struct pk_window w;
	int64_t seq = 0;

	pk_window_init(&w, 0);
	for (int round = 0; round < 3; round++) {
		int64_t first = seq + 1;
		for (int i = 0; i < PK_WINDOW; i++)
			pk_window_push(&w, ++seq);
		ck_assert_uint_eq(w.count, PK_WINDOW);
		for (int64_t s = seq; s > first; s--)	/* newest first */
			pk_window_ack(&w, s);
		ck_assert_int_eq(w.base, first - 1);
		pk_window_ack(&w, first);
		ck_assert_int_eq(w.base, seq);
		ck_assert_uint_eq(w.count, 0);
		pk_window_push(&w, ++seq);	/* shift the ring's head */
		pk_window_ack(&w, seq);
	}
}
END_TEST

START_TEST(test_last_is_the_newest_seq)
{
	int64_t last = -1;

	ck_assert_int_eq(outbox_last(ob, &last), 0);
	ck_assert_int_eq(last, 0);
	insert_n(3);
	ck_assert_int_eq(outbox_last(ob, &last), 0);
	ck_assert_int_eq(last, 3);
}
END_TEST

/* Adds idempotency rows created at t, t+1, ... t+n-1. */
static void insert_idem(int64_t t, int n)
{
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_prepare_v2(raw, "INSERT INTO idempotency"
	    " VALUES ('alice', ?1, 'fp', 201, '{}', ?2)", -1, &st, NULL),
	    SQLITE_OK);
	for (int i = 0; i < n; i++) {
		char key[32];
		snprintf(key, sizeof key, "key-%lld-%d", (long long)t, i);
		sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, t + i);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
}

static int idem_count(void)
{
	sqlite3_stmt *st;
	int n;

	ck_assert_int_eq(sqlite3_prepare_v2(raw, "SELECT COUNT(*) FROM"
	    " idempotency", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

START_TEST(test_purge_deletes_expired_rows_in_batches)
{
	static const int want[] = { 2, 2, 1, 0 };
	int deleted = -1;

	insert_idem(100, 5);	/* created at 100..104: expired */
	insert_idem(500, 3);	/* 500 is the limit itself: kept */
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		ck_assert_int_eq(outbox_purge_idempotency(ob, 500, 2,
		    &deleted), 0);
		ck_assert_int_eq(deleted, want[i]);
	}
	ck_assert_int_eq(idem_count(), 3);
}
END_TEST

/* The purge holds the write lock, which every command waits for: it must
 * find the expired rows through the index, not by a table scan. */
START_TEST(test_purge_uses_the_age_index)
{
	sqlite3_stmt *st;
	int indexed = 0;

	ck_assert_int_eq(sqlite3_prepare_v2(raw, "EXPLAIN QUERY PLAN"
	    " SELECT subject, key FROM idempotency WHERE created_at < 1"
	    " LIMIT 500", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		if (strstr((const char *)sqlite3_column_text(st, 3),
		    "idempotency_age") != NULL)
			indexed = 1;
	sqlite3_finalize(st);
	ck_assert_int_eq(indexed, 1);
}
END_TEST

#define ID_A "aaaaaaaa-0000-4000-8000-000000000000"
#define ID_B "bbbbbbbb-0000-4000-8000-000000000000"

/* Seqs 12 and 15 landed, 12 twice (seen in two windows); 14 carries our
 * seq but someone else's event id. */
START_TEST(test_found_skips_only_our_landed_events)
{
	struct pk_found f = { 0 };

	ck_assert_int_eq(pk_found_take(&f, 11, ID_A), 0);	/* empty set */
	ck_assert_int_eq(pk_found_done(&f), 1);
	ck_assert_int_eq(pk_found_add(&f, 15, ID_A, 36), 0);
	ck_assert_int_eq(pk_found_add(&f, 12, ID_A, 36), 0);
	ck_assert_int_eq(pk_found_add(&f, 14, ID_B, 36), 0);
	ck_assert_int_eq(pk_found_add(&f, 12, ID_A, 36), 0);
	pk_found_sort(&f);
	ck_assert_uint_eq(f.n, 3);
	ck_assert_int_eq(pk_found_take(&f, 11, ID_A), 0);
	ck_assert_int_eq(pk_found_take(&f, 12, ID_A), 1);
	ck_assert_int_eq(pk_found_take(&f, 13, ID_A), 0);
	ck_assert_int_eq(pk_found_take(&f, 14, ID_A), 0);	/* not ours */
	ck_assert_int_eq(pk_found_done(&f), 0);
	ck_assert_int_eq(pk_found_take(&f, 15, ID_A), 1);
	ck_assert_int_eq(pk_found_done(&f), 1);
	ck_assert_uint_eq(f.skipped, 2);
	ck_assert_uint_eq(f.foreign, 1);
	pk_found_free(&f);
	ck_assert_ptr_null(f.v);
	ck_assert_uint_eq(f.n, 0);
}
END_TEST

/* Our event and another deployment's landed with the same seq, in either
 * order: ours is still found, so it is not published twice. */
START_TEST(test_found_foreign_does_not_hide_ours)
{
	static const char *const order[2][2] = { { ID_A, ID_B },
	    { ID_B, ID_A } };

	for (int o = 0; o < 2; o++) {
		struct pk_found f = { 0 };

		ck_assert_int_eq(pk_found_add(&f, 7, order[o][0], 36), 0);
		ck_assert_int_eq(pk_found_add(&f, 7, order[o][1], 36), 0);
		ck_assert_int_eq(pk_found_add(&f, 7, ID_B, 36), 0);
		pk_found_sort(&f);
		ck_assert_uint_eq(f.n, 2);
		ck_assert_int_eq(pk_found_take(&f, 7, ID_A), 1);
		ck_assert_int_eq(pk_found_done(&f), 1);
		ck_assert_uint_eq(f.skipped, 1);
		ck_assert_uint_eq(f.foreign, 0);
		pk_found_free(&f);
	}
}
END_TEST

/* A row the loop retries (librdkafka refused it) asks again; a found seq
 * whose row is gone is passed over; an id that is not a UUID never
 * matches. */
START_TEST(test_found_take_is_stable_across_retries)
{
	struct pk_found f = { 0 };

	for (int64_t seq = 100; seq > 0; seq--)	/* grows the array */
		ck_assert_int_eq(pk_found_add(&f, seq * 2, ID_A, 36), 0);
	ck_assert_int_eq(pk_found_add(&f, 3, "x" ID_A, 37), 0);
	pk_found_sort(&f);
	ck_assert_uint_eq(f.n, 101);
	ck_assert_int_eq(pk_found_take(&f, 3, ""), 0);
	ck_assert_int_eq(pk_found_take(&f, 5, ID_A), 0);
	ck_assert_int_eq(pk_found_take(&f, 5, ID_A), 0);
	ck_assert_int_eq(pk_found_take(&f, 6, ID_A), 1);	/* 2, 4 gone */
	ck_assert_int_eq(pk_found_take(&f, 200, ID_A), 1);
	ck_assert_int_eq(pk_found_done(&f), 1);
	ck_assert_uint_eq(f.skipped, 2);
	pk_found_free(&f);
}
END_TEST

/* The publisher's checkpoint: a reader on an old snapshot keeps the WAL
 * from starting again (busy, nothing lost); once it lets go, the WAL
 * restarts from its beginning instead of growing. */
START_TEST(test_checkpoint_restarts_the_wal)
{
	sqlite3 *reader;
	sqlite3_stmt *rd;
	int pages = -1;
	int64_t last;

	sqlite3_wal_autocheckpoint(raw, 0);
	insert_n(200);
	ck_assert_int_eq(outbox_checkpoint(ob, 1 << 30, &pages), 0);
	ck_assert_int_gt(pages, 0);
	ck_assert_int_eq(sqlite3_open(db_path, &reader), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(reader, "SELECT seq FROM outbox",
	    -1, &rd, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(rd), SQLITE_ROW);	/* a snapshot */
	insert_n(50);
	ck_assert_int_eq(outbox_checkpoint(ob, 1, &pages), STORE_EBUSY);
	sqlite3_finalize(rd);
	sqlite3_close(reader);
	ck_assert_int_eq(outbox_checkpoint(ob, 1, &pages), 0);
	insert_n(1);
	ck_assert_int_eq(outbox_checkpoint(ob, 1 << 30, &pages), 0);
	ck_assert_int_lt(pages, 10);
	ck_assert_int_eq(outbox_last(ob, &last), 0);
	ck_assert_int_eq(last, 251);
}
END_TEST

static Suite *outbox_suite(void)
{
	Suite *s = suite_create("outbox");
	TCase *tc = tcase_create("outbox");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_empty_outbox);
	tcase_add_test(tc, test_fetch_in_seq_order_with_limit);
	tcase_add_test(tc, test_fetch_keeps_payload_bytes_and_idem_key);
	tcase_add_test(tc, test_fetch_skips_gaps);
	tcase_add_test(tc, test_corrupt_row_is_an_error_not_a_truncation);
	tcase_add_test(tc, test_cursor_never_goes_backwards);
	tcase_add_test(tc, test_heartbeat_leaves_the_cursor);
	tcase_add_test(tc, test_pending_sees_other_connections_commits);
	tcase_add_test(tc, test_window_moves_only_over_acknowledged_prefix);
	tcase_add_test(tc, test_window_wraps_around);
	tcase_add_test(tc, test_last_is_the_newest_seq);
	tcase_add_test(tc, test_purge_deletes_expired_rows_in_batches);
	tcase_add_test(tc, test_purge_uses_the_age_index);
	tcase_add_test(tc, test_found_skips_only_our_landed_events);
	tcase_add_test(tc, test_found_take_is_stable_across_retries);
	tcase_add_test(tc, test_found_foreign_does_not_hide_ours);
	tcase_add_test(tc, test_checkpoint_restarts_the_wal);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(outbox_suite)
