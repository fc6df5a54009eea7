/* field.c: the allowlist of body fields and their validation, with the
 * messages of Django REST framework, which the original service used. */
#include "field.h"

#include <stdio.h>
#include <string.h>

#include "body.h"
#include "utf8.h"

static const char *const field_names[FIELD__MAX] = {
	[FIELD_NAME] = "name",
	[FIELD_MESSAGE_CONTENT] = "message_content",
	[FIELD_PARTICIPANT_ID] = "participant_id",
};

/* One row per check, in the order they are tried; the first that fails
 * gives the field's message.  A NULL message is built by field_too_long,
 * since it names the limit. */
struct field_rule {
	int (*fails)(const struct body *b, enum field_id id, size_t max);
	const char *message;
};

/* The "too long" messages, one buffer per field so that each errors[]
 * entry stays valid until the next field_check.  Responder processes
 * handle one request at a time on one thread, so static storage is safe;
 * a threaded caller would need its own. */
static char field_too_long_msg[FIELD__MAX][80];

static int field_missing(const struct body *b, enum field_id id, size_t max)
{
	(void)max;
	return b->value[id] == NULL && !b->not_string[id];
}

static int field_not_string(const struct body *b, enum field_id id,
    size_t max)
{
	(void)max;
	return b->value[id] == NULL;
}

/* Empty or only blanks, as the original's serializer (Django REST
 * framework, which trims) judged it. */
static int field_blank(const struct body *b, enum field_id id, size_t max)
{
	(void)max;
	for (size_t i = 0; i < b->len[id]; i++)
		if (!strchr(" \t\n\r\v\f", b->value[id][i]) ||
		    b->value[id][i] == '\0')
			return 0;
	return 1;
}

/* A participant is removed by a path naming it, and web servers fold
 * the segments "." and ".." away (DELETE .../members/.. would reach the
 * conversation): such an id could be added but never removed. */
static int field_not_a_segment(const struct body *b, enum field_id id,
    size_t max)
{
	(void)max;
	if (id != FIELD_PARTICIPANT_ID || b->len[id] > 2)
		return 0;
	for (size_t i = 0; i < b->len[id]; i++)
		if (b->value[id][i] != '.')
			return 0;
	return 1;
}

static int field_has_nul(const struct body *b, enum field_id id, size_t max)
{
	(void)max;
	return memchr(b->value[id], '\0', b->len[id]) != NULL;
}

/* Control characters (C0 and DEL) have no place in a name or a user id;
 * a message may hold tabs and line breaks, nothing else of them. */
static int field_has_control(const struct body *b, enum field_id id,
    size_t max)
{
	(void)max;
	for (size_t i = 0; i < b->len[id]; i++) {
		unsigned char c = (unsigned char)b->value[id][i];

		if ((c < 0x20 || c == 0x7f) && !(id == FIELD_MESSAGE_CONTENT &&
		    (c == '\t' || c == '\n' || c == '\r')))
			return 1;
	}
	return 0;
}

static int field_bad_utf8(const struct body *b, enum field_id id, size_t max)
{
	(void)max;
	return utf8_chars(b->value[id], b->len[id]) < 0;
}

static int field_too_long(const struct body *b, enum field_id id, size_t max)
{
	long chars = utf8_chars(b->value[id], b->len[id]);
	if (chars < 0 || (size_t)chars <= max)
		return 0;
	snprintf(field_too_long_msg[id], sizeof(field_too_long_msg[id]),
	    "Ensure this field has no more than %zu characters.", max);
	return 1;
}

static const struct field_rule field_rules[] = {
	{ field_missing, "This field is required." },
	{ field_not_string, "Not a valid string." },
	{ field_blank, "This field may not be blank." },
	{ field_has_nul, "This field may not contain NUL characters." },
	{ field_has_control, "This field may not contain control characters." },
	{ field_bad_utf8, "Not valid UTF-8 text." },
	{ field_not_a_segment, "Not a valid participant id." },
	{ field_too_long, NULL },
};

const char *field_name(enum field_id id)
{
	if ((unsigned)id >= FIELD__MAX)
		return NULL;
	return field_names[id];
}

int field_lookup(const char *name, size_t len)
{
	for (int i = 0; i < FIELD__MAX; i++)
		if (strlen(field_names[i]) == len &&
		    memcmp(field_names[i], name, len) == 0)
			return i;
	return -1;
}

/* Returns the message of the first rule field id breaks, or NULL. */
static const char *field_first_error(const struct body *b, enum field_id id,
    size_t max)
{
	size_t rules = sizeof(field_rules) / sizeof(field_rules[0]);
	for (size_t r = 0; r < rules; r++)
		if (field_rules[r].fails(b, id, max))
			return field_rules[r].message != NULL ?
			    field_rules[r].message : field_too_long_msg[id];
	return NULL;
}

int field_check(const struct body *b, unsigned need,
    const size_t max_chars[FIELD__MAX], const char *errors[FIELD__MAX])
{
	int failed = 0;
	for (int id = 0; id < FIELD__MAX; id++) {
		errors[id] = NULL;
		if (need & (1u << id))
			errors[id] = field_first_error(b, id, max_chars[id]);
		failed += errors[id] != NULL;
	}
	return failed;
}
