/* auth_claims.c: the claim rules an access token must meet once its
 * signature has verified, one table row per claim. */
#include "auth_int.h"

#include <math.h>
#include <string.h>

/* What the rules see: the settings, the clock and the subject found. */
struct claim_ctx {
	const struct auth *a;
	double now;
	struct principal who;
};

enum presence {
	CLAIM_REQUIRED,		/* absent = the row's error */
	CLAIM_OPTIONAL,		/* absent = fine */
	CLAIM_IF_ISSUER,	/* checked (and required) only with an issuer */
};

/* A wrongly typed claim fails with its own row's error (exp "soon" is
 * AUTH_EEXPIRED, not AUTH_EMALFORMED), so the refusal names the claim. */
struct claim_rule {
	const char *name;
	enum presence presence;
	int err;
	int (*ok)(struct json_object *v, struct claim_ctx *c);
};

int
auth_json_streq(struct json_object *o, const char *s)
{
	size_t n = strlen(s);

	return json_object_is_type(o, json_type_string) &&
	    (size_t)json_object_get_string_len(o) == n &&
	    memcmp(json_object_get_string(o), s, n) == 0;
}

/* Reads a NumericDate (RFC 7519 section 2): seconds since the epoch as a
 * JSON number, fractions allowed.  Returns 0, or -1 for anything else. */
static int
numeric_date(struct json_object *v, double *t)
{
	if (json_object_is_type(v, json_type_int)) {
		*t = (double)json_object_get_int64(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_double)) {
		*t = json_object_get_double(v);
		return isfinite(*t) ? 0 : -1;
	}
	return -1;
}

static int
exp_ok(struct json_object *v, struct claim_ctx *c)
{
	double t;

	return numeric_date(v, &t) == 0 && c->now <= t + c->a->leeway;
}

static int
nbf_ok(struct json_object *v, struct claim_ctx *c)
{
	double t;

	return numeric_date(v, &t) == 0 && c->now + c->a->leeway >= t;
}

/* An iat in the future means a clock we disagree with, or a forgery. */
static int
iat_ok(struct json_object *v, struct claim_ctx *c)
{
	double t;

	return numeric_date(v, &t) == 0 && t <= c->now + c->a->leeway;
}

/* aud is one string or an array of strings (RFC 7519 section 4.1.3);
 * an array holding anything but strings is refused whole. */
static int
aud_ok(struct json_object *v, struct claim_ctx *c)
{
	size_t n;
	int found = 0;

	if (!json_object_is_type(v, json_type_array))
		return auth_json_streq(v, c->a->audience);
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string))
			return 0;
		found |= auth_json_streq(e, c->a->audience);
	}
	return found;
}

static int
iss_ok(struct json_object *v, struct claim_ctx *c)
{
	return auth_json_streq(v, c->a->issuer);
}

/* sub becomes the owner of stored rows and goes into logs and events, so
 * control characters (NUL included) are refused rather than escaped. */
static int
sub_ok(struct json_object *v, struct claim_ctx *c)
{
	const char *s;
	int n;

	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	n = json_object_get_string_len(v);
	if (n < 1 || n > AUTH_SUB_MAX)
		return 0;
	for (int i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	memcpy(c->who.sub, s, (size_t)n);
	c->who.sub[n] = '\0';
	return 1;
}

/* Checked in this order; the first failure decides the error. */
static const struct claim_rule rules[] = {
	/* claim  presence          error on failure  check */
	{ "exp", CLAIM_REQUIRED,  AUTH_EEXPIRED,  exp_ok },
	{ "nbf", CLAIM_OPTIONAL,  AUTH_ENOTYET,   nbf_ok },
	{ "iat", CLAIM_OPTIONAL,  AUTH_ENOTYET,   iat_ok },
	{ "aud", CLAIM_REQUIRED,  AUTH_EAUDIENCE, aud_ok },
	{ "iss", CLAIM_IF_ISSUER, AUTH_EISSUER,   iss_ok },
	{ "sub", CLAIM_REQUIRED,  AUTH_ESUBJECT,  sub_ok },
};

int
auth_claims_check(const struct auth *a, struct json_object *claims,
    time_t now, struct principal *who)
{
	struct claim_ctx c = { .a = a, .now = (double)now };

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct claim_rule *r = &rules[i];
		struct json_object *v = NULL;

		if (r->presence == CLAIM_IF_ISSUER && a->issuer == NULL)
			continue;
		if (!json_object_object_get_ex(claims, r->name, &v)) {
			if (r->presence == CLAIM_OPTIONAL)
				continue;
			return r->err;
		}
		if (!r->ok(v, &c))
			return r->err;
	}
	*who = c.who;
	return 0;
}

double
auth_claims_exp(struct json_object *claims)
{
	struct json_object *v;
	double t = 0;

	/* Present and a number: auth_claims_check() required it. */
	if (json_object_object_get_ex(claims, "exp", &v))
		numeric_date(v, &t);
	return t;
}
