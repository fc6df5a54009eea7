/* route.h: the routing table, one row per (method, path pattern). */
#ifndef MSGCMD_ROUTE_H
#define MSGCMD_ROUTE_H

#include <stddef.h>

enum route_action {
	ACT_CREATE,	/* POST /conversations/ */
	ACT_SEND,	/* POST /conversations/{id} */
	ACT_ADD,	/* POST /conversations/{id}/members */
	ACT_REMOVE,	/* POST .../members/{pid}/remove, DELETE .../members/{pid} */
	ACT_DELETE,	/* DELETE /conversations/{id}/delete, DELETE /conversations/{id} */
	ACT_TEST,	/* GET /conversations/test */
	ACT_HEALTHZ,	/* GET /healthz */
	ACT_READYZ,	/* GET /readyz */
	ACT_METRICS,	/* GET /metrics */
	ACT__MAX
};

/* The path patterns of the table.  Logs and metrics name a request by its
 * pattern, never by its raw path: ids stay out of them and the number of
 * metric series stays fixed. */
enum route_pattern {
	RP_NONE,		/* no pattern matches the path: "unmatched" */
	RP_HEALTHZ,		/* /healthz */
	RP_READYZ,		/* /readyz */
	RP_METRICS,		/* /metrics */
	RP_TEST,		/* /conversations/test */
	RP_CONVERSATIONS,	/* /conversations */
	RP_CONVERSATION,	/* /conversations/{id} */
	RP_CONV_DELETE,		/* /conversations/{id}/delete */
	RP_MEMBERS,		/* /conversations/{id}/members */
	RP_MEMBER_REMOVE,	/* /conversations/{id}/members/{pid}/remove */
	RP_MEMBER,		/* /conversations/{id}/members/{pid} */
	RP__MAX
};

enum route_err {
	ROUTE_OK = 0,
	ROUTE_ENOTFOUND = -1,	/* no pattern matches the path: 404 */
	ROUTE_EMETHOD = -2,	/* the path matches, the method does not: 405 */
	ROUTE_PREFLIGHT = -3,	/* OPTIONS on a known path: CORS preflight */
};

#define ROUTE_PATH_MAX 1024

/* The outcome of matching; id and participant point into buf. */
struct route_match {
	enum route_action action;
	enum route_pattern pattern;	/* RP_NONE only for ROUTE_ENOTFOUND */
	const char *id;			/* {id}, percent-decoded, or NULL */
	const char *participant;	/* {participant_id}, or NULL */
	char allow[64];			/* for 405 and preflight: "POST, OPTIONS" */
	char buf[ROUTE_PATH_MAX];
};

/* Matches method and uri (the raw REQUEST_URI; the query is ignored, a
 * trailing slash is optional, HEAD counts as GET).  Returns ROUTE_OK with
 * m->action set, or a route_err with m->allow set for ROUTE_EMETHOD and
 * ROUTE_PREFLIGHT; m->pattern is set in all three cases.  Empty segments ("//"), "." or "..", bad or NUL
 * percent-escapes and paths over ROUTE_PATH_MAX give ROUTE_ENOTFOUND. */
int route_match(const char *method, const char *uri, struct route_match *m);

/* Returns 1 when the action needs a bearer token. */
int route_needs_auth(enum route_action a);

/* Returns the pattern as written in the table ("/conversations/{id}"),
 * "unmatched" for RP_NONE; a static string, never NULL. */
const char *route_pattern_name(enum route_pattern p);

#endif
