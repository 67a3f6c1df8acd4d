// e2e.js: the web client's end-to-end sessions, mirror of client-cli/e2e.c
// with the trust checks of trust.c and messages.c, and the case notes of
// caseload.c: the identity, prekeys (made here, secrets kept here, public
// halves uploaded), X3DH and the Double Ratchet per peer, counsellor
// certificates (checked by trust.js, whose programme keys come from
// outside the server), the keys seen per case (a changed one blocks
// sending until verify), safety numbers, and notes encrypted to oneself.
//
// Sessions per peer: a small list, as the CLI keeps. Both sides may start
// a session at once; each also answers the other's first message as the
// responder. Decryption tries the session begun by the same X3DH fields,
// else every session of the peer, most recently successful first; sending
// uses the most recently successful one, so both sides settle on one.
// Replayed first messages: every responder session is remembered by its
// (spk_id, EKa) until that signed prekey's secret goes; a first message
// with a remembered pair whose session is gone is refused.
// A message that does not open says why (reason "replay", "limit",
// "no_session", "crypto", "malformed"), so that the core can tell a replay
// from a session that cannot go on, and reset() drops a peer's sessions
// (CRYPTO.md, "Undecryptable messages"). Skipped keys past their age go
// before each decryption.
//
// It talks to the server only through the ask(frame) function it is given
// (prekeys.get; programme.get through trust.js). Its state is a plain object (toJSON /
// E2E.fromJSON): it holds secrets, and the page keeps it in memory or
// sealed. Anything that changes the state calls onChange() before the
// caller sends anything that depends on it.

import sodium from 'libsodium-wrappers-sumo';
import { OfframpError, ERR } from './proto/err.js';
import { ascii, be64Put, be64Get, bytesEqual, concat, wipe } from './proto/bytes.js';
import { b64Decode, b64Encode, OFR_CT_MAX } from './proto/frame.js';
import { ocryptoSeedKeypair } from './proto/ocrypto.js';
import { Trust } from './trust.js';
import { safetyNumber } from './proto/safety.js';
import { pad, unpad, PAD_OVERHEAD_MAX, PAD_PLAINTEXT_MAX, PAD_WIRE_LONG } from './proto/pad.js';
import {
	x3dhBundleEncode, x3dhBundleVerify, x3dhInitiate, x3dhKeypair, x3dhRespond, x3dhSpkSign,
	X3DH_BUNDLE_MAX_BYTES, X3DH_OPK_MAX,
} from './proto/x3dh.js';
import {
	ratchetDecrypt, ratchetEncrypt, ratchetExpire, ratchetInitInitiator, ratchetInitResponder, ratchetMsgParse,
	ratchetMsgUsed, ratchetNew, ratchetStateLoad, ratchetStateSave, ratchetX3dhInit, RATCHET_STATE_MAX_BYTES,
} from './proto/ratchet.js';

export const STATE_VERSION = 1;
export const OPK_TARGET = 30;		// one-time prekeys kept on the server
export const SPK_MAX_AGE = 7 * 86400;	// rotate the signed prekey after
export const SPK_KEEP = 3;		// the current signed prekey + 2 old
export const OPK_MAX = 1000;		// one-time prekey secrets kept
export const SESSIONS_MAX = 256;
export const SESSIONS_PEER = 4;
export const PINS_MAX = 64;
export const SEEN_MAX = 4096;
export const SEEN_PEER = 64;
export const CONTACTS_MAX = 4096;
/** A case's participants at most (PROTOCOL.md, "Co-counselling"). */
export const PARTICIPANTS_MAX = 8;
/* Safety numbers kept (E2E.safety): every other participant of as many
 * cases as the core keeps (core.js, CASES_MAX), about 100 bytes each. The
 * page asks for every case's numbers at each change of any case: fewer
 * kept, and a server that lists more cases of distinct keys made the page
 * compute them all again at each event (7 ms each: 16 s to load 100
 * cases, a 0.55 s pause at each push after). */
