/* body.h: reads a request body (JSON, urlencoded form or multipart form)
 * into the allowlisted fields of field.h.  Unknown fields are ignored. */
#ifndef MSGCMD_BODY_H
#define MSGCMD_BODY_H

#include <stddef.h>
#include "field.h"

enum body_err {
	BODY_OK = 0,
	BODY_EMALFORMED = -1,	/* not valid JSON / form / multipart: 400 */
	BODY_EUNSUPPORTED = -2,	/* Content-Type we do not read: 415 */
	BODY_ENOMEM = -3,
};

/* Values are NUL-terminated malloc'd copies owned by the body; a value
 * may itself contain NUL bytes, so len is authoritative. */
struct body {
	char *value[FIELD__MAX];	/* NULL when the field is absent */
	size_t len[FIELD__MAX];		/* bytes, without the terminating NUL */
	int not_string[FIELD__MAX];	/* JSON: present but not a string */
};

/* Parses data (len bytes, not necessarily NUL-terminated) according to
 * content_type (the raw header value, parameters included; NULL or empty
 * with len == 0 means "no body" and yields an empty struct body).  On
 * error writes a one-sentence reason into detail.  On success out owns
 * its values; on error out holds nothing.  Either way body_free(out) is
 * safe. */
int body_parse(const char *content_type, const char *data, size_t len,
    struct body *out, char *detail, size_t detail_size);

/* Frees the values and zeroes out. */
void body_free(struct body *out);

/* Returns a static description of a body_err. */
const char *body_strerror(int err);

#endif
