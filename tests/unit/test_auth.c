/* test_auth.c: token verification against keys made at test start: the
 * algorithm pin, every claim rule, malformed input and key loading. */
#include "pem.h"
#include "unit.h"

#include "auth.h"
#include "b64url.h"
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#define NOW 1700000000
#define LATER "1700003600"	/* NOW + 1 h */
#define EARLIER "1699996400"	/* NOW - 1 h */
#define JUST_BEFORE "1699999980" /* NOW - 20 s, inside the 30 s leeway */
#define JUST_AFTER "1700000020"	/* NOW + 20 s, inside the leeway */
#define SUB_AUD "\"sub\":\"alice\",\"aud\":\"account\""
#define GOOD "{" SUB_AUD ",\"exp\":" LATER "}"
#define RS256_HDR "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
#define ISS "http://localhost/realms/dev"

/* Made once in the parent (unchecked fixture); forked tests inherit. */
static struct {
	EVP_PKEY *rsa, *other, *small, *ec;
	char *priv_pem, *pub_pem, *body, *ec_priv_pem, *ec_pub_pem, *ec_body;
	char *small_pub_pem, *small_body;
	char dir[64], pem_file[96];
} k;

/* Keycloak's form: the PEM without armour and newlines. */
static char *
body_of(const char *pem)
{
	const char *p = strchr(pem, '\n') + 1, *end = strstr(pem, "-----END");
	char *out = calloc(1, (size_t)(end - p) + 1), *o = out;

	for (; p < end; p++)
		if (*p != '\n')
			*o++ = *p;
	return out;
}

static void
keys_setup(void)
{
	FILE *fp;

	k.rsa = EVP_RSA_gen(2048);
	k.other = EVP_RSA_gen(2048);
	k.small = EVP_RSA_gen(1024);
	k.ec = EVP_EC_gen("P-256");
	ck_assert(k.rsa && k.other && k.small && k.ec);
	k.priv_pem = pem_of(k.rsa, 1);
	k.pub_pem = pem_of(k.rsa, 0);
	k.body = body_of(k.pub_pem);
	k.ec_priv_pem = pem_of(k.ec, 1);
	k.ec_pub_pem = pem_of(k.ec, 0);
	k.ec_body = body_of(k.ec_pub_pem);
	k.small_pub_pem = pem_of(k.small, 0);
	k.small_body = body_of(k.small_pub_pem);
	strcpy(k.dir, "/tmp/test_auth.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(k.dir));
	snprintf(k.pem_file, sizeof(k.pem_file), "%s/public.pem", k.dir);
	ck_assert_ptr_nonnull(fp = fopen(k.pem_file, "w"));
	fputs(k.pub_pem, fp);
	fclose(fp);
}

static void
keys_teardown(void)
{
	unlink(k.pem_file);
	rmdir(k.dir);
	EVP_PKEY_free(k.rsa);
	EVP_PKEY_free(k.other);
	EVP_PKEY_free(k.small);
	EVP_PKEY_free(k.ec);
	free(k.priv_pem);
	free(k.pub_pem);
	free(k.body);
	free(k.ec_priv_pem);
	free(k.ec_pub_pem);
	free(k.ec_body);
	free(k.small_pub_pem);
	free(k.small_body);
}

static struct config
cfg_base(void)
{
	return (struct config){ .public_key = k.body, .alg = "RS256",
	    .audience = "account", .leeway_s = 30 };
}

static char *
join(const char *a, const char *sep, const char *b)
{
	char *out;

	ck_assert_int_ge(asprintf(&out, "%s%s%s", a, sep, b), 0);
	return out;
}

/* Builds "b64(hdr).b64(payload)" without a signature segment. */
static char *
unsigned_part(const char *hdr, const char *payload)
{
	char *h = b64url_encode(hdr, strlen(hdr));
	char *p = b64url_encode(payload, strlen(payload));
	char *out = join(h, ".", p);

	free(h);
	free(p);
	return out;
}

/* Signs any header and payload text with OpenSSL, independent of the
 * code under test; pss selects RSA-PSS padding. */
static char *
jws(EVP_PKEY *key, const char *md, int pss, const char *hdr,
    const char *payload)
{
	char *input = unsigned_part(hdr, payload), *s, *out;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char sig[1024];
	size_t n = sizeof(sig);

	ck_assert_int_eq(EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, key,
	    NULL), 1);
	if (pss) {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
	}
	ck_assert_int_eq(EVP_DigestSign(ctx, sig, &n,
	    (unsigned char *)input, strlen(input)), 1);
	s = b64url_encode(sig, n);
	out = join(input, ".", s);
	EVP_MD_CTX_free(ctx);
	free(input);
	free(s);
	return out;
}