export const SAFETY_KEPT = 1000 * (PARTICIPANTS_MAX - 1);
// v2 notes are padded like messages, to 1024 or 16282 bytes stored (notes of
// the old buckets still read); v1 notes (before padding) are only read
export const NOTE_KEY_CONTEXT = 'offramp-case-note-key-v2';
export const NOTE_KEY_CONTEXT_V1 = 'offramp-case-note-key-v1';
const NOTE_CASE_BYTES = 8;
const NOTE_OVERHEAD = 24 + 16;
export const NOTE_TEXT_MAX = PAD_PLAINTEXT_MAX - NOTE_CASE_BYTES;
if (NOTE_OVERHEAD > PAD_OVERHEAD_MAX) throw new Error("a note's overhead is over pad.js's");
if (PAD_WIRE_LONG > OFR_CT_MAX) throw new Error('the largest padded note is over OFR_CT_MAX');

const ROLES = new Set(['client', 'counsellor']);
/* what a counsellor in a case other than its own counsellor is there as
 * (PROTOCOL.md, "Co-counselling", "Referrals"): nothing else */
const COLLEAGUE_AS = new Set(['supervisor', 'co-counsellor', 'language-helper', 'referral']);

/** An OfframpError with a reason for people ("uncertified", "stranger"...). */
export function refusal(code, reason, detail) {
	const e = new OfframpError(code, detail || reason);
	e.reason = reason;
	return e;
}

const b64 = (b) => b64Encode(b);
const unb64 = (s, n, field) => b64Decode(s, n, n, field);

/** The key (32 bytes) of a participant object, or null. */
export function participantKey(p) {
	try {
		return unb64(p?.key, 32, 'key');
	} catch {
		return null;
	}
}

/** The role of a participant object ('client'|'counsellor'), or null. */
export function participantRole(p) {
	return ROLES.has(p?.role) ? p.role : null;
}

function isSafeId(v) {
	return Number.isSafeInteger(v) && v >= 0;
}

/** The end-to-end state of one identity. */
export class E2E {
	/**
	 * @param {object} o
	 * @param {Uint8Array} [o.seed]  the identity's 32-byte seed (new when absent)
	 * @param {Trust} [o.trust]  the programme keys trusted (trust.js)
	 * @param {() => number} [o.now]  seconds
	 * @param {() => void} [o.onChange]  the state changed
	 */
	constructor(o = {}) {
		const seed = o.seed || sodium.randombytes_buf(32);
		const kp = ocryptoSeedKeypair(seed);
		this.seed = seed;
		this.pk = kp.publicKey;
		this.sk = kp.privateKey;
		this.now = o.now || (() => Math.floor(Date.now() / 1000));
		this.trust = o.trust || new Trust({ now: this.now });
		this.onChange = o.onChange || (() => {});
		// Prekey ids start at random: an identity restored from its seed
		// alone (a recovery code) must not upload ids the server holds
		// already from before (it refuses them: bad_field).
		this.spk = [];		// [{id, pk, sk, created}], newest first
		this.nextSpkId = sodium.randombytes_uniform(0x7fffffff);
		this.opk = [];		// [{id, sk}], oldest first; random ids
		this.nextOpkId = sodium.randombytes_uniform(0x7fffffff);	// kept in the state; unused
		this.sessions = [];	// [{peer, r, used}]
		this.useCounter = 0;
		this.seen = [];		// [{spkId, ek, peer}]
		this.contacts = [];	// [{caseId, role, key, verified}]
	}

	/** The public key, base64. */
	get key() {
		return b64(this.pk);
	}

	changed() {
		this.onChange();
	}

	// --- state ---

	/** The whole state as a JSON-able object (secrets included). */
	toJSON() {
		return {
			v: STATE_VERSION,
			seed: b64(this.seed),
			spk: this.spk.map((s) => ({ id: s.id, pk: b64(s.pk), sk: b64(s.sk), created: s.created })),
			nextSpkId: this.nextSpkId,
			opk: this.opk.map((o) => ({ id: o.id, sk: b64(o.sk) })),
			nextOpkId: this.nextOpkId,
			sessions: this.sessions.map((s) => ({ peer: b64(s.peer), state: b64(ratchetStateSave(s.r)), used: s.used })),
			useCounter: this.useCounter,
			seen: this.seen.map((s) => ({ spkId: s.spkId, ek: b64(s.ek), peer: b64(s.peer) })),
			pins: [],	// programme keys pinned on first use, before trust.js: no more
			contacts: this.contacts.map((c) => ({ caseId: c.caseId, role: c.role, key: b64(c.key), verified: c.verified })),
		};
	}

