/* auth_sign.c: mints tokens and JWKS files for development and tests,
 * with libjwt and OpenSSL; the server itself only verifies (auth.c). */
#include "auth_int.h"
#include "b64url.h"

#include <errno.h>
#include <string.h>

#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

/* Any alg libjwt knows except "none" is allowed, HS* included, so tests
 * can forge the HS256-with-the-public-key token auth_verify() must
 * refuse.  libjwt takes the PEM text (or the HMAC secret) as the key. */
int
auth_sign(const char *private_pem, const char *alg, const char *kid,
    const char *claims, char **token)
{
	jwt_alg_t which = alg ? jwt_str_alg(alg) : JWT_ALG_INVAL;
	jwt_t *jwt = NULL;
	int rc = 0, e;

	if (which == JWT_ALG_INVAL || which == JWT_ALG_NONE)
		return AUTH_EALG;
	if (private_pem == NULL || *private_pem == '\0')
		return AUTH_EKEY;
	if (claims == NULL)
		return AUTH_EMALFORMED;
	if (jwt_new(&jwt) != 0)
		return AUTH_ENOMEM;
	if (jwt_add_grants_json(jwt, claims) != 0)
		rc = AUTH_EMALFORMED;
	if (rc == 0 && (jwt_add_header(jwt, "typ", "JWT") != 0 ||
	    (kid != NULL && jwt_add_header(jwt, "kid", kid) != 0)))
		rc = AUTH_ENOMEM;
	if (rc == 0 && (e = jwt_set_alg(jwt, which,
	    (const unsigned char *)private_pem, (int)strlen(private_pem))) != 0)
		rc = e == ENOMEM ? AUTH_ENOMEM : AUTH_EKEY;
	if (rc == 0) {
		errno = 0;
		/* jwt_encode_str() reports a bad key and no memory alike. */
		if ((*token = jwt_encode_str(jwt)) == NULL)
			rc = errno == ENOMEM ? AUTH_ENOMEM : AUTH_EKEY;
	}
	jwt_free(jwt);
	return rc;
}

/* Adds the integer parameter param of key as the base64url member name,
 * left-padded with zeros to pad bytes (EC coordinates) or minimal (pad
 * 0, RSA, RFC 7518 6.3.1.1).  Returns 1 on success, 0 on failure. */
static int
add_int(struct json_object *jwk, const char *name, EVP_PKEY *key,
    const char *param, size_t pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[2048];
	char *s = NULL;
	int n = -1, ok = 0;

	if (EVP_PKEY_get_bn_param(key, param, &bn) == 1 &&
	    (size_t)BN_num_bytes(bn) <= (pad ? pad : sizeof(buf)))
		n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
	if (n >= 0 && (s = b64url_encode(buf, (size_t)n)) != NULL)
		ok = json_object_object_add(jwk, name,
		    json_object_new_string(s)) == 0;
	BN_free(bn);
	free(s);
	return ok;
}

/* The members of one JWK for key, which suits alg. */
static int
add_members(struct json_object *jwk, EVP_PKEY *key, const char *kid,
    const struct auth_alg *alg)
{
	int ec = alg->kind == AUTH_SIG_ECDSA;

	json_object_object_add(jwk, "kty",
	    json_object_new_string(ec ? "EC" : "RSA"));
	json_object_object_add(jwk, "kid", json_object_new_string(kid));
	json_object_object_add(jwk, "use", json_object_new_string("sig"));
	json_object_object_add(jwk, "alg", json_object_new_string(alg->name));
	if (!ec)
		return add_int(jwk, "n", key, OSSL_PKEY_PARAM_RSA_N, 0) &&
		    add_int(jwk, "e", key, OSSL_PKEY_PARAM_RSA_E, 0);
	json_object_object_add(jwk, "crv", json_object_new_string(alg->crv));
	return add_int(jwk, "x", key, OSSL_PKEY_PARAM_EC_PUB_X, alg->half) &&
	    add_int(jwk, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y, alg->half);
}

/* Builds {"keys":[jwk]} as text the caller frees. */
static int
jwks_text(EVP_PKEY *key, const char *kid, const struct auth_alg *alg,
    char **jwks)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	struct json_object *jwk = json_object_new_object();
	const char *text;

	*jwks = NULL;
	if (doc == NULL || arr == NULL || jwk == NULL ||
	    !add_members(jwk, key, kid, alg)) {
		json_object_put(jwk);
		json_object_put(arr);
		json_object_put(doc);
		return AUTH_ENOMEM;
	}
	/* Adding hands jwk and arr to their containers: one put frees all. */
	json_object_array_add(arr, jwk);
	json_object_object_add(doc, "keys", arr);
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	*jwks = text ? strdup(text) : NULL;
	json_object_put(doc);
	return *jwks ? 0 : AUTH_ENOMEM;
}

int
auth_jwks_make(const char *public_pem, const char *kid, const char *alg,
    char **jwks)
{
	const struct auth_alg *a = alg ? auth_alg_find(alg) : NULL;
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	char err[128];
	int rc;

	if (a == NULL)
		return AUTH_EALG;
	if (public_pem != NULL && kid != NULL &&
	    (bio = BIO_new_mem_buf(public_pem, -1)) != NULL)
		key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	rc = key ? auth_key_suits(a, key, "jwks", err, sizeof(err)) : AUTH_EKEY;
	if (rc == 0)
		rc = jwks_text(key, kid, a, jwks);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}
