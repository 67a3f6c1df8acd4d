// frame.js: mirror of proto/frame.c for a client: the limits of protocol
// v1, base64 as the wire carries it, tokens, and the envelope of frames
// (PROTOCOL.md, "Envelope"). Incoming frames are checked before anything
// reads them; outgoing ones get "v" and "type". Knows no transport.

import sodium from 'libsodium-wrappers-sumo';
import { OfframpError, ERR } from './err.js';

export const OFR_PROTO_VERSION = 1;
export const OFR_FRAME_MAX = 128 * 1024;
export const OFR_TYPE_MAX = 32;
export const OFR_ID_MAX = Number.MAX_SAFE_INTEGER;	// 2^53 - 1
export const OFR_TOKEN_MAX = 32;
export const OFR_NAME_MAX = 64;
export const OFR_CT_MAX = 16 * 1024;
export const OFR_COPIES_MAX = 8;
export const OFR_MID_BYTES = 16;
export const OFR_ACKS_MAX = 256;
export const OFR_LIST_MAX = 16;
export const OFR_DEPTH_MAX = 4;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Base64 (RFC 4648 §4, padded) of bytes. */
export function b64Encode(bin) {
	return sodium.to_base64(bin, sodium.base64_variants.ORIGINAL);
}

/**
 * The bytes of base64 s, exactly (padded, canonical), of minLen..maxLen
 * bytes; throws "bad_field" (with field) otherwise. A string too long to
 * fit is refused before decoding.
 */
export function b64Decode(s, minLen, maxLen, field) {
	if (typeof s !== 'string' || Math.floor(s.length / 4) * 3 > maxLen + 2 || !B64_RE.test(s))
		throw new OfframpError(ERR.BAD_FIELD, `${field || 'base64'}`, field);
	let out;
	try {
		out = sodium.from_base64(s, sodium.base64_variants.ORIGINAL);
	} catch {
		throw new OfframpError(ERR.BAD_FIELD, `${field || 'base64'}`, field);
	}
	if (out.length < minLen || out.length > maxLen || b64Encode(out) !== s)
		throw new OfframpError(ERR.BAD_FIELD, `${field || 'base64'}`, field);
	return out;
}

/** true if s is a token: 1..32 of [a-z0-9-], not starting with '-'. */
export function frameIsToken(s) {
	return typeof s === 'string' && s.length >= 1 && s.length <= OFR_TOKEN_MAX &&
		/^[a-z0-9][a-z0-9-]*$/.test(s);
}

/** true if s is a display name: 1..64 bytes of UTF-8, no control characters. */
export function frameIsName(s) {
	if (typeof s !== 'string' || s.length === 0) return false;
	if (/[\u0000-\u001f\u007f-\u009f]/.test(s) || LONE_SURROGATE.test(s)) return false;
	const n = new TextEncoder().encode(s).length;
	return n >= 1 && n <= OFR_NAME_MAX;
}

/** A new outgoing frame {"v":1,"type":type,...fields}; id added by the connection. */
export function frameNew(type, fields) {
	if (typeof type !== 'string' || type.length === 0 || type.length > OFR_TYPE_MAX)
		throw new OfframpError(ERR.USAGE, 'frame type');
	return Object.assign({ v: OFR_PROTO_VERSION, type }, fields || {});
}

/*
 * What the server refuses in every string it takes (proto/frame.c,
 * frame_str): C0, DEL, C1, the line and paragraph separators, the bidi
 * embeddings, overrides and isolates, the byte order mark. No string the
 * server sends holds one unless the server was made to lie; such a
 * character is shown as U+FFFD, so that a name cannot turn the text
 * around it or hide in it.
 */
const UNSHOWN = /[\u0000-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069\ufeff]/g;

function unbend(key, v) {
	return typeof v === 'string' ? v.replace(UNSHOWN, '\ufffd') : v;
}

/**
 * Parses one text frame from the server: a JSON object of at most
 * OFR_FRAME_MAX bytes with "v": 1, a string "type" of 1..32 bytes and, when
 * present, an integer "re". Every string in it is as the server may send
 * it (unbend). Returns the object; throws "too_big",
 * "bad_json", "bad_version" or "bad_field" (field type or re).
 */
export function frameParse(text) {
	if (typeof text !== 'string') throw new OfframpError(ERR.BAD_JSON, 'not text');
	// a UTF-16 length over the limit is over it in UTF-8 too; the exact
	// byte count only matters near it
	if (text.length > OFR_FRAME_MAX ||
	    (text.length > OFR_FRAME_MAX / 3 && new TextEncoder().encode(text).length > OFR_FRAME_MAX))
		throw new OfframpError(ERR.TOO_BIG, 'frame');
	let f;
	try {
		f = JSON.parse(text, unbend);
	} catch {
		throw new OfframpError(ERR.BAD_JSON, 'frame');
	}
	if (f === null || typeof f !== 'object' || Array.isArray(f))
		throw new OfframpError(ERR.BAD_JSON, 'not an object');
	if (f.v !== OFR_PROTO_VERSION) throw new OfframpError(ERR.BAD_VERSION, 'v');
	if (typeof f.type !== 'string' || f.type.length === 0 || f.type.length > OFR_TYPE_MAX)
		throw new OfframpError(ERR.BAD_FIELD, 'type', 'type');
	if (f.re !== undefined && f.re !== null &&
	    (!Number.isSafeInteger(f.re) || f.re < 1))
		throw new OfframpError(ERR.BAD_FIELD, 're', 're');
	return f;
}
