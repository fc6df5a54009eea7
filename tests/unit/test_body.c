/* test_body.c: body_parse over Content-Type dispatch, JSON, urlencoded
 * and multipart bodies, their error cases, and allocation failures. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "unit.h"

/* A body given as a literal, embedded NUL bytes included. */
#define DATA(s) s, sizeof(s) - 1
#define V(s) { s, sizeof(s) - 1 }
#define NS(id) (1u << (id))

#define JSON "application/json"
#define FORM "application/x-www-form-urlencoded"
#define MP "multipart/form-data; boundary=BoUnDaRyStRiNg"
#define B "--BoUnDaRyStRiNg"
#define CD "Content-Disposition: form-data; name="
/* One part as Django's test client writes it. */
#define PART(name, value) B "\r\n" CD "\"" name "\"\r\n\r\n" value "\r\n"
#define END B "--\r\n"

#define N FIELD_NAME
#define M FIELD_MESSAGE_CONTENT
#define P FIELD_PARTICIPANT_ID

static const struct body_case {
	const char *what, *ctype, *data;
	size_t len;
	int rc;
	struct { const char *s; size_t n; } want[FIELD__MAX];
	unsigned not_string;
	const char *detail;	/* a part of the reason, for errors */
} cases[] = {
	/* Content-Type dispatch. */
	{ "no type, no body", NULL, DATA(""), BODY_OK, {{0}}, 0, NULL },
	{ "empty type, no body", "", DATA(""), BODY_OK, {{0}}, 0, NULL },
	{ "no type, a body", NULL, DATA("name=a"), BODY_EUNSUPPORTED, {{0}}, 0, "application/json" },
	{ "text/plain", "text/plain", DATA("name=a"), BODY_EUNSUPPORTED, {{0}}, 0, "Send the body" },
	{ "text/plain, no body", "text/plain", DATA(""), BODY_OK, {{0}}, 0, NULL },
	{ "json prefix only", "application/jsonx", DATA("{}"), BODY_EUNSUPPORTED, {{0}}, 0, NULL },
	{ "json+ld", "application/ld+json", DATA("{}"), BODY_EUNSUPPORTED, {{0}}, 0, NULL },
	{ "type case", "APPLICATION/Json", DATA("{\"name\":\"a\"}"), BODY_OK, { [N] = V("a") }, 0, NULL },
	{ "charset utf-8", "application/json; charset=UTF-8", DATA("{\"name\":\"a\"}"), BODY_OK, { [N] = V("a") }, 0, NULL },
	{ "charset quoted", "application/json;charset=\"utf-8\"", DATA("{\"name\":\"a\"}"), BODY_OK, { [N] = V("a") }, 0, NULL },
	{ "other params", " application/json ; q=1 ;x=\"a;b\"", DATA("{\"name\":\"a\"}"), BODY_OK, { [N] = V("a") }, 0, NULL },
	{ "charset latin1", "application/json; charset=latin1", DATA("{}"), BODY_EUNSUPPORTED, {{0}}, 0, "UTF-8" },
	{ "form charset", FORM "; charset=iso-8859-1", DATA("name=a"), BODY_EUNSUPPORTED, {{0}}, 0, "UTF-8" },
	{ "empty json body", JSON, DATA(""), BODY_OK, {{0}}, 0, NULL },
	{ "empty form body", FORM, DATA(""), BODY_OK, {{0}}, 0, NULL },
	{ "empty multipart body", MP, DATA(""), BODY_OK, {{0}}, 0, NULL },
	/* JSON. */
	{ "json fields", JSON, DATA("{\"name\":\"n\", \"message_content\" : \"m\",\n\"participant_id\":\"p\"}"), BODY_OK, { [N] = V("n"), [M] = V("m"), [P] = V("p") }, 0, NULL },
	{ "json unknown ignored", JSON, DATA("{\"x\":{\"name\":2},\"name\":\"a\",\"y\":[1,\"}\"]}"), BODY_OK, { [N] = V("a") }, 0, NULL },
	{ "json empty object", JSON, DATA(" {} \r\n"), BODY_OK, {{0}}, 0, NULL },
	{ "json \\u0000", JSON, DATA("{\"name\":\"a\\u0000b\"}"), BODY_OK, { [N] = V("a\0b") }, 0, NULL },
	{ "json escapes", JSON, DATA("{\"name\":\"\\u00e9\\ud83d\\ude00\\\"\\n\"}"), BODY_OK, { [N] = V("\xc3\xa9\xf0\x9f\x98\x80\"\n") }, 0, NULL },
	{ "json lone high surrogate", JSON, DATA("{\"name\":\"\\ud800x\"}"), BODY_EMALFORMED, {{0}}, 0, "surrogate" },
	{ "json lone low surrogate", JSON, DATA("{\"name\":\"\\uDC00\"}"), BODY_EMALFORMED, {{0}}, 0, "surrogate" },
	{ "json high then not low", JSON, DATA("{\"name\":\"\\ud83d\\u0041\"}"), BODY_EMALFORMED, {{0}}, 0, "surrogate" },
	{ "json high at the end", JSON, DATA("{\"x\":[\"\\ud83d\"],\"name\":\"a\"}"), BODY_EMALFORMED, {{0}}, 0, "surrogate" },
	{ "json lone surrogate in a key", JSON, DATA("{\"\\udc00\":1,\"name\":\"a\"}"), BODY_EMALFORMED, {{0}}, 0, "surrogate" },
	{ "json escaped backslash before u", JSON, DATA("{\"name\":\"\\\\ud800\"}"), BODY_OK, { [N] = V("\\ud800") }, 0, NULL },
	{ "json raw control in a string", JSON, DATA("{\"name\":\"a\x01b\"}"), BODY_EMALFORMED, {{0}}, 0, "unescaped control" },
	{ "json raw newline in a string", JSON, DATA("{\"message_content\":\"a\nb\"}"), BODY_EMALFORMED, {{0}}, 0, "unescaped control" },
	{ "json raw tab in a nested string", JSON, DATA("{\"x\":[\"\t\"],\"name\":\"a\"}"), BODY_EMALFORMED, {{0}}, 0, "unescaped control" },
	{ "json escaped quote then newline outside", JSON, DATA("{\"name\":\"a\\\"\"\n}"), BODY_OK, { [N] = V("a\"") }, 0, NULL },
	{ "json raw utf-8", JSON, DATA("{\"name\":\"\xf0\x9f\x98\x80\"}"), BODY_OK, { [N] = V("\xf0\x9f\x98\x80") }, 0, NULL },
	{ "json bad utf-8 kept", JSON, DATA("{\"name\":\"\xff\"}"), BODY_OK, { [N] = V("\xff") }, 0, NULL },
	{ "json escaped key", JSON, DATA("{\"n\\u0061me\":\"a\"}"), BODY_OK, { [N] = V("a") }, 0, NULL },
	{ "json key with NUL", JSON, DATA("{\"name\\u0000x\":\"a\"}"), BODY_OK, {{0}}, 0, NULL },
	{ "json number", JSON, DATA("{\"name\":12}"), BODY_OK, {{0}}, NS(N), NULL },
	{ "json null", JSON, DATA("{\"name\":null}"), BODY_OK, {{0}}, NS(N), NULL },
	{ "json object", JSON, DATA("{\"name\":{\"a\":\"b\"}}"), BODY_OK, {{0}}, NS(N), NULL },
	{ "json array", JSON, DATA("{\"name\":[\"a\"]}"), BODY_OK, {{0}}, NS(N), NULL },
	{ "json true", JSON, DATA("{\"name\":true,\"participant_id\":false}"), BODY_OK, {{0}}, NS(N) | NS(P), NULL },
	{ "json array top", JSON, DATA("[\"name\"]"), BODY_EMALFORMED, {{0}}, 0, "must be an object" },
	{ "json string top", JSON, DATA("\"name\""), BODY_EMALFORMED, {{0}}, 0, "must be an object" },
	{ "json not json", JSON, DATA("name=a"), BODY_EMALFORMED, {{0}}, 0, "not valid JSON" },
	{ "json truncated", JSON, DATA("{\"name\":\"a\""), BODY_EMALFORMED, {{0}}, 0, "ends before" },
	{ "json trailing", JSON, DATA("{\"name\":\"a\"}x"), BODY_EMALFORMED, {{0}}, 0, NULL },
	{ "json two objects", JSON, DATA("{}{\"name\":\"a\"}"), BODY_EMALFORMED, {{0}}, 0, NULL },
	{ "json NUL after", JSON, DATA("{\"name\":\"a\"}\0x"), BODY_EMALFORMED, {{0}}, 0, "after the object" },
	{ "json trailing comma", JSON, DATA("{\"name\":\"a\",}"), BODY_EMALFORMED, {{0}}, 0, NULL },
	{ "json single quotes", JSON, DATA("{'name':'a'}"), BODY_EMALFORMED, {{0}}, 0, "not valid JSON" },
	{ "json comment", JSON, DATA("/**/{\"name\":\"a\"}"), BODY_EMALFORMED, {{0}}, 0, NULL },
	{ "json duplicate", JSON, DATA("{\"name\":\"a\",\"name\":\"b\"}"), BODY_EMALFORMED, {{0}}, 0, "duplicate field name \"name\"" },
	{ "json duplicate escaped", JSON, DATA("{\"name\":\"a\",\"\\u006eame\":\"b\"}"), BODY_EMALFORMED, {{0}}, 0, "duplicate" },
	{ "json duplicate non-string", JSON, DATA("{\"name\":1,\"name\":\"b\"}"), BODY_EMALFORMED, {{0}}, 0, "duplicate" },
	{ "json duplicate unknown", JSON, DATA("{\"x\":1,\"x\":2,\"name\":\"a\"}"), BODY_OK, { [N] = V("a") }, 0, NULL },
	/* application/x-www-form-urlencoded. */
	{ "form fields", FORM, DATA("name=n&message_content=m&participant_id=p"), BODY_OK, { [N] = V("n"), [M] = V("m"), [P] = V("p") }, 0, NULL },
	{ "form decoding", FORM, DATA("name=a+b%20c%2B%c3%A9"), BODY_OK, { [N] = V("a b c+\xc3\xa9") }, 0, NULL },
	{ "form %00", FORM, DATA("name=a%00b"), BODY_OK, { [N] = V("a\0b") }, 0, NULL },
	{ "form encoded key", FORM, DATA("na%6De=a"), BODY_OK, { [N] = V("a") }, 0, NULL },
	{ "form empty pairs", FORM, DATA("&&foo=1&name=a&"), BODY_OK, { [N] = V("a") }, 0, NULL },
	{ "form no =", FORM, DATA("name"), BODY_OK, { [N] = V("") }, 0, NULL },
	{ "form empty value", FORM, DATA("name="), BODY_OK, { [N] = V("") }, 0, NULL },
	{ "form = in value", FORM, DATA("name=a=b"), BODY_OK, { [N] = V("a=b") }, 0, NULL },
	{ "form bad %", FORM, DATA("name=a%"), BODY_EMALFORMED, {{0}}, 0, "two hex digits" },
	{ "form bad %4", FORM, DATA("name=%4"), BODY_EMALFORMED, {{0}}, 0, "two hex digits" },
	{ "form bad %zz", FORM, DATA("name=%zz"), BODY_EMALFORMED, {{0}}, 0, "two hex digits" },
	{ "form bad %4g", FORM, DATA("name=%4g&x=1"), BODY_EMALFORMED, {{0}}, 0, NULL },
	{ "form bad % control", FORM, DATA("name=%\x10\x11"), BODY_EMALFORMED, {{0}}, 0, NULL },
	{ "form bad % in key", FORM, DATA("%x=1&name=a"), BODY_EMALFORMED, {{0}}, 0, NULL },
	{ "form bad % unknown", FORM, DATA("name=a&x=%"), BODY_EMALFORMED, {{0}}, 0, NULL },
	{ "form duplicate", FORM, DATA("name=a&name=b"), BODY_EMALFORMED, {{0}}, 0, "duplicate field name \"name\"" },
	{ "form duplicate encoded", FORM, DATA("name=a&na%6de=b"), BODY_EMALFORMED, {{0}}, 0, "duplicate" },
	{ "form duplicate unknown", FORM, DATA("x=1&x=2&name=a"), BODY_OK, { [N] = V("a") }, 0, NULL },
	/* multipart/form-data. */
	{ "django shape", MP, DATA(PART("name", "value") END), BODY_OK, { [N] = V("value") }, 0, NULL },
	{ "mp fields", MP, DATA(PART("name", "n") PART("x", "y") PART("participant_id", "p") END), BODY_OK, { [N] = V("n"), [P] = V("p") }, 0, NULL },
	{ "mp CRLF in value", MP, DATA(PART("name", "a\r\n\r\nb\r\n") END), BODY_OK, { [N] = V("a\r\n\r\nb\r\n") }, 0, NULL },
	{ "mp NUL in value", MP, DATA(PART("name", "a\0b") END), BODY_OK, { [N] = V("a\0b") }, 0, NULL },
	{ "mp empty value", MP, DATA(PART("name", "") END), BODY_OK, { [N] = V("") }, 0, NULL },
	{ "mp preamble, epilogue", MP, DATA("hello\r\n" PART("name", "v") B "--\r\nbye"), BODY_OK, { [N] = V("v") }, 0, NULL },
	{ "mp no final CRLF", MP, DATA(PART("name", "v") B "--"), BODY_OK, { [N] = V("v") }, 0, NULL },
	{ "mp padding", MP, DATA(B " \t\r\n" CD "\"name\"\r\n\r\nv\r\n" END), BODY_OK, { [N] = V("v") }, 0, NULL },
	{ "mp header case", MP, DATA(B "\r\ncontent-disposition: FORM-DATA; NAME=name\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nv\r\n" END), BODY_OK, { [N] = V("v") }, 0, NULL },
	{ "mp quoted boundary", "Multipart/Form-Data; charset=utf-8; BOUNDARY=\"BoUnDaRyStRiNg\"", DATA(PART("name", "v") END), BODY_OK, { [N] = V("v") }, 0, NULL },
	{ "mp unknown file", MP, DATA(B "\r\n" CD "\"f\"; filename=\"a.txt\"\r\n\r\nxx\r\n" PART("name", "v") END), BODY_OK, { [N] = V("v") }, 0, NULL },
	{ "mp no boundary", "multipart/form-data", DATA(PART("name", "v") END), BODY_EMALFORMED, {{0}}, 0, "boundary" },
	{ "mp empty boundary", "multipart/form-data; boundary=", DATA(PART("name", "v") END), BODY_EMALFORMED, {{0}}, 0, "boundary" },
	{ "mp boundary 71", "multipart/form-data; boundary=12345678901234567890123456789012345678901234567890123456789012345678901", DATA("x"), BODY_EMALFORMED, {{0}}, 0, "boundary" },
	{ "mp boundary absent", MP, DATA("name=value"), BODY_EMALFORMED, {{0}}, 0, "does not contain its boundary" },
	{ "mp no closing", MP, DATA(PART("name", "v")), BODY_EMALFORMED, {{0}}, 0, "closing boundary" },
	{ "mp unterminated", MP, DATA(B "\r\n" CD "\"name\"\r\n\r\nvalue"), BODY_EMALFORMED, {{0}}, 0, "closing boundary" },
	{ "mp boundary only", MP, DATA(B), BODY_EMALFORMED, {{0}}, 0, NULL },
	{ "mp LF only", MP, DATA(B "\n" CD "\"name\"\n\nv\n" B "--\n"), BODY_EMALFORMED, {{0}}, 0, NULL },
	{ "mp longer boundary", MP, DATA(B "x\r\n" CD "\"name\"\r\n\r\nv\r\n" END), BODY_EMALFORMED, {{0}}, 0, NULL },
	{ "mp file part", MP, DATA(B "\r\n" CD "\"name\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nv\r\n" END), BODY_EMALFORMED, {{0}}, 0, "file uploads are not accepted" },
	{ "mp duplicate", MP, DATA(PART("name", "a") PART("name", "b") END), BODY_EMALFORMED, {{0}}, 0, "duplicate field name \"name\"" },
	{ "mp no disposition", MP, DATA(B "\r\nContent-Type: text/plain\r\n\r\nv\r\n" END), BODY_EMALFORMED, {{0}}, 0, "Content-Disposition" },
	{ "mp no headers", MP, DATA(B "\r\n\r\nv\r\n" END), BODY_EMALFORMED, {{0}}, 0, "Content-Disposition" },
	{ "mp attachment", MP, DATA(B "\r\nContent-Disposition: attachment; name=\"name\"\r\n\r\nv\r\n" END), BODY_EMALFORMED, {{0}}, 0, "Content-Disposition" },
	{ "mp header no colon", MP, DATA(B "\r\n" CD "\"name\"\r\nbogus\r\n\r\nv\r\n" END), BODY_EMALFORMED, {{0}}, 0, "colon" },
	{ "mp no blank line", MP, DATA(B "\r\n" CD "\"name\"\r\n" END), BODY_EMALFORMED, {{0}}, 0, "blank line" },
	{ "mp part charset", MP, DATA(B "\r\n" CD "\"name\"\r\nContent-Type: text/plain; charset=latin1\r\n\r\nv\r\n" END), BODY_EUNSUPPORTED, {{0}}, 0, "UTF-8" },
};

