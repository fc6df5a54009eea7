/* problem.h: every refusal and error as an HTTP status with an RFC 9457
 * application/problem+json body.  The one place where domain words meet
 * HTTP codes. */
#ifndef MSGCMD_PROBLEM_H
#define MSGCMD_PROBLEM_H

#include "decide.h"
#include "field.h"

struct response;

enum problem_kind {
	PROB_NOT_FOUND,		/* 404 unknown route */
	PROB_NO_CONVERSATION,	/* 404 unknown, deleted or malformed id */
	PROB_METHOD,		/* 405 */
	PROB_UNAUTHORIZED,	/* 401 */
	PROB_NOT_OWNER,		/* 403 */
	PROB_NOT_MEMBER,	/* 403 */
	PROB_ALREADY_MEMBER,	/* 409 */
	PROB_NOT_PARTICIPANT,	/* 409 */
	PROB_OWNER_STAYS,	/* 409 */
	PROB_MALFORMED,		/* 400 body not parseable */
	PROB_VALIDATION,	/* 400 fields invalid (with errors object) */
	PROB_BAD_IDEM_KEY,	/* 400 Idempotency-Key malformed or missing */
	PROB_TOO_LARGE,		/* 413 */
	PROB_UNSUPPORTED,	/* 415 */
	PROB_IDEM_MISMATCH,	/* 422 */
	PROB_RATE_LIMITED,	/* 429, with Retry-After */
	PROB_UNAVAILABLE,	/* 503, with Retry-After */
	PROB_INTERNAL,		/* 500 */
	PROB__MAX
};

/* Fills r with the status of kind and a problem+json body whose detail
 * is the given sentence (NULL: the kind's default). */
void problem_set(struct response *r, enum problem_kind kind,
    const char *detail);

/* The 503 of a store that cannot commit now, with "Retry-After: 1": the
 * client may send the same command again.  detail as for problem_set. */
void problem_unavailable(struct response *r, const char *detail);

/* 400 with an "errors" object mapping each failing field to a list of
 * one message, as the original service answered. */
void problem_fields(struct response *r, const char *const errors[FIELD__MAX]);

/* Maps a domain refusal to its problem. */
enum problem_kind problem_from_refusal(enum refusal why);

#endif
