/* test_problem.c: refusal -> status mapping, problem+json bodies, CORS
 * headers, Idempotency-Key syntax and request fingerprints. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "body.h"
#include "cors.h"
#include "event.h"
#include "http.h"
#include "idem.h"
#include "problem.h"
#include "unit.h"

static const struct {
	enum refusal why;
	int status;
} refusals[] = {
	{ REFUSE_NOT_FOUND, 404 }, { REFUSE_NOT_OWNER, 403 },
	{ REFUSE_NOT_MEMBER, 403 }, { REFUSE_ALREADY_MEMBER, 409 },
	{ REFUSE_NOT_PARTICIPANT, 409 }, { REFUSE_OWNER_STAYS, 409 },
};

START_TEST(test_problem_refusal_status)
{
	struct response r;
	memset(&r, 0, sizeof r);
	problem_set(&r, problem_from_refusal(refusals[_i].why), NULL);
	ck_assert_int_eq(r.status, refusals[_i].status);
	ck_assert_str_eq(r.content_type, "application/problem+json");
	json_object *o = json_tokener_parse(r.body);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "status")),
	    refusals[_i].status);
	ck_assert_ptr_nonnull(json_object_object_get(o, "type"));
	ck_assert_ptr_nonnull(json_object_object_get(o, "title"));
	ck_assert_ptr_nonnull(json_object_object_get(o, "detail"));
	json_object_put(o);
	response_free(&r);
}
END_TEST

START_TEST(test_problem_fields_errors_object)
{
	struct response r;
	const char *errors[FIELD__MAX] = { [FIELD_NAME] = "This field is required." };
	memset(&r, 0, sizeof r);
	problem_fields(&r, errors);
	ck_assert_int_eq(r.status, 400);
	json_object *o = json_tokener_parse(r.body);
	json_object *errs = json_object_object_get(o, "errors");
	ck_assert_str_eq(json_object_to_json_string_ext(errs, JSON_C_TO_STRING_PLAIN),
	    "{\"name\":[\"This field is required.\"]}");
	json_object_put(o);
	response_free(&r);
}
END_TEST

START_TEST(test_problem_detail_escaped)
{
	struct response r;
	memset(&r, 0, sizeof r);
	problem_set(&r, PROB_MALFORMED, "bad \"quote\" \\ and\nnewline");
	json_object *o = json_tokener_parse(r.body);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "detail")),
	    "bad \"quote\" \\ and\nnewline");
	json_object_put(o);
	response_free(&r);
}
END_TEST

START_TEST(test_cors_any_and_list)
{
	struct response r;
	memset(&r, 0, sizeof r);
	cors_headers(&r, "*", "https://a.example");
	ck_assert_ptr_nonnull(strstr(r.headers, "Access-Control-Allow-Origin: *\r\n"));
	response_free(&r);
	cors_headers(&r, "https://a.example, https://b.example", "https://b.example");
	ck_assert_ptr_nonnull(strstr(r.headers,
	    "Access-Control-Allow-Origin: https://b.example\r\n"));
	response_free(&r);
	cors_headers(&r, "https://a.example", "https://a.example.evil");
	ck_assert_ptr_null(strstr(r.headers, "Access-Control-Allow-Origin"));
	ck_assert_ptr_nonnull(strstr(r.headers, "Vary: Origin\r\n"));
	response_free(&r);
	cors_headers(&r, "*", NULL);
	ck_assert_uint_eq(r.headers_len, 0);
}
END_TEST

START_TEST(test_cors_preflight)
{
	struct response r;
	memset(&r, 0, sizeof r);
	cors_preflight(&r, "*", "https://a.example", "POST, OPTIONS");
	ck_assert_int_eq(r.status, 204);
	ck_assert_ptr_nonnull(strstr(r.headers,
	    "Access-Control-Allow-Headers: Authorization, Content-Type, Idempotency-Key"));
	ck_assert_ptr_nonnull(strstr(r.headers,
	    "Access-Control-Allow-Methods: POST, OPTIONS"));
	response_free(&r);
}
END_TEST

START_TEST(test_idem_key_syntax)
{
	char k[300];
	ck_assert_int_eq(idem_key_valid("a"), 1);
	ck_assert_int_eq(idem_key_valid("8e03978e-40d5-43e8-bc93-6894a57f9324"), 1);
	ck_assert_int_eq(idem_key_valid(""), 0);
	ck_assert_int_eq(idem_key_valid("tab\there"), 0);
	ck_assert_int_eq(idem_key_valid("caf\xc3\xa9"), 0);
	memset(k, 'k', 255);
	k[255] = '\0';
	ck_assert_int_eq(idem_key_valid(k), 1);
	k[255] = 'k';
	k[256] = '\0';
	ck_assert_int_eq(idem_key_valid(k), 0);
}
END_TEST

START_TEST(test_idem_fingerprint_parts)
{
	char a[IDEM_FINGERPRINT_LEN + 1], b[IDEM_FINGERPRINT_LEN + 1];
	idem_fp_hex(idem_fp_add(idem_fp_add(idem_fp_init(), "ab", 2), "c", 1), a);
	idem_fp_hex(idem_fp_add(idem_fp_add(idem_fp_init(), "a", 1), "bc", 2), b);
	ck_assert_str_ne(a, b);
	ck_assert_uint_eq(strlen(a), IDEM_FINGERPRINT_LEN);
	idem_fp_hex(idem_fp_add(idem_fp_add(idem_fp_init(), "ab", 2), "c", 1), b);
	ck_assert_str_eq(a, b);
}
END_TEST

/* One command as handle.c sees it: kind, path ids, body. */
struct fp_req {
	enum command_kind kind;
	const char *conv;		/* path conversation id, "" for create */
	const char *participant;	/* path participant, or NULL */
	const char *ctype;
	const char *body;
};

