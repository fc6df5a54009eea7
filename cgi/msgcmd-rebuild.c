/* msgcmd-rebuild.c: rebuilds the write model (conversations, owners,
 * members) into a new database from the Kafka topic alone.
 *
 *   msgcmd-rebuild --db NEW.db [--topic T]
 *
 * Kafka settings come from the usual configuration; DATABASE_PATH is not
 * used.  Prints one summary line; exits 0 on success. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "publisher_read.h"
#include "replay.h"
#include "store.h"

struct rebuild {
	struct replay rp;
	int shard;		/* SHARD's index: other shards' events are skipped */
	uint64_t other_shard;	/* messages of other shards */
	int64_t last_seq;	/* highest msgcmd-seq header of this shard */
	int err;		/* the store error that stopped the read */
};

static const char usage[] = "usage: msgcmd-rebuild --db NEW.db [--topic T]\n";

/* Replaces the configured string *field by a copy of v. */
static int set_str(char **field, const char *v)
{
	char *copy = strdup(v);

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

/* Reads --db and --topic into cfg.  Returns 0, or -1 after the usage. */
static int parse_args(int argc, char **argv, struct config *cfg)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "topic", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL;
	int c, rc = 0;

	while (rc == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c == 'd')
			db = optarg;
		else if (c != 't' || *optarg == '\0' ||
		    set_str(&cfg->topic, optarg) != 0)
			rc = -1;
	if (rc != 0 || optind != argc || db == NULL || *db == '\0' ||
	    set_str(&cfg->db_path, db) != 0) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

/* Returns 1 when path exists and holds bytes. */
static int has_bytes(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && (sb.st_size > 0 || S_ISDIR(sb.st_mode));
}

/* The rebuild writes only into a new database: a missing or empty file,
 * without a WAL that could hold the pages of a non-empty one. */
static int check_new(const char *path)
{
	char wal[4096];

	snprintf(wal, sizeof wal, "%s-wal", path);
	if (!has_bytes(path) && !has_bytes(wal))
		return 0;
	fprintf(stderr, "msgcmd-rebuild: --db %s: exists and is not empty;"
	    " give a new file\n", path);
	return -1;
}

/* Removes the database files of a failed rebuild, so that a retry is not
 * refused; check_new() proved they held nothing before. */
static void remove_db(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char name[4096];
	size_t i;

	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
		unlink(name);
	}
}

/* publisher_read's callback: one message value into the store. */
static int on_message(void *arg, const struct publisher_msg *m)
{
	struct rebuild *rb = arg;

	/* Shards share the topic; each rebuilds its own database. */
	if (m->shard != rb->shard) {
		rb->other_shard++;
		return 0;
	}
	if (m->seq > rb->last_seq)
		rb->last_seq = m->seq;
	rb->err = replay_value(&rb->rp, m->value, m->len);
	return rb->err;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints the summary line; the reasons only when something was skipped. */
static void summary(const struct rebuild *rb, const struct store_counts *c,
    double secs)
{
	const struct replay_stats *s = &rb->rp.stats;
	const char *sep = " (";
	int r;

	printf("msgcmd-rebuild: read %" PRIu64 " applied %" PRIu64
	    " skipped %" PRIu64, s->read, s->applied, s->skipped);
	for (r = REPLAY__MIN; r < REPLAY__MAX; r++) {
		if (r == REPLAY_APPLIED || s->reasons[r - REPLAY__MIN] == 0)
			continue;
		printf("%s%s %" PRIu64, sep, replay_reason_name(r),
		    s->reasons[r - REPLAY__MIN]);
		sep = ", ";
	}
	if (s->skipped)
		putchar(')');
	if (rb->other_shard > 0)
		printf(" other-shard %" PRIu64, rb->other_shard);
	printf(" conversations %" PRId64 " deleted %" PRId64 " members %"
	    PRId64 " last_seq %" PRId64 " seconds %.2f events/s %.0f\n",
	    c->conversations, c->deleted, c->members,
	    rb->last_seq, secs, secs > 0 ? (double)s->read / secs : 0.0);
}

/* Reads the topic into the open store and finishes the database. */
static int rebuild(struct rebuild *rb, const struct config *cfg,
    char *err, size_t err_size)
{
	struct store_counts c;
	double t0 = now_s();
	int rc;

	rc = publisher_read(cfg, cfg->topic, on_message, rb, err, err_size);
	if (rc == PUBLISHER_READ_ESTOPPED || rc == 0) {
		rc = rb->err != 0 ? rb->err : replay_flush(&rb->rp);
		if (rc == 0)
			rc = store_replay_seq(rb->rp.st, rb->last_seq);
		if (rc == 0)
			rc = store_count(rb->rp.st, &c);
		if (rc != 0)
			snprintf(err, err_size, "--db %s: %s", cfg->db_path,
			    store_strerror(rc));
	}
	if (rc == 0)
		summary(rb, &c, now_s() - t0);
	return rc;
}

int main(int argc, char **argv)
{
	struct rebuild rb = { .rp = { .batch = 1000 } };
	struct config cfg;
	char err[512];
	int rc;

	log_init("msgcmd-rebuild", LOG_LEVEL_WARN);
	if (config_load(&cfg, err, sizeof err) != 0) {
		fprintf(stderr, "msgcmd-rebuild: %s\n", err);
		return 1;
	}
	/* A failed rebuild is started again from scratch, so commits need
	 * not wait for the disk; closing checkpoints and syncs the file. */
	cfg.synchronous = SYNC_NORMAL;
	rb.shard = cfg.shard.index;
	if ((rc = parse_args(argc, argv, &cfg)) != 0 ||
	    (rc = check_new(cfg.db_path)) != 0)
		goto out;
	rc = store_open(&rb.rp.st, &cfg, err, sizeof err);
	if (rc == 0)
		rc = rebuild(&rb, &cfg, err, sizeof err);
	store_close(rb.rp.st);
	if (rc != 0) {
		fprintf(stderr, "msgcmd-rebuild: %s\n", err);
		remove_db(cfg.db_path);
	}
out:
	config_free(&cfg);
	return rc != 0 ? 1 : 0;
}
