/* sqlite_rate.c: SQLite's own single-process durable-commit rate on this
 * disk: one small INSERT per transaction, WAL, the given synchronous
 * mode, for the given seconds.  Prints commits per second. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *ins, *begin, *commit;
	char pragma[96];
	long n = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: sqlite_rate DB NORMAL|FULL SECONDS\n");
		return 2;
	}
	snprintf(pragma, sizeof pragma,
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;", argv[2]);
	if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
	    sqlite3_exec(db, pragma, 0, 0, 0) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY,"
	    " v BLOB)", 0, 0, 0) != SQLITE_OK)
		return 1;
	sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (randomblob(200))", -1,
	    &ins, 0);
	sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, 0);
	sqlite3_prepare_v2(db, "COMMIT", -1, &commit, 0);
	double t0 = now(), until = t0 + atof(argv[3]);
	while (now() < until) {
		sqlite3_step(begin);
		sqlite3_reset(begin);
		sqlite3_step(ins);
		sqlite3_reset(ins);
		if (sqlite3_step(commit) != SQLITE_DONE)
			return 1;
		sqlite3_reset(commit);
		n++;
	}
	printf("%.0f\n", n / (now() - t0));
	sqlite3_finalize(ins);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	return 0;
}
