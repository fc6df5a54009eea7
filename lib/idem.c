/* idem.c: Idempotency-Key syntax and request fingerprints.  A
 * fingerprint is compared only among one subject's own requests, so a
 * fast non-cryptographic hash suffices: a collision could only be made
 * by the key's owner against themself. */
#include "idem.h"

#include <stdio.h>
#include <string.h>

#include "body.h"
#include "decide.h"
#include "event.h"

int idem_key_valid(const char *key)
{
	size_t n = 0;
	for (; key[n]; n++)
		if ((unsigned char)key[n] < 0x20 || (unsigned char)key[n] > 0x7e)
			return 0;
	return n >= 1 && n <= IDEM_KEY_MAX;
}

idem_fp idem_fp_init(void)
{
	return 0xcbf29ce484222325ULL;
}

static idem_fp idem_fp_bytes(idem_fp h, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

idem_fp idem_fp_add(idem_fp h, const char *part, size_t len)
{
	unsigned char n[8];
	for (int i = 0; i < 8; i++)
		n[i] = (unsigned char)(len >> (8 * i));
	h = idem_fp_bytes(h, n, sizeof n);
	return idem_fp_bytes(h, (const unsigned char *)part, len);
}

void idem_fp_hex(idem_fp h, char out[IDEM_FINGERPRINT_LEN + 1])
{
	snprintf(out, IDEM_FINGERPRINT_LEN + 1, "%016llx", h);
}

void idem_fingerprint(const struct event *ev, const struct body *b,
    unsigned fields, char out[IDEM_FINGERPRINT_LEN + 1])
{
	const char *kind = decide_event_name(ev->kind);
	idem_fp h = idem_fp_add(idem_fp_init(), kind, strlen(kind));

	h = idem_fp_add(h, ev->conversation_id, strlen(ev->conversation_id));
	/* An added participant enters twice, here and as a body field: the
	 * order of parts is what keys stored by earlier versions hold. */
	if (ev->participant_id)
		h = idem_fp_add(h, ev->participant_id,
		    strlen(ev->participant_id));
	for (int f = 0; f < FIELD__MAX; f++)
		if ((fields & 1u << f) && b->value[f])
			h = idem_fp_add(h, b->value[f], b->len[f]);
	idem_fp_hex(h, out);
}
