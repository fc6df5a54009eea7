/* metrics_text.c: a snapshot of the counters and the scrape-time gauges
 * as Prometheus text, exposition format 0.0.4, for GET /metrics. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M_REQUEST_SERIES ((size_t)RP__MAX * METRICS_METHODS * METRICS_STATUSES)
/* The buffer holds every series at once, M_LINES lines of at most M_LINE
 * bytes: a scrape is rare, one allocation is simpler than growing. */
#define M_LINE 192
#define M_LINES (M_REQUEST_SERIES + (size_t)RP__MAX * \
    (METRICS_REQ_BUCKETS + 2) + METRICS_LAG_BUCKETS + METRICS_KAFKA__MAX + 64)

static const char *const mt_kafka_names[METRICS_KAFKA__MAX] = {
	[METRICS_KAFKA_CLIENT] = "client", [METRICS_KAFKA_PRODUCE] = "produce",
	[METRICS_KAFKA_DELIVERY] = "delivery",
};

/* The states a heartbeat names (publisher*.c), and probe.c's "absent". */
static const char *const mt_states[] = { "none", "recovering", "connecting",
	"connected", "kafka-down", "stopped", "absent" };

/* The text being rendered.  A line that does not fit would be a bug in
 * M_LINES; it fails the rendering rather than cut the text. */
struct mt_text {
	char *p;
	size_t len;
	int failed;
};

