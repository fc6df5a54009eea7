/* test_event.c: the exact JSON bytes of each event, escaping, uuids and
 * timestamps. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "event.h"

#define EID "11111111-2222-4333-8444-555555555555"
#define CID "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define AT "2026-11-24T10:00:00.123456Z"

/* Returns an event with fixed ids and time, so the bytes are known. */
static struct event fixed(enum command_kind kind)
{
	struct event ev = { .kind = kind, .event_id = EID,
	    .conversation_id = CID, .created_at = AT, .actor = "user-1",
	    .name = "Team chat", .participant_id = "user-2",
	    .message_content = "hello" };
	return ev;
}

static void assert_encodes(const struct event *ev, const char *want)
{
	size_t len = 0;
	char *got = event_encode(ev, &len);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(len, strlen(want));
	free(got);
}

static const struct encode_case {
	enum command_kind kind;
	const char *want;
} encode_cases[] = {
	{ CMD_CREATE, "{\"id\":\"" CID "\",\"name\":\"Team chat\","
	    "\"creator_id\":\"user-1\",\"event\":\"userCreatedConversation\","
	    "\"created_at\":\"" AT "\",\"event_id\":\"" EID "\"}" },
	{ CMD_SEND, "{\"id\":\"" EID "\",\"user_id\":\"user-1\","
	    "\"conversation_id\":\"" CID "\",\"message_content\":\"hello\","
	    "\"event\":\"userSentMessageToConversation\","
	    "\"created_at\":\"" AT "\",\"event_id\":\"" EID "\"}" },
	{ CMD_ADD, "{\"id\":\"" EID "\",\"user_id\":\"user-1\","
	    "\"participant_id\":\"user-2\",\"conversation_id\":\"" CID "\","
	    "\"event\":\"userAddedParticipantToConversation\","
	    "\"created_at\":\"" AT "\",\"event_id\":\"" EID "\"}" },
	{ CMD_REMOVE, "{\"id\":\"" EID "\",\"user_id\":\"user-1\","
	    "\"participant_id\":\"user-2\",\"conversation_id\":\"" CID "\","
	    "\"event\":\"userRemovedParticipantToConversation\","
	    "\"created_at\":\"" AT "\",\"event_id\":\"" EID "\"}" },
	{ CMD_DELETE, "{\"id\":\"" EID "\",\"user_id\":\"user-1\","
	    "\"conversation_id\":\"" CID "\","
	    "\"event\":\"userDeletedConversation\","
	    "\"created_at\":\"" AT "\",\"event_id\":\"" EID "\"}" },
};

START_TEST(test_event_exact_bytes_and_key_order)
{
	struct event ev = fixed(encode_cases[_i].kind);

	assert_encodes(&ev, encode_cases[_i].want);
}
END_TEST

/* Quotes, backslashes and control characters are escaped; "/" and
 * UTF-8 (2, 3 and 4 byte sequences) are kept as sent. */
START_TEST(test_event_escaping)
{
	struct event ev = fixed(CMD_SEND);

	ev.message_content = "a\"b\\c/d\n\t\r\b\f\x01\x1f\x7f"
	    " \xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80";
	assert_encodes(&ev, "{\"id\":\"" EID "\",\"user_id\":\"user-1\","
	    "\"conversation_id\":\"" CID "\",\"message_content\":"
	    "\"a\\\"b\\\\c/d\\n\\t\\r\\b\\f\\u0001\\u001f\x7f"
	    " \xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80\","
	    "\"event\":\"userSentMessageToConversation\","
	    "\"created_at\":\"" AT "\",\"event_id\":\"" EID "\"}");
}
END_TEST

START_TEST(test_event_null_field_is_json_null)
{
	struct event ev = fixed(CMD_CREATE);

	ev.name = NULL;
	assert_encodes(&ev, "{\"id\":\"" CID "\",\"name\":null,"
	    "\"creator_id\":\"user-1\",\"event\":\"userCreatedConversation\","
	    "\"created_at\":\"" AT "\",\"event_id\":\"" EID "\"}");
}
END_TEST

