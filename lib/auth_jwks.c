/* auth_jwks.c: reads a JSON Web Key Set file (RFC 7517) into a key set:
 * the RSA or EC signing keys for the configured algorithm, by kid. */
#include "auth_int.h"
#include "b64url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>

/* Keycloak's realm set is a few KiB; anything this big is a mistake. */
#define JWKS_FILE_MAX (1024 * 1024)
/* Big-endian integers of a JWK: 16384-bit moduli, the largest deployed,
 * fit; so do P-521 coordinates (66 bytes). */
#define JWK_INT_MAX 2048

/* Where an error is: "KEYCLOAK_JWKS_FILE: <path>", then "...: keys[i]". */
typedef char jwks_where[512];
typedef char jwks_where_key[sizeof(jwks_where) + 32];

static int
fail(char *errstr, size_t size, const char *where, const char *why)
{
	snprintf(errstr, size, "%s: %s", where, why);
	return AUTH_EKEY;
}

/* Reads and parses the file; a set is a JSON object (RFC 7517 5). */
static int
read_json(const char *where, const char *path, struct json_object **out,
    char *errstr, size_t size)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	size_t n;
	int rc;

	if (fp == NULL)
		return fail(errstr, size, where, strerror(errno));
	if ((buf = malloc(JWKS_FILE_MAX + 1)) == NULL) {
		fclose(fp);
		return AUTH_ENOMEM;
	}
	n = fread(buf, 1, JWKS_FILE_MAX + 1, fp);
	fclose(fp);
	rc = n > JWKS_FILE_MAX ? AUTH_EKEY : auth_json_object(buf, n, out);
	free(buf);
	if (rc == AUTH_EKEY)
		return fail(errstr, size, where, "larger than 1 MiB");
	if (rc == AUTH_EMALFORMED)
		return fail(errstr, size, where, "not a JSON object");
	return rc;
}

/* 1 when member name is absent or the JSON string want. */
static int
absent_or(struct json_object *jwk, const char *name, const char *want)
{
	struct json_object *v;

	return !json_object_object_get_ex(jwk, name, &v) ||
	    auth_json_streq(v, want);
}

/* 1 when member name is the JSON string want. */
static int
member_is(struct json_object *jwk, const char *name, const char *want)
{
	struct json_object *v;

	return json_object_object_get_ex(jwk, name, &v) &&
	    auth_json_streq(v, want);
}

/* Keys the configured algorithm cannot use are passed over, not refused:
 * Keycloak publishes its encryption keys ("use":"enc", RSA-OAEP) and the
 * keys of its other algorithms in the same set.  "use" and "alg" are
 * optional (RFC 7517 4.2, 4.4); when present they must fit. */
static int
wanted(const struct auth_alg *alg, struct json_object *jwk)
{
	int ec = alg->kind == AUTH_SIG_ECDSA;

	return absent_or(jwk, "use", "sig") &&
	    absent_or(jwk, "alg", alg->name) &&
	    member_is(jwk, "kty", ec ? "EC" : "RSA") &&
	    (!ec || member_is(jwk, "crv", alg->crv));
}

/* Decodes the base64url member name into buf.  Returns 0, or -1 when it
 * is absent, not a string, not strict base64url or longer than cap. */