static void mt_put(struct mt_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void mt_put(struct mt_text *t, const char *fmt, ...)
{
	size_t room = M_LINES * M_LINE - t->len;
	va_list ap;

	if (t->failed)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(t->p + t->len, room, fmt, ap);
	va_end(ap);
	t->failed = n < 0 || (size_t)n >= room;
	t->len += t->failed ? 0 : (size_t)n;
}

static void mt_head(struct mt_text *t, const char *name, const char *type,
    const char *help)
{
	mt_put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Writes µs as seconds, the shortest way: 500 -> "0.0005", 2500000 ->
 * "2.5", 1000000 -> "1"; le labels and sums use it alike. */
static const char *mt_seconds(char out[32], uint64_t us)
{
	int n = snprintf(out, 32, "%llu.%06llu", (unsigned long long)(us /
	    1000000), (unsigned long long)(us % 1000000));

	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
	return out;
}

/* One histogram series (route: its label, or NULL): cumulative buckets,
 * sum and count.  The count is the buckets' total, so that +Inf and
 * _count agree even when the snapshot caught a request half counted. */
static void mt_histogram(struct mt_text *t, const char *name,
    const char *route, const uint64_t *b, const int64_t *bounds, size_t n,
    uint64_t sum_us)
{
	char sel[96] = "", pre[96] = "", le[32];
	unsigned long long total = 0;

	if (route != NULL) {
		snprintf(sel, sizeof sel, "{route=\"%s\"}", route);
		snprintf(pre, sizeof pre, "route=\"%s\",", route);
	}
	for (size_t i = 0; i < n; i++) {
		total += b[i];
		mt_put(t, "%s_bucket{%sle=\"%s\"} %llu\n", name, pre, i + 1 < n ?
		    mt_seconds(le, (uint64_t)bounds[i]) : "+Inf", total);
	}
	mt_put(t, "%s_sum%s %s\n%s_count%s %llu\n", name, sel,
	    mt_seconds(le, sum_us), name, sel, total);
}

static void mt_requests(struct mt_text *t, const struct metrics_snapshot *s)
{
	char code[8];

	mt_head(t, "msgcmd_requests_total", "counter",
	    "Requests answered, by method, route pattern and status.");
	for (size_t k = 0; k < M_REQUEST_SERIES; k++) {
		size_t st = k % METRICS_STATUSES, r = k / METRICS_STATUSES /
		    METRICS_METHODS, m = k / METRICS_STATUSES % METRICS_METHODS;
		if (s->requests[k] == 0)
			continue;
		if (st < METRICS_CODES)
			snprintf(code, sizeof code, "%d", metrics_status_codes[st]);
		else
			snprintf(code, sizeof code, "%zuxx", st - METRICS_CODES + 1);
		mt_put(t, "msgcmd_requests_total{method=\"%s\",route=\"%s\","
		    "status=\"%s\"} %llu\n", metrics_method_names[m],
		    route_pattern_name((enum route_pattern)r), code,
		    (unsigned long long)s->requests[k]);
	}
}

/* Per route pattern, once requested: commands (a commit each) and probes
 * differ by orders of magnitude, and one histogram for all would hide
 * the commands' latency behind the cheap answers. */
static void mt_durations(struct mt_text *t, const struct metrics_snapshot *s)
{
	const char *name = "msgcmd_request_duration_seconds";

	mt_head(t, name, "histogram", "Time to answer a request, by route"
	    " pattern.");
	for (size_t r = 0; r < RP__MAX; r++) {
		uint64_t any = 0;
		for (size_t i = 0; i < METRICS_REQ_BUCKETS; i++)
			any |= s->req_bucket[r][i];
		if (any)
			mt_histogram(t, name, route_pattern_name(
			    (enum route_pattern)r), s->req_bucket[r],
			    metrics_req_bounds_us, METRICS_REQ_BUCKETS,
			    s->req_sum_us[r]);
	}
}

static void mt_publisher(struct mt_text *t, const struct metrics_snapshot *s)
{
	mt_head(t, "msgcmd_publish_lag_seconds", "histogram",
	    "Time from an event's commit to Kafka's acknowledgement of it.");
	mt_histogram(t, "msgcmd_publish_lag_seconds", NULL, s->lag_bucket,
	    metrics_lag_bounds_us, METRICS_LAG_BUCKETS, s->lag_sum_us);
	mt_head(t, "msgcmd_kafka_errors_total", "counter",
	    "Kafka errors seen by the publisher, by kind.");
	for (size_t k = 0; k < METRICS_KAFKA__MAX; k++)
		mt_put(t, "msgcmd_kafka_errors_total{kind=\"%s\"} %llu\n",
		    mt_kafka_names[k], (unsigned long long)s->kafka_errors[k]);
}

static void mt_gauges(struct mt_text *t, const struct metrics_gauges *g)
{
	const char *const gauge[][2] = {
		{ "msgcmd_outbox_backlog", "Committed events not yet published." },
		{ "msgcmd_publisher_pid",
		  "Process id in the publisher's last heartbeat, 0 if none." },
		{ "msgcmd_publisher_heartbeat_age_seconds",
		  "Age of the publisher's last heartbeat, -1 if none." },
	};
	const long long v[] = { (long long)g->backlog, g->publisher_pid,
		(long long)g->heartbeat_age_s };

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		mt_head(t, gauge[i][0], "gauge", gauge[i][1]);
		mt_put(t, "%s %lld\n", gauge[i][0], v[i]);
	}
	mt_head(t, "msgcmd_publisher_state", "gauge",
	    "The publisher's state from its last heartbeat: 1 for the current.");
	for (size_t i = 0; i < sizeof mt_states / sizeof *mt_states; i++)
		mt_put(t, "msgcmd_publisher_state{state=\"%s\"} %d\n",
		    mt_states[i], g->publisher_state != NULL &&
		    strcmp(g->publisher_state, mt_states[i]) == 0);
}

char *metrics_render(const struct metrics_snapshot *s,
    const struct metrics_gauges *g, size_t *len)
{
	struct mt_text t = { malloc(M_LINES * M_LINE), 0, 0 };

	if (t.p == NULL)
		return NULL;
	mt_requests(&t, s);
	mt_durations(&t, s);
	mt_publisher(&t, s);
	if (g != NULL && g->store_ok)
		mt_gauges(&t, g);
	if (t.failed) {
		free(t.p);
		return NULL;
	}
	*len = t.len;
	return t.p;
}
