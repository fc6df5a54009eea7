/* auth_int.h: what the auth_*.c files share with each other; no other
 * module includes it.
 *
 * Threads and ownership: a responder serves its requests on one thread,
 * the only one that calls auth_verify() and auth_reload(); the publisher
 * thread never touches auth.  So no lock is needed: a reload builds a
 * complete new struct auth_keys, swaps the pointer and frees the old set
 * (no verification is in flight then).  A refetch of KEYCLOAK_JWKS_URL
 * happens on that thread too, in the middle of a verification, through
 * auth_keys_pick().  The verification cache changes on that thread only.
 * Everything else in struct auth is read-only after auth_open(). */
#ifndef MSGCMD_AUTH_INT_H
#define MSGCMD_AUTH_INT_H

#include <stddef.h>
#include <sys/types.h>
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
	const char *crv;	/* ECDSA only: the JWK "crv" of that group */
	size_t half;		/* ECDSA only: bytes in each of R and S */
};

struct auth_key {
	char *kid;		/* the JWK's "kid"; NULL when it has none */
	EVP_PKEY *pkey;
};

/* A set of verification keys, never changed once built: a reload makes
 * a new one. */
struct auth_keys {
	int by_kid;		/* JWKS: the token's kid picks the key */
	struct auth *refetch;	/* URL source: whose set to refetch when a
				 * kid is not here; NULL for the others */
	size_t n;
	struct auth_key key[];
};

