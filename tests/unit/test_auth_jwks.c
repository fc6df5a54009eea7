/* test_auth_jwks.c: key sources beyond the single key: JWKS files (kid
 * selection, keys passed over, malformed sets), reload when the file
 * changes or on request, and the JWKS the token tool prints. */
#include "pem.h"
#include "unit.h"

#include "auth.h"
#include "b64url.h"
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define NOW 1700000000
#define GOOD "{\"sub\":\"alice\",\"aud\":\"account\",\"exp\":1700003600}"

/* Made once in the parent (unchecked fixture); forked tests inherit. */
static struct {
	EVP_PKEY *a, *b, *small, *ec;
	char *a_priv, *a_pub, *b_pub, *ec_priv, *ec_pub;
	char *a_n;		/* key a's modulus, base64url */
	char dir[64], jwks[96], pem[96], log[96];
	long stamp;		/* the next fake mtime, so every write shows */
} k;

static char *b64_param(EVP_PKEY *key, const char *param, int pad);

static void
keys_setup(void)
{
	k.a = EVP_RSA_gen(2048);
	k.b = EVP_RSA_gen(2048);
	k.small = EVP_RSA_gen(1024);
	k.ec = EVP_EC_gen("P-256");
	ck_assert(k.a && k.b && k.small && k.ec);
	k.a_priv = pem_of(k.a, 1);
	k.a_pub = pem_of(k.a, 0);
	k.b_pub = pem_of(k.b, 0);
	k.ec_priv = pem_of(k.ec, 1);
	k.ec_pub = pem_of(k.ec, 0);
	k.a_n = b64_param(k.a, "n", 0);
	strcpy(k.dir, "/tmp/test_auth_jwks.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(k.dir));
	snprintf(k.jwks, sizeof(k.jwks), "%s/jwks.json", k.dir);
	snprintf(k.pem, sizeof(k.pem), "%s/public.pem", k.dir);
	snprintf(k.log, sizeof(k.log), "%s/log", k.dir);
	k.stamp = 1000000000;
}

static void
keys_teardown(void)
{
	unlink(k.jwks);
	unlink(k.pem);
	unlink(k.log);
	rmdir(k.dir);
	EVP_PKEY_free(k.a);
	EVP_PKEY_free(k.b);
	EVP_PKEY_free(k.small);
	EVP_PKEY_free(k.ec);
	free(k.a_priv);
	free(k.a_pub);
	free(k.b_pub);
	free(k.ec_priv);
	free(k.ec_pub);
	free(k.a_n);
}

/* Writes text to path and gives it an mtime it never had, as a slow
 * clock or a same-size rewrite might not. */
static void
put_file(const char *path, const char *text)
{
	struct timespec t[2] = { { k.stamp, 0 }, { k.stamp, 0 } };
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
	k.stamp++;
}

/* A public number of key as base64url, through OpenSSL and b64url only,
 * so the JWKS tests do not lean on auth_jwks_make(). */
static char *
b64_param(EVP_PKEY *key, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[512];
	int n;

	ck_assert_int_eq(EVP_PKEY_get_bn_param(key, param, &bn), 1);
	n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64url_encode(buf, (size_t)n);
}

/* One JWK: the members text, then key's type and numbers (none when key
 * is NULL, for hand-made malformed keys). */
static char *
jwk(EVP_PKEY *key, const char *members)
{
	int ec = key && EVP_PKEY_is_a(key, "EC");
	char *x = key ? b64_param(key, ec ? "qx" : "n", ec ? 32 : 0) : NULL;
	char *y = key ? b64_param(key, ec ? "qy" : "e", ec ? 32 : 0) : NULL;
	char *out;

	if (key == NULL)
		ck_assert_int_ge(asprintf(&out, "{%s}", members), 0);
	else
		ck_assert_int_ge(asprintf(&out, ec ? "{%s%s\"kty\":\"EC\","
		    "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}" :
		    "{%s%s\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", members,
		    *members ? "," : "", x, y), 0);
	free(x);
	free(y);
	return out;
}

/* Writes {"keys":[jwk(k1, m1), jwk(k2, m2)]} (the second when m2). */
static void
put_jwks(EVP_PKEY *k1, const char *m1, EVP_PKEY *k2, const char *m2)
{
	char *j1 = jwk(k1, m1), *j2 = m2 ? jwk(k2, m2) : NULL, *text;

	ck_assert_int_ge(asprintf(&text, "{\"keys\":[%s%s%s]}", j1,
	    j2 ? "," : "", j2 ? j2 : ""), 0);
	put_file(k.jwks, text);
	free(j1);
	free(j2);
	free(text);
}

static struct config
cfg_jwks(void)
{
	return (struct config){ .jwks_file = k.jwks, .alg = "RS256",
	    .audience = "account", .leeway_s = 30 };
}

static struct auth *
open_ok(const struct config *cfg)
{
	struct auth *a = NULL;
	char err[512] = "";
	int rc = auth_open(&a, cfg, err, sizeof(err));

	ck_assert_msg(rc == 0, "auth_open: %d %s", rc, err);
	return a;
}

/* An RS256 token by key, signed with OpenSSL; kid is JSON text (a quoted
 * string, a number...) or NULL for a header without kid. */
static char *
rs256(EVP_PKEY *key, const char *kid)
{
	char *hdr, *h, *p, *input, *s, *out;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[512];
	size_t n = sizeof(sig);

	ck_assert_int_ge(asprintf(&hdr, "{\"alg\":\"RS256\"%s%s}",
	    kid ? ",\"kid\":" : "", kid ? kid : ""), 0);
	h = b64url_encode(hdr, strlen(hdr));
	p = b64url_encode(GOOD, strlen(GOOD));
	ck_assert_int_ge(asprintf(&input, "%s.%s", h, p), 0);
	ck_assert_int_eq(EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL,
	    key, NULL), 1);
	ck_assert_int_eq(EVP_DigestSign(ctx, sig, &n, (unsigned char *)input,
	    strlen(input)), 1);
	s = b64url_encode(sig, n);
	ck_assert_int_ge(asprintf(&out, "Bearer %s.%s", input, s), 0);
	EVP_MD_CTX_free(ctx);
	free(hdr);
	free(h);
	free(p);
	free(input);
	free(s);
	return out;
}

