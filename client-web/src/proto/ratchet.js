// ratchet.js: mirror of proto/ratchet.c: the Double Ratchet of the
// end-to-end sessions, its message wire format (version 2: random nonce)
// and its saved-state format (CRYPTO.md, "Double Ratchet", "Wire format",
// "Session state"). Decryption works on a copy of the session's keys and
// stages new skipped keys; only a message that authenticates and unpads
// commits, so a forged, damaged, replayed or foreign message changes
// nothing. Every message's nonce is fresh from csprngBuf.

import sodium from 'libsodium-wrappers-sumo';
import { OfframpError, ERR } from './err.js';
import { ascii, be32Get, be32Put, be64Get, be64Put, bytesEqual, concat, wipe } from './bytes.js';
import { csprngBuf } from './csprng.js';
import { hkdf } from './hkdf.js';
import { pad, padSize, unpad, PAD_OLD_MIN_BYTES, PAD_OVERHEAD_MAX, PAD_PLAINTEXT_MAX, PAD_WIRE_LONG, PAD_WIRE_SHORT } from './pad.js';
import { x3dhKeypair, X3DH_AD_BYTES } from './x3dh.js';

export const RATCHET_VERSION = 2;
export const RATCHET_RK_INFO = 'offramp-ratchet-v1';
export const RATCHET_MSG_INFO = 'offramp-msg-v1';
export const RATCHET_KEY_BYTES = 32;
export const RATCHET_FLAG_INIT = 0x01;
export const RATCHET_FLAG_OPK = 0x02;
export const RATCHET_HDR_BYTES = 42;
export const RATCHET_INIT_BYTES = 72;
export const RATCHET_NONCE_BYTES = 24;
export const RATCHET_TAG_BYTES = 16;
export const RATCHET_OVERHEAD_MAX = RATCHET_HDR_BYTES + RATCHET_INIT_BYTES + RATCHET_NONCE_BYTES + RATCHET_TAG_BYTES;	// 154
export const RATCHET_OVERHEAD_MIN = RATCHET_HDR_BYTES + RATCHET_NONCE_BYTES + RATCHET_TAG_BYTES;	// 82
// every message is one of two sizes (pad.js)
export const RATCHET_MSG_SHORT = PAD_WIRE_SHORT;	// 1024
export const RATCHET_MSG_MAX = PAD_WIRE_LONG;		// 16282
export const RATCHET_PT_MAX = RATCHET_MSG_MAX - RATCHET_OVERHEAD_MIN;	// 16200
if (RATCHET_OVERHEAD_MAX !== PAD_OVERHEAD_MAX) throw new Error("pad.js's largest overhead is not a first message's");
export const RATCHET_MAX_SKIP = 1000;
export const RATCHET_SKIPPED_MAX = 2000;
export const RATCHET_SKIPPED_STEPS = 5;		// DH steps a skipped key outlives
export const RATCHET_SKIPPED_TTL = 7 * 86400;	// seconds a skipped key lives
export const RATCHET_STATE_VERSION = 2;		// 1 still loads
export const RATCHET_SKIPPED_ENTRY_BYTES = 80;	// dh, N, step, time stored, mk
export const RATCHET_STATE_FIXED_BYTES = 350;
export const RATCHET_SKIPPED_V1_ENTRY_BYTES = 68;
export const RATCHET_STATE_V1_FIXED_BYTES = 346;
export const RATCHET_STATE_MAX_BYTES = RATCHET_STATE_FIXED_BYTES + RATCHET_SKIPPED_MAX * RATCHET_SKIPPED_ENTRY_BYTES;

const F_HAS_DHR = 0x01, F_HAS_CKS = 0x02, F_HAS_CKR = 0x04;
const F_SEND_INIT = 0x08, F_INITIATOR = 0x10, F_INIT_OPK = 0x20, F_ALL = 0x3f;
const U32_MAX = 0xffffffff;
const RK_INFO = ascii(RATCHET_RK_INFO), MSG_INFO = ascii(RATCHET_MSG_INFO);

function zeroInit() {
	return { ik: new Uint8Array(32), ek: new Uint8Array(32), spkId: 0, hasOpk: false, opkId: 0 };
}

