/* test_probe.c: the answers of /healthz, /readyz, /metrics and the token
 * check, read from struct response (status, headers, body), with
 * /readyz and /metrics over a real store in a fresh temporary directory
 * and its failures injected: a lock held by another connection, a
 * commit the filesystem refuses, an unreadable heartbeat row. */
#include "unit.h"

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "auth.h"
#include "event.h"
#include "http.h"
#include "metrics.h"
#include "probe.h"
#include "store.h"
#include "tmpdb.h"

static struct tmpdb tmp;
static struct store *st;
static struct response resp;

/* The busy timeout is short: the busy case waits this long for its 503. */
static void setup(void)
{
	char err[256] = "";

	tmpdb_make(&tmp, "test_probe", 100);
	ck_assert_msg(store_open(&st, &tmp.cfg, err, sizeof err) == 0, "%s",
	    err);
	memset(&resp, 0, sizeof resp);
}

static void teardown(void)
{
	response_free(&resp);
	store_close(st);
	st = NULL;
	metrics_close();
	tmpdb_remove(&tmp);
}

/* Commits n commands as a responder does, each its own transaction: a
 * create, then messages to it.  Each adds one outbox row. */
static void append(int n)
{
	struct event ev = { .kind = CMD_CREATE, .actor = "alice",
	    .name = "chat", .message_content = "hi" };
	size_t len;
	char *json;

	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(event_stamp(&ev), 0);
		ck_assert_ptr_nonnull(json = event_encode(&ev, &len));
		ck_assert_int_eq(store_begin(st), 0);
		ck_assert_int_eq(store_apply(st, &ev, json, len, NULL), 0);
		ck_assert_int_eq(store_commit(st), 0);
		free(json);
		ev.kind = CMD_SEND;
	}
}

/* The publisher's heartbeat row as its process would write it. */
static void heartbeat(long long published, long pid, const char *state,
    long long seen)
{
	char sql[256];

	snprintf(sql, sizeof sql, "UPDATE publisher SET published_seq = %lld,"
	    " pid = %ld, state = '%s', seen = %lld", published, pid, state,
	    seen);
	tmpdb_exec(&tmp, sql);
}

/* resp's body as a JSON object, after checking status and type. */
static json_object *body_json(int status)
{
	json_object *o;

	ck_assert_int_eq(resp.status, status);
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_ptr_nonnull(resp.body);
	ck_assert_uint_eq(strlen(resp.body), resp.body_len);
	o = json_tokener_parse(resp.body);
	ck_assert_msg(o != NULL && json_object_is_type(o, json_type_object),
	    "not a JSON object: %s", resp.body);
	return o;
}

