/*
 * envelope.c: the plaintext envelope of envelope.h. It checks lengths
 * before every copy; it never looks inside a text (the client checks and
 * escapes it when it shows it), but the fields of a meeting, an
 * agreement and a referral card must be UTF-8 within their bounds.
 */
#include <string.h>

#include "proto/bytes.h"
#include "proto/envelope.h"
#include "proto/err.h"

#define MEETING_FIXED	(1 + 4 + 8 + 2 + 2)	/* with both lengths */
#define AGREEMENT_FIXED	(1 + 4 + 2 * ENVELOPE_AGREEMENT_FIELDS)
#define REFERRAL_FIXED	(2 * ENVELOPE_REFERRAL_FIELDS)

static const size_t referral_max[ENVELOPE_REFERRAL_FIELDS] = {
	ENVELOPE_REFERRAL_NAME_MAX, ENVELOPE_REFERRAL_CONTACT_MAX,
	ENVELOPE_REFERRAL_NOTE_MAX, ENVELOPE_REFERRAL_NOTE_MAX,
};

int
envelope_utf8_ok(const uint8_t *s, size_t len)
{
	size_t i = 0, n, k;
	uint32_t c, min;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, min = 0x10000, c &= 0x07;
		} else {
			return 0;
		}
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

int
envelope_text(uint8_t *out, size_t cap, size_t *out_len, const uint8_t *text,
    size_t len)
{
	if (len > ENVELOPE_V1_TEXT_MAX)
		return OFR_E_TOO_BIG;
	if (cap < ENVELOPE_HDR_BYTES + len)
		return OFR_E_USAGE;
	out[0] = ENVELOPE_VERSION_1;
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
	out[0] = ENVELOPE_VERSION_1;
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
	out[0] = ENVELOPE_VERSION_1;
	out[1] = ENVELOPE_NOTHING;
	*out_len = ENVELOPE_HDR_BYTES;
	return 0;
}

/* 0 if the meeting m is one parse accepts, else OFR_E_TOO_BIG (a field
 * over its bound) or OFR_E_BAD_FIELD. */
static int
meeting_ok(const struct envelope_meeting *m)
{
	int full;

	if (m->action < ENVELOPE_M_PROPOSE ||
	    m->action > ENVELOPE_M_RESCHEDULE || m->id == 0 || m->time <= 0)
		return OFR_E_BAD_FIELD;
	if (m->place_len > ENVELOPE_PLACE_MAX ||
	    m->recognise_len > ENVELOPE_RECOGNISE_MAX)
		return OFR_E_TOO_BIG;
	full = m->action == ENVELOPE_M_PROPOSE ||
	    m->action == ENVELOPE_M_RESCHEDULE;
	if (full ? m->place_len == 0 :
	    m->place_len != 0 || m->recognise_len != 0)
		return OFR_E_BAD_FIELD;
	if (!envelope_utf8_ok(m->place, m->place_len) ||
	    !envelope_utf8_ok(m->recognise, m->recognise_len))
		return OFR_E_BAD_FIELD;
	return 0;
}

/* As meeting_ok, for an agreement. */
static int
agreement_ok(const struct envelope_agreement *a)
{
	size_t i;

	if (a->action < ENVELOPE_A_PROPOSE || a->action > ENVELOPE_A_REVISE ||
	    a->version == 0 ||
	    (a->action == ENVELOPE_A_PROPOSE && a->version != 1) ||
	    (a->action == ENVELOPE_A_REVISE && a->version < 2))
		return OFR_E_BAD_FIELD;
	for (i = 0; i < ENVELOPE_AGREEMENT_FIELDS; i++) {
		if (a->len[i] > ENVELOPE_AGREEMENT_FIELD_MAX)
			return OFR_E_TOO_BIG;
		if (a->action == ENVELOPE_A_ACCEPT && a->len[i] != 0)
			return OFR_E_BAD_FIELD;
		if (!envelope_utf8_ok(a->field[i], a->len[i]))
			return OFR_E_BAD_FIELD;
	}
	if (a->action != ENVELOPE_A_ACCEPT &&
	    a->len[ENVELOPE_A_OBJECTIVES] == 0)
		return OFR_E_BAD_FIELD;
	return 0;
}

/* As meeting_ok, for a referral card. */
static int
referral_ok(const struct envelope_referral *r)
{
	size_t i;

	for (i = 0; i < ENVELOPE_REFERRAL_FIELDS; i++) {
		if (r->len[i] > referral_max[i])
			return OFR_E_TOO_BIG;
		if (!envelope_utf8_ok(r->field[i], r->len[i]))
			return OFR_E_BAD_FIELD;
	}
	if (r->len[ENVELOPE_RF_NAME] == 0 || r->len[ENVELOPE_RF_CONTACT] == 0)
		return OFR_E_BAD_FIELD;
	return 0;
}

/* A u16 length, then its bytes. */
static uint8_t *
put_field(uint8_t *p, const uint8_t *s, size_t len)
{
	p[0] = (uint8_t)(len >> 8);
	p[1] = (uint8_t)len;
	if (len > 0)
		memmove(p + 2, s, len);
	return p + 2 + len;
}

