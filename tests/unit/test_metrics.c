/* test_metrics.c: the shared counters (requests by method, route and
 * status; histogram buckets at their bounds; publish lag; Kafka errors),
 * the file beside the database (created 0600, another layout replaced,
 * two processes adding into one file), and the exact Prometheus text of
 * a known state. */
#include "unit.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

static char dir[64], db[128], file[160];
static struct metrics_snapshot snap;

static void setup(void)
{
	char err[256] = "";

	snprintf(dir, sizeof dir, "/tmp/test_metrics.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/msgcmd.db", dir);
	snprintf(file, sizeof file, "%s.metrics", db);
	ck_assert_msg(metrics_open(db, err, sizeof err) == 0, "%s", err);
}

static void teardown(void)
{
	metrics_close();
	unlink(file);
	rmdir(dir);
}

/* The requests counter of (route, method index, status index). */
static uint64_t requests(enum route_pattern r, size_t method, size_t status)
{
	return snap.requests[(r * METRICS_METHODS + method) * METRICS_STATUSES +
	    status];
}

#define M_GET 0
#define M_POST 2
#define M_OTHER 7
#define S_201 1
#define S_404 6
#define S_4XX (METRICS_CODES + 3)
#define S_5XX (METRICS_CODES + 4)

START_TEST(test_metrics_counting)
{
	metrics_request("POST", RP_CONVERSATIONS, 201, 800);
	metrics_request("POST", RP_CONVERSATIONS, 201, 900);
	metrics_request("GET", RP_NONE, 404, 10);
	metrics_request("BREW", RP_HEALTHZ, 418, 10);
	metrics_request(NULL, (enum route_pattern)99, 999, -5);
	metrics_kafka_error(METRICS_KAFKA_DELIVERY);
	metrics_kafka_error((enum metrics_kafka)7);	/* ignored */
	metrics_snapshot(&snap);
	ck_assert_uint_eq(requests(RP_CONVERSATIONS, M_POST, S_201), 2);
	ck_assert_uint_eq(requests(RP_NONE, M_GET, S_404), 1);
	ck_assert_uint_eq(requests(RP_HEALTHZ, M_OTHER, S_4XX), 1);
	ck_assert_uint_eq(requests(RP_NONE, M_OTHER, S_5XX), 1);
	ck_assert_uint_eq(snap.req_sum_us[RP_CONVERSATIONS], 1700);
	ck_assert_uint_eq(snap.req_sum_us[RP_NONE], 10);	/* -5 is 0 */
	ck_assert_uint_eq(snap.kafka_errors[METRICS_KAFKA_DELIVERY], 1);
	ck_assert_uint_eq(snap.kafka_errors[METRICS_KAFKA_CLIENT], 0);
}
END_TEST

/* A value on a bound falls into that bound's bucket (le is <=). */
static const struct { int64_t us; size_t req, lag; } buckets[] = {
	{ 0, 0, 0 }, { 500, 0, 0 }, { 501, 1, 0 }, { 1000, 1, 0 },
	{ 1001, 2, 1 }, { 5000000, 12, 11 }, { 5000001, 13, 12 },
	{ 3600000000, 13, 16 }, { 3600000001, 13, 17 },
};

START_TEST(test_metrics_buckets)
{
	metrics_request("GET", RP_READYZ, 200, buckets[_i].us);
	metrics_publish_lag(buckets[_i].us);
	metrics_snapshot(&snap);
	for (size_t i = 0; i < METRICS_REQ_BUCKETS; i++)
		ck_assert_uint_eq(snap.req_bucket[RP_READYZ][i],
		    i == buckets[_i].req);
	for (size_t i = 0; i < METRICS_LAG_BUCKETS; i++)
		ck_assert_uint_eq(snap.lag_bucket[i], i == buckets[_i].lag);
	ck_assert_uint_eq(snap.lag_sum_us, (uint64_t)buckets[_i].us);
}
END_TEST

/* created_at as event.c writes it, secs_ago seconds back. */
static void stamp(char out[32], int secs_ago)
{
	time_t t = time(NULL) - secs_ago;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
}

