/* test_replay.c: events decoded back from event_encode()'s bytes, strict
 * refusal of anything else, and replays onto a real SQLite file under the
 * rules, refused events counted and skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "unit.h"
#include "config.h"
#include "event.h"
#include "replay.h"
#include "store.h"
#include "tmpdb.h"

#define EID "11111111-2222-4333-8444-555555555555"
#define CID "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define AT "2026-11-24T10:00:00.123456Z"

/* Returns an event with fixed ids and time, as test_event.c does. */
static struct event fixed(enum command_kind kind)
{
	struct event ev = { .kind = kind, .event_id = EID,
	    .conversation_id = CID, .created_at = AT, .actor = "user-1",
	    .name = "Team chat / \"quoted\" \xc3\xa9", .participant_id = "user-2",
	    .message_content = "hello\nworld" };
	return ev;
}

/* Compares a string field that only some kinds carry. */
static void assert_field(const char *got, const char *want, int carried)
{
	if (carried)
		ck_assert_str_eq(got, want);
	else
		ck_assert_ptr_null(got);
}

START_TEST(test_replay_round_trip_each_kind)
{
	struct event ev = fixed((enum command_kind)_i);
	struct replay_event re;
	size_t len, len2;
	char *json = event_encode(&ev, &len), *again;

	ck_assert_ptr_nonnull(json);
	ck_assert_int_eq(replay_decode(json, len, &re), 0);
	ck_assert_int_eq(re.ev.kind, ev.kind);
	ck_assert_str_eq(re.ev.event_id, EID);
	ck_assert_str_eq(re.ev.conversation_id, CID);
	ck_assert_str_eq(re.ev.created_at, AT);
	ck_assert_str_eq(re.ev.actor, "user-1");
	assert_field(re.ev.name, ev.name, _i == CMD_CREATE);
	assert_field(re.ev.participant_id, ev.participant_id,
	    _i == CMD_ADD || _i == CMD_REMOVE);
	assert_field(re.ev.message_content, ev.message_content, _i == CMD_SEND);
	/* Decoding loses nothing: the same bytes come out again. */
	ck_assert_ptr_nonnull(again = event_encode(&re.ev, &len2));
	ck_assert_str_eq(again, json);
	free(again);
	free(json);
	replay_event_free(&re);
}
END_TEST

START_TEST(test_replay_ids_lower_cased)
{
	static const char js[] = "{\"id\":\"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE\","
	    "\"name\":\"n\",\"creator_id\":\"u\",\"event\":"
	    "\"userCreatedConversation\",\"created_at\":\"" AT "\","
	    "\"event_id\":\"11111111-2222-4333-8444-55555555555A\"}";
	struct replay_event re;

	ck_assert_int_eq(replay_decode(js, sizeof js - 1, &re), 0);
	ck_assert_str_eq(re.ev.conversation_id, CID);
	ck_assert_str_eq(re.ev.event_id, "11111111-2222-4333-8444-55555555555a");
	replay_event_free(&re);
}
END_TEST

/* A send event with one field's JSON text replaced. */
#define SEND(id, user, conv, msg, ev, at, eid) "{\"id\":" id ",\"user_id\":" \
	user ",\"conversation_id\":" conv ",\"message_content\":" msg \
	",\"event\":" ev ",\"created_at\":" at ",\"event_id\":" eid "}"
#define Q(s) "\"" s "\""
#define OK_SEND SEND(Q(EID), Q("u"), Q(CID), Q("hi"), \
	Q("userSentMessageToConversation"), Q(AT), Q(EID))

