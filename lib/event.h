/* event.h: the event of an accepted command and its JSON encoding, which
 * is both the 201 body and the Kafka message value (the same bytes). */
#ifndef MSGCMD_EVENT_H
#define MSGCMD_EVENT_H

#include <stddef.h>
#include "decide.h"

#define EVENT_UUID_LEN 36
#define EVENT_TIME_LEN 27	/* 2026-11-24T10:00:00.123456Z */

/* The strings are borrowed; the event owns none of them. */
struct event {
	enum command_kind kind;
	char event_id[EVENT_UUID_LEN + 1];
	char conversation_id[EVENT_UUID_LEN + 1];
	char created_at[EVENT_TIME_LEN + 1];
	const char *actor;		/* token sub: creator_id / user_id */
	const char *name;		/* CMD_CREATE */
	const char *participant_id;	/* CMD_ADD, CMD_REMOVE */
	const char *message_content;	/* CMD_SEND */
};

/* Fills ev->event_id with a fresh random UUID, ev->created_at with the
 * current UTC time, and for CMD_CREATE ev->conversation_id with a fresh
 * UUID.  Returns 0, or -1 when no randomness is available. */
int event_stamp(struct event *ev);

/* Encodes ev as the JSON object of SPEC section 3.  Returns a malloc'd
 * NUL-terminated string the caller frees and sets *len, or NULL on
 * allocation failure. */
char *event_encode(const struct event *ev, size_t *len);

/* Writes a random (version 4) UUID of 36 chars plus NUL into out.
 * Returns 0, or -1 when the system gives no randomness. */
int event_uuid(char out[EVENT_UUID_LEN + 1]);

/* Returns 1 when s is a UUID in canonical lower- or upper-case form. */
int event_is_uuid(const char *s);

#endif
