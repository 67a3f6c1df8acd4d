// pad.js: mirror of proto/pad.c: padding of plaintexts before encryption
// so that every ciphertext has one of two sizes on the wire (CRYPTO.md,
// "Padding"): the text, 0x80, zeros up to the wire size (1024 for a
// plaintext of at most 869 bytes, 16282 up to 16127) less the overhead
// the caller adds around it (header, X3DH fields, nonce, tag). The old
// buckets (64, 256, 1024, 4096, 16128) are still read, never written.

import { OfframpError, ERR } from './err.js';

export const PAD_WIRE_SHORT = 1024;
export const PAD_WIRE_LONG = 16282;		// RATCHET_MSG_MAX
export const PAD_OVERHEAD_MAX = 154;		// a first message: 42 + 72 + 24 + 16
export const PAD_SHORT_PLAINTEXT_MAX = PAD_WIRE_SHORT - PAD_OVERHEAD_MAX - 1;	// 869
export const PAD_PLAINTEXT_MAX = PAD_WIRE_LONG - PAD_OVERHEAD_MAX - 1;		// 16127
export const PAD_MAX_BYTES = PAD_WIRE_LONG;	// holds any padded plaintext
export const PAD_OLD_BUCKETS = Object.freeze([64, 256, 1024, 4096, 16128]);
export const PAD_OLD_MIN_BYTES = 64;

/** The padded size of a len-byte plaintext under overhead bytes, or 0 when
 * len is over PAD_PLAINTEXT_MAX or overhead over PAD_OVERHEAD_MAX. */
export function padSize(len, overhead) {
	if (!(len >= 0 && len <= PAD_PLAINTEXT_MAX && overhead >= 0 && overhead <= PAD_OVERHEAD_MAX)) return 0;
	return (len <= PAD_SHORT_PLAINTEXT_MAX ? PAD_WIRE_SHORT : PAD_WIRE_LONG) - overhead;
}

// The bucket the padding before fixed sizes gave a len-byte plaintext, or 0.
function oldPadSize(len) {
	for (const b of PAD_OLD_BUCKETS) if (len < b) return b;
	return 0;
}

/** The padded bytes of pt under overhead; throws "too_big" past
 * PAD_PLAINTEXT_MAX, "usage" for an overhead over PAD_OVERHEAD_MAX. */
export function pad(pt, overhead) {
	if (pt.length > PAD_PLAINTEXT_MAX) throw new OfframpError(ERR.TOO_BIG, 'plaintext too long');
	const n = padSize(pt.length, overhead);
	if (n === 0) throw new OfframpError(ERR.USAGE, 'overhead');
	const out = new Uint8Array(n);
	out.set(pt);
	out[pt.length] = 0x80;
	return out;
}

/**
 * The plaintext length of padded buf (sealed with overhead bytes around
 * it); throws "crypto" unless buf is 0x80 then only zeros after the
 * plaintext and its length is what pad gives that plaintext under
 * overhead, or its smallest old bucket.
 */
export function unpad(buf, overhead) {
	let i = buf.length;
	while (i > 0 && buf[i - 1] === 0) i--;
	if (i === 0 || buf[i - 1] !== 0x80) throw new OfframpError(ERR.CRYPTO, 'padding');
	if (buf.length !== padSize(i - 1, overhead) && buf.length !== oldPadSize(i - 1))
		throw new OfframpError(ERR.CRYPTO, 'padding');
	return i - 1;
}
