// envelope.js: mirror of proto/envelope.c: what a message's plaintext
// carries (CRYPTO.md, "Plaintext envelope"): version || kind || body,
// inside the padding. Kinds: text (the UTF-8 text), report (how many of
// the peer's messages the sender could not read, and why; a new session
// has begun) and nothing (no body; filler for the other participants'
// copies of a message that concerns one).

import { OfframpError, ERR } from './err.js';
import { be32Get, be32Put } from './bytes.js';
import { PAD_PLAINTEXT_MAX } from './pad.js';

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_HDR_BYTES = 2;
export const ENVELOPE_TEXT_MAX = PAD_PLAINTEXT_MAX - ENVELOPE_HDR_BYTES;	// 16125
export const ENVELOPE_REPORT_BYTES = ENVELOPE_HDR_BYTES + 4 + 1;
export const ENVELOPE_TEXT = 1;
export const ENVELOPE_REPORT = 2;
export const ENVELOPE_NOTHING = 3;
export const ENVELOPE_R_LIMIT = 1;	// too many skipped messages
export const ENVELOPE_R_NO_SESSION = 2;	// no session (state lost, keys gone)
export const ENVELOPE_R_CRYPTO = 3;	// did not decrypt: the session is broken

/** A text envelope of text (bytes); throws "too_big" past ENVELOPE_TEXT_MAX. */
export function envelopeText(text) {
	if (text.length > ENVELOPE_TEXT_MAX) throw new OfframpError(ERR.TOO_BIG, 'text too long');
	const out = new Uint8Array(ENVELOPE_HDR_BYTES + text.length);
	out[0] = ENVELOPE_VERSION;
	out[1] = ENVELOPE_TEXT;
	out.set(text, ENVELOPE_HDR_BYTES);
	return out;
}

/** A report of count (1..2^32-1) messages not read for reason (1..255);
 * throws "usage" for 0 or out-of-range values. */
export function envelopeReport(count, reason) {
	if (!Number.isInteger(count) || count < 1 || count > 0xffffffff ||
	    !Number.isInteger(reason) || reason < 1 || reason > 255)
		throw new OfframpError(ERR.USAGE, 'report');
	const out = new Uint8Array(ENVELOPE_REPORT_BYTES);
	out[0] = ENVELOPE_VERSION;
	out[1] = ENVELOPE_REPORT;
	be32Put(out, 2, count);
	out[6] = reason;
	return out;
}

/** The envelope "nothing". */
export function envelopeNothing() {
	return Uint8Array.of(ENVELOPE_VERSION, ENVELOPE_NOTHING);
}

/**
 * Parses a plaintext: {kind, text} (text: a view into pt), {kind, count,
 * reason} or {kind}. Throws "bad_field" unless it is an envelope of version
 * 1 with a known kind and a body of that kind's length.
 */
export function envelopeParse(pt) {
	const bad = () => new OfframpError(ERR.BAD_FIELD, 'envelope');
	if (!(pt instanceof Uint8Array) || pt.length < ENVELOPE_HDR_BYTES || pt[0] !== ENVELOPE_VERSION) throw bad();
	const kind = pt[1];
	if (kind === ENVELOPE_TEXT) {
		if (pt.length - ENVELOPE_HDR_BYTES > ENVELOPE_TEXT_MAX) throw bad();
		return { kind, text: pt.subarray(ENVELOPE_HDR_BYTES) };
	}
	if (kind === ENVELOPE_REPORT) {
		if (pt.length !== ENVELOPE_REPORT_BYTES) throw bad();
		const count = be32Get(pt, 2), reason = pt[6];
		if (count === 0 || reason === 0) throw bad();
		return { kind, count, reason };
	}
	if (kind === ENVELOPE_NOTHING && pt.length === ENVELOPE_HDR_BYTES) return { kind };
	throw bad();
}