#define C1 "0b6f2f1e-7d1a-4c59-9f44-0a8f7c4d2e11"
#define C2 "5a1d9c3b-2e8f-4b7a-8c6d-1f0e9a8b7c6d"
#define JSON_T "application/json"
#define FORM_T "application/x-www-form-urlencoded"
#define MULTI_T "multipart/form-data; boundary=XX"
#define MULTI_NAME(v) "--XX\r\nContent-Disposition: form-data; " \
	"name=\"name\"\r\n\r\n" v "\r\n--XX--\r\n"

/* Pairs of requests and whether they are the same request. */
static const struct {
	struct fp_req a, b;
	int same;
} fp_cases[] = {
	{ { CMD_CREATE, "", NULL, JSON_T, "{\"name\":\"idem\"}" },
	  { CMD_CREATE, "", NULL, FORM_T, "name=idem" }, 1 },
	{ { CMD_CREATE, "", NULL, JSON_T, "{\"name\":\"idem\"}" },
	  { CMD_CREATE, "", NULL, MULTI_T, MULTI_NAME("idem") }, 1 },
	{ { CMD_CREATE, "", NULL, JSON_T, "{\"name\":\"caf\\u00e9 +\"}" },
	  { CMD_CREATE, "", NULL, FORM_T, "name=caf%C3%A9+%2B" }, 1 },
	/* Unknown fields and allowlisted ones the command does not read. */
	{ { CMD_CREATE, "", NULL, JSON_T, "{\"name\":\"idem\"}" },
	  { CMD_CREATE, "", NULL, JSON_T, "{\"x\":1,\"message_content\":\"m\","
	    "\"name\":\"idem\"}" }, 1 },
	{ { CMD_CREATE, "", NULL, JSON_T, "{\"name\":\"idem\"}" },
	  { CMD_CREATE, "", NULL, JSON_T, "{\"name\":\"idem \"}" }, 0 },
	{ { CMD_SEND, C1, NULL, JSON_T, "{\"message_content\":\"hi\"}" },
	  { CMD_SEND, C2, NULL, JSON_T, "{\"message_content\":\"hi\"}" }, 0 },
	{ { CMD_SEND, "", NULL, JSON_T, "{\"message_content\":\"x\"}" },
	  { CMD_CREATE, "", NULL, JSON_T, "{\"name\":\"x\"}" }, 0 },
	{ { CMD_ADD, C1, NULL, JSON_T, "{\"participant_id\":\"bob\"}" },
	  { CMD_ADD, C1, NULL, FORM_T, "participant_id=bob" }, 1 },
	{ { CMD_REMOVE, C1, "bob", NULL, "" },
	  { CMD_REMOVE, C1, "carol", NULL, "" }, 0 },
	{ { CMD_REMOVE, C1, "bob", NULL, "" },
	  { CMD_ADD, C1, NULL, FORM_T, "participant_id=bob" }, 0 },
	{ { CMD_DELETE, C1, NULL, NULL, "" },
	  { CMD_DELETE, C1, NULL, NULL, "" }, 1 },
	{ { CMD_DELETE, C1, NULL, NULL, "" },
	  { CMD_DELETE, C2, NULL, NULL, "" }, 0 },
};

