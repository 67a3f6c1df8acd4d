/*
 * test_wsguard.c: server/wsguard.c, the frame checks of RFC 6455: masked
 * frames and minimal lengths pass, at every bound of the three
 * encodings; an unmasked frame, a length in a longer encoding, a 64-bit
 * length with its top bit set, a control frame of more than 125 bytes,
 * a reserved bit or opcode, a fragmented control frame, a continuation
 * outside a message or a message inside one, and text that is not UTF-8
 * (each kind of bad sequence, across frames, behind a masking key, in
 * the 8-byte steps and out of them) are caught, and what comes before
 * them is taken, however the stream is cut into reads.
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

/* buf[0..len): good until the frame at bad_at (len: none), then fault,
 * shown by the byte at found: the same answer whatever the size of the
 * reads. What lws gets ends at the bad frame, or at the read that brings
 * that byte (the bad frame's first bytes went with the reads before). */
static void
check_found(size_t len, size_t bad_at, size_t found, int fault)
{
	static const size_t steps[] = { 1, 2, 3, 7, 13, 4096, sizeof(buf) };
	size_t want;

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

/* check_found, the fault shown by its header's byte 2 (unmasked, a
 * control frame's length), its length's last byte, or its first byte
 * (the others). */
static void
check_stream(size_t len, size_t bad_at, int fault)
{
	size_t found = bad_at + 1;

	if (fault == WSGUARD_LONG_LENGTH || fault == WSGUARD_LENGTH_TOP_BIT)
		found += (buf[bad_at + 1] & 0x7f) == 126 ? 2 : 8;
	if (fault >= WSGUARD_RSV && fault <= WSGUARD_CONTINUATION)
		found = bad_at;
	check_found(len, bad_at, found, fault);
}

/* A frame at out: byte 0 b0 (FIN, opcode), the n bytes of text, masked
 * by the key 0x5a 0xa5 0x3c 0xff, the length in its shortest form: its
 * size. */
static size_t
tframe(uint8_t *out, uint8_t b0, const void *text, size_t n)
{
	static const uint8_t key[4] = { 0x5a, 0xa5, 0x3c, 0xff };
	const uint8_t *t = text;
	size_t k;

	k = header(out, n, n < 126 ? 7 : n < 65536 ? 16 : 64, 1);
	out[0] = b0;
	memcpy(out + k - 4, key, 4);
	for (size_t i = 0; i < n; i++)
		out[k + i] = t[i] ^ key[i & 3];
	return k + n;
}

/* The payload of the frame at f starts here. */
static size_t
payload_at(const uint8_t *f)
{
	uint8_t len7 = f[1] & 0x7f;

	return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
}

/* Sequences that are not UTF-8, and the offset of the byte that shows
 * it (RFC 3629: no overlong form, no surrogate, nothing past U+10FFFF,
 * no lone continuation byte). */
static const struct {
	const char *s;
	size_t bad;
} not_utf8[] = {
	{ "\x80", 0 }, { "\xbf", 0 }, { "\xc0\x80", 0 }, { "\xc1\xbf", 0 },
	{ "\xc3\x28", 1 }, { "\xe0\x80\x80", 1 }, { "\xe0\x9f\xbf", 1 },
	{ "\xed\xa0\x80", 1 }, { "\xed\xbf\xbf", 1 },
	{ "\xe2\x82\x28", 2 }, { "\xf0\x80\x80\x80", 1 },
	{ "\xf0\x8f\xbf\xbf", 1 }, { "\xf4\x90\x80\x80", 1 },
	{ "\xf4\x8f\xbf\x28", 3 }, { "\xf5\x80\x80\x80", 0 },
	{ "\xff", 0 }, { "\xfe", 0 }, { "a\xf8\x88\x80\x80\x80", 1 },
};

/* The characters at every bound of the encodings. */
static const char good_text[] = "a\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80"
    "\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80"
    "\xf4\x8f\xbf\xbf h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e";

static void
check_utf8(void)
{
	static uint8_t text[70000];
	size_t k, first, n, glen = sizeof(good_text) - 1;

	/* good text whole, and cut into two frames at every byte (a
	 * character split between them), with a ping between them */
	k = tframe(buf, 0x81, good_text, glen);
	check_stream(k, k, WSGUARD_OK);
	for (size_t cut = 0; cut <= glen; cut++) {
		k = tframe(buf, 0x01, good_text, cut);
		k += tframe(buf + k, 0x89, "hi", 2);
		k += tframe(buf + k, 0x80, good_text + cut, glen - cut);
		check_stream(k, k, WSGUARD_OK);
	}
	/* each bad sequence: in a frame of its own, behind a good frame
	 * and inside a long ASCII frame at offsets around the 8-byte
	 * steps; in a binary message, nothing */
	for (size_t i = 0; i < sizeof(not_utf8) / sizeof(not_utf8[0]); i++) {
		n = strlen(not_utf8[i].s);
		k = tframe(buf, 0x81, not_utf8[i].s, n);
		check_found(k, 0, payload_at(buf) + not_utf8[i].bad,
		    WSGUARD_UTF8);
		first = tframe(buf, 0x81, "ok", 2);
		k = first + tframe(buf + first, 0x81, not_utf8[i].s, n);
		check_found(k, first, first + payload_at(buf + first) +
		    not_utf8[i].bad, WSGUARD_UTF8);
		for (size_t at = 0; at < 20; at += 1) {
			size_t off = at < 10 ? at : 65536 - n - 19 + at;

			memset(text, 'a', 65536);
			memcpy(text + off, not_utf8[i].s, n);
			k = tframe(buf, 0x81, text, 65536);
			check_found(k, 0, payload_at(buf) + off +
			    not_utf8[i].bad, WSGUARD_UTF8);
		}
		k = tframe(buf, 0x82, not_utf8[i].s, n);
		check_stream(k, k, WSGUARD_OK);
		/* in a frame of the 16-bit form, at every offset mod 8 */
		for (size_t at = 0; at < 8; at++) {
			memset(text, 'a', 300);
			memcpy(text + 100 + at, not_utf8[i].s, n);
			k = tframe(buf, 0x81, text, 300);
			check_found(k, 0, payload_at(buf) + 100 + at +
			    not_utf8[i].bad, WSGUARD_UTF8);
		}
	}
	/* good text of every length in the 16-bit form, behind ASCII of
	 * every offset mod 8 */
	for (size_t at = 0; at < 8; at++) {
		memset(text, 'a', 300);
		memcpy(text + 100 + at, good_text, glen);
		k = tframe(buf, 0x81, text, 300);
		check_stream(k, k, WSGUARD_OK);
	}
	/* a character cut short at the message's end: shown by its last
	 * byte, or by the header of an empty last frame */
	k = tframe(buf, 0x81, "ab\xe2\x82", 4);
	check_found(k, 0, k - 1, WSGUARD_UTF8);
	first = tframe(buf, 0x01, "ab\xf0\x9d\x84", 5);
	k = first + tframe(buf + first, 0x80, "", 0);
	check_found(k, first, k - 1, WSGUARD_UTF8);
	/* the decoder starts afresh with each message */
	first = tframe(buf, 0x02, "\xe2", 1);
	k = first + tframe(buf + first, 0x80, "\x82", 1);
	k += tframe(buf + k, 0x81, "\x82", 1);
	check_found(k, k - 7, k - 1, WSGUARD_UTF8);
}

/* The code g's stream stopped with, fed whole. */
static int
stop_code(size_t len)
{
	struct wsguard g;

	memset(&g, 0, sizeof(g));
	(void)wsguard_feed(&g, buf, len);
	return g.fault == WSGUARD_OK ? 0 : wsguard_close_code(&g);
}

/* A close frame of code (none: -1) and reason at out: its size. */
static size_t
close_frame(uint8_t *out, int code, const char *reason)
{
	uint8_t body[125];
	size_t n = 0;

	if (code >= 0) {
		body[n++] = (uint8_t)(code >> 8);
		body[n++] = (uint8_t)code;
	}
	memcpy(body + n, reason, strlen(reason));
	return tframe(out, 0x88, body, n + strlen(reason));
}

/* A client's close: the stream's end, its code echoed, or a fault. */
static void
check_close(void)
{
	static const int good[] = { 1000, 1001, 1002, 1003, 1007, 1011,
	    1012, 1014, 3000, 4999 };
	static const int bad[] = { 0, 999, 1004, 1005, 1006, 1015, 1016,
	    2999, 5000, 65535 };
	size_t k, first;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		first = tframe(buf, 0x81, "ok", 2);
		k = first + close_frame(buf + first, good[i], "bye \xc3\xa9");
		/* nothing after it goes to lws, good or bad */
		k += tframe(buf + k, 0x81, "ok", 2);
		k += tframe(buf + k, 0x80, "ok", 2);
		check_found(k, first, k - 17, WSGUARD_CLOSED);
		CHECK_EQ_INT(stop_code(k), good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k = close_frame(buf, bad[i], "");
		check_found(k, 0, k - 1, WSGUARD_CLOSE_CODE);
		CHECK_EQ_INT(stop_code(k), 1002);
	}
	/* no body: 1000 echoed; a 1-byte body: 1002 */
	k = close_frame(buf, -1, "");
	check_found(k, 0, k - 1, WSGUARD_CLOSED);
	CHECK_EQ_INT(stop_code(k), 1000);
	k = close_frame(buf, -1, "\x03");
	check_found(k, 0, k - 1, WSGUARD_CLOSE_CODE);
	/* the longest, 125 bytes; and one of 126 */
	memset(buf + 200, 'r', 123);
	buf[323] = 0;
	k = close_frame(buf, 1000, (const char *)buf + 200);
	check_found(k, 0, k - 1, WSGUARD_CLOSED);
	k = close_frame(buf, 1000, (const char *)buf + 200);
	buf[1] = 0x80 | 126;	/* the 16-bit form's marker */
	check_stream(k, 0, WSGUARD_CONTROL_LENGTH);
	/* a reason that is not UTF-8: 1007 at the bad byte; cut short at
	 * the frame's end */
	k = close_frame(buf, 1000, "ok \xed\xa0\x80");
	check_found(k, 0, k - 2, WSGUARD_UTF8);
	CHECK_EQ_INT(stop_code(k), 1007);
	k = close_frame(buf, 1000, "ok \xe2\x82");
	check_found(k, 0, k - 1, WSGUARD_UTF8);
	/* inside a text message cut in a character: the message's state
	 * is not the reason's */
	first = tframe(buf, 0x01, "a\xe2\x82", 3);
	k = first + close_frame(buf + first, 1001, "");
	check_found(k, first, k - 1, WSGUARD_CLOSED);
	CHECK_EQ_INT(stop_code(k), 1001);
	/* the other faults */
	k = tframe(buf, 0xc1, "", 0);
	CHECK_EQ_INT(stop_code(k), 1002);
	k = tframe(buf, 0x81, "\xff", 1);
	CHECK_EQ_INT(stop_code(k), 1007);
}

/* The header's first byte: reserved bits and opcodes, fragments. */
static void
check_first_byte(void)
{
	size_t k, first;

	for (uint8_t rsv = 0x10; rsv <= 0x40; rsv <<= 1) {
		first = tframe(buf, 0x81, "ok", 2);
		k = first + tframe(buf + first, 0x81 | rsv, "ok", 2);
		check_stream(k, first, WSGUARD_RSV);
	}
	for (uint8_t op = 3; op <= 15; op++) {
		if (op >= 8 && op <= 10)
			continue;
		k = tframe(buf, 0x80 | op, "", 0);
		check_stream(k, 0, WSGUARD_OPCODE);
	}
	for (uint8_t op = 8; op <= 10; op++) {
		k = tframe(buf, op, "", 0);
		check_stream(k, 0, WSGUARD_CONTROL_FRAGMENT);
	}
	/* a continuation with no message begun, after one ended */
	k = tframe(buf, 0x80, "x", 1);
	check_stream(k, 0, WSGUARD_CONTINUATION);
	first = tframe(buf, 0x01, "a", 1);
	first += tframe(buf + first, 0x80, "b", 1);
	k = first + tframe(buf + first, 0x00, "c", 1);
	check_stream(k, first, WSGUARD_CONTINUATION);
	/* a new message inside one, a control frame between them no
	 * matter */
	for (uint8_t op = 1; op <= 2; op++) {
		first = tframe(buf, 0x02, "a", 1);
		first += tframe(buf + first, 0x8a, "", 0);
		k = first + tframe(buf + first, 0x80 | op, "b", 1);
		check_stream(k, first, WSGUARD_CONTINUATION);
	}
	/* fragments: binary and text, with pings, pongs and empty frames */
	k = tframe(buf, 0x02, "a", 1);
	k += tframe(buf + k, 0x89, "p", 1);
	k += tframe(buf + k, 0x00, "", 0);
	k += tframe(buf + k, 0x8a, "", 0);
	k += tframe(buf + k, 0x80, "b", 1);
	k += tframe(buf + k, 0x01, "", 0);
	k += tframe(buf + k, 0x80, "", 0);
	k += tframe(buf + k, 0x89, "", 0);
	check_stream(k, k, WSGUARD_OK);
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
	/* an unmasked frame inside a payload is payload (a binary one:
	 * its header is not UTF-8) */
	opcode = 2;
	first = header(buf, 300, 16, 1);
	k = first + frame(buf + first, 5, 7, 0);
	memset(buf + k, 'a', 300 - (k - first));
	k = first + 300;
	check_stream(k, k, WSGUARD_OK);
	opcode = 1;

	/* control frames: up to 125 bytes (ping, pong, close; a close
	 * ends the stream: check_close) */
	for (opcode = 8; opcode <= 10; opcode++) {
		k = frame(buf, 125, 7, 1);
		if (opcode != 8)
			check_stream(k, k, WSGUARD_OK);
		first = tframe(buf, 0x89, "pi", 2);
		k = first + frame(buf + first, 126, 16, 1);
		check_stream(k, first, WSGUARD_CONTROL_LENGTH);
		k = frame(buf, 5, 16, 1);	/* short, but in 16 bits */
		check_stream(k, 0, WSGUARD_CONTROL_LENGTH);
		k = frame(buf, 70000, 64, 1);
		check_stream(k, 0, WSGUARD_CONTROL_LENGTH);
	}
	opcode = 1;

	check_first_byte();
	check_utf8();

	CHECK(strcmp(wsguard_fault_str(WSGUARD_UNMASKED),
	    "an unmasked client frame") == 0);
	check_close();
	return check_done();
}