function copyInit(i) {
	return { ik: i.ik.slice(), ek: i.ek.slice(), spkId: i.spkId, hasOpk: Boolean(i.hasOpk), opkId: i.hasOpk ? i.opkId : 0 };
}

function zeroCore() {
	const z = () => new Uint8Array(32);
	return {
		rk: z(), cks: z(), ckr: z(), dhsSk: z(), dhsPk: z(), dhr: z(),
		ad: new Uint8Array(X3DH_AD_BYTES), init: zeroInit(), ns: 0, nr: 0, pn: 0, steps: 0, flags: 0,
	};
}

function copyCore(c) {
	return {
		rk: c.rk.slice(), cks: c.cks.slice(), ckr: c.ckr.slice(), dhsSk: c.dhsSk.slice(),
		dhsPk: c.dhsPk.slice(), dhr: c.dhr.slice(), ad: c.ad.slice(), init: copyInit(c.init),
		ns: c.ns, nr: c.nr, pn: c.pn, steps: c.steps, flags: c.flags,
	};
}

function wipeCore(c) {
	wipe(c.rk, c.cks, c.ckr, c.dhsSk);
}

/** A session: opaque to callers; one per peer session. */
export class Ratchet {
	constructor() {
		this.c = zeroCore();
		this.skipped = [];	// [{dh, n, step, at, mk}]
	}
}

/** A zeroed session. */
export function ratchetNew() {
	return new Ratchet();
}

/** Wipes r's keys (best effort). */
export function ratchetFree(r) {
	if (!r) return;
	wipeCore(r.c);
	for (const s of r.skipped) wipe(s.mk);
	r.skipped = [];
}

// KDF_RK: (rk, ck) = HKDF(salt rk, ikm DH(dhsSk, dhr), RK_INFO, 64).
function kdfRk(rk, dhsSk, dhr) {
	let d;
	try {
		d = sodium.crypto_scalarmult(dhsSk, dhr);
	} catch {
		throw new OfframpError(ERR.CRYPTO, 'bad DH');
	}
	const out = hkdf(64, rk, d, RK_INFO);
	wipe(d);
	const r = { rk: out.slice(0, 32), ck: out.slice(32) };
	wipe(out);
	return r;
}

// KDF_CK: mk = HMAC(ck, 0x01); next ck = HMAC(ck, 0x02).
function kdfCk(ck) {
	return {
		mk: sodium.crypto_auth_hmacsha256(Uint8Array.of(1), ck),
		ck: sodium.crypto_auth_hmacsha256(Uint8Array.of(2), ck),
	};
}

function messageKey(mk) {
	return hkdf(32, null, mk, MSG_INFO);
}

/** Initiator (after x3dhInitiate): generates the first ratchet pair. Throws "crypto". */
export function ratchetInitInitiator(r, sk, ad, theirSpk, init) {
	const c = zeroCore();
	c.rk = sk.slice();
	c.ad = ad.slice();
	c.init = copyInit(init);
	const kp = x3dhKeypair();
	c.dhsPk = kp.pk;
	c.dhsSk = kp.sk;
	c.dhr = theirSpk.slice();
	const k = kdfRk(c.rk, c.dhsSk, c.dhr);
	c.rk = k.rk;
	c.cks = k.ck;
	c.flags = F_HAS_DHR | F_HAS_CKS | F_SEND_INIT | F_INITIATOR;
	r.c = c;
	r.skipped = [];
}

/** Responder (after x3dhRespond): the signed prekey pair is its first
 * ratchet pair; it sends only after a decrypt. Throws "crypto" when spkPk
 * is not spkSk's. */
export function ratchetInitResponder(r, sk, ad, init, spkPk, spkSk) {
	if (!bytesEqual(sodium.crypto_scalarmult_base(spkSk), spkPk))
		throw new OfframpError(ERR.CRYPTO, 'spk pair');
	const c = zeroCore();
	c.rk = sk.slice();
	c.ad = ad.slice();
	c.init = copyInit(init);
	c.dhsPk = spkPk.slice();
	c.dhsSk = spkSk.slice();
	r.c = c;
	r.skipped = [];
}

