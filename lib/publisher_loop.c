/* publisher_loop.c: the lock holder's loop: each producer session starts
 * with recovery, then outbox rows after the last produced one go to Kafka
 * in seq order (those recovery found there are skipped), and the cursor
 * follows the delivery reports over the acknowledged prefix only. */
#include "publisher_int.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "store.h"

#define PUB_BATCH 1000		/* rows fetched and produced per turn */
#define PUB_IDLE_MS 3		/* idle outbox poll: bounds the publish lag */
#define PUB_BEAT_MS 1000	/* heartbeat (and idle broker probe) period */
#define PUB_ADVANCE_MS 10	/* under load, at most one cursor write per */
#define PUB_RETRY_MS 1000	/* pause after a database or producer failure */
#define PUB_FLUSH_MS 5000	/* on stop, time Kafka gets to acknowledge */
#define PUB_PURGE_MS 10000	/* idempotency purge period */
#define PUB_PURGE_ROWS 500	/* idempotency rows per purge transaction */
#define PUB_CKPT_MS 250		/* WAL checkpoint period (see db.h) */
#define PUB_CKPT_RESTART 16384	/* WAL pages (64 MiB of 4 KiB) that make
				 * a checkpoint restart the WAL */

/* The loop's state during one tenure of the lock. */
struct pub_loop {
	struct pub_ctl *ctl;
	struct outbox *ob;
	struct pk *k;
	int64_t produced;	/* last seq handed to librdkafka */
	int64_t cursor;		/* last seq recorded as published */
	int64_t advance_at, beat_at, resume_at, purge_at, ckpt_at; /* ms */
	long purged;		/* idempotency rows deleted this round */
	struct pk_found found;	/* on the topic already: skip */
	struct metrics_lag lag;	/* produced, awaiting delivery: their lag */
	struct outbox_row rows[PUB_BATCH];
};
_Static_assert(METRICS_LAG_RING >= PK_WINDOW, "every event in flight");

static int64_t pub_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pub_db_error(struct pub_loop *l, const char *what, int rc)
{
	log_msg(LOG_LEVEL_WARN, "publisher: %s: %s; retrying", what,
	    store_strerror(rc));
	l->resume_at = pub_now_ms() + PUB_RETRY_MS;
}

/* Reports, once the loop is past them, what recovery's findings saved. */
static void pub_found_done(struct pub_loop *l)
{
	if (l->found.n == 0 || !pk_found_done(&l->found))
		return;
	log_msg(LOG_LEVEL_INFO, "publisher: recovery: skipped %zu events"
	    " already on the topic", l->found.skipped);
	if (l->found.foreign > 0)
		log_msg(LOG_LEVEL_WARN, "publisher: recovery: %zu messages on"
		    " the topic carry one of our seqs but another event id:"
		    " another database publishes to this topic?",
		    l->found.foreign);
	pk_found_free(&l->found);
}

/* Hands the rows after the last produced one to librdkafka, as many as
 * the window has room for.  Returns how many. */
static int pub_produce(struct pub_loop *l)
{
	size_t room = pk_room(l->k);
	int max = room < PUB_BATCH ? (int)room : PUB_BATCH, n = 0, i, rc;

	if (max == 0 || pub_now_ms() < l->resume_at)
		return 0;
	if ((rc = outbox_pending(l->ob, l->produced)) <= 0) {
		if (rc < 0)
			pub_db_error(l, "reading the outbox", rc);
		return 0;
	}
	if ((rc = outbox_fetch(l->ob, l->produced, l->rows, max, &n)) != 0) {
		pub_db_error(l, "reading the outbox", rc);
		return 0;
	}
	/* Stop at the first row librdkafka refuses: it is retried later, and
	 * nothing after it may overtake it. */
	for (i = 0; i < n; i++) {
		const struct outbox_row *r = &l->rows[i];
		if (pk_found_take(&l->found, r->seq, r->event_id))
			pk_skip(l->k, r->seq);
		else if (pk_produce(l->k, r) != 0)
			break;
		else
			metrics_lag_sent(&l->lag, r->seq, r->created_at);
		l->produced = r->seq;
	}
	if (i < n)
		l->resume_at = pub_now_ms() + PUB_RETRY_MS;
	outbox_rows_free(l->rows, n);
	pub_found_done(l);
	return i;
}