static char *
rs256(const char *payload)
{
	return jws(k.rsa, "SHA256", 0, RS256_HDR, payload);
}

/* Opens auth with cfg, verifies "Bearer <token>" at NOW, closes. */
static int
verify_with(const struct config *cfg, const char *authorization,
    struct principal *who)
{
	struct auth *a = NULL;
	char err[256] = "";
	int rc = auth_open(&a, cfg, err, sizeof(err));

	ck_assert_msg(rc == 0, "auth_open: %d %s", rc, err);
	rc = auth_verify(a, authorization, NOW, who);
	auth_close(a);
	return rc;
}

static int
verify_token(const struct config *cfg, const char *token)
{
	struct principal who;
	char *h = join("Bearer", " ", token);
	int rc = verify_with(cfg, h, &who);

	free(h);
	return rc;
}

START_TEST(valid_token_fills_sub)
{
	struct config cfg = cfg_base();
	struct principal who = { "untouched" };
	char *t = rs256(GOOD), *h = join("Bearer", " ", t);

	ck_assert_int_eq(verify_with(&cfg, h, &who), AUTH_OK);
	ck_assert_str_eq(who.sub, "alice");
	free(t);
	free(h);
}
END_TEST

START_TEST(failure_leaves_who_untouched)
{
	struct config cfg = cfg_base();
	struct principal who = { "untouched" };
	char *t = rs256("{" SUB_AUD ",\"exp\":" EARLIER "}");
	char *h = join("Bearer", " ", t);

	ck_assert_int_eq(verify_with(&cfg, h, &who), AUTH_EEXPIRED);
	ck_assert_str_eq(who.sub, "untouched");
	free(t);
	free(h);
}
END_TEST

