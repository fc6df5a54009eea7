/* route.c: matches a request line against the table of SPEC section 2. */
#include "route.h"

#include <stdio.h>
#include <string.h>

#define ROUTE_SEGS_MAX 6

/* "{id}" and "{pid}" capture a segment; other segments are literal. */
static const char *const route_patterns[RP__MAX] = {
	[RP_NONE]          = "unmatched",
	[RP_HEALTHZ]       = "/healthz",
	[RP_READYZ]        = "/readyz",
	[RP_METRICS]       = "/metrics",
	[RP_TEST]          = "/conversations/test",
	[RP_CONVERSATIONS] = "/conversations",
	[RP_CONVERSATION]  = "/conversations/{id}",
	[RP_CONV_DELETE]   = "/conversations/{id}/delete",
	[RP_MEMBERS]       = "/conversations/{id}/members",
	[RP_MEMBER_REMOVE] = "/conversations/{id}/members/{pid}/remove",
	[RP_MEMBER]        = "/conversations/{id}/members/{pid}",
};

/* Rows with literal segments come before the captures they shadow. */
static const struct route_row {
	const char *method;
	enum route_pattern pattern;
	enum route_action action;
} route_rows[] = {
	{ "GET",    RP_HEALTHZ,       ACT_HEALTHZ },
	{ "GET",    RP_READYZ,        ACT_READYZ },
	{ "GET",    RP_METRICS,       ACT_METRICS },
	{ "GET",    RP_TEST,          ACT_TEST },
	{ "POST",   RP_CONVERSATIONS, ACT_CREATE },
	{ "POST",   RP_CONVERSATION,  ACT_SEND },
	{ "DELETE", RP_CONVERSATION,  ACT_DELETE },
	{ "DELETE", RP_CONV_DELETE,   ACT_DELETE },
	{ "POST",   RP_MEMBERS,       ACT_ADD },
	{ "POST",   RP_MEMBER_REMOVE, ACT_REMOVE },
	{ "DELETE", RP_MEMBER,        ACT_REMOVE },
};

#define ROUTE_NROWS (sizeof route_rows / sizeof route_rows[0])

static int route_hex(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Percent-decodes src[0..len) into dst (NUL-terminated).  Returns -1 on a
 * bad escape or a decoded NUL. */
static int route_decode(char *dst, const char *src, size_t len)
{
	size_t j = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)src[i];
		if (c == '%') {
			int hi = i + 2 < len ? route_hex(src[i + 1]) : -1;
			int lo = hi >= 0 ? route_hex(src[i + 2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		dst[j++] = (char)c;
	}
	dst[j] = '\0';
	return 0;
}

/* Splits the path of uri into decoded segments stored in buf.  Returns
 * the number of segments, or -1 for a path we refuse to route. */
static int route_split(const char *uri, char *buf, const char **segs)
{
	size_t len = strcspn(uri, "?#"), used = 0;
	int n = 0;
	if (len == 0 || uri[0] != '/' || len >= ROUTE_PATH_MAX)
		return -1;
	if (len > 1 && uri[len - 1] == '/')
		len--;			/* the optional trailing slash */
	for (size_t i = 1; i < len;) {
		size_t sl = strcspn(uri + i, "/");
		if (sl > len - i)
			sl = len - i;
		if (sl == 0 || n == ROUTE_SEGS_MAX ||
		    route_decode(buf + used, uri + i, sl) != 0)
			return -1;
		segs[n] = buf + used;
		if (!strcmp(segs[n], ".") || !strcmp(segs[n], ".."))
			return -1;
		used += strlen(segs[n]) + 1;
		n++;
		i += sl + 1;
	}
	return n;
}

/* Returns 1 when the pattern matches segs, capturing {id} and {pid}. */
static int route_fits(const char *pattern, const char **segs, int n,
    struct route_match *m)
{
	char pat[128];
	const char *id = NULL, *pid = NULL;
	int i = 0;
	snprintf(pat, sizeof pat, "%s", pattern);
	for (char *save, *p = strtok_r(pat, "/", &save); p;
	    p = strtok_r(NULL, "/", &save), i++) {
		if (i == n)
			return 0;
		if (!strcmp(p, "{id}"))
			id = segs[i];
		else if (!strcmp(p, "{pid}"))
			pid = segs[i];
		else if (strcmp(p, segs[i]) != 0)
			return 0;
	}
	if (i != n)
		return 0;
	m->id = id;
	m->participant = pid;
	return 1;
}

static void route_allow(struct route_match *m, const char *method)
{
	if (strstr(m->allow, method))
		return;
	size_t used = strlen(m->allow);
	snprintf(m->allow + used, sizeof m->allow - used, "%s%s",
	    used ? ", " : "", method);
}

int route_match(const char *method, const char *uri, struct route_match *m)
{
	const char *segs[ROUTE_SEGS_MAX];
	int n, matched = 0;

	memset(m, 0, sizeof *m);
	if (!method || !uri || (n = route_split(uri, m->buf, segs)) < 0)
		return ROUTE_ENOTFOUND;
	if (!strcmp(method, "HEAD"))
		method = "GET";
	for (size_t i = 0; i < ROUTE_NROWS; i++) {
		if (!route_fits(route_patterns[route_rows[i].pattern], segs, n,
		    m))
			continue;
		if (!matched++)
			m->pattern = route_rows[i].pattern;
		if (!strcmp(route_rows[i].method, method)) {
			m->action = route_rows[i].action;
			m->pattern = route_rows[i].pattern;
			m->allow[0] = '\0';
			return ROUTE_OK;
		}
		route_allow(m, route_rows[i].method);
	}
	if (!matched)
		return ROUTE_ENOTFOUND;
	route_allow(m, "OPTIONS");
	return !strcmp(method, "OPTIONS") ? ROUTE_PREFLIGHT : ROUTE_EMETHOD;
}

int route_needs_auth(enum route_action a)
{
	return a != ACT_HEALTHZ && a != ACT_READYZ && a != ACT_METRICS;
}

const char *route_pattern_name(enum route_pattern p)
{
	return p > RP_NONE && p < RP__MAX ? route_patterns[p] :
	    route_patterns[RP_NONE];
}