START_TEST(test_event_unknown_kind_not_encoded)
{
	struct event ev = fixed(CMD_CREATE);
	size_t len = 0;

	ev.kind = CMD__MAX;
	ck_assert_ptr_null(event_encode(&ev, &len));
}
END_TEST

static int cmp_uuid(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(test_event_uuid_format_and_unique)
{
	static char ids[1000][EVENT_UUID_LEN + 1];
	int i;

	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(event_uuid(ids[i]), 0);
		ck_assert_msg(event_is_uuid(ids[i]), "not a uuid: %s", ids[i]);
		ck_assert_int_eq(ids[i][14], '4');
		ck_assert_ptr_nonnull(strchr("89ab", ids[i][19]));
		ck_assert_ptr_null(strpbrk(ids[i], "ABCDEF"));
	}
	qsort(ids, 1000, sizeof ids[0], cmp_uuid);
	for (i = 1; i < 1000; i++)
		ck_assert_str_ne(ids[i - 1], ids[i]);
}
END_TEST

static const struct uuid_case {
	const char *s;
	int want;
} uuid_cases[] = {
	{ "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", 1 },
	{ "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE", 1 },
	{ "00000000-0000-0000-0000-000000000000", 1 },
	{ "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeee", 0 },	/* 35 chars */
	{ "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeeee", 0 },	/* 37 chars */
	{ "aaaaaaaabbbb-4ccc-8ddd-eeeeeeeeeeeee", 0 },	/* dash moved */
	{ "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeeg", 0 },
	{ "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeee/", 0 },
	{ "../../etc/passwd", 0 },
	{ "", 0 },
	{ NULL, 0 },
};

START_TEST(test_event_is_uuid)
{
	ck_assert_msg(event_is_uuid(uuid_cases[_i].s) == uuid_cases[_i].want,
	    "event_is_uuid(%s)", uuid_cases[_i].s ? uuid_cases[_i].s : "NULL");
}
END_TEST

START_TEST(test_event_stamp)
{
	struct event create = { .kind = CMD_CREATE };
	struct event send = { .kind = CMD_SEND, .conversation_id = CID };
	regex_t re;
	struct tm tm = { 0 };
	time_t now = time(NULL), at;

	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T"
	    "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$", REG_EXTENDED), 0);
	ck_assert_int_eq(event_stamp(&create), 0);
	ck_assert_int_eq(event_stamp(&send), 0);
	ck_assert(event_is_uuid(create.event_id));
	ck_assert(event_is_uuid(create.conversation_id));
	ck_assert_str_ne(create.event_id, create.conversation_id);
	ck_assert_str_eq(send.conversation_id, CID);	/* kept */
	ck_assert_int_eq(regexec(&re, create.created_at, 0, NULL, 0), 0);
	regfree(&re);
	/* UTC, not local time: it reads back as now through timegm(). */
	ck_assert_ptr_nonnull(strptime(create.created_at, "%Y-%m-%dT%H:%M:%S",
	    &tm));
	at = timegm(&tm);
	ck_assert_int_le(labs((long)(at - now)), 2);
}
END_TEST

static Suite *event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("event");

	tcase_add_loop_test(tc, test_event_exact_bytes_and_key_order, 0,
	    (int)(sizeof encode_cases / sizeof encode_cases[0]));
	tcase_add_test(tc, test_event_escaping);
	tcase_add_test(tc, test_event_null_field_is_json_null);
	tcase_add_test(tc, test_event_unknown_kind_not_encoded);
	tcase_add_test(tc, test_event_uuid_format_and_unique);
	tcase_add_loop_test(tc, test_event_is_uuid, 0,
	    (int)(sizeof uuid_cases / sizeof uuid_cases[0]));
	tcase_add_test(tc, test_event_stamp);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(event_suite)
