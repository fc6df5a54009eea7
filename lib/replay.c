/* replay.c: decodes events from the topic and applies them to a store
 * under the rules that accepted them. */
#include "replay.h"

#include <ctype.h>
#include <string.h>

#include <json-c/json.h>

#include "store.h"

/* Where a decoded field goes in struct event. */
enum replay_slot {
	SLOT_ID, SLOT_EVENT_ID, SLOT_CONV, SLOT_TIME,
	SLOT_ACTOR, SLOT_NAME, SLOT_PARTICIPANT, SLOT_MESSAGE
};

#define K(kind) (1u << (kind))
#define K_ALL (K(CMD__MAX) - 1)

/* The fields of SPEC section 3, with the kinds that require each; the
 * mirror image of event.c's layout table. */
static const struct replay_field {
	const char *key;
	unsigned kinds;
	enum replay_slot slot;
} replay_fields[] = {
	{ "id", K_ALL, SLOT_ID },
	{ "event_id", K_ALL, SLOT_EVENT_ID },
	{ "created_at", K_ALL, SLOT_TIME },
	{ "creator_id", K(CMD_CREATE), SLOT_ACTOR },
	{ "name", K(CMD_CREATE), SLOT_NAME },
	{ "user_id", K_ALL & ~K(CMD_CREATE), SLOT_ACTOR },
	{ "conversation_id", K_ALL & ~K(CMD_CREATE), SLOT_CONV },
	{ "participant_id", K(CMD_ADD) | K(CMD_REMOVE), SLOT_PARTICIPANT },
	{ "message_content", K(CMD_SEND), SLOT_MESSAGE },
};

static const char *const replay_names[REPLAY__MAX - REPLAY__MIN] = {
	[REPLAY_EJSON - REPLAY__MIN] = "bad-json",
	[REPLAY_EEVENT - REPLAY__MIN] = "unknown-event",
	[REPLAY_EFIELD - REPLAY__MIN] = "bad-field",
	[REPLAY_EID - REPLAY__MIN] = "bad-id",
	[REPLAY_ETIME - REPLAY__MIN] = "bad-time",
	[REPLAY_ENOMEM - REPLAY__MIN] = "out-of-memory",
	[REPLAY_APPLIED - REPLAY__MIN] = "applied",
	[REPLAY_EXISTS - REPLAY__MIN] = "already-exists",
	[REPLAY_NOT_FOUND - REPLAY__MIN] = "not-found",
	[REPLAY_NOT_OWNER - REPLAY__MIN] = "not-owner",
	[REPLAY_NOT_MEMBER - REPLAY__MIN] = "not-member",
	[REPLAY_ALREADY_MEMBER - REPLAY__MIN] = "already-member",
	[REPLAY_NOT_PARTICIPANT - REPLAY__MIN] = "not-participant",
	[REPLAY_OWNER_STAYS - REPLAY__MIN] = "owner-cannot-be-removed",
};

/* decide()'s refusals in replay's words. */
static const enum replay_reason replay_refusals[REFUSE__MAX] = {
	[REFUSE_NONE] = REPLAY_APPLIED,
	[REFUSE_NOT_FOUND] = REPLAY_NOT_FOUND,
	[REFUSE_NOT_OWNER] = REPLAY_NOT_OWNER,
	[REFUSE_NOT_MEMBER] = REPLAY_NOT_MEMBER,
	[REFUSE_ALREADY_MEMBER] = REPLAY_ALREADY_MEMBER,
	[REFUSE_NOT_PARTICIPANT] = REPLAY_NOT_PARTICIPANT,
	[REFUSE_OWNER_STAYS] = REPLAY_OWNER_STAYS,
};

const char *replay_reason_name(enum replay_reason reason)
{
	if (reason < REPLAY__MIN || reason >= REPLAY__MAX)
		return "unknown";
	return replay_names[reason - REPLAY__MIN];
}