/* The member at a dotted path ("outbox.backlog"); NULL when absent. */
static json_object *at(json_object *o, const char *dotted)
{
	char key[64];
	const char *p = dotted;

	while (o != NULL && *p != '\0') {
		size_t n = strcspn(p, ".");
		ck_assert_uint_lt(n, sizeof key);
		memcpy(key, p, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		p += n + (p[n] == '.');
	}
	return o;
}

static const char *str_at(json_object *o, const char *dotted)
{
	json_object *v = at(o, dotted);

	ck_assert_msg(json_object_is_type(v, json_type_string),
	    "%s is not a string", dotted);
	return json_object_get_string(v);
}

static int64_t int_at(json_object *o, const char *dotted)
{
	json_object *v = at(o, dotted);

	ck_assert_msg(json_object_is_type(v, json_type_int),
	    "%s is not an integer", dotted);
	return json_object_get_int64(v);
}

START_TEST(test_probe_health)
{
	probe_health(&resp);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_str_eq(resp.body, "{\"status\":\"ok\"}");
	ck_assert_uint_eq(resp.body_len, strlen(resp.body));
	ck_assert_uint_eq(resp.headers_len, 0);
}
END_TEST

/* Subjects as a token may carry them; the body must give each back.
 * NULL: the longest, AUTH_SUB_MAX characters. */
static const char *const subs[] = {
	"alice", "8e03978e-40d5-43e8-bc93-6894a57f9324", "a\"b\\c/d\n",
	"caf\xc3\xa9", NULL,
};

START_TEST(test_probe_token)
{
	struct principal who;
	json_object *o;

	memset(who.sub, 's', AUTH_SUB_MAX);
	who.sub[AUTH_SUB_MAX] = '\0';
	if (subs[_i] != NULL)
		snprintf(who.sub, sizeof who.sub, "%s", subs[_i]);
	probe_token(&who, &resp);
	o = body_json(200);
	ck_assert_int_eq(json_object_object_length(o), 2);
	ck_assert_str_eq(str_at(o, "status"), "ok");
	ck_assert_str_eq(str_at(o, "sub"), who.sub);
	ck_assert_uint_eq(resp.headers_len, 0);
	json_object_put(o);
}
END_TEST

START_TEST(test_probe_ready_fresh_store)
{
	json_object *o;

	probe_ready(st, &resp);
	o = body_json(200);
	ck_assert_str_eq(str_at(o, "status"), "ready");
	ck_assert_str_eq(str_at(o, "store"), "writable");
	ck_assert_int_eq(int_at(o, "outbox.last_seq"), 0);
	ck_assert_int_eq(int_at(o, "outbox.published_seq"), 0);
	ck_assert_int_eq(int_at(o, "outbox.backlog"), 0);
	ck_assert_int_eq(int_at(o, "publisher.pid"), 0);
	ck_assert_str_eq(str_at(o, "publisher.state"), "absent");
	/* No heartbeat yet: the age is null, not a 56-year one. */
	ck_assert(json_object_object_get_ex(at(o, "publisher"),
	    "heartbeat_age_s", NULL));
	ck_assert_ptr_null(at(o, "publisher.heartbeat_age_s"));
	ck_assert_uint_eq(resp.headers_len, 0);
	json_object_put(o);
}
END_TEST

/* Outbox numbers and the publisher as its heartbeat row tells: a row
 * more than 10 s old means nobody publishes, whatever its state. */
static const struct {
	int commands;
	long long published;
	const char *state;
	int ago;		/* seconds since the heartbeat */
	const char *shown;
} readies[] = {
	{ 5, 2, "connected", 0, "connected" },
	{ 3, 3, "kafka-down", 4, "kafka-down" },
	{ 4, 0, "recovering", 0, "recovering" },
	{ 2, 1, "connected", 60, "absent" },
	{ 7, 7, "stopped", 3600, "absent" },
};

START_TEST(test_probe_ready_outbox_and_publisher)
{
	json_object *o;
	int64_t age;

	append(readies[_i].commands);
	heartbeat(readies[_i].published, 4242, readies[_i].state,
	    (long long)time(NULL) - readies[_i].ago);
	probe_ready(st, &resp);
	o = body_json(200);
	ck_assert_str_eq(str_at(o, "status"), "ready");
	ck_assert_int_eq(int_at(o, "outbox.last_seq"), readies[_i].commands);
	ck_assert_int_eq(int_at(o, "outbox.published_seq"),
	    readies[_i].published);
	ck_assert_int_eq(int_at(o, "outbox.backlog"),
	    readies[_i].commands - readies[_i].published);
	ck_assert_int_eq(int_at(o, "publisher.pid"), 4242);
	ck_assert_str_eq(str_at(o, "publisher.state"), readies[_i].shown);
	age = int_at(o, "publisher.heartbeat_age_s");
	ck_assert_int_ge(age, readies[_i].ago);
	ck_assert_int_le(age, readies[_i].ago + 2);
	json_object_put(o);
}
END_TEST

/* 503 and its Retry-After, with the store's reason and no numbers. */
static void assert_unavailable(int err)
{
	json_object *o = body_json(503);

	ck_assert_str_eq(resp.headers, "Retry-After: 1\r\n");
	ck_assert_int_eq(json_object_object_length(o), 2);
	ck_assert_str_eq(str_at(o, "status"), "unavailable");
	ck_assert_str_eq(str_at(o, "store"), store_strerror(err));
	json_object_put(o);
	response_free(&resp);
}

/* Another process holds the write lock past our 100 ms busy timeout.
 * (Unlike a chmod, this also holds when the tests run as root.) */
START_TEST(test_probe_ready_busy_503)
{
	sqlite3 *other = tmpdb_other(&tmp);

	ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	probe_ready(st, &resp);
	assert_unavailable(STORE_EBUSY);
	ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	probe_ready(st, &resp);
	ck_assert_int_eq(resp.status, 200);
}
END_TEST

/* The probe's commit writes the WAL; a file size limit of 0 makes that
 * write fail as a full disk would (and binds root too), so readiness
 * is proven by a write, not by the lock alone.  SIGXFSZ would end the
 * process; ignored, the write fails with EFBIG instead. */
START_TEST(test_probe_ready_write_refused_503)
{
	struct rlimit saved, none;
	void (*old)(int);

	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	none = saved;
	none.rlim_cur = 0;
	old = signal(SIGXFSZ, SIG_IGN);
	ck_assert(old != SIG_ERR);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &none), 0);
	probe_ready(st, &resp);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	ck_assert(signal(SIGXFSZ, old) == SIG_IGN);
	assert_unavailable(STORE_EIO);
	probe_ready(st, &resp);
	ck_assert_int_eq(resp.status, 200);
}
END_TEST

/* Without its heartbeat row the store cannot say where the publisher
 * is: not ready, though a commit would succeed. */
START_TEST(test_probe_ready_no_heartbeat_row_503)
{
	tmpdb_exec(&tmp, "DELETE FROM publisher");
	probe_ready(st, &resp);
	assert_unavailable(STORE_EIO);
}
END_TEST

/* The value of the sample line that starts with series, or fails. */
static long long sample(const char *series)
{
	char prefix[160];
	const char *p;
	long long v;

	snprintf(prefix, sizeof prefix, "\n%s ", series);
	p = strstr(resp.body, prefix);
	ck_assert_msg(p != NULL, "no %s in:\n%s", series, resp.body);
	ck_assert_int_eq(sscanf(p + strlen(prefix), "%lld\n", &v), 1);
	return v;
}

