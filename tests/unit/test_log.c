/* test_log.c: the JSON lines of log.c read back from stderr (one write
 * each, the fields in order, the level filter, escaping, cutting) and
 * the request ids of log_request_id(). */
#include "unit.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define PROGRAM "test_log"

/* stderr is a SOCK_SEQPACKET socket while a test captures it: each
 * write(2) arrives as one record, so counting records counts the writes
 * and a read returns exactly one line. */
static int cap_read = -1, cap_saved = -1;
static char line[8192];
static size_t line_len;

static void setup(void)
{
	log_init(PROGRAM, LOG_LEVEL_INFO);
}

static void capture_begin(void)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cap_saved = dup(STDERR_FILENO);
	ck_assert_int_ge(cap_saved, 0);
	ck_assert_int_eq(dup2(sv[1], STDERR_FILENO), STDERR_FILENO);
	close(sv[1]);
	cap_read = sv[0];
}

/* Puts stderr back and returns the number of writes made since
 * capture_begin(); the first is left in line and line_len.  Restoring
 * fd 2 closes the last write end, so the reads below end. */
static int capture_end(void)
{
	char rec[sizeof line];
	int writes = 0;
	ssize_t n;

	ck_assert_int_eq(dup2(cap_saved, STDERR_FILENO), STDERR_FILENO);
	close(cap_saved);
	line_len = 0;
	line[0] = '\0';
	/* MSG_TRUNC: the record's whole length even if the buffer is short. */
	while ((n = recv(cap_read, rec, sizeof rec - 1, MSG_TRUNC)) > 0) {
		ck_assert_int_lt(n, (ssize_t)sizeof rec);
		if (writes++ == 0) {
			memcpy(line, rec, (size_t)n);
			line_len = (size_t)n;
			line[n] = '\0';
		}
	}
	ck_assert_int_eq(n, 0);
	close(cap_read);
	return writes;
}

/* Parses the line captured, strictly (control bytes must be escaped,
 * nothing may follow the object): at most PIPE_BUF bytes, which a pipe
 * keeps whole between processes, ending in its only newline. */
static json_object *parse_line(void)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	ck_assert_uint_le(line_len, PIPE_BUF);
	ck_assert_uint_eq(strlen(line), line_len);
	ck_assert_ptr_eq(strchr(line, '\n'), line + line_len - 1);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, (int)line_len - 1);
	ck_assert_msg(o != NULL, "not JSON (%s): %s",
	    json_tokener_error_desc(json_tokener_get_error(tok)), line);
	ck_assert_uint_eq(json_tokener_get_parse_end(tok), line_len - 1);
	ck_assert(json_object_is_type(o, json_type_object));
	json_tokener_free(tok);
	return o;
}

/* Ends the capture and parses the one line written with one write. */
static json_object *capture_line(void)
{
	ck_assert_int_eq(capture_end(), 1);
	return parse_line();
}

/* The string value of key, or NULL when the line has no such key. */
static const char *str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	ck_assert_msg(json_object_is_type(v, json_type_string),
	    "%s is not a string", key);
	return json_object_get_string(v);
}

static int64_t num(json_object *o, const char *key)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	ck_assert_msg(json_object_is_type(v, json_type_int),
	    "%s is not an integer", key);
	return json_object_get_int64(v);
}

/* Asserts that the line's keys are exactly keys, in that order. */
static void keys_are(json_object *o, const char *const *keys, size_t n)
{
	size_t i = 0;

	json_object_object_foreach(o, key, val) {
		(void)val;
		ck_assert_uint_lt(i, n);
		ck_assert_str_eq(key, keys[i]);
		i++;
	}
	ck_assert_uint_eq(i, n);
}

static const char *const msg_keys[] = { "time", "level", "program", "pid",
    "msg" };

/* Now as microseconds since the epoch, the clock the lines use. */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "2026-11-24T10:00:00.123456Z", UTC, read back as microseconds. */
static int64_t stamp_us(const char *s)
{
	struct tm tm;
	char *end;
	int us = -1, n = 0;

	memset(&tm, 0, sizeof tm);
	ck_assert_uint_eq(strlen(s), 27);
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	ck_assert_ptr_nonnull(end);
	ck_assert_int_eq(sscanf(end, ".%6d%n", &us, &n), 1);
	ck_assert_int_eq(n, 7);
	ck_assert_int_ge(us, 0);
	ck_assert_str_eq(end + 7, "Z");
	return (int64_t)timegm(&tm) * 1000000 + us;
}

