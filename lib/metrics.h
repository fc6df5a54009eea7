/* metrics.h: the service's counters, shared by every process of one
 * deployment through a file mapped beside the database, "<db>.metrics"
 * (metrics.c), and their Prometheus text, exposition format 0.0.4
 * (metrics_text.c).  Recording is a few relaxed atomic additions and no
 * system call, so it can sit on every request and in the publisher. */
#ifndef MSGCMD_METRICS_H
#define MSGCMD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"

enum metrics_err {
	METRICS_OK = 0,
	METRICS_EOPEN = -1,	/* the file cannot be created, sized or mapped */
};

/* What msgcmd_kafka_errors_total counts, one label value each. */
enum metrics_kafka {
	METRICS_KAFKA_CLIENT,	/* librdkafka's error callback */
	METRICS_KAFKA_PRODUCE,	/* an event could not be queued */
	METRICS_KAFKA_DELIVERY,	/* an event was not delivered */
	METRICS_KAFKA__MAX
};

/* Maps "<db_path>.metrics" (created 0600, zeroed) for this process; all
 * processes mapping it count into the same numbers, which survive
 * restarts.  A file of another layout (another msgcmd version) is
 * replaced by a fresh one.  Idempotent and thread-safe: a second call
 * returns 0 at once.  Returns 0, or METRICS_EOPEN with errstr filled;
 * until a call succeeds, recording does nothing. */
int metrics_open(const char *db_path, char *errstr, size_t errstr_size);

/* Unmaps the file.  Only when no other thread records any more (at exit,
 * after publisher_stop()), or between unit tests. */
void metrics_close(void);

/* Counts one answered request: method (NULL or unknown: "other"), the
 * route pattern, the status and the latency in microseconds. */
void metrics_request(const char *method, enum route_pattern route,
    int status, int64_t latency_us);

/* Counts one published event that took lag_us from commit to Kafka's
 * acknowledgement. */
void metrics_publish_lag(int64_t lag_us);

void metrics_kafka_error(enum metrics_kafka kind);

/* The dimensions of the tables and their label values, by index. */
#define METRICS_METHODS 8	/* GET HEAD POST PUT PATCH DELETE OPTIONS other */
#define METRICS_CODES 15	/* the statuses msgcmd answers */
#define METRICS_STATUSES (METRICS_CODES + 5)	/* + "1xx" ... "5xx" */
#define METRICS_REQ_BUCKETS 14	/* 13 upper bounds and +Inf */
#define METRICS_LAG_BUCKETS 18	/* 17 upper bounds and +Inf */

extern const char *const metrics_method_names[METRICS_METHODS];
extern const int metrics_status_codes[METRICS_CODES];
extern const int64_t metrics_req_bounds_us[METRICS_REQ_BUCKETS - 1];
extern const int64_t metrics_lag_bounds_us[METRICS_LAG_BUCKETS - 1];

/* The counters at one moment; buckets are not cumulative here. */
struct metrics_snapshot {
	/* [(route * METRICS_METHODS + method) * METRICS_STATUSES + status] */
	uint64_t requests[RP__MAX * METRICS_METHODS * METRICS_STATUSES];
	uint64_t req_bucket[RP__MAX][METRICS_REQ_BUCKETS];
	uint64_t req_sum_us[RP__MAX];
	uint64_t lag_bucket[METRICS_LAG_BUCKETS];
	uint64_t lag_sum_us;
	uint64_t kafka_errors[METRICS_KAFKA__MAX];
};

/* Reads every counter of the mapped file into s (zeros when it is not
 * open).  Each counter is read atomically, the set is not: a scrape may
 * see a request counted but not yet its latency. */
void metrics_snapshot(struct metrics_snapshot *s);

/* The gauges read at scrape time from the store's heartbeat row. */
struct metrics_gauges {
	int store_ok;		/* 0: the store could not be read: none below */
	int64_t backlog;
	long publisher_pid;	/* the last heartbeat's, 0 when none yet */
	const char *publisher_state;	/* "connected", ... "absent" */
	int64_t heartbeat_age_s;	/* -1 when there was no heartbeat */
};

/* Renders s and g as Prometheus text (metrics_text.c): request series
 * once counted, request histograms per route once requested, the rest
 * always; g's gauges only when g->store_ok.  Returns a malloc'd text the
 * caller frees and sets *len, or NULL when out of memory. */
char *metrics_render(const struct metrics_snapshot *s,
    const struct metrics_gauges *g, size_t *len);

/* Publish lag, measured by the publisher's loop: the events handed to
 * Kafka, in seq order, with their commit times, until the delivered
 * prefix passes them.  As many as the producer's window. */
#define METRICS_LAG_RING 10000

struct metrics_lag {
	int64_t seq[METRICS_LAG_RING];
	int64_t at_us[METRICS_LAG_RING];	/* commit time, unix µs */
	size_t head, count;
};

/* Notes that event seq, committed at created_at (the event's ISO 8601
 * time), was handed to Kafka.  A seq not above the last one noted (a new
 * producer session sending again) forgets the older ones first.  An
 * unreadable time or a full ring: the event is not measured. */
void metrics_lag_sent(struct metrics_lag *l, int64_t seq,
    const char *created_at);

/* Records the lag (now - commit time) of every noted event up to
 * delivered, the seq up to which Kafka acknowledged everything. */
void metrics_lag_delivered(struct metrics_lag *l, int64_t delivered);

#endif
