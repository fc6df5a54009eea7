/* test_decide.c: every command kind against every conversation state that
 * changes the answer, as one table. */
#include <string.h>

#include "unit.h"
#include "decide.h"

/* Shorthand states, fields in struct conv_state order: exists, deleted,
 * actor_is_owner, actor_is_member, participant_is_member,
 * participant_is_owner. */
#define GONE		{ 0, 0, 0, 0, 0, 0 }
#define DELETED		{ 1, 1, 1, 1, 0, 0 }
#define OWNER		{ 1, 0, 1, 1, 0, 0 }
#define MEMBER		{ 1, 0, 0, 1, 0, 0 }
#define STRANGER	{ 1, 0, 0, 0, 0, 0 }
#define OWNER_P_MEMBER	{ 1, 0, 1, 1, 1, 0 }
#define OWNER_P_OWNER	{ 1, 0, 1, 1, 1, 1 }
#define MEMBER_P_MEMBER	{ 1, 0, 0, 1, 1, 0 }

static const struct decide_case {
	const char *what;
	enum command_kind kind;
	struct conv_state st;
	enum refusal want;
} decide_cases[] = {
	{ "create on nothing", CMD_CREATE, GONE, REFUSE_NONE },
	{ "create ignores state", CMD_CREATE, DELETED, REFUSE_NONE },

	{ "send: unknown", CMD_SEND, GONE, REFUSE_NOT_FOUND },
	{ "send: deleted", CMD_SEND, DELETED, REFUSE_NOT_FOUND },
	{ "send: owner", CMD_SEND, OWNER, REFUSE_NONE },
	{ "send: member", CMD_SEND, MEMBER, REFUSE_NONE },
	{ "send: stranger", CMD_SEND, STRANGER, REFUSE_NOT_MEMBER },

	{ "add: unknown", CMD_ADD, GONE, REFUSE_NOT_FOUND },
	{ "add: deleted", CMD_ADD, DELETED, REFUSE_NOT_FOUND },
	{ "add: owner adds newcomer", CMD_ADD, OWNER, REFUSE_NONE },
	{ "add: owner adds member", CMD_ADD, OWNER_P_MEMBER,
	    REFUSE_ALREADY_MEMBER },
	{ "add: owner adds self", CMD_ADD, OWNER_P_OWNER,
	    REFUSE_ALREADY_MEMBER },
	{ "add: member", CMD_ADD, MEMBER, REFUSE_NOT_OWNER },
	{ "add: member adds member", CMD_ADD, MEMBER_P_MEMBER,
	    REFUSE_NOT_OWNER },
	{ "add: stranger", CMD_ADD, STRANGER, REFUSE_NOT_OWNER },

	{ "remove: unknown", CMD_REMOVE, GONE, REFUSE_NOT_FOUND },
	{ "remove: deleted", CMD_REMOVE, DELETED, REFUSE_NOT_FOUND },
	{ "remove: owner removes member", CMD_REMOVE, OWNER_P_MEMBER,
	    REFUSE_NONE },
	{ "remove: owner removes non-member", CMD_REMOVE, OWNER,
	    REFUSE_NOT_PARTICIPANT },
	{ "remove: owner removes self", CMD_REMOVE, OWNER_P_OWNER,
	    REFUSE_OWNER_STAYS },
	{ "remove: member removes member", CMD_REMOVE, MEMBER_P_MEMBER,
	    REFUSE_NOT_OWNER },
	{ "remove: stranger", CMD_REMOVE, STRANGER, REFUSE_NOT_OWNER },

	{ "delete: unknown", CMD_DELETE, GONE, REFUSE_NOT_FOUND },
	{ "delete: deleted twice", CMD_DELETE, DELETED, REFUSE_NOT_FOUND },
	{ "delete: owner", CMD_DELETE, OWNER, REFUSE_NONE },
	{ "delete: member", CMD_DELETE, MEMBER, REFUSE_NOT_OWNER },
	{ "delete: stranger", CMD_DELETE, STRANGER, REFUSE_NOT_OWNER },
};

#define NCASES (int)(sizeof decide_cases / sizeof decide_cases[0])

START_TEST(test_decide_table)
{
	const struct decide_case *c = &decide_cases[_i];

	ck_assert_msg(decide(c->kind, &c->st) == c->want,
	    "%s: got %d, want %d", c->what, decide(c->kind, &c->st), c->want);
}
END_TEST

START_TEST(test_decide_null_state)
{
	ck_assert_int_eq(decide(CMD_CREATE, NULL), REFUSE_NONE);
	ck_assert_int_eq(decide(CMD_SEND, NULL), REFUSE_NOT_FOUND);
	ck_assert_int_eq(decide(CMD_DELETE, NULL), REFUSE_NOT_FOUND);
}
END_TEST

START_TEST(test_decide_unknown_kind_refused)
{
	struct conv_state st = OWNER_P_MEMBER;

	ck_assert_int_eq(decide(CMD__MAX, &st), REFUSE_NOT_FOUND);
	ck_assert_str_eq(decide_event_name(CMD__MAX), "unknown");
}
END_TEST

START_TEST(test_decide_event_names)
{
	static const char *const want[CMD__MAX] = {
		[CMD_CREATE] = "userCreatedConversation",
		[CMD_SEND] = "userSentMessageToConversation",
		[CMD_ADD] = "userAddedParticipantToConversation",
		[CMD_REMOVE] = "userRemovedParticipantToConversation",
		[CMD_DELETE] = "userDeletedConversation",
	};
	int k;

	for (k = 0; k < CMD__MAX; k++)
		ck_assert_str_eq(decide_event_name((enum command_kind)k),
		    want[k]);
}
END_TEST

static Suite *decide_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tc = tcase_create("rules");

	tcase_add_loop_test(tc, test_decide_table, 0, NCASES);
	tcase_add_test(tc, test_decide_null_state);
	tcase_add_test(tc, test_decide_unknown_kind_refused);
	tcase_add_test(tc, test_decide_event_names);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(decide_suite)