/** The X3DH fields the session began with (a copy). */
export function ratchetX3dhInit(r) {
	return copyInit(r.c.init);
}

/** true while the initiator still sends the X3DH fields. */
export function ratchetSendsInit(r) {
	return (r.c.flags & F_SEND_INIT) !== 0;
}

/** Skipped message keys stored now. */
export function ratchetSkippedCount(r) {
	return r.skipped.length;
}

function headerWrite(c) {
	const init = (c.flags & F_SEND_INIT) !== 0;
	const h = new Uint8Array(RATCHET_HDR_BYTES + (init ? RATCHET_INIT_BYTES : 0));
	h[0] = RATCHET_VERSION;
	h[1] = init ? RATCHET_FLAG_INIT | (c.init.hasOpk ? RATCHET_FLAG_OPK : 0) : 0;
	h.set(c.dhsPk, 2);
	be32Put(h, 34, c.pn);
	be32Put(h, 38, c.ns);
	if (init) {
		h.set(c.init.ik, 42);
		h.set(c.init.ek, 74);
		be32Put(h, 106, c.init.spkId);
		be32Put(h, 110, c.init.hasOpk ? c.init.opkId : 0);
	}
	return h;
}

/**
 * Parses a message without decrypting: {flags, dh, pn, n, hasInit, init,
 * hdrLen, nonce, ct}. Throws "bad_field" when malformed or of another
 * version.
 */
export function ratchetMsgParse(msg) {
	const bad = () => new OfframpError(ERR.BAD_FIELD, 'message');
	if (!(msg instanceof Uint8Array) || msg.length < RATCHET_HDR_BYTES || msg[0] !== RATCHET_VERSION)
		throw bad();
	const flags = msg[1];
	if ((flags & ~(RATCHET_FLAG_INIT | RATCHET_FLAG_OPK)) !== 0 ||
	    (flags & (RATCHET_FLAG_INIT | RATCHET_FLAG_OPK)) === RATCHET_FLAG_OPK)
		throw bad();
	const m = {
		flags, dh: msg.slice(2, 34), pn: be32Get(msg, 34), n: be32Get(msg, 38),
		hasInit: false, init: null, hdrLen: RATCHET_HDR_BYTES, nonce: null, ct: null,
	};
	if (flags & RATCHET_FLAG_INIT) {
		if (msg.length < RATCHET_HDR_BYTES + RATCHET_INIT_BYTES) throw bad();
		m.hasInit = true;
		m.init = {
			ik: msg.slice(42, 74), ek: msg.slice(74, 106), spkId: be32Get(msg, 106),
			opkId: be32Get(msg, 110), hasOpk: (flags & RATCHET_FLAG_OPK) !== 0,
		};
		if (!m.init.hasOpk && m.init.opkId !== 0) throw bad();
		m.hdrLen += RATCHET_INIT_BYTES;
	}
	if (msg.length - m.hdrLen < RATCHET_NONCE_BYTES) throw bad();
	const ctLen = msg.length - m.hdrLen - RATCHET_NONCE_BYTES;
	// a padded plaintext plus the tag: at least the smallest old bucket, at
	// most a long message in all (unpad checks the exact size)
	if (ctLen < RATCHET_TAG_BYTES || ctLen - RATCHET_TAG_BYTES < PAD_OLD_MIN_BYTES ||
	    msg.length > RATCHET_MSG_MAX)
		throw bad();
	m.nonce = msg.subarray(m.hdrLen, m.hdrLen + RATCHET_NONCE_BYTES);
	m.ct = msg.subarray(m.hdrLen + RATCHET_NONCE_BYTES);
	return m;
}

// The bytes a message adds around its padded plaintext: header, X3DH fields
// when init, nonce, tag.
function overhead(init) {
	return init ? RATCHET_OVERHEAD_MAX : RATCHET_OVERHEAD_MIN;
}

/** The size of the message ratchetEncrypt would make of len bytes now
 * (RATCHET_MSG_SHORT or RATCHET_MSG_MAX), or 0. */
