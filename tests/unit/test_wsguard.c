/*
 * test_wsguard.c: server/wsguard.c, the frame-header checks of RFC 6455
 * libwebsockets 4.1 leaves out: masked frames and minimal lengths pass,
 * at every bound of the three encodings; an unmasked frame, a length in
 * a longer encoding, a 64-bit length with its top bit set, a control
 * frame of more than 125 bytes are caught,
 * and what comes before them is taken, however the stream is cut into
 * reads.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "wsguard.h"

/* A frame's header: FIN and opcode (text unless set), the length n in
 * the encoding of form (7, 16 or 64 bits), masked or not, with a zero
 * masking key. */
static uint8_t opcode = 1;
static size_t
header(uint8_t *out, uint64_t n, int form, int masked)
{
	size_t k = 0;
	uint8_t m = masked ? 0x80 : 0;

	out[k++] = 0x80 | opcode;
	if (form == 7) {
		out[k++] = m | (uint8_t)n;
	} else if (form == 16) {
		out[k++] = m | 126;
		out[k++] = (uint8_t)(n >> 8);
		out[k++] = (uint8_t)n;
	} else {
		out[k++] = m | 127;
		for (int i = 7; i >= 0; i--)
			out[k++] = (uint8_t)(n >> (8 * i));
	}
	if (masked) {
		memset(out + k, 0, 4);
		k += 4;
	}
	return k;
}

/* A whole frame of n payload bytes ('a') at out: its size. */
static size_t
frame(uint8_t *out, uint64_t n, int form, int masked)
{
	size_t k = header(out, n, form, masked);

	memset(out + k, 'a', (size_t)n);
	return k + (size_t)n;
}

/* Feeds len bytes in pieces of step bytes: what lws would get in all,
 * the pieces' results added up to the first that stops short. */
static size_t
feed_by(struct wsguard *g, const uint8_t *p, size_t len, size_t step)
{
	size_t total = 0, n, ok;

	for (size_t off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		ok = wsguard_feed(g, p + off, n);
		total += ok;
		if (ok < n)
			break;
	}
	return total;
}

static uint8_t buf[3 * 70000];

/* buf[0..len): good until bad_at (len: never), then fault, found at
 * its header's byte 2 (unmasked, a control frame's length) or at its
 * length's last byte: the same
 * answer whatever the size of the reads. What lws gets ends at the bad
 * frame, or at the read that brings that byte (its header's first bytes
 * went with the reads before: never the whole header). */
static void
check_stream(size_t len, size_t bad_at, int fault)
{
	static const size_t steps[] = { 1, 2, 3, 7, 13, 4096, sizeof(buf) };
	size_t found = bad_at + 1, want;

	if (fault == WSGUARD_LONG_LENGTH || fault == WSGUARD_LENGTH_TOP_BIT)
		found += (buf[bad_at + 1] & 0x7f) == 126 ? 2 : 8;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct wsguard g;

		want = fault == WSGUARD_OK ? len :
		    found / steps[i] * steps[i];
		if (want < bad_at)
			want = bad_at;
		memset(&g, 0, sizeof(g));
		CHECK_EQ_INT(feed_by(&g, buf, len, steps[i]), want);
		CHECK_EQ_INT(g.fault, fault);
		/* nothing more once a fault is found */
		if (fault != WSGUARD_OK)
			CHECK_EQ_INT(wsguard_feed(&g, buf, 10), 0);
	}
}

int
main(void)
{
	static const uint64_t good[][2] = {
		{ 0, 7 }, { 1, 7 }, { 125, 7 }, { 126, 16 }, { 127, 16 },
		{ 65535, 16 }, { 65536, 64 }, { 65537, 64 },
	};
	static const uint64_t longer[][2] = {
		{ 0, 16 }, { 5, 16 }, { 125, 16 }, { 0, 64 }, { 125, 64 },
		{ 126, 64 }, { 65535, 64 },
	};
	size_t k, first;

	/* every minimal length, masked: all taken, frame after frame */
	k = 0;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (good[i][0] > 70000)
			continue;
		k = frame(buf, good[i][0], (int)good[i][1], 1);
		check_stream(k, k, WSGUARD_OK);
	}
	k = frame(buf, 125, 7, 1);
	k += frame(buf + k, 126, 16, 1);
	k += frame(buf + k, 65536, 64, 1);
	k += frame(buf + k, 0, 7, 1);
	check_stream(k, k, WSGUARD_OK);

	/* unmasked: caught at the frame's first byte */
	k = frame(buf, 5, 7, 0);
	check_stream(k, 0, WSGUARD_UNMASKED);
	first = frame(buf, 3, 7, 1);
	k = first + frame(buf + first, 5, 7, 0);
	check_stream(k, first, WSGUARD_UNMASKED);
	/* a masked, minimal frame after it changes nothing */
	k += frame(buf + k, 5, 7, 1);
	check_stream(k, first, WSGUARD_UNMASKED);

	/* a length in a longer encoding than it needs */
	for (size_t i = 0; i < sizeof(longer) / sizeof(longer[0]); i++) {
		k = frame(buf, longer[i][0], (int)longer[i][1], 1);
		check_stream(k, 0, WSGUARD_LONG_LENGTH);
		first = frame(buf, 200, 16, 1);
		k = first + frame(buf + first, longer[i][0],
		    (int)longer[i][1], 1);
		k += frame(buf + k, 2, 7, 1);
		check_stream(k, first, WSGUARD_LONG_LENGTH);
	}

	/* a 64-bit length with its top bit set (only its header comes) */
	k = header(buf, (uint64_t)1 << 63, 64, 1);
	check_stream(k, 0, WSGUARD_LENGTH_TOP_BIT);
	k = header(buf, UINT64_MAX, 64, 1);
	check_stream(k, 0, WSGUARD_LENGTH_TOP_BIT);
	/* 2^63 - 1 is a length (its payload never comes here) */
	k = header(buf, ((uint64_t)1 << 63) - 1, 64, 1);
	check_stream(k, k, WSGUARD_OK);
	/* an unmasked frame inside a payload is payload */
	first = header(buf, 300, 16, 1);
	k = first + frame(buf + first, 5, 7, 0);
	memset(buf + k, 'a', 300 - (k - first));
	k = first + 300;
	check_stream(k, k, WSGUARD_OK);

	/* control frames: up to 125 bytes (ping, pong, close) */
	for (opcode = 8; opcode <= 10; opcode++) {
		k = frame(buf, 125, 7, 1);
		check_stream(k, k, WSGUARD_OK);
		first = frame(buf, 2, 7, 1);
		k = first + frame(buf + first, 126, 16, 1);
		check_stream(k, first, WSGUARD_CONTROL_LENGTH);
		k = frame(buf, 5, 16, 1);	/* short, but in 16 bits */
		check_stream(k, 0, WSGUARD_CONTROL_LENGTH);
		k = frame(buf, 70000, 64, 1);
		check_stream(k, 0, WSGUARD_CONTROL_LENGTH);
	}
	opcode = 1;

	CHECK(strcmp(wsguard_fault_str(WSGUARD_UNMASKED),
	    "an unmasked client frame") == 0);
	return check_done();
}
