/* publisher_recover.c: before a producer session publishes anything after
 * the cursor, finds which of those events are already on the topic (a
 * holder killed between Kafka's acknowledgement and its cursor write, a
 * producer recreated after an undelivered event), from the msgcmd-seq
 * headers of each partition's tail. */
#include "publisher_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "outbox.h"
#include "store.h"

#define REC_FIRST_W 512		/* first window: covers a clean stop */
#define REC_SETTLES 3		/* watermark re-checks, see rec_settle() */
#define REC_MAX_PARTS 1024
#define REC_RETRY_MS 1000	/* pause between failed scans */

static int64_t rec_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What one scan saw, for the log line. */
struct rec_stats {
	long found, read;
	int partitions;
};

/* One scan: the handle, the stop flag, what is looked for, the error. */
struct rec_scan {
	struct pk_rec *r;
	struct pub_ctl *ctl;
	struct pk_tail t;
	char *why;
	size_t why_size;
};

static int rec_read(struct rec_scan *s, int32_t p, int64_t start,
    int64_t end)
{
	return pk_rec_read(s->r, s->ctl, p, start, end, &s->t, s->why,
	    s->why_size);
}

/* Reads partition p's tail backwards, in windows that double, until a
 * message at or below the cursor, or the partition's start.  One producer
 * session keeps a partition in seq order and leaves at most PK_WINDOW
 * events unacknowledged, so the first window or two nearly always
 * suffice.  Messages without msgcmd-seq (someone else's) are passed over,
 * which on a topic shared with other writers can mean reading it all. */
static int rec_tail(struct rec_scan *s, int32_t p, int64_t low,
    int64_t high)
{
	int64_t end = high, w = REC_FIRST_W;

	s->t.below = 0;
	while (end > low && !s->t.below) {
		int64_t start = end - w > low ? end - w : low;
		if (rec_read(s, p, start, end) != 0)
			return -1;
		end = start;
		w *= 2;
	}
	return 0;
}

/* A dead holder's last produce requests may still be appended (or
 * replicated, which is when a consumer can see them) just after we read
 * the watermarks: read what appeared since, until the watermarks hold
 * still or REC_SETTLES re-checks (someone else may be writing). */
static int rec_settle(struct rec_scan *s, const int32_t *ids, int64_t *high,
    int n)
{
	int grew = 1;

	for (int round = 0; grew && round < REC_SETTLES; round++) {
		grew = 0;
		for (int i = 0; i < n; i++) {
			int64_t low, now;
			if (pk_rec_watermarks(s->r, ids[i], &low, &now, s->why,
			    s->why_size) != 0)
				return -1;
			if (now <= high[i])
				continue;
			if (rec_read(s, ids[i], high[i], now) != 0)
				return -1;
			high[i] = now;
			grew = 1;
		}
	}
	return 0;
}

/* Scans every partition's tail, then lets the watermarks settle. */
static int rec_topic(struct rec_scan *s, int *parts)
{
	int32_t ids[REC_MAX_PARTS];
	int64_t high[REC_MAX_PARTS], low;
	int n = REC_MAX_PARTS;

	if (pk_rec_partitions(s->r, ids, &n, s->why, s->why_size) != 0)
		return -1;
	*parts = n;
	for (int i = 0; i < n; i++)
		if (pk_rec_watermarks(s->r, ids[i], &low, &high[i], s->why,
		    s->why_size) != 0 || rec_tail(s, ids[i], low, high[i]) != 0)
			return -1;
	return rec_settle(s, ids, high, n);
}

/* Replaces found by the events with seq in (after, last] on the topic,
 * sorted.  Returns 0, or -1 with why filled (found then empty). */
static int rec_scan(struct pk_rec *r, struct pub_ctl *ctl, int64_t after,
    int64_t last, struct pk_found *found, struct rec_stats *stats,
    char *why, size_t why_size)
{
	struct rec_scan s = { r, ctl, { after, last, found, 0, 0,
	    ctl->cfg->shard.index }, why, why_size };
	int rc;

	memset(stats, 0, sizeof *stats);
	pk_found_free(found);
	rc = rec_topic(&s, &stats->partitions);
	if (pub_stopping(ctl)) {
		snprintf(why, why_size, "stop requested");
		rc = -1;
	}
	if (rc != 0)
		pk_found_free(found);
	pk_found_sort(found);
	stats->found = (long)found->n;
	stats->read = s.t.read;
	return rc;
}

/* Scans until Kafka answers or a stop is requested, heartbeat
 * "recovering" meanwhile.  Returns 0 or -1 (stop, or no handle). */
static int rec_retry(struct pub_ctl *ctl, struct outbox *ob, int64_t from,
    int64_t last, struct pk_found *found, struct rec_stats *st)
{
	struct pk_rec *r;
	char why[256];
	int rc, tries = 0;

	if ((r = pk_rec_new(ctl->cfg, 0, why, sizeof why)) == NULL) {
		log_msg(LOG_LEVEL_ERROR, "publisher: recovery: %s", why);
		return -1;
	}
	outbox_heartbeat(ob, (long)getpid(), "recovering");
	while ((rc = rec_scan(r, ctl, from, last, found, st, why,
	    sizeof why)) != 0 && !pub_stopping(ctl)) {
		log_msg(tries++ ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, "publisher:"
		    " recovery: %s; retrying, nothing is published until it"
		    " succeeds", why);
		outbox_heartbeat(ob, (long)getpid(), "recovering");
		pub_sleep(ctl, REC_RETRY_MS);
	}
	pk_rec_free(r);
	return rc;
}

int pk_recover(struct pub_ctl *ctl, struct outbox *ob, int64_t from,
    struct pk_found *found)
{
	int64_t last, t0 = rec_now_ms();
	struct rec_stats st;
	int rc;

	pk_found_free(found);
	if ((rc = outbox_last(ob, &last)) != 0) {
		log_msg(LOG_LEVEL_WARN, "publisher: recovery: reading the"
		    " outbox: %s", store_strerror(rc));
		return -1;
	}
	if (last <= from)	/* nothing after it was ever produced */
		return 0;
	if (rec_retry(ctl, ob, from, last, found, &st) != 0)
		return -1;
	log_msg(LOG_LEVEL_INFO, "publisher: recovery after seq %" PRId64
	    ": %ld of the events up to seq %" PRId64 " already on the topic;"
	    " read %ld messages of %d partitions in %" PRId64 " ms", from,
	    st.found, last, st.read, st.partitions, rec_now_ms() - t0);
	return 0;
}
