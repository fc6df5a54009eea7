/* test_field.c: the field allowlist, strict UTF-8 counting and the
 * validation messages of field_check. */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "field.h"
#include "utf8.h"
#include "unit.h"

#define DATA(s) s, sizeof(s) - 1
#define EMOJI "\xf0\x9f\x98\x80"	/* U+1F600, 4 bytes */

static const struct {
	const char *what, *s;
	size_t len;
	long chars;
} utf8_cases[] = {
	{ "empty", DATA(""), 0 },
	{ "ascii", DATA("abc"), 3 },
	{ "NUL is a code point", DATA("a\0b"), 3 },
	{ "2 bytes", DATA("\xc3\xa9"), 1 },
	{ "3 bytes", DATA("\xe2\x82\xac"), 1 },
	{ "4 bytes", DATA(EMOJI), 1 },
	{ "mixed", DATA("a\xc3\xa9\xe2\x82\xac" EMOJI), 4 },
	{ "U+0080", DATA("\xc2\x80"), 1 },
	{ "U+07FF", DATA("\xdf\xbf"), 1 },
	{ "U+0800", DATA("\xe0\xa0\x80"), 1 },
	{ "U+D7FF", DATA("\xed\x9f\xbf"), 1 },
	{ "U+E000", DATA("\xee\x80\x80"), 1 },
	{ "U+FFFF", DATA("\xef\xbf\xbf"), 1 },
	{ "U+10000", DATA("\xf0\x90\x80\x80"), 1 },
	{ "U+10FFFF", DATA("\xf4\x8f\xbf\xbf"), 1 },
	{ "overlong NUL", DATA("\xc0\x80"), -1 },
	{ "overlong C1", DATA("\xc1\xbf"), -1 },
	{ "overlong 3 bytes", DATA("\xe0\x9f\xbf"), -1 },
	{ "overlong 4 bytes", DATA("\xf0\x8f\xbf\xbf"), -1 },
	{ "surrogate D800", DATA("\xed\xa0\x80"), -1 },
	{ "surrogate DFFF", DATA("\xed\xbf\xbf"), -1 },
	{ "above U+10FFFF", DATA("\xf4\x90\x80\x80"), -1 },
	{ "lead F5", DATA("\xf5\x80\x80\x80"), -1 },
	{ "lead FF", DATA("\xff"), -1 },
	{ "lone continuation", DATA("\x80"), -1 },
	{ "truncated 2", DATA("a\xc3"), -1 },
	{ "truncated 3", DATA("\xe2\x82"), -1 },
	{ "truncated 4", DATA("\xf0\x9f\x98"), -1 },
	{ "bad second byte", DATA("\xc3\x41"), -1 },
	{ "bad third byte", DATA("\xe2\x82\x41"), -1 },
	{ "bad fourth byte", DATA("\xf0\x9f\x98\x41"), -1 },
	{ "latin-1 e acute", DATA("caf\xe9"), -1 },
};

START_TEST(test_field_utf8)
{
	long got = utf8_chars(utf8_cases[_i].s, utf8_cases[_i].len);
	ck_assert_msg(got == utf8_cases[_i].chars, "%s: %ld, want %ld",
	    utf8_cases[_i].what, got, utf8_cases[_i].chars);
}
END_TEST

/* The sequence must end within len even when more bytes follow. */
START_TEST(test_field_utf8_stops_at_len)
{
	ck_assert_int_eq(utf8_chars("\xc3\xa9", 1), -1);
	ck_assert_int_eq(utf8_chars(EMOJI, 3), -1);
	ck_assert_int_eq(utf8_chars("ab\xff", 2), 2);
}
END_TEST

START_TEST(test_field_names)
{
	static const char *const names[FIELD__MAX] = {
		"name", "message_content", "participant_id" };
	for (int id = 0; id < FIELD__MAX; id++) {
		ck_assert_str_eq(field_name(id), names[id]);
		ck_assert_int_eq(field_lookup(names[id], strlen(names[id])), id);
	}
	ck_assert_ptr_null(field_name(FIELD__MAX));
	ck_assert_ptr_null(field_name((enum field_id)-1));
	ck_assert_int_eq(field_lookup("nam", 3), -1);
	ck_assert_int_eq(field_lookup("NAME", 4), -1);
	ck_assert_int_eq(field_lookup("name\0x", 6), -1);
	ck_assert_int_eq(field_lookup("namex", 4), FIELD_NAME);
	ck_assert_int_eq(field_lookup("", 0), -1);
}
END_TEST