int
envelope_write(uint8_t *out, size_t cap, size_t *out_len,
    const struct envelope *e)
{
	const struct envelope_meeting *m = &e->meeting;
	const struct envelope_agreement *a = &e->agreement;
	const struct envelope_referral *r = &e->referral;
	size_t body, i;
	uint8_t *p;
	int rc;

	if (e->case_id <= 0 || e->seq == 0 || e->time < 0)
		return OFR_E_BAD_FIELD;
	switch (e->kind) {
	case ENVELOPE_TEXT:
		if (e->text_len > ENVELOPE_TEXT_MAX)
			return OFR_E_TOO_BIG;
		body = e->text_len;
		break;
	case ENVELOPE_REPORT:
		if (e->count == 0 || e->reason == 0)
			return OFR_E_BAD_FIELD;
		body = 5;
		break;
	case ENVELOPE_NOTHING:
		body = 0;
		break;
	case ENVELOPE_MEETING:
		if ((rc = meeting_ok(m)) != 0)
			return rc;
		body = MEETING_FIXED + m->place_len + m->recognise_len;
		break;
	case ENVELOPE_AGREEMENT:
		if ((rc = agreement_ok(a)) != 0)
			return rc;
		body = AGREEMENT_FIXED;
		for (i = 0; i < ENVELOPE_AGREEMENT_FIELDS; i++)
			body += a->len[i];
		break;
	case ENVELOPE_REFERRAL:
		if ((rc = referral_ok(r)) != 0)
			return rc;
		body = REFERRAL_FIXED;
		for (i = 0; i < ENVELOPE_REFERRAL_FIELDS; i++)
			body += r->len[i];
		break;
	default:
		return OFR_E_BAD_FIELD;
	}
	if (cap < ENVELOPE_V2_HDR_BYTES + body)
		return OFR_E_USAGE;
	out[0] = ENVELOPE_VERSION;
	be64_put(out + 1, (uint64_t)e->case_id);
	be32_put(out + 9, e->seq);
	be64_put(out + 13, (uint64_t)e->time);
	out[21] = e->kind;
	p = out + ENVELOPE_V2_HDR_BYTES;
	switch (e->kind) {
	case ENVELOPE_TEXT:
		if (e->text_len > 0)
			memmove(p, e->text, e->text_len);
		break;
	case ENVELOPE_REPORT:
		be32_put(p, e->count);
		p[4] = e->reason;
		break;
	case ENVELOPE_MEETING:
		p[0] = m->action;
		be32_put(p + 1, m->id);
		be64_put(p + 5, (uint64_t)m->time);
		p = put_field(p + 13, m->place, m->place_len);
		(void)put_field(p, m->recognise, m->recognise_len);
		break;
	case ENVELOPE_AGREEMENT:
		p[0] = a->action;
		be32_put(p + 1, a->version);
		p += 5;
		for (i = 0; i < ENVELOPE_AGREEMENT_FIELDS; i++)
			p = put_field(p, a->field[i], a->len[i]);
		break;
	case ENVELOPE_REFERRAL:
		for (i = 0; i < ENVELOPE_REFERRAL_FIELDS; i++)
			p = put_field(p, r->field[i], r->len[i]);
		break;
	}
	*out_len = ENVELOPE_V2_HDR_BYTES + body;
	return 0;
}

/* Reads a u16 length and its bytes at *p (left bytes remain) into *s and
 * *n. 0, or -1 when they do not fit. */
static int
get_field(const uint8_t **p, size_t *left, const uint8_t **s, size_t *n)
{
	if (*left < 2)
		return -1;
	*n = (size_t)(*p)[0] << 8 | (*p)[1];
	if (*left - 2 < *n)
		return -1;
	*s = *p + 2;
	*p += 2 + *n;
	*left -= 2 + *n;
	return 0;
}

static int
parse_meeting(struct envelope_meeting *m, const uint8_t *p, size_t left)
{
	if (left < 13)
		return OFR_E_BAD_FIELD;
	m->action = p[0];
	m->id = be32_get(p + 1);
	m->time = (int64_t)be64_get(p + 5);
	p += 13;
	left -= 13;
	if (get_field(&p, &left, &m->place, &m->place_len) != 0 ||
	    get_field(&p, &left, &m->recognise, &m->recognise_len) != 0 ||
	    left != 0 || meeting_ok(m) != 0)
		return OFR_E_BAD_FIELD;
	return 0;
}

static int
parse_agreement(struct envelope_agreement *a, const uint8_t *p, size_t left)
{
	if (left < 5)
		return OFR_E_BAD_FIELD;
	a->action = p[0];
	a->version = be32_get(p + 1);
	p += 5;
	left -= 5;
	for (size_t i = 0; i < ENVELOPE_AGREEMENT_FIELDS; i++)
		if (get_field(&p, &left, &a->field[i], &a->len[i]) != 0)
			return OFR_E_BAD_FIELD;
	if (left != 0 || agreement_ok(a) != 0)
		return OFR_E_BAD_FIELD;
	return 0;
}

