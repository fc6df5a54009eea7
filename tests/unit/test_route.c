/* test_route.c: every row of SPEC section 2, aliases, trailing slashes,
 * 405 with Allow, preflight, paths that must never route, and the route
 * pattern each request is logged and counted under. */
#include <string.h>

#include "route.h"
#include "unit.h"

#define UUID "3f2a1c9e-8b7d-4e6f-a5c4-1b2d3e4f5a6b"

static const struct {
	const char *method, *uri;
	int rc;
	enum route_action action;
	const char *id, *participant, *allow;
} cases[] = {
	{ "POST", "/conversations/", ROUTE_OK, ACT_CREATE, NULL, NULL, NULL },
	{ "POST", "/conversations", ROUTE_OK, ACT_CREATE, NULL, NULL, NULL },
	{ "POST", "/conversations/" UUID, ROUTE_OK, ACT_SEND, UUID, NULL, NULL },
	{ "POST", "/conversations/" UUID "/", ROUTE_OK, ACT_SEND, UUID, NULL, NULL },
	{ "POST", "/conversations/" UUID "/members", ROUTE_OK, ACT_ADD, UUID, NULL, NULL },
	{ "POST", "/conversations/" UUID "/members/bob/remove", ROUTE_OK, ACT_REMOVE, UUID, "bob", NULL },
	{ "DELETE", "/conversations/" UUID "/members/bob", ROUTE_OK, ACT_REMOVE, UUID, "bob", NULL },
	{ "DELETE", "/conversations/" UUID "/members/bob/", ROUTE_OK, ACT_REMOVE, UUID, "bob", NULL },
	{ "DELETE", "/conversations/" UUID "/delete", ROUTE_OK, ACT_DELETE, UUID, NULL, NULL },
	{ "DELETE", "/conversations/" UUID, ROUTE_OK, ACT_DELETE, UUID, NULL, NULL },
	{ "GET", "/conversations/test", ROUTE_OK, ACT_TEST, NULL, NULL, NULL },
	{ "GET", "/conversations/test/", ROUTE_OK, ACT_TEST, NULL, NULL, NULL },
	{ "HEAD", "/healthz", ROUTE_OK, ACT_HEALTHZ, NULL, NULL, NULL },
	{ "GET", "/healthz?verbose=1", ROUTE_OK, ACT_HEALTHZ, NULL, NULL, NULL },
	{ "GET", "/readyz", ROUTE_OK, ACT_READYZ, NULL, NULL, NULL },
	{ "POST", "/conversations/test", ROUTE_OK, ACT_SEND, "test", NULL, NULL },
	{ "POST", "/conversations/" UUID "/members/a%40b.c/remove", ROUTE_OK, ACT_REMOVE, UUID, "a@b.c", NULL },
	{ "GET", "/conversations/", ROUTE_EMETHOD, 0, NULL, NULL, "POST, OPTIONS" },
	{ "GET", "/conversations/" UUID, ROUTE_EMETHOD, 0, NULL, NULL, "POST, DELETE, OPTIONS" },
	{ "PUT", "/conversations/" UUID "/members", ROUTE_EMETHOD, 0, NULL, NULL, "POST, OPTIONS" },
	{ "POST", "/healthz", ROUTE_EMETHOD, 0, NULL, NULL, "GET, OPTIONS" },
	{ "OPTIONS", "/conversations/", ROUTE_PREFLIGHT, 0, NULL, NULL, "POST, OPTIONS" },
	{ "OPTIONS", "/conversations/" UUID "/members/bob", ROUTE_PREFLIGHT, 0, NULL, NULL, "DELETE, OPTIONS" },
	{ "GET", "/", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "GET", "", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "GET", "healthz", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "POST", "/conversation/", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "POST", "//conversations/", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "POST", "/conversations//members", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "POST", "/conversations/../conversations", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "POST", "/conversations/%2e%2e", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "POST", "/conversations/%00", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "POST", "/conversations/%zz", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "POST", "/conversations/%4", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "POST", "/conversations/" UUID "/members/bob/remove/x", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
	{ "POST", "/a/b/c/d/e/f/g/h", ROUTE_ENOTFOUND, 0, NULL, NULL, NULL },
};

START_TEST(test_route_table)
{
	struct route_match m;
	int rc = route_match(cases[_i].method, cases[_i].uri, &m);
	ck_assert_msg(rc == cases[_i].rc, "%s %s: rc %d, want %d",
	    cases[_i].method, cases[_i].uri, rc, cases[_i].rc);
	if (rc == ROUTE_OK) {
		ck_assert_int_eq(m.action, cases[_i].action);
		ck_assert_pstr_eq(m.id, cases[_i].id);
		ck_assert_pstr_eq(m.participant, cases[_i].participant);
	}
	if (cases[_i].allow)
		ck_assert_str_eq(m.allow, cases[_i].allow);
}
END_TEST

/* The pattern a request is logged and counted under: its row's, also
 * for 405 and preflight; none for a path no row matches. */
static const struct {
	const char *method, *uri;
	int rc;
	enum route_pattern pattern;
	const char *name;
} patterns[] = {
	{ "GET", "/metrics", ROUTE_OK, RP_METRICS, "/metrics" },
	{ "HEAD", "/metrics/", ROUTE_OK, RP_METRICS, "/metrics" },
	{ "POST", "/metrics", ROUTE_EMETHOD, RP_METRICS, "/metrics" },
	{ "GET", "/healthz", ROUTE_OK, RP_HEALTHZ, "/healthz" },
	{ "GET", "/readyz", ROUTE_OK, RP_READYZ, "/readyz" },
	{ "GET", "/conversations/test", ROUTE_OK, RP_TEST, "/conversations/test" },
	{ "POST", "/conversations/test", ROUTE_OK, RP_CONVERSATION, "/conversations/{id}" },
	{ "POST", "/conversations/", ROUTE_OK, RP_CONVERSATIONS, "/conversations" },
	{ "GET", "/conversations", ROUTE_EMETHOD, RP_CONVERSATIONS, "/conversations" },
	{ "POST", "/conversations/" UUID, ROUTE_OK, RP_CONVERSATION, "/conversations/{id}" },
	{ "DELETE", "/conversations/" UUID, ROUTE_OK, RP_CONVERSATION, "/conversations/{id}" },
	{ "PUT", "/conversations/" UUID, ROUTE_EMETHOD, RP_CONVERSATION, "/conversations/{id}" },
	{ "DELETE", "/conversations/" UUID "/delete", ROUTE_OK, RP_CONV_DELETE, "/conversations/{id}/delete" },
	{ "POST", "/conversations/" UUID "/members", ROUTE_OK, RP_MEMBERS, "/conversations/{id}/members" },
	{ "OPTIONS", "/conversations/" UUID "/members", ROUTE_PREFLIGHT, RP_MEMBERS, "/conversations/{id}/members" },
	{ "POST", "/conversations/" UUID "/members/bob/remove", ROUTE_OK, RP_MEMBER_REMOVE, "/conversations/{id}/members/{pid}/remove" },
	{ "DELETE", "/conversations/" UUID "/members/bob", ROUTE_OK, RP_MEMBER, "/conversations/{id}/members/{pid}" },
	{ "GET", "/nope", ROUTE_ENOTFOUND, RP_NONE, "unmatched" },
	{ "GET", "/conversations//members", ROUTE_ENOTFOUND, RP_NONE, "unmatched" },
};

START_TEST(test_route_pattern)
{
	struct route_match m;
	int rc = route_match(patterns[_i].method, patterns[_i].uri, &m);

	ck_assert_msg(rc == patterns[_i].rc, "%s %s: rc %d, want %d",
	    patterns[_i].method, patterns[_i].uri, rc, patterns[_i].rc);
	ck_assert_int_eq(m.pattern, patterns[_i].pattern);
	ck_assert_str_eq(route_pattern_name(m.pattern), patterns[_i].name);
	if (rc == ROUTE_OK && m.pattern == RP_METRICS)
		ck_assert_int_eq(m.action, ACT_METRICS);
}
END_TEST

START_TEST(test_route_long_path)
{
	struct route_match m;
	char uri[ROUTE_PATH_MAX + 40];
	strcpy(uri, "/conversations/");
	memset(uri + 15, 'a', sizeof uri - 16);
	uri[sizeof uri - 1] = '\0';
	ck_assert_int_eq(route_match("POST", uri, &m), ROUTE_ENOTFOUND);
	ck_assert_int_eq(route_match(NULL, "/healthz", &m), ROUTE_ENOTFOUND);
	ck_assert_int_eq(route_match("GET", NULL, &m), ROUTE_ENOTFOUND);
}
END_TEST

START_TEST(test_route_auth)
{
	ck_assert_int_eq(route_needs_auth(ACT_HEALTHZ), 0);
	ck_assert_int_eq(route_needs_auth(ACT_READYZ), 0);
	ck_assert_int_eq(route_needs_auth(ACT_METRICS), 0);
	ck_assert_str_eq(route_pattern_name(RP__MAX), "unmatched");
	ck_assert_int_eq(route_needs_auth(ACT_TEST), 1);
	ck_assert_int_eq(route_needs_auth(ACT_CREATE), 1);
}
END_TEST

static Suite *route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("match");
	tcase_add_loop_test(tc, test_route_table, 0,
	    sizeof cases / sizeof cases[0]);
	tcase_add_loop_test(tc, test_route_pattern, 0,
	    sizeof patterns / sizeof patterns[0]);
	tcase_add_test(tc, test_route_long_path);
	tcase_add_test(tc, test_route_auth);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(route_suite)
