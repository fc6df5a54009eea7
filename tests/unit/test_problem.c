/* test_problem.c: refusal -> status mapping, problem+json bodies, CORS
 * headers, Idempotency-Key syntax and fingerprints. */
#include <json-c/json.h>
#include <string.h>

#include "cors.h"
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
	tcase_add_test(tc, test_response_header_overflow_dropped);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(problem_suite)
