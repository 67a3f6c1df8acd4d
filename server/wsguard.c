/*
 * wsguard.c: the frame checks of RFC 6455 (wsguard.h), on a stream fed
 * in pieces of any size. It reads each header byte once, jumps over the
 * payloads of binary messages and control frames, and reads those of
 * text messages, 8 bytes at a time while they are ASCII; it never copies
 * one.
 */
#include <string.h>

#include "wsguard.h"

/*
 * The UTF-8 decoder's states (struct wsguard's utf8): between two
 * characters, 1 to 3 continuation bytes to come, or one whose next byte
 * has a narrower range than 0x80..0xbf: after E0 (no overlong form), ED
 * (no surrogate), F0 (no overlong form), F4 (nothing past U+10FFFF).
 */
enum { U_ACCEPT, U_1, U_2, U_3, U_E0, U_ED, U_F0, U_F4, U_BAD };

static uint8_t
utf8_step(uint8_t st, uint8_t b)
{
	uint8_t lo = 0x80, hi = 0xbf, next;

	switch (st) {
	case U_ACCEPT:
		if (b < 0x80)
			return U_ACCEPT;
		if (b < 0xc2)
			return U_BAD;	/* a continuation, or overlong */
		if (b < 0xe0)
			return U_1;
		if (b == 0xe0 || b == 0xed)
			return b == 0xe0 ? U_E0 : U_ED;
		if (b < 0xf0)
			return U_2;
		if (b == 0xf0 || b == 0xf4)
			return b == 0xf0 ? U_F0 : U_F4;
		return b < 0xf4 ? U_3 : U_BAD;
	case U_1:
	case U_2:
	case U_3:
		next = (uint8_t)(st - 1);
		break;
	case U_E0:
		lo = 0xa0;
		next = U_1;
		break;
	case U_ED:
		hi = 0x9f;
		next = U_1;
		break;
	case U_F0:
		lo = 0x90;
		next = U_2;
		break;
	case U_F4:
		hi = 0x8f;
		next = U_2;
		break;
	default:
		return U_BAD;
	}
	return b >= lo && b <= hi ? next : U_BAD;
}

/* n bytes of a text message's payload at p, unmasked by the key at
 * hdr[2..5] from the offset at hdr[6], through the decoder: how many
 * are good (n, or the offset of the first bad byte). */
static size_t
utf8_take(struct wsguard *g, const uint8_t *p, size_t n)
{
	const uint8_t *key = &g->hdr[2];
	unsigned off = g->hdr[6];
	uint8_t st = g->utf8, next, keys[11];
	uint64_t mask, w;
	size_t i = 0;

	/* keys + (i & 3): the key of p[i..i+7] */
	for (unsigned k = 0; k < sizeof(keys); k++)
		keys[k] = key[(off + k) & 3];
	while (i < n) {
		/* ASCII 8 bytes at a time */
		if (st == U_ACCEPT && n - i >= 8) {
			memcpy(&mask, keys + (i & 3), 8);
			do {
				memcpy(&w, p + i, 8);
				if (((w ^ mask) & 0x8080808080808080ull) != 0)
					break;
				i += 8;
			} while (n - i >= 8);
		}
		if (i == n)
			break;
		if ((next = utf8_step(st, p[i] ^ key[(off + i) & 3])) ==
		    U_BAD)
			break;
		st = next;
		i++;
	}
	g->utf8 = st;
	g->hdr[6] = (uint8_t)((off + i) & 3);
	return i;
}

/* n bytes of a close frame's payload at p, unmasked as utf8_take does:
 * its code to hdr[7..8], its reason through the decoder. WSGUARD_UTF8 at
 * a bad byte, or WSGUARD_OK. */
