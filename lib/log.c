/* log.c: JSON lines on stderr, one write(2) each. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "msgcmd";
static enum log_level log_min = LOG_LEVEL_INFO;
static const char *const log_names[] = { "error", "warn", "info", "debug" };

void log_init(const char *program, enum log_level min)
{
	log_program = program;
	log_min = min;
}

/* Appends s to out (JSON string body), escaping as RFC 8259 requires. */
static size_t log_escape(char *out, size_t cap, const char *s)
{
	size_t n = 0;
	for (; *s && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	return n;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > log_min)
		return;
	char msg[1024], line[2400], stamp[40];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

	int n = snprintf(line, sizeof line,
	    "{\"time\":\"%s.%06ldZ\",\"level\":\"%s\",\"program\":\"%s\","
	    "\"pid\":%ld,\"msg\":\"", stamp, (long)tv.tv_usec,
	    log_names[level], log_program, (long)getpid());
	size_t len = (size_t)n;
	len += log_escape(line + len, sizeof line - len - 4, msg);
	memcpy(line + len, "\"}\n", 3);
	len += 3;
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
