// pad.js: mirror of proto/pad.c: bucket padding of plaintexts before
// encryption (CRYPTO.md, "Padding"): the text, 0x80, zeros up to the
// smallest bucket of 64, 256, 1024, 4096, 16128 bytes that holds len + 1.

import { OfframpError, ERR } from './err.js';

export const PAD_BUCKETS = Object.freeze([64, 256, 1024, 4096, 16128]);
export const PAD_MAX_BYTES = 16128;
export const PAD_PLAINTEXT_MAX = PAD_MAX_BYTES - 1;

/** The padded size of a len-byte plaintext, or 0 when len is too long. */
export function padSize(len) {
	for (const b of PAD_BUCKETS) if (len < b) return b;
	return 0;
}

/** The padded bytes of pt; throws "too_big" past PAD_PLAINTEXT_MAX. */
export function pad(pt) {
	const n = padSize(pt.length);
	if (n === 0) throw new OfframpError(ERR.TOO_BIG, 'plaintext too long');
	const out = new Uint8Array(n);
	out.set(pt);
	out[pt.length] = 0x80;
	return out;
}

/**
 * The plaintext length of padded buf; throws "crypto" when buf's length is
 * not a bucket, the marker is missing, or the bucket is not the smallest.
 */
export function unpad(buf) {
	if (!PAD_BUCKETS.includes(buf.length)) throw new OfframpError(ERR.CRYPTO, 'padding');
	let i = buf.length;
	while (i > 0 && buf[i - 1] === 0) i--;
	if (i === 0 || buf[i - 1] !== 0x80) throw new OfframpError(ERR.CRYPTO, 'padding');
	if (padSize(i - 1) !== buf.length) throw new OfframpError(ERR.CRYPTO, 'padding');
	return i - 1;
}
