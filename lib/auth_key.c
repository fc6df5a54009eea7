/* auth_key.c: the accepted algorithms, public keys from PEM text, and
 * JWS signature checks through OpenSSL directly. */
#include "auth_int.h"

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
	{ "RS256", "SHA256", AUTH_SIG_PKCS1, NULL, NULL, 0 },
	{ "RS384", "SHA384", AUTH_SIG_PKCS1, NULL, NULL, 0 },
	{ "RS512", "SHA512", AUTH_SIG_PKCS1, NULL, NULL, 0 },
	{ "PS256", "SHA256", AUTH_SIG_PSS, NULL, NULL, 0 },
	{ "PS384", "SHA384", AUTH_SIG_PSS, NULL, NULL, 0 },
	{ "PS512", "SHA512", AUTH_SIG_PSS, NULL, NULL, 0 },
	{ "ES256", "SHA256", AUTH_SIG_ECDSA, "prime256v1", "P-256", 32 },
	{ "ES384", "SHA384", AUTH_SIG_ECDSA, "secp384r1", "P-384", 48 },
	{ "ES512", "SHA512", AUTH_SIG_ECDSA, "secp521r1", "P-521", 66 },
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

/* A full PEM pasted into KEYCLOAK_PUBLIC_KEY is accepted too. */
int
auth_key_from_body(const char *body, EVP_PKEY **key, char *errstr,
    size_t size)
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

int
auth_key_from_pem(const char *path, EVP_PKEY **key, char *errstr,
    size_t size)
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

/* Refusing a key that cannot have made signatures of the configured alg
 * makes a misconfiguration show at start-up, not as 401s for everyone. */
int
auth_key_suits(const struct auth_alg *alg, EVP_PKEY *key, const char *where,
    char *errstr, size_t size)
{
	char group[64] = "";
	const char *why = NULL;

	if (alg->kind == AUTH_SIG_ECDSA) {
		if (!EVP_PKEY_is_a(key, "EC") ||
		    !EVP_PKEY_get_group_name(key, group, sizeof(group),
		    NULL) || strcmp(group, alg->curve) != 0)
			why = "an EC key on the algorithm's curve";
	} else if (!EVP_PKEY_is_a(key, "RSA") &&
	    !(alg->kind == AUTH_SIG_PSS && EVP_PKEY_is_a(key, "RSA-PSS"))) {
		why = "an RSA key";
	} else if (EVP_PKEY_get_bits(key) < RSA_MIN_BITS) {
		why = "an RSA key of at least 2048 bits";
	}
	if (why == NULL)
		return 0;
	snprintf(errstr, size, "%s: KEYCLOAK_ALG %s needs %s", where,
	    alg->name, why);
	return AUTH_EKEY;
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
auth_sig_verify(const struct auth_alg *alg, EVP_PKEY *key,
    const char *input, size_t n, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char der[160];
	int ok = 0;

	if (ctx == NULL)
		return AUTH_ENOMEM;
	if (alg->kind == AUTH_SIG_ECDSA) {
		siglen = ecdsa_der(alg, sig, siglen, der, sizeof(der));
		sig = der;
	}
	if (siglen > 0 && EVP_DigestVerifyInit_ex(ctx, &pctx, alg->digest,
	    NULL, NULL, key, NULL) == 1 && set_padding(pctx, alg->kind))
		ok = EVP_DigestVerify(ctx, sig, siglen,
		    (const unsigned char *)input, n) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : AUTH_ESIGNATURE;
}
