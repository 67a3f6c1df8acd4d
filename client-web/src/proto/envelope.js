// envelope.js: mirror of proto/envelope.c: what a message's plaintext
// carries (CRYPTO.md, "Plaintext envelope"), inside the padding. Version
// 2: version || case id || the sender's running number || the sender's
// time || kind || body; version 1 (version || kind || body) is still
// read. Kinds: text (the UTF-8 text), report (how many of the peer's
// messages the sender could not read, and why; a new session has begun),
// nothing (no body; filler for the other participants' copies of a
// message that concerns one), and in version 2 meeting, agreement and
// referral (a card for an external partner).

import { OfframpError, ERR } from './err.js';
import { be32Get, be32Put } from './bytes.js';
import { PAD_PLAINTEXT_MAX } from './pad.js';

export const ENVELOPE_VERSION = 1;	// what the v1 writers below write
export const ENVELOPE_VERSION_2 = 2;
export const ENVELOPE_HDR_BYTES = 2;
export const ENVELOPE_V2_HDR_BYTES = 22;
export const ENVELOPE_TEXT_MAX = PAD_PLAINTEXT_MAX - ENVELOPE_HDR_BYTES;	// 16125, version 1
export const ENVELOPE_V2_TEXT_MAX = PAD_PLAINTEXT_MAX - ENVELOPE_V2_HDR_BYTES;	// 16105
export const ENVELOPE_MEETING = 4;
export const ENVELOPE_AGREEMENT = 5;
export const ENVELOPE_PLACE_MAX = 512;
export const ENVELOPE_RECOGNISE_MAX = 512;
export const ENVELOPE_AGREEMENT_FIELD_MAX = 2048;
export const ENVELOPE_REFERRAL = 9;
export const ENVELOPE_REFERRAL_NAME_MAX = 128;
export const ENVELOPE_REFERRAL_CONTACT_MAX = 512;
export const ENVELOPE_REFERRAL_NOTE_MAX = 2048;	// what to expect, what to say
export const REFERRAL_FIELDS = ['name', 'contact', 'expect', 'say'];
const REFERRAL_MAX = [ENVELOPE_REFERRAL_NAME_MAX, ENVELOPE_REFERRAL_CONTACT_MAX,
	ENVELOPE_REFERRAL_NOTE_MAX, ENVELOPE_REFERRAL_NOTE_MAX];
export const ENVELOPE_FUTURE_MAX = 600;	// seconds
export const MEETING_ACTIONS = ['', 'propose', 'accept', 'decline', 'cancel', 'reschedule'];
export const AGREEMENT_ACTIONS = ['', 'propose', 'accept', 'revise'];
export const AGREEMENT_FIELDS = ['objectives', 'formats', 'frequency', 'crisis'];
// envelopeCheck's findings
export const ENVELOPE_MOVED = 1;
export const ENVELOPE_REPLAYED = 2;
export const ENVELOPE_HELD_BACK = 4;
export const ENVELOPE_FUTURE = 8;
export const ENVELOPE_EARLIER = 16;
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

const bad = () => new OfframpError(ERR.BAD_FIELD, 'envelope');
const utf8strict = new TextDecoder('utf-8', { fatal: true });

/** true if b (bytes) is UTF-8 (no overlong forms, no surrogates). */
export function envelopeUtf8Ok(b) {
	try {
		utf8strict.decode(b);
		return true;
	} catch {
		return false;
	}
}

// A u64 big-endian as a Number; throws past 2^53 (ids and times this
// client deals in are below).
function be64Get(p, o) {
	const hi = be32Get(p, o), lo = be32Get(p, o + 4);
	if (hi >= 0x200000) return hi >= 0x80000000 ? -1 : Number.MAX_SAFE_INTEGER + 1;
	return hi * 0x100000000 + lo;
}

function be64Put(p, o, v) {
	be32Put(p, o, Math.floor(v / 0x100000000));
	be32Put(p, o + 4, v % 0x100000000);
}

// One u16-length field at p[o..]: [bytes, next offset]; throws if it does not fit.
function getField(p, o) {
	if (p.length - o < 2) throw bad();
	const n = (p[o] << 8) | p[o + 1];
	if (p.length - o - 2 < n) throw bad();
	return [p.subarray(o + 2, o + 2 + n), o + 2 + n];
}