/* Verifies a token by key with kid at now on an open handle. */
static int
check(struct auth *a, EVP_PKEY *key, const char *kid, time_t now)
{
	struct principal who;
	char *h = rs256(key, kid);
	int rc = auth_verify(a, h, now, &who);

	free(h);
	return rc;
}

/* Sends stderr, where log lines go, to k.log until log_count(). */
static int saved_stderr = -1;

static void
log_capture(void)
{
	int fd = open(k.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	saved_stderr = dup(2);
	ck_assert_int_ge(dup2(fd, 2), 0);
	close(fd);
}

/* Restores stderr; asserts the captured log has `errors` error lines
 * "keys not reloaded" and `infos` info lines "keys reloaded". */
static void
log_count(int errors, int infos)
{
	char line[1024];
	int e = 0, i = 0;
	FILE *fp;

	ck_assert_int_ge(dup2(saved_stderr, 2), 0);
	close(saved_stderr);
	ck_assert_ptr_nonnull(fp = fopen(k.log, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		e += strstr(line, "\"level\":\"error\"") &&
		    strstr(line, "keys not reloaded") != NULL;
		i += strstr(line, "\"level\":\"info\"") &&
		    strstr(line, "\"msg\":\"keys reloaded") != NULL;
	}
	fclose(fp);
	ck_assert_int_eq(e, errors);
	ck_assert_int_eq(i, infos);
}

/* Two keys: the kid picks, the signature still decides. */
static const struct {
	const char *name, *kid;
	int signer_b, want;
} kid_cases[] = {
	{ "kid a, key a", "\"a\"", 0, AUTH_OK },
	{ "kid b, key b", "\"b\"", 1, AUTH_OK },
	{ "kid a, key b", "\"a\"", 1, AUTH_ESIGNATURE },
	{ "unknown kid", "\"c\"", 0, AUTH_EKID },
	{ "no kid among two keys", NULL, 0, AUTH_EKID },
	{ "empty kid", "\"\"", 0, AUTH_EKID },
	{ "kid a number", "7", 0, AUTH_EKID },
	{ "kid with NUL", "\"a\\u0000\"", 0, AUTH_EKID },
};

START_TEST(kid_selects_key)
{
	struct config cfg = cfg_jwks();
	struct auth *a;
	int rc;

	put_jwks(k.a, "\"kid\":\"a\",\"use\":\"sig\",\"alg\":\"RS256\"", k.b,
	    "\"kid\":\"b\"");
	a = open_ok(&cfg);
	rc = check(a, kid_cases[_i].signer_b ? k.b : k.a, kid_cases[_i].kid,
	    NOW);
	ck_assert_msg(rc == kid_cases[_i].want, "%s: got %d, want %d",
	    kid_cases[_i].name, rc, kid_cases[_i].want);
	auth_close(a);
}
END_TEST

/* A one-key set accepts a token without kid; a kid must still match. */
START_TEST(one_key_set)
{
	struct config cfg = cfg_jwks();
	struct auth *a;

	put_jwks(k.a, "\"kid\":\"a\"", NULL, NULL);
	a = open_ok(&cfg);
	ck_assert_int_eq(check(a, k.a, NULL, NOW), AUTH_OK);
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW), AUTH_OK);
	ck_assert_int_eq(check(a, k.a, "\"z\"", NOW), AUTH_EKID);
	auth_close(a);
	put_jwks(k.a, "", NULL, NULL);
	a = open_ok(&cfg);
	ck_assert_int_eq(check(a, k.a, NULL, NOW), AUTH_OK);
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW), AUTH_EKID);
	auth_close(a);
}
END_TEST

