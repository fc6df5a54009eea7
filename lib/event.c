/* event.c: event ids, timestamps and the JSON bytes of an event. */
#include "event.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <json-c/json.h>

/* The fields an event can carry.  F_END is 0 so that the unused tail of
 * each layout row below ends it. */
enum event_field {
	F_END = 0,
	F_ID,
	F_NAME,
	F_CREATOR_ID,
	F_USER_ID,
	F_PARTICIPANT_ID,
	F_CONVERSATION_ID,
	F_MESSAGE_CONTENT,
	F_EVENT,
	F_CREATED_AT,
	F_EVENT_ID,
	F__MAX
};

static const char *const event_field_names[F__MAX] = {
	[F_ID] = "id",
	[F_NAME] = "name",
	[F_CREATOR_ID] = "creator_id",
	[F_USER_ID] = "user_id",
	[F_PARTICIPANT_ID] = "participant_id",
	[F_CONVERSATION_ID] = "conversation_id",
	[F_MESSAGE_CONTENT] = "message_content",
	[F_EVENT] = "event",
	[F_CREATED_AT] = "created_at",
	[F_EVENT_ID] = "event_id",
};

/* The key order of each event, as the original service wrote them (SPEC
 * section 3), with event_id appended. */
static const enum event_field event_layout[CMD__MAX][8] = {
	[CMD_CREATE] = { F_ID, F_NAME, F_CREATOR_ID, F_EVENT, F_CREATED_AT,
	    F_EVENT_ID },
	[CMD_SEND] = { F_ID, F_USER_ID, F_CONVERSATION_ID, F_MESSAGE_CONTENT,
	    F_EVENT, F_CREATED_AT, F_EVENT_ID },
	[CMD_ADD] = { F_ID, F_USER_ID, F_PARTICIPANT_ID, F_CONVERSATION_ID,
	    F_EVENT, F_CREATED_AT, F_EVENT_ID },
	[CMD_REMOVE] = { F_ID, F_USER_ID, F_PARTICIPANT_ID, F_CONVERSATION_ID,
	    F_EVENT, F_CREATED_AT, F_EVENT_ID },
	[CMD_DELETE] = { F_ID, F_USER_ID, F_CONVERSATION_ID, F_EVENT,
	    F_CREATED_AT, F_EVENT_ID },
};

/* Returns the value of field f of ev; NULL is encoded as JSON null. */
static const char *event_field_value(const struct event *ev,
    enum event_field f)
{
	switch (f) {
	case F_ID:	/* a new conversation is named by its own id */
		return ev->kind == CMD_CREATE ? ev->conversation_id :
		    ev->event_id;
	case F_NAME:			return ev->name;
	case F_CREATOR_ID:
	case F_USER_ID:			return ev->actor;
	case F_PARTICIPANT_ID:		return ev->participant_id;
	case F_CONVERSATION_ID:		return ev->conversation_id;
	case F_MESSAGE_CONTENT:		return ev->message_content;
	case F_EVENT:			return decide_event_name(ev->kind);
	case F_CREATED_AT:		return ev->created_at;
	case F_EVENT_ID:		return ev->event_id;
	default:			return NULL;
	}
}

int event_uuid(char out[EVENT_UUID_LEN + 1])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof b) {
		ssize_t n = getrandom(b + got, sizeof b - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	/* 8-4-4-4-12 hex digits; a loop, not 16 printf conversions. */
	for (size_t i = 0, o = 0; i < sizeof b; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = "0123456789abcdef"[b[i] >> 4];
		out[o++] = "0123456789abcdef"[b[i] & 15];
	}
	out[EVENT_UUID_LEN] = '\0';
	return 0;
}

int event_is_uuid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != EVENT_UUID_LEN)
		return 0;
	for (i = 0; i < EVENT_UUID_LEN; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* Writes the current UTC time with microseconds, as Python's isoformat()
 * plus "Z", which the query service parses. */
static int event_now(char out[EVENT_TIME_LEN + 1])
{
	struct timespec ts;
	struct tm tm;
	unsigned usec;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
		return -1;
	usec = (unsigned)(ts.tv_nsec / 1000) % 1000000u;
	snprintf(out + 19, EVENT_TIME_LEN + 1 - 19, ".%06uZ", usec);
	return 0;
}

int event_stamp(struct event *ev)
{
	if (event_uuid(ev->event_id) != 0 || event_now(ev->created_at) != 0)
		return -1;
	if (ev->kind == CMD_CREATE && event_uuid(ev->conversation_id) != 0)
		return -1;
	return 0;
}

/* Adds key f to obj.  Returns 0, or -1 when out of memory. */
static int event_add(json_object *obj, const struct event *ev,
    enum event_field f)
{
	const char *v = event_field_value(ev, f);
	json_object *jv = NULL;

	if (v != NULL && (jv = json_object_new_string(v)) == NULL)
		return -1;
	/* The keys are static and each is added once: no copy, no lookup. */
	if (json_object_object_add_ex(obj, event_field_names[f], jv,
	    JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY)) {
		json_object_put(jv);
		return -1;
	}
	return 0;
}

char *event_encode(const struct event *ev, size_t *len)
{
	json_object *obj;
	const char *js;
	char *out = NULL;
	size_t i, n = 0;

	if ((unsigned)ev->kind >= CMD__MAX ||
	    (obj = json_object_new_object()) == NULL)
		return NULL;
	for (i = 0; i < 8 && event_layout[ev->kind][i] != F_END; i++)
		if (event_add(obj, ev, event_layout[ev->kind][i]) != 0)
			goto done;
	/* json-c writes "/" as "\/" unless told not to; the original did not,
	 * and ids or content with slashes should read as they were sent. */
	js = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (js == NULL || (out = malloc(n + 1)) == NULL)
		goto done;
	memcpy(out, js, n + 1);
	*len = n;
done:
	json_object_put(obj);
	return out;
}