function meetingOk(m) {
	if (m.action < 1 || m.action > 5 || m.id < 1 || !(m.time >= 1)) return 'bad';
	if (m.place.length > ENVELOPE_PLACE_MAX || m.recognise.length > ENVELOPE_RECOGNISE_MAX) return 'big';
	const full = m.action === 1 || m.action === 5;
	if (full ? m.place.length === 0 : m.place.length !== 0 || m.recognise.length !== 0) return 'bad';
	if (!envelopeUtf8Ok(m.place) || !envelopeUtf8Ok(m.recognise)) return 'bad';
	return null;
}

function agreementOk(a) {
	if (a.action < 1 || a.action > 3 || a.version < 1 || (a.action === 1 && a.version !== 1) ||
	    (a.action === 3 && a.version < 2)) return 'bad';
	for (const f of a.fields) {
		if (f.length > ENVELOPE_AGREEMENT_FIELD_MAX) return 'big';
		if (a.action === 2 && f.length !== 0) return 'bad';
		if (!envelopeUtf8Ok(f)) return 'bad';
	}
	if (a.action !== 2 && a.fields[0].length === 0) return 'bad';
	return null;
}

function referralOk(r) {
	for (let i = 0; i < 4; i++) {
		if (r.fields[i].length > REFERRAL_MAX[i]) return 'big';
		if (!envelopeUtf8Ok(r.fields[i])) return 'bad';
	}
	if (r.fields[0].length === 0 || r.fields[1].length === 0) return 'bad';
	return null;
}

// The body of kind (bytes b) for version v into an object; throws "bad_field".
function parseBody(v, kind, b, max) {
	if (kind === ENVELOPE_TEXT) {
		if (b.length > max) throw bad();
		return { kind, text: b };
	}
	if (kind === ENVELOPE_REPORT) {
		if (b.length !== 5) throw bad();
		const count = be32Get(b, 0), reason = b[4];
		if (count === 0 || reason === 0) throw bad();
		return { kind, count, reason };
	}
	if (kind === ENVELOPE_NOTHING) {
		if (b.length !== 0) throw bad();
		return { kind };
	}
	if (kind === ENVELOPE_MEETING && v === 2) {
		if (b.length < 13) throw bad();
		const m = { action: b[0], id: be32Get(b, 1), time: be64Get(b, 5) };
		let o;
		[m.place, o] = getField(b, 13);
		[m.recognise, o] = getField(b, o);
		if (o !== b.length || meetingOk(m)) throw bad();
		return { kind, meeting: m };
	}
	if (kind === ENVELOPE_AGREEMENT && v === 2) {
		if (b.length < 5) throw bad();
		const a = { action: b[0], version: be32Get(b, 1), fields: [] };
		let o = 5, f;
		for (let i = 0; i < 4; i++) {
			[f, o] = getField(b, o);
			a.fields.push(f);
		}
		if (o !== b.length || agreementOk(a)) throw bad();
		return { kind, agreement: a };
	}
	if (kind === ENVELOPE_REFERRAL && v === 2) {
		const r = { fields: [] };
		let o = 0, f;
		for (let i = 0; i < 4; i++) {
			[f, o] = getField(b, o);
			r.fields.push(f);
		}
		if (o !== b.length || referralOk(r)) throw bad();
		return { kind, referral: r };
	}
	throw bad();
}

/**
 * Parses a plaintext: {version, kind, ...}: a text {text} (a view into
 * pt), a report {count, reason}, nothing, and in version 2 also
 * {caseId, seq, time} and a meeting {meeting: {action, id, time, place,
 * recognise}}, an agreement {agreement: {action, version, fields[4]}}
 * or a referral card {referral: {fields[4]: name, contact, expect, say}}
 * (fields as views into pt). Throws "bad_field" unless it is an envelope
 * as CRYPTO.md states.
 */
export function envelopeParse(pt) {
	if (!(pt instanceof Uint8Array) || pt.length < ENVELOPE_HDR_BYTES || pt.length > PAD_PLAINTEXT_MAX) throw bad();
	if (pt[0] === ENVELOPE_VERSION) {
		const e = parseBody(1, pt[1], pt.subarray(ENVELOPE_HDR_BYTES), ENVELOPE_TEXT_MAX);
		return { version: 1, ...e };
	}
	if (pt[0] !== ENVELOPE_VERSION_2 || pt.length < ENVELOPE_V2_HDR_BYTES) throw bad();
	const caseId = be64Get(pt, 1), seq = be32Get(pt, 9), time = be64Get(pt, 13);
	if (caseId <= 0 || seq === 0 || time < 0) throw bad();
	const e = parseBody(2, pt[21], pt.subarray(ENVELOPE_V2_HDR_BYTES), ENVELOPE_V2_TEXT_MAX);
	return { version: 2, caseId, seq, time, ...e };
}

