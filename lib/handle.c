/* handle.c: the flow of one request, top to bottom:
 * route -> authenticate -> parse -> decide -> persist -> respond. */
#include "handle.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "body.h"
#include "config.h"
#include "cors.h"
#include "decide.h"
#include "event.h"
#include "http.h"
#include "idem.h"
#include "log.h"
#include "probe.h"
#include "problem.h"
#include "ratelimit.h"
#include "route.h"
#include "shard.h"
#include "store.h"

/* What each command needs from the request. */
static const struct command_row {
	enum command_kind kind;
	unsigned fields;	/* body fields, as 1u << field_id */
} command_rows[ACT__MAX] = {
	[ACT_CREATE] = { CMD_CREATE, 1u << FIELD_NAME },
	[ACT_SEND] = { CMD_SEND, 1u << FIELD_MESSAGE_CONTENT },
	[ACT_ADD] = { CMD_ADD, 1u << FIELD_PARTICIPANT_ID },
	[ACT_REMOVE] = { CMD_REMOVE, 0 },
	[ACT_DELETE] = { CMD_DELETE, 0 },
};

/* Everything one command carries through the flow; lives on the stack. */
struct command {
	const struct app *app;
	const struct request *req;
	const struct route_match *m;
	const struct command_row *row;
	struct principal who;
	struct body body;
	struct event ev;
	struct store_idem idem;
	char fingerprint[IDEM_FINGERPRINT_LEN + 1];
};

static int handle_auth(struct command *c, struct response *resp)
{
	int rc = auth_verify(c->app->auth, c->req->authorization, time(NULL),
	    &c->who);
	if (rc == 0) {
		snprintf(resp->subject, sizeof resp->subject, "%s", c->who.sub);
		return 0;
	}
	response_header(resp, "WWW-Authenticate",
	    "Bearer error=\"invalid_token\", error_description=\"%s\"",
	    auth_strerror(rc));
	problem_set(resp, PROB_UNAUTHORIZED, auth_strerror(rc));
	return -1;
}

/* Milliseconds on the wall clock, which every process of the host shares
 * and which, unlike the monotonic one, keeps counting across a reboot
 * that leaves the rate-limit file in place. */
static int64_t handle_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The per-subject rate limit (RATE_LIMIT_PER_MINUTE), before anything is
 * read or stored.  A file that cannot be mapped, or a full table, admits
 * the request: the limit protects the service and must not stop it.  A
 * full table is logged when its count reaches a power of two. */
static int handle_rate(const struct command *c, struct response *resp)
{
	const struct config *cfg = c->app->cfg;
	const struct ratelimit_conf rl = { cfg->rate_per_minute, cfg->rate_burst };
	int64_t retry_ms = 0;
	uint64_t full;
	char detail[160];

	if (rl.per_minute == 0)
		return 0;
	int rc = ratelimit_take(cfg->db_path, &rl, c->who.sub, handle_now_ms(),
	    &retry_ms);
	full = rc == RATELIMIT_EFULL ? ratelimit_full_count() : 0;
	if (rc == RATELIMIT_EOPEN || (full != 0 && (full & (full - 1)) == 0))
		log_msg(LOG_LEVEL_WARN, "ratelimit: %s; admitted",
		    ratelimit_strerror(rc));
	if (rc != RATELIMIT_LIMITED)
		return 0;
	long secs = (long)((retry_ms + 999) / 1000);
	response_header(resp, "Retry-After", "%ld", secs);
	snprintf(detail, sizeof detail, "The limit is %d commands a minute"
	    " per subject, %d at once; retry in %ld s.", rl.per_minute,
	    rl.burst, secs);
	problem_set(resp, PROB_RATE_LIMITED, detail);
	return -1;
}

/* Checks the Idempotency-Key header (syntax, and presence when the
 * configuration makes it mandatory). */
static int handle_idem_key(struct command *c, struct response *resp)
{
	const char *key = c->req->idempotency_key;
	if (!key && !c->app->cfg->idempotency_required)
		return 0;
	if (!key || !idem_key_valid(key)) {
		problem_set(resp, PROB_BAD_IDEM_KEY, key ? NULL :
		    "This service requires an Idempotency-Key header.");
		return -1;
	}
	c->idem.subject = c->who.sub;
	c->idem.key = key;
	c->idem.fingerprint = c->fingerprint;
	return 0;
}

