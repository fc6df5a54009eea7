/* body_json.c: reads an application/json body, a single top-level
 * object, into the allowlisted fields. */
#include <limits.h>
#include <string.h>

#include <json-c/json.h>

#include "body_internal.h"

/* Deep enough for any request we accept (all fields are flat strings),
 * shallow enough that a hostile body cannot make json-c recurse far.
 * json-c counts its own root, so this admits 15 levels of nesting. */
enum { BODY_JSON_DEPTH = 16 };

/* json-c checks the syntax, but it keeps only the last of two equal keys
 * and cuts keys at an escaped NUL, so we then walk the top-level members
 * of the checked text ourselves and judge each key as it was sent. */
struct json_walk {
	const char *s;
	size_t n, i;
	struct body *out;
	char *detail;
	size_t detail_size;
};

/* The four white-space bytes of RFC 8259 section 2; NUL is not one. */
static int json_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void json_skip_ws(struct json_walk *w)
{
	while (w->i < w->n && json_is_ws(w->s[w->i]))
		w->i++;
}

static int json_at(struct json_walk *w, char c)
{
	json_skip_ws(w);
	return w->i < w->n && w->s[w->i] == c;
}

/* The walk disagrees with json-c, which happens only for the leniencies
 * json-c keeps in strict mode. */
static int json_bad(struct json_walk *w)
{
	return body_fail(w->detail, w->detail_size, BODY_EMALFORMED,
	    "The body is not valid JSON.");
}

/* Moves past the string that starts at the current '"'; returns 0 when
 * it does not end before n. */
static int json_skip_string(struct json_walk *w)
{
	for (w->i++; w->i < w->n; w->i++) {
		if (w->s[w->i] == '\\') {
			w->i++;
		} else if (w->s[w->i] == '"') {
			w->i++;
			return 1;
		}
	}
	return 0;
}

/* Moves past one value, to the "," or "}" that ends it.  Returns 0 on
 * text it does not expect, such as the single-quoted strings json-c
 * tolerates even in strict mode. */
static int json_skip_value(struct json_walk *w)
{
	int depth = 0;
	while (w->i < w->n) {
		char c = w->s[w->i];
		if (c == '"') {
			if (!json_skip_string(w))
				return 0;
			continue;
		}
		if (c == '\'')
			return 0;
		if ((c == ',' || c == '}') && depth == 0)
			return 1;
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		w->i++;
	}
	return 0;
}

/* Decodes the JSON string text s (n bytes, quotes included) into *o.
 * The text was checked already, so a failure means memory. */
static int json_decode(const char *s, size_t n, struct json_object **o)
{
	struct json_tokener *tok = json_tokener_new();
	if (tok == NULL)
		return BODY_ENOMEM;
	*o = json_tokener_parse_ex(tok, s, (int)n);
	json_tokener_free(tok);
	if (*o != NULL && json_object_is_type(*o, json_type_string))
		return BODY_OK;
	json_object_put(*o);
	*o = NULL;
	return BODY_ENOMEM;
}

/* Sets *id to the field the key text s (n bytes, quotes included) names,
 * or -1.  Keys without escapes, the usual case, need no decoding. */