	/**
	 * The state of toJSON() back; throws "bad_field" on anything malformed
	 * or over the bounds. Trust, clock and onChange as for new. Programme
	 * keys pinned on first use by older versions are read and dropped:
	 * only trust.js decides which programme keys count.
	 */
	static fromJSON(j, o = {}) {
		const bad = (what) => new OfframpError(ERR.BAD_FIELD, `state: ${what}`, 'state');
		const arr = (a, max, what) => {
			if (!Array.isArray(a) || a.length > max) throw bad(what);
			return a;
		};
		const int = (v, what) => {
			if (!isSafeId(v)) throw bad(what);
			return v;
		};
		if (!j || j.v !== STATE_VERSION) throw bad('version');
		const e = new E2E({ ...o, seed: unb64(j.seed, 32, 'seed') });
		e.spk = arr(j.spk, SPK_KEEP, 'spk').map((s) => {
			const x = { id: int(s.id, 'spk'), pk: unb64(s.pk, 32, 'spk'), sk: unb64(s.sk, 32, 'spk'), created: int(s.created, 'spk') };
			if (!bytesEqual(sodium.crypto_scalarmult_base(x.sk), x.pk)) throw bad('spk pair');
			return x;
		});
		e.nextSpkId = int(j.nextSpkId, 'nextSpkId');
		e.opk = arr(j.opk, OPK_MAX, 'opk').map((x) => ({ id: int(x.id, 'opk'), sk: unb64(x.sk, 32, 'opk') }));
		e.nextOpkId = int(j.nextOpkId, 'nextOpkId');
		e.sessions = arr(j.sessions, SESSIONS_MAX, 'sessions').map((s) => ({
			peer: unb64(s.peer, 32, 'peer'),
			r: ratchetStateLoad(b64Decode(s.state, 0, RATCHET_STATE_MAX_BYTES, 'state'), e.now()),
			used: int(s.used, 'used'),
		}));
		e.useCounter = int(j.useCounter, 'useCounter');
		e.seen = arr(j.seen, SEEN_MAX, 'seen').map((s) => ({ spkId: int(s.spkId, 'seen'), ek: unb64(s.ek, 32, 'seen'), peer: unb64(s.peer, 32, 'seen') }));
		for (const p of arr(j.pins, PINS_MAX, 'pins')) {
			int(p.programme, 'pin');
			unb64(p.key, 32, 'pin');
		}
		e.contacts = arr(j.contacts, CONTACTS_MAX, 'contacts').map((c) => {
			if (!ROLES.has(c.role) || typeof c.verified !== 'boolean') throw bad('contact');
			return { caseId: int(c.caseId, 'contact'), role: c.role, key: unb64(c.key, 32, 'contact'), verified: c.verified };
		});
		return e;
	}

	// --- prekeys ---

	/** true when there is no signed prekey, or it is due for rotation. */
	needsRotation() {
		const t = this.now();
		return this.spk.length === 0 || t - this.spk[0].created > SPK_MAX_AGE || t < this.spk[0].created;
	}

	/** A new current signed prekey; the oldest past SPK_KEEP goes, and with
	 * it the records of the first messages made to it. */
	spkRotate() {
		if (this.spk.length === SPK_KEEP) wipe(this.spk.pop().sk);
		const kp = x3dhKeypair();
		this.nextSpkId = (this.nextSpkId + 1) >>> 0 || 1;
		this.spk.unshift({ id: this.nextSpkId, pk: kp.pk, sk: kp.sk, created: this.now() });
		const ids = new Set(this.spk.map((s) => s.id));
		this.seen = this.seen.filter((s) => ids.has(s.spkId));
		this.changed();
	}

	/** How many one-time prekeys a prekeys.low push asks for. */
	static wanted(push) {
		const have = Number.isSafeInteger(push?.one_time) && push.one_time > 0 ? push.one_time : 0;
		return have >= OPK_TARGET ? 0 : OPK_TARGET - have;
	}

