/* utf8.c: well-formed UTF-8 (RFC 3629), for the field rules and the
 * log lines. */
#include "utf8.h"

/* Well-formed UTF-8 per RFC 3629 section 4, one row per lead-byte range:
 * how many continuation bytes follow and the range allowed for the first
 * of them (the narrower ranges exclude overlongs, surrogates and code
 * points above U+10FFFF); later continuation bytes are 80-BF. */
static const struct utf8_row {
	unsigned char lead_lo, lead_hi, more, next_lo, next_hi;
} utf8_rows[] = {
	{ 0x00, 0x7f, 0, 0, 0 },
	{ 0xc2, 0xdf, 1, 0x80, 0xbf },
	{ 0xe0, 0xe0, 2, 0xa0, 0xbf },
	{ 0xe1, 0xec, 2, 0x80, 0xbf },
	{ 0xed, 0xed, 2, 0x80, 0x9f },
	{ 0xee, 0xef, 2, 0x80, 0xbf },
	{ 0xf0, 0xf0, 3, 0x90, 0xbf },
	{ 0xf1, 0xf3, 3, 0x80, 0xbf },
	{ 0xf4, 0xf4, 3, 0x80, 0x8f },
};

size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t rows = sizeof(utf8_rows) / sizeof(utf8_rows[0]);
	for (size_t r = 0; r < rows; r++) {
		const struct utf8_row *row = &utf8_rows[r];
		if (s[0] < row->lead_lo || s[0] > row->lead_hi)
			continue;
		if (n <= row->more)
			return 0;
		if (row->more > 0 &&
		    (s[1] < row->next_lo || s[1] > row->next_hi))
			return 0;
		for (size_t k = 2; k <= row->more; k++)
			if (s[k] < 0x80 || s[k] > 0xbf)
				return 0;
		return 1 + (size_t)row->more;
	}
	return 0;
}

long utf8_chars(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	long chars = 0;
	for (size_t i = 0; i < len; chars++) {
		size_t k = utf8_seq(u + i, len - i);
		if (k == 0)
			return -1;
		i += k;
	}
	return chars;
}
