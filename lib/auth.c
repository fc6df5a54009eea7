/* auth.c: verifies the bearer access token of a request: split, pin the
 * algorithm, pick the key, check the signature, then the claims. */
#include "auth_int.h"
#include "b64url.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Keycloak tokens with many roles reach 2-3 KiB; anything past this is
 * refused before any decoding work. */
#define AUTH_TOKEN_MAX 8192

/* The three segments of a compact JWS, pointing into the header value. */
struct jws {
	const char *seg[3];	/* header, payload, signature */
	size_t len[3];
};

/* Decoded segments go here, so a verification allocates only in json-c
 * and OpenSSL. */
typedef unsigned char segbuf[B64URL_DECODED_MAX(AUTH_TOKEN_MAX)];

static const char *const messages[] = {
	[-AUTH_OK] = "The access token is valid",
	[-AUTH_EMISSING] = "A bearer access token is required",
	[-AUTH_EMALFORMED] = "The access token is malformed",
	[-AUTH_EALG] = "The access token uses an algorithm not accepted",
	[-AUTH_ESIGNATURE] = "The access token signature is invalid",
	[-AUTH_EEXPIRED] = "The access token expired or has no valid exp claim",
	[-AUTH_ENOTYET] = "The access token is not valid yet (nbf or iat)",
	[-AUTH_EAUDIENCE] = "The access token is not meant for this service",
	[-AUTH_EISSUER] = "The access token has an unexpected issuer",
	[-AUTH_ESUBJECT] = "The access token has no valid subject",
	[-AUTH_EKEY] = "No usable token verification key",
	[-AUTH_ENOMEM] = "Out of memory",
	[-AUTH_EKID] = "The token's key id is unknown",
};

const char *
auth_strerror(int err)
{
	if (err > 0 || -err >= (int)(sizeof(messages) / sizeof(messages[0])))
		return "Unknown authentication error";
	return messages[-err];
}