/**
 * Writes e ({caseId, seq, time, kind} and the kind's fields, as
 * envelopeParse gives them; texts and fields as bytes) as a version 2
 * envelope. Throws "too_big" or "bad_field" (what the parser would refuse).
 */
export function envelopeWrite(e) {
	if (!Number.isSafeInteger(e.caseId) || e.caseId < 1 || !Number.isInteger(e.seq) || e.seq < 1 ||
	    e.seq > 0xffffffff || !Number.isSafeInteger(e.time) || e.time < 0) throw bad();
	const parts = [];
	const u16 = (b) => { parts.push(Uint8Array.of(b.length >> 8, b.length & 0xff), b); };
	if (e.kind === ENVELOPE_TEXT) {
		if (e.text.length > ENVELOPE_V2_TEXT_MAX) throw new OfframpError(ERR.TOO_BIG, 'text too long');
		parts.push(e.text);
	} else if (e.kind === ENVELOPE_REPORT) {
		if (!(e.count >= 1 && e.count <= 0xffffffff && e.reason >= 1 && e.reason <= 255)) throw bad();
		const b = new Uint8Array(5);
		be32Put(b, 0, e.count);
		b[4] = e.reason;
		parts.push(b);
	} else if (e.kind === ENVELOPE_MEETING) {
		const m = e.meeting, why = meetingOk(m);
		if (why === 'big') throw new OfframpError(ERR.TOO_BIG, 'meeting');
		if (why || !Number.isSafeInteger(m.time) || m.id > 0xffffffff) throw bad();
		const h = new Uint8Array(13);
		h[0] = m.action;
		be32Put(h, 1, m.id);
		be64Put(h, 5, m.time);
		parts.push(h);
		u16(m.place);
		u16(m.recognise);
	} else if (e.kind === ENVELOPE_AGREEMENT) {
		const a = e.agreement, why = a.fields.length === 4 ? agreementOk(a) : 'bad';
		if (why === 'big') throw new OfframpError(ERR.TOO_BIG, 'agreement');
		if (why || a.version > 0xffffffff) throw bad();
		const h = new Uint8Array(5);
		h[0] = a.action;
		be32Put(h, 1, a.version);
		parts.push(h);
		for (const f of a.fields) u16(f);
	} else if (e.kind === ENVELOPE_REFERRAL) {
		const r = e.referral, why = r.fields.length === 4 ? referralOk(r) : 'bad';
		if (why === 'big') throw new OfframpError(ERR.TOO_BIG, 'referral');
		if (why) throw bad();
		for (const f of r.fields) u16(f);
	} else if (e.kind !== ENVELOPE_NOTHING) {
		throw bad();
	}
	const len = parts.reduce((n, p) => n + p.length, ENVELOPE_V2_HDR_BYTES);
	const out = new Uint8Array(len);
	out[0] = ENVELOPE_VERSION_2;
	be64Put(out, 1, e.caseId);
	be32Put(out, 9, e.seq);
	be64Put(out, 13, e.time);
	out[21] = e.kind;
	let o = ENVELOPE_V2_HDR_BYTES;
	for (const p of parts) {
		out.set(p, o);
		o += p.length;
	}
	return out;
}

/**
 * The findings (ENVELOPE_MOVED...) of the binding of the parsed envelope
 * e, come in case caseId at the receiver's time now (seconds), against
 * the sender's last running number and time kept (lastSeq 0: none yet).
 * A version 1 envelope has none.
 */
export function envelopeCheck(e, caseId, lastSeq, lastTime, now) {
	if (e.version < 2) return 0;
	let f = 0;
	if (e.caseId !== caseId) f |= ENVELOPE_MOVED;
	if (lastSeq !== 0 && e.seq <= lastSeq) f |= ENVELOPE_REPLAYED;
	if (lastSeq !== 0 && e.seq > lastSeq + 1) f |= ENVELOPE_HELD_BACK;
	if (e.time > now + ENVELOPE_FUTURE_MAX) f |= ENVELOPE_FUTURE;
	if (lastSeq !== 0 && e.time < lastTime) f |= ENVELOPE_EARLIER;
	return f;
}