START_TEST(test_log_msg_fields)
{
	int64_t before = now_us(), at, after;
	json_object *o;

	capture_begin();
	log_msg(LOG_LEVEL_INFO, "hello %d %s", 42, "world");
	o = capture_line();
	after = now_us();
	keys_are(o, msg_keys, sizeof msg_keys / sizeof msg_keys[0]);
	at = stamp_us(str(o, "time"));
	ck_assert_int_ge(at, before);
	ck_assert_int_le(at, after);
	ck_assert_str_eq(str(o, "level"), "info");
	ck_assert_str_eq(str(o, "program"), PROGRAM);
	ck_assert_int_eq(num(o, "pid"), getpid());
	ck_assert_str_eq(str(o, "msg"), "hello 42 world");
	json_object_put(o);
}
END_TEST

/* Which messages each minimum level lets through; NULL: none written. */
static const struct {
	enum log_level min, level;
	const char *name;
} filters[] = {
	{ LOG_LEVEL_INFO, LOG_LEVEL_ERROR, "error" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_WARN, "warn" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_INFO, "info" },
	{ LOG_LEVEL_INFO, LOG_LEVEL_DEBUG, NULL },
	{ LOG_LEVEL_DEBUG, LOG_LEVEL_DEBUG, "debug" },
	{ LOG_LEVEL_WARN, LOG_LEVEL_INFO, NULL },
	{ LOG_LEVEL_WARN, LOG_LEVEL_WARN, "warn" },
	{ LOG_LEVEL_ERROR, LOG_LEVEL_WARN, NULL },
	{ LOG_LEVEL_ERROR, LOG_LEVEL_ERROR, "error" },
};

START_TEST(test_log_msg_level_filter)
{
	json_object *o;

	log_init(PROGRAM, filters[_i].min);
	capture_begin();
	log_msg(filters[_i].level, "case %d", _i);
	if (filters[_i].name == NULL) {
		ck_assert_int_eq(capture_end(), 0);
		return;
	}
	o = capture_line();
	ck_assert_str_eq(str(o, "level"), filters[_i].name);
	json_object_put(o);
}
END_TEST

/* A message, and how it must stand in the line: RFC 8259 escapes for
 * quote, backslash and every byte below 0x20; all else as it is. */
static const struct {
	const char *msg, *raw;
} escapes[] = {
	{ "say \"hi\"", "say \\\"hi\\\"" },
	{ "C:\\dir\\", "C:\\\\dir\\\\" },
	{ "two\nlines\r\n", "two\\u000alines\\u000d\\u000a" },
	{ "tab\there", "tab\\u0009here" },
	{ "\x01\x1f", "\\u0001\\u001f" },
	{ "del\x7f and caf\xc3\xa9", "del\x7f and caf\xc3\xa9" },
	{ "100% </b>", "100% </b>" },
	{ "", "" },
};

START_TEST(test_log_msg_escaping)
{
	char want[128];
	json_object *o;

	capture_begin();
	log_msg(LOG_LEVEL_WARN, "%s", escapes[_i].msg);
	o = capture_line();
	ck_assert_str_eq(str(o, "msg"), escapes[_i].msg);
	snprintf(want, sizeof want, ",\"msg\":\"%s\"}\n", escapes[_i].raw);
	ck_assert_str_eq(line + line_len - strlen(want), want);
	json_object_put(o);
}
END_TEST

/* Bytes that start no well-formed UTF-8 character, and what the line
 * carries instead: U+FFFD for each, so that readers that check UTF-8
 * (Python's json, parse_line() here) take every line. */