/* One row per claim rule; each payload is signed correctly. */
static const struct {
	const char *name, *payload, *issuer;
	int want;
} claim_cases[] = {
	{ "exp future", GOOD, NULL, AUTH_OK },
	{ "exp past", "{" SUB_AUD ",\"exp\":" EARLIER "}", NULL,
	    AUTH_EEXPIRED },
	{ "exp within leeway", "{" SUB_AUD ",\"exp\":" JUST_BEFORE "}", NULL,
	    AUTH_OK },
	{ "exp fractional", "{" SUB_AUD ",\"exp\":" LATER ".5}", NULL,
	    AUTH_OK },
	{ "exp missing", "{" SUB_AUD "}", NULL, AUTH_EEXPIRED },
	{ "exp string", "{" SUB_AUD ",\"exp\":\"" LATER "\"}", NULL,
	    AUTH_EEXPIRED },
	{ "exp null", "{" SUB_AUD ",\"exp\":null}", NULL, AUTH_EEXPIRED },
	{ "nbf future", "{" SUB_AUD ",\"exp\":" LATER ",\"nbf\":" LATER "}",
	    NULL, AUTH_ENOTYET },
	{ "nbf within leeway", "{" SUB_AUD ",\"exp\":" LATER ",\"nbf\":"
	    JUST_AFTER "}", NULL, AUTH_OK },
	{ "nbf past", "{" SUB_AUD ",\"exp\":" LATER ",\"nbf\":" EARLIER "}",
	    NULL, AUTH_OK },
	{ "nbf bool", "{" SUB_AUD ",\"exp\":" LATER ",\"nbf\":true}", NULL,
	    AUTH_ENOTYET },
	{ "iat future", "{" SUB_AUD ",\"exp\":" LATER ",\"iat\":" LATER "}",
	    NULL, AUTH_ENOTYET },
	{ "iat past", "{" SUB_AUD ",\"exp\":" LATER ",\"iat\":" EARLIER "}",
	    NULL, AUTH_OK },
	{ "aud other", "{\"sub\":\"a\",\"aud\":\"web\",\"exp\":" LATER "}",
	    NULL, AUTH_EAUDIENCE },
	{ "aud prefix", "{\"sub\":\"a\",\"aud\":\"accounts\",\"exp\":" LATER
	    "}", NULL, AUTH_EAUDIENCE },
	{ "aud missing", "{\"sub\":\"a\",\"exp\":" LATER "}", NULL,
	    AUTH_EAUDIENCE },
	{ "aud array with", "{\"sub\":\"a\",\"aud\":[\"web\",\"account\"],"
	    "\"exp\":" LATER "}", NULL, AUTH_OK },
	{ "aud array without", "{\"sub\":\"a\",\"aud\":[\"web\",\"api\"],"
	    "\"exp\":" LATER "}", NULL, AUTH_EAUDIENCE },
	{ "aud array empty", "{\"sub\":\"a\",\"aud\":[],\"exp\":" LATER "}",
	    NULL, AUTH_EAUDIENCE },
	{ "aud array non-string", "{\"sub\":\"a\",\"aud\":[1,\"account\"],"
	    "\"exp\":" LATER "}", NULL, AUTH_EAUDIENCE },
	{ "iss unchecked", "{" SUB_AUD ",\"exp\":" LATER ",\"iss\":\"x\"}",
	    NULL, AUTH_OK },
	{ "iss equal", "{" SUB_AUD ",\"exp\":" LATER ",\"iss\":\"" ISS "\"}",
	    ISS, AUTH_OK },
	{ "iss other", "{" SUB_AUD ",\"exp\":" LATER ",\"iss\":\"" ISS "x\"}",
	    ISS, AUTH_EISSUER },
	{ "iss missing", GOOD, ISS, AUTH_EISSUER },
	{ "sub missing", "{\"aud\":\"account\",\"exp\":" LATER "}", NULL,
	    AUTH_ESUBJECT },
	{ "sub empty", "{\"sub\":\"\",\"aud\":\"account\",\"exp\":" LATER "}",
	    NULL, AUTH_ESUBJECT },
	{ "sub number", "{\"sub\":7,\"aud\":\"account\",\"exp\":" LATER "}",
	    NULL, AUTH_ESUBJECT },
	{ "sub control", "{\"sub\":\"a\\nb\",\"aud\":\"account\",\"exp\":"
	    LATER "}", NULL, AUTH_ESUBJECT },
	{ "sub NUL", "{\"sub\":\"a\\u0000b\",\"aud\":\"account\",\"exp\":"
	    LATER "}", NULL, AUTH_ESUBJECT },
	{ "payload not JSON", "not json", NULL, AUTH_EMALFORMED },
	{ "payload array", "[" GOOD "]", NULL, AUTH_EMALFORMED },
	{ "payload trailing", GOOD " x", NULL, AUTH_EMALFORMED },
	/* json-c admits NaN and Infinity even in strict mode. */
	{ "exp NaN", "{" SUB_AUD ",\"exp\":NaN}", NULL, AUTH_EEXPIRED },
	{ "exp Infinity", "{" SUB_AUD ",\"exp\":Infinity}", NULL,
	    AUTH_EEXPIRED },
};

START_TEST(claim_rules)
{
	struct config cfg = cfg_base();
	char *t = rs256(claim_cases[_i].payload);

	cfg.issuer = (char *)claim_cases[_i].issuer;
	ck_assert_msg(verify_token(&cfg, t) == claim_cases[_i].want,
	    "%s: got %d, want %d", claim_cases[_i].name, verify_token(&cfg, t),
	    claim_cases[_i].want);
	free(t);
}
END_TEST

START_TEST(sub_length_limit)
{
	struct config cfg = cfg_base();
	char sub[AUTH_SUB_MAX + 2], payload[512];

	for (int extra = 0; extra <= 1; extra++) {
		memset(sub, 'a', sizeof(sub));
		sub[AUTH_SUB_MAX + extra] = '\0';
		snprintf(payload, sizeof(payload), "{\"sub\":\"%s\","
		    "\"aud\":\"account\",\"exp\":" LATER "}", sub);
		char *t = rs256(payload);
		ck_assert_int_eq(verify_token(&cfg, t),
		    extra ? AUTH_ESUBJECT : AUTH_OK);
		free(t);
	}
}
END_TEST

/* Token builders for the form table; each returns a malloc'd token. */
static char *
good(void)
{
	return rs256(GOOD);
}

/* Keeps the signature of a good token but swaps header or payload. */
static char *
splice(const char *hdr, const char *payload)
{
	char *t = good(), *part = unsigned_part(hdr, payload);
	char *out = join(part, ".", strrchr(t, '.') + 1);

	free(t);
	free(part);
	return out;
}

