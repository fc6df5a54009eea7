/* metrics.c: counters in a shared file mapping.  Every responder process
 * and the publisher add into the same fixed-size tables with relaxed
 * atomics, so a scrape answered by any one process reports the sum over
 * all of them; and the publish-lag bookkeeping of the publisher's loop. */
#include "metrics.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "shm.h"

/* Shared between processes, the atomics must not hide a lock. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics not lock-free");

const char *const metrics_method_names[METRICS_METHODS] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
};
const int metrics_status_codes[METRICS_CODES] = {
	200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500,
	503,
};
/* Requests take a millisecond or so (one SQLite commit); publish lag
 * reaches minutes or hours while Kafka is down. */
const int64_t metrics_req_bounds_us[METRICS_REQ_BUCKETS - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000,
};
const int64_t metrics_lag_bounds_us[METRICS_LAG_BUCKETS - 1] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 300000000,
	3600000000,
};

/* The file: a magic, then struct metrics_snapshot's fields as atomics.
 * Bump the version with any change that keeps the size; the size is
 * part of the magic too. */
#define METRICS_VERSION 1
typedef atomic_ullong metrics_counter;
struct metrics_shm {
	metrics_counter magic;
	metrics_counter requests[RP__MAX * METRICS_METHODS * METRICS_STATUSES];
	metrics_counter req_bucket[RP__MAX][METRICS_REQ_BUCKETS];
	metrics_counter req_sum_us[RP__MAX];
	metrics_counter lag_bucket[METRICS_LAG_BUCKETS];
	metrics_counter lag_sum_us;
	metrics_counter kafka_errors[METRICS_KAFKA__MAX];
};
#define METRICS_MAGIC (UINT64_C(0x6d736763) << 32 | \
    (uint64_t)METRICS_VERSION << 24 | sizeof(struct metrics_shm))
_Static_assert(offsetof(struct metrics_shm, magic) == 0, "shm.h: magic first");

static _Atomic(struct metrics_shm *) metrics_map;

int metrics_open(const char *db_path, char *errstr, size_t errstr_size)
{
	struct metrics_shm *m, *none = NULL;

	if (atomic_load(&metrics_map) != NULL)
		return 0;
	if ((m = shm_attach(db_path, ".metrics", sizeof *m,
	    METRICS_MAGIC)) == NULL) {
		snprintf(errstr, errstr_size, "DATABASE_PATH: cannot map"
		    " %s.metrics", db_path);
		return METRICS_EOPEN;
	}
	if (!atomic_compare_exchange_strong(&metrics_map, &none, m))
		munmap(m, sizeof *m);	/* another thread was first */
	return 0;
}

void metrics_close(void)
{
	struct metrics_shm *m = atomic_exchange(&metrics_map, NULL);

	if (m != NULL)
		munmap(m, sizeof *m);
}

static struct metrics_shm *metrics_get(void)
{
	return atomic_load_explicit(&metrics_map, memory_order_acquire);
}

static void metrics_add(metrics_counter *c, int64_t n)
{
	atomic_fetch_add_explicit(c, (unsigned long long)n,
	    memory_order_relaxed);
}

/* The bucket of us: the first bound it does not exceed, else +Inf. */
static size_t metrics_bucket(const int64_t *bounds, size_t n, int64_t us)
{
	size_t i = 0;

	while (i < n && us > bounds[i])
		i++;
	return i;
}

static size_t metrics_status(int status)
{
	for (size_t i = 0; i < METRICS_CODES; i++)
		if (metrics_status_codes[i] == status)
			return i;
	return METRICS_CODES +
	    (status >= 100 && status < 600 ? (size_t)status / 100 - 1 : 4);
}

static size_t metrics_method(const char *method)
{
	size_t i = 0;

	while (i < METRICS_METHODS - 1 && (method == NULL ||
	    strcmp(method, metrics_method_names[i]) != 0))
		i++;
	return i;
}

