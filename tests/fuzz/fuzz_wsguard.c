/*
 * fuzz_wsguard.c: server/wsguard.c, the frame checks the server makes on
 * the bytes libwebsockets reads (server/rxtap.c). The input is
 *   cuts (1) || the client's byte stream after the upgrade
 * fed once whole and once in reads whose sizes come from cuts (1 to 64
 * bytes, and whole runs). Both must find the same fault as a model that
 * walks the stream frame by frame (the first frame with a reserved bit
 * or opcode, a fragmented control frame, a continuation outside a
 * message or a message inside one, unmasked, with a length in a longer
 * encoding than it needs, with a 64-bit length's top bit set, a control
 * frame longer than 125 bytes, or a text message that is not UTF-8,
 * found by ranges of code points, not by a decoder's states; or a close
 * frame, good or bad in its code or reason), in the read that brings
 * the byte that shows it, and hand on everything before that frame and
 * nothing of that read past it; a good close's code is the one echoed.
 */
#include <string.h>

#include "fuzz.h"
#include "proto/envelope.h"
#include "wsguard.h"

/* t (m bytes, 1 to 4) begins a character, or is one (*whole): the code
 * points whose encoding starts with t form one range [lo, hi]; it must
 * meet the range of its length's encoding, U+10FFFF at most, and hold
 * more than surrogates. */
static int
utf8_viable(const uint8_t *t, size_t m, int *whole)
{
	size_t len;
	uint32_t min, lo, hi;

	if (t[0] < 0x80)
		len = 1, min = 0, lo = t[0];
	else if ((t[0] & 0xe0) == 0xc0)
		len = 2, min = 0x80, lo = t[0] & 0x1f;
	else if ((t[0] & 0xf0) == 0xe0)
		len = 3, min = 0x800, lo = t[0] & 0x0f;
	else if ((t[0] & 0xf8) == 0xf0)
		len = 4, min = 0x10000, lo = t[0] & 0x07;
	else
		return 0;
	if (m > len)
		return 0;
	for (size_t k = 1; k < m; k++) {
		if ((t[k] & 0xc0) != 0x80)
			return 0;
		lo = lo << 6 | (t[k] & 0x3f);
	}
	hi = lo;
	for (size_t k = m; k < len; k++) {
		lo = lo << 6;
		hi = hi << 6 | 0x3f;
	}
	*whole = m == len;
	if (lo < min)
		lo = min;
	if (hi > 0x10ffff)
		hi = 0x10ffff;
	if (lo > hi || (lo >= 0xd800 && hi <= 0xdfff))
		return 0;
	return 1;
}

/* A code no peer may send in a close frame (RFC 6455, 7.4). */
static int
close_code_bad(unsigned c)
{
	return c < 1000 || c == 1004 || c == 1005 || c == 1006 ||
	    (c >= 1015 && c < 3000) || c >= 5000;
}

/* One byte more of UTF-8 after the m bytes at t: 0 when it cannot be. */
static int
utf8_more(uint8_t *t, size_t *m, uint8_t b)
{
	int whole;

	t[(*m)++] = b;
	if (!utf8_viable(t, *m, &whole))
		return 0;
	if (whole) {
		FUZZ_CHECK(envelope_utf8_ok(t, *m));
		*m = 0;
	}
	return 1;
}

/* The model: where the first bad frame, or the close, begins (size:
 * none), why, and the byte that shows it (*found); a close's code to
 * echo in *code. */