export function ratchetEncryptSize(r, len) {
	const over = overhead(r.c.flags & F_SEND_INIT);
	const n = padSize(len, over);
	return n === 0 ? 0 : over + n;
}

/**
 * Encrypts pt as the next message: its wire bytes. Throws "too_big" (over
 * PAD_PLAINTEXT_MAX), "usage" (a responder before its first decrypt),
 * "limit" (chain exhausted); r is then unchanged.
 */
export function ratchetEncrypt(r, pt) {
	const c = r.c;
	if (!(pt instanceof Uint8Array)) throw new OfframpError(ERR.USAGE, 'plaintext bytes');
	if (pt.length > PAD_PLAINTEXT_MAX) throw new OfframpError(ERR.TOO_BIG, 'plaintext too long');
	if (!(c.flags & F_HAS_CKS)) throw new OfframpError(ERR.USAGE, 'cannot send yet');
	if (c.ns === U32_MAX) throw new OfframpError(ERR.LIMIT, 'chain exhausted');
	const hdr = headerWrite(c);
	const body = pad(pt, hdr.length + RATCHET_NONCE_BYTES + RATCHET_TAG_BYTES);
	const nonce = csprngBuf(RATCHET_NONCE_BYTES);
	const k = kdfCk(c.cks);
	const key = messageKey(k.mk);
	const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(body, concat(c.ad, hdr), null, nonce, key);
	wipe(c.cks, k.mk, key, body);
	c.cks = k.ck;
	c.ns++;
	return concat(hdr, nonce, ct);
}

// Stages the receiving chain's keys from c.nr up to until (exclusive).
function skipKeys(r, c, staged, until, now) {
	if (!(c.flags & F_HAS_CKR) || until <= c.nr) return;
	if (until - c.nr > RATCHET_MAX_SKIP ||
	    r.skipped.length + staged.length + (until - c.nr) > RATCHET_SKIPPED_MAX)
		throw new OfframpError(ERR.LIMIT, 'too many skipped messages');
	while (c.nr < until) {
		const k = kdfCk(c.ckr);
		wipe(c.ckr);
		c.ckr = k.ck;
		staged.push({ dh: c.dhr.slice(), n: c.nr, step: c.steps, at: now, mk: k.mk });
		c.nr++;
	}
}

// Opens m with message key mk: the plaintext, or throws "crypto".
function openMsg(m, msg, ad, mk) {
	const key = messageKey(mk);
	let padded;
	try {
		padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, m.ct,
			concat(ad, msg.subarray(0, m.hdrLen)), m.nonce, key);
	} catch {
		throw new OfframpError(ERR.CRYPTO, 'does not decrypt');
	} finally {
		wipe(key);
	}
	try {
		const n = unpad(padded, m.hdrLen + RATCHET_NONCE_BYTES + RATCHET_TAG_BYTES);
		return padded.slice(0, n);
	} finally {
		wipe(padded);
	}
}

// Deletes the stored skipped keys for which keep(s) is false; how many.
function skippedFilter(r, keep) {
	const before = r.skipped.length;
	r.skipped = r.skipped.filter((s) => {
		if (keep(s)) return true;
		wipe(s.mk);
		return false;
	});
	return before - r.skipped.length;
}

/**
 * Deletes the skipped keys stored RATCHET_SKIPPED_TTL seconds or more
 * before now (Unix seconds); a key stored "after" now (the clock went
 * back) counts as stored now. Run it before decrypting. Returns how many
 * were deleted.
 */
export function ratchetExpire(r, now) {
	for (const s of r.skipped) if (s.at > now) s.at = now;
	return skippedFilter(r, (s) => now - s.at < RATCHET_SKIPPED_TTL);
}

/** Receiving DH ratchet steps r has made (mod 2^32). */
export function ratchetSteps(r) {
	return r.c.steps;
}

/**
 * true when msg (well formed) belongs to a receiving chain r knows and its
 * message key is used already (a replay or a repeated counter); false
 * otherwise.
 */
