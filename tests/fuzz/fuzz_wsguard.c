/*
 * fuzz_wsguard.c: server/wsguard.c, the frame-header checks the server
 * makes on the bytes libwebsockets reads (server/rxtap.c). The input is
 *   cuts (1) || the client's byte stream after the upgrade
 * fed once whole and once in reads whose sizes come from cuts (1 to 64
 * bytes, and whole runs). Both must find the same fault as a model that
 * walks the stream frame by frame (the first frame unmasked, with a
 * length in a longer encoding than it needs, with a 64-bit length's top
 * bit set, or a control frame longer than 125 bytes), in the read that
 * brings the byte that shows it, and hand
 * on everything before the bad frame and nothing of that read past it.
 */
#include <string.h>

#include "fuzz.h"
#include "wsguard.h"

/* The model: where the first bad frame begins (size: none), why, and
 * the byte that shows it (*found). */
static size_t
model(const uint8_t *p, size_t size, int *fault, size_t *found)
{
	size_t off = 0;

	*fault = WSGUARD_OK;
	*found = size;
	while (size - off >= 2) {
		uint8_t len7 = p[off + 1] & 0x7f;
		size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
		uint64_t n = len7;

		*found = off + 1 + ext;
		if (!(p[off + 1] & 0x80)) {
			*found = off + 1;
			*fault = WSGUARD_UNMASKED;
			return off;
		}
		if ((p[off] & 0x0f) >= 8 && len7 > 125) {
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
		if (n > size - off - 2 - ext - 4 || size - off < 2 + ext + 4)
			break;		/* its payload runs past the input */
		off += 2 + ext + 4 + (size_t)n;
	}
	return size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wsguard whole, cut;
	size_t want, got, off, n, ok, found;
	uint32_t r;
	int fault;

	if (size < 1)
		return 0;
	r = data[0] * 2654435761u + 1;
	data++;
	size--;
	want = model(data, size, &fault, &found);

	memset(&whole, 0, sizeof(whole));
	FUZZ_CHECK(wsguard_feed(&whole, data, size) == want);
	FUZZ_CHECK(whole.fault == fault);

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