void metrics_request(const char *method, enum route_pattern route,
    int status, int64_t latency_us)
{
	struct metrics_shm *m = metrics_get();
	size_t r = route > RP_NONE && route < RP__MAX ? (size_t)route : RP_NONE;
	int64_t us = latency_us > 0 ? latency_us : 0;

	if (m == NULL)
		return;
	metrics_add(&m->requests[(r * METRICS_METHODS + metrics_method(method))
	    * METRICS_STATUSES + metrics_status(status)], 1);
	metrics_add(&m->req_bucket[r][metrics_bucket(metrics_req_bounds_us,
	    METRICS_REQ_BUCKETS - 1, us)], 1);
	metrics_add(&m->req_sum_us[r], us);
}

void metrics_publish_lag(int64_t lag_us)
{
	struct metrics_shm *m = metrics_get();
	int64_t us = lag_us > 0 ? lag_us : 0;

	if (m == NULL)
		return;
	metrics_add(&m->lag_bucket[metrics_bucket(metrics_lag_bounds_us,
	    METRICS_LAG_BUCKETS - 1, us)], 1);
	metrics_add(&m->lag_sum_us, us);
}

void metrics_kafka_error(enum metrics_kafka kind)
{
	struct metrics_shm *m = metrics_get();

	if (m != NULL && kind >= 0 && kind < METRICS_KAFKA__MAX)
		metrics_add(&m->kafka_errors[kind], 1);
}

/* Copies n counters. */
static void metrics_copy(uint64_t *dst, metrics_counter *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = atomic_load_explicit(&src[i], memory_order_relaxed);
}

void metrics_snapshot(struct metrics_snapshot *s)
{
	struct metrics_shm *m = metrics_get();

	memset(s, 0, sizeof *s);
	if (m == NULL)
		return;
	metrics_copy(s->requests, m->requests,
	    sizeof s->requests / sizeof *s->requests);
	for (size_t r = 0; r < RP__MAX; r++)
		metrics_copy(s->req_bucket[r], m->req_bucket[r],
		    METRICS_REQ_BUCKETS);
	metrics_copy(s->req_sum_us, m->req_sum_us, RP__MAX);
	metrics_copy(s->lag_bucket, m->lag_bucket, METRICS_LAG_BUCKETS);
	metrics_copy(&s->lag_sum_us, &m->lag_sum_us, 1);
	metrics_copy(s->kafka_errors, m->kafka_errors, METRICS_KAFKA__MAX);
}

/* Reads "2026-11-24T10:00:00.123456Z" (event.c's format) as unix µs;
 * -1 when it is something else. */
static int64_t metrics_time_us(const char *s)
{
	struct tm tm;
	char *end = NULL;
	const char *p;
	long us;

	memset(&tm, 0, sizeof tm);
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL || *p != '.')
		return -1;
	us = strtol(p + 1, &end, 10);
	if (end != p + 7 || *end != 'Z' || us < 0)
		return -1;
	return (int64_t)timegm(&tm) * 1000000 + us;
}

void metrics_lag_sent(struct metrics_lag *l, int64_t seq,
    const char *created_at)
{
	int64_t at = metrics_time_us(created_at);

	if (l->count > 0 &&
	    seq <= l->seq[(l->head + l->count - 1) % METRICS_LAG_RING])
		l->count = 0;
	if (at < 0 || l->count == METRICS_LAG_RING)
		return;
	size_t i = (l->head + l->count++) % METRICS_LAG_RING;
	l->seq[i] = seq;
	l->at_us[i] = at;
}

/* The commit times are wall-clock times, hence CLOCK_REALTIME; a clock
 * step backwards counts as no lag. */
void metrics_lag_delivered(struct metrics_lag *l, int64_t delivered)
{
	struct timespec now;

	if (l->count == 0 || l->seq[l->head] > delivered)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
	for (; l->count > 0 && l->seq[l->head] <= delivered; l->count--) {
		metrics_publish_lag(now_us - l->at_us[l->head]);
		l->head = (l->head + 1) % METRICS_LAG_RING;
	}
}
