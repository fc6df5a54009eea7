/* cors.c: CORS response headers and preflight answers. */
#include "cors.h"

#include <string.h>

#include "http.h"

/* Returns 1 when origin appears as a whole item of the comma list. */
static int cors_listed(const char *allowed, const char *origin)
{
	size_t olen = strlen(origin);
	for (const char *p = allowed; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ", ");
		if (n == olen && strncmp(p, origin, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}

void cors_headers(struct response *r, const char *allowed,
    const char *origin)
{
	int any = strcmp(allowed, "*") == 0;

	/* With a list, the answer depends on Origin, even when there was
	 * none: a cache must not serve it to a request that has one. */
	if (!any)
		response_header(r, "Vary", "Origin");
	if (!origin || (!any && !cors_listed(allowed, origin)))
		return;
	response_header(r, "Access-Control-Allow-Origin", "%s",
	    any ? "*" : origin);
	/* WWW-Authenticate: a script reads why its token was refused. */
	response_header(r, "Access-Control-Expose-Headers",
	    "Location, Idempotent-Replayed, Retry-After, X-Request-Id,"
	    " WWW-Authenticate");
}

void cors_preflight(struct response *r, const char *allowed,
    const char *origin, const char *methods)
{
	response_set(r, 204, NULL, NULL, 0);
	cors_headers(r, allowed, origin);
	response_header(r, "Access-Control-Allow-Methods", "%s", methods);
	/* X-Request-Id too: a browser client may send its own (handle.c
	 * keeps a sane one and logs it). */
	response_header(r, "Access-Control-Allow-Headers",
	    "Authorization, Content-Type, Idempotency-Key, X-Request-Id");
	response_header(r, "Access-Control-Max-Age", "600");
	response_header(r, "Allow", "%s", methods);
}