	/**
	 * A random one-time prekey id (PRIVACY.md: a peer given one learns
	 * nothing of how many the account used), never 0 and never one whose
	 * secret is kept (the server refuses an id it holds: bad_field).
	 * @returns {number}
	 */
	opkNewId() {
		for (;;) {
			const id = sodium.randombytes_random() >>> 0;
			if (id !== 0 && !this.opk.some((o) => o.id === id)) return id;
		}
	}

	/**
	 * A bundle with n new one-time prekeys and the current signed prekey
	 * (made first when there is none); their secrets are kept (the oldest
	 * go past OPK_MAX). The state changed: onChange() has run.
	 * @returns {Uint8Array}
	 */
	makeBundle(n) {
		if (this.spk.length === 0) this.spkRotate();
		const s = this.spk[0];
		const b = { ik: this.pk, spkId: s.id, spk: s.pk, spkSig: x3dhSpkSign(this.sk, s.id, s.pk), opk: [] };
		for (let i = 0; i < n && i < X3DH_OPK_MAX; i++) {
			const id = this.opkNewId();	// not the one evicted next
			if (this.opk.length === OPK_MAX) wipe(this.opk.shift().sk);
			const kp = x3dhKeypair();
			this.opk.push({ id, sk: kp.sk });
			b.opk.push({ id, pk: kp.pk });
		}
		const out = x3dhBundleEncode(b);
		this.changed();
		return out;
	}

	// --- keys seen per case ---

	contactOf(caseId, role) {
		return this.contacts.find((c) => c.caseId === caseId && c.role === role) || null;
	}

	/** true when p is a colleague brought into a case (PROTOCOL.md,
	 * "Co-counselling"): one of several counsellors, vouched for by its
	 * certificate, not by a key pinned for its role. */
	static isColleague(p) {
		return p?.role === 'counsellor' && COLLEAGUE_AS.has(p?.as);
	}

	/**
	 * Checks the other participants of case kase against the keys first
	 * seen (or last verified) for their role in that case, recording new
	 * ones. Returns the participant objects whose key changed.
	 */
	checkCase(kase) {
		const out = [];
		let dirty = false;
		for (const p of Array.isArray(kase?.participants) ? kase.participants : []) {
			const key = participantKey(p), role = participantRole(p);
			if (!key || !role || bytesEqual(key, this.pk) || E2E.isColleague(p)) continue;
			const c = this.contactOf(kase.id, role);
			if (!c) {
				if (this.contacts.length >= CONTACTS_MAX) this.contacts.shift();
				this.contacts.push({ caseId: kase.id, role, key, verified: false });
				dirty = true;
			} else if (!bytesEqual(c.key, key)) {
				out.push(p);
			}
		}
		if (dirty) this.changed();
		return out;
	}

	/** true when participant p of kase has another key than the one recorded for its role. */
	keyChanged(kase, p) {
		const key = participantKey(p), role = participantRole(p);
		if (!key || !role || E2E.isColleague(p) || p?.left !== undefined) return false;
		const c = this.contactOf(kase.id, role);
		return c !== null && !bytesEqual(c.key, key);
	}

	/** true when p's current key is the one verify() accepted. */
	isVerified(kase, p) {
		const key = participantKey(p), role = participantRole(p);
		const c = role ? this.contactOf(kase.id, role) : null;
		return Boolean(c && c.verified && key && bytesEqual(c.key, key));
	}

	/** Forgets the keys of role in case caseId: the client asked for a new
	 * counsellor (reassign); the next one is first seen, not a changed key. */
	forgetRole(caseId, role) {
		const n = this.contacts.length;
		this.contacts = this.contacts.filter((c) => !(c.caseId === caseId && c.role === role));
		if (this.contacts.length !== n) this.changed();
	}

	/** Forgets everything recorded of a case (it is gone). */
	forgetCase(caseId) {
		const n = this.contacts.length;
		this.contacts = this.contacts.filter((c) => c.caseId !== caseId);
		if (this.contacts.length !== n) this.changed();
	}

	/**
	 * Accepts the current keys of the other participants of kase (only the
	 * one with key b64, when given), as `offramp verify`. Returns the
	 * participant objects verified.
	 */
	verify(kase, key) {
		this.checkCase(kase);
		const done = [];
		for (const p of kase.participants || []) {
			const pk = participantKey(p), role = participantRole(p);
			// a colleague has no key recorded (checkCase): its certificate
			// is what it is held to; its number never stands in for the
			// case's counsellor's
			if (!pk || !role || bytesEqual(pk, this.pk) || (key && p.key !== key) || E2E.isColleague(p)) continue;
			const c = this.contactOf(kase.id, role);
			if (!c) continue;
			c.key = pk;
			c.verified = true;
			done.push(p);
		}
		if (done.length) this.changed();
		return done;
	}