/* Key a (members below) beside a good key b: a is passed over when the
 * set marks it as not for RS256 signatures. */
static const struct {
	const char *name, *members;
	int ec, want;
} pass_cases[] = {
	{ "use sig, alg RS256", "\"kid\":\"a\",\"use\":\"sig\","
	    "\"alg\":\"RS256\"", 0, AUTH_OK },
	{ "no use, no alg", "\"kid\":\"a\"", 0, AUTH_OK },
	{ "use enc", "\"kid\":\"a\",\"use\":\"enc\"", 0, AUTH_EKID },
	{ "use SIG", "\"kid\":\"a\",\"use\":\"SIG\"", 0, AUTH_EKID },
	{ "alg RSA-OAEP", "\"kid\":\"a\",\"alg\":\"RSA-OAEP\"", 0, AUTH_EKID },
	{ "alg RS384", "\"kid\":\"a\",\"alg\":\"RS384\"", 0, AUTH_EKID },
	{ "EC key", "\"kid\":\"a\"", 1, AUTH_EKID },
};

START_TEST(keys_passed_over)
{
	struct config cfg = cfg_jwks();
	struct auth *a;
	int rc;

	put_jwks(pass_cases[_i].ec ? k.ec : k.a, pass_cases[_i].members, k.b,
	    "\"kid\":\"b\"");
	a = open_ok(&cfg);
	rc = check(a, k.a, "\"a\"", NOW);
	ck_assert_msg(rc == pass_cases[_i].want, "%s: got %d, want %d",
	    pass_cases[_i].name, rc, pass_cases[_i].want);
	ck_assert_int_eq(check(a, k.b, "\"b\"", NOW), AUTH_OK);
	auth_close(a);
}
END_TEST

