/* http.h: the request a responder hands to handle() and the response it
 * gets back; both independent of FastCGI or CGI. */
#ifndef MSGCMD_HTTP_H
#define MSGCMD_HTTP_H

#include <stddef.h>

#include "route.h"

/* Borrowed strings (NULL when absent), valid for one request. */
struct request {
	const char *method;
	const char *uri;		/* REQUEST_URI: raw path and query */
	const char *content_type;
	const char *authorization;
	const char *idempotency_key;
	const char *origin;
	const char *request_id;		/* sane X-Request-Id, or generated */
	const char *body;		/* not NUL-terminated */
	size_t body_len;
	int body_too_large;		/* the body exceeded MAX_BODY_BYTES */
	int body_bad_length;		/* CONTENT_LENGTH not a number, or
					 * more than arrived */
};

#define RESPONSE_HEADERS_MAX 2048

/* Per-request; response_free() releases the body at the end of the loop
 * iteration.  route, subject and event_id are not sent: they are what
 * handle() reports for the request's log line and metrics. */
struct response {
	int status;
	const char *content_type;	/* static string, NULL with no body */
	char *body;			/* malloc'd, owned */
	size_t body_len;
	char headers[RESPONSE_HEADERS_MAX];	/* "Name: value\r\n" lines */
	size_t headers_len;
	enum route_pattern route;	/* RP_NONE when no route matched */
	char subject[256];		/* the token's sub once verified, or "" */
	char event_id[37];		/* the event created or replayed, or "" */
};

/* Appends one header line; a line that does not fit is dropped (the
 * buffer is sized for our own fixed set of headers). */
void response_header(struct response *r, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets status and takes ownership of body (malloc'd, len bytes). */
void response_set(struct response *r, int status, const char *content_type,
    char *body, size_t len);

/* Sets status and a copy of the NUL-terminated JSON text. */
void response_json(struct response *r, int status, const char *json);

/* Returns the reason phrase of a status ("Created"...). */
const char *response_reason(int status);

void response_free(struct response *r);

#endif
