/*
 * envelope.c: the plaintext envelope of envelope.h. It checks lengths
 * before every copy; it never looks inside a text (the client checks and
 * escapes it when it shows it).
 */
#include <string.h>

#include "proto/bytes.h"
#include "proto/envelope.h"
#include "proto/err.h"

int
envelope_text(uint8_t *out, size_t cap, size_t *out_len, const uint8_t *text,
    size_t len)
{
	if (len > ENVELOPE_TEXT_MAX)
		return OFR_E_TOO_BIG;
	if (cap < ENVELOPE_HDR_BYTES + len)
		return OFR_E_USAGE;
	out[0] = ENVELOPE_VERSION;
	out[1] = ENVELOPE_TEXT;
	if (len > 0)
		memmove(out + ENVELOPE_HDR_BYTES, text, len);
	*out_len = ENVELOPE_HDR_BYTES + len;
	return 0;
}

int
envelope_report(uint8_t *out, size_t cap, size_t *out_len, uint32_t count,
    uint8_t reason)
{
	if (cap < ENVELOPE_REPORT_BYTES || count == 0 || reason == 0)
		return OFR_E_USAGE;
	out[0] = ENVELOPE_VERSION;
	out[1] = ENVELOPE_REPORT;
	be32_put(out + 2, count);
	out[6] = reason;
	*out_len = ENVELOPE_REPORT_BYTES;
	return 0;
}

int
envelope_nothing(uint8_t *out, size_t cap, size_t *out_len)
{
	if (cap < ENVELOPE_HDR_BYTES)
		return OFR_E_USAGE;
	out[0] = ENVELOPE_VERSION;
	out[1] = ENVELOPE_NOTHING;
	*out_len = ENVELOPE_HDR_BYTES;
	return 0;
}

int
envelope_parse(struct envelope *e, const uint8_t *pt, size_t len)
{
	memset(e, 0, sizeof(*e));
	if (len < ENVELOPE_HDR_BYTES || pt[0] != ENVELOPE_VERSION)
		return OFR_E_BAD_FIELD;
	e->kind = pt[1];
	switch (e->kind) {
	case ENVELOPE_TEXT:
		if (len - ENVELOPE_HDR_BYTES > ENVELOPE_TEXT_MAX)
			return OFR_E_BAD_FIELD;
		e->text = pt + ENVELOPE_HDR_BYTES;
		e->text_len = len - ENVELOPE_HDR_BYTES;
		return 0;
	case ENVELOPE_REPORT:
		if (len != ENVELOPE_REPORT_BYTES)
			return OFR_E_BAD_FIELD;
		e->count = be32_get(pt + 2);
		e->reason = pt[6];
		if (e->count == 0 || e->reason == 0)
			return OFR_E_BAD_FIELD;
		return 0;
	case ENVELOPE_NOTHING:
		return len == ENVELOPE_HDR_BYTES ? 0 : OFR_E_BAD_FIELD;
	default:
		return OFR_E_BAD_FIELD;
	}
}