static const size_t limits[FIELD__MAX] = {
	[FIELD_NAME] = 100, [FIELD_MESSAGE_CONTENT] = 10000,
	[FIELD_PARTICIPANT_ID] = 100 };

static const struct {
	const char *what, *value;
	size_t len;
	int not_string;
	const char *error;	/* NULL = valid */
} check_cases[] = {
	{ "missing", NULL, 0, 0, "This field is required." },
	{ "not a string", NULL, 0, 1, "Not a valid string." },
	{ "empty", DATA(""), 0, "This field may not be blank." },
	{ "NUL", DATA("a\0b"), 0, "This field may not contain NUL characters." },
	{ "NUL and bad UTF-8", DATA("\xff\0"), 0, "This field may not contain NUL characters." },
	{ "invalid UTF-8", DATA("caf\xe9"), 0, "Not valid UTF-8 text." },
	{ "surrogate", DATA("\xed\xa0\x80"), 0, "Not valid UTF-8 text." },
	{ "control \\x01", DATA("a\x01b"), 0, "This field may not contain control characters." },
	{ "tab in a name", DATA("a\tb"), 0, "This field may not contain control characters." },
	{ "line break in a name", DATA("a\nb"), 0, "This field may not contain control characters." },
	{ "DEL", DATA("a\x7f"), 0, "This field may not contain control characters." },
	{ "ok", DATA("General"), 0, NULL },
	/* Blank as the original's serializer saw it (it trimmed). */
	{ "a space", DATA(" "), 0, "This field may not be blank." },
	{ "blanks", DATA(" \t\r\n "), 0, "This field may not be blank." },
	{ "inner space", DATA(" a b "), 0, NULL },
	{ "dots in a name", DATA(".."), 0, NULL },
};

/* field_check() of value (a C string) as field id alone: returns the
 * number of failing fields and sets *error to id's message or NULL. */
static int check_one(enum field_id id, const char *value, const char **error)
{
	struct body b = { .len = { 0 } };
	const char *errors[FIELD__MAX];
	int failed;

	b.value[id] = (char *)value;
	b.len[id] = strlen(value);
	failed = field_check(&b, 1u << id, limits, errors);
	*error = errors[id];
	return failed;
}

/* A participant id that a path cannot name ("." and ".." are folded
 * away by web servers) is refused; other dots are fine. */
