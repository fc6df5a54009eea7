/* body_internal.h: helpers shared by body.c and the per-format readers
 * body_json.c, body_form.c and body_multipart.c.  Not part of the API. */
#ifndef MSGCMD_BODY_INTERNAL_H
#define MSGCMD_BODY_INTERNAL_H

#include <stddef.h>
#include "body.h"

/* One reader per media type.  content_type is the raw header (the
 * multipart reader takes its boundary from it); data/len is the body,
 * len > 0.  Returns a body_err and, on error, a reason in detail; the
 * caller frees whatever the reader stored in out. */
typedef int body_reader(const char *content_type, const char *data,
    size_t len, struct body *out, char *detail, size_t detail_size);

body_reader body_json_read;
body_reader body_form_read;
body_reader body_multipart_read;

/* Writes the formatted reason into detail (when detail_size > 0) and
 * returns rc, so a reader can `return body_fail(...)`.  Reasons never
 * quote client bytes: they end up in a JSON problem document. */
int body_fail(char *detail, size_t detail_size, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Returns BODY_OK when field id has not been seen yet in out, or
 * BODY_EMALFORMED with a reason naming the field when it has: a client
 * that sends a field twice does not get to pick which copy counts. */
int body_claim(const struct body *out, enum field_id id, char *detail,
    size_t detail_size);

/* Stores a NUL-terminated malloc'd copy of s (n bytes) as field id.
 * Returns BODY_OK or BODY_ENOMEM. */
int body_store(struct body *out, enum field_id id, const char *s, size_t n);

/* Finds parameter key (case-insensitive) among the ";"-separated
 * parameters after the first ";" of the header value s (n bytes).  On
 * success points *val at the value (inside s, quotes removed, backslash
 * escapes left as they are) and returns 1; returns 0 when absent. */
int body_param(const char *s, size_t n, const char *key, const char **val,
    size_t *vlen);

/* Returns 1 when the header value s (n bytes) has no charset parameter
 * or charset=utf-8 (any case), else 0. */
int body_charset_ok(const char *s, size_t n);

/* Returns 1 when s (n bytes, surrounding spaces and tabs ignored) up to
 * the first ";" equals name, ignoring case, else 0. */
int body_token_is(const char *s, size_t n, const char *name);

#endif