static int
close_take(struct wsguard *g, const uint8_t *p, size_t n)
{
	size_t at = (size_t)((g->hdr[1] & 0x7f) - g->left);
	unsigned off = g->hdr[6];
	uint8_t b;

	for (size_t i = 0; i < n; i++, at++) {
		b = p[i] ^ g->hdr[2 + ((off + i) & 3)];
		if (at < 2)
			g->hdr[7 + at] = b;
		else if ((g->utf8 = utf8_step(g->utf8, b)) == U_BAD)
			return WSGUARD_UTF8;
	}
	g->hdr[6] = (uint8_t)((off + n) & 3);
	return WSGUARD_OK;
}

/* A close code a peer may send (RFC 6455, 7.4.1, 7.4.2; IANA's 1012 to
 * 1014): 1000 to 1003, 1007 to 1014, 3000 to 4999. */
static int
close_code_ok(unsigned code)
{
	return (code >= 1000 && code <= 1003) ||
	    (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/* A frame's first byte (hdr[0]) is in: a fault, or the message it
 * begins noted. */
static int
first_byte(struct wsguard *g)
{
	uint8_t b = g->hdr[0], op = b & 0x0f;

	if (b & 0x70)
		return WSGUARD_RSV;
	if ((op >= 3 && op <= 7) || op >= 11)
		return WSGUARD_OPCODE;
	if (op >= 8)
		return b & 0x80 ? WSGUARD_OK : WSGUARD_CONTROL_FRAGMENT;
	if ((op == 0) != ((g->msg & WSGUARD_MSG_OPEN) != 0))
		return WSGUARD_CONTINUATION;
	if (op != 0) {
		g->msg = WSGUARD_MSG_OPEN | (op == 1 ? WSGUARD_MSG_TEXT : 0);
		g->utf8 = U_ACCEPT;
	}
	return WSGUARD_OK;
}

/* The frame whose header is hdr[0] ended: a message ended with a
 * character cut short, a close frame (good or bad), or none. */
static int
frame_end(struct wsguard *g)
{
	int cut;

	if ((g->hdr[0] & 0x0f) == 8) {
		if ((g->hdr[1] & 0x7f) == 1 || ((g->hdr[1] & 0x7f) >= 2 &&
		    !close_code_ok((unsigned)g->hdr[7] << 8 | g->hdr[8])))
			return WSGUARD_CLOSE_CODE;
		return g->utf8 != U_ACCEPT ? WSGUARD_UTF8 : WSGUARD_CLOSED;
	}
	if ((g->hdr[0] & 0x08) || !(g->hdr[0] & 0x80))
		return WSGUARD_OK;	/* a control frame, or more to come */
	cut = (g->msg & WSGUARD_MSG_TEXT) && g->utf8 != U_ACCEPT;
	g->msg = 0;
	return cut ? WSGUARD_UTF8 : WSGUARD_OK;
}

/* The extended length's bytes after the 7-bit one: 0, 2 or 8. */
static unsigned
ext_bytes(uint8_t len7)
{
	return len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
}

/* The header's length is whole (hdr[1..]): the payload's length, or a
 * fault. */
static int
take_length(struct wsguard *g)
{
	uint8_t len7 = g->hdr[1] & 0x7f;
	uint64_t n = 0;

	if (len7 < 126) {
		g->left = len7;
		return WSGUARD_OK;
	}
	for (unsigned i = 0; i < ext_bytes(len7); i++)
		n = n << 8 | g->hdr[2 + i];
	if (len7 == 127 && (n >> 63) != 0)
		return WSGUARD_LENGTH_TOP_BIT;
	if (n < (len7 == 126 ? 126 : 65536))
		return WSGUARD_LONG_LENGTH;
	g->left = n;
	return WSGUARD_OK;
}

size_t
wsguard_feed(struct wsguard *g, const void *in, size_t len)
{
	const uint8_t *p = in;
	size_t i = 0, start = 0;	/* where the frame under way began */
	uint64_t skip;

	if (g->fault != WSGUARD_OK)
		return 0;
	while (i < len) {
		if (g->have == 0 && g->left > 0) {	/* a payload */
			skip = len - i < g->left ? len - i : g->left;
			if (!(g->hdr[0] & 0x08) &&
			    (g->msg & WSGUARD_MSG_TEXT) &&
			    utf8_take(g, p + i, (size_t)skip) < skip) {
				g->fault = WSGUARD_UTF8;
				return start;
			}
			if ((g->hdr[0] & 0x0f) == 8 &&
			    (g->fault = (uint8_t)close_take(g, p + i,
			    (size_t)skip)) != WSGUARD_OK)
				return start;
			i += (size_t)skip;
			g->left -= skip;
			if (g->left == 0 &&
			    (g->fault = (uint8_t)frame_end(g)) != WSGUARD_OK)
				return start;
			continue;
		}
		if (g->have == 0)
			start = i;
		/* the masking key goes to hdr[2..5], over the extended
		 * length, which was taken before it (take_length) */
		if (g->need != 0 && g->have >= g->need - 4)
			g->hdr[2 + g->have - (g->need - 4)] = p[i];
		else if (g->have < sizeof(g->hdr))
			g->hdr[g->have] = p[i];
		g->have++;
		i++;
		if (g->have == 1 &&
		    (g->fault = (uint8_t)first_byte(g)) != WSGUARD_OK)
			return start;
		if (g->have == 2) {
			if ((g->hdr[1] & 0x80) == 0) {
				g->fault = WSGUARD_UNMASKED;
				return start;
			}
			/* an opcode from 8 up, its length past 7 bits */
			if ((g->hdr[0] & 0x08) && (g->hdr[1] & 0x7f) > 125) {
				g->fault = WSGUARD_CONTROL_LENGTH;
				return start;
			}
			/* with the 4 bytes of the masking key */
			g->need = (uint8_t)(2 + ext_bytes(g->hdr[1] & 0x7f) +
			    4);
		}
		if (g->have >= 2 && g->have == g->need - 4 &&
		    (g->fault = (uint8_t)take_length(g)) != WSGUARD_OK)
			return start;
		if (g->have >= 2 && g->have == g->need) {
			g->have = g->need = 0;	/* the payload follows */
			g->hdr[6] = 0;		/* from the key's byte 0 */
			if ((g->hdr[0] & 0x0f) == 8) {	/* a close */
				g->hdr[7] = g->hdr[8] = 0;
				g->utf8 = U_ACCEPT;
			}
			if (g->left == 0 &&
			    (g->fault = (uint8_t)frame_end(g)) != WSGUARD_OK)
				return start;
		}
	}
	return len;
}

const char *
wsguard_fault_str(int fault)
{
	switch (fault) {
	case WSGUARD_OK:
		return "none";
	case WSGUARD_UNMASKED:
		return "an unmasked client frame";
	case WSGUARD_LONG_LENGTH:
		return "a frame length in a longer encoding than it needs";
	case WSGUARD_LENGTH_TOP_BIT:
		return "a 64-bit frame length with its top bit set";
	case WSGUARD_CONTROL_LENGTH:
		return "a control frame of more than 125 bytes";
	case WSGUARD_EARLY:
		return "bytes sent behind the upgrade request, before its "
		    "answer";
	case WSGUARD_RSV:
		return "a frame with a reserved bit set";
	case WSGUARD_OPCODE:
		return "a frame with a reserved opcode";
	case WSGUARD_CONTROL_FRAGMENT:
		return "a fragmented control frame";
	case WSGUARD_CONTINUATION:
		return "a continuation frame outside a message, or a new "
		    "message inside one";
	case WSGUARD_UTF8:
		return "a text message or close reason that is not UTF-8";
	case WSGUARD_CLOSE_CODE:
		return "a close frame of 1 byte, or with a code a peer may "
		    "not send";
	case WSGUARD_CLOSED:
		return "the client's close";
	}
	return "unknown";
}

int
wsguard_close_code(const struct wsguard *g)
{
	if (g->fault == WSGUARD_CLOSED)
		return (g->hdr[1] & 0x7f) >= 2 ? g->hdr[7] << 8 | g->hdr[8] :
		    1000;
	return g->fault == WSGUARD_UTF8 ? 1007 : 1002;
}