static size_t
model(const uint8_t *p, size_t size, int *fault, size_t *found,
    int *code)
{
	size_t off = 0, have, hlen, m = 0, rm;
	int open = 0, text = 0;
	uint8_t t[4], r[4], b;

	*fault = WSGUARD_OK;
	*found = size;
	while (size - off >= 1) {
		uint8_t b0 = p[off], op = b0 & 0x0f, len7;
		size_t ext;
		uint64_t n;

		*found = off;
		if (b0 & 0x70)
			*fault = WSGUARD_RSV;
		else if ((op >= 3 && op <= 7) || op >= 11)
			*fault = WSGUARD_OPCODE;
		else if (op >= 8 && !(b0 & 0x80))
			*fault = WSGUARD_CONTROL_FRAGMENT;
		else if (op < 8 && (op == 0) != open)
			*fault = WSGUARD_CONTINUATION;
		if (*fault != WSGUARD_OK)
			return off;
		if (op == 1 || op == 2) {
			open = 1;
			text = op == 1;
			m = 0;
		}
		if (size - off < 2)
			break;
		len7 = p[off + 1] & 0x7f;
		ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
		n = len7;
		*found = off + 1 + ext;
		if (!(p[off + 1] & 0x80)) {
			*found = off + 1;
			*fault = WSGUARD_UNMASKED;
			return off;
		}
		if (op >= 8 && len7 > 125) {
			*found = off + 1;
			*fault = WSGUARD_CONTROL_LENGTH;
			return off;
		}
		if (size - off < 2 + ext)
			break;		/* the rest of the header never came */
		if (ext != 0) {
			n = 0;
			for (size_t i = 0; i < ext; i++)
				n = n << 8 | p[off + 2 + i];
		}
		if (ext == 8 && n >= (uint64_t)1 << 63) {
			*fault = WSGUARD_LENGTH_TOP_BIT;
			return off;
		}
		if ((ext == 2 && n < 126) || (ext == 8 && n < 65536)) {
			*fault = WSGUARD_LONG_LENGTH;
			return off;
		}
		hlen = 2 + ext + 4;
		if (size - off < hlen)
			break;
		have = size - off - hlen < n ? size - off - hlen : (size_t)n;
		rm = 0;
		for (size_t i = 0; i < have; i++) {
			b = p[off + hlen + i] ^ p[off + hlen - 4 + i % 4];
			if ((op < 8 && text && !utf8_more(t, &m, b)) ||
			    (op == 8 && i >= 2 && !utf8_more(r, &rm, b))) {
				*found = off + hlen + i;
				*fault = WSGUARD_UTF8;
				return off;
			}
		}
		if (have < n)
			break;		/* its payload runs past the input */
		if (op == 8) {
			*found = off + hlen + (size_t)n - 1;
			*code = n < 2 ? 1000 : (p[off + hlen] ^ p[off + 2]) << 8 |
			    (p[off + hlen + 1] ^ p[off + 3]);
			if (n == 1 || (n >= 2 && close_code_bad((unsigned)*code)))
				*fault = WSGUARD_CLOSE_CODE;
			else
				*fault = rm != 0 ? WSGUARD_UTF8 :
				    WSGUARD_CLOSED;
			return off;
		}
		if (op < 8 && (b0 & 0x80)) {
			if (text && m != 0) {
				*found = off + hlen + (size_t)n - 1;
				*fault = WSGUARD_UTF8;
				return off;
			}
			open = 0;
		}
		off += hlen + (size_t)n;
	}
	return size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wsguard whole, cut;
	size_t want, got, off, n, ok, found;
	uint32_t r;
	int fault, code = 0;

	if (size < 1)
		return 0;
	r = data[0] * 2654435761u + 1;
	data++;
	size--;
	want = model(data, size, &fault, &found, &code);

	memset(&whole, 0, sizeof(whole));
	FUZZ_CHECK(wsguard_feed(&whole, data, size) == want);
	FUZZ_CHECK(whole.fault == fault);
	if (fault == WSGUARD_CLOSED)
		FUZZ_CHECK(wsguard_close_code(&whole) == code);
	else if (fault != WSGUARD_OK)
		FUZZ_CHECK(wsguard_close_code(&whole) ==
		    (fault == WSGUARD_UTF8 ? 1007 : 1002));

	memset(&cut, 0, sizeof(cut));
	got = 0;
	for (off = 0; off < size; off += n) {
		r = r * 1103515245u + 12345;
		n = (r >> 16) % 65;
		if (n == 0)
			n = size - off;		/* the rest at once */
		if (n > size - off)
			n = size - off;
		ok = wsguard_feed(&cut, data + off, n);
		FUZZ_CHECK(ok <= n);
		got += ok;
		if (ok < n) {
			/* found in this read: what lws has ends at the bad
			 * frame, or at this read (the bad frame's header
			 * begun in the reads before, never whole) */
			FUZZ_CHECK(cut.fault != WSGUARD_OK);
			FUZZ_CHECK(found >= off && found < off + n);
			FUZZ_CHECK(got == (want > off ? want : off));
			break;
		}
		FUZZ_CHECK(cut.fault == WSGUARD_OK);
	}
	FUZZ_CHECK(fault != WSGUARD_OK || got == want);
	FUZZ_CHECK(cut.fault == fault);
	if (fault != WSGUARD_OK)
		FUZZ_CHECK(wsguard_feed(&cut, data, size) == 0);
	return 0;
}