/* Test hook MSGCMD_FAULT_CRASH_AFTER_ACKS=N (read in publisher.c): once
 * this producer has N delivery reports, die just before the cursor write
 * that would record them: the moment recovery exists for, made exact.
 * _exit() is the one deliberate exit from lib/: no flush, no cursor write,
 * no cleanup, as with SIGKILL.  Unset, it costs one comparison. */
static void pub_fault_crash(struct pub_loop *l)
{
	if (l->ctl->crash_after_acks <= 0 ||
	    pk_acks(l->k) < l->ctl->crash_after_acks)
		return;
	log_msg(LOG_LEVEL_WARN, "publisher: MSGCMD_FAULT_CRASH_AFTER_ACKS:"
	    " dying after %ld acknowledgements, cursor still at seq %" PRId64,
	    pk_acks(l->k), l->cursor);
	_exit(137);
}

/* Records the delivered prefix as published; under load at most every
 * PUB_ADVANCE_MS, since each write is a commit the responders wait on. */
static void pub_advance(struct pub_loop *l, int force)
{
	int64_t done = pk_delivered(l->k), now = pub_now_ms();
	int rc;

	if (done <= l->cursor || (!force && now < l->advance_at))
		return;
	pub_fault_crash(l);
	rc = outbox_advance(l->ob, done, (long)getpid(), pk_state_name(l->k));
	l->advance_at = now + (rc == 0 ? PUB_ADVANCE_MS : PUB_RETRY_MS);
	if (rc != 0) {
		log_msg(LOG_LEVEL_WARN, "publisher: cannot record seq %" PRId64
		    " as published: %s", done, store_strerror(rc));
		return;
	}
	l->cursor = done;
	l->beat_at = now + PUB_BEAT_MS;
}

static void pub_heartbeat(struct pub_loop *l)
{
	int64_t now = pub_now_ms();
	int rc;

	if (now < l->beat_at)
		return;
	pk_probe(l->k);
	rc = outbox_heartbeat(l->ob, (long)getpid(), pk_state_name(l->k));
	if (rc != 0)
		log_msg(LOG_LEVEL_WARN, "publisher: heartbeat: %s",
		    store_strerror(rc));
	/* A burst leaves librdkafka's threads' and this thread's malloc
	 * arenas holding freed memory, which glibc keeps resident; hand it
	 * back, so that the publishing responder stays as small as the
	 * others once the burst is over. */
	malloc_trim(0);
	l->beat_at = pub_now_ms() + PUB_BEAT_MS;
}

/* Starts a producer session after seq from, recovery first. */
static int pub_begin(struct pub_loop *l, int64_t from)
{
	char err[256];

	if (pk_recover(l->ctl, l->ob, from, &l->found) != 0)
		return -1;
	if ((l->k = pk_new(l->ctl->cfg, from, err, sizeof err)) == NULL) {
		log_msg(LOG_LEVEL_ERROR, "publisher: %s", err);
		return -1;
	}
	l->produced = from;
	log_msg(LOG_LEVEL_INFO, "publisher: publishing after seq %" PRId64,
	    from);
	return 0;
}

/* After a fatal producer error or an undelivered event: a new producer
 * session starts after the delivered prefix.  What the old one sent
 * beyond it may have landed: recovery finds it. */
static int pub_restart(struct pub_loop *l)
{
	int64_t from;

	pub_advance(l, 1);
	from = pk_delivered(l->k);
	pk_free(l->k);
	l->k = NULL;
	log_msg(LOG_LEVEL_WARN, "publisher: restarting the producer after seq %"
	    PRId64, from);
	/* Also lets what the old producer had in flight land before
	 * recovery reads the tail. */
	pub_sleep(l->ctl, PUB_RETRY_MS);
	return pub_begin(l, from);
}

/* Deletes expired idempotency rows, one short transaction of at most
 * PUB_PURGE_ROWS per loop turn, so that publishing and the responders'
 * commands go on between batches. */