static int
parse_referral(struct envelope_referral *r, const uint8_t *p, size_t left)
{
	for (size_t i = 0; i < ENVELOPE_REFERRAL_FIELDS; i++)
		if (get_field(&p, &left, &r->field[i], &r->len[i]) != 0)
			return OFR_E_BAD_FIELD;
	if (left != 0 || referral_ok(r) != 0)
		return OFR_E_BAD_FIELD;
	return 0;
}

/* The body of kind (len bytes at p, at most max for a text) into e. */
static int
parse_body(struct envelope *e, const uint8_t *p, size_t len, size_t max)
{
	switch (e->kind) {
	case ENVELOPE_TEXT:
		if (len > max)
			return OFR_E_BAD_FIELD;
		e->text = p;
		e->text_len = len;
		return 0;
	case ENVELOPE_REPORT:
		if (len != 5)
			return OFR_E_BAD_FIELD;
		e->count = be32_get(p);
		e->reason = p[4];
		if (e->count == 0 || e->reason == 0)
			return OFR_E_BAD_FIELD;
		return 0;
	case ENVELOPE_NOTHING:
		return len == 0 ? 0 : OFR_E_BAD_FIELD;
	case ENVELOPE_MEETING:
		if (e->version < 2)
			return OFR_E_BAD_FIELD;
		return parse_meeting(&e->meeting, p, len);
	case ENVELOPE_AGREEMENT:
		if (e->version < 2)
			return OFR_E_BAD_FIELD;
		return parse_agreement(&e->agreement, p, len);
	case ENVELOPE_REFERRAL:
		if (e->version < 2)
			return OFR_E_BAD_FIELD;
		return parse_referral(&e->referral, p, len);
	default:
		return OFR_E_BAD_FIELD;
	}
}

int
envelope_parse(struct envelope *e, const uint8_t *pt, size_t len)
{
	int rc;

	memset(e, 0, sizeof(*e));
	if (len < ENVELOPE_HDR_BYTES || len > ENVELOPE_MAX_BYTES)
		return OFR_E_BAD_FIELD;
	if (pt[0] == ENVELOPE_VERSION_1) {
		e->version = ENVELOPE_VERSION_1;
		e->kind = pt[1];
		rc = parse_body(e, pt + ENVELOPE_HDR_BYTES,
		    len - ENVELOPE_HDR_BYTES, ENVELOPE_V1_TEXT_MAX);
	} else if (pt[0] == ENVELOPE_VERSION &&
	    len >= ENVELOPE_V2_HDR_BYTES) {
		e->version = ENVELOPE_VERSION;
		e->case_id = (int64_t)be64_get(pt + 1);
		e->seq = be32_get(pt + 9);
		e->time = (int64_t)be64_get(pt + 13);
		e->kind = pt[21];
		if (e->case_id <= 0 || e->seq == 0 || e->time < 0)
			rc = OFR_E_BAD_FIELD;
		else
			rc = parse_body(e, pt + ENVELOPE_V2_HDR_BYTES,
			    len - ENVELOPE_V2_HDR_BYTES, ENVELOPE_TEXT_MAX);
	} else {
		rc = OFR_E_BAD_FIELD;
	}
	if (rc != 0) {
		memset(e, 0, sizeof(*e));
		return OFR_E_BAD_FIELD;
	}
	return 0;
}

int
envelope_parse_kind(struct envelope *e, const uint8_t *kb, size_t len)
{
	memset(e, 0, sizeof(*e));
	if (len < 1 || len > ENVELOPE_MAX_BYTES - ENVELOPE_V2_HDR_BYTES + 1)
		return OFR_E_BAD_FIELD;
	e->version = ENVELOPE_VERSION;
	e->kind = kb[0];
	if (parse_body(e, kb + 1, len - 1, ENVELOPE_TEXT_MAX) != 0) {
		memset(e, 0, sizeof(*e));
		return OFR_E_BAD_FIELD;
	}
	return 0;
}

unsigned
envelope_check(const struct envelope *e, int64_t case_id, uint32_t last_seq,
    int64_t last_time, int64_t now)
{
	unsigned found = 0;

	if (e->version < ENVELOPE_VERSION)
		return 0;
	if (e->case_id != case_id)
		found |= ENVELOPE_MOVED;
	if (last_seq != 0 && e->seq <= last_seq)
		found |= ENVELOPE_REPLAYED;
	if (last_seq != 0 && e->seq > last_seq && e->seq - last_seq > 1)
		found |= ENVELOPE_HELD_BACK;
	if (e->time > now &&
	    (uint64_t)e->time - (uint64_t)now > ENVELOPE_FUTURE_MAX)
		found |= ENVELOPE_FUTURE;
	if (last_seq != 0 && e->time < last_time)
		found |= ENVELOPE_EARLIER;
	return found;
}
