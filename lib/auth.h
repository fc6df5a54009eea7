/* auth.h: verifies Keycloak access tokens (RFC 7519 JWT, RS256 by
 * default).  The algorithm comes from configuration only; every claim is
 * checked here, not by the JWT library. */
#ifndef MSGCMD_AUTH_H
#define MSGCMD_AUTH_H

#include <stddef.h>
#include <time.h>

struct config;
struct auth;

enum auth_err {
	AUTH_OK = 0,
	AUTH_EMISSING = -1,	/* no Authorization header, or not "Bearer" */
	AUTH_EMALFORMED = -2,	/* not three base64url segments of JSON */
	AUTH_EALG = -3,		/* header alg is not the configured one */
	AUTH_ESIGNATURE = -4,	/* signature does not verify */
	AUTH_EEXPIRED = -5,	/* exp missing or in the past (beyond leeway) */
	AUTH_ENOTYET = -6,	/* nbf or iat in the future (beyond leeway) */
	AUTH_EAUDIENCE = -7,	/* aud does not contain the audience */
	AUTH_EISSUER = -8,	/* iss differs from the configured issuer */
	AUTH_ESUBJECT = -9,	/* sub missing, empty, not a string, too long */
	AUTH_EKEY = -10,	/* start-up or reload: no usable key */
	AUTH_ENOMEM = -11,
	AUTH_EKID = -12,	/* JWKS: no key has the token's kid */
};

#define AUTH_SUB_MAX 255

struct principal {
	char sub[AUTH_SUB_MAX + 1];
};

/* Loads the keys from exactly one of KEYCLOAK_PUBLIC_KEY (base64 body),
 * KEYCLOAK_PUBLIC_KEY_FILE (PEM) or KEYCLOAK_JWKS_FILE (RFC 7517 set)
 * and remembers alg, audience, issuer and leeway.  Returns 0 and a
 * handle the caller frees with auth_close(), or a negative auth_err with
 * one line in errstr naming the setting. */
int auth_open(struct auth **out, const struct config *cfg, char *errstr,
    size_t errstr_size);

void auth_close(struct auth *a);

/* Verifies the value of an Authorization header ("Bearer <jwt>") at time
 * now.  Returns 0 and fills who, or a negative auth_err (who untouched).
 * With a key file, first re-reads it when it changed on disk (one stat
 * per distinct now, so at most once a second with a real clock); a
 * failed re-read keeps the previous keys.  With a JWKS the token's kid
 * picks the key (AUTH_EKID when none has it); a token without kid is
 * accepted only when the set holds exactly one key.  The other sources
 * hold one key and ignore kid. */
int auth_verify(struct auth *a, const char *authorization, time_t now,
    struct principal *who);

/* Re-reads the key source now (SIGHUP).  Returns 0 when the new keys are
 * in use, or a negative auth_err when they could not be loaded: then the
 * previous keys stay and one line is logged.  Call it from the thread
 * that calls auth_verify(), between requests. */
int auth_reload(struct auth *a);

/* Returns a short description of an auth_err, fit for the
 * error_description of WWW-Authenticate (no quotes or backslashes). */
const char *auth_strerror(int err);

/* Development only: signs claims (a JSON object text) with the private key
 * in private_pem using alg, with kid in the header unless it is NULL.
 * Returns 0 and a malloc'd token in *token, or a negative auth_err. */
int auth_sign(const char *private_pem, const char *alg, const char *kid,
    const char *claims, char **token);

/* Development only: a JWKS (RFC 7517) holding the public key in
 * public_pem as kid, with "use":"sig" and alg (one KEYCLOAK_ALG accepts).
 * Returns 0 and malloc'd JSON text in *jwks, AUTH_EALG, AUTH_EKEY (not a
 * public key fit for alg) or AUTH_ENOMEM. */
int auth_jwks_make(const char *public_pem, const char *kid, const char *alg,
    char **jwks);

#endif