static void assert_metrics_text(void)
{
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type,
	    "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_ptr_nonnull(resp.body);
	ck_assert_uint_eq(strlen(resp.body), resp.body_len);
	ck_assert_int_eq(resp.body[resp.body_len - 1], '\n');
}

#define STATE(s) "msgcmd_publisher_state{state=\"" s "\"}"

START_TEST(test_probe_metrics_gauges)
{
	char err[256] = "";

	ck_assert_msg(metrics_open(tmp.path, err, sizeof err) == 0, "%s", err);
	metrics_request("GET", RP_READYZ, 200, 10);
	append(4);
	heartbeat(1, 777, "connected", (long long)time(NULL) - 3);
	probe_metrics(st, &resp);
	assert_metrics_text();
	ck_assert_int_eq(sample("msgcmd_requests_total{method=\"GET\","
	    "route=\"/readyz\",status=\"200\"}"), 1);
	ck_assert_int_eq(sample("msgcmd_outbox_backlog"), 3);
	ck_assert_int_eq(sample("msgcmd_publisher_pid"), 777);
	ck_assert_int_ge(sample("msgcmd_publisher_heartbeat_age_seconds"), 3);
	ck_assert_int_le(sample("msgcmd_publisher_heartbeat_age_seconds"), 5);
	ck_assert_int_eq(sample(STATE("connected")), 1);
	ck_assert_int_eq(sample(STATE("absent")), 0);
}
END_TEST

/* No heartbeat yet: age -1 and state absent, by the same rule as
 * /readyz. */
START_TEST(test_probe_metrics_no_heartbeat)
{
	append(2);
	probe_metrics(st, &resp);
	assert_metrics_text();
	ck_assert_int_eq(sample("msgcmd_outbox_backlog"), 2);
	ck_assert_int_eq(sample("msgcmd_publisher_pid"), 0);
	ck_assert_int_eq(sample("msgcmd_publisher_heartbeat_age_seconds"), -1);
	ck_assert_int_eq(sample(STATE("absent")), 1);
	ck_assert_int_eq(sample(STATE("none")), 0);
}
END_TEST

/* A store that cannot be read leaves the gauges out, not the answer. */
START_TEST(test_probe_metrics_store_unreadable)
{
	tmpdb_exec(&tmp, "DELETE FROM publisher");
	probe_metrics(st, &resp);
	assert_metrics_text();
	ck_assert_ptr_null(strstr(resp.body, "msgcmd_outbox_backlog"));
	ck_assert_ptr_null(strstr(resp.body, "msgcmd_publisher_"));
	ck_assert_ptr_nonnull(strstr(resp.body,
	    "\n# TYPE msgcmd_kafka_errors_total counter\n"));
}
END_TEST

/* Fault injection for the 500: this malloc replaces the C library's for
 * the whole program and fails a request for exactly fail_size bytes,
 * the size of the snapshot probe_metrics() allocates.  Under ASan
 * (gcc's __SANITIZE_ADDRESS__) it is left out, since ASan owns malloc
 * and free; valgrind puts its own in its place.  There the injection is
 * inert, and the test says so rather than pass on a 200. */
static size_t fail_size;

#ifndef __SANITIZE_ADDRESS__
extern void *__libc_malloc(size_t n);

void *malloc(size_t n)
{
	return n != 0 && n == fail_size ? NULL : __libc_malloc(n);
}
#endif

START_TEST(test_probe_metrics_out_of_memory)
{
	void *(*volatile alloc)(size_t) = malloc;
	void *probe;

	fail_size = sizeof(struct metrics_snapshot);
	probe = alloc(fail_size);
	if (probe != NULL) {
		free(probe);
		fail_size = 0;
		fprintf(stderr, "test_probe: malloc not replaceable here;"
		    " out-of-memory case not run\n");
		return;
	}
	probe_metrics(st, &resp);
	fail_size = 0;
	ck_assert_int_eq(resp.status, 500);
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_str_eq(resp.body, "{\"status\":\"out of memory\"}");
}
END_TEST

static Suite *probe_suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("probe");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_probe_health);
	tcase_add_loop_test(tc, test_probe_token, 0,
	    sizeof subs / sizeof subs[0]);
	tcase_add_test(tc, test_probe_ready_fresh_store);
	tcase_add_loop_test(tc, test_probe_ready_outbox_and_publisher, 0,
	    sizeof readies / sizeof readies[0]);
	tcase_add_test(tc, test_probe_ready_busy_503);
	tcase_add_test(tc, test_probe_ready_write_refused_503);
	tcase_add_test(tc, test_probe_ready_no_heartbeat_row_503);
	tcase_add_test(tc, test_probe_metrics_gauges);
	tcase_add_test(tc, test_probe_metrics_no_heartbeat);
	tcase_add_test(tc, test_probe_metrics_store_unreadable);
	tcase_add_test(tc, test_probe_metrics_out_of_memory);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(probe_suite)
