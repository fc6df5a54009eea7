/* fuzz_route.c: route_match() over arbitrary request lines.  The first
 * input byte picks the method (or says the method is the input up to its
 * first space); the rest is REQUEST_URI. */
#include "fuzz.h"

#include "route.h"

/* NULL: the method is read from the input. */
static const char *const methods[] = {
	"GET", "HEAD", "POST", "DELETE", "OPTIONS", "PUT", "PATCH", NULL,
};

#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

/* Returns 1 when p is NULL or a NUL-terminated string inside m->buf. */
static int in_buf(const struct route_match *m, const char *p)
{
	if (p == NULL)
		return 1;
	if (p < m->buf || p >= m->buf + sizeof(m->buf))
		return 0;
	return memchr(p, '\0', (size_t)(m->buf + sizeof(m->buf) - p)) != NULL;
}

static void check_match(int rc, const struct route_match *m)
{
	FUZZ_ASSERT(memchr(m->allow, '\0', sizeof(m->allow)) != NULL);
	switch (rc) {
	case ROUTE_OK:
		FUZZ_ASSERT(m->action < ACT__MAX);
		FUZZ_ASSERT(in_buf(m, m->id) && in_buf(m, m->participant));
		(void)route_needs_auth(m->action);
		break;
	case ROUTE_EMETHOD:
	case ROUTE_PREFLIGHT:
		/* 405 and preflight answers need an Allow list. */
		FUZZ_ASSERT(m->allow[0] != '\0');
		break;
	default:
		FUZZ_ASSERT(rc == ROUTE_ENOTFOUND);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_match m;
	const char *method;
	char *owned = NULL, *uri;
	const uint8_t *rest;
	size_t n;

	if (size == 0)
		return 0;
	method = methods[data[0] % NMETHODS];
	rest = data + 1;
	n = size - 1;
	if (method == NULL) {
		const uint8_t *sp = memchr(rest, ' ', n);
		size_t k = sp != NULL ? (size_t)(sp - rest) : n;

		method = owned = fuzz_str(rest, k);
		rest += sp != NULL ? k + 1 : k;
		n -= sp != NULL ? k + 1 : k;
	}
	uri = fuzz_str(rest, n);
	check_match(route_match(method, uri, &m), &m);
	free(uri);
	free(owned);
	return 0;
}
