// hkdf.js: mirror of proto/hkdf.c: HKDF (RFC 5869) on HMAC-SHA256 over
// libsodium's crypto_auth_hmacsha256_* (libsodium has no HKDF). Checked
// against RFC 5869's cases 1-3 (proto/vectors/hkdf.json).

import sodium from 'libsodium-wrappers-sumo';
import { OfframpError, ERR } from './err.js';
import { wipe } from './bytes.js';

export const HKDF_HASH_BYTES = 32;
export const HKDF_OUT_MAX = 255 * HKDF_HASH_BYTES;

const ZERO_SALT = new Uint8Array(HKDF_HASH_BYTES);

function hmac(key, ...parts) {
	const st = sodium.crypto_auth_hmacsha256_init(key);
	for (const p of parts) if (p.length > 0) sodium.crypto_auth_hmacsha256_update(st, p);
	return sodium.crypto_auth_hmacsha256_final(st);
}

/** PRK = HMAC-SHA256(salt, ikm); an empty or absent salt is 32 zero bytes. */
export function hkdfExtract(salt, ikm) {
	return hmac(salt && salt.length > 0 ? salt : ZERO_SALT, ikm);
}

/** OKM of outLen bytes (1..HKDF_OUT_MAX, else "usage"). */
export function hkdfExpand(outLen, prk, info) {
	if (!Number.isInteger(outLen) || outLen <= 0 || outLen > HKDF_OUT_MAX)
		throw new OfframpError(ERR.USAGE, 'hkdf length');
	if (!(prk instanceof Uint8Array) || prk.length !== HKDF_HASH_BYTES)
		throw new OfframpError(ERR.USAGE, 'hkdf prk');
	const out = new Uint8Array(outLen);
	const inf = info || new Uint8Array(0);
	let t = new Uint8Array(0);
	for (let done = 0, ctr = 1; done < outLen; ctr++) {
		const next = hmac(prk, t, inf, Uint8Array.of(ctr));
		wipe(t);
		t = next;
		const n = Math.min(outLen - done, t.length);
		out.set(t.subarray(0, n), done);
		done += n;
	}
	wipe(t);
	return out;
}

/** Extract then expand; the PRK is wiped. */
export function hkdf(outLen, salt, ikm, info) {
	if (!Number.isInteger(outLen) || outLen <= 0 || outLen > HKDF_OUT_MAX)
		throw new OfframpError(ERR.USAGE, 'hkdf length');
	const prk = hkdfExtract(salt, ikm);
	try {
		return hkdfExpand(outLen, prk, info);
	} finally {
		wipe(prk);
	}
}
