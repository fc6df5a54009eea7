/* fuzz_auth.c: auth_verify() over arbitrary Authorization values and
 * arbitrary signed headers and claims.  The key (ES256, made once per
 * process) and the clock are fixed.  The first input byte picks the mode:
 *   0  the rest is the Authorization header value, as a client sends it;
 *      no such token may verify, since only this process has the key;
 *   1  the rest is the claims JSON, signed under a fixed ES256 header, so
 *      the claim rules see arbitrary payloads;
 *   2  the rest is "header JSON \n claims JSON", both signed, so the
 *      algorithm pin and "crit" see arbitrary headers too. */
#include "fuzz.h"

#include <stdio.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth.h"
#include "b64url.h"
#include "config.h"

#define FUZZ_NOW ((time_t)1700000000)

static struct auth *auth;
static EVP_PKEY *signer;
static char alg[] = "ES256", audience[] = "account",
    issuer[] = "https://sso.example/realms/msgcmd";

/* Returns the public half of signer as a malloc'd PEM text. */
static char *public_pem(void)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *mem, *pem;
	long n;

	FUZZ_ASSERT(bio != NULL && PEM_write_bio_PUBKEY(bio, signer) == 1);
	n = BIO_get_mem_data(bio, &mem);
	FUZZ_ASSERT(n > 0 && (pem = malloc((size_t)n + 1)) != NULL);
	memcpy(pem, mem, (size_t)n);
	pem[n] = '\0';
	BIO_free(bio);
	return pem;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config cfg;
	char err[256];

	(void)argc;
	(void)argv;
	signer = EVP_EC_gen("P-256");
	FUZZ_ASSERT(signer != NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.public_key = public_pem();
	cfg.alg = alg;
	cfg.audience = audience;
	cfg.issuer = issuer;
	cfg.leeway_s = 30;
	if (auth_open(&auth, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_auth: auth_open: %s\n", err);
		abort();
	}
	free(cfg.public_key);
	return 0;
}

/* Signs input (n bytes) with ES256 and returns the JWS signature, R and S
 * as 32-byte big-endian halves (RFC 7518 section 3.4), base64url. */
static char *sign(const char *input, size_t n)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[80], raw[64];
	const unsigned char *p = der;
	size_t dlen = sizeof(der);
	ECDSA_SIG *es;

	FUZZ_ASSERT(ctx != NULL);
	FUZZ_ASSERT(EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL,
	    signer, NULL) == 1);
	FUZZ_ASSERT(EVP_DigestSign(ctx, der, &dlen,
	    (const unsigned char *)input, n) == 1);
	EVP_MD_CTX_free(ctx);
	es = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	FUZZ_ASSERT(es != NULL);
	FUZZ_ASSERT(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32) == 32 &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32) == 32);
	ECDSA_SIG_free(es);
	return b64url_encode(raw, sizeof(raw));
}

/* Returns "Bearer h.p.s" for the given header and claims bytes. */
static char *bearer_signed(const uint8_t *hdr, size_t hn, const uint8_t *clm,
    size_t cn)
{
	char *h = b64url_encode(hdr, hn), *c = b64url_encode(clm, cn), *s;
	char *input, *value;
	size_t n;

	FUZZ_ASSERT(h != NULL && c != NULL);
	n = strlen(h) + 1 + strlen(c);
	input = malloc(n + 1);
	FUZZ_ASSERT(input != NULL);
	snprintf(input, n + 1, "%s.%s", h, c);
	s = sign(input, n);
	FUZZ_ASSERT(s != NULL);
	value = malloc(7 + n + 1 + strlen(s) + 1);
	FUZZ_ASSERT(value != NULL);
	sprintf(value, "Bearer %s.%s", input, s);
	free(h);
	free(c);
	free(s);
	free(input);
	return value;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char es256[] = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";
	struct principal who;
	char *value;
	int mode, rc;

	if (size == 0)
		return 0;
	mode = data[0] % 3;
	data++;
	size--;
	if (mode == 0) {
		value = fuzz_str(data, size);
	} else if (mode == 1) {
		value = bearer_signed((const uint8_t *)es256, sizeof(es256) - 1,
		    data, size);
	} else {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t k = nl != NULL ? (size_t)(nl - data) : size;

		value = bearer_signed(data, k, data + k + (nl != NULL),
		    size - k - (nl != NULL));
	}
	memset(&who, 0, sizeof(who));
	rc = auth_verify(auth, value, FUZZ_NOW, &who);
	FUZZ_ASSERT(auth_strerror(rc) != NULL);
	FUZZ_ASSERT(mode != 0 || rc != 0);
	if (rc == 0)
		FUZZ_ASSERT(who.sub[0] != '\0' &&
		    memchr(who.sub, '\0', sizeof(who.sub)) != NULL);
	free(value);
	return 0;
}