static char *
none_dot(void)
{
	char *part = unsigned_part("{\"alg\":\"none\"}", GOOD);
	char *out = join(part, ".", "");

	free(part);
	return out;
}

static char *
none_nodot(void)
{
	return unsigned_part("{\"alg\":\"none\"}", GOOD);
}

/* The key-confusion attack: HMAC keyed with public material. */
static char *
hs256_pem(void)
{
	char *t = NULL;

	ck_assert_int_eq(auth_sign(k.pub_pem, "HS256", NULL,
	    GOOD, &t), AUTH_OK);
	return t;
}

static char *
hs256_body(void)
{
	char *t = NULL;

	ck_assert_int_eq(auth_sign(k.body, "HS256", NULL, GOOD, &t), AUTH_OK);
	return t;
}

static char *
rs384(void)
{
	return jws(k.rsa, "SHA384", 0, "{\"alg\":\"RS384\"}", GOOD);
}

static char *
ps256(void)
{
	return jws(k.rsa, "SHA256", 1, "{\"alg\":\"PS256\"}", GOOD);
}

static char *
alg_lowercase(void)
{
	return jws(k.rsa, "SHA256", 0, "{\"alg\":\"rs256\"}", GOOD);
}

static char *
alg_missing(void)
{
	return jws(k.rsa, "SHA256", 0, "{\"typ\":\"JWT\"}", GOOD);
}

static char *
alg_nul(void)
{
	return jws(k.rsa, "SHA256", 0, "{\"alg\":\"RS256\\u0000x\"}", GOOD);
}

static char *
crit(void)
{
	return jws(k.rsa, "SHA256", 0, "{\"alg\":\"RS256\",\"crit\":[\"x\"]}",
	    GOOD);
}

static char *
other_key(void)
{
	return jws(k.other, "SHA256", 0, RS256_HDR, GOOD);
}

static char *
tampered_payload(void)
{
	return splice(RS256_HDR, "{\"sub\":\"mallory\",\"aud\":\"account\","
	    "\"exp\":" LATER "}");
}

static char *
tampered_header(void)
{
	return splice("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"x\"}",
	    GOOD);
}

static char *
tampered_sig(void)
{
	char *t = good();
	char *c = strrchr(t, '.') + 20;

	*c = *c == 'A' ? 'B' : 'A';
	return t;
}

static char *
empty_sig(void)
{
	char *t = good();

	strrchr(t, '.')[1] = '\0';
	return t;
}

static char *
big(size_t pad)
{
	char *payload = malloc(pad + 128), *t;

	snprintf(payload, pad + 128, "{" SUB_AUD ",\"exp\":" LATER
	    ",\"x\":\"%*s\"}", (int)pad, "");
	t = rs256(payload);
	free(payload);
	return t;
}

static char *
just_small_enough(void)
{
	char *t = big(5600);

	ck_assert_int_le(strlen(t), 8192);
	ck_assert_int_gt(strlen(t), 7900);
	return t;
}

static char *
oversized(void)
{
	char *t = big(6000);

	ck_assert_int_gt(strlen(t), 8192);
	return t;
}

/* One row per token shape: the header is prefix + make() + suffix, or
 * just prefix when make is NULL. */