#define RSA_OK "\"kty\":\"RSA\",\"e\":\"AQAB\""
/* "@N@" stands for the modulus of key a, filled in by fill_n(). */
#define N_OK "\"n\":\"@N@\""

/* Refused sets: errstr is "KEYCLOAK_JWKS_FILE: <path>: " + want. */
static const struct {
	const char *name, *text, *want;
} bad_cases[] = {
	{ "empty file", "", "not a JSON object" },
	{ "not JSON", "keys", "not a JSON object" },
	{ "array", "[]", "not a JSON object" },
	{ "trailing text", "{\"keys\":[]} x", "not a JSON object" },
	{ "no keys", "{}", "no \"keys\" array" },
	{ "keys an object", "{\"keys\":{}}", "no \"keys\" array" },
	{ "no keys at all", "{\"keys\":[]}",
	    "no signing key for KEYCLOAK_ALG RS256" },
	{ "only enc keys", "{\"keys\":[{\"use\":\"enc\"," RSA_OK "," N_OK "}]}",
	    "no signing key for KEYCLOAK_ALG RS256" },
	{ "key a number", "{\"keys\":[1]}", "keys[0]: not a JSON object" },
	{ "n missing", "{\"keys\":[{" RSA_OK "}]}",
	    "keys[0]: n and e must be base64url strings" },
	{ "n padded", "{\"keys\":[{" RSA_OK ",\"n\":\"@N@=\"}]}",
	    "keys[0]: n and e must be base64url strings" },
	{ "n base64 not url", "{\"keys\":[{" RSA_OK ",\"n\":\"+@N@\"}]}",
	    "keys[0]: n and e must be base64url strings" },
	{ "n a number", "{\"keys\":[{" RSA_OK ",\"n\":5}]}",
	    "keys[0]: n and e must be base64url strings" },
	{ "e bad", "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQ AB\"," N_OK "}]}",
	    "keys[0]: n and e must be base64url strings" },
	{ "kid a number", "{\"keys\":[{\"kid\":1," RSA_OK "," N_OK "}]}",
	    "keys[0]: kid must be a string" },
	{ "kid twice", "{\"keys\":[{\"kid\":\"a\"," RSA_OK "," N_OK "},"
	    "{\"kid\":\"a\"," RSA_OK "," N_OK "}]}",
	    "keys[1]: kid is used by an earlier key" },
	{ "RSA 1024", NULL, "keys[0]: KEYCLOAK_ALG RS256 needs an RSA key of "
	    "at least 2048 bits" },
};

