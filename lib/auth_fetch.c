/* auth_fetch.c: KEYCLOAK_JWKS_URL, the realm's key set over HTTP: fetched
 * with libcurl at start-up (and on SIGHUP), and again when a token names
 * a kid the set lacks, at most once per AUTH_REFETCH_SECONDS; a failed
 * refetch keeps the keys in use.  The only file that includes curl. */
#include "auth_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <curl/curl.h>

/* The same bound as for a JWKS file: Keycloak's set is a few KiB. */
#define FETCH_MAX ((size_t)1024 * 1024)
/* A responder waits this long at most, so a hung Keycloak costs one
 * request a few seconds, not the accept loop forever. */
#define FETCH_CONNECT_MS 3000L
#define FETCH_TOTAL_MS 5000L

struct fetched {
	char *buf;
	size_t n;
	int too_big;	/* the answer passed FETCH_MAX */
};

/* libcurl's write callback: appends, and stops the transfer (a short
 * count) past FETCH_MAX or when memory runs out. */
static size_t
on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetched *f = arg;
	size_t n = size * nmemb;
	char *grown;

	if (n > FETCH_MAX - f->n) {
		f->too_big = 1;
		return 0;
	}
	if ((grown = realloc(f->buf, f->n + n)) == NULL)
		return 0;
	memcpy(grown + f->n, data, n);
	f->buf = grown;
	f->n += n;
	return n;
}

/* The options every fetch gets.  No signals: the publisher thread shares
 * the process, and libcurl's alarm() for name look-ups is not thread-safe.
 * Redirects are followed (a proxy in front of Keycloak may add a slash),
 * to http and https only, like the URL itself. */
static void
set_options(CURL *c, const char *url, struct fetched *f, char *why,
    struct curl_slist *hdrs)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, FETCH_CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, FETCH_TOTAL_MS);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "msgcmd");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
}

/* GETs url into f.  Returns 0 on a 200 answer, else AUTH_EKEY (or
 * AUTH_ENOMEM) with errstr "KEYCLOAK_JWKS_URL: url: why"; f->buf is the
 * caller's to free either way. */
static int
fetch(const char *url, struct fetched *f, char *errstr, size_t size)
{
	char why[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = curl_slist_append(NULL,
	    "Accept: application/jwk-set+json, application/json");
	CURL *c = curl_easy_init();
	CURLcode cc = CURLE_OUT_OF_MEMORY;
	long status = 0;

	if (c != NULL && hdrs != NULL) {
		set_options(c, url, f, why, hdrs);
		cc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	if (f->too_big)
		snprintf(why, sizeof(why), "larger than 1 MiB");
	else if (cc == CURLE_OK && status != 200)
		snprintf(why, sizeof(why), "HTTP status %ld", status);
	else if (cc != CURLE_OK && why[0] == '\0')
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(cc));
	if (cc == CURLE_OK && status == 200)
		return 0;
	snprintf(errstr, size, "KEYCLOAK_JWKS_URL: %s: %s", url, why);
	return cc == CURLE_OUT_OF_MEMORY ||
	    (cc == CURLE_WRITE_ERROR && !f->too_big) ? AUTH_ENOMEM : AUTH_EKEY;
}

/* Reads the fetched set with the JWKS file reader, through an anonymous
 * in-memory file, so the URL and the file are held to one parser; the
 * reader's "KEYCLOAK_JWKS_FILE: <path>" in errstr becomes the URL. */
static int
parse(const struct auth_alg *alg, const char *url, const struct fetched *f,
    struct auth_keys **out, char *errstr, size_t size)
{
	char path[64], err[512] = "";
	int fd = memfd_create("msgcmd-jwks", MFD_CLOEXEC), rc;
	size_t skip;

	if (fd < 0 || write(fd, f->buf, f->n) != (ssize_t)f->n) {
		snprintf(errstr, size, "KEYCLOAK_JWKS_URL: %s: cannot hold "
		    "the answer in memory", url);
		if (fd >= 0)
			close(fd);
		return AUTH_ENOMEM;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = auth_jwks_load(alg, path, out, err, sizeof(err));
	close(fd);
	skip = strlen("KEYCLOAK_JWKS_FILE: ") + strlen(path);
	if (rc != 0)
		snprintf(errstr, size, "KEYCLOAK_JWKS_URL: %s%s", url,
		    strlen(err) > skip ? err + skip : ": out of memory");
	return rc;
}

int
auth_fetch_load(const struct auth_alg *alg, const char *url,
    struct auth_keys **out, char *errstr, size_t errstr_size)
{
	struct fetched f = { NULL, 0, 0 };
	int rc;

	*out = NULL;
	rc = fetch(url, &f, errstr, errstr_size);
	if (rc == 0)
		rc = parse(alg, url, &f, out, errstr, errstr_size);
	free(f.buf);
	return rc;
}

/* Milliseconds of a monotonic clock: a wall clock set back must not
 * stop refetches. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
auth_fetch_refetch(struct auth *a)
{
	struct auth_keys *ks = NULL;
	long long now = now_ms();
	char err[512] = "";
	int rc;

	if (now < a->refetch_after_ms)
		return AUTH_EKID;
	/* A failure counts too: a Keycloak that is down is asked again
	 * only after the same pause. */
	a->refetch_after_ms = now + AUTH_REFETCH_SECONDS * 1000LL;
	rc = auth_keys_load(a, &ks, err, sizeof(err));
	if (rc != 0) {
		log_msg(LOG_LEVEL_ERROR, "keys not refetched (unknown kid), the "
		    "previous ones stay in use: %s", err);
		return rc;
	}
	auth_keys_free(a->keys);
	a->keys = ks;
	auth_cache_clear(&a->cache);
	log_msg(LOG_LEVEL_INFO, "keys refetched (unknown kid) from %s: %zu "
	    "key(s)", a->src_value, ks->n);
	return 0;
}