static const struct {
	const char *name, *prefix;
	char *(*make)(void);
	const char *suffix;
	int want;
} form_cases[] = {
	{ "valid", "Bearer ", good, "", AUTH_OK },
	{ "scheme lowercase", "bearer ", good, "", AUTH_OK },
	{ "scheme uppercase", "BEARER ", good, "", AUTH_OK },
	{ "no header", NULL, NULL, NULL, AUTH_EMISSING },
	{ "empty header", "", NULL, NULL, AUTH_EMISSING },
	{ "Basic", "Basic dXNlcjpwYXNz", NULL, NULL, AUTH_EMISSING },
	{ "Bearer alone", "Bearer", NULL, NULL, AUTH_EMISSING },
	{ "Bearer space", "Bearer ", NULL, NULL, AUTH_EMISSING },
	{ "no space", "Bearer", good, "", AUTH_EMISSING },
	{ "two spaces", "Bearer  ", good, "", AUTH_OK },	/* 1*SP */
	{ "spaces only", "Bearer   ", NULL, NULL, AUTH_EMISSING },
	{ "trailing space", "Bearer ", good, " ", AUTH_EMALFORMED },
	{ "two tokens", "Bearer ", good, " x", AUTH_EMALFORMED },
	{ "two segments", "Bearer eyJhbGciOiJSUzI1NiJ9.e30", NULL, NULL,
	    AUTH_EMALFORMED },
	{ "four segments", "Bearer ", good, ".e30", AUTH_EMALFORMED },
	{ "bad base64", "Bearer e*J.e30.AA", NULL, NULL, AUTH_EMALFORMED },
	{ "base64 padding", "Bearer eyJhbGciOiJSUzI1NiJ9=.e30.AA", NULL, NULL,
	    AUTH_EMALFORMED },
	{ "header not JSON", "Bearer bm90IGpzb24.e30.AA", NULL, NULL,
	    AUTH_EMALFORMED },
	{ "header array", "Bearer WzFd.e30.AA", NULL, NULL, AUTH_EMALFORMED },
	{ "sig not base64", "Bearer ", good, "!", AUTH_EMALFORMED },
	{ "alg none with dot", "Bearer ", none_dot, "", AUTH_EALG },
	{ "alg none with sig", "Bearer ", none_dot, "AAAA", AUTH_EALG },
	{ "alg none no dot", "Bearer ", none_nodot, "", AUTH_EMALFORMED },
	{ "HS256 keyed with PEM", "Bearer ", hs256_pem, "", AUTH_EALG },
	{ "HS256 keyed with body", "Bearer ", hs256_body, "", AUTH_EALG },
	{ "RS384 when RS256", "Bearer ", rs384, "", AUTH_EALG },
	{ "PS256 when RS256", "Bearer ", ps256, "", AUTH_EALG },
	{ "alg lowercase", "Bearer ", alg_lowercase, "", AUTH_EALG },
	{ "alg missing", "Bearer ", alg_missing, "", AUTH_EALG },
	{ "alg with NUL", "Bearer ", alg_nul, "", AUTH_EALG },
	{ "crit header", "Bearer ", crit, "", AUTH_EMALFORMED },
	{ "other key", "Bearer ", other_key, "", AUTH_ESIGNATURE },
	{ "tampered payload", "Bearer ", tampered_payload, "",
	    AUTH_ESIGNATURE },
	{ "tampered header", "Bearer ", tampered_header, "", AUTH_ESIGNATURE },
	{ "tampered signature", "Bearer ", tampered_sig, "", AUTH_ESIGNATURE },
	{ "empty signature", "Bearer ", empty_sig, "", AUTH_ESIGNATURE },
	{ "8 KiB token", "Bearer ", just_small_enough, "", AUTH_OK },
	{ "oversized token", "Bearer ", oversized, "", AUTH_EMALFORMED },
};

START_TEST(token_forms)
{
	struct config cfg = cfg_base();
	struct principal who;
	char *h = NULL;
	int rc;

	if (form_cases[_i].make != NULL) {
		char *t = form_cases[_i].make();
		ck_assert_int_ge(asprintf(&h, "%s%s%s", form_cases[_i].prefix,
		    t, form_cases[_i].suffix), 0);
		free(t);
	}
	rc = verify_with(&cfg, h ? h : form_cases[_i].prefix, &who);
	ck_assert_msg(rc == form_cases[_i].want, "%s: got %d, want %d",
	    form_cases[_i].name, rc, form_cases[_i].want);
	free(h);
}
END_TEST

/* Every accepted way to give the key verifies the same token. */
START_TEST(key_forms)
{
	struct config cfg = cfg_base();
	char *t = good(), *spaced;

	ck_assert_int_eq(verify_token(&cfg, t), AUTH_OK);
	ck_assert_int_ge(asprintf(&spaced, "%.64s\n  \r\n\t%s\n", k.body,
	    k.body + 64), 0);
	cfg.public_key = spaced;
	ck_assert_int_eq(verify_token(&cfg, t), AUTH_OK);
	cfg.public_key = k.pub_pem;
	ck_assert_int_eq(verify_token(&cfg, t), AUTH_OK);
	cfg.public_key = NULL;
	cfg.public_key_file = k.pem_file;
	ck_assert_int_eq(verify_token(&cfg, t), AUTH_OK);
	free(spaced);
	free(t);
}
END_TEST