static void check_case(const struct body_case *c, const struct body *b,
    int rc, const char *detail)
{
	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d (%s)", c->what, rc,
	    c->rc, detail);
	if (rc != BODY_OK) {
		ck_assert_msg(detail[0] != '\0', "%s: no detail", c->what);
		ck_assert_msg(c->detail == NULL || strstr(detail, c->detail),
		    "%s: detail \"%s\" lacks \"%s\"", c->what, detail, c->detail);
	}
	for (int id = 0; id < FIELD__MAX; id++) {
		ck_assert_msg(b->not_string[id] == !!(c->not_string & NS(id)),
		    "%s: not_string[%d]", c->what, id);
		if (c->want[id].s == NULL) {
			ck_assert_msg(b->value[id] == NULL, "%s: field %d set",
			    c->what, id);
			continue;
		}
		ck_assert_msg(b->value[id] != NULL, "%s: field %d absent",
		    c->what, id);
		ck_assert_uint_eq(b->len[id], c->want[id].n);
		ck_assert_mem_eq(b->value[id], c->want[id].s, c->want[id].n);
		ck_assert_int_eq(b->value[id][b->len[id]], '\0');
	}
}

/* Each body is copied to a heap block of exactly len bytes, so that
 * valgrind or ASan catch any read past len. */
