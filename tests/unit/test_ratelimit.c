/* test_ratelimit.c: the GCRA arithmetic (burst, steady rate, retry time,
 * a clock set back), the slot table (subjects apart, a free slot reused,
 * a full table admitting and saying so, per_minute 0), and the file
 * beside the database (created 0600, another layout replaced, several
 * processes charging one subject through their own mappings). */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ratelimit.h"

/* One GCRA step: interval 1000 ms (60 a minute), burst 3. */
static const struct {
	int64_t tat, now;
	int want;
	int64_t out;	/* the new TAT, or the retry time */
} gcra_cases[] = {
	{ 0, 10000, RATELIMIT_OK, 11000 },	/* never seen: tat in the past */
	{ 11000, 10000, RATELIMIT_OK, 12000 },	/* second of the burst */
	{ 12000, 10000, RATELIMIT_OK, 13000 },	/* third: the whole burst */
	{ 13000, 10000, RATELIMIT_LIMITED, 1000 },	/* fourth: wait 1 s */
	{ 13000, 10400, RATELIMIT_LIMITED, 600 },
	{ 13000, 11000, RATELIMIT_OK, 14000 },	/* one interval later: one more */
	{ 9000, 10000, RATELIMIT_OK, 11000 },	/* debt paid: as new */
	{ 3613000, 10000, RATELIMIT_LIMITED, 1000 },	/* clock set back 1 h */
};

START_TEST(test_ratelimit_gcra)
{
	int64_t next = -1, retry = -1;
	int rc = ratelimit_gcra(gcra_cases[_i].tat, gcra_cases[_i].now, 1000,
	    3, &next, &retry);

	ck_assert_int_eq(rc, gcra_cases[_i].want);
	ck_assert_int_eq(rc == RATELIMIT_OK ? next : retry, gcra_cases[_i].out);
}
END_TEST

#define NSLOTS 64
static ratelimit_slot slots[NSLOTS];

/* How many of n requests at one moment the table admits for sub. */
static int admitted(const struct ratelimit_conf *c, const char *sub,
    int64_t now, int n, int64_t *retry)
{
	int ok = 0;

	for (int i = 0; i < n; i++)
		if (ratelimit_take_slots(slots, NSLOTS, c, sub, now, retry) ==
		    RATELIMIT_OK)
			ok++;
	return ok;
}

START_TEST(test_ratelimit_table)
{
	const struct ratelimit_conf c = { 30, 5 };	/* 2 s interval */
	const int64_t t0 = INT64_C(1780000000000);
	int64_t retry = 0;

	memset(slots, 0, sizeof slots);
	ck_assert_int_eq(admitted(&c, "alice", t0, 8, &retry), 5);
	ck_assert_int_eq(retry, 2000);
	ck_assert_int_eq(admitted(&c, "bob", t0, 8, &retry), 5);
	ck_assert_int_eq(admitted(&c, "alice", t0 + 1999, 1, &retry), 0);
	ck_assert_int_eq(retry, 1);
	ck_assert_int_eq(admitted(&c, "alice", t0 + 2000, 2, &retry), 1);
	/* After burst intervals of quiet, the whole burst again. */
	ck_assert_int_eq(admitted(&c, "alice", t0 + 20000, 9, &retry), 5);
	/* No limit configured: everything passes, nothing is written. */
	const struct ratelimit_conf off = { 0, 5 };
	memset(slots, 0, sizeof slots);
	ck_assert_int_eq(admitted(&off, "alice", t0, 100, &retry), 100);
	for (int i = 0; i < NSLOTS; i++)
		ck_assert_uint_eq(atomic_load(&slots[i]), 0);
}
END_TEST

/* More subjects in debt than slots: the rest are admitted, reported
 * full; once the debts are paid, their slots serve new subjects. */
START_TEST(test_ratelimit_full)
{
	const struct ratelimit_conf c = { 60, 1 };
	const int64_t t0 = INT64_C(1780000000000);
	int64_t retry = 0;
	int full = 0, ok = 0;
	char sub[32];

	memset(slots, 0, sizeof slots);
	for (int i = 0; i < 4 * NSLOTS; i++) {
		snprintf(sub, sizeof sub, "user-%d", i);
		int rc = ratelimit_take_slots(slots, NSLOTS, &c, sub, t0, &retry);
		full += rc == RATELIMIT_EFULL;
		ok += rc == RATELIMIT_OK;
	}
	ck_assert_int_eq(ok + full, 4 * NSLOTS);
	ck_assert_int_eq(ok, NSLOTS);	/* every slot was taken */
	ck_assert_int_eq(ratelimit_take_slots(slots, NSLOTS, &c, "late", t0,
	    &retry), RATELIMIT_EFULL);
	ck_assert_int_eq(ratelimit_take_slots(slots, NSLOTS, &c, "late",
	    t0 + 1000, &retry), RATELIMIT_OK);
	ck_assert_int_eq(ratelimit_take_slots(slots, NSLOTS, &c, "late",
	    t0 + 1000, &retry), RATELIMIT_LIMITED);
}
END_TEST

