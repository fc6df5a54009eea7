/* auth_cache.c: tokens whose signature and claims were checked, so that
 * the same token again costs a digest and a clock check. */
#include "auth_int.h"

#include <string.h>

#include <openssl/crypto.h>

void auth_cache_clear(struct auth_cache *c)
{
	memset(c->slot, 0, sizeof c->slot);
}

int auth_cache_find(struct auth_cache *c,
    const unsigned char digest[AUTH_DIGEST_LEN], time_t now, long leeway,
    struct principal *who)
{
	const struct auth_cached *e = &c->slot[digest[0] % AUTH_CACHE_SLOTS];

	/* Constant time: the digests of other clients' tokens are in here. */
	if (!e->used || CRYPTO_memcmp(e->digest, digest, AUTH_DIGEST_LEN) != 0 ||
	    now < e->verified || (double)now > e->exp + (double)leeway) {
		c->misses++;
		return 0;
	}
	memcpy(who->sub, e->sub, sizeof who->sub);
	c->hits++;
	return 1;
}

void auth_cache_put(struct auth_cache *c,
    const unsigned char digest[AUTH_DIGEST_LEN], time_t now, double exp,
    const struct principal *who)
{
	struct auth_cached *e = &c->slot[digest[0] % AUTH_CACHE_SLOTS];

	memcpy(e->digest, digest, AUTH_DIGEST_LEN);
	e->used = 1;
	e->verified = now;
	e->exp = exp;
	memcpy(e->sub, who->sub, sizeof e->sub);
}
