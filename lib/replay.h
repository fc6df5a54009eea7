/* replay.h: the write model rebuilt from events.  A Kafka message value is
 * decoded back into a struct event and applied to a store under the same
 * rules (decide.c) that accepted it when it was a command. */
#ifndef MSGCMD_REPLAY_H
#define MSGCMD_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"

struct json_object;
struct store;

/* Why an event was or was not applied.  The decode errors are negative
 * (replay_decode's results), the refusals positive; 0 is "applied". */
enum replay_reason {
	REPLAY_EJSON = -6,	/* not one JSON object */
	REPLAY_EEVENT = -5,	/* "event" missing or not one of the five */
	REPLAY_EFIELD = -4,	/* a required field missing, empty, not a string */
	REPLAY_EID = -3,	/* an id not a UUID, or id != event_id */
	REPLAY_ETIME = -2,	/* created_at not 2026-11-24T10:00:00.123456Z */
	REPLAY_ENOMEM = -1,
	REPLAY_APPLIED = 0,
	REPLAY_EXISTS,		/* create: the conversation exists already */
	REPLAY_NOT_FOUND,	/* the refusals of decide(), in its words */
	REPLAY_NOT_OWNER,
	REPLAY_NOT_MEMBER,
	REPLAY_ALREADY_MEMBER,
	REPLAY_NOT_PARTICIPANT,
	REPLAY_OWNER_STAYS,
	REPLAY__MAX
};
#define REPLAY__MIN REPLAY_EJSON

/* A decoded event.  ev's string pointers point into root, which owns
 * them; release both with replay_event_free(). */
struct replay_event {
	struct event ev;
	struct json_object *root;
};

/* Counts of one replay run.  reasons[r - REPLAY__MIN] counts reason r. */
struct replay_stats {
	uint64_t read, applied, skipped;
	uint64_t reasons[REPLAY__MAX - REPLAY__MIN];
};

/* A replay run: events applied in transactions of batch events each.
 * Fill st and batch (0 means 1000); zero the rest. */
struct replay {
	struct store *st;
	unsigned batch;
	unsigned pending;	/* events in the open transaction */
	struct replay_stats stats;
};

/* Decodes value (len bytes, no NUL needed) as event_encode() wrote it:
 * one of the five events with each of its fields a non-empty string
 * without NUL, ids UUIDs (stored lower-case, as the service writes them),
 * created_at in the service's format.  Unknown extra keys are ignored.
 * Returns 0 and fills out (free with replay_event_free), or a negative
 * replay_reason with nothing to free. */
int replay_decode(const char *value, size_t len, struct replay_event *out);

/* Releases what replay_decode() allocated; a zeroed out is fine. */
void replay_event_free(struct replay_event *re);

/* Applies ev to st inside the caller's transaction if the rules accept
 * it now, as store_apply would have.  Sets *why to REPLAY_APPLIED or the
 * refusal; a refused event writes nothing.  Returns 0, or a negative
 * store_err (then the transaction must be rolled back). */
int replay_apply(struct store *st, const struct event *ev,
    enum replay_reason *why);

/* Decodes, applies and counts one message value, opening and committing
 * r's transactions.  Malformed and refused events are counted and
 * skipped.  Returns 0, or a negative store_err (the open batch is rolled
 * back). */
int replay_value(struct replay *r, const char *value, size_t len);

/* Commits the open batch, if any.  Returns 0 or a negative store_err. */
int replay_flush(struct replay *r);

/* Returns a short static name of reason ("already-member", ...). */
const char *replay_reason_name(enum replay_reason reason);

#endif