static char dir[64], db[128], file[160];

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_ratelimit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/msgcmd.db", dir);
	snprintf(file, sizeof file, "%s.ratelimit", db);
}

static void teardown(void)
{
	ratelimit_close();
	unlink(file);
	rmdir(dir);
}

START_TEST(test_ratelimit_file)
{
	const struct ratelimit_conf c = { 60, 2 };
	int64_t retry = 0, now = INT64_C(1780000000000);
	struct stat st;
	FILE *f;

	ck_assert_int_eq(ratelimit_take(db, &c, "a", now, &retry), RATELIMIT_OK);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_gt(st.st_size, RATELIMIT_SLOTS * 8);
	ratelimit_close();
	/* A second mapping sees the first one's charge. */
	ck_assert_int_eq(ratelimit_take(db, &c, "a", now, &retry), RATELIMIT_OK);
	ck_assert_int_eq(ratelimit_take(db, &c, "a", now, &retry),
	    RATELIMIT_LIMITED);
	ratelimit_close();
	/* Another layout (an older msgcmd's file) is replaced. */
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fputs("an older layout", f);
	fclose(f);
	ck_assert_int_eq(ratelimit_take(db, &c, "a", now, &retry), RATELIMIT_OK);
	ck_assert_uint_eq(ratelimit_full_count(), 0);
	ratelimit_close();
	ck_assert_int_eq(ratelimit_take("/nonexistent/dir/db", &c, "a", now,
	    &retry), RATELIMIT_EOPEN);
	ck_assert_str_eq(ratelimit_strerror(RATELIMIT_EOPEN),
	    "the rate-limit file cannot be mapped");
}
END_TEST

#define PROCS 4
#define TRIES 250000
#define BURST 600000

/* PROCS processes, each with its own mapping, charge one subject at
 * once, TRIES times each: together they get exactly the burst; a lost
 * update would let more through. */
START_TEST(test_ratelimit_processes)
{
	const struct ratelimit_conf c = { 1, BURST };	/* one a minute */
	const int64_t now = INT64_C(1780000000000);
	int go[2], counts[2], total = 0;
	pid_t pids[PROCS];
	char start = 0;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(counts), 0);
	for (int p = 0; p < PROCS; p++) {
		ck_assert_int_ge(pids[p] = fork(), 0);
		if (pids[p] != 0)
			continue;
		int64_t retry;
		int n = 0;
		if (read(go[0], &start, 1) != 1)
			_exit(2);
		for (int i = 0; i < TRIES; i++)
			n += ratelimit_take(db, &c, "shared", now, &retry) ==
			    RATELIMIT_OK;
		_exit(write(counts[1], &n, sizeof n) == sizeof n ? 0 : 3);
	}
	for (int p = 0; p < PROCS; p++)
		ck_assert_int_eq(write(go[1], &start, 1), 1);
	for (int p = 0; p < PROCS; p++) {
		int status;
		int n;
		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert_int_eq(status, 0);
		ck_assert_int_eq(read(counts[0], &n, sizeof n), sizeof n);
		total += n;
	}
	ck_assert_int_eq(total, BURST);
	close(go[0]);
	close(go[1]);
	close(counts[0]);
	close(counts[1]);
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *pure = tcase_create("pure");
	TCase *shm = tcase_create("file");

	tcase_add_loop_test(pure, test_ratelimit_gcra, 0,
	    (int)(sizeof gcra_cases / sizeof gcra_cases[0]));
	tcase_add_test(pure, test_ratelimit_table);
	tcase_add_test(pure, test_ratelimit_full);
	tcase_add_checked_fixture(shm, setup, teardown);
	tcase_add_test(shm, test_ratelimit_file);
	tcase_add_test(shm, test_ratelimit_processes);
	suite_add_tcase(s, pure);
	suite_add_tcase(s, shm);
	return s;
}

UNIT_MAIN(ratelimit_suite)
