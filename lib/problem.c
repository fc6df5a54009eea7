/* problem.c: statuses and problem+json bodies, one table row per kind. */
#include "problem.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const struct problem_row {
	int status;
	const char *slug;
	const char *title;
	const char *detail;
} problem_rows[PROB__MAX] = {
	[PROB_NOT_FOUND] = { 404, "not-found", "Not Found",
	    "No resource lives at this path." },
	[PROB_NO_CONVERSATION] = { 404, "conversation-not-found",
	    "Conversation not found",
	    "The conversation does not exist or was deleted." },
	[PROB_METHOD] = { 405, "method-not-allowed", "Method Not Allowed",
	    "This path does not accept this method; see the Allow header." },
	[PROB_UNAUTHORIZED] = { 401, "unauthorized", "Unauthorized",
	    "A valid bearer token is required." },
	[PROB_NOT_OWNER] = { 403, "not-owner", "Forbidden",
	    "Only the owner of the conversation may do this." },
	[PROB_NOT_MEMBER] = { 403, "not-member", "Forbidden",
	    "Only members of the conversation may do this." },
	[PROB_ALREADY_MEMBER] = { 409, "already-member", "Conflict",
	    "The participant is already a member of the conversation." },
	[PROB_NOT_PARTICIPANT] = { 409, "not-a-member", "Conflict",
	    "The participant is not a member of the conversation." },
	[PROB_OWNER_STAYS] = { 409, "owner-cannot-be-removed", "Conflict",
	    "The owner cannot be removed; delete the conversation instead." },
	[PROB_MALFORMED] = { 400, "malformed-body", "Bad Request",
	    "The request body cannot be parsed." },
	[PROB_VALIDATION] = { 400, "validation-failed", "Bad Request",
	    "One or more fields are invalid." },
	[PROB_BAD_IDEM_KEY] = { 400, "bad-idempotency-key", "Bad Request",
	    "Idempotency-Key must be 1 to 255 printable ASCII characters." },
	[PROB_TOO_LARGE] = { 413, "body-too-large", "Content Too Large",
	    "The request body exceeds the configured limit." },
	[PROB_UNSUPPORTED] = { 415, "unsupported-media-type",
	    "Unsupported Media Type", "Send application/json, "
	    "application/x-www-form-urlencoded or multipart/form-data." },
	[PROB_IDEM_MISMATCH] = { 422, "idempotency-key-reused",
	    "Unprocessable Content", "This Idempotency-Key was used with a "
	    "different request." },
	[PROB_RATE_LIMITED] = { 429, "rate-limited", "Too Many Requests",
	    "Too many commands for this subject; see Retry-After." },
	[PROB_UNAVAILABLE] = { 503, "store-unavailable", "Service Unavailable",
	    "The command could not be stored right now; retry later." },
	[PROB_INTERNAL] = { 500, "internal-error", "Internal Server Error",
	    "An unexpected error occurred." },
};

/* Builds the base object of a problem of the given kind. */
static json_object *problem_object(enum problem_kind kind, const char *detail)
{
	const struct problem_row *p = &problem_rows[kind];
	char type[96];
	json_object *o = json_object_new_object();
	snprintf(type, sizeof type, "urn:msgcmd:problem:%s", p->slug);
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "title", json_object_new_string(p->title));
	json_object_object_add(o, "status", json_object_new_int(p->status));
	json_object_object_add(o, "detail",
	    json_object_new_string(detail ? detail : p->detail));
	return o;
}

/* Serialises o into r with the status of kind, then frees o. */
static void problem_emit(struct response *r, enum problem_kind kind,
    json_object *o)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char *copy = s ? strndup(s, len) : NULL;
	response_set(r, problem_rows[kind].status,
	    copy ? "application/problem+json" : NULL, copy, copy ? len : 0);
	json_object_put(o);
}

void problem_set(struct response *r, enum problem_kind kind,
    const char *detail)
{
	problem_emit(r, kind, problem_object(kind, detail));
}

void problem_unavailable(struct response *r, const char *detail)
{
	response_header(r, "Retry-After", "1");
	problem_set(r, PROB_UNAVAILABLE, detail);
}

void problem_fields(struct response *r, const char *const errors[FIELD__MAX])
{
	json_object *o = problem_object(PROB_VALIDATION, NULL);
	json_object *errs = json_object_new_object();
	for (int f = 0; f < FIELD__MAX; f++) {
		if (!errors[f])
			continue;
		json_object *list = json_object_new_array();
		json_object_array_add(list, json_object_new_string(errors[f]));
		json_object_object_add(errs, field_name((enum field_id)f), list);
	}
	json_object_object_add(o, "errors", errs);
	problem_emit(r, PROB_VALIDATION, o);
}

enum problem_kind problem_from_refusal(enum refusal why)
{
	static const enum problem_kind map[REFUSE__MAX] = {
		[REFUSE_NONE] = PROB_INTERNAL,
		[REFUSE_NOT_FOUND] = PROB_NO_CONVERSATION,
		[REFUSE_NOT_OWNER] = PROB_NOT_OWNER,
		[REFUSE_NOT_MEMBER] = PROB_NOT_MEMBER,
		[REFUSE_ALREADY_MEMBER] = PROB_ALREADY_MEMBER,
		[REFUSE_NOT_PARTICIPANT] = PROB_NOT_PARTICIPANT,
		[REFUSE_OWNER_STAYS] = PROB_OWNER_STAYS,
	};
	return (unsigned)why < REFUSE__MAX ? map[why] : PROB_INTERNAL;
}
