/* test_cors.c: which headers CORS lets a browser read and send
 * (origin matching itself is in test_problem.c). */
#include <string.h>

#include "cors.h"
#include "http.h"
#include "unit.h"

/* The headers a script may read from an allowed cross-origin answer,
 * X-Request-Id among them so a client can quote it in a report, and
 * WWW-Authenticate, which says why a token was refused. */
START_TEST(test_cors_exposes_request_id)
{
	struct response r;
	memset(&r, 0, sizeof r);
	cors_headers(&r, "*", "https://a.example");
	ck_assert_ptr_nonnull(strstr(r.headers, "Access-Control-Expose-Headers: "
	    "Location, Idempotent-Replayed, Retry-After, X-Request-Id,"
	    " WWW-Authenticate\r\n"));
	response_free(&r);
}
END_TEST

/* With a list of origins every answer varies by Origin, also one to a
 * request without it, which a shared cache could otherwise serve to a
 * listed origin without its Access-Control-Allow-Origin.  With "*" none
 * does. */
START_TEST(test_cors_vary_with_a_list)
{
	struct response r;
	memset(&r, 0, sizeof r);
	cors_headers(&r, "https://a.example", NULL);
	ck_assert_ptr_nonnull(strstr(r.headers, "Vary: Origin\r\n"));
	ck_assert_ptr_null(strstr(r.headers, "Access-Control-Allow-Origin"));
	response_free(&r);
	memset(&r, 0, sizeof r);
	cors_headers(&r, "*", NULL);
	ck_assert_ptr_null(strstr(r.headers, "Vary"));
	response_free(&r);
}
END_TEST

START_TEST(test_cors_refused_origin_exposes_nothing)
{
	struct response r;
	memset(&r, 0, sizeof r);
	cors_headers(&r, "https://a.example", "https://b.example");
	ck_assert_ptr_null(strstr(r.headers, "Access-Control-Expose-Headers"));
	response_free(&r);
}
END_TEST

START_TEST(test_cors_preflight_allows_request_id)
{
	struct response r;
	memset(&r, 0, sizeof r);
	cors_preflight(&r, "*", "https://a.example", "POST, OPTIONS");
	ck_assert_ptr_nonnull(strstr(r.headers, "Access-Control-Allow-Headers: "
	    "Authorization, Content-Type, Idempotency-Key, X-Request-Id\r\n"));
	response_free(&r);
}
END_TEST

static Suite *cors_suite(void)
{
	Suite *s = suite_create("cors");
	TCase *tc = tcase_create("cors");
	tcase_add_test(tc, test_cors_exposes_request_id);
	tcase_add_test(tc, test_cors_refused_origin_exposes_nothing);
	tcase_add_test(tc, test_cors_vary_with_a_list);
	tcase_add_test(tc, test_cors_preflight_allows_request_id);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(cors_suite)
