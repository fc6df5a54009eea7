/* log.c: JSON lines on stderr, one write(2) each: free-form messages and
 * the one line per request, with the same leading fields. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "utf8.h"

#define LOG_LINE 2400
#define LOG_TAIL 2		/* room always kept for the closing "}\n" */
#define LOG_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
    "0123456789._:+/=-"

static const char *log_program = "msgcmd";
static enum log_level log_min = LOG_LEVEL_INFO;
static const char *const log_names[] = { "error", "warn", "info", "debug" };
static uint64_t log_seed;
static atomic_uint_fast64_t log_ids;

/* A line being built.  What does not fit is left out; the tail always
 * fits, so every line written is a whole JSON object. */
struct log_line {
	size_t len;
	char buf[LOG_LINE];
};

void log_init(const char *program, enum log_level min)
{
	log_program = program;
	log_min = min;
	/* Without randomness, ids are still unique per process. */
	if (getrandom(&log_seed, sizeof log_seed, GRND_NONBLOCK) !=
	    (ssize_t)sizeof log_seed)
		log_seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
}

/* Appends s to out (JSON string body), escaping as RFC 8259 requires.
 * The line must stay UTF-8 for JSON readers: a byte that starts no
 * well-formed character becomes U+FFFD, and a cut falls between
 * characters. */
static size_t log_escape(char *out, size_t cap, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0, left = strlen(s), k;

	for (; left > 0 && n + 7 < cap; u += k, left -= k) {
		k = 1;
		if (*u == '"' || *u == '\\') {
			out[n++] = '\\';
			out[n++] = (char)*u;
		} else if (*u < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *u);
		} else if (*u < 0x80) {
			out[n++] = (char)*u;
		} else if ((k = utf8_seq(u, left)) == 0) {
			k = 1;
			n += (size_t)snprintf(out + n, cap - n, "\\ufffd");
		} else {
			memcpy(out + n, u, k);
			n += k;
		}
	}
	return n;
}

/* Appends formatted text, all of it or (when it does not fit) none. */
static int log_add(struct log_line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int log_add(struct log_line *l, const char *fmt, ...)
{
	size_t room = sizeof l->buf - l->len - LOG_TAIL;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -1;
	l->len += (size_t)n;
	return 0;
}

/* Appends ,"key":"value" with value escaped and, if need be, cut.  The
 * key is copied, not formatted: a request's line has seven of them. */
static void log_str(struct log_line *l, const char *key, const char *value)
{
	size_t klen = strlen(key);

	if (value == NULL ||
	    l->len + klen + 5 >= sizeof l->buf - LOG_TAIL)
		return;
	l->buf[l->len++] = ',';
	l->buf[l->len++] = '"';
	memcpy(l->buf + l->len, key, klen);
	l->len += klen;
	memcpy(l->buf + l->len, "\":\"", 3);
	l->len += 3;
	l->len += log_escape(l->buf + l->len,
	    sizeof l->buf - l->len - LOG_TAIL - 1, value);
	l->buf[l->len++] = '"';
}

/* Starts a line with the fields every line has.  Returns 0, or -1 when
 * only an absurdly long program name made them not fit. */
static int log_head(struct log_line *l, enum log_level level)
{
	char stamp[40];
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	if (gmtime_r(&tv.tv_sec, &tm) == NULL ||
	    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		stamp[0] = '\0';
	l->len = 0;
	return log_add(l, "{\"time\":\"%s.%06ldZ\",\"level\":\"%s\","
	    "\"program\":\"%s\",\"pid\":%ld", stamp, (long)tv.tv_usec,
	    log_names[level], log_program, (long)getpid());
}

/* Ends the line and writes it.  The line goes out by length, so it
 * needs no terminating NUL. */
static void log_write(struct log_line *l)
{
	l->buf[l->len++] = '}';
	l->buf[l->len++] = '\n';
	ssize_t w = write(STDERR_FILENO, l->buf, l->len);
	(void)w;
}

/* Drops a character that a cut of s left incomplete at its end. */
static void log_trim_partial(char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = n;

	while (i > 0 && n - i < 3 && (u[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && u[i - 1] >= 0xc0 && utf8_seq(u + i - 1, n - i + 1) == 0)
		s[i - 1] = '\0';
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > log_min)
		return;
	char msg[1024];
	struct log_line l;
	va_list ap;
	va_start(ap, fmt);
	int full = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (full >= (int)sizeof msg)
		log_trim_partial(msg);

	if (log_head(&l, level) != 0)
		return;
	log_str(&l, "msg", msg);
	log_write(&l);
}

void log_request(const struct log_request *r)
{
	enum log_level level = r->status >= 500 ? LOG_LEVEL_WARN :
	    LOG_LEVEL_INFO;
	struct log_line l;

	if (level > log_min || log_head(&l, level) != 0)
		return;
	log_str(&l, "msg", "request");
	log_str(&l, "request_id", r->request_id);
	log_str(&l, "method", r->method);
	log_str(&l, "route", r->route);
	log_add(&l, ",\"status\":%d,\"latency_us\":%lld", r->status,
	    (long long)r->latency_us);
	log_str(&l, "subject", r->subject);
	log_str(&l, "event_id", r->event_id);
	log_write(&l);
}

/* splitmix64 over a per-process counter: distinct ids without a system
 * call, and unpredictable enough across processes (the seed is random);
 * they correlate lines, they protect nothing. */
const char *log_request_id(const char *given, char out[LOG_ID_MAX + 1])
{
	size_t len = given != NULL ? strlen(given) : 0;

	if (len > 0 && len <= LOG_ID_MAX && strspn(given, LOG_ID_CHARS) == len)
		return given;
	uint64_t x = log_seed + (atomic_fetch_add(&log_ids, 1) + 1) *
	    UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	snprintf(out, LOG_ID_MAX + 1, "%0*llx", LOG_ID_GEN_LEN,
	    (unsigned long long)x);
	return out;
}