	/** The safety number of this identity and peer key (base64 or
	 * bytes). Each costs 2 x 5,201 hashes (7 ms): the last SAFETY_KEPT
	 * are kept, as the page asks for them at every change of a case. */
	safety(peer) {
		const key = typeof peer === 'string' ? peer : b64Encode(peer);
		this.numbers ||= new Map();
		let n = this.numbers.get(key);
		if (n === undefined) {
			n = safetyNumber(this.pk, typeof peer === 'string' ? unb64(peer, 32, 'key') : peer);
			if (this.numbers.size >= SAFETY_KEPT) this.numbers.delete(this.numbers.keys().next().value);
		} else {
			this.numbers.delete(key);
		}
		this.numbers.set(key, n);
		return n;
	}

	// --- certificates ---

	/**
	 * Checks a counsellor's certificate (base64 or null) for key and
	 * programme, now, with trust.js (want: the programme asked for, or
	 * null). Resolves, or throws "crypto" with a reason ("uncertified",
	 * "untrusted_programme", "wrong_programme", "revoked",
	 * "no_programme_key"); errors of ask (timeout, connection) pass
	 * through: then nothing was decided.
	 */
	async checkCert(key, certB64, programme, ask, want = null) {
		await this.trust.checkCert(key, certB64, programme, want, ask);
	}

	/** checkCert of a counsellor participant object (asked_programme: the
	 * programme the user asked for, set by core.js). */
	async checkCounsellor(p, ask) {
		const key = participantKey(p);
		if (!key) throw new OfframpError(ERR.BAD_FIELD, 'a participant without a key', 'key');
		return this.checkCert(key, p.cert, p.programme, ask, isSafeId(p.asked_programme) ? p.asked_programme : null);
	}

	// --- sessions ---

	sessionBest(peer) {
		let best = null;
		for (const s of this.sessions)
			if (bytesEqual(s.peer, peer) && (best === null || s.used > best.used)) best = s;
		return best;
	}

	sessionAdd(peer, r) {
		const mine = this.sessions.filter((s) => bytesEqual(s.peer, peer));
		const lru = (list) => list.reduce((a, b) => (b.used < a.used ? b : a));
		if (mine.length >= SESSIONS_PEER) this.sessions.splice(this.sessions.indexOf(lru(mine)), 1);
		else if (this.sessions.length >= SESSIONS_MAX) this.sessions.splice(this.sessions.indexOf(lru(this.sessions)), 1);
		const s = { peer: peer.slice(), r, used: ++this.useCounter };
		this.sessions.push(s);
		return s;
	}

	/** Starts a session with peer p over its prekeys (prekeys.get); a
	 * counsellor's certificate (from the answer) is checked first. */
	async sessionStart(p, peer, counsellor, ask) {
		const a = await ask({ type: 'prekeys.get', key: p.key });
		if (counsellor) await this.checkCert(peer, a.cert, a.programme, ask, isSafeId(p.asked_programme) ? p.asked_programme : null);
		let b;
		try {
			b = x3dhBundleVerify(b64Decode(a.bundle, 0, X3DH_BUNDLE_MAX_BYTES, 'bundle'), peer);
		} catch {
			throw refusal(ERR.CRYPTO, 'bad_bundle', 'the prekey bundle does not verify');
		}
		// another call may have made one meanwhile
		const have = this.sessionBest(peer);
		if (have) return have;
		const x = x3dhInitiate(this.sk, b);
		const r = ratchetNew();
		try {
			ratchetInitInitiator(r, x.sk, x.ad, b.spk, x.init);
		} finally {
			wipe(x.sk);
		}
		const s = this.sessionAdd(peer, r);
		this.changed();
		return s;
	}

