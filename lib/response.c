/* response.c: building the per-request response. */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void response_header(struct response *r, const char *name,
    const char *fmt, ...)
{
	char value[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(value, sizeof value, fmt, ap);
	va_end(ap);
	size_t room = sizeof r->headers - r->headers_len;
	int n = snprintf(r->headers + r->headers_len, room, "%s: %s\r\n",
	    name, value);
	if (n > 0 && (size_t)n < room)
		r->headers_len += (size_t)n;
	else
		r->headers[r->headers_len] = '\0';
}

void response_set(struct response *r, int status, const char *content_type,
    char *body, size_t len)
{
	free(r->body);
	r->status = status;
	r->content_type = content_type;
	r->body = body;
	r->body_len = len;
}

void response_json(struct response *r, int status, const char *json)
{
	char *copy = strdup(json);
	response_set(r, status, copy ? "application/json" : NULL, copy,
	    copy ? strlen(copy) : 0);
}

static const struct {
	int status;
	const char *reason;
} response_reasons[] = {
	{ 200, "OK" }, { 201, "Created" }, { 204, "No Content" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 409, "Conflict" }, { 413, "Content Too Large" },
	{ 415, "Unsupported Media Type" }, { 422, "Unprocessable Content" },
	{ 500, "Internal Server Error" }, { 503, "Service Unavailable" },
};

const char *response_reason(int status)
{
	for (size_t i = 0; i < sizeof response_reasons / sizeof *response_reasons; i++)
		if (response_reasons[i].status == status)
			return response_reasons[i].reason;
	return "Unknown";
}

void response_free(struct response *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}