static int json_key_id(const char *s, size_t n, int *id)
{
	if (memchr(s, '\\', n) == NULL) {
		*id = field_lookup(s + 1, n - 2);
		return BODY_OK;
	}
	struct json_object *o;
	int rc = json_decode(s, n, &o);
	if (rc == BODY_OK) {
		*id = field_lookup(json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
		json_object_put(o);
	}
	return rc;
}

/* Stores the value text s (n bytes) as field id: a string's decoded
 * bytes, NUL bytes included, or the not-a-string mark. */
static int json_value(struct json_walk *w, int id, const char *s, size_t n)
{
	int rc = body_claim(w->out, id, w->detail, w->detail_size);
	if (rc != BODY_OK)
		return rc;
	if (s[0] != '"') {
		w->out->not_string[id] = 1;
		return BODY_OK;
	}
	struct json_object *o;
	rc = json_decode(s, n, &o);
	if (rc == BODY_OK) {
		rc = body_store(w->out, id, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
		json_object_put(o);
	}
	return rc;
}

static int json_member(struct json_walk *w)
{
	if (!json_at(w, '"'))
		return json_bad(w);
	size_t key = w->i;
	if (!json_skip_string(w))
		return json_bad(w);
	int id, rc = json_key_id(w->s + key, w->i - key, &id);
	if (rc != BODY_OK)
		return rc;
	if (!json_at(w, ':'))
		return json_bad(w);
	w->i++;
	json_skip_ws(w);
	size_t val = w->i;
	if (!json_skip_value(w))
		return json_bad(w);
	return id < 0 ? BODY_OK : json_value(w, id, w->s + val, w->i - val);
}

static int json_members(struct json_walk *w)
{
	if (!json_at(w, '{'))
		return json_bad(w);
	w->i++;
	if (json_at(w, '}'))
		return BODY_OK;
	for (;;) {
		int rc = json_member(w);
		if (rc != BODY_OK)
			return rc;
		if (json_at(w, '}'))
			return BODY_OK;
		if (!json_at(w, ','))
			return json_bad(w);
		w->i++;
	}
}

/* The UTF-16 code unit the four hex digits at s (n bytes left) give, or
 * -1 when there are no such digits. */
static long json_hex4(const char *s, size_t n)
{
	long u = 0;

	if (n < 4)
		return -1;
	for (int k = 0; k < 4; k++) {
		int c = s[k] | 0x20, d = c >= '0' && c <= '9' ? c - '0' :
		    c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		u = u * 16 + d;
	}
	return u;
}

/* For the escape "\u..." whose 'u' is at s[*i]: returns 1 when it names
 * half of a UTF-16 surrogate pair without the other half, else 0, with
 * *i moved onto the last digit of a whole pair. */
static int json_lone_half(const char *s, size_t n, size_t *i)
{
	size_t u_at = *i;
	long u = json_hex4(s + u_at + 1, n - u_at - 1), lo;

	if (u >= 0xdc00 && u <= 0xdfff)
		return 1;
	if (u < 0xd800 || u > 0xdbff)
		return 0;
	/* "uXXXX" then "\uXXXX", the low half. */
	lo = u_at + 6 < n && s[u_at + 5] == '\\' && s[u_at + 6] == 'u' ?
	    json_hex4(s + u_at + 7, n - u_at - 7) : -1;
	if (lo < 0xdc00 || lo > 0xdfff)
		return 1;
	*i = u_at + 10;
	return 0;
}

/* What json-c lets pass inside strings, even in strict mode. */
enum json_text {
	JSON_TEXT_OK,
	JSON_TEXT_RAW_CONTROL,	/* RFC 8259 section 7 wants it escaped */
	JSON_TEXT_LONE_HALF,	/* json-c would store U+FFFD instead */
};

/* Looks at every string of the text, in one pass, for a control
 * character standing raw and for a \u escape naming half of a surrogate
 * pair without the other (that is no text, and once json-c replaced it
 * a field check cannot see it). */
static enum json_text json_strings(const char *s, size_t n)
{
	int in_string = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!in_string)
			in_string = c == '"';
		else if (c == '"')
			in_string = 0;
		else if (c < 0x20)
			return JSON_TEXT_RAW_CONTROL;
		else if (c == '\\' && ++i < n && s[i] == 'u' &&
		    json_lone_half(s, n, &i))
			return JSON_TEXT_LONE_HALF;
	}
	return JSON_TEXT_OK;
}

/* Checks the whole text with json-c: one object, nothing after it. */
static int json_check(const char *data, size_t len, char *detail,
    size_t detail_size)
{
	struct json_tokener *tok = json_tokener_new_ex(BODY_JSON_DEPTH);
	if (tok == NULL)
		return BODY_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *o = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error err = json_tokener_get_error(tok);
	/* json-c stops with success at a NUL byte, hence the length check. */
	int trailing = o != NULL && json_tokener_get_parse_end(tok) < len;
	int parsed = o != NULL;
	int object = json_object_is_type(o, json_type_object);
	json_object_put(o);
	json_tokener_free(tok);
	if (err == json_tokener_continue)
		return body_fail(detail, detail_size, BODY_EMALFORMED,
		    "The JSON body ends before the object does.");
	if (!parsed)
		return body_fail(detail, detail_size, BODY_EMALFORMED,
		    "The body is not valid JSON: %s.",
		    json_tokener_error_desc(err));
	if (trailing)
		return body_fail(detail, detail_size, BODY_EMALFORMED,
		    "The JSON body has data after the object.");
	if (!object)
		return body_fail(detail, detail_size, BODY_EMALFORMED,
		    "The JSON body must be an object.");
	switch (json_strings(data, len)) {
	case JSON_TEXT_RAW_CONTROL:
		return body_fail(detail, detail_size, BODY_EMALFORMED,
		    "The JSON body has an unescaped control character in a"
		    " string.");
	case JSON_TEXT_LONE_HALF:
		return body_fail(detail, detail_size, BODY_EMALFORMED,
		    "The JSON body has a \\u escape naming half of a surrogate"
		    " pair, which is not text.");
	case JSON_TEXT_OK:
		break;
	}
	return BODY_OK;
}

int body_json_read(const char *content_type, const char *data, size_t len,
    struct body *out, char *detail, size_t detail_size)
{
	(void)content_type;
	if (len > INT_MAX)
		return body_fail(detail, detail_size, BODY_EMALFORMED,
		    "The JSON body is too large.");
	int rc = json_check(data, len, detail, detail_size);
	if (rc != BODY_OK)
		return rc;
	struct json_walk w = { data, len, 0, out, detail, detail_size };
	return json_members(&w);
}