	/**
	 * Encrypts text (bytes) for participant p of a case with the session of
	 * its key, starting one when there is none (a counsellor's certificate
	 * checked first, every time, as e2e_seal). Returns the copy {to, ct}.
	 * onChange() has run: the sessions moved on.
	 */
	async seal(p, text, ask) {
		const peer = participantKey(p);
		if (!peer) throw new OfframpError(ERR.BAD_FIELD, 'a participant without a key', 'key');
		const counsellor = participantRole(p) === 'counsellor';
		if (counsellor) await this.checkCounsellor(p, ask);
		const s = this.sessionBest(peer) || await this.sessionStart(p, peer, counsellor, ask);
		const ct = ratchetEncrypt(s.r, text);
		this.changed();
		return { to: p.key, ct: b64(ct) };
	}

	spkFind(id) {
		return this.spk.find((s) => s.id === id) || null;
	}

	seenFind(spkId, ek) {
		return this.seen.find((s) => s.spkId === spkId && bytesEqual(s.ek, ek)) || null;
	}

	seenAdd(spkId, ek, peer) {
		if (this.seenFind(spkId, ek)) return;
		const mine = this.seen.filter((s) => bytesEqual(s.peer, peer));
		if (mine.length >= SEEN_PEER) this.seen.splice(this.seen.indexOf(mine[0]), 1);
		else if (this.seen.length >= SEEN_MAX) this.seen.shift();
		this.seen.push({ spkId, ek: ek.slice(), peer: peer.slice() });
	}

	// a new responder session from the X3DH fields of m; the plaintext
	respond(m, from, msg) {
		if (this.seenFind(m.init.spkId, m.init.ek)) throw refusal(ERR.CRYPTO, 'replay', 'replayed first message');
		const spk = this.spkFind(m.init.spkId);
		const oi = m.init.hasOpk ? this.opk.findIndex((o) => o.id === m.init.opkId) : -1;
		if (!spk || (m.init.hasOpk && oi < 0)) throw refusal(ERR.CRYPTO, 'no_session', 'no such prekey');
		const x = x3dhRespond(m.init, this.sk, spk.sk, oi >= 0 ? this.opk[oi].sk : null);
		const r = ratchetNew();
		let pt;
		try {
			ratchetInitResponder(r, x.sk, x.ad, m.init, spk.pk, spk.sk);
			pt = ratchetDecrypt(r, msg, this.now());
		} catch (e) {
			throw e.code === ERR.LIMIT ? refusal(ERR.LIMIT, 'limit', 'too many skipped') : refusal(ERR.CRYPTO, 'crypto', 'does not decrypt');
		} finally {
			wipe(x.sk);
		}
		// remembered with the session: never one without the other
		this.seenAdd(m.init.spkId, m.init.ek, from);
		this.sessionAdd(from, r);
		if (oi >= 0) wipe(this.opk.splice(oi, 1)[0].sk);	// used once: gone for good
		return pt;
	}

	/**
	 * Decrypts a message (bytes) from key from (bytes): with a session of
	 * that peer, or as the responder of a new one. Returns the plaintext
	 * bytes; throws "crypto" or "limit" with a reason: "replay" (a replayed
	 * first message, or a key used already), "limit" (too many skipped),
	 * "no_session", "crypto" (does not decrypt in the peer's sessions) or
	 * "malformed". onChange() has run on success.
	 */
	open(from, msg) {
		let m;
		try {
			m = ratchetMsgParse(msg);
		} catch {
			throw refusal(ERR.CRYPTO, 'malformed', 'malformed message');
		}
		if (m.hasInit && !bytesEqual(m.init.ik, from)) throw refusal(ERR.CRYPTO, 'malformed', 'X3DH fields of another sender');
		const tried = new Set();
		let limit = false;
		const now = this.now();
		const attempt = (s) => {
			tried.add(s);
			try {
				ratchetExpire(s.r, now);
				const pt = ratchetDecrypt(s.r, msg, now);
				s.used = ++this.useCounter;
				return pt;
			} catch (e) {
				if (e.code === ERR.LIMIT) limit = true;
				return null;
			}
		};
		let pt = null;
		if (m.hasInit) {
			for (const s of this.sessions) {
				if (!bytesEqual(s.peer, from)) continue;
				const init = ratchetX3dhInit(s.r);
				if (!bytesEqual(init.ik, from) || !bytesEqual(init.ek, m.init.ek)) continue;
				if ((pt = attempt(s)) !== null) break;
			}
			if (pt === null && tried.size === 0) pt = this.respond(m, from, msg);
		} else {
			for (;;) {
				let best = null;
				for (const s of this.sessions)
					if (!tried.has(s) && bytesEqual(s.peer, from) && (best === null || s.used > best.used)) best = s;
				if (best === null) break;
				if ((pt = attempt(best)) !== null) break;
			}
		}
		if (pt === null) {
			this.changed();	// expired keys went
			if (tried.size === 0) throw refusal(ERR.CRYPTO, 'no_session', 'no session');
			for (const s of tried) if (ratchetMsgUsed(s.r, msg)) throw refusal(ERR.CRYPTO, 'replay', 'a key used already');
			throw limit ? refusal(ERR.LIMIT, 'limit', 'too many skipped') : refusal(ERR.CRYPTO, 'crypto', 'does not decrypt');
		}
		this.changed();
		return pt;
	}