/* Start-up refusals: the error and the setting errstr names. */
static const struct {
	const char *name;
	char **key;		/* points into k, or NULL */
	const char *literal_key, *file, *alg;
	int want;
	const char *errstr;	/* expected prefix */
} key_cases[] = {
	{ "neither", NULL, NULL, NULL, "RS256", AUTH_EKEY,
	    "KEYCLOAK_PUBLIC_KEY: not set; set exactly one of "
	    "KEYCLOAK_PUBLIC_KEY, KEYCLOAK_PUBLIC_KEY_FILE, "
	    "KEYCLOAK_JWKS_FILE" },
	{ "both", &k.body, NULL, "/dev/null", "RS256", AUTH_EKEY,
	    "KEYCLOAK_PUBLIC_KEY, KEYCLOAK_PUBLIC_KEY_FILE: more than one is "
	    "set" },
	{ "not base64", NULL, "not a key!", NULL, "RS256", AUTH_EKEY,
	    "KEYCLOAK_PUBLIC_KEY: " },
	{ "base64 not a key", NULL, "aGVsbG8=", NULL, "RS256", AUTH_EKEY,
	    "KEYCLOAK_PUBLIC_KEY: " },
	{ "no such file", NULL, NULL, "/nonexistent/k.pem", "RS256", AUTH_EKEY,
	    "KEYCLOAK_PUBLIC_KEY_FILE: /nonexistent/k.pem: " },
	{ "file not PEM", NULL, NULL, "/dev/null", "RS256", AUTH_EKEY,
	    "KEYCLOAK_PUBLIC_KEY_FILE: /dev/null: " },
	{ "EC key for RS256", &k.ec_body, NULL, NULL, "RS256", AUTH_EKEY,
	    "KEYCLOAK_PUBLIC_KEY: KEYCLOAK_ALG RS256 needs an RSA key" },
	{ "RSA key for ES256", &k.body, NULL, NULL, "ES256", AUTH_EKEY,
	    "KEYCLOAK_PUBLIC_KEY: KEYCLOAK_ALG ES256 needs an EC key" },
	{ "EC P-256 for ES384", &k.ec_body, NULL, NULL, "ES384", AUTH_EKEY,
	    "KEYCLOAK_PUBLIC_KEY: KEYCLOAK_ALG ES384 needs an EC key" },
	{ "RSA 1024", &k.small_body, NULL, NULL, "RS256", AUTH_EKEY,
	    "KEYCLOAK_PUBLIC_KEY: KEYCLOAK_ALG RS256 needs an RSA key of" },
	{ "alg HS256", &k.body, NULL, NULL, "HS256", AUTH_EALG,
	    "KEYCLOAK_ALG: HS256 is not accepted" },
	{ "alg none", &k.body, NULL, NULL, "none", AUTH_EALG,
	    "KEYCLOAK_ALG: none is not accepted" },
};

START_TEST(key_errors)
{
	struct config cfg = cfg_base();
	struct auth *a = NULL;
	char err[256] = "";
	const char *want = key_cases[_i].errstr;

	cfg.public_key = key_cases[_i].key ? *key_cases[_i].key :
	    (char *)key_cases[_i].literal_key;
	cfg.public_key_file = (char *)key_cases[_i].file;
	cfg.alg = (char *)key_cases[_i].alg;
	ck_assert_int_eq(auth_open(&a, &cfg, err, sizeof(err)),
	    key_cases[_i].want);
	ck_assert_ptr_null(a);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "%s: errstr \"%s\", want \"%s...\"", key_cases[_i].name, err, want);
}
END_TEST

/* The other configured algorithms, signed by libjwt (auth_sign) or, for
 * PS256 which libjwt 1.10 lacks, by OpenSSL. */
START_TEST(other_algorithms)
{
	struct config cfg = cfg_base();
	char *t = NULL;

	cfg.alg = "RS512";
	ck_assert_int_eq(auth_sign(k.priv_pem, "RS512", NULL,
	    GOOD, &t), AUTH_OK);
	ck_assert_int_eq(verify_token(&cfg, t), AUTH_OK);
	free(t);
	cfg.alg = "PS256";
	t = ps256();
	ck_assert_int_eq(verify_token(&cfg, t), AUTH_OK);
	free(t);
	cfg.alg = "ES256";
	cfg.public_key = k.ec_body;
	ck_assert_int_eq(auth_sign(k.ec_priv_pem, "ES256", NULL,
	    GOOD, &t), AUTH_OK);
	ck_assert_int_eq(verify_token(&cfg, t), AUTH_OK);
	free(t);
}
END_TEST

