/* handle.c: the flow of one request, top to bottom:
 * route -> authenticate -> parse -> decide -> persist -> respond; the
 * decide and persist steps, one transaction, are handle_persist.c. */
#include "handle.h"

#include <ctype.h>
#include <stdio.h>

#include "auth.h"
#include "body.h"
#include "config.h"
#include "cors.h"
#include "decide.h"
#include "event.h"
#include "handle_int.h"
#include "http.h"
#include "idem.h"
#include "log.h"
#include "probe.h"
#include "problem.h"
#include "ratelimit.h"
#include "route.h"

/* What each command needs from the request. */
static const struct command_row command_rows[ACT__MAX] = {
	[ACT_CREATE] = { CMD_CREATE, 1u << FIELD_NAME },
	[ACT_SEND] = { CMD_SEND, 1u << FIELD_MESSAGE_CONTENT },
	[ACT_ADD] = { CMD_ADD, 1u << FIELD_PARTICIPANT_ID },
	[ACT_REMOVE] = { CMD_REMOVE, 0 },
	[ACT_DELETE] = { CMD_DELETE, 0 },
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
