/* handle_persist.c: the persist step of a command: the idempotency
 * check, the conversation's state, the decision and the event, in one
 * transaction, then the answer (first or replayed). */
#include "handle_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "problem.h"
#include "shard.h"

/* The store could not commit (busy, full, read-only): nothing was
 * written, and the client may retry.  The log line is what tells an
 * operator why a command was not stored. */
static void handle_store_error(struct response *resp, int rc)
{
	log_msg(LOG_LEVEL_WARN, "store: command not stored: %s",
	    store_strerror(rc));
	problem_unavailable(resp, store_strerror(rc));
}

/* Reads the UUID field key of a 201 body (the event) into out; leaves
 * out alone when there is none.  A replay has nothing but that body. */
static void handle_body_uuid(const char *body, const char *key,
    char out[EVENT_UUID_LEN + 1])
{
	json_object *o = json_tokener_parse(body), *v = NULL;
	const char *s = NULL;

	if (json_object_object_get_ex(o, key, &v) &&
	    event_is_uuid(s = json_object_get_string(v)))
		memcpy(out, s, EVENT_UUID_LEN + 1);
	json_object_put(o);
}

/* Sets the answer of a command, first or replayed; body is malloc'd and
 * NUL-terminated, and resp takes it.  A new conversation is named in
 * Location, read back from the body (the create event, whose "id" is the
 * conversation) because that is all a replay has; the first answer takes
 * the same path, so both carry the same header by construction. */
static void handle_answer(const struct command *c, struct response *resp,
    int status, char *body, size_t len)
{
	char id[EVENT_UUID_LEN + 1] = "";

	if (status == 201 && c->ev.kind == CMD_CREATE)
		handle_body_uuid(body, "id", id);
	if (id[0] != '\0')
		response_header(resp, "Location", "/conversations/%s", id);
	response_set(resp, status, status < 400 ? "application/json" :
	    "application/problem+json", body, len);
}

/* Answers a repeat of an Idempotency-Key with the stored answer.  The
 * fingerprint covers the event kind, so the repeat is of the same kind
 * as the request that stored it. */
static void handle_replay(const struct command *c, struct response *resp,
    int status, char *body, size_t len)
{
	response_header(resp, "Idempotent-Replayed", "true");
	if (status == 201)
		handle_body_uuid(body, "event_id", resp->event_id);
	handle_answer(c, resp, status, body, len);
}

/* A refusal under an Idempotency-Key is the key's answer too, as the
 * IETF draft and Stripe have it: a repeat replays it even if the state
 * has changed since.  Returns 2 (commit the key row), 1 (nothing to
 * commit) or a negative store_err. */
static int handle_remember(struct command *c, const struct response *resp)
{
	if (!c->idem.key)
		return 1;
	int rc = store_idem_save(c->app->store, &c->idem, resp->status,
	    resp->body, resp->body_len);
	return rc < 0 ? rc : 2;
}

/* Event id and time; a new conversation's id also names this process's
 * shard, so that the front end routes its later commands here. */
static int handle_stamp(struct command *c)
{
	const struct config_shard *sh = &c->app->cfg->shard;

	if (event_stamp(&c->ev) != 0)
		return -1;
	if (c->ev.kind == CMD_CREATE)
		return shard_stamp(c->ev.conversation_id, sh->index, sh->count);
	return 0;
}

/* Inside the transaction: replay check, state, decision, event rows.
 * Only an accepted command stores its answer under the key.  A refusal
 * rolls back and leaves nothing, so a repeat is decided afresh against
 * the state of its time: it can still make at most one event. */
static int handle_decide(struct command *c, struct response *resp,
    char **payload, size_t *len)
{
	struct store *st = c->app->store;
	struct conv_state cs = { 0 };
	int status, rc = 0;
	char *stored;

	if (c->idem.key) {
		rc = store_idem_find(st, &c->idem,
		    c->app->cfg->idempotency_ttl_s, &status, &stored, len);
		if (rc == STORE_IDEM_REPLAY)
			handle_replay(c, resp, status, stored, *len);
		else if (rc == STORE_IDEM_MISMATCH)
			problem_set(resp, PROB_IDEM_MISMATCH, NULL);
		if (rc != STORE_IDEM_NEW)
			return rc < 0 ? rc : 1;
	}
	if (c->ev.kind != CMD_CREATE)
		rc = store_load(st, c->ev.conversation_id, c->who.sub,
		    c->ev.participant_id, &cs);
	enum refusal why = rc ? REFUSE_NONE : decide(c->ev.kind, &cs);
	if (rc)
		return rc;
	if (why) {
		problem_set(resp, problem_from_refusal(why), NULL);
		return handle_remember(c, resp);
	}
	if (handle_stamp(c) != 0 || !(*payload = event_encode(&c->ev, len)))
		return STORE_ENOMEM;
	return store_apply(st, &c->ev, *payload, *len,
	    c->idem.key ? &c->idem : NULL);
}

/* One transaction: 201 only after it committed.  A refusal or a replay
 * (rc > 0) has filled resp already. */
void handle_persist(struct command *c, struct response *resp)
{
	char *payload = NULL;
	size_t len = 0;
	int rc = store_begin(c->app->store);

	if (rc == 0)
		rc = handle_decide(c, resp, &payload, &len);
	if (rc == 0 || rc == 2) {
		int committed = store_commit(c->app->store);
		rc = committed ? committed : rc;
	} else {
		store_rollback(c->app->store);
	}
	if (rc < 0) {
		free(payload);
		handle_store_error(resp, rc);
	} else if (rc == 0) {
		snprintf(resp->event_id, sizeof resp->event_id, "%s",
		    c->ev.event_id);
		handle_answer(c, resp, 201, payload, len);
	}
}
