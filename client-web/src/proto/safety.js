// safety.js: mirror of proto/safety.c: safety numbers (CRYPTO.md, "Safety
// numbers"), which two people compare out of band, and key fingerprints
// (CRYPTO.md, "Fingerprints"). Public keys only.

import sodium from 'libsodium-wrappers-sumo';
import { OfframpError, ERR } from './err.js';
import { ascii, bytesCompare, concat } from './bytes.js';

export const SAFETY_CONTEXT = 'offramp-safety-v1';
export const SAFETY_ITERATIONS = 5200;
export const SAFETY_DIGITS = 60;
const HASH_BYTES = 64;

function digits(pk) {
	let h = sodium.crypto_generichash(HASH_BYTES, concat(ascii(SAFETY_CONTEXT), pk), null);
	const buf = new Uint8Array(HASH_BYTES + pk.length);
	buf.set(pk, HASH_BYTES);
	for (let i = 0; i < SAFETY_ITERATIONS; i++) {
		buf.set(h, 0);
		h = sodium.crypto_generichash(HASH_BYTES, buf, null);
	}
	let out = '';
	for (let c = 0; c < 6; c++) {
		let v = 0;
		for (let j = 0; j < 5; j++) v = v * 256 + h[c * 5 + j];	// < 2^40: exact
		out += String(v % 100000).padStart(5, '0');
	}
	return out;
}

/** The safety number of identities a and b (32 bytes each): 12 groups of 5
 * digits; the same for (a, b) and (b, a). Throws "usage" on a bad length. */
export function safetyNumber(a, b) {
	if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== 32 || b.length !== 32)
		throw new OfframpError(ERR.USAGE, 'safety number of 32-byte keys');
	if (bytesCompare(a, b) > 0) [a, b] = [b, a];
	const d = digits(a) + digits(b);
	return d.match(/.{5}/g).join(' ');
}

export const FPR_CONTEXT = 'offramp-fingerprint-v1';

/** The fingerprint of a key (32 bytes): the first 10 bytes of
 * BLAKE2b-256(context || key) in hex, five groups of four
 * ("1a2b 3c4d 5e6f 7a8b 9c0d"). Throws "usage" on a bad length. */
export function keyFingerprint(key) {
	if (!(key instanceof Uint8Array) || key.length !== 32) throw new OfframpError(ERR.USAGE, 'fingerprint of a 32-byte key');
	const h = sodium.crypto_generichash(32, concat(ascii(FPR_CONTEXT), key), null);
	let out = '';
	for (let i = 0; i < 10; i++) out += (i > 0 && i % 2 === 0 ? ' ' : '') + h[i].toString(16).padStart(2, '0');
	return out;
}
