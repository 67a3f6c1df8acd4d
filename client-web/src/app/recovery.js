// recovery.js: the recovery code of "Leave no trace" mode. It carries the
// core's exported state (account seed and pinned programme keys) as text a
// person can write down or keep as a file, and nothing else. Format: the
// bytes, then 4 bytes of BLAKE2b over them (to catch a mistyped code), in
// Crockford's base32 (no I, L, O, U; case and the letters I, L, O are
// forgiven when read back), in groups of 4 separated by "-".
// Pure functions on bytes; libsodium is passed in.

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CHECK_BYTES = 4;
const CHECK_CTX = 'offramp-recovery-v1';
export const RECOVERY_MAX_BYTES = 4096;

function b32encode(bytes) {
	let out = '', acc = 0, bits = 0;
	for (const b of bytes) {
		acc = (acc << 8) | b;
		bits += 8;
		while (bits >= 5) {
			out += ALPHABET[(acc >>> (bits - 5)) & 31];
			bits -= 5;
		}
		acc &= (1 << bits) - 1;
	}
	if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
	return out;
}

function b32decode(text) {
	const out = [];
	let acc = 0, bits = 0;
	for (const ch of text) {
		const v = ALPHABET.indexOf(ch);
		if (v < 0) throw new Error('bad character');
		acc = (acc << 5) | v;
		bits += 5;
		if (bits >= 8) {
			out.push((acc >>> (bits - 8)) & 255);
			bits -= 8;
		}
		acc &= (1 << bits) - 1;
	}
	if (acc !== 0) throw new Error('bad padding');
	return Uint8Array.from(out);
}

function check(sodium, bytes) {
	return sodium.crypto_generichash(CHECK_BYTES, bytes, sodium.from_string(CHECK_CTX));
}

/* The code for the bytes, e.g. "7G2K-QX3M-…". */
export function encodeRecovery(sodium, bytes) {
	if (bytes.length === 0 || bytes.length > RECOVERY_MAX_BYTES) throw new Error('bad length');
	const all = new Uint8Array(bytes.length + CHECK_BYTES);
	all.set(bytes);
	all.set(check(sodium, bytes), bytes.length);
	return b32encode(all).match(/.{1,4}/g).join('-');
}

/* The bytes of a code as typed; throws Error('bad code') on any mistake. */
export function decodeRecovery(sodium, text) {
	const clean = String(text).toUpperCase().replace(/[\s-]+/g, '')
		.replace(/[IL]/g, '1').replace(/O/g, '0');
	let all;
	try {
		all = b32decode(clean);
	} catch {
		throw new Error('bad code');
	}
	if (all.length <= CHECK_BYTES || all.length > RECOVERY_MAX_BYTES + CHECK_BYTES)
		throw new Error('bad code');
	const bytes = all.slice(0, all.length - CHECK_BYTES);
	if (!sodium.memcmp(check(sodium, bytes), all.slice(bytes.length)))
		throw new Error('bad code');
	return bytes;
}