static void pub_purge(struct pub_loop *l)
{
	int64_t now = pub_now_ms();
	int deleted, rc;

	if (now < l->purge_at)
		return;
	rc = outbox_purge_idempotency(l->ob, (int64_t)time(NULL) -
	    l->ctl->cfg->idempotency_ttl_s, PUB_PURGE_ROWS, &deleted);
	l->purged += deleted;
	if (rc == 0 && deleted == PUB_PURGE_ROWS)
		return;		/* more to do, next turn */
	if (rc != 0)
		log_msg(LOG_LEVEL_WARN, "publisher: purging idempotency keys:"
		    " %s", store_strerror(rc));
	if (l->purged > 0)
		log_msg(LOG_LEVEL_INFO, "publisher: purged %ld expired"
		    " idempotency keys", l->purged);
	l->purged = 0;
	l->purge_at = now + PUB_PURGE_MS;
}

/* Checkpoints the WAL for every connection to the database (db.h).  A
 * failure (busy past the timeout) is tried again next period. */
static void pub_checkpoint(struct pub_loop *l)
{
	int64_t now = pub_now_ms();
	int pages, rc;

	if (now < l->ckpt_at)
		return;
	l->ckpt_at = now + PUB_CKPT_MS;
	rc = outbox_checkpoint(l->ob, PUB_CKPT_RESTART, &pages);
	if (rc != 0)
		log_msg(LOG_LEVEL_DEBUG, "publisher: checkpoint (WAL %d pages):"
		    " %s", pages, store_strerror(rc));
}

/* Publishes until asked to stop; then gives Kafka PUB_FLUSH_MS to
 * acknowledge what is queued and records how far it got. */
static int pub_publish(struct pub_loop *l)
{
	int rc = 0;

	while (rc == 0 && !pub_stopping(l->ctl)) {
		if (pk_broken(l->k)) {
			rc = pub_restart(l);
			continue;
		}
		int n = pub_produce(l);
		pk_poll(l->k, n > 0 ? 0 : PUB_IDLE_MS);
		metrics_lag_delivered(&l->lag, pk_delivered(l->k));
		pub_advance(l, 0);
		pub_heartbeat(l);
		pub_purge(l);
		pub_checkpoint(l);
	}
	if (l->k != NULL) {
		pk_flush(l->k, PUB_FLUSH_MS);
		pub_advance(l, 1);
	}
	outbox_heartbeat(l->ob, (long)getpid(), "stopped");
	return rc;
}

/* Opens the outbox and reads the cursor. */
static int pub_open(struct pub_loop *l, char *err, size_t err_size)
{
	int rc = outbox_open(&l->ob, l->ctl->cfg, err, err_size);

	/* Opened already in a responder; the relay's publisher opens it. */
	if (rc == 0 && metrics_open(l->ctl->cfg->db_path, err, err_size) != 0)
		log_msg(LOG_LEVEL_WARN, "metrics: %s; not counted", err);
	if (rc == 0 && (rc = outbox_cursor(l->ob, &l->cursor)) != 0)
		snprintf(err, err_size, "DATABASE_PATH: publisher cursor: %s",
		    store_strerror(rc));
	return rc;
}

/* One tenure of the lock.  Returns 0 after a stop request, -1 when the
 * database or the producer could not be opened (the caller retries). */
int pub_tenure(struct pub_ctl *ctl)
{
	struct pub_loop *l = calloc(1, sizeof *l);
	char err[256];
	int rc;

	if (l == NULL) {
		log_msg(LOG_LEVEL_ERROR, "publisher: out of memory");
		return -1;
	}
	l->ctl = ctl;
	if ((rc = pub_open(l, err, sizeof err)) != 0)
		log_msg(LOG_LEVEL_ERROR, "publisher: %s", err);
	else
		log_msg(LOG_LEVEL_INFO, "publisher: holding the lock; cursor at"
		    " seq %" PRId64, l->cursor);
	if (rc == 0 && (rc = pub_begin(l, l->cursor)) == 0)
		rc = pub_publish(l);
	else if (l->ob != NULL && pub_stopping(ctl))	/* during recovery */
		outbox_heartbeat(l->ob, (long)getpid(), "stopped");
	pk_free(l->k);
	pk_found_free(&l->found);
	outbox_close(l->ob);
	free(l);
	return rc;
}