START_TEST(test_metrics_lag)
{
	static struct metrics_lag lag;	/* 160 kB: not on the stack */
	char seven[32], hour[32];

	stamp(seven, 7);	/* 7-8 s: le="10", whatever the µs */
	stamp(hour, 7200);
	metrics_lag_sent(&lag, 1, seven);
	metrics_lag_sent(&lag, 2, seven);
	metrics_lag_sent(&lag, 3, "not a time");	/* not measured */
	metrics_lag_sent(&lag, 4, hour);
	metrics_lag_delivered(&lag, 0);
	metrics_snapshot(&snap);
	ck_assert_uint_eq(snap.lag_bucket[12], 0);
	metrics_lag_delivered(&lag, 3);
	metrics_snapshot(&snap);
	ck_assert_uint_eq(snap.lag_bucket[12], 2);
	/* A new producer session sends 4 again: measured once. */
	metrics_lag_sent(&lag, 4, hour);
	metrics_lag_delivered(&lag, 4);
	metrics_lag_delivered(&lag, 4);
	metrics_snapshot(&snap);
	ck_assert_uint_eq(snap.lag_bucket[METRICS_LAG_BUCKETS - 1], 1);
	ck_assert_uint_eq(lag.count, 0);
}
END_TEST

START_TEST(test_metrics_file)
{
	char err[256] = "";
	struct stat st;
	FILE *f;

	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(metrics_open(db, err, sizeof err), 0); /* again: ok */
	metrics_request("GET", RP_HEALTHZ, 200, 1);
	metrics_close();
	/* Another layout (an older msgcmd's file) is replaced. */
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fputs("an older layout", f);
	fclose(f);
	ck_assert_msg(metrics_open(db, err, sizeof err) == 0, "%s", err);
	metrics_snapshot(&snap);
	ck_assert_uint_eq(snap.req_sum_us[RP_HEALTHZ], 0);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_gt(st.st_size, 15);
	metrics_close();
	/* Unopened: nothing counted, nothing breaks. */
	metrics_request("GET", RP_HEALTHZ, 200, 1);
	metrics_snapshot(&snap);
	ck_assert_uint_eq(snap.req_sum_us[RP_HEALTHZ], 0);
	ck_assert_int_eq(metrics_open("/nonexistent/dir/db", err, sizeof err),
	    METRICS_EOPEN);
	ck_assert_str_eq(err, "DATABASE_PATH: cannot map"
	    " /nonexistent/dir/db.metrics");
}
END_TEST

#define ROUNDS 200000

/* Two processes, each with its own mapping of the file, add at once. */
START_TEST(test_metrics_two_processes)
{
	char err[256] = "";
	int status;

	int ready[2];
	char c = 0;

	ck_assert_int_eq(pipe(ready), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		metrics_close();	/* not the parent's mapping: its own */
		if (metrics_open(db, err, sizeof err) != 0 ||
		    write(ready[1], &c, 1) != 1)
			_exit(2);
	} else {	/* both start adding together */
		ck_assert_int_eq(read(ready[0], &c, 1), 1);
	}
	for (int i = 0; i < ROUNDS; i++)
		metrics_request("POST", RP_MEMBERS, 201, 3);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	close(ready[0]);
	close(ready[1]);
	metrics_snapshot(&snap);
	ck_assert_uint_eq(requests(RP_MEMBERS, M_POST, S_201), 2 * ROUNDS);
	ck_assert_uint_eq(snap.req_sum_us[RP_MEMBERS], 2 * 3 * ROUNDS);
	ck_assert_uint_eq(snap.req_bucket[RP_MEMBERS][0], 2 * ROUNDS);
}
END_TEST

/* The whole text of a known state: label order, cumulative buckets,
 * shortest seconds, class statuses, gauges only with a readable store. */
static const char expected[] =
    "# HELP msgcmd_requests_total Requests answered, by method, route"
    " pattern and status.\n"
    "# TYPE msgcmd_requests_total counter\n"
    "msgcmd_requests_total{method=\"POST\",route=\"/conversations\","
    "status=\"201\"} 4\n"
    "msgcmd_requests_total{method=\"POST\",route=\"/conversations\","
    "status=\"4xx\"} 1\n"
    "# HELP msgcmd_request_duration_seconds Time to answer a request, by"
    " route pattern.\n"
    "# TYPE msgcmd_request_duration_seconds histogram\n"
#define B(le, n) "msgcmd_request_duration_seconds_bucket{route=" \
    "\"/conversations\",le=\"" le "\"} " #n "\n"
    B("0.0005", 0) B("0.001", 3) B("0.0025", 3) B("0.005", 5) B("0.01", 5)
    B("0.025", 5) B("0.05", 5) B("0.1", 5) B("0.25", 5) B("0.5", 5)
    B("1", 5) B("2.5", 5) B("5", 5) B("+Inf", 5)
#undef B
    "msgcmd_request_duration_seconds_sum{route=\"/conversations\"} 0.0104\n"
    "msgcmd_request_duration_seconds_count{route=\"/conversations\"} 5\n"
    "# HELP msgcmd_publish_lag_seconds Time from an event's commit to"
    " Kafka's acknowledgement of it.\n"
    "# TYPE msgcmd_publish_lag_seconds histogram\n"
