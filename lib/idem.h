/* idem.h: the Idempotency-Key header's syntax and the fingerprint that
 * tells "the same request" from "a different one". */
#ifndef MSGCMD_IDEM_H
#define MSGCMD_IDEM_H

#include <stddef.h>

#define IDEM_KEY_MAX 255
#define IDEM_FINGERPRINT_LEN 16

/* Returns 1 when key is 1 to IDEM_KEY_MAX printable ASCII characters. */
int idem_key_valid(const char *key);

/* Incremental FNV-1a 64 over length-prefixed parts, so that ("ab","c")
 * and ("a","bc") differ.  Start with idem_fp_init(). */
typedef unsigned long long idem_fp;
idem_fp idem_fp_init(void);
idem_fp idem_fp_add(idem_fp h, const char *part, size_t len);

/* Writes h as IDEM_FINGERPRINT_LEN hex digits plus NUL into out. */
void idem_fp_hex(idem_fp h, char out[IDEM_FINGERPRINT_LEN + 1]);

struct body;
struct event;

/* Writes into out the fingerprint of a command: ev's kind, conversation
 * id and participant, and the values in b of the fields whose bit
 * (1u << field_id) is set in fields, the ones the command reads.  Parsed
 * values, not bytes: the same command sent as JSON, urlencoded or
 * multipart, with unread fields, through a path alias, with a trailing
 * slash or an upper-case id, is the same request.  The subject is not in
 * it: keys are scoped to the subject already. */
void idem_fingerprint(const struct event *ev, const struct body *b,
    unsigned fields, char out[IDEM_FINGERPRINT_LEN + 1]);

#endif