/* Returns the non-empty, NUL-free string value of key in obj, or NULL. */
static const char *replay_string(json_object *obj, const char *key)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	/* A \u0000 would cut the string short when SQLite binds it. */
	if (*s == '\0' || strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

/* Copies UUID s lower-cased: the service writes ids that way, and the
 * store compares them byte for byte. */
static int replay_uuid(char out[EVENT_UUID_LEN + 1], const char *s)
{
	size_t i;

	if (!event_is_uuid(s))
		return REPLAY_EID;
	for (i = 0; i <= EVENT_UUID_LEN; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	return 0;
}

/* Copies s when it has the shape of event.c's timestamps. */
static int replay_time(char out[EVENT_TIME_LEN + 1], const char *s)
{
	static const char shape[] = "0000-00-00T00:00:00.000000Z";
	size_t i;

	if (strlen(s) != EVENT_TIME_LEN)
		return REPLAY_ETIME;
	for (i = 0; i < EVENT_TIME_LEN; i++)
		if (shape[i] == '0' ? !isdigit((unsigned char)s[i]) :
		    s[i] != shape[i])
			return REPLAY_ETIME;
	memcpy(out, s, EVENT_TIME_LEN + 1);
	return 0;
}

/* Stores s in slot of ev.  The id is checked by replay_id(), once the
 * kind and event_id are known. */
static int replay_put(struct event *ev, enum replay_slot slot,
    const char *s)
{
	switch (slot) {
	case SLOT_EVENT_ID:	return replay_uuid(ev->event_id, s);
	case SLOT_CONV:		return replay_uuid(ev->conversation_id, s);
	case SLOT_TIME:		return replay_time(ev->created_at, s);
	case SLOT_ACTOR:	ev->actor = s; return 0;
	case SLOT_NAME:		ev->name = s; return 0;
	case SLOT_PARTICIPANT:	ev->participant_id = s; return 0;
	case SLOT_MESSAGE:	ev->message_content = s; return 0;
	default:		return 0;
	}
}

/* "id" names the new conversation of a create and equals event_id in
 * every other event (SPEC section 3). */
static int replay_id(struct event *ev, const char *id)
{
	char tmp[EVENT_UUID_LEN + 1];

	if (ev->kind == CMD_CREATE)
		return replay_uuid(ev->conversation_id, id);
	if (replay_uuid(tmp, id) != 0 || strcmp(tmp, ev->event_id) != 0)
		return REPLAY_EID;
	return 0;
}

/* Finds the kind named by the "event" field. */
static int replay_kind(json_object *root, enum command_kind *kind)
{
	const char *name = replay_string(root, "event");
	int k;

	for (k = 0; name != NULL && k < CMD__MAX; k++)
		if (strcmp(name, decide_event_name((enum command_kind)k)) == 0) {
			*kind = (enum command_kind)k;
			return 0;
		}
	return REPLAY_EEVENT;
}

/* Fills ev from root: the kind, then each field the kind requires. */
static int replay_fill(json_object *root, struct event *ev)
{
	const char *s, *id = NULL;
	size_t i;
	int rc = replay_kind(root, &ev->kind);

	for (i = 0; rc == 0 && i < sizeof replay_fields /
	    sizeof replay_fields[0]; i++) {
		const struct replay_field *f = &replay_fields[i];

		if (!(f->kinds & K(ev->kind)))
			continue;
		if ((s = replay_string(root, f->key)) == NULL)
			rc = REPLAY_EFIELD;
		else if (f->slot == SLOT_ID)
			id = s;
		else
			rc = replay_put(ev, f->slot, s);
	}
	return rc == 0 ? replay_id(ev, id) : rc;
}

/* Parses exactly len bytes as one JSON object; trailing bytes fail. */
static json_object *replay_parse(const char *value, size_t len, int *rc)
{
	json_tokener *tok = json_tokener_new();
	json_object *root = NULL;

	*rc = REPLAY_ENOMEM;
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	*rc = REPLAY_EJSON;
	if (value != NULL && len > 0 && len <= INT32_MAX)
		root = json_tokener_parse_ex(tok, value, (int)len);
	if (root != NULL && (json_tokener_get_error(tok) != json_tokener_success
	    || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(root, json_type_object))) {
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	return root;
}

int replay_decode(const char *value, size_t len, struct replay_event *out)
{
	int rc;

	memset(out, 0, sizeof *out);
	if ((out->root = replay_parse(value, len, &rc)) == NULL)
		return rc;
	if ((rc = replay_fill(out->root, &out->ev)) != 0)
		replay_event_free(out);
	return rc;
}

void replay_event_free(struct replay_event *re)
{
	json_object_put(re->root);
	memset(re, 0, sizeof *re);
}

int replay_apply(struct store *st, const struct event *ev,
    enum replay_reason *why)
{
	struct conv_state cs;
	enum refusal r;
	int err;

	err = store_load(st, ev->conversation_id, ev->actor,
	    ev->participant_id, &cs);
	if (err != 0)
		return err;
	/* decide() lets every create through: the service makes a fresh id.
	 * Here the id comes from the topic and may be taken already. */
	if (ev->kind == CMD_CREATE && cs.exists) {
		*why = REPLAY_EXISTS;
		return 0;
	}
	r = decide(ev->kind, &cs);
	*why = (unsigned)r < REFUSE__MAX ? replay_refusals[r] :
	    REPLAY_NOT_FOUND;
	return *why == REPLAY_APPLIED ? store_replay(st, ev) : 0;
}

/* Counts one event that went through as why says. */
static void replay_count(struct replay_stats *s, enum replay_reason why)
{
	s->read++;
	s->reasons[why - REPLAY__MIN]++;
	if (why == REPLAY_APPLIED)
		s->applied++;
	else
		s->skipped++;
}

/* Decodes and applies one value in r's open transaction. */
static int replay_one(struct replay *r, const char *value, size_t len)
{
	struct replay_event re;
	enum replay_reason why;
	int err = 0;

	why = (enum replay_reason)replay_decode(value, len, &re);
	if (why == REPLAY_ENOMEM)
		return STORE_ENOMEM;
	if (why == REPLAY_APPLIED)
		err = replay_apply(r->st, &re.ev, &why);
	if (err == 0)
		replay_count(&r->stats, why);
	replay_event_free(&re);
	return err;
}

int replay_value(struct replay *r, const char *value, size_t len)
{
	int err = 0;

	if (r->pending == 0)
		err = store_begin(r->st);
	if (err == 0)
		err = replay_one(r, value, len);
	if (err != 0) {
		store_rollback(r->st);
		r->pending = 0;
		return err;
	}
	if (++r->pending >= (r->batch ? r->batch : 1000))
		err = replay_flush(r);
	return err;
}

int replay_flush(struct replay *r)
{
	int err = 0;

	if (r->pending > 0)
		err = store_commit(r->st);
	r->pending = 0;
	return err;
}