/* Reads and validates the body fields the command needs. */
static int handle_body(struct command *c, struct response *resp)
{
	const struct config *cfg = c->app->cfg;
	const size_t max[FIELD__MAX] = { [FIELD_NAME] = cfg->max_name,
		[FIELD_MESSAGE_CONTENT] = cfg->max_message,
		[FIELD_PARTICIPANT_ID] = cfg->max_participant };
	const char *errors[FIELD__MAX];
	char detail[160];

	if (!c->row->fields)
		return 0;
	if (c->req->body_too_large || c->req->body_len > cfg->max_body) {
		problem_set(resp, PROB_TOO_LARGE, NULL);
		return -1;
	}
	if (c->req->body_bad_length) {
		problem_set(resp, PROB_MALFORMED,
		    "The body does not match its Content-Length.");
		return -1;
	}
	int rc = body_parse(c->req->content_type, c->req->body,
	    c->req->body_len, &c->body, detail, sizeof detail);
	if (rc != 0) {
		problem_set(resp, rc == BODY_EUNSUPPORTED ? PROB_UNSUPPORTED :
		    rc == BODY_ENOMEM ? PROB_INTERNAL : PROB_MALFORMED, detail);
		return -1;
	}
	if (field_check(&c->body, c->row->fields, max, errors) != 0) {
		problem_fields(resp, errors);
		return -1;
	}
	return 0;
}

/* Checks the path's conversation id, which must be a UUID: nothing else
 * can exist there.  A path participant needs no check: one that could
 * never have been added (too long, not UTF-8) is not a member, and the
 * rules answer that as for any other (404, 403 or 409, in that order);
 * only a member's removal makes an event. */
static int handle_path(struct command *c, struct response *resp)
{
	const char *id = c->m->id;

	if (id && !event_is_uuid(id)) {
		problem_set(resp, PROB_NO_CONVERSATION, NULL);
		return -1;
	}
	return 0;
}

/* Fills the event and the request fingerprint from path and body. */
static void handle_event(struct command *c)
{
	struct event *ev = &c->ev;

	ev->kind = c->row->kind;
	ev->actor = c->who.sub;
	if (c->m->id) {
		for (int i = 0; i < EVENT_UUID_LEN; i++)
			ev->conversation_id[i] = (char)tolower(
			    (unsigned char)c->m->id[i]);
		ev->conversation_id[EVENT_UUID_LEN] = '\0';
	}
	ev->name = c->body.value[FIELD_NAME];
	ev->message_content = c->body.value[FIELD_MESSAGE_CONTENT];
	ev->participant_id = c->m->participant ? c->m->participant :
	    c->body.value[FIELD_PARTICIPANT_ID];
	idem_fingerprint(ev, &c->body, c->row->fields, c->fingerprint);
}

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
static void handle_persist(struct command *c, struct response *resp)
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

static void handle_command(struct command *c, struct response *resp)
{
	c->row = &command_rows[c->m->action];
	if (handle_path(c, resp) == 0 && handle_body(c, resp) == 0 &&
	    handle_idem_key(c, resp) == 0) {
		handle_event(c);
		handle_persist(c, resp);
	}
	body_free(&c->body);
}

/* The answers anyone may have, without a token. */
static void handle_open(const struct app *app, enum route_action a,
    struct response *resp)
{
	if (a == ACT_HEALTHZ)
		probe_health(resp);
	else if (a == ACT_READYZ)
		probe_ready(app->store, resp);
	else
		probe_metrics(app->store, resp);
}

void handle(const struct app *app, const struct request *req,
    struct response *resp)
{
	struct route_match m;
	struct command c = { .app = app, .req = req, .m = &m };
	int rc = route_match(req->method, req->uri, &m);

	resp->route = m.pattern;
	if (req->request_id != NULL)
		response_header(resp, "X-Request-Id", "%s", req->request_id);
	if (rc == ROUTE_PREFLIGHT) {
		cors_preflight(resp, app->cfg->cors_origins, req->origin, m.allow);
		return;
	}
	cors_headers(resp, app->cfg->cors_origins, req->origin);
	if (rc == ROUTE_EMETHOD)
		response_header(resp, "Allow", "%s", m.allow);
	if (rc != ROUTE_OK)
		problem_set(resp, rc == ROUTE_EMETHOD ? PROB_METHOD :
		    PROB_NOT_FOUND, NULL);
	else if (!route_needs_auth(m.action))
		handle_open(app, m.action, resp);
	else if (handle_auth(&c, resp) != 0)
		return;
	else if (m.action == ACT_TEST)
		probe_token(&c.who, resp);
	else if (handle_rate(&c, resp) == 0)
		handle_command(&c, resp);
}