int
auth_open(struct auth **out, const struct config *cfg, char *errstr,
    size_t errstr_size)
{
	const char *name = cfg->alg && *cfg->alg ? cfg->alg : "RS256";
	const char *aud = cfg->audience && *cfg->audience ? cfg->audience :
	    "account";
	/* An empty KEYCLOAK_ISSUER means "not checked", like an unset one. */
	const char *iss = cfg->issuer && *cfg->issuer ? cfg->issuer : NULL;
	const struct auth_alg *alg = auth_alg_find(name);
	struct auth *a;
	int rc;

	if (alg == NULL) {
		snprintf(errstr, errstr_size, "KEYCLOAK_ALG: %s is not "
		    "accepted (RS256, RS384, RS512, PS256, PS384, PS512, "
		    "ES256, ES384 or ES512)", name);
		return AUTH_EALG;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return AUTH_ENOMEM;
	/* Fetched once: an implicit fetch per digest costs more than the
	 * digest of a token. */
	if ((a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		free(a);
		return AUTH_ENOMEM;
	}
	a->alg = alg;
	a->leeway = cfg->leeway_s > 0 ? cfg->leeway_s : 0;
	a->audience = strdup(aud);
	a->issuer = iss ? strdup(iss) : NULL;
	rc = a->audience == NULL || (iss && a->issuer == NULL) ? AUTH_ENOMEM :
	    auth_keys_open(a, cfg, errstr, errstr_size);
	if (rc != 0) {
		auth_close(a);
		return rc;
	}
	*out = a;
	return 0;
}

void
auth_close(struct auth *a)
{
	if (a == NULL)
		return;
	auth_keys_free(a->keys);
	EVP_MD_free(a->sha256);
	free(a->src_value);
	free(a->audience);
	free(a->issuer);
	free(a);
}

/* Finds the token in "Bearer <token>"; the scheme is case-insensitive
 * and followed by one or more spaces (RFC 9110 section 11.4: 1*SP).
 * Trailing spaces or a second token fail later, in base64url decoding. */
static int
bearer(const char *authorization, const char **token)
{
	if (authorization == NULL ||
	    strncasecmp(authorization, "Bearer ", 7) != 0)
		return AUTH_EMISSING;
	*token = authorization + 7 + strspn(authorization + 7, " ");
	return **token == '\0' ? AUTH_EMISSING : 0;
}

/* Splits at the dots: exactly three segments, at most AUTH_TOKEN_MAX. */
static int
split(const char *token, struct jws *j)
{
	size_t n = strnlen(token, AUTH_TOKEN_MAX + 1);
	const char *p = token, *end = token + n;

	if (n > AUTH_TOKEN_MAX)
		return AUTH_EMALFORMED;
	for (int i = 0; i < 3; i++) {
		const char *dot = memchr(p, '.', (size_t)(end - p));

		if ((dot == NULL) != (i == 2))
			return AUTH_EMALFORMED;
		j->seg[i] = p;
		j->len[i] = (size_t)((dot ? dot : end) - p);
		p = dot ? dot + 1 : end;
	}
	return 0;
}

int
auth_json_object(const void *buf, size_t n, struct json_object **out)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (tok == NULL)
		return AUTH_ENOMEM;
	/* Strict (json-c 0.16 still admits NaN and 'quotes', which the
	 * claim rules refuse as wrong types) and UTF-8-validating. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, (const char *)buf, (int)n);
	if (o != NULL && (json_tokener_get_parse_end(tok) != n ||
	    !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	*out = o;
	return o ? 0 : AUTH_EMALFORMED;
}

/* Decodes segment i of j into buf and parses it as a JSON object. */
static int
decode_json(const struct jws *j, int i, segbuf buf, struct json_object **out)
{
	size_t n;

	if (b64url_decode(j->seg[i], j->len[i], buf, sizeof(segbuf), &n) != 0 ||
	    memchr(buf, '\0', n) != NULL)
		return AUTH_EMALFORMED;
	return auth_json_object(buf, n, out);
}

/* The pin: the token's alg must be the configured one, before any key
 * is used.  No JWS extension is understood, so "crit" is refused (RFC
 * 7515 section 4.1.11).  Then the kid picks the key. */
static int
check_header(const struct auth *a, struct json_object *hdr, EVP_PKEY **key)
{
	struct json_object *alg, *kid = NULL;

	if (!json_object_object_get_ex(hdr, "alg", &alg) ||
	    !auth_json_streq(alg, a->alg->name))
		return AUTH_EALG;
	if (json_object_object_get_ex(hdr, "crit", NULL))
		return AUTH_EMALFORMED;
	json_object_object_get_ex(hdr, "kid", &kid);
	return auth_keys_pick(a->keys, kid, key);
}

/* Checks the signature over "header.payload", the text as sent. */
static int
check_signature(const struct auth *a, EVP_PKEY *key, const struct jws *j,
    segbuf buf)
{
	size_t n;

	if (b64url_decode(j->seg[2], j->len[2], buf, sizeof(segbuf), &n) != 0)
		return AUTH_EMALFORMED;
	return auth_sig_verify(a->alg, key, j->seg[0],
	    j->len[0] + 1 + j->len[1], buf, n);
}

/* Whether the n-byte token was verified before and still holds at now
 * (auth_cache.c): 1, with who filled, or 0, with digest filled for
 * auth_cache_put(), or -1 when no digest could be made (then the token
 * is neither looked up nor remembered). */
static int
cached(struct auth *a, const char *token, ptrdiff_t n, time_t now,
    unsigned char digest[AUTH_DIGEST_LEN], struct principal *who)
{
	unsigned int len = 0;

	if (!EVP_Digest(token, (size_t)n, digest, &len, a->sha256, NULL) ||
	    len != AUTH_DIGEST_LEN)
		return -1;
	return auth_cache_find(&a->cache, digest, now, a->leeway, who);
}

int
auth_verify(struct auth *a, const char *authorization, time_t now,
    struct principal *who)
{
	const char *token = NULL;
	struct json_object *hdr = NULL, *claims = NULL;
	EVP_PKEY *key = NULL;
	unsigned char digest[AUTH_DIGEST_LEN];
	struct jws j;
	segbuf buf;
	int rc, hit = -1;

	auth_reload_check(a, now);
	rc = bearer(authorization, &token);
	if (rc == 0)
		rc = split(token, &j);
	if (rc == 0 && (hit = cached(a, token, j.seg[2] + j.len[2] - token,
	    now, digest, who)) == 1)
		return 0;
	if (rc == 0)
		rc = decode_json(&j, 0, buf, &hdr);
	if (rc == 0)
		rc = check_header(a, hdr, &key);
	/* The payload is parsed only once its signature holds, so json-c
	 * never sees unauthenticated claims. */
	if (rc == 0)
		rc = check_signature(a, key, &j, buf);
	if (rc == 0)
		rc = decode_json(&j, 1, buf, &claims);
	if (rc == 0)
		rc = auth_claims_check(a, claims, now, who);
	if (rc == 0 && hit == 0)
		auth_cache_put(&a->cache, digest, now, auth_claims_exp(claims),
		    who);
	json_object_put(hdr);
	json_object_put(claims);
	return rc;
}