#define B(le, n) "msgcmd_publish_lag_seconds_bucket{le=\"" le "\"} " #n "\n"
    B("0.001", 1) B("0.0025", 1) B("0.005", 1) B("0.01", 1) B("0.025", 1)
    B("0.05", 1) B("0.1", 1) B("0.25", 1) B("0.5", 1) B("1", 1)
    B("2.5", 1) B("5", 1) B("10", 1) B("30", 1) B("60", 1) B("300", 1)
    B("3600", 1) B("+Inf", 2)
#undef B
    "msgcmd_publish_lag_seconds_sum 4000.0005\n"
    "msgcmd_publish_lag_seconds_count 2\n"
    "# HELP msgcmd_kafka_errors_total Kafka errors seen by the publisher,"
    " by kind.\n"
    "# TYPE msgcmd_kafka_errors_total counter\n"
    "msgcmd_kafka_errors_total{kind=\"client\"} 2\n"
    "msgcmd_kafka_errors_total{kind=\"produce\"} 0\n"
    "msgcmd_kafka_errors_total{kind=\"delivery\"} 1\n"
    "# HELP msgcmd_outbox_backlog Committed events not yet published.\n"
    "# TYPE msgcmd_outbox_backlog gauge\n"
    "msgcmd_outbox_backlog 7\n"
    "# HELP msgcmd_publisher_pid Process id in the publisher's last"
    " heartbeat, 0 if none.\n"
    "# TYPE msgcmd_publisher_pid gauge\n"
    "msgcmd_publisher_pid 4242\n"
    "# HELP msgcmd_publisher_heartbeat_age_seconds Age of the publisher's"
    " last heartbeat, -1 if none.\n"
    "# TYPE msgcmd_publisher_heartbeat_age_seconds gauge\n"
    "msgcmd_publisher_heartbeat_age_seconds 1\n"
    "# HELP msgcmd_publisher_state The publisher's state from its last"
    " heartbeat: 1 for the current.\n"
    "# TYPE msgcmd_publisher_state gauge\n"
    "msgcmd_publisher_state{state=\"none\"} 0\n"
    "msgcmd_publisher_state{state=\"recovering\"} 0\n"
    "msgcmd_publisher_state{state=\"connecting\"} 0\n"
    "msgcmd_publisher_state{state=\"connected\"} 1\n"
    "msgcmd_publisher_state{state=\"kafka-down\"} 0\n"
    "msgcmd_publisher_state{state=\"stopped\"} 0\n"
    "msgcmd_publisher_state{state=\"absent\"} 0\n";

START_TEST(test_metrics_render)
{
	struct metrics_gauges g = { 1, 7, 4242, "connected", 1 };
	size_t len = 0;
	char *text;

	memset(&snap, 0, sizeof snap);
	snap.requests[(RP_CONVERSATIONS * METRICS_METHODS + M_POST) *
	    METRICS_STATUSES + S_201] = 4;
	snap.requests[(RP_CONVERSATIONS * METRICS_METHODS + M_POST) *
	    METRICS_STATUSES + S_4XX] = 1;
	snap.req_bucket[RP_CONVERSATIONS][1] = 3;
	snap.req_bucket[RP_CONVERSATIONS][3] = 2;
	snap.req_sum_us[RP_CONVERSATIONS] = 10400;
	snap.lag_bucket[0] = 1;
	snap.lag_bucket[METRICS_LAG_BUCKETS - 1] = 1;
	snap.lag_sum_us = 4000000500;
	snap.kafka_errors[METRICS_KAFKA_CLIENT] = 2;
	snap.kafka_errors[METRICS_KAFKA_DELIVERY] = 1;
	ck_assert_ptr_nonnull(text = metrics_render(&snap, &g, &len));
	ck_assert_str_eq(text, expected);
	ck_assert_uint_eq(len, strlen(expected));
	free(text);
	/* Without a readable store the gauges are left out. */
	g.store_ok = 0;
	ck_assert_ptr_nonnull(text = metrics_render(&snap, &g, &len));
	ck_assert_ptr_null(strstr(text, "msgcmd_outbox_backlog"));
	ck_assert_ptr_nonnull(strstr(text, "msgcmd_kafka_errors_total"));
	free(text);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_metrics_counting);
	tcase_add_loop_test(tc, test_metrics_buckets, 0,
	    sizeof buckets / sizeof buckets[0]);
	tcase_add_test(tc, test_metrics_lag);
	tcase_add_test(tc, test_metrics_file);
	tcase_add_test(tc, test_metrics_two_processes);
	tcase_add_test(tc, test_metrics_render);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(metrics_suite)
