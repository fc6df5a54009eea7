/* log.h: one JSON object per line on stderr, which lighttpd and Apache
 * copy into their error logs.  Never pass tokens or message bodies. */
#ifndef MSGCMD_LOG_H
#define MSGCMD_LOG_H

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Sets the lowest level written (default LOG_LEVEL_INFO) and the program
 * name put in every line.  Call once at start-up. */
void log_init(const char *program, enum log_level min);

/* Writes {"time":...,"level":...,"program":...,"pid":...,"msg":"<fmt>"}
 * as one line with a single write(2), so lines of concurrent processes
 * do not interleave.  The message is JSON-escaped. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
