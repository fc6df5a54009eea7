/* test_auth_cache.c: the cache of verified tokens: a hit only for the
 * same bytes, within exp, never across a key change. */
#include "pem.h"
#include "unit.h"

#include "auth_int.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#define NOW 1700000000
#define EXP 1700003600	/* NOW + 1 h */
#define LEEWAY 30

static const struct principal alice = { "alice" };

static void
digest_of(unsigned char d[AUTH_DIGEST_LEN], int seed)
{
	for (int i = 0; i < AUTH_DIGEST_LEN; i++)
		d[i] = (unsigned char)(seed * 31 + i);
}

START_TEST(hit_for_the_same_digest_within_exp)
{
	struct auth_cache c = { 0 };
	struct principal who = { "untouched" };
	unsigned char d[AUTH_DIGEST_LEN], other[AUTH_DIGEST_LEN];

	digest_of(d, 1);
	memcpy(other, d, sizeof other);
	other[AUTH_DIGEST_LEN - 1] ^= 1;	/* same slot, other token */
	ck_assert_int_eq(auth_cache_find(&c, d, NOW, LEEWAY, &who), 0);
	auth_cache_put(&c, d, NOW, EXP, &alice);
	ck_assert_int_eq(auth_cache_find(&c, other, NOW, LEEWAY, &who), 0);
	ck_assert_str_eq(who.sub, "untouched");
	ck_assert_int_eq(auth_cache_find(&c, d, NOW + 60, LEEWAY, &who), 1);
	ck_assert_str_eq(who.sub, "alice");
	/* exp holds while now <= exp + leeway, as in auth_claims.c. */
	ck_assert_int_eq(auth_cache_find(&c, d, EXP + LEEWAY, LEEWAY, &who), 1);
	ck_assert_int_eq(auth_cache_find(&c, d, EXP + LEEWAY + 1, LEEWAY, &who), 0);
	/* A clock set back before the verification: nbf may not hold. */
	ck_assert_int_eq(auth_cache_find(&c, d, NOW - 1, LEEWAY, &who), 0);
	ck_assert_uint_eq(c.hits, 2);
	auth_cache_clear(&c);
	ck_assert_int_eq(auth_cache_find(&c, d, NOW, LEEWAY, &who), 0);
}
END_TEST

START_TEST(a_slot_holds_the_last_token_put)
{
	struct auth_cache c = { 0 };
	struct principal who, bob = { "bob" };
	unsigned char d1[AUTH_DIGEST_LEN], d2[AUTH_DIGEST_LEN];

	digest_of(d1, 1);
	digest_of(d2, 2);
	d2[0] = (unsigned char)(d1[0] + AUTH_CACHE_SLOTS);	/* same slot */
	auth_cache_put(&c, d1, NOW, EXP, &alice);
	auth_cache_put(&c, d2, NOW, EXP, &bob);
	ck_assert_int_eq(auth_cache_find(&c, d1, NOW, LEEWAY, &who), 0);
	ck_assert_int_eq(auth_cache_find(&c, d2, NOW, LEEWAY, &who), 1);
	ck_assert_str_eq(who.sub, "bob");
}
END_TEST

/* Through auth_verify(), with a PEM key file that changes. */
static char dir[64], pem_path[96];

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static char *
signed_token(const char *priv_pem, long exp)
{
	char claims[160], *token = NULL;

	snprintf(claims, sizeof claims, "{\"sub\":\"alice\",\"aud\":\"account\","
	    "\"exp\":%ld}", exp);
	ck_assert_int_eq(auth_sign(priv_pem, "RS256", NULL, claims, &token), 0);
	return token;
}

static char *
bearer(const char *token)
{
	char *h = NULL;

	ck_assert_int_ge(asprintf(&h, "Bearer %s", token), 0);
	return h;
}

START_TEST(verify_caches_and_forgets_on_key_change)
{
	EVP_PKEY *ka = EVP_RSA_gen(2048), *kb = EVP_RSA_gen(2048);
	char *priv_a = pem_of(ka, 1), *pub_a = pem_of(ka, 0);
	char *pub_b = pem_of(kb, 0);
	char err[256];
	struct auth *a = NULL;
	struct principal who;
	struct config cfg = { .alg = "RS256", .audience = "account",
	    .leeway_s = LEEWAY };
	char *tok = signed_token(priv_a, EXP), *h = bearer(tok), *forged;

	snprintf(dir, sizeof dir, "/tmp/msgcmd-auth-cache-%d", getpid());
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(pem_path, sizeof pem_path, "%s/key.pem", dir);
	write_file(pem_path, pub_a);
	cfg.public_key_file = pem_path;
	ck_assert_int_eq(auth_open(&a, &cfg, err, sizeof err), 0);

	ck_assert_int_eq(auth_verify(a, h, NOW, &who), 0);
	ck_assert_int_eq(auth_verify(a, h, NOW, &who), 0);
	ck_assert_str_eq(who.sub, "alice");
	ck_assert_uint_eq(a->cache.hits, 1);

	/* The last signature byte changed: other bytes, verified in full. */
	forged = strdup(h);
	forged[strlen(forged) - 2] = forged[strlen(forged) - 2] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(auth_verify(a, forged, NOW, &who), AUTH_ESIGNATURE);

	/* Expired: the cached entry does not outlive exp. */
	ck_assert_int_eq(auth_verify(a, h, EXP + LEEWAY + 1, &who),
	    AUTH_EEXPIRED);

	/* SIGHUP with another key in the file: the token no longer verifies. */
	write_file(pem_path, pub_b);
	ck_assert_int_eq(auth_reload(a), 0);
	ck_assert_int_eq(auth_verify(a, h, NOW, &who), AUTH_ESIGNATURE);

	/* And back, noticed by the file check (a new now): cached again,
	 * then forgotten when the file changes once more. */
	write_file(pem_path, pub_a);
	ck_assert_int_eq(auth_reload(a), 0);
	ck_assert_int_eq(auth_verify(a, h, NOW + 1, &who), 0);
	ck_assert_int_eq(auth_verify(a, h, NOW + 1, &who), 0);
	write_file(pem_path, pub_b);
	ck_assert_int_eq(auth_verify(a, h, NOW + 2, &who), AUTH_ESIGNATURE);

	auth_close(a);
	unlink(pem_path);
	rmdir(dir);
	free(forged);
	free(h);
	free(tok);
	free(priv_a);
	free(pub_a);
	free(pub_b);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
}
END_TEST

static Suite *
auth_cache_suite(void)
{
	Suite *s = suite_create("auth_cache");
	TCase *tc = tcase_create("cache");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, hit_for_the_same_digest_within_exp);
	tcase_add_test(tc, a_slot_holds_the_last_token_put);
	tcase_add_test(tc, verify_caches_and_forgets_on_key_change);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(auth_cache_suite)