export function ratchetMsgUsed(r, msg) {
	let m;
	try {
		m = ratchetMsgParse(msg);
	} catch {
		return false;
	}
	let known = false;
	for (const s of r.skipped) {
		if (!bytesEqual(s.dh, m.dh)) continue;
		if (s.n === m.n) return false;	// its key is stored
		known = true;
	}
	if ((r.c.flags & F_HAS_CKR) && bytesEqual(r.c.dhr, m.dh)) return m.n < r.c.nr;
	return known;
}

/**
 * Decrypts msg: the plaintext bytes. Skipped keys it stores are stamped
 * with now (Unix seconds; the clock's when not given: a 0 would make the
 * next ratchetExpire drop them) and the current step; after a DH ratchet step
 * the keys stored more than RATCHET_SKIPPED_STEPS steps ago go. Throws
 * "crypto" (malformed, forged, damaged, replayed, not for this session) or
 * "limit" (too many skipped); r is then unchanged.
 */
export function ratchetDecrypt(r, msg, now = Math.floor(Date.now() / 1000)) {
	let m;
	try {
		m = ratchetMsgParse(msg);
	} catch {
		throw new OfframpError(ERR.CRYPTO, 'malformed message');
	}
	for (let i = 0; i < r.skipped.length; i++) {
		const s = r.skipped[i];
		if (s.n !== m.n || !bytesEqual(s.dh, m.dh)) continue;
		const pt = openMsg(m, msg, r.c.ad, s.mk);
		wipe(s.mk);
		r.skipped.splice(i, 1);
		r.c.flags &= ~F_SEND_INIT;
		return pt;
	}
	if (m.n === U32_MAX) throw new OfframpError(ERR.CRYPTO, 'counter');
	const c = copyCore(r.c);
	const staged = [];
	try {
		if (!(c.flags & F_HAS_DHR) || !bytesEqual(m.dh, c.dhr)) {
			// a new ratchet key from the peer: a DH ratchet step
			skipKeys(r, c, staged, m.pn, now);
			c.pn = c.ns;
			c.ns = 0;
			c.nr = 0;
			c.dhr = m.dh.slice();
			let k = kdfRk(c.rk, c.dhsSk, c.dhr);
			c.rk = k.rk;
			c.ckr = k.ck;
			const kp = x3dhKeypair();
			c.dhsPk = kp.pk;
			c.dhsSk = kp.sk;
			k = kdfRk(c.rk, c.dhsSk, c.dhr);
			c.rk = k.rk;
			c.cks = k.ck;
			c.flags |= F_HAS_DHR | F_HAS_CKR | F_HAS_CKS;
			c.steps = (c.steps + 1) >>> 0;
		} else if (!(c.flags & F_HAS_CKR) || m.n < c.nr) {
			// no receiving chain yet, or a key used already: a replay
			throw new OfframpError(ERR.CRYPTO, 'replayed or out of chain');
		}
		skipKeys(r, c, staged, m.n, now);
		const k = kdfCk(c.ckr);
		c.ckr = k.ck;
		c.nr++;
		try {
			const pt = openMsg(m, msg, c.ad, k.mk);
			const stepped = c.steps !== r.c.steps;
			c.flags &= ~F_SEND_INIT;
			wipeCore(r.c);
			r.c = c;
			r.skipped.push(...staged);
			staged.length = 0;
			// a DH ratchet step: the keys stored too many steps ago go
			if (stepped) skippedFilter(r, (s) => ((c.steps - s.step) >>> 0) <= RATCHET_SKIPPED_STEPS);
			return pt;
		} finally {
			wipe(k.mk);
		}
	} catch (e) {
		wipeCore(c);
		for (const s of staged) wipe(s.mk);
		throw e;
	}
}

/** The size of r's saved state. */
export function ratchetStateSize(r) {
	return RATCHET_STATE_FIXED_BYTES + r.skipped.length * RATCHET_SKIPPED_ENTRY_BYTES;
}