START_TEST(test_body_cases)
{
	const struct body_case *c = &cases[_i];
	struct body b;
	char detail[160];
	char *data = malloc(c->len > 0 ? c->len : 1);
	ck_assert_ptr_nonnull(data);
	memcpy(data, c->data, c->len);
	int rc = body_parse(c->ctype, data, c->len, &b, detail,
	    sizeof(detail));
	free(data);
	check_case(c, &b, rc, detail);
	body_free(&b);
	ck_assert_ptr_null(b.value[FIELD_NAME]);
}
END_TEST

/* The reader must stop at len: the same body followed by more bytes in
 * memory reads the same. */
START_TEST(test_body_reads_only_len)
{
	static const char json[] = "{\"name\":\"a\"}, \"participant_id\":\"p\"}";
	static const char form[] = "name=a&participant_id=p";
	struct body b;
	char detail[160];
	ck_assert_int_eq(body_parse(JSON, json, 12, &b, detail,
	    sizeof(detail)), BODY_OK);
	ck_assert_ptr_null(b.value[FIELD_PARTICIPANT_ID]);
	body_free(&b);
	ck_assert_int_eq(body_parse(FORM, form, 6, &b, detail,
	    sizeof(detail)), BODY_OK);
	ck_assert_str_eq(b.value[FIELD_NAME], "a");
	ck_assert_ptr_null(b.value[FIELD_PARTICIPANT_ID]);
	body_free(&b);
	ck_assert_int_eq(body_parse(FORM, form, 7, &b, detail,
	    sizeof(detail)), BODY_OK);
	ck_assert_ptr_null(b.value[FIELD_PARTICIPANT_ID]);
	body_free(&b);
}
END_TEST

