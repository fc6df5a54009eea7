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
 * outcome, including internal errors, is a response.  Per-request memory
 * is in resp, released by response_free(). */
void handle(const struct app *app, const struct request *req,
    struct response *resp);

#endif