/* Returns text with every "@N@" replaced by key a's modulus. */
static char *
fill_n(const char *text)
{
	char *out = malloc(strlen(text) * (strlen(k.a_n) + 1) + 1), *o = out;

	for (const char *p = text; *p != '\0';) {
		if (strncmp(p, "@N@", 3) == 0) {
			o = stpcpy(o, k.a_n);
			p += 3;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

START_TEST(malformed_sets)
{
	struct config cfg = cfg_jwks();
	struct auth *a = NULL;
	char err[512] = "", *want, *text;

	if (bad_cases[_i].text != NULL) {
		text = fill_n(bad_cases[_i].text);
		put_file(k.jwks, text);
		free(text);
	} else
		put_jwks(k.small, "\"kid\":\"s\"", NULL, NULL);
	ck_assert_int_ge(asprintf(&want, "KEYCLOAK_JWKS_FILE: %s: %s", k.jwks,
	    bad_cases[_i].want), 0);
	ck_assert_int_eq(auth_open(&a, &cfg, err, sizeof(err)), AUTH_EKEY);
	ck_assert_ptr_null(a);
	ck_assert_msg(strcmp(err, want) == 0, "%s: errstr \"%s\", want "
	    "\"%s\"", bad_cases[_i].name, err, want);
	free(want);
}
END_TEST

START_TEST(missing_or_huge_file)
{
	struct config cfg = cfg_jwks();
	struct auth *a = NULL;
	char err[512] = "", *big = malloc(1024 * 1024 + 2);

	cfg.jwks_file = "/nonexistent/jwks.json";
	ck_assert_int_eq(auth_open(&a, &cfg, err, sizeof(err)), AUTH_EKEY);
	ck_assert_str_eq(err, "KEYCLOAK_JWKS_FILE: /nonexistent/jwks.json: "
	    "No such file or directory");
	memset(big, ' ', 1024 * 1024 + 1);
	big[1024 * 1024 + 1] = '\0';
	put_file(k.jwks, big);
	cfg.jwks_file = k.jwks;
	ck_assert_int_eq(auth_open(&a, &cfg, err, sizeof(err)), AUTH_EKEY);
	ck_assert_ptr_nonnull(strstr(err, ": larger than 1 MiB"));
	free(big);
}
END_TEST

/* Exactly one key setting; the error names the ones set. */
START_TEST(one_source_only)
{
	struct config cfg = cfg_jwks();
	struct auth *a = NULL;
	char err[512] = "";

	cfg.public_key_file = k.pem;
	ck_assert_int_eq(auth_open(&a, &cfg, err, sizeof(err)), AUTH_EKEY);
	ck_assert_str_eq(err, "KEYCLOAK_PUBLIC_KEY_FILE, KEYCLOAK_JWKS_FILE: "
	    "more than one is set; set exactly one of KEYCLOAK_PUBLIC_KEY, "
	    "KEYCLOAK_PUBLIC_KEY_FILE, KEYCLOAK_JWKS_FILE, KEYCLOAK_JWKS_URL");
	cfg.public_key = "AAAA";
	ck_assert_int_eq(auth_open(&a, &cfg, err, sizeof(err)), AUTH_EKEY);
	ck_assert_ptr_nonnull(strstr(err, "KEYCLOAK_PUBLIC_KEY, "
	    "KEYCLOAK_PUBLIC_KEY_FILE, KEYCLOAK_JWKS_FILE: more than one"));
	cfg.public_key = cfg.public_key_file = NULL;
	cfg.jwks_file = "";
	ck_assert_int_eq(auth_open(&a, &cfg, err, sizeof(err)), AUTH_EKEY);
	ck_assert_ptr_nonnull(strstr(err, "KEYCLOAK_PUBLIC_KEY: not set"));
	ck_assert_ptr_null(a);
}
END_TEST

/* ES256 from a JWKS, tokens signed by libjwt with a kid. */
START_TEST(ec_set)
{
	struct config cfg = cfg_jwks();
	struct principal who;
	struct auth *a = NULL;
	char err[512], *t = NULL, *h;

	cfg.alg = "ES256";
	put_jwks(k.ec, "\"kid\":\"e\"", k.a, "\"kid\":\"a\"");
	a = open_ok(&cfg);
	ck_assert_int_eq(auth_sign(k.ec_priv, "ES256", "e", GOOD, &t), 0);
	ck_assert_int_ge(asprintf(&h, "Bearer %s", t), 0);
	ck_assert_int_eq(auth_verify(a, h, NOW, &who), AUTH_OK);
	ck_assert_str_eq(who.sub, "alice");
	auth_close(a);
	/* One coordinate byte short, then a point off the curve. */
	put_file(k.jwks, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"AAAA\",\"y\":\"AAAA\"}]}");
	ck_assert_int_eq(auth_open(&a, &cfg, err, sizeof(err)), AUTH_EKEY);
	ck_assert_ptr_nonnull(strstr(err, "keys[0]: x and y must be"));
	put_file(k.jwks, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	    "\"y\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}");
	ck_assert_int_eq(auth_open(&a, &cfg, err, sizeof(err)), AUTH_EKEY);
	ck_assert_ptr_nonnull(strstr(err, "keys[0]: not a point on the curve"));
	free(t);
	free(h);
}
END_TEST

/* The file changes on disk: seen at the next second, not before. */
START_TEST(reload_when_file_changes)
{
	struct config cfg = cfg_jwks();
	struct auth *a;

	log_capture();
	put_jwks(k.a, "\"kid\":\"a\"", NULL, NULL);
	a = open_ok(&cfg);
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW), AUTH_OK);
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW + 1), AUTH_OK);
	put_jwks(k.b, "\"kid\":\"b\"", NULL, NULL);
	ck_assert_int_eq(check(a, k.b, "\"b\"", NOW + 1), AUTH_EKID);
	ck_assert_int_eq(check(a, k.b, "\"b\"", NOW + 2), AUTH_OK);
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW + 2), AUTH_EKID);
	ck_assert_int_eq(check(a, k.b, "\"b\"", NOW + 3), AUTH_OK);
	auth_close(a);
	log_count(0, 1);
}
END_TEST

