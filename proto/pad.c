/*
 * pad.c: the two-size padding of pad.h, and the old buckets it still
 * reads. Unpadding runs only on authenticated plaintexts, so its early
 * exits leak nothing an attacker controls.
 */
#include <string.h>

#include "proto/err.h"
#include "proto/pad.h"

static const size_t old_buckets[PAD_OLD_BUCKETS] = { PAD_OLD_MIN_BYTES,
    256, 1024, 4096, PAD_OLD_MAX_BYTES };

size_t
pad_size(size_t len, size_t overhead)
{
	if (len > PAD_PLAINTEXT_MAX || overhead > PAD_OVERHEAD_MAX)
		return 0;
	return (len <= PAD_SHORT_PLAINTEXT_MAX ? PAD_WIRE_SHORT :
	    PAD_WIRE_LONG) - overhead;
}

/* The bucket the padding before fixed sizes gave a len-byte plaintext, or
 * 0 when none held it. */
static size_t
old_pad_size(size_t len)
{
	for (size_t i = 0; i < PAD_OLD_BUCKETS; i++)
		if (len < old_buckets[i])
			return old_buckets[i];
	return 0;
}

int
pad(uint8_t *out, size_t cap, size_t *out_len, const uint8_t *pt, size_t len,
    size_t overhead)
{
	size_t n;

	if (len > PAD_PLAINTEXT_MAX)
		return OFR_E_TOO_BIG;
	if ((n = pad_size(len, overhead)) == 0 || cap < n)
		return OFR_E_USAGE;
	if (out != pt && len > 0)
		memmove(out, pt, len);
	out[len] = 0x80;
	memset(out + len + 1, 0, n - len - 1);
	*out_len = n;
	return 0;
}

int
unpad(size_t *pt_len, const uint8_t *buf, size_t len, size_t overhead)
{
	size_t i = len;

	while (i > 0 && buf[i - 1] == 0)
		i--;
	if (i == 0 || buf[i - 1] != 0x80)
		return OFR_E_CRYPTO;
	/*
	 * One encoding per plaintext and overhead, besides the old one: the
	 * size pad() gives it now, or the smallest old bucket that held it
	 * (a larger bucket, or any other length, is a bad padding).
	 */
	if (len != pad_size(i - 1, overhead) && len != old_pad_size(i - 1))
		return OFR_E_CRYPTO;
	*pt_len = i - 1;
	return 0;
}