static int
b64_member(struct json_object *jwk, const char *name, unsigned char *buf,
    size_t cap, size_t *n)
{
	struct json_object *v;

	if (!json_object_object_get_ex(jwk, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	return b64url_decode(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), buf, cap, n);
}

/* Builds a public key of type ("RSA", "EC") from the parameters in bld;
 * NULL when OpenSSL refuses them (an EC point off the curve, say). */
static EVP_PKEY *
from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *key = NULL;

	if (params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1)
		EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* RSA: modulus n and exponent e (RFC 7518 6.3.1). */
static const char *
rsa_key(const struct auth_alg *alg, struct json_object *jwk, EVP_PKEY **key)
{
	unsigned char n[JWK_INT_MAX], e[64];
	size_t nlen, elen;
	OSSL_PARAM_BLD *bld;
	BIGNUM *bn, *be;

	(void)alg;
	if (b64_member(jwk, "n", n, sizeof(n), &nlen) != 0 ||
	    b64_member(jwk, "e", e, sizeof(e), &elen) != 0)
		return "n and e must be base64url strings";
	bld = OSSL_PARAM_BLD_new();
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	if (bld != NULL && bn != NULL && be != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		*key = from_params("RSA", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return *key ? NULL : "not a valid RSA public key";
}

/* EC: coordinates x and y of exactly the curve's size (RFC 7518
 * 6.2.1.2), given to OpenSSL as an uncompressed point 04 || x || y. */
static const char *
ec_key(const struct auth_alg *alg, struct json_object *jwk, EVP_PKEY **key)
{
	unsigned char pt[1 + 2 * 66];
	size_t xn = 0, yn = 0, h = alg->half;
	OSSL_PARAM_BLD *bld;

	pt[0] = 0x04;
	if (b64_member(jwk, "x", pt + 1, h, &xn) != 0 || xn != h ||
	    b64_member(jwk, "y", pt + 1 + h, h, &yn) != 0 || yn != h)
		return "x and y must be base64url, the curve's size each";
	if ((bld = OSSL_PARAM_BLD_new()) != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    alg->curve, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    1 + 2 * h))
		*key = from_params("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	return *key ? NULL : "not a point on the curve";
}

/* The kid, if any, must be a string without NUL, and unique in the set:
 * two usable keys under one kid would make the choice arbitrary. */
static const char *
kid_of(const struct auth_keys *ks, struct json_object *jwk, char **kid)
{
	struct json_object *v;
	const char *s;

	*kid = NULL;
	if (!json_object_object_get_ex(jwk, "kid", &v))
		return NULL;
	s = json_object_get_string(v);
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(s) != (size_t)json_object_get_string_len(v))
		return "kid must be a string";
	for (size_t i = 0; i < ks->n; i++)
		if (ks->key[i].kid != NULL && strcmp(ks->key[i].kid, s) == 0)
			return "kid is used by an earlier key";
	*kid = strdup(s);
	return *kid ? NULL : "out of memory";
}

/* Adds keys[i] to ks when it is for us.  Returns 0 (added or passed
 * over) or AUTH_EKEY with errstr. */
static int
add_key(struct auth_keys *ks, const struct auth_alg *alg,
    struct json_object *jwk, const char *where, char *errstr, size_t size)
{
	EVP_PKEY *key = NULL;
	char *kid = NULL;
	const char *why = NULL;
	int rc;

	if (!json_object_is_type(jwk, json_type_object))
		return fail(errstr, size, where, "not a JSON object");
	if (!wanted(alg, jwk))
		return 0;
	why = kid_of(ks, jwk, &kid);
	if (why == NULL)
		why = (alg->kind == AUTH_SIG_ECDSA ? ec_key : rsa_key)(alg,
		    jwk, &key);
	rc = why ? fail(errstr, size, where, why) :
	    auth_key_suits(alg, key, where, errstr, size);
	if (rc != 0) {
		free(kid);
		EVP_PKEY_free(key);
		return rc;
	}
	ks->key[ks->n].kid = kid;
	ks->key[ks->n++].pkey = key;
	return 0;
}

/* The "keys" member: an array of JWKs (RFC 7517 5.1). */
static int
add_keys(struct auth_keys **ks, const struct auth_alg *alg,
    struct json_object *doc, const char *where, char *errstr, size_t size)
{
	struct json_object *arr;
	jwks_where_key at;
	size_t n;
	int rc = 0;

	if (!json_object_object_get_ex(doc, "keys", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return fail(errstr, size, where, "no \"keys\" array");
	n = json_object_array_length(arr);
	if ((*ks = auth_keys_new(n, 1)) == NULL)
		return AUTH_ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		snprintf(at, sizeof(at), "%s: keys[%zu]", where, i);
		rc = add_key(*ks, alg, json_object_array_get_idx(arr, i), at,
		    errstr, size);
	}
	if (rc == 0 && (*ks)->n == 0) {
		snprintf(at, sizeof(at), "no signing key for KEYCLOAK_ALG %s",
		    alg->name);
		rc = fail(errstr, size, where, at);
	}
	return rc;
}

int
auth_jwks_load(const struct auth_alg *alg, const char *path,
    struct auth_keys **out, char *errstr, size_t errstr_size)
{
	struct json_object *doc = NULL;
	struct auth_keys *ks = NULL;
	jwks_where where;
	int rc;

	snprintf(where, sizeof(where), "KEYCLOAK_JWKS_FILE: %s", path);
	rc = read_json(where, path, &doc, errstr, errstr_size);
	if (rc == 0)
		rc = add_keys(&ks, alg, doc, where, errstr, errstr_size);
	json_object_put(doc);
	if (rc != 0) {
		auth_keys_free(ks);
		ks = NULL;
	}
	*out = ks;
	return rc;
}