static const struct bad_case {
	const char *json;
	int want;
} bad_cases[] = {
	{ "", REPLAY_EJSON },
	{ "not json", REPLAY_EJSON },
	{ "[1,2]", REPLAY_EJSON },
	{ "\"userCreatedConversation\"", REPLAY_EJSON },
	{ "{\"event\":\"userDeletedConversation\"", REPLAY_EJSON },
	{ OK_SEND "x", REPLAY_EJSON },
	{ OK_SEND "{}", REPLAY_EJSON },
	{ "{}", REPLAY_EEVENT },
	{ SEND(Q(EID), Q("u"), Q(CID), Q("hi"), Q("userLikedConversation"),
	    Q(AT), Q(EID)), REPLAY_EEVENT },
	{ SEND(Q(EID), Q("u"), Q(CID), Q("hi"), "5", Q(AT), Q(EID)),
	    REPLAY_EEVENT },
	{ SEND(Q(EID), Q("u"), Q(CID), "null", Q("userSentMessageToConversation"),
	    Q(AT), Q(EID)), REPLAY_EFIELD },
	{ SEND(Q(EID), Q(""), Q(CID), Q("hi"), Q("userSentMessageToConversation"),
	    Q(AT), Q(EID)), REPLAY_EFIELD },
	{ SEND(Q(EID), "7", Q(CID), Q("hi"), Q("userSentMessageToConversation"),
	    Q(AT), Q(EID)), REPLAY_EFIELD },
	{ SEND(Q(EID), Q("u"), Q(CID), Q("a\\u0000b"),
	    Q("userSentMessageToConversation"), Q(AT), Q(EID)), REPLAY_EFIELD },
	{ "{\"id\":\"" CID "\",\"creator_id\":\"u\",\"event\":"
	    "\"userCreatedConversation\",\"created_at\":\"" AT "\","
	    "\"event_id\":\"" EID "\"}", REPLAY_EFIELD },
	{ "{\"id\":\"" EID "\",\"user_id\":\"u\",\"conversation_id\":\"" CID
	    "\",\"event\":\"userAddedParticipantToConversation\","
	    "\"created_at\":\"" AT "\",\"event_id\":\"" EID "\"}", REPLAY_EFIELD },
	{ SEND(Q(EID), Q("u"), Q("conv-1"), Q("hi"),
	    Q("userSentMessageToConversation"), Q(AT), Q(EID)), REPLAY_EID },
	{ SEND(Q(EID), Q("u"), Q(CID), Q("hi"), Q("userSentMessageToConversation"),
	    Q(AT), Q(EID "0")), REPLAY_EID },
	{ SEND(Q(CID), Q("u"), Q(CID), Q("hi"), Q("userSentMessageToConversation"),
	    Q(AT), Q(EID)), REPLAY_EID },
	{ SEND(Q(EID), Q("u"), Q(CID), Q("hi"), Q("userSentMessageToConversation"),
	    Q("2026-11-24 10:00:00"), Q(EID)), REPLAY_ETIME },
	{ SEND(Q(EID), Q("u"), Q(CID), Q("hi"), Q("userSentMessageToConversation"),
	    Q("2026-11-24T10:00:00.123456+00"), Q(EID)), REPLAY_ETIME },
};

START_TEST(test_replay_rejects_malformed)
{
	const struct bad_case *c = &bad_cases[_i];
	struct replay_event re;
	int got = replay_decode(c->json, strlen(c->json), &re);

	ck_assert_msg(got == c->want, "case %d (%s): got %s, want %s", _i,
	    c->json, replay_reason_name(got), replay_reason_name(c->want));
	ck_assert_ptr_null(re.root);
	replay_event_free(&re);
}
END_TEST

START_TEST(test_replay_decode_uses_only_len_bytes)
{
	char buf[512];
	struct replay_event re;
	int n = snprintf(buf, sizeof buf, "%s", OK_SEND "trailing bytes");

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(replay_decode(buf, strlen(OK_SEND), &re), 0);
	ck_assert_str_eq(re.ev.message_content, "hi");
	replay_event_free(&re);
	ck_assert_int_eq(replay_decode(NULL, 0, &re), REPLAY_EJSON);
}
END_TEST

START_TEST(test_replay_reason_names)
{
	int r;

	for (r = REPLAY__MIN; r < REPLAY__MAX; r++)
		ck_assert_str_ne(replay_reason_name(r), "unknown");
	ck_assert_str_eq(replay_reason_name(REPLAY_ALREADY_MEMBER),
	    "already-member");
	ck_assert_str_eq(replay_reason_name(REPLAY__MAX), "unknown");
	ck_assert_str_eq(replay_reason_name(REPLAY__MIN - 1), "unknown");
}
END_TEST

