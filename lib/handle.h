/* handle.h: one request in, one response out:
 * route -> authenticate -> parse -> decide -> persist -> respond. */
#ifndef MSGCMD_HANDLE_H
#define MSGCMD_HANDLE_H

#include <time.h>

struct auth;
struct config;
struct request;
struct response;
struct store;

/* Process-wide, read-only after start-up. */
struct app {
	const struct config *cfg;
	struct auth *auth;
	struct store *store;
};

/* Fills resp (zeroed by the caller) for req.  Never fails: every
 * outcome, including internal errors, is a response.  Besides what is
 * sent (with X-Request-Id when req->request_id is set), resp reports the
 * route pattern, the token's subject and the event id for the request's
 * log line and metrics.  Per-request memory is in resp, released by
 * response_free(). */
void handle(const struct app *app, const struct request *req,
    struct response *resp);

#endif