/* A key file as stat(2) saw it; any difference means "read it again". */
struct auth_file_id {
	int missing;		/* stat failed */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct auth_source;		/* a row of the table in auth_keys.c */

/* Tokens already verified (auth_cache.c).  A client sends the same access
 * token for its whole lifetime, minutes, and checking its RSA signature is
 * most of a request's instructions; a token's bytes decide its signature
 * and static claims, so a hit need only re-check the clock.  Keyed by the
 * token's SHA-256; emptied whenever the keys change. */
#define AUTH_CACHE_SLOTS 64
#define AUTH_DIGEST_LEN 32

struct auth_cached {
	unsigned char digest[AUTH_DIGEST_LEN];
	int used;
	time_t verified;	/* now when its signature and claims held */
	double exp;		/* its exp claim */
	char sub[AUTH_SUB_MAX + 1];
};

struct auth_cache {
	struct auth_cached slot[AUTH_CACHE_SLOTS];	/* by digest[0] */
	unsigned long hits, misses;
};

/* Empties c (the keys changed: what they verified may not hold now). */
void auth_cache_clear(struct auth_cache *c);

/* Returns 1 and fills who when the token with this digest was verified
 * at a time no later than now and its exp still holds at now with
 * leeway (the rule of auth_claims.c; nbf and iat held at the earlier
 * time, so they hold now).  Returns 0 otherwise: verify it in full. */
int auth_cache_find(struct auth_cache *c,
    const unsigned char digest[AUTH_DIGEST_LEN], time_t now, long leeway,
    struct principal *who);

/* Remembers a token verified in full at now, replacing what its slot
 * held. */
void auth_cache_put(struct auth_cache *c,
    const unsigned char digest[AUTH_DIGEST_LEN], time_t now, double exp,
    const struct principal *who);

/* The exp claim of a payload whose claims passed auth_claims_check(). */
double auth_claims_exp(struct json_object *claims);

struct auth {
	struct auth_keys *keys;		/* swapped whole by a reload */
	const struct auth_source *src;	/* the one key setting in use */
	char *src_value;		/* its value: key body or file path */
	const char *watch;		/* src_value when a file, else NULL */
	struct auth_file_id seen;	/* the file when last read */
	time_t checked;			/* now of the last stat */
	const struct auth_alg *alg;	/* the only algorithm accepted */
	char *audience;			/* must be in aud */
	char *issuer;			/* must equal iss; NULL = unchecked */
	long leeway;			/* seconds of clock skew tolerated */
	long long refetch_after_ms;	/* URL source: no refetch before
					 * this CLOCK_MONOTONIC time */
	EVP_MD *sha256;			/* for the cache's keys */
	struct auth_cache cache;	/* emptied by every key swap */
};

/* Returns the row for an algorithm name, or NULL when it is not one we
 * accept (none, HS*, typos). */
const struct auth_alg *auth_alg_find(const char *name);

/* Parses KEYCLOAK_PUBLIC_KEY (base64 body, or a whole PEM) / reads the
 * PEM file at path into *key.  Return 0, or AUTH_EKEY / AUTH_ENOMEM with
 * errstr naming the setting. */
int auth_key_from_body(const char *body, EVP_PKEY **key, char *errstr,
    size_t errstr_size);
int auth_key_from_pem(const char *path, EVP_PKEY **key, char *errstr,
    size_t errstr_size);

/* Checks that key can have made signatures of alg (type, curve, RSA
 * size).  Returns 0, or AUTH_EKEY with errstr "<where>: KEYCLOAK_ALG ...
 * needs ...". */
int auth_key_suits(const struct auth_alg *alg, EVP_PKEY *key,
    const char *where, char *errstr, size_t errstr_size);

/* Checks the JWS signature sig over the n bytes of signing input (the
 * "header.payload" text) with key.  Returns 0, AUTH_ESIGNATURE or
 * AUTH_ENOMEM. */
int auth_sig_verify(const struct auth_alg *alg, EVP_PKEY *key,
    const char *input, size_t n, const unsigned char *sig, size_t siglen);

/* Chooses the one key setting of cfg that is set and loads it into
 * a->keys (a->alg must be set).  Returns 0, or AUTH_EKEY / AUTH_ENOMEM
 * with errstr naming the setting(s). */
int auth_keys_open(struct auth *a, const struct config *cfg, char *errstr,
    size_t errstr_size);

/* Builds a new key set from a's source into *out (for a URL source, one
 * that refers back to a for refetches).  Returns 0, or AUTH_EKEY /
 * AUTH_ENOMEM with errstr naming the setting (*out NULL). */
int auth_keys_load(struct auth *a, struct auth_keys **out, char *errstr,
    size_t errstr_size);

/* Returns an empty set with room for cap keys, or NULL (no memory). */
struct auth_keys *auth_keys_new(size_t cap, int by_kid);

void auth_keys_free(struct auth_keys *ks);

/* Picks the key for a token whose header kid member is kid (NULL when
 * absent), by the rules in auth.h.  Returns 0 and *key, or AUTH_EKID.
 * When ks->refetch is set and no key has the (string) kid, the set is
 * first refetched (auth_fetch_refetch()): that may free ks and put a new
 * set in ks->refetch->keys, which *key then belongs to.  So the caller
 * passes a->keys and uses only *key afterwards, until the next call. */
int auth_keys_pick(const struct auth_keys *ks, struct json_object *kid,
    EVP_PKEY **key);

/* The loader of KEYCLOAK_JWKS_FILE (auth_jwks.c): the keys of the set at
 * path that suit alg, by kid.  Returns 0 and a new set in *out, or
 * AUTH_EKEY / AUTH_ENOMEM with errstr "KEYCLOAK_JWKS_FILE: path: ...". */
int auth_jwks_load(const struct auth_alg *alg, const char *path,
    struct auth_keys **out, char *errstr, size_t errstr_size);

/* The loader of KEYCLOAK_JWKS_URL (auth_fetch.c): fetches the set at
 * url (http or https, with connect and total timeouts) and reads it as
 * auth_jwks_load() reads a file.  Returns 0 and a new set in *out, or
 * AUTH_EKEY / AUTH_ENOMEM with errstr "KEYCLOAK_JWKS_URL: url: ...". */
int auth_fetch_load(const struct auth_alg *alg, const char *url,
    struct auth_keys **out, char *errstr, size_t errstr_size);

/* At most one refetch per responder in this many seconds: a rotated
 * realm key is picked up within seconds, while tokens with made-up kids
 * cannot turn a responder into a flood of requests to Keycloak. */
#define AUTH_REFETCH_SECONDS 10

/* A token named a kid that a's URL key set lacks: fetches the set again,
 * unless a refetch was tried less than AUTH_REFETCH_SECONDS ago.  Returns
 * 0 when a new set replaced a->keys (the old one is freed), AUTH_EKID when
 * it is too soon, or AUTH_EKEY / AUTH_ENOMEM when the fetch failed: then
 * the old set stays and one line is logged. */
int auth_fetch_refetch(struct auth *a);

/* Records in a->seen what a->watch looks like now; call before reading
 * the file, so a change made while reading is seen next time. */
void auth_reload_mark(struct auth *a);

/* Re-reads a->watch when it changed since a->seen, at most once per
 * distinct now.  Never fails: a bad file keeps the old keys (logged). */
void auth_reload_check(struct auth *a, time_t now);

/* Parses n bytes as one strict JSON object with nothing after it.
 * Returns 0 and *out (the caller puts it), AUTH_EMALFORMED or
 * AUTH_ENOMEM. */
int auth_json_object(const void *buf, size_t n, struct json_object **out);

/* Checks the claims of a signature-verified payload at time now (table in
 * auth_claims.c).  Returns 0 and fills who, or the first failing claim's
 * auth_err with who untouched. */
int auth_claims_check(const struct auth *a, struct json_object *claims,
    time_t now, struct principal *who);

/* Returns 1 when o is a JSON string equal to s byte for byte (an embedded
 * NUL does not end the comparison early), else 0. */
int auth_json_streq(struct json_object *o, const char *s);

#endif
