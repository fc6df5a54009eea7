/* body_form.c: reads an application/x-www-form-urlencoded body
 * (name=value pairs joined by "&", "+" for space, %XX escapes). */
#include <stdlib.h>
#include <string.h>

#include "body_internal.h"

struct form {
	struct body *out;
	char *detail;
	size_t detail_size;
};

static int form_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s (n bytes) into a malloc'd, NUL-terminated *out of *outlen
 * bytes.  Returns BODY_OK, BODY_EMALFORMED for a "%" not followed by two
 * hex digits, or BODY_ENOMEM. */
static int form_decode(const char *s, size_t n, char **out, size_t *outlen)
{
	char *d = malloc(n + 1);
	size_t k = 0;
	if (d == NULL)
		return BODY_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi = i + 2 < n ? form_hex(s[i + 1]) : -1;
			int lo = hi >= 0 ? form_hex(s[i + 2]) : -1;
			if (lo < 0) {
				free(d);
				return BODY_EMALFORMED;
			}
			d[k++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			d[k++] = (char)(s[i] == '+' ? ' ' : s[i]);
		}
	}
	d[k] = '\0';
	*out = d;
	*outlen = k;
	return BODY_OK;
}

static int form_fail(struct form *f, int rc)
{
	if (rc != BODY_EMALFORMED)
		return rc;
	return body_fail(f->detail, f->detail_size, rc,
	    "The form body has a \"%%\" not followed by two hex digits.");
}

/* Reads one "name=value" pair (n bytes; a pair without "=" has an empty
 * value, as in Django's QueryDict) into out when its name is listed.
 * Values of unlisted names are decoded too, so that a bad escape
 * anywhere in the body is reported the same way. */
static int form_pair(struct form *f, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	const char *v = eq != NULL ? eq + 1 : s + n;
	char *key, *value;
	size_t len;
	int rc = form_decode(s, eq != NULL ? (size_t)(eq - s) : n, &key, &len);
	if (rc != BODY_OK)
		return form_fail(f, rc);
	int id = field_lookup(key, len);
	free(key);
	rc = form_decode(v, (size_t)(s + n - v), &value, &len);
	if (rc != BODY_OK)
		return form_fail(f, rc);
	if (id >= 0)
		rc = body_claim(f->out, id, f->detail, f->detail_size);
	if (id < 0 || rc != BODY_OK) {
		free(value);
		return rc;
	}
	f->out->value[id] = value;
	f->out->len[id] = len;
	return BODY_OK;
}

int body_form_read(const char *content_type, const char *data, size_t len,
    struct body *out, char *detail, size_t detail_size)
{
	(void)content_type;
	struct form f = { out, detail, detail_size };
	size_t i = 0;
	while (i < len) {
		const char *amp = memchr(data + i, '&', len - i);
		size_t end = amp != NULL ? (size_t)(amp - data) : len;
		/* Empty pairs ("a=1&&b=2", a trailing "&") carry nothing. */
		if (end > i) {
			int rc = form_pair(&f, data + i, end - i);
			if (rc != BODY_OK)
				return rc;
		}
		i = end + 1;
	}
	return BODY_OK;
}
