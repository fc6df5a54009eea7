/* auth_key.c: loads the pinned public key and checks JWS signatures with
 * it through OpenSSL directly. */
#include "auth_int.h"
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

/* Why not libjwt's jwt_decode() for verification: it lets the token's own
 * alg header choose the method (see STYLE.md, Traps) and it re-parses the
 * PEM on every call (~290us against ~18us for EVP_DigestVerify with a key
 * parsed once here).  libjwt stays in use for auth_sign(). */

#define RSA_MIN_BITS 2048

/* The algorithms KEYCLOAK_ALG may name; anything else (none, HS*) is
 * refused at start-up, and tokens must carry exactly the configured one. */
static const struct auth_alg algs[] = {
	{ "RS256", "SHA256", AUTH_SIG_PKCS1, NULL, 0 },
	{ "RS384", "SHA384", AUTH_SIG_PKCS1, NULL, 0 },
	{ "RS512", "SHA512", AUTH_SIG_PKCS1, NULL, 0 },
	{ "PS256", "SHA256", AUTH_SIG_PSS, NULL, 0 },
	{ "PS384", "SHA384", AUTH_SIG_PSS, NULL, 0 },
	{ "PS512", "SHA512", AUTH_SIG_PSS, NULL, 0 },
	{ "ES256", "SHA256", AUTH_SIG_ECDSA, "prime256v1", 32 },
	{ "ES384", "SHA384", AUTH_SIG_ECDSA, "secp384r1", 48 },
	{ "ES512", "SHA512", AUTH_SIG_ECDSA, "secp521r1", 66 },
};

const struct auth_alg *
auth_alg_find(const char *name)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

/* Wraps Keycloak's bare base64 SubjectPublicKeyInfo in PEM armour with
 * 64-character lines, dropping any whitespace pasted into the variable.
 * Returns a malloc'd PEM, or NULL (errno EINVAL for a non-base64 body). */
static char *
pem_from_body(const char *body)
{
	static const char head[] = "-----BEGIN PUBLIC KEY-----\n";
	static const char tail[] = "-----END PUBLIC KEY-----\n";
	static const char base64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/=";
	size_t n = strlen(body), o = sizeof(head) - 1, col = 0;
	char *pem = malloc(sizeof(head) + sizeof(tail) + n + n / 64 + 2);

	if (pem == NULL)
		return NULL;
	memcpy(pem, head, o);
	for (const char *p = body; *p != '\0'; p++) {
		if (strchr(" \t\r\n", *p) != NULL)
			continue;
		if (strchr(base64, *p) == NULL) {
			free(pem);
			errno = EINVAL;
			return NULL;
		}
		pem[o++] = *p;
		if (++col % 64 == 0)
			pem[o++] = '\n';
	}
	if (col % 64 != 0)
		pem[o++] = '\n';
	memcpy(pem + o, tail, sizeof(tail));
	return pem;
}

/* Parses KEYCLOAK_PUBLIC_KEY; a full PEM pasted there is accepted too. */
static int
key_from_body(EVP_PKEY **key, const char *body, char *errstr, size_t size)
{
	char *pem = strstr(body, "-----BEGIN") ? strdup(body) :
	    pem_from_body(body);
	BIO *bio;

	if (pem == NULL && errno != EINVAL)
		return AUTH_ENOMEM;
	bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	*key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	free(pem);
	if (*key == NULL) {
		snprintf(errstr, size, "KEYCLOAK_PUBLIC_KEY: not a base64 "
		    "public key (SubjectPublicKeyInfo)");
		return AUTH_EKEY;
	}
	return 0;
}

/* Parses the PEM file named by KEYCLOAK_PUBLIC_KEY_FILE. */
static int
key_from_file(EVP_PKEY **key, const char *path, char *errstr, size_t size)
{
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		snprintf(errstr, size, "KEYCLOAK_PUBLIC_KEY_FILE: %s: %s", path,
		    strerror(errno));
		return AUTH_EKEY;
	}
	*key = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	fclose(fp);
	if (*key == NULL) {
		snprintf(errstr, size, "KEYCLOAK_PUBLIC_KEY_FILE: %s: no PEM "
		    "public key (BEGIN PUBLIC KEY)", path);
		return AUTH_EKEY;
	}
	return 0;
}

/* Refuses a key that cannot have made signatures of the configured alg,
 * so a misconfiguration shows at start-up, not as 401s for everyone. */