/* A broken or vanished file keeps the keys; the next good one counts. */
START_TEST(failed_reload_keeps_keys)
{
	struct config cfg = cfg_jwks();
	struct auth *a;

	log_capture();
	put_jwks(k.a, "\"kid\":\"a\"", NULL, NULL);
	a = open_ok(&cfg);
	put_file(k.jwks, "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"!\"}]}");
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW + 1), AUTH_OK);
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW + 2), AUTH_OK);
	ck_assert_int_eq(unlink(k.jwks), 0);
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW + 3), AUTH_OK);
	ck_assert_int_eq(auth_reload(a), AUTH_EKEY);
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW + 3), AUTH_OK);
	put_jwks(k.b, "\"kid\":\"b\"", NULL, NULL);
	ck_assert_int_eq(check(a, k.b, "\"b\"", NOW + 4), AUTH_OK);
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW + 4), AUTH_EKID);
	auth_close(a);
	log_count(3, 1);
}
END_TEST

/* auth_reload() (SIGHUP) reads at once, whatever the clock says. */
START_TEST(reload_on_request)
{
	struct config cfg = cfg_jwks();
	struct auth *a;

	log_capture();
	put_jwks(k.a, "\"kid\":\"a\"", NULL, NULL);
	a = open_ok(&cfg);
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW), AUTH_OK);
	put_jwks(k.b, "\"kid\":\"b\"", k.a, "\"kid\":\"a\"");
	ck_assert_int_eq(auth_reload(a), AUTH_OK);
	ck_assert_int_eq(check(a, k.b, "\"b\"", NOW), AUTH_OK);
	ck_assert_int_eq(check(a, k.a, "\"a\"", NOW), AUTH_OK);
	put_file(k.jwks, "not json");
	ck_assert_int_eq(auth_reload(a), AUTH_EKEY);
	ck_assert_int_eq(check(a, k.b, "\"b\"", NOW), AUTH_OK);
	auth_close(a);
	log_count(1, 1);
}
END_TEST

/* The PEM file is watched too; body and PEM keys ignore the kid. */
START_TEST(pem_and_body_sources)
{
	struct config cfg = cfg_jwks();
	struct auth *a;

	log_capture();
	cfg.jwks_file = NULL;
	cfg.public_key_file = k.pem;
	put_file(k.pem, k.a_pub);
	a = open_ok(&cfg);
	ck_assert_int_eq(check(a, k.a, "\"anything\"", NOW), AUTH_OK);
	put_file(k.pem, k.b_pub);
	ck_assert_int_eq(check(a, k.b, NULL, NOW + 1), AUTH_OK);
	ck_assert_int_eq(check(a, k.a, NULL, NOW + 1), AUTH_ESIGNATURE);
	auth_close(a);
	cfg.public_key_file = NULL;
	cfg.public_key = k.a_pub;
	a = open_ok(&cfg);
	ck_assert_int_eq(auth_reload(a), AUTH_OK);
	ck_assert_int_eq(check(a, k.a, "\"x\"", NOW + 1), AUTH_OK);
	auth_close(a);
	log_count(0, 2);
}
END_TEST