START_TEST(test_field_participant_segment)
{
	static const struct {
		const char *value;
		int fails;
	} cases[] = {
		{ ".", 1 }, { "..", 1 }, { "...", 0 }, { ".a", 0 },
		{ "a.b", 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *error;

		ck_assert_int_eq(check_one(FIELD_PARTICIPANT_ID,
		    cases[i].value, &error), cases[i].fails);
		if (cases[i].fails)
			ck_assert_str_eq(error, "Not a valid participant id.");
	}
}
END_TEST

/* A message may hold tabs and line breaks; other control characters
 * are refused there too. */
START_TEST(test_field_message_controls)
{
	static const struct {
		const char *value;
		int fails;
	} cases[] = {
		{ "line one\nline two\r\n\tindented", 0 },
		{ "bell\a", 1 }, { "escape\x1b[31m", 1 }, { "del\x7f", 1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *error;

		ck_assert_int_eq(check_one(FIELD_MESSAGE_CONTENT,
		    cases[i].value, &error), cases[i].fails);
	}
}
END_TEST

START_TEST(test_field_check_cases)
{
	struct body b = { .len = { 0 } };
	const char *errors[FIELD__MAX] = { "x", "x", "x" };
	b.value[FIELD_NAME] = (char *)check_cases[_i].value;
	b.len[FIELD_NAME] = check_cases[_i].len;
	b.not_string[FIELD_NAME] = check_cases[_i].not_string;
	int failed = field_check(&b, 1u << FIELD_NAME, limits, errors);
	ck_assert_int_eq(failed, check_cases[_i].error != NULL);
	ck_assert_pstr_eq(errors[FIELD_NAME], check_cases[_i].error);
	ck_assert_ptr_null(errors[FIELD_MESSAGE_CONTENT]);
	ck_assert_ptr_null(errors[FIELD_PARTICIPANT_ID]);
}
END_TEST

/* Returns a malloc'd string of n copies of unit (k bytes). */
static char *repeat(const char *unit, size_t k, size_t n)
{
	char *s = malloc(n * k + 1);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * k, unit, k);
	s[n * k] = '\0';
	return s;
}

/* Limits count code points: 100 emoji (400 bytes) fit a limit of 100,
 * 101 do not, and the message names each field's own limit. */
START_TEST(test_field_check_lengths)
{
	struct body b = { .len = { 0 } };
	const char *errors[FIELD__MAX];
	unsigned all = (1u << FIELD__MAX) - 1;
	b.value[FIELD_NAME] = repeat(EMOJI, 4, 100);
	b.len[FIELD_NAME] = 400;
	b.value[FIELD_MESSAGE_CONTENT] = repeat("a", 1, 10000);
	b.len[FIELD_MESSAGE_CONTENT] = 10000;
	b.value[FIELD_PARTICIPANT_ID] = repeat("\xc3\xa9", 2, 100);
	b.len[FIELD_PARTICIPANT_ID] = 200;
	ck_assert_int_eq(field_check(&b, all, limits, errors), 0);
	b.len[FIELD_MESSAGE_CONTENT] = 9999;
	ck_assert_int_eq(field_check(&b, all, limits, errors), 0);
	body_free(&b);

	b.value[FIELD_NAME] = repeat(EMOJI, 4, 101);
	b.len[FIELD_NAME] = 404;
	b.value[FIELD_MESSAGE_CONTENT] = repeat("a", 1, 10001);
	b.len[FIELD_MESSAGE_CONTENT] = 10001;
	ck_assert_int_eq(field_check(&b, all, limits, errors), 3);
	ck_assert_str_eq(errors[FIELD_NAME],
	    "Ensure this field has no more than 100 characters.");
	ck_assert_str_eq(errors[FIELD_MESSAGE_CONTENT],
	    "Ensure this field has no more than 10000 characters.");
	ck_assert_str_eq(errors[FIELD_PARTICIPANT_ID],
	    "This field is required.");
	body_free(&b);
}
END_TEST

/* Fields outside need are not checked, and their errors are NULL. */
START_TEST(test_field_check_need)
{
	struct body b = { .len = { 0 } };
	const char *errors[FIELD__MAX] = { "x", "x", "x" };
	ck_assert_int_eq(field_check(&b, 0, limits, errors), 0);
	for (int id = 0; id < FIELD__MAX; id++)
		ck_assert_ptr_null(errors[id]);
	ck_assert_int_eq(field_check(&b, 1u << FIELD_PARTICIPANT_ID, limits,
	    errors), 1);
	ck_assert_ptr_null(errors[FIELD_NAME]);
	ck_assert_str_eq(errors[FIELD_PARTICIPANT_ID],
	    "This field is required.");
}
END_TEST

static Suite *field_suite(void)
{
	Suite *s = suite_create("field");
	TCase *tc = tcase_create("field");
	tcase_add_loop_test(tc, test_field_utf8, 0,
	    sizeof(utf8_cases) / sizeof(utf8_cases[0]));
	tcase_add_test(tc, test_field_utf8_stops_at_len);
	tcase_add_test(tc, test_field_participant_segment);
	tcase_add_test(tc, test_field_names);
	tcase_add_test(tc, test_field_message_controls);
	tcase_add_loop_test(tc, test_field_check_cases, 0,
	    sizeof(check_cases) / sizeof(check_cases[0]));
	tcase_add_test(tc, test_field_check_lengths);
	tcase_add_test(tc, test_field_check_need);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(field_suite)