	/** Drops every session with peer (bytes): the next message to it
	 * starts a new one. */
	reset(peer) {
		const before = this.sessions.length;
		this.sessions = this.sessions.filter((s) => !bytesEqual(s.peer, peer));
		if (this.sessions.length !== before) this.changed();
	}

	/** Drops every session with peer but the most recently successful. */
	keepLatest(peer) {
		const best = this.sessionBest(peer);
		if (!best) return;
		const before = this.sessions.length;
		this.sessions = this.sessions.filter((s) => s === best || !bytesEqual(s.peer, peer));
		if (this.sessions.length !== before) this.changed();
	}

	/** true when msg is a first message whose (spk_id, EKa) was answered already. */
	isAnsweredFirst(msg) {
		try {
			const m = ratchetMsgParse(msg);
			return m.hasInit && this.seenFind(m.init.spkId, m.init.ek) !== null;
		} catch {
			return false;
		}
	}

	/** true when msg parses as a first message (X3DH fields). */
	static isFirst(msg) {
		try {
			return ratchetMsgParse(msg).hasInit;
		} catch {
			return false;
		}
	}

	// --- notes (caseload.c) ---

	noteKey(context = NOTE_KEY_CONTEXT) {
		return sodium.crypto_generichash(32, ascii(context), this.sk);
	}

	/** A note of case caseId encrypted to this identity: base64 of
	 * nonce || secretbox(pad(case id (i64 BE) || text)). Throws "too_big". */
	noteSeal(caseId, text) {
		if (text.length === 0 || text.length > NOTE_TEXT_MAX) throw new OfframpError(ERR.TOO_BIG, 'note size');
		const plain = new Uint8Array(NOTE_CASE_BYTES + text.length);
		be64Put(plain, 0, caseId);
		plain.set(text, NOTE_CASE_BYTES);
		const padded = pad(plain, NOTE_OVERHEAD);
		const key = this.noteKey();
		const nonce = sodium.randombytes_buf(24);
		const ct = concat(nonce, sodium.crypto_secretbox_easy(padded, nonce, key));
		wipe(key, plain, padded);
		return b64(ct);
	}

	/** The text (bytes) of a note of case caseId, or null when it does not
	 * open with this identity or belongs to another case. A note that opens
	 * with the v2 key must be padded; one that opens with the v1 key (before
	 * padding) is not. */
	noteOpen(caseId, ctB64) {
		let ct, plain = null, len;
		const key = this.noteKey(), key1 = this.noteKey(NOTE_KEY_CONTEXT_V1);
		const open = (k) => {
			try {
				return sodium.crypto_secretbox_open_easy(ct.subarray(24), ct.subarray(0, 24), k);
			} catch {
				return null;
			}
		};
		try {
			ct = b64Decode(ctB64, NOTE_OVERHEAD + NOTE_CASE_BYTES, OFR_CT_MAX, 'ct');
			if ((plain = open(key)) !== null) len = unpad(plain, NOTE_OVERHEAD);
			else if ((plain = open(key1)) !== null) len = plain.length;
			else return null;
		} catch {
			return null;
		} finally {
			wipe(key, key1);
		}
		if (len < NOTE_CASE_BYTES || be64Get(plain, 0) !== BigInt(caseId)) return null;
		return plain.slice(NOTE_CASE_BYTES, len);
	}
}
