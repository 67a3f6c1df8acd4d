// pow.js: mirror of proto/pow.h and pow.c: the proof of work of intake
// (PROTOCOL.md, "Proof of work"). A proof for a purpose, a challenge
// nonce and an identity key is a number pow (below 2^53) such that
// BLAKE2b-256(context || nonce || key || pow as 8 bytes little-endian)
// begins with at least `bits` zero bits. The search runs in chunks that
// yield to the event loop between them, so that the page never freezes.
import sodium from 'libsodium-wrappers-sumo';

export const POW_LOGIN = 'offramp.pow.login';	// a new client account
export const POW_CASE = 'offramp.pow.case';	// a case request
export const POW_BITS_MAX = 28;	// proto/pow.h: none above is asked or paid

const CHUNK = 16384;	// hashes between two yields: some 15 ms here

function input(purpose, nonce, key) {
	const ctx = new TextEncoder().encode(purpose);
	const buf = new Uint8Array(ctx.length + 32 + 32 + 8);
	buf.set(ctx);
	buf.set(nonce, ctx.length);
	buf.set(key, ctx.length + 32);
	return { buf, at: ctx.length + 64 };
}

function zeros(h) {
	let z = 0;
	for (const b of h) {
		if (b === 0) { z += 8; continue; }
		return z + Math.clz32(b) - 24;
	}
	return z;
}

function put(buf, at, n) {
	new DataView(buf.buffer).setUint32(at, n % 0x100000000, true);
	new DataView(buf.buffer).setUint32(at + 4, Math.floor(n / 0x100000000), true);
}

/** The zero bits that begin the hash of pow. */
export function powZeros(purpose, nonce, key, pow) {
	const { buf, at } = input(purpose, nonce, key);
	put(buf, at, pow);
	return zeros(sodium.crypto_generichash(32, buf, null));
}

/** Whether pow is a proof of at least bits. */
export function powCheck(purpose, nonce, key, pow, bits) {
	return bits <= 0 || (Number.isSafeInteger(pow) && pow >= 0 && powZeros(purpose, nonce, key, pow) >= bits);
}

/**
 * Finds a proof of bits (resolves with it), yielding between chunks.
 * @param {string} purpose  POW_LOGIN or POW_CASE
 * @param {Uint8Array} nonce  the challenge's 32 bytes
 * @param {Uint8Array} key  the identity's 32 bytes
 * @param {number} bits
 * @param {{yieldFn?: () => Promise<void>}} [opts]
 * @returns {Promise<number>}
 */
export async function powSolve(purpose, nonce, key, bits, opts = {}) {
	const pause = opts.yieldFn || (() => new Promise((r) => setTimeout(r, 0)));
	const { buf, at } = input(purpose, nonce, key);
	for (let start = 0; ; start += CHUNK) {
		for (let p = start; p < start + CHUNK; p++) {
			put(buf, at, p);
			if (zeros(sodium.crypto_generichash(32, buf, null)) >= bits) return p;
		}
		await pause();
	}
}
