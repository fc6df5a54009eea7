/* utf8.h: well-formed UTF-8 per RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF. */
#ifndef MSGCMD_UTF8_H
#define MSGCMD_UTF8_H

#include <stddef.h>

/* Returns the length (1-4) of the well-formed character at s, of which
 * n >= 1 bytes may be read, or 0 when none starts there. */
size_t utf8_seq(const unsigned char *s, size_t n);

/* Returns the number of code points in s (len bytes) when it is
 * well-formed UTF-8, or -1. */
long utf8_chars(const char *s, size_t len);

#endif