/* The store side: a fresh SQLite file per test. */
static struct tmpdb tmp;
static struct replay rp;

static void setup(void)
{
	char err[256] = "";

	tmpdb_make(&tmp, "test_replay", 100);
	memset(&rp, 0, sizeof rp);
	rp.batch = 3;	/* small, so that sequences cross commits */
	ck_assert_msg(store_open(&rp.st, &tmp.cfg, err, sizeof err) == 0, "%s",
	    err);
}

static void teardown(void)
{
	store_close(rp.st);
	tmpdb_remove(&tmp);
}

/* Runs one text query on a second connection; returns a malloc'd copy. */
static char *query(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s;
	char *out;

	ck_assert_int_eq(sqlite3_open(tmp.path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	out = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

static void assert_query(const char *sql, const char *want)
{
	char *got = query(sql);

	ck_assert_str_eq(got, want);
	free(got);
}

/* Feeds one fresh event through replay_value; returns how it was counted. */
static enum replay_reason feed(enum command_kind kind, const char *actor,
    const char *participant)
{
	struct event ev = { .kind = kind, .conversation_id = CID,
	    .actor = actor, .name = "chat", .participant_id = participant,
	    .message_content = "hi" };
	struct replay_stats before = rp.stats;
	size_t len;
	char *json;
	int r;

	ck_assert_int_eq(event_stamp(&ev), 0);
	memcpy(ev.conversation_id, CID, sizeof CID);
	memcpy(ev.created_at, AT, sizeof AT);
	ck_assert_ptr_nonnull(json = event_encode(&ev, &len));
	ck_assert_int_eq(replay_value(&rp, json, len), 0);
	free(json);
	ck_assert_uint_eq(rp.stats.read, before.read + 1);
	for (r = REPLAY__MIN; r < REPLAY__MAX; r++)
		if (rp.stats.reasons[r - REPLAY__MIN] !=
		    before.reasons[r - REPLAY__MIN])
			return (enum replay_reason)r;
	ck_abort_msg("event not counted");
	return REPLAY__MAX;
}

/* Each step: one event and how the rules must take it. */
static const struct step {
	enum command_kind kind;
	const char *actor, *participant;
	enum replay_reason want;
} sequence[] = {
	{ CMD_SEND, "owner", NULL, REPLAY_NOT_FOUND },
	{ CMD_CREATE, "owner", NULL, REPLAY_APPLIED },
	{ CMD_CREATE, "owner", NULL, REPLAY_EXISTS },
	{ CMD_ADD, "owner", "ann", REPLAY_APPLIED },
	{ CMD_ADD, "owner", "ann", REPLAY_ALREADY_MEMBER },
	{ CMD_ADD, "ann", "bob", REPLAY_NOT_OWNER },
	{ CMD_SEND, "ann", NULL, REPLAY_APPLIED },
	{ CMD_SEND, "bob", NULL, REPLAY_NOT_MEMBER },
	{ CMD_ADD, "owner", "bob", REPLAY_APPLIED },
	{ CMD_REMOVE, "owner", "owner", REPLAY_OWNER_STAYS },
	{ CMD_REMOVE, "owner", "ann", REPLAY_APPLIED },
	{ CMD_REMOVE, "owner", "ann", REPLAY_NOT_PARTICIPANT },
	{ CMD_DELETE, "bob", NULL, REPLAY_NOT_OWNER },
};

START_TEST(test_replay_sequence_under_the_rules)
{
	struct store_counts c;
	size_t i;

	for (i = 0; i < sizeof sequence / sizeof sequence[0]; i++)
		ck_assert_msg(feed(sequence[i].kind, sequence[i].actor,
		    sequence[i].participant) == sequence[i].want,
		    "step %zu: want %s", i, replay_reason_name(sequence[i].want));
	ck_assert_int_eq(replay_flush(&rp), 0);
	ck_assert_uint_eq(rp.stats.applied, 5);
	ck_assert_uint_eq(rp.stats.skipped, 8);
	assert_query("SELECT group_concat(id || ' ' || name || ' ' || owner"
	    " || ' ' || deleted || ' ' || created_at) FROM conversations",
	    CID " chat owner 0 " AT);
	assert_query("SELECT group_concat(user_id, ',') FROM (SELECT user_id"
	    " FROM members ORDER BY 1)", "bob,owner");
	ck_assert_int_eq(store_count(rp.st, &c), 0);
	ck_assert_int_eq(c.conversations, 1);
	ck_assert_int_eq(c.deleted, 0);
	ck_assert_int_eq(c.members, 2);
}
END_TEST

START_TEST(test_replay_delete_then_nothing)
{
	struct store_counts c;

	ck_assert_int_eq(feed(CMD_CREATE, "owner", NULL), REPLAY_APPLIED);
	ck_assert_int_eq(feed(CMD_DELETE, "owner", NULL), REPLAY_APPLIED);
	ck_assert_int_eq(feed(CMD_ADD, "owner", "ann"), REPLAY_NOT_FOUND);
	ck_assert_int_eq(feed(CMD_DELETE, "owner", NULL), REPLAY_NOT_FOUND);
	ck_assert_int_eq(feed(CMD_CREATE, "owner", NULL), REPLAY_EXISTS);
	ck_assert_int_eq(replay_flush(&rp), 0);
	ck_assert_int_eq(store_count(rp.st, &c), 0);
	ck_assert_int_eq(c.conversations, 1);
	ck_assert_int_eq(c.deleted, 1);
	/* A deleted conversation keeps its members, as in the service. */
	ck_assert_int_eq(c.members, 1);
}
END_TEST

START_TEST(test_replay_counts_malformed_and_writes_only_state)
{
	ck_assert_int_eq(replay_value(&rp, "{oops", 5), 0);
	ck_assert_int_eq(feed(CMD_CREATE, "owner", NULL), REPLAY_APPLIED);
	ck_assert_int_eq(replay_flush(&rp), 0);
	ck_assert_uint_eq(rp.stats.read, 2);
	ck_assert_uint_eq(rp.stats.skipped, 1);
	ck_assert_uint_eq(rp.stats.reasons[REPLAY_EJSON - REPLAY__MIN], 1);
	assert_query("SELECT (SELECT COUNT(*) FROM outbox) ||"
	    " (SELECT COUNT(*) FROM idempotency) ||"
	    " (SELECT COUNT(*) FROM conversations)", "001");
}
END_TEST

START_TEST(test_replay_seq_continues_the_topic)
{
	struct event ev = fixed(CMD_CREATE);
	struct store_health h;

	ck_assert_int_eq(store_replay_seq(rp.st, 41), 0);
	ck_assert_int_eq(store_health(rp.st, &h), 0);
	ck_assert_int_eq(h.published_seq, 41);
	ck_assert_int_eq(h.backlog, 0);
	ck_assert_int_eq(store_begin(rp.st), 0);
	ck_assert_int_eq(store_apply(rp.st, &ev, "{}", 2, NULL), 0);
	ck_assert_int_eq(store_commit(rp.st), 0);
	assert_query("SELECT seq FROM outbox", "42");
	ck_assert_int_eq(store_health(rp.st, &h), 0);
	ck_assert_int_eq(h.backlog, 1);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *dec = tcase_create("decode");
	TCase *app = tcase_create("apply");

	tcase_add_loop_test(dec, test_replay_round_trip_each_kind, 0, CMD__MAX);
	tcase_add_test(dec, test_replay_ids_lower_cased);
	tcase_add_loop_test(dec, test_replay_rejects_malformed, 0,
	    (int)(sizeof bad_cases / sizeof bad_cases[0]));
	tcase_add_test(dec, test_replay_decode_uses_only_len_bytes);
	tcase_add_test(dec, test_replay_reason_names);
	suite_add_tcase(s, dec);
	tcase_add_checked_fixture(app, setup, teardown);
	tcase_add_test(app, test_replay_sequence_under_the_rules);
	tcase_add_test(app, test_replay_delete_then_nothing);
	tcase_add_test(app, test_replay_counts_malformed_and_writes_only_state);
	tcase_add_test(app, test_replay_seq_continues_the_topic);
	suite_add_tcase(s, app);
	return s;
}

UNIT_MAIN(replay_suite)
