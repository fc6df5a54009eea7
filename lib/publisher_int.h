/* publisher_int.h: internal to lib/publisher*.c.  The lock holder's loop
 * (publisher_loop.c), the Kafka side of it (publisher_kafka.c, _conf.c),
 * the recovery that reads the topic's tail (publisher_recover.c), and the
 * window of produced-but-unacknowledged sequence numbers with the set of
 * events recovery found (publisher_window.c).  It keeps
 * <librdkafka/rdkafka.h> out of the rest. */
#ifndef MSGCMD_PUBLISHER_INT_H
#define MSGCMD_PUBLISHER_INT_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct outbox;
struct outbox_row;
struct pk;
struct rd_kafka_conf_s;		/* rd_kafka_conf_t, kept opaque here */
struct rd_kafka_message_s;	/* rd_kafka_message_t */

/* What a publisher needs before it holds the lock (publisher.c). */
struct pub_ctl {
	const struct config *cfg;
	volatile sig_atomic_t *sig_stop;	/* the relay's signal flag */
	atomic_int stop;			/* publisher_stop()'s flag */
	int lock_fd;
	/* Test hook MSGCMD_FAULT_CRASH_AFTER_ACKS, 0 when unset: see
	 * pub_fault_crash() in publisher_loop.c. */
	long crash_after_acks;
};

/* Returns 1 once a stop was requested, by signal or by publisher_stop(). */
int pub_stopping(struct pub_ctl *ctl);

/* Sleeps ms, in slices short enough to notice a stop request. */
void pub_sleep(struct pub_ctl *ctl, int ms);

/* One tenure of the lock, which the caller holds: publishes until a stop
 * request, then flushes for a few seconds and records the cursor.
 * Returns 0, or -1 (logged) when the database or the producer could not be
 * opened; the caller releases the lock and retries later. */
int pub_tenure(struct pub_ctl *ctl);

/* At most this many events are handed to librdkafka and not yet
 * acknowledged: bounds memory while Kafka is down (the rest wait in the
 * outbox) and stays far below queue.buffering.max.messages.  Measured
 * (make bench): 10000 drained 75000 events/s with the publishing
 * responder at 33 MB RSS under load; 4000, 70000/s at 22 MB; 2000,
 * 54000/s at 20 MB. */
#define PK_WINDOW 4000

/* What the producer knows about the cluster, for the heartbeat. */
enum pk_state { PK_CONNECTING, PK_CONNECTED, PK_DOWN };

/* Produced sequence numbers in produce (= seq) order and whether each was
 * acknowledged; base is the highest seq up to which all are. */
struct pk_window {
	int64_t seq[PK_WINDOW];
	unsigned char acked[PK_WINDOW];
	size_t head, count;
	int64_t base;
};

void pk_window_init(struct pk_window *w, int64_t base);
/* Appends seq, which must exceed every seq already in w; needs room. */
void pk_window_push(struct pk_window *w, int64_t seq);
/* Marks seq acknowledged (ignored when absent), then moves base over the
 * acknowledged prefix.  Out-of-order acknowledgements (other partitions)
 * wait until everything before them is acknowledged too. */
void pk_window_ack(struct pk_window *w, int64_t seq);

/* An event recovery found on the topic: its msgcmd-seq and ce_id headers. */
struct pk_landed {
	int64_t seq;
	char event_id[37];	/* "" when the message had no ce_id */
};

/* The events after the cursor that are already on the topic, sorted by
 * seq after pk_found_sort(); the loop meets rows in seq order and asks
 * pk_found_take() about each, so next only moves forward. */
struct pk_found {
	struct pk_landed *v;
	size_t n, cap, next;
	size_t skipped;		/* rows pk_found_take() said to skip */
	size_t foreign;		/* same seq, other event id: not ours */
};

/* Adds seq with event id id (len bytes, not NUL-terminated).  Returns 0,
 * or -1 when out of memory (f unchanged). */
int pk_found_add(struct pk_found *f, int64_t seq, const char *id,
    size_t len);
/* Sorts by seq and event id and drops repeats: an event that landed
 * twice is one; two events with one seq stay two. */
void pk_found_sort(struct pk_found *f);
/* Returns 1 when the outbox row (seq, event_id) is already on the topic
 * and must be skipped, else 0.  Call with increasing seq.  A message that
 * carries the seq but another event id (a database rebuilt with reused
 * seqs, another deployment on the topic) is not taken as ours, and does
 * not hide ours when both landed. */
int pk_found_take(struct pk_found *f, int64_t seq, const char *event_id);
/* Returns 1 once every found event lies behind the last seq taken. */
int pk_found_done(const struct pk_found *f);
/* Frees the set and zeroes f; a zeroed pk_found is an empty set. */
void pk_found_free(struct pk_found *f);

/* Fills conf: our defaults, then BOOTSTRAP_SERVERS, then KAFKA_PROPERTIES
 * ("k=v;k=v", like kcat -X), then the fixed settings (idempotence,
 * acks=all), which KAFKA_PROPERTIES may repeat but not change.  Returns 0
 * or -1 with one line in errstr naming the setting. */
int pk_conf_fill(struct rd_kafka_conf_s *conf, const struct config *cfg,
    char *errstr, size_t errstr_size);