START_TEST(test_body_no_detail_buffer)
{
	struct body b;
	ck_assert_int_eq(body_parse(JSON, DATA("[]"), &b, NULL, 0),
	    BODY_EMALFORMED);
	body_free(&b);
	body_free(&b);
}
END_TEST

START_TEST(test_body_strerror)
{
	ck_assert_str_eq(body_strerror(BODY_OK), "ok");
	ck_assert_str_eq(body_strerror(BODY_EMALFORMED),
	    "malformed request body");
	ck_assert_str_eq(body_strerror(BODY_EUNSUPPORTED),
	    "unsupported Content-Type");
	ck_assert_str_eq(body_strerror(BODY_ENOMEM), "out of memory");
	ck_assert_str_eq(body_strerror(-99), "unknown body error");
	ck_assert_str_eq(body_strerror(7), "unknown body error");
}
END_TEST

/* Builds {"x":[[...1...]]} nested depth levels deep, the object
 * included. */
static size_t nested(char *buf, int depth)
{
	size_t n = (size_t)sprintf(buf, "{\"x\":");
	for (int i = 1; i < depth; i++)
		buf[n++] = '[';
	buf[n++] = '1';
	for (int i = 1; i < depth; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	return n;
}

/* BODY_JSON_DEPTH is 16, which json-c turns into 15 levels. */
START_TEST(test_body_json_depth)
{
	char buf[128], detail[160];
	struct body b;
	size_t n = nested(buf, 15);
	ck_assert_int_eq(body_parse(JSON, buf, n, &b, detail,
	    sizeof(detail)), BODY_OK);
	body_free(&b);
	n = nested(buf, 16);
	ck_assert_int_eq(body_parse(JSON, buf, n, &b, detail,
	    sizeof(detail)), BODY_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(detail, "nesting too deep"));
	body_free(&b);
}
END_TEST

/* Fault injection: while fail_in >= 0, malloc counts it down and fails
 * the call that finds it at 0; live counts allocations not yet freed.
 * These replace the C library's functions for the whole program, json-c
 * included (__libc_malloc and __libc_free are glibc's).  valgrind puts
 * its own in their place unless run with
 * --soname-synonyms=somalloc=nouserintercepts; without that the tests
 * below find injection inert and only check that the parse succeeds. */
static long fail_in = -1, live;

/* ASan (gcc's __SANITIZE_ADDRESS__, clang's __has_feature) owns malloc
 * and free: replacing them with glibc's would hand its own allocations
 * to the wrong allocator.  There the replacement is left out, injection
 * is inert as under valgrind, and every other check still runs. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifndef UNDER_ASAN
extern void *__libc_malloc(size_t n);
extern void __libc_free(void *p);

void *malloc(size_t n)
{
	if (fail_in >= 0 && fail_in-- == 0)
		return NULL;
	void *p = __libc_malloc(n);
	live += p != NULL;
	return p;
}

void free(void *p)
{
	live -= p != NULL;
	__libc_free(p);
}
#endif

static int injection_works(void)
{
	void *(*volatile alloc)(size_t) = malloc;
	fail_in = 0;
	void *p = alloc(1);
	fail_in = -1;
	free(p);
	return p == NULL;
}

static const struct {
	const char *ctype, *data;
	size_t len;
} enomem_cases[] = {
	{ JSON, DATA("{\"n\\u0061me\":\"a\",\"participant_id\":\"p\"}") },
	{ FORM, DATA("name=a&x=1&participant_id=p") },
	{ MP, DATA(PART("name", "a") PART("participant_id", "p") END) },
};

/* Parses enomem_cases[i] with the k-th malloc failing (k < 0: none) and
 * returns the result; sets *mallocs to the number of calls made.  For
 * the readers that allocate only with malloc (not json-c), checks that
 * parse and body_free together free all they allocated. */
static int parse_failing(int i, long k, long *mallocs)
{
	struct body b;
	char detail[160];
	long start = k >= 0 ? k : LONG_MAX, live0 = live;
	fail_in = start;
	int rc = body_parse(enomem_cases[i].ctype, enomem_cases[i].data,
	    enomem_cases[i].len, &b, detail, sizeof(detail));
	*mallocs = start - fail_in;
	fail_in = -1;
	if (rc == BODY_ENOMEM) {
		for (int id = 0; id < FIELD__MAX; id++)
			ck_assert_ptr_null(b.value[id]);
		ck_assert_ptr_nonnull(strstr(detail, "out of memory"));
	}
	body_free(&b);
	if (strcmp(enomem_cases[i].ctype, JSON) != 0)
		ck_assert_msg(live == live0, "case %d, malloc %ld: %ld leaked",
		    i, k, live - live0);
	return rc;
}

/* Every allocation of the form and multipart readers is their own, so
 * each one failing in turn must give ENOMEM and leak nothing. */
START_TEST(test_body_enomem_each)
{
	long n, ignored;
	ck_assert_int_eq(parse_failing(_i, -1, &n), BODY_OK);
	if (!injection_works())
		return;
	ck_assert_int_ge(n, 2);
	for (long k = 0; k < n; k++)
		ck_assert_msg(parse_failing(_i, k, &ignored) == BODY_ENOMEM,
		    "case %d, malloc %ld of %ld", _i, k, n);
}
END_TEST

/* json-c 0.16 tolerates some failed allocations and crashes on others
 * (a NULL strdup), so only ours are failed: the first (the tokener)
 * and the last (the copy of the last field). */
START_TEST(test_body_enomem_json)
{
	long n, ignored;
	ck_assert_int_eq(parse_failing(0, -1, &n), BODY_OK);
	if (!injection_works())
		return;
	ck_assert_int_eq(parse_failing(0, 0, &ignored), BODY_ENOMEM);
	ck_assert_int_eq(parse_failing(0, n - 1, &ignored), BODY_ENOMEM);
}
END_TEST

static Suite *body_suite(void)
{
	Suite *s = suite_create("body");
	TCase *tc = tcase_create("body");
	tcase_add_loop_test(tc, test_body_cases, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_body_reads_only_len);
	tcase_add_test(tc, test_body_no_detail_buffer);
	tcase_add_test(tc, test_body_strerror);
	tcase_add_test(tc, test_body_json_depth);
	tcase_add_loop_test(tc, test_body_enomem_each, 1,
	    sizeof(enomem_cases) / sizeof(enomem_cases[0]));
	tcase_add_test(tc, test_body_enomem_json);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(body_suite)