static int
key_suits(const struct auth *a, const char *var, char *errstr, size_t size)
{
	const struct auth_alg *alg = a->alg;
	char group[64] = "";
	const char *why = NULL;

	if (alg->kind == AUTH_SIG_ECDSA) {
		if (!EVP_PKEY_is_a(a->key, "EC") ||
		    !EVP_PKEY_get_group_name(a->key, group, sizeof(group),
		    NULL) || strcmp(group, alg->curve) != 0)
			why = "an EC key on the algorithm's curve";
	} else if (!EVP_PKEY_is_a(a->key, "RSA") &&
	    !(alg->kind == AUTH_SIG_PSS && EVP_PKEY_is_a(a->key, "RSA-PSS"))) {
		why = "an RSA key";
	} else if (EVP_PKEY_get_bits(a->key) < RSA_MIN_BITS) {
		why = "an RSA key of at least 2048 bits";
	}
	if (why == NULL)
		return 0;
	snprintf(errstr, size, "%s: KEYCLOAK_ALG %s needs %s", var, alg->name,
	    why);
	return AUTH_EKEY;
}

static int
is_set(const char *s)
{
	return s != NULL && *s != '\0';
}

int
auth_key_load(struct auth *a, const struct config *cfg, char *errstr,
    size_t errstr_size)
{
	int body = is_set(cfg->public_key), file = is_set(cfg->public_key_file);
	int rc;

	if (body == file) {
		snprintf(errstr, errstr_size, "%s", body ?
		    "KEYCLOAK_PUBLIC_KEY: set only one of it and "
		    "KEYCLOAK_PUBLIC_KEY_FILE" : "KEYCLOAK_PUBLIC_KEY: not set "
		    "(or KEYCLOAK_PUBLIC_KEY_FILE)");
		return AUTH_EKEY;
	}
	rc = body ? key_from_body(&a->key, cfg->public_key, errstr, errstr_size)
	    : key_from_file(&a->key, cfg->public_key_file, errstr, errstr_size);
	if (rc == 0)
		rc = key_suits(a, body ? "KEYCLOAK_PUBLIC_KEY" :
		    "KEYCLOAK_PUBLIC_KEY_FILE", errstr, errstr_size);
	/* OpenSSL queues errors per thread; drop them so none linger. */
	ERR_clear_error();
	return rc;
}

/* Rewrites a JWS ECDSA signature (R and S as fixed-size big-endian
 * halves, RFC 7518 section 3.4) into the DER form OpenSSL verifies.
 * Returns the DER length, or 0 when sig has the wrong size. */
static size_t
ecdsa_der(const struct auth_alg *alg, const unsigned char *sig,
    size_t siglen, unsigned char *der, size_t cap)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	unsigned char *p = der;
	int n = 0;

	if (siglen != 2 * alg->half || (es = ECDSA_SIG_new()) == NULL)
		return 0;
	r = BN_bin2bn(sig, (int)alg->half, NULL);
	s = BN_bin2bn(sig + alg->half, (int)alg->half, NULL);
	if (r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL;
		if (i2d_ECDSA_SIG(es, NULL) <= (int)cap)
			n = i2d_ECDSA_SIG(es, &p);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return n > 0 ? (size_t)n : 0;
}

/* Chooses RSA padding; the salt length for PS* is the digest length
 * (RFC 7518 section 3.5).  Returns 1 on success, 0 on failure. */
static int
set_padding(EVP_PKEY_CTX *pctx, enum auth_sigkind kind)
{
	if (kind == AUTH_SIG_PKCS1)
		return EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PADDING) == 1;
	if (kind == AUTH_SIG_PSS)
		return EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) == 1;
	return 1;
}

int
auth_sig_verify(const struct auth *a, const char *input, size_t n,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char der[160];
	int ok = 0;

	if (ctx == NULL)
		return AUTH_ENOMEM;
	if (a->alg->kind == AUTH_SIG_ECDSA) {
		siglen = ecdsa_der(a->alg, sig, siglen, der, sizeof(der));
		sig = der;
	}
	if (siglen > 0 && EVP_DigestVerifyInit_ex(ctx, &pctx, a->alg->digest,
	    NULL, NULL, a->key, NULL) == 1 && set_padding(pctx, a->alg->kind))
		ok = EVP_DigestVerify(ctx, sig, siglen,
		    (const unsigned char *)input, n) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : AUTH_ESIGNATURE;
}
