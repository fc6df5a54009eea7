/* publisher_int.h: internal to lib/publisher*.c.  The lock holder's loop
 * (publisher_loop.c), the Kafka side of it (publisher_kafka.c, _conf.c)
 * and the window of produced-but-unacknowledged sequence numbers
 * (publisher_window.c).  It keeps <librdkafka/rdkafka.h> out of the rest. */
#ifndef MSGCMD_PUBLISHER_INT_H
#define MSGCMD_PUBLISHER_INT_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct outbox_row;
struct pk;
struct rd_kafka_conf_s;		/* rd_kafka_conf_t, kept opaque here */

/* What a publisher needs before it holds the lock (publisher.c). */
struct pub_ctl {
	const struct config *cfg;
	volatile sig_atomic_t *sig_stop;	/* the relay's signal flag */
	atomic_int stop;			/* publisher_stop()'s flag */
	int lock_fd;
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
 * outbox) and stays far below queue.buffering.max.messages. */
#define PK_WINDOW 10000

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

/* Fills conf: our defaults, then BOOTSTRAP_SERVERS, then KAFKA_PROPERTIES
 * ("k=v;k=v", like kcat -X), then the fixed settings (idempotence,
 * acks=all), which KAFKA_PROPERTIES may repeat but not change.  Returns 0
 * or -1 with one line in errstr naming the setting. */
int pk_conf_fill(struct rd_kafka_conf_s *conf, const struct config *cfg,
    char *errstr, size_t errstr_size);

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

/* Highest seq up to which every produced event was acknowledged. */
int64_t pk_delivered(const struct pk *k);

/* How many more events may be produced now (window room). */
size_t pk_room(const struct pk *k);

/* Returns "connecting", "connected" or "kafka-down". */
const char *pk_state_name(const struct pk *k);

#endif