/** r's saved state (secrets included: the caller encrypts it at rest). */
export function ratchetStateSave(r) {
	const c = r.c;
	const out = new Uint8Array(ratchetStateSize(r));
	out[0] = RATCHET_STATE_VERSION;
	out[1] = (c.flags & ~F_INIT_OPK) | (c.init.hasOpk ? F_INIT_OPK : 0);
	let p = 2;
	for (const k of [c.rk, c.cks, c.ckr, c.dhsSk, c.dhsPk, c.dhr, c.ad, c.init.ik, c.init.ek]) {
		out.set(k, p);
		p += k.length;
	}
	be32Put(out, p, c.init.spkId);
	be32Put(out, p + 4, c.init.hasOpk ? c.init.opkId : 0);
	be32Put(out, p + 8, c.ns);
	be32Put(out, p + 12, c.nr);
	be32Put(out, p + 16, c.pn);
	be32Put(out, p + 20, c.steps);
	be32Put(out, p + 24, r.skipped.length);
	p += 28;
	for (const s of r.skipped) {
		out.set(s.dh, p);
		be32Put(out, p + 32, s.n);
		be32Put(out, p + 36, s.step);
		be64Put(out, p + 40, s.at);
		out.set(s.mk, p + 48);
		p += RATCHET_SKIPPED_ENTRY_BYTES;
	}
	return out;
}

/**
 * A session from a saved state: version 2, or 1 (no step counter, no step
 * and time per skipped key: they count as stored at now, Unix seconds, and
 * at step 0). Throws "bad_field" unless buf is exactly a valid state
 * (version, flags, length, skipped count, DHs pair).
 */
export function ratchetStateLoad(buf, now = 0) {
	const bad = () => new OfframpError(ERR.BAD_FIELD, 'session state');
	if (!(buf instanceof Uint8Array) || buf.length < RATCHET_STATE_V1_FIXED_BYTES ||
	    (buf[0] !== 1 && buf[0] !== RATCHET_STATE_VERSION))
		throw bad();
	const v1 = buf[0] === 1;
	const fixed = v1 ? RATCHET_STATE_V1_FIXED_BYTES : RATCHET_STATE_FIXED_BYTES;
	const entry = v1 ? RATCHET_SKIPPED_V1_ENTRY_BYTES : RATCHET_SKIPPED_ENTRY_BYTES;
	if (buf.length < fixed) throw bad();
	const c = zeroCore();
	c.flags = buf[1];
	let p = 2;
	const take = (n) => buf.slice(p, (p += n));
	c.rk = take(32); c.cks = take(32); c.ckr = take(32);
	c.dhsSk = take(32); c.dhsPk = take(32); c.dhr = take(32);
	c.ad = take(64);
	c.init.ik = take(32); c.init.ek = take(32);
	c.init.spkId = be32Get(buf, p);
	c.init.opkId = be32Get(buf, p + 4);
	c.init.hasOpk = (c.flags & F_INIT_OPK) !== 0;
	c.ns = be32Get(buf, p + 8);
	c.nr = be32Get(buf, p + 12);
	c.pn = be32Get(buf, p + 16);
	p += 20;
	if (!v1) {
		c.steps = be32Get(buf, p);
		p += 4;
	}
	const n = be32Get(buf, p);
	p += 4;
	if ((c.flags & ~F_ALL) !== 0 ||
	    ((c.flags & F_SEND_INIT) && !(c.flags & F_INITIATOR)) ||
	    (!c.init.hasOpk && c.init.opkId !== 0) ||
	    ((c.flags & (F_HAS_CKS | F_HAS_CKR)) && !(c.flags & F_HAS_DHR)) ||
	    !bytesEqual(sodium.crypto_scalarmult_base(c.dhsSk), c.dhsPk) ||
	    n > RATCHET_SKIPPED_MAX || buf.length !== fixed + n * entry) {
		wipeCore(c);
		throw bad();
	}
	c.flags &= ~F_INIT_OPK;
	const r = new Ratchet();
	r.c = c;
	for (let i = 0; i < n; i++) {
		const dh = take(32);
		const sn = be32Get(buf, p);
		p += 4;
		let step = c.steps, at = now;	// version 1: stored now
		if (!v1) {
			step = be32Get(buf, p);
			at = Number(be64Get(buf, p + 4));
			p += 12;
		}
		r.skipped.push({ dh, n: sn, step, at, mk: take(32) });
	}
	return r;
}
