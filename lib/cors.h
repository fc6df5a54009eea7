/* cors.h: Cross-Origin Resource Sharing headers (allowed origins come from
 * CORS_ALLOWED_ORIGINS: "*" or a comma-separated list). */
#ifndef MSGCMD_CORS_H
#define MSGCMD_CORS_H

struct response;

/* Adds Access-Control-Allow-Origin (and Vary: Origin when the answer
 * depends on it) when origin is allowed.  NULL origin adds nothing. */
void cors_headers(struct response *r, const char *allowed,
    const char *origin);

/* Fills r as the 204 answer to a preflight on a path allowing methods. */
void cors_preflight(struct response *r, const char *allowed,
    const char *origin, const char *methods);

#endif