/* What msgcmd-token --jwks prints loads, and auth_sign's kid picks. */
START_TEST(made_jwks_round_trip)
{
	struct config cfg = cfg_jwks();
	struct principal who;
	struct auth *a;
	char *jwks = NULL, *t = NULL, *h;

	ck_assert_int_eq(auth_jwks_make(k.a_pub, "k1", "RS256", &jwks), 0);
	ck_assert_ptr_nonnull(strstr(jwks, "\"kid\":\"k1\",\"use\":\"sig\","
	    "\"alg\":\"RS256\""));
	put_file(k.jwks, jwks);
	a = open_ok(&cfg);
	ck_assert_int_eq(auth_sign(k.a_priv, "RS256", "k1", GOOD, &t), 0);
	ck_assert_int_ge(asprintf(&h, "Bearer %s", t), 0);
	ck_assert_int_eq(auth_verify(a, h, NOW, &who), AUTH_OK);
	auth_close(a);
	free(jwks);
	ck_assert_int_eq(auth_jwks_make(k.ec_pub, "e1", "ES256", &jwks), 0);
	ck_assert_ptr_nonnull(strstr(jwks, "\"crv\":\"P-256\""));
	free(jwks);
	jwks = NULL;
	ck_assert_int_eq(auth_jwks_make(k.a_pub, "k1", "HS256", &jwks),
	    AUTH_EALG);
	ck_assert_int_eq(auth_jwks_make(k.a_pub, "k1", "ES256", &jwks),
	    AUTH_EKEY);
	ck_assert_int_eq(auth_jwks_make("junk", "k1", "RS256", &jwks),
	    AUTH_EKEY);
	ck_assert_ptr_null(jwks);
	free(t);
	free(h);
}
END_TEST

/* Many swaps on one handle: run under valgrind to catch leaks. */
START_TEST(many_reloads)
{
	struct config cfg = cfg_jwks();
	struct auth *a;

	log_capture();
	put_jwks(k.a, "\"kid\":\"a\"", NULL, NULL);
	a = open_ok(&cfg);
	for (int i = 1; i <= 20; i++) {
		EVP_PKEY *key = i % 2 ? k.b : k.a;

		put_jwks(key, i % 2 ? "\"kid\":\"b\"" : "\"kid\":\"a\"", NULL,
		    NULL);
		ck_assert_int_eq(check(a, key, NULL, NOW + i), AUTH_OK);
		put_file(k.jwks, "[]");
		ck_assert_int_eq(auth_reload(a), AUTH_EKEY);
	}
	auth_close(a);
	log_count(20, 20);
}
END_TEST

#define N(table) ((int)(sizeof(table) / sizeof((table)[0])))

static Suite *
auth_jwks_suite(void)
{
	Suite *s = suite_create("auth_jwks");
	TCase *tc = tcase_create("auth_jwks");

	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	/* Valgrind makes RSA slow; the default 4 s is too tight there. */
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, kid_selects_key, 0, N(kid_cases));
	tcase_add_test(tc, one_key_set);
	tcase_add_loop_test(tc, keys_passed_over, 0, N(pass_cases));
	tcase_add_loop_test(tc, malformed_sets, 0, N(bad_cases));
	tcase_add_test(tc, missing_or_huge_file);
	tcase_add_test(tc, one_source_only);
	tcase_add_test(tc, ec_set);
	tcase_add_test(tc, reload_when_file_changes);
	tcase_add_test(tc, failed_reload_keeps_keys);
	tcase_add_test(tc, reload_on_request);
	tcase_add_test(tc, pem_and_body_sources);
	tcase_add_test(tc, made_jwks_round_trip);
	tcase_add_test(tc, many_reloads);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(auth_jwks_suite)
