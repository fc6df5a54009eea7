/* b64url.h: unpadded base64url (RFC 4648 section 5), the alphabet JWT
 * segments are written in (RFC 7515 section 2). */
#ifndef MSGCMD_B64URL_H
#define MSGCMD_B64URL_H

#include <stddef.h>

/* The most bytes n base64url characters can decode to. */
#define B64URL_DECODED_MAX(n) ((n) / 4 * 3 + 2)

/* Decodes the n characters at in into out, which holds cap bytes.
 * Strict: only A-Z a-z 0-9 - _ are allowed (no padding, no whitespace),
 * n % 4 must not be 1 and the unused low bits of the last character must
 * be zero, so every byte string has exactly one encoding.  Returns 0 and
 * the length in *outlen, or -1 (out then holds garbage). */
int b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap,
    size_t *outlen);

/* Encodes n bytes.  Returns a NUL-terminated string the caller frees, or
 * NULL when out of memory. */
char *b64url_encode(const void *in, size_t n);

#endif
