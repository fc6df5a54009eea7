/* field.h: the allowlist of body fields, one validator row each. */
#ifndef MSGCMD_FIELD_H
#define MSGCMD_FIELD_H

#include <stddef.h>

enum field_id {
	FIELD_NAME,
	FIELD_MESSAGE_CONTENT,
	FIELD_PARTICIPANT_ID,
	FIELD__MAX
};

struct body;

/* Returns the wire name of a field ("name", "message_content", ...), or
 * NULL for an id out of range.  field_lookup() is the inverse: returns
 * the id, or -1 for a name not on the allowlist. */
const char *field_name(enum field_id id);
int field_lookup(const char *name, size_t len);

/* Validates the fields whose bit (1u << id) is set in need: present, a
 * string, non-empty, valid UTF-8, no NUL, at most max_chars[id] characters
 * (code points).  For each failing field sets errors[id] to a static
 * message (the first failure); others are set to NULL.  Returns the number
 * of failing fields (0 = valid). */
int field_check(const struct body *b, unsigned need,
    const size_t max_chars[FIELD__MAX], const char *errors[FIELD__MAX]);

#endif