#define FFFD "\xef\xbf\xbd"
static const struct {
	const char *msg, *decoded;
} not_utf8[] = {
	{ "ok \xff", "ok " FFFD },
	{ "\xc3", FFFD },			/* cut short */
	{ "\xc0\xaf", FFFD FFFD },		/* an overlong "/" */
	{ "\xed\xa0\x80", FFFD FFFD FFFD },	/* a surrogate */
	{ "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD },	/* past U+10FFFF */
	{ "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80" },
};

START_TEST(test_log_msg_not_utf8)
{
	json_object *o;

	capture_begin();
	log_msg(LOG_LEVEL_WARN, "%s", not_utf8[_i].msg);
	o = capture_line();
	ck_assert_str_eq(str(o, "msg"), not_utf8[_i].decoded);
	json_object_put(o);
}
END_TEST

/* Asserts got is a cut of want, which is lead ASCII bytes and then
 * two-byte characters, between two characters. */
static void cut_between(const char *got, const char *want, size_t lead)
{
	size_t n = strlen(got);

	ck_assert_uint_gt(n, 300);
	ck_assert_uint_lt(n, strlen(want));
	ck_assert_uint_eq((n - lead) % 2, 0);
	ck_assert_int_eq(strncmp(got, want, n), 0);
}

/* A message and a subject of two-byte characters, far longer than a
 * line, are cut between characters; _i ASCII bytes in front move the
 * cut of the message's formatting buffer by one. */
START_TEST(test_log_cut_between_characters)
{
	static char big[4002];
	struct log_request r = { "req-6", "POST", "/conversations", 201, 1,
	    big, NULL };
	const size_t lead = (size_t)_i;
	json_object *o;

	memset(big, 'x', lead);
	for (size_t i = lead; i + 2 < sizeof big; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[sizeof big - 1 - (sizeof big - 1 - lead) % 2] = '\0';
	capture_begin();
	log_msg(LOG_LEVEL_ERROR, "%s", big);
	o = capture_line();
	cut_between(str(o, "msg"), big, lead);
	json_object_put(o);
	capture_begin();
	log_request(&r);
	o = capture_line();
	cut_between(str(o, "subject"), big, lead);
	json_object_put(o);
}
END_TEST

/* Messages far longer than a line: plain, and escaped to six times. */
static const char long_bytes[] = { 'x', '"', '\x01' };

START_TEST(test_log_msg_long_cut)
{
	static char big[5000];
	const char *msg;
	json_object *o;
	size_t n;

	memset(big, long_bytes[_i], sizeof big - 1);
	big[sizeof big - 1] = '\0';
	capture_begin();
	log_msg(LOG_LEVEL_ERROR, "%s", big);
	o = capture_line();
	ck_assert_str_eq(str(o, "level"), "error");
	msg = str(o, "msg");
	n = strlen(msg);
	/* Cut, not dropped: a few hundred bytes at the least. */
	ck_assert_uint_gt(n, 300);
	ck_assert_uint_lt(n, sizeof big - 1);
	ck_assert_int_eq(strncmp(msg, big, n), 0);
	json_object_put(o);
}
END_TEST

static const char *const request_keys[] = { "time", "level", "program",
    "pid", "msg", "request_id", "method", "route", "status", "latency_us",
    "subject", "event_id" };

#define EVENT_ID "0b8e1c1e-6f7a-4c39-9f4e-7a1d2f3b4c5d"

START_TEST(test_log_request_fields)
{
	struct log_request r = { "req-1", "POST", "/conversations", 201,
	    1234, "alice", EVENT_ID };
	json_object *o;

	capture_begin();
	log_request(&r);
	o = capture_line();
	keys_are(o, request_keys, sizeof request_keys / sizeof request_keys[0]);
	stamp_us(str(o, "time"));
	ck_assert_str_eq(str(o, "level"), "info");
	ck_assert_str_eq(str(o, "program"), PROGRAM);
	ck_assert_int_eq(num(o, "pid"), getpid());
	ck_assert_str_eq(str(o, "msg"), "request");
	ck_assert_str_eq(str(o, "request_id"), "req-1");
	ck_assert_str_eq(str(o, "method"), "POST");
	ck_assert_str_eq(str(o, "route"), "/conversations");
	ck_assert_int_eq(num(o, "status"), 201);
	ck_assert_int_eq(num(o, "latency_us"), 1234);
	ck_assert_str_eq(str(o, "subject"), "alice");
	ck_assert_str_eq(str(o, "event_id"), EVENT_ID);
	json_object_put(o);
}
END_TEST

/* One NULL string per case (the string fields' indexes in
 * request_keys); the last case has them all NULL. */
static const size_t null_fields[] = { 5, 6, 7, 10, 11, SIZE_MAX };

START_TEST(test_log_request_null_left_out)
{
	struct log_request r = { "req-2", "GET", "/readyz", 404, 0, "bob",
	    EVENT_ID };
	const char **field[12] = { [5] = &r.request_id, [6] = &r.method,
	    [7] = &r.route, [10] = &r.subject, [11] = &r.event_id };
	size_t gone = null_fields[_i], i;
	json_object *o;

	for (i = 0; i < 12; i++)
		if (field[i] != NULL && (gone == SIZE_MAX || i == gone))
			*field[i] = NULL;
	capture_begin();
	log_request(&r);
	o = capture_line();
	for (i = 0; i < 12; i++) {
		int absent = field[i] != NULL && (gone == SIZE_MAX || i == gone);
		ck_assert_msg(json_object_object_get_ex(o, request_keys[i],
		    NULL) == !absent, "%s %s", request_keys[i],
		    absent ? "written" : "missing");
	}
	ck_assert_int_eq(num(o, "status"), 404);
	json_object_put(o);
}
END_TEST

/* A request's level comes from its status; NULL: filtered out. */
static const struct {
	int status;
	enum log_level min;
	const char *name;
} request_levels[] = {
	{ 200, LOG_LEVEL_INFO, "info" }, { 404, LOG_LEVEL_INFO, "info" },
	{ 499, LOG_LEVEL_INFO, "info" }, { 500, LOG_LEVEL_INFO, "warn" },
	{ 503, LOG_LEVEL_INFO, "warn" }, { 201, LOG_LEVEL_DEBUG, "info" },
	{ 200, LOG_LEVEL_WARN, NULL }, { 503, LOG_LEVEL_WARN, "warn" },
	{ 500, LOG_LEVEL_ERROR, NULL },
};

START_TEST(test_log_request_level)
{
	struct log_request r = { "req-3", "GET", "/healthz",
	    request_levels[_i].status, 7, NULL, NULL };
	json_object *o;

	log_init(PROGRAM, request_levels[_i].min);
	capture_begin();
	log_request(&r);
	if (request_levels[_i].name == NULL) {
		ck_assert_int_eq(capture_end(), 0);
		return;
	}
	o = capture_line();
	ck_assert_str_eq(str(o, "level"), request_levels[_i].name);
	ck_assert_int_eq(num(o, "status"), request_levels[_i].status);
	json_object_put(o);
}
END_TEST

START_TEST(test_log_request_escaped)
{
	struct log_request r = { "req-4", "PO\"ST", "/conversations/{id}",
	    500, INT64_MAX, "ali\\ce\n\x02\"", NULL };
	json_object *o;

	capture_begin();
	log_request(&r);
	o = capture_line();
	ck_assert_str_eq(str(o, "method"), "PO\"ST");
	ck_assert_str_eq(str(o, "subject"), "ali\\ce\n\x02\"");
	ck_assert_int_eq(num(o, "latency_us"), INT64_MAX);
	ck_assert_str_eq(str(o, "level"), "warn");
	json_object_put(o);
}
END_TEST

/* A subject longer than a line is cut; what comes before it stays. */
START_TEST(test_log_request_long_cut)
{
	static char big[3000];
	struct log_request r = { "req-5", "DELETE", "/conversations/{id}",
	    204, 99, big, EVENT_ID };
	const char *sub;
	json_object *o;

	memset(big, long_bytes[_i], sizeof big - 1);
	big[sizeof big - 1] = '\0';
	capture_begin();
	log_request(&r);
	o = capture_line();
	ck_assert_str_eq(str(o, "route"), "/conversations/{id}");
	ck_assert_int_eq(num(o, "status"), 204);
	ck_assert_int_eq(num(o, "latency_us"), 99);
	sub = str(o, "subject");
	ck_assert_ptr_nonnull(sub);
	ck_assert_uint_gt(strlen(sub), 300);
	ck_assert_uint_lt(strlen(sub), sizeof big - 1);
	ck_assert_int_eq(strncmp(sub, big, strlen(sub)), 0);
	json_object_put(o);
}
END_TEST

/* A program name so long that the first fields fill the line: each
 * call writes nothing or one whole line, and never past the line's
 * buffer (the ASan build would report that).  The lengths step byte by
 * byte across the size of that buffer (2400, LOG_LINE in log.c). */
START_TEST(test_log_long_program_name)
{
	static char name[2450];
	int lines = 0, writes;
	json_object *o;

	for (size_t n = 2250; n < sizeof name; n++) {
		memset(name, 'p', n);
		name[n] = '\0';
		log_init(name, LOG_LEVEL_INFO);
		capture_begin();
		log_msg(LOG_LEVEL_INFO, "m");
		writes = capture_end();
		ck_assert_int_le(writes, 1);
		if (writes == 0)
			continue;
		o = parse_line();
		ck_assert_str_eq(str(o, "program"), name);
		json_object_put(o);
		lines++;
	}
	/* Both sides of the boundary were crossed. */
	ck_assert_int_gt(lines, 0);
	ck_assert_int_lt(lines, (int)(sizeof name - 2250));
}
END_TEST

#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Ids a client may send: 1-64 characters of [A-Za-z0-9._:+/=-]. */
static const char *const sane_ids[] = {
	"a", "Z", "0", "req-1", EVENT_ID, "A.b_c:d+e/f=g-h", A64,
	"QUJD+/==", "0123456789abcdefABCDEF",
};

START_TEST(test_log_request_id_sane_kept)
{
	char out[LOG_ID_MAX + 1];

	memset(out, '#', sizeof out);
	ck_assert_ptr_eq(log_request_id(sane_ids[_i], out), sane_ids[_i]);
	ck_assert_int_eq(out[0], '#');	/* out untouched */
	ck_assert_uint_eq(strlen(A64), LOG_ID_MAX);
}
END_TEST

/* Ids that are replaced: empty, too long, or with a character that could
 * break a header or a log line. */
static const char *const bad_ids[] = {
	NULL, "", A64 "a" /* 65 */, "a b", "a\"b", "a\nb", "a\rb", "a\tb", "a\\b",
	"a,b", "a;b", "<a>", "caf\xc3\xa9", "a\x7f", "\xff",
};

/* A fresh id: LOG_ID_GEN_LEN lowercase hex digits. */
static void assert_fresh(const char *id, const char *out)
{
	ck_assert_ptr_eq(id, out);
	ck_assert_uint_eq(strlen(id), LOG_ID_GEN_LEN);
	ck_assert_uint_eq(strspn(id, "0123456789abcdef"), LOG_ID_GEN_LEN);
}

START_TEST(test_log_request_id_bad_replaced)
{
	char out[LOG_ID_MAX + 1], again[LOG_ID_MAX + 1] = "";
	const char *id = log_request_id(bad_ids[_i], out);

	assert_fresh(id, out);
	/* A fresh id is itself sane, so it passes through a second hop. */
	ck_assert_ptr_eq(log_request_id(id, again), id);
	ck_assert_str_eq(again, "");
}
END_TEST

#define FRESH_N 1000

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(test_log_request_id_fresh_distinct)
{
	static char ids[FRESH_N][LOG_ID_MAX + 1];
	int i;

	for (i = 0; i < FRESH_N; i++)
		assert_fresh(log_request_id(NULL, ids[i]), ids[i]);
	qsort(ids, FRESH_N, sizeof ids[0], cmp_id);
	for (i = 1; i < FRESH_N; i++)
		ck_assert_str_ne(ids[i - 1], ids[i]);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *lines = tcase_create("lines");
	TCase *ids = tcase_create("request_id");

	tcase_add_checked_fixture(lines, setup, NULL);
	tcase_add_test(lines, test_log_msg_fields);
	tcase_add_loop_test(lines, test_log_msg_level_filter, 0,
	    sizeof filters / sizeof filters[0]);
	tcase_add_loop_test(lines, test_log_msg_escaping, 0,
	    sizeof escapes / sizeof escapes[0]);
	tcase_add_loop_test(lines, test_log_msg_long_cut, 0,
	    sizeof long_bytes);
	tcase_add_loop_test(lines, test_log_msg_not_utf8, 0,
	    sizeof not_utf8 / sizeof not_utf8[0]);
	tcase_add_loop_test(lines, test_log_cut_between_characters, 0, 2);
	tcase_add_test(lines, test_log_request_fields);
	tcase_add_loop_test(lines, test_log_request_null_left_out, 0,
	    sizeof null_fields / sizeof null_fields[0]);
	tcase_add_loop_test(lines, test_log_request_level, 0,
	    sizeof request_levels / sizeof request_levels[0]);
	tcase_add_test(lines, test_log_request_escaped);
	tcase_add_loop_test(lines, test_log_request_long_cut, 0,
	    sizeof long_bytes);
	tcase_add_test(lines, test_log_long_program_name);
	suite_add_tcase(s, lines);
	tcase_add_checked_fixture(ids, setup, NULL);
	tcase_add_loop_test(ids, test_log_request_id_sane_kept, 0,
	    sizeof sane_ids / sizeof sane_ids[0]);
	tcase_add_loop_test(ids, test_log_request_id_bad_replaced, 0,
	    sizeof bad_ids / sizeof bad_ids[0]);
	tcase_add_test(ids, test_log_request_id_fresh_distinct);
	suite_add_tcase(s, ids);
	return s;
}

UNIT_MAIN(log_suite)
