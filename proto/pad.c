/*
 * pad.c: bucket padding of pad.h. Unpadding runs only on authenticated
 * plaintexts, so its early exits leak nothing an attacker controls.
 */
#include <string.h>

#include "proto/err.h"
#include "proto/pad.h"

static const size_t buckets[PAD_BUCKETS] = { 64, 256, 1024, 4096,
    PAD_MAX_BYTES };

size_t
pad_size(size_t len)
{
	for (size_t i = 0; i < PAD_BUCKETS; i++)
		if (len < buckets[i])
			return buckets[i];
	return 0;
}

int
pad(uint8_t *out, size_t cap, size_t *out_len, const uint8_t *pt, size_t len)
{
	size_t n = pad_size(len);

	if (n == 0)
		return OFR_E_TOO_BIG;
	if (cap < n)
		return OFR_E_USAGE;
	if (out != pt && len > 0)
		memmove(out, pt, len);
	out[len] = 0x80;
	memset(out + len + 1, 0, n - len - 1);
	*out_len = n;
	return 0;
}

int
unpad(size_t *pt_len, const uint8_t *buf, size_t len)
{
	size_t i, ok = 0;

	for (i = 0; i < PAD_BUCKETS; i++)
		if (len == buckets[i])
			ok = 1;
	if (!ok)
		return OFR_E_CRYPTO;
	i = len;
	while (i > 0 && buf[i - 1] == 0)
		i--;
	if (i == 0 || buf[i - 1] != 0x80)
		return OFR_E_CRYPTO;
	/* The shortest plaintext that gives this bucket must fit: a 64-byte
	 * bucket could hold it all, so a longer bucket is a bad padding. */
	if (pad_size(i - 1) != len)
		return OFR_E_CRYPTO;
	*pt_len = i - 1;
	return 0;
}
