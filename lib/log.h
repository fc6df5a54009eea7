/* log.h: one JSON object per line on stderr, which lighttpd and Apache
 * copy into their error logs.  Never pass tokens or message bodies. */
#ifndef MSGCMD_LOG_H
#define MSGCMD_LOG_H

#include <stdint.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Sets the lowest level written (default LOG_LEVEL_INFO) and the program
 * name put in every line, and seeds the request-id generator (one
 * getrandom(2) call).  Call once at start-up, before any thread starts. */
void log_init(const char *program, enum log_level min);

/* Writes {"time":...,"level":...,"program":...,"pid":...,"msg":"<fmt>"}
 * as one line with a single write(2), so lines of concurrent processes
 * do not interleave.  The message is JSON-escaped.  Thread-safe. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A request id: what the client sent in X-Request-Id when it is sane,
 * else LOG_ID_GEN_LEN random hex digits. */
#define LOG_ID_MAX 64
#define LOG_ID_GEN_LEN 16

/* Returns given when it is 1-LOG_ID_MAX characters of [A-Za-z0-9._:+/=-]
 * (safe in a header and a JSON string as it is), else writes a fresh id
 * into out and returns out.  No system call: the generator was seeded by
 * log_init(). */
const char *log_request_id(const char *given, char out[LOG_ID_MAX + 1]);

/* What one request line reports; NULL strings are left out of the line.
 * Borrowed, for the call only. */
struct log_request {
	const char *request_id;
	const char *method;
	const char *route;	/* the route pattern, never the raw path */
	int status;
	int64_t latency_us;
	const char *subject;	/* the token's sub, when authenticated */
	const char *event_id;	/* the event created or replayed */
};

/* Writes the request as one JSON line with the fields of log_msg (msg is
 * "request"; level "info", "warn" for a 5xx) plus request_id, method,
 * route, status, latency_us, subject and event_id, with a single
 * write(2).  Strings are JSON-escaped and cut to fit one line. */
void log_request(const struct log_request *r);

#endif
