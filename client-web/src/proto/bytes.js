// bytes.js: mirror of proto/bytes.h: big-endian integers of the byte
// formats (bundles, messages, state, certificates), and the few byte-array
// helpers the other modules share. Nothing here is secret-aware.

/** Writes v (0..2^32-1) at p[off..off+4), big-endian. */
export function be32Put(p, off, v) {
	p[off] = (v >>> 24) & 0xff;
	p[off + 1] = (v >>> 16) & 0xff;
	p[off + 2] = (v >>> 8) & 0xff;
	p[off + 3] = v & 0xff;
}

/** The u32 at p[off..off+4), big-endian, as a Number. */
export function be32Get(p, off) {
	return ((p[off] << 24) >>> 0) + (p[off + 1] << 16) + (p[off + 2] << 8) + p[off + 3];
}

/** Writes the i64 v (a BigInt or a safe integer) at p[off..off+8). */
export function be64Put(p, off, v) {
	new DataView(p.buffer, p.byteOffset, p.byteLength).setBigInt64(off, BigInt(v));
}

/** The i64 at p[off..off+8), big-endian, as a BigInt. */
export function be64Get(p, off) {
	return new DataView(p.buffer, p.byteOffset, p.byteLength).getBigInt64(off);
}

/** The concatenation of byte arrays. */
export function concat(...parts) {
	let n = 0;
	for (const x of parts) n += x.length;
	const out = new Uint8Array(n);
	let off = 0;
	for (const x of parts) {
		out.set(x, off);
		off += x.length;
	}
	return out;
}

/** The ASCII bytes of a constant string. */
export function ascii(s) {
	const out = new Uint8Array(s.length);
	for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0x7f;
	return out;
}

/** 1 when a and b are byte arrays of the same length and contents. */
export function bytesEqual(a, b) {
	if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length)
		return false;
	let d = 0;
	for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
	return d === 0;
}

/** memcmp order: <0, 0, >0. */
export function bytesCompare(a, b) {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
	return a.length - b.length;
}

/** Overwrites a byte array with zeros (best effort in JavaScript). */
export function wipe(...arrays) {
	for (const a of arrays) if (a instanceof Uint8Array) a.fill(0);
}

/** Lowercase hex of bytes (tests, ids in maps). */
export function toHex(b) {
	let s = '';
	for (const x of b) s += x.toString(16).padStart(2, '0');
	return s;
}

/** Bytes of lowercase or uppercase hex; throws on anything else. */
export function fromHex(s) {
	if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s))
		throw new TypeError('not hex');
	const out = new Uint8Array(s.length / 2);
	for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
	return out;
}