/* The body fields each kind reads, as handle.c's command table has them. */
static const unsigned fp_fields[CMD__MAX] = {
	[CMD_CREATE] = 1u << FIELD_NAME,
	[CMD_SEND] = 1u << FIELD_MESSAGE_CONTENT,
	[CMD_ADD] = 1u << FIELD_PARTICIPANT_ID,
};

/* Parses r's body and fingerprints r the way handle.c does. */
static void fp_of(const struct fp_req *r, char out[IDEM_FINGERPRINT_LEN + 1])
{
	struct body b;
	struct event ev;
	char detail[160];

	memset(&ev, 0, sizeof ev);
	ck_assert_int_eq(body_parse(r->ctype, r->body, strlen(r->body), &b,
	    detail, sizeof detail), 0);
	ev.kind = r->kind;
	snprintf(ev.conversation_id, sizeof ev.conversation_id, "%s", r->conv);
	ev.participant_id = r->participant ? r->participant :
	    b.value[FIELD_PARTICIPANT_ID];
	idem_fingerprint(&ev, &b, fp_fields[r->kind], out);
	body_free(&b);
}

START_TEST(test_idem_fingerprint_same_request)
{
	char a[IDEM_FINGERPRINT_LEN + 1], b[IDEM_FINGERPRINT_LEN + 1];
	fp_of(&fp_cases[_i].a, a);
	fp_of(&fp_cases[_i].b, b);
	ck_assert_msg((strcmp(a, b) == 0) == fp_cases[_i].same,
	    "case %d: fingerprints %s and %s, want %s", _i, a, b,
	    fp_cases[_i].same ? "equal" : "different");
}
END_TEST

START_TEST(test_response_header_overflow_dropped)
{
	struct response r;
	char big[600];
	memset(&r, 0, sizeof r);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (int i = 0; i < 10; i++)
		response_header(&r, "X-Big", "%s", big);
	ck_assert_uint_lt(r.headers_len, RESPONSE_HEADERS_MAX);
	ck_assert_uint_eq(strlen(r.headers), r.headers_len);
	ck_assert_str_eq(response_reason(201), "Created");
}
END_TEST

static Suite *problem_suite(void)
{
	Suite *s = suite_create("problem");
	TCase *tc = tcase_create("http");
	tcase_add_loop_test(tc, test_problem_refusal_status, 0,
	    sizeof refusals / sizeof refusals[0]);
	tcase_add_test(tc, test_problem_fields_errors_object);
	tcase_add_test(tc, test_problem_detail_escaped);
	tcase_add_test(tc, test_cors_any_and_list);
	tcase_add_test(tc, test_cors_preflight);
	tcase_add_test(tc, test_idem_key_syntax);
	tcase_add_test(tc, test_idem_fingerprint_parts);
	tcase_add_loop_test(tc, test_idem_fingerprint_same_request, 0,
	    sizeof fp_cases / sizeof fp_cases[0]);
	tcase_add_test(tc, test_response_header_overflow_dropped);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(problem_suite)
