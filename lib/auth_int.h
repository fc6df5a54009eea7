/* auth_int.h: what the auth_*.c files share with each other; no other
 * module includes it.  struct auth is built by auth_open() and read-only
 * afterwards, so auth_verify() may run in any thread. */
#ifndef MSGCMD_AUTH_INT_H
#define MSGCMD_AUTH_INT_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "auth.h"

/* How the signature of an accepted algorithm is checked. */
enum auth_sigkind { AUTH_SIG_PKCS1, AUTH_SIG_PSS, AUTH_SIG_ECDSA };

/* One accepted JWS algorithm (RFC 7518 section 3.1). */
struct auth_alg {
	const char *name;	/* the exact "alg" header value */
	const char *digest;	/* OpenSSL digest name */
	enum auth_sigkind kind;
	const char *curve;	/* ECDSA only: the key's required group */
	size_t half;		/* ECDSA only: bytes in each of R and S */
};

struct auth {
	EVP_PKEY *key;			/* the pinned public key */
	const struct auth_alg *alg;	/* the only algorithm accepted */
	char *audience;			/* must be in aud */
	char *issuer;			/* must equal iss; NULL = unchecked */
	long leeway;			/* seconds of clock skew tolerated */
};

/* Returns the row for an algorithm name, or NULL when it is not one we
 * accept (none, HS*, typos). */
const struct auth_alg *auth_alg_find(const char *name);

/* Loads the key named by cfg into a->key and checks that it suits a->alg.
 * Returns 0, or AUTH_EKEY / AUTH_ENOMEM with errstr naming the setting. */
int auth_key_load(struct auth *a, const struct config *cfg, char *errstr,
    size_t errstr_size);

/* Checks the JWS signature sig over the n bytes of signing input (the
 * "header.payload" text) with the pinned key.  Returns 0, AUTH_ESIGNATURE
 * or AUTH_ENOMEM. */
int auth_sig_verify(const struct auth *a, const char *input, size_t n,
    const unsigned char *sig, size_t siglen);

/* Checks the claims of a signature-verified payload at time now (table in
 * auth_claims.c).  Returns 0 and fills who, or the first failing claim's
 * auth_err with who untouched. */
int auth_claims_check(const struct auth *a, struct json_object *claims,
    time_t now, struct principal *who);

/* Returns 1 when o is a JSON string equal to s byte for byte (an embedded
 * NUL does not end the comparison early), else 0. */
int auth_json_streq(struct json_object *o, const char *s);

#endif
