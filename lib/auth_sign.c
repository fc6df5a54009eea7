/* auth_sign.c: mints tokens for development and tests with libjwt; the
 * server itself only verifies (auth.c). */
#include "auth.h"

#include <errno.h>
#include <string.h>

#include <jwt.h>

/* Any alg libjwt knows except "none" is allowed, HS* included, so tests
 * can forge the HS256-with-the-public-key token auth_verify() must
 * refuse.  libjwt takes the PEM text (or the HMAC secret) as the key. */
int
auth_sign(const char *private_pem, const char *alg, const char *claims,
    char **token)
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
	if (rc == 0 && jwt_add_header(jwt, "typ", "JWT") != 0)
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