/* Fills conf for recovery's consumer: BOOTSTRAP_SERVERS and
 * KAFKA_PROPERTIES, so that it reaches the cluster as the producer does
 * (TLS, SASL), then the consumer settings recovery rests on.  Same
 * returns as above. */
int pk_conf_fill_recovery(struct rd_kafka_conf_s *conf,
    const struct config *cfg, char *errstr, size_t errstr_size);

/* Builds (and throws away) the librdkafka configuration, so that a bad
 * BOOTSTRAP_SERVERS, TOPIC or KAFKA_PROPERTIES stops start-up.  Returns 0
 * or -1 with one line in errstr naming the setting. */
int pk_check(const struct config *cfg, char *errstr, size_t errstr_size);

/* Creates the producer; everything up to base counts as delivered.
 * Returns NULL with errstr filled on failure. */
struct pk *pk_new(const struct config *cfg, int64_t base, char *errstr,
    size_t errstr_size);

/* Drops what is still queued without waiting and destroys the producer.
 * The dropped events stay in the outbox, after the cursor.  NULL is fine. */
void pk_free(struct pk *k);

/* Counts seq as produced and acknowledged without sending it: recovery
 * found it on the topic.  The cursor still passes it only once every
 * earlier event is acknowledged.  Needs window room, like pk_produce. */
void pk_skip(struct pk *k, int64_t seq);

/* Hands one outbox row to librdkafka (key, payload, CloudEvents headers).
 * Returns 0, or -1 after logging when the row could not be queued; the
 * caller retries the same row later. */
int pk_produce(struct pk *k, const struct outbox_row *r);

/* Serves delivery reports and errors, waiting up to timeout_ms. */
void pk_poll(struct pk *k, int timeout_ms);

/* Waits up to timeout_ms for every queued event to be acknowledged. */
void pk_flush(struct pk *k, int timeout_ms);

/* Asks the cluster for metadata (bounded wait) when the state is not
 * "connected" and nothing is in flight, the only way to notice that Kafka
 * came back while idle. */
void pk_probe(struct pk *k);

/* Returns 1 when the producer must be recreated: a fatal error was raised
 * or an event was not delivered. */
int pk_broken(struct pk *k);

/* How many delivery reports without error this producer has served. */
long pk_acks(const struct pk *k);

/* Highest seq up to which every produced event was acknowledged. */
int64_t pk_delivered(const struct pk *k);

/* How many more events may be produced now (window room). */
size_t pk_room(const struct pk *k);

/* Returns "connecting", "connected" or "kafka-down". */
const char *pk_state_name(const struct pk *k);

struct pk_rec;

/* Creates recovery's consumer handle (no group: it only reads the offsets
 * it is given); a quiet one logs nothing (start-up checks).  Returns NULL
 * with errstr filled on a bad configuration. */
struct pk_rec *pk_rec_new(const struct config *cfg, int quiet, char *errstr,
    size_t errstr_size);

void pk_rec_free(struct pk_rec *r);

/* Recovery, before a producer session starting after seq from produces
 * anything: replaces found by the events after from (up to the newest
 * outbox row) that are already on the topic, sorted.  It reads each
 * partition's tail backwards in growing windows until a message with
 * msgcmd-seq <= from, or the partition's start; a topic that does not
 * exist holds none.  While Kafka does not answer it retries, with the
 * heartbeat saying "recovering", and logs what it found and how long it
 * took.  Returns 0, or -1 when a stop was requested, or (logged) when the
 * outbox could not be read or the consumer could not be created; found
 * is then empty and nothing may be produced: the caller retries later. */
int pk_recover(struct pub_ctl *ctl, struct outbox *ob, int64_t from,
    struct pk_found *found);

/* The reads pk_recover() is made of (publisher_tail.c).  Each returns 0,
 * or -1 with why filled; each Kafka call has a time limit. */

/* Lists the topic's partition ids into ids (room for *n); *n = 0 when the
 * topic does not exist.  A partition without a leader is a failure. */
int pk_rec_partitions(struct pk_rec *r, int32_t *ids, int *n, char *why,
    size_t why_size);

/* Reads partition p's low and high watermarks (high = next offset). */
int pk_rec_watermarks(struct pk_rec *r, int32_t p, int64_t *low,
    int64_t *high, char *why, size_t why_size);

/* What one read looks for and what it saw. */
struct pk_tail {
	int64_t after, last;	/* looked for: msgcmd-seq in (after, last] */
	struct pk_found *found;	/* where those go (unsorted) */
	long read;		/* messages read, ours or not */
	int below;		/* a msgcmd-seq <= after was seen */
	int shard;		/* only this shard's messages count */
};

/* m's header name as a decimal number (msgcmd-seq, msgcmd-shard):
 * absent when m has no such header, -1 when it is not one. */
int64_t pk_header_num(const struct rd_kafka_message_s *m, const char *name,
    int64_t absent);

/* Reads partition p from offset start to end (exclusive) into t; fails
 * when that takes too long or a stop is requested. */
int pk_rec_read(struct pk_rec *r, struct pub_ctl *ctl, int32_t p,
    int64_t start, int64_t end, struct pk_tail *t, char *why,
    size_t why_size);

#endif
