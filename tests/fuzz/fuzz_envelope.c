/*
 * fuzz_envelope.c: the plaintext envelope (proto/envelope.c), which a
 * client parses from every message that decrypts, so from bytes any
 * participant chose. Whatever parses must write back to the same bytes
 * (one encoding per envelope), keep every field within its bound and
 * UTF-8, and its binding check must say what CRYPTO.md says for any
 * numbers kept.
 *
 * Input: now (i64 big-endian) || case id (i64) || last running number
 * (u32) || last time (i64) || the plaintext.
 */
#include <string.h>

#include "proto/bytes.h"
#include "proto/envelope.h"
#include "proto/err.h"
#include "fuzz.h"

#define PREFIX	(8 + 8 + 4 + 8)

static void
check_v1(const struct envelope *e, const uint8_t *pt, size_t len)
{
	static uint8_t out[ENVELOPE_MAX_BYTES];
	size_t n = 0;
	int rc;

	switch (e->kind) {
	case ENVELOPE_TEXT:
		FUZZ_CHECK(e->text_len <= ENVELOPE_V1_TEXT_MAX);
		rc = envelope_text(out, sizeof(out), &n, e->text, e->text_len);
		break;
	case ENVELOPE_REPORT:
		rc = envelope_report(out, sizeof(out), &n, e->count,
		    e->reason);
		break;
	case ENVELOPE_NOTHING:
		rc = envelope_nothing(out, sizeof(out), &n);
		break;
	default:
		FUZZ_CHECK(0);	/* meeting, agreement, referral: version 2 */
		return;
	}
	FUZZ_CHECK(rc == 0 && n == len && memcmp(out, pt, n) == 0);
}

static void
check_v2(const struct envelope *e, const uint8_t *pt, size_t len)
{
	static uint8_t out[ENVELOPE_MAX_BYTES];
	const struct envelope_meeting *m = &e->meeting;
	const struct envelope_agreement *a = &e->agreement;
	const struct envelope_referral *r = &e->referral;
	size_t n = 0;

	FUZZ_CHECK(e->case_id > 0 && e->seq > 0 && e->time >= 0);
	FUZZ_CHECK(envelope_write(out, sizeof(out), &n, e) == 0);
	FUZZ_CHECK(n == len && memcmp(out, pt, n) == 0);
	if (e->kind == ENVELOPE_MEETING) {
		FUZZ_CHECK(m->id > 0 && m->time > 0 &&
		    m->place_len <= ENVELOPE_PLACE_MAX &&
		    m->recognise_len <= ENVELOPE_RECOGNISE_MAX &&
		    envelope_utf8_ok(m->place, m->place_len) &&
		    envelope_utf8_ok(m->recognise, m->recognise_len));
		FUZZ_CHECK((m->place_len > 0) ==
		    (m->action == ENVELOPE_M_PROPOSE ||
		    m->action == ENVELOPE_M_RESCHEDULE));
	}
	if (e->kind == ENVELOPE_AGREEMENT) {
		FUZZ_CHECK(a->version > 0);
		FUZZ_CHECK((a->len[ENVELOPE_A_OBJECTIVES] > 0) ==
		    (a->action != ENVELOPE_A_ACCEPT));
		for (size_t i = 0; i < ENVELOPE_AGREEMENT_FIELDS; i++)
			FUZZ_CHECK(a->len[i] <= ENVELOPE_AGREEMENT_FIELD_MAX &&
			    envelope_utf8_ok(a->field[i], a->len[i]));
	}
	if (e->kind == ENVELOPE_REFERRAL) {
		FUZZ_CHECK(r->len[ENVELOPE_RF_NAME] > 0 &&
		    r->len[ENVELOPE_RF_NAME] <= ENVELOPE_REFERRAL_NAME_MAX &&
		    r->len[ENVELOPE_RF_CONTACT] > 0 &&
		    r->len[ENVELOPE_RF_CONTACT] <=
		    ENVELOPE_REFERRAL_CONTACT_MAX &&
		    r->len[ENVELOPE_RF_EXPECT] <= ENVELOPE_REFERRAL_NOTE_MAX &&
		    r->len[ENVELOPE_RF_SAY] <= ENVELOPE_REFERRAL_NOTE_MAX);
		for (size_t i = 0; i < ENVELOPE_REFERRAL_FIELDS; i++)
			FUZZ_CHECK(envelope_utf8_ok(r->field[i], r->len[i]));
	}
	/* one byte less or more is another envelope or none, never the
	 * same one: lengths are exact */
	if (e->kind != ENVELOPE_TEXT && len < ENVELOPE_MAX_BYTES) {
		struct envelope e2;

		memcpy(out, pt, len);
		out[len] = 0;
		FUZZ_CHECK(envelope_parse(&e2, out, len + 1) != 0);
		FUZZ_CHECK(envelope_parse(&e2, out, len - 1) != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope e;
	int64_t now, case_id, last_time;
	uint32_t last_seq;
	unsigned f;

	if (size < PREFIX)
		return 0;
	now = (int64_t)be64_get(data);
	case_id = (int64_t)be64_get(data + 8);
	last_seq = be32_get(data + 16);
	last_time = (int64_t)be64_get(data + 20);
	data += PREFIX;
	size -= PREFIX;
	if (envelope_parse(&e, data, size) != 0) {
		struct envelope zero;

		memset(&zero, 0, sizeof(zero));
		FUZZ_CHECK(memcmp(&e, &zero, sizeof(e)) == 0);
		return 0;
	}
	if (e.version == ENVELOPE_VERSION_1)
		check_v1(&e, data, size);
	else
		check_v2(&e, data, size);
	f = envelope_check(&e, case_id, last_seq, last_time, now);
	if (e.version == ENVELOPE_VERSION_1) {
		FUZZ_CHECK(f == 0);
		return 0;
	}
	FUZZ_CHECK(!!(f & ENVELOPE_MOVED) == (e.case_id != case_id));
	FUZZ_CHECK(!!(f & ENVELOPE_REPLAYED) ==
	    (last_seq != 0 && e.seq <= last_seq));
	FUZZ_CHECK(!!(f & ENVELOPE_HELD_BACK) ==
	    (last_seq != 0 && e.seq > last_seq && e.seq - last_seq > 1));
	FUZZ_CHECK(!!(f & ENVELOPE_EARLIER) ==
	    (last_seq != 0 && e.time < last_time));
	FUZZ_CHECK(!(f & ENVELOPE_FUTURE) || e.time > now);
	return 0;
}