START_TEST(sign_errors)
{
	char *t = NULL;

	ck_assert_int_eq(auth_sign(k.priv_pem, "none", NULL,
	    GOOD, &t), AUTH_EALG);
	ck_assert_int_eq(auth_sign(k.priv_pem, "XX999", NULL,
	    GOOD, &t), AUTH_EALG);
	ck_assert_int_eq(auth_sign(k.priv_pem, "RS256", NULL, "[1]", &t),
	    AUTH_EMALFORMED);
	ck_assert_int_eq(auth_sign("not a pem", "RS256", NULL,
	    GOOD, &t), AUTH_EKEY);
	ck_assert_ptr_null(t);
}
END_TEST

/* The texts go into WWW-Authenticate error_description="...". */
START_TEST(strerror_texts)
{
	for (int e = AUTH_EKID; e <= AUTH_OK; e++) {
		const char *s = auth_strerror(e);

		ck_assert_int_gt(strlen(s), 0);
		ck_assert_ptr_null(strpbrk(s, "\"\\"));
	}
	ck_assert_str_eq(auth_strerror(AUTH_EEXPIRED),
	    "The access token expired or has no valid exp claim");
	ck_assert_str_eq(auth_strerror(1), "Unknown authentication error");
	ck_assert_str_eq(auth_strerror(-99), "Unknown authentication error");
}
END_TEST

/* One handle, many requests: run under valgrind to catch per-call leaks. */
START_TEST(many_verifications)
{
	struct config cfg = cfg_base();
	struct auth *a = NULL;
	struct principal who;
	char err[256], *ok = good(), *bad = tampered_payload();
	char *h_ok = join("Bearer", " ", ok), *h_bad = join("Bearer", " ", bad);

	ck_assert_int_eq(auth_open(&a, &cfg, err, sizeof(err)), AUTH_OK);
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(auth_verify(a, h_ok, NOW, &who), AUTH_OK);
		ck_assert_int_eq(auth_verify(a, h_bad, NOW, &who),
		    AUTH_ESIGNATURE);
		ck_assert_int_eq(auth_verify(a, "Bearer x.y.z", NOW, &who),
		    AUTH_EMALFORMED);
	}
	auth_close(a);
	free(ok);
	free(bad);
	free(h_ok);
	free(h_bad);
}
END_TEST

/* JWT segments must have exactly one encoding each. */
static const struct {
	const char *in, *out;	/* out NULL = must be refused */
} b64_cases[] = {
	{ "", "" }, { "QQ", "A" }, { "QUI", "AB" }, { "QUJD", "ABC" },
	{ "-_8", "\xfb\xff" }, { "QR", NULL }, { "Q", NULL },
	{ "QQ==", NULL }, { "QU JD", NULL }, { "+/8", NULL },
};

START_TEST(b64url_strict)
{
	unsigned char buf[16];
	size_t n = 0;
	const char *in = b64_cases[_i].in, *want = b64_cases[_i].out;
	int rc = b64url_decode(in, strlen(in), buf, sizeof(buf), &n);

	ck_assert_msg(rc == (want ? 0 : -1), "%s: rc %d", in, rc);
	if (want != NULL) {
		char *back = b64url_encode(buf, n);

		ck_assert_mem_eq(buf, want, strlen(want));
		ck_assert_uint_eq(n, strlen(want));
		ck_assert_str_eq(back, in);
		free(back);
	}
}
END_TEST

#define N(table) ((int)(sizeof(table) / sizeof((table)[0])))

static Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	/* Valgrind makes RSA slow; the default 4 s is too tight there. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, valid_token_fills_sub);
	tcase_add_test(tc, failure_leaves_who_untouched);
	tcase_add_loop_test(tc, claim_rules, 0, N(claim_cases));
	tcase_add_test(tc, sub_length_limit);
	tcase_add_loop_test(tc, token_forms, 0, N(form_cases));
	tcase_add_test(tc, key_forms);
	tcase_add_loop_test(tc, key_errors, 0, N(key_cases));
	tcase_add_test(tc, other_algorithms);
	tcase_add_test(tc, sign_errors);
	tcase_add_test(tc, strerror_texts);
	tcase_add_loop_test(tc, b64url_strict, 0, N(b64_cases));
	tcase_add_test(tc, many_verifications);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(auth_suite)
