/* body.c: picks the reader for a request's Content-Type, and the helpers
 * the readers share (storing fields, header parameters). */
#include "body.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body_internal.h"

static const struct body_type {
	const char *media_type;
	body_reader *read;
} body_types[] = {
	{ "application/json", body_json_read },
	{ "application/x-www-form-urlencoded", body_form_read },
	{ "multipart/form-data", body_multipart_read },
};

/* Indexed by -err. */
static const char *const body_errors[] = {
	"ok",
	"malformed request body",
	"unsupported Content-Type",
	"out of memory",
};

static const struct body_type *body_type_find(const char *ct, size_t n)
{
	for (size_t i = 0; i < sizeof(body_types) / sizeof(body_types[0]); i++)
		if (body_token_is(ct, n, body_types[i].media_type))
			return &body_types[i];
	return NULL;
}

int body_parse(const char *content_type, const char *data, size_t len,
    struct body *out, char *detail, size_t detail_size)
{
	memset(out, 0, sizeof(*out));
	if (detail_size > 0)
		detail[0] = '\0';
	/* No bytes means nothing to read, whatever the header says: the
	 * validator then reports each required field as missing. */
	if (len == 0)
		return BODY_OK;
	size_t n = content_type ? strlen(content_type) : 0;
	const struct body_type *t = content_type ?
	    body_type_find(content_type, n) : NULL;
	if (t == NULL) /* includes a missing Content-Type */
		return body_fail(detail, detail_size, BODY_EUNSUPPORTED,
		    "Send the body as application/json, application/"
		    "x-www-form-urlencoded or multipart/form-data.");
	if (!body_charset_ok(content_type, n))
		return body_fail(detail, detail_size, BODY_EUNSUPPORTED,
		    "Only the UTF-8 charset is accepted.");
	int rc = t->read(content_type, data, len, out, detail, detail_size);
	if (rc == BODY_ENOMEM)
		body_fail(detail, detail_size, rc,
		    "The server ran out of memory reading the body.");
	if (rc != BODY_OK)
		body_free(out);
	return rc;
}

void body_free(struct body *out)
{
	for (int i = 0; i < FIELD__MAX; i++)
		free(out->value[i]);
	memset(out, 0, sizeof(*out));
}

const char *body_strerror(int err)
{
	size_t i = (size_t)-(long)err;
	if (err > 0 || i >= sizeof(body_errors) / sizeof(body_errors[0]))
		return "unknown body error";
	return body_errors[i];
}

int body_fail(char *detail, size_t detail_size, int rc, const char *fmt, ...)
{
	if (detail_size > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, detail_size, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int body_claim(const struct body *out, enum field_id id, char *detail,
    size_t detail_size)
{
	if (out->value[id] == NULL && !out->not_string[id])
		return BODY_OK;
	return body_fail(detail, detail_size, BODY_EMALFORMED,
	    "The body has a duplicate field name \"%s\".", field_name(id));
}

int body_store(struct body *out, enum field_id id, const char *s, size_t n)
{
	char *copy = malloc(n + 1);
	if (copy == NULL)
		return BODY_ENOMEM;
	memcpy(copy, s, n);
	copy[n] = '\0';
	out->value[id] = copy;
	out->len[id] = n;
	return BODY_OK;
}

static size_t body_skip_ows(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* Returns end moved back over the spaces and tabs that end s[start..]. */
static size_t body_trim_end(const char *s, size_t start, size_t end)
{
	while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	return end;
}

int body_token_is(const char *s, size_t n, const char *name)
{
	size_t i = body_skip_ows(s, n, 0), end = i;
	while (end < n && s[end] != ';')
		end++;
	end = body_trim_end(s, i, end);
	size_t k = strlen(name);
	return end - i == k && strncasecmp(s + i, name, k) == 0;
}

/* Reads the value starting at s[i]: a quoted-string (the quotes are not
 * part of *val) or a token ending at ";" or white space.  Returns the
 * index just past it. */
static size_t body_param_value(const char *s, size_t n, size_t i,
    const char **val, size_t *vlen)
{
	size_t start = i;
	if (i < n && s[i] == '"') {
		for (start = ++i; i < n && s[i] != '"'; i++)
			if (s[i] == '\\' && i + 1 < n)
				i++;
		*val = s + start;
		*vlen = i - start;
		return i < n ? i + 1 : i;
	}
	while (i < n && s[i] != ';' && s[i] != ' ' && s[i] != '\t')
		i++;
	*val = s + start;
	*vlen = i - start;
	return i;
}

int body_param(const char *s, size_t n, const char *key, const char **val,
    size_t *vlen)
{
	size_t k = strlen(key), i = 0;
	while (i < n && s[i] != ';')
		i++;
	while (i < n) {
		size_t name = body_skip_ows(s, n, i + 1), end = name;
		while (end < n && s[end] != '=' && s[end] != ';')
			end++;
		i = end;
		if (i < n && s[i] == '=') {
			const char *v;
			size_t vn;
			i = body_skip_ows(s, n, i + 1);
			i = body_param_value(s, n, i, &v, &vn);
			end = body_trim_end(s, name, end);
			if (end - name == k && !strncasecmp(s + name, key, k)) {
				*val = v;
				*vlen = vn;
				return 1;
			}
		}
		while (i < n && s[i] != ';')
			i++;
	}
	return 0;
}

int body_charset_ok(const char *s, size_t n)
{
	const char *v;
	size_t vn;
	if (!body_param(s, n, "charset", &v, &vn))
		return 1;
	return vn == 5 && strncasecmp(v, "utf-8", 5) == 0;
}
