/* fuzz_body.c: body_parse() and field_check() over arbitrary bodies.  The
 * first input byte picks the Content-Type, so one harness drives the
 * JSON, urlencoded and multipart readers; the rest is the body. */
#include "fuzz.h"

#include "body.h"
#include "field.h"
#include "utf8.h"

/* The multipart rows carry the boundaries of Django's test client and of
 * a browser.  NULL: the Content-Type is the input up to its first '\n',
 * which reaches the media-type, charset and boundary parameter parsing;
 * an input without '\n' is a body sent without a Content-Type. */
static const char *const ctypes[] = {
	"application/json",
	"application/json; charset=UTF-8",
	"application/x-www-form-urlencoded",
	"application/x-www-form-urlencoded; charset=utf-8",
	"multipart/form-data; boundary=BoUnDaRyStRiNg",
	"multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
	"multipart/form-data; charset=utf-8; boundary=\"BoUnDaRyStRiNg\"",
	NULL,
};

#define NCTYPES (sizeof(ctypes) / sizeof(ctypes[0]))

/* The configuration defaults (MAX_NAME_CHARS, MAX_MESSAGE_CHARS,
 * MAX_PARTICIPANT_CHARS). */
static const size_t max_chars[FIELD__MAX] = {
	[FIELD_NAME] = 100,
	[FIELD_MESSAGE_CONTENT] = 10000,
	[FIELD_PARTICIPANT_ID] = 100,
};

/* What body_parse() promises, checked after every call. */
static void check_result(int rc, const struct body *b, const char *detail,
    size_t detail_size)
{
	FUZZ_ASSERT(memchr(detail, '\0', detail_size) != NULL);
	FUZZ_ASSERT(body_strerror(rc) != NULL);
	for (int i = 0; i < FIELD__MAX; i++) {
		if (rc != BODY_OK) {
			/* On error the body holds nothing. */
			FUZZ_ASSERT(b->value[i] == NULL && b->len[i] == 0);
			continue;
		}
		if (b->value[i] == NULL)
			continue;
		FUZZ_ASSERT(b->value[i][b->len[i]] == '\0');
		(void)utf8_chars(b->value[i], b->len[i]);
	}
}

static void check_fields(const struct body *b)
{
	const char *errors[FIELD__MAX];
	unsigned all = (1u << FIELD__MAX) - 1;
	int bad = field_check(b, all, max_chars, errors), seen = 0;

	for (int i = 0; i < FIELD__MAX; i++)
		seen += errors[i] != NULL;
	FUZZ_ASSERT(bad == seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct body b;
	char detail[256], *owned = NULL;
	const char *ct;
	const uint8_t *body;
	size_t n;

	if (size == 0)
		return 0;
	ct = ctypes[data[0] % NCTYPES];
	body = data + 1;
	n = size - 1;
	if (ct == NULL) {
		const uint8_t *nl = memchr(body, '\n', n);

		if (nl != NULL) {
			size_t k = (size_t)(nl - body);

			ct = owned = fuzz_str(body, k);
			body += k + 1;
			n -= k + 1;
		}
	}
	/* The body is the tail of libFuzzer's exact-size buffer, so ASan
	 * sees any read past its end. */
	int rc = body_parse(ct, (const char *)body, n, &b, detail,
	    sizeof(detail));
	check_result(rc, &b, detail, sizeof(detail));
	if (rc == BODY_OK)
		check_fields(&b);
	body_free(&b);
	free(owned);
	return 0;
}
