/* body_multipart.c: reads a multipart/form-data body (RFC 7578, framed
 * as RFC 2046 says, CRLF line ends) into the allowlisted fields. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body_internal.h"

/* RFC 2046 section 5.1.1: 1 to 70 characters. */
enum { MP_BOUNDARY_MAX = 70 };

struct mp {
	const char *s;
	size_t n;
	char *delim;		/* "\r\n--" boundary */
	size_t dlen;
	struct body *out;
	char *detail;
	size_t detail_size;
};

/* What a part's headers say about it; NULL name = no form-data name. */
struct mp_part {
	const char *name;
	size_t name_len;
	int is_file;
	int charset_ok;
};

static int mp_bad(struct mp *m, const char *why)
{
	return body_fail(m->detail, m->detail_size, BODY_EMALFORMED,
	    "The multipart body %s.", why);
}

/* Returns the length of "name:" when line (n bytes) is that header
 * (names ignore case), else 0. */
static size_t mp_header_is(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	if (n > k && line[k] == ':' && strncasecmp(line, name, k) == 0)
		return k + 1;
	return 0;
}

/* Reads Content-Disposition's value v (n bytes) into p: only form-data
 * parts have a name for us. */
static void mp_disposition(const char *v, size_t n, struct mp_part *p)
{
	const char *val;
	size_t vn;
	if (!body_token_is(v, n, "form-data"))
		return;
	if (body_param(v, n, "name", &val, &vn)) {
		p->name = val;
		p->name_len = vn;
	}
	p->is_file = body_param(v, n, "filename", &val, &vn) ||
	    body_param(v, n, "filename*", &val, &vn);
}

/* Reads one header line (n bytes, no CRLF) into p; other headers than
 * these two (Content-Transfer-Encoding is deprecated by RFC 7578) are
 * ignored. */
static int mp_header(struct mp *m, const char *line, size_t n,
    struct mp_part *p)
{
	size_t k;
	if (memchr(line, ':', n) == NULL)
		return mp_bad(m, "has a part header line without a colon");
	if (mp_header_is(line, n, "content-type") != 0)
		p->charset_ok = body_charset_ok(line, n);
	else if ((k = mp_header_is(line, n, "content-disposition")) != 0)
		mp_disposition(line + k, n - k, p);
	return BODY_OK;
}

/* Reads the headers h (n bytes, CRLF-separated lines) into p. */
static int mp_headers(struct mp *m, const char *h, size_t n,
    struct mp_part *p)
{
	memset(p, 0, sizeof(*p));
	p->charset_ok = 1;
	while (n > 0) {
		const char *crlf = memmem(h, n, "\r\n", 2);
		size_t k = crlf != NULL ? (size_t)(crlf - h) : n;
		int rc = mp_header(m, h, k, p);
		if (rc != BODY_OK)
			return rc;
		k = crlf != NULL ? k + 2 : k;
		h += k;
		n -= k;
	}
	return BODY_OK;
}

/* Stores the value v (n bytes) of a part named after field id. */
static int mp_field(struct mp *m, const struct mp_part *p, int id,
    const char *v, size_t n)
{
	if (p->is_file)
		return mp_bad(m, "has a file part; file uploads are not "
		    "accepted");
	if (!p->charset_ok)
		return body_fail(m->detail, m->detail_size, BODY_EUNSUPPORTED,
		    "Only the UTF-8 charset is accepted.");
	int rc = body_claim(m->out, id, m->detail, m->detail_size);
	return rc != BODY_OK ? rc : body_store(m->out, id, v, n);
}

/* Reads the part s (n bytes, between the CRLF that ends the delimiter
 * line and the next delimiter): headers, a blank line, the value.
 * Parts with names off the allowlist are skipped, files included. */
static int mp_part(struct mp *m, const char *s, size_t n)
{
	const char *end = n >= 2 && memcmp(s, "\r\n", 2) == 0 ? s :
	    memmem(s, n, "\r\n\r\n", 4);
	if (end == NULL)
		return mp_bad(m, "has a part without a blank line after "
		    "its headers");
	size_t hlen = (size_t)(end - s), skip = end == s ? 2 : 4;
	struct mp_part p;
	int rc = mp_headers(m, s, hlen, &p);
	if (rc != BODY_OK)
		return rc;
	if (p.name == NULL)
		return mp_bad(m, "has a part without Content-Disposition: "
		    "form-data and a name");
	int id = field_lookup(p.name, p.name_len);
	if (id < 0)
		return BODY_OK;
	return mp_field(m, &p, id, s + hlen + skip, n - hlen - skip);
}

/* Returns the offset just past the first delimiter line's "--boundary",
 * which may open the body or follow a preamble, or 0 when none does. */
static size_t mp_first(struct mp *m)
{
	size_t k = m->dlen - 2;
	if (m->n >= k && memcmp(m->s, m->delim + 2, k) == 0)
		return k;
	const char *d = memmem(m->s, m->n, m->delim, m->dlen);
	return d != NULL ? (size_t)(d - m->s) + m->dlen : 0;
}

/* Walks the parts.  i is always just past a "--boundary": "--" closes
 * the body (the epilogue after it is ignored), else optional transport
 * padding and CRLF start a part. */
static int mp_walk(struct mp *m)
{
	size_t i = mp_first(m);
	if (i == 0)
		return mp_bad(m, "does not contain its boundary");
	for (;;) {
		if (m->n - i >= 2 && memcmp(m->s + i, "--", 2) == 0)
			return BODY_OK;
		while (i < m->n && (m->s[i] == ' ' || m->s[i] == '\t'))
			i++;
		if (i + 2 > m->n || memcmp(m->s + i, "\r\n", 2) != 0)
			return mp_bad(m, "has a boundary line that does not "
			    "end with CRLF, or lacks its closing boundary");
		i += 2;
		const char *next = memmem(m->s + i, m->n - i, m->delim,
		    m->dlen);
		if (next == NULL)
			return mp_bad(m, "ends without its closing boundary");
		int rc = mp_part(m, m->s + i, (size_t)(next - m->s) - i);
		if (rc != BODY_OK)
			return rc;
		i = (size_t)(next - m->s) + m->dlen;
	}
}

int body_multipart_read(const char *content_type, const char *data,
    size_t len, struct body *out, char *detail, size_t detail_size)
{
	const char *b;
	size_t blen;
	if (!body_param(content_type, strlen(content_type), "boundary", &b,
	    &blen) || blen == 0 || blen > MP_BOUNDARY_MAX)
		return body_fail(detail, detail_size, BODY_EMALFORMED,
		    "multipart/form-data needs a boundary parameter of 1 to "
		    "70 characters in the Content-Type.");
	struct mp m = { .s = data, .n = len, .dlen = blen + 4, .out = out,
		.detail = detail, .detail_size = detail_size };
	m.delim = malloc(m.dlen);
	if (m.delim == NULL)
		return BODY_ENOMEM;
	memcpy(m.delim, "\r\n--", 4);
	memcpy(m.delim + 4, b, blen);
	int rc = mp_walk(&m);
	free(m.delim);
	return rc;
}
