// trust.js: which programme keys the web client trusts to certify
// counsellors (CRYPTO.md, "Programme keys: trust from outside the
// server"), as the programme part of client-cli/trust.c. It owns the trust
// anchors (the keys built into the bundle and the keys the user accepted
// after comparing their fingerprint), follows an anchor's rotations,
// accepts partners an anchor vouches for (one step), keeps the newest
// revocation list seen per trusted key, and checks counsellors'
// certificates against all of that, and admins' certificates (to whom a
// client seals feedback) against the anchors alone: no partner's word. It never trusts a key because the
// server names it: a key it cannot reach from an anchor is refused with
// reason "untrusted_programme" and the programme's name, key and
// fingerprint, for the page to ask the user. It makes no session and
// knows no DOM.
//
// It talks to the server only through the ask(frame) function it is given
// (programme.get). Its state (toJSON / fromJSON) holds no secret, but it
// is what the user decided: the page keeps it with the rest of the state.

import { OfframpError, ERR } from './proto/err.js';
import { bytesEqual } from './proto/bytes.js';
import { b64Decode, b64Encode } from './proto/frame.js';
import {
	ADMIN_CERT_CONTEXT, CERT_BYTES, CERT_CONTEXT, certVerifier, partnerVerify, PARTNER_BYTES, revocationVerify, REVOCATION_BYTES_MAX,
	rotationVerify, ROTATION_BYTES,
} from './proto/cert.js';
import { keyFingerprint } from './proto/safety.js';

export const TRUST_VERSION = 1;
export const ANCHORS_MAX = 64;		// anchors kept
export const LEFT_MAX = 16;		// keys an anchor rotated away from
export const LISTS_MAX = 128;		// revocation lists kept (one per trusted key)
export const ROTATIONS_MAX = 16;	// statements read from programme.get
export const VOUCHED_MAX = 16;
export const NAME_MAX = 64;		// characters of a programme's name
export const FRESH_SECONDS = 300;	// programme.get answers reused this long
export const FRESH_MAX = 64;		// and kept, at most (the oldest goes)

const b64 = (b) => b64Encode(b);
const unb64 = (s, n, field) => b64Decode(s, n, n, field);
const isSafeId = (v) => Number.isSafeInteger(v) && v >= 0;

/** An OfframpError "crypto" with a reason for people ("uncertified"...). */
export function refusal(reason, detail, extra) {
	const e = new OfframpError(ERR.CRYPTO, detail || reason);
	e.reason = reason;
	return Object.assign(e, extra);
}

function nameOf(v) {
	return typeof v === 'string' && v.length > 0 ? v.slice(0, NAME_MAX) : null;
}

/**
 * The trust of one identity. An anchor is {key, name, programme, origin,
 * left}: key (32 bytes) trusted now; name (or null: the bundle's have
 * none); programme: the id it was seen for (a hint for people only: what a
 * key certifies is what its certificates say); origin 'bundle' or 'user';
 * left: the keys it rotated away from, never trusted again.
 */
export class Trust {
	/**
	 * @param {object} o
	 * @param {Array<[number, Uint8Array]>} [o.bundle]  the keys built into the bundle
	 * @param {() => number} [o.now]  seconds
	 * @param {() => void} [o.onChange]  the state changed (persist it)
	 * @param {(ev: object) => void} [o.onRotate]  an anchor was followed to
	 *   a new key: {name, programme, from, to, fingerprint} (base64 keys)
	 */
	constructor(o = {}) {
		this.now = o.now || (() => Math.floor(Date.now() / 1000));
		this.onChange = o.onChange || (() => {});
		this.onRotate = o.onRotate || (() => {});
		this.bundle = o.bundle || [];
		this.anchors = [];
		this.lists = new Map();		// base64 key -> {programme, issued, keys: [Uint8Array]}
		this.fresh = new Map();		// programme -> {at, answer}: programme.get, in memory
		this.addBundle();
	}

	/* The bundle's keys not yet known (as a key, or one rotated away from). */
	addBundle() {
		for (const [programme, key] of this.bundle) {
			if (this.anchors.some((a) => bytesEqual(a.key, key) || a.left.some((k) => bytesEqual(k, key)))) continue;
			this.anchors.push({ key, name: null, programme, origin: 'bundle', left: [] });
		}
	}

	toJSON() {
		return {
			v: TRUST_VERSION,
			anchors: this.anchors.filter((a) => a.origin === 'user' || a.left.length > 0).map((a) => ({
				key: b64(a.key), name: a.name, programme: a.programme, origin: a.origin, left: a.left.map(b64),
			})),
			lists: [...this.lists].map(([key, l]) => ({ key, programme: l.programme, issued: l.issued, keys: l.keys.map(b64) })),
		};
	}

	/** The state of toJSON() back (bundle keys added); "bad_field" when malformed or over the bounds. */
	static fromJSON(j, o = {}) {
		const bad = (what) => new OfframpError(ERR.BAD_FIELD, `state: trust ${what}`, 'state');
		const arr = (a, max, what) => {
			if (!Array.isArray(a) || a.length > max) throw bad(what);
			return a;
		};
		const t = new Trust({ ...o, bundle: [] });
		if (!j || j.v !== TRUST_VERSION) throw bad('version');
		t.anchors = arr(j.anchors, ANCHORS_MAX, 'anchors').map((a) => {
			if (!a || (a.origin !== 'user' && a.origin !== 'bundle') || (a.name !== null && nameOf(a.name) !== a.name) ||
			    (a.programme !== null && !isSafeId(a.programme)))
				throw bad('anchor');
			return {
				key: unb64(a.key, 32, 'anchor'), name: a.name, programme: a.programme, origin: a.origin,
				left: arr(a.left, LEFT_MAX, 'left').map((k) => unb64(k, 32, 'left')),
			};
		});
		for (const l of arr(j.lists, LISTS_MAX, 'lists')) {
			if (!l || !isSafeId(l.programme) || !Number.isSafeInteger(l.issued)) throw bad('list');
			unb64(l.key, 32, 'list');
			t.lists.set(l.key, { programme: l.programme, issued: l.issued, keys: arr(l.keys, 128, 'list').map((k) => unb64(k, 32, 'list')) });
		}
		t.bundle = o.bundle || [];
		t.addBundle();
		return t;
	}

	/** The anchors, the bundle's first: [{key, name, programme, origin, fingerprint}] (base64 keys). */
	list() {
		const order = [...this.anchors.filter((a) => a.origin === 'bundle'), ...this.anchors.filter((a) => a.origin === 'user')];
		return order.map((a) => ({
			key: b64(a.key), name: a.name, programme: a.programme, origin: a.origin, fingerprint: keyFingerprint(a.key),
		}));
	}

	/** The anchors the user accepted, [[programme or 0, base64 key]] (for a recovery code). */
	accepted() {
		return this.anchors.filter((a) => a.origin === 'user').map((a) => [a.programme || 0, b64(a.key)]);
	}

	anchorOf(key) {
		return this.anchors.find((a) => bytesEqual(a.key, key)) || null;
	}

	/**
	 * Trusts key (base64) as an anchor: the user compared its fingerprint
	 * with the one the programme published. name: how to call it (or
	 * null); programme: the id it was offered for (a hint). Throws "usage"
	 * for a key an anchor rotated away from, "limit" past ANCHORS_MAX.
	 */
	add(keyB64, name, programme) {
		const key = unb64(keyB64, 32, 'key');
		if (this.anchors.some((a) => a.left.some((k) => bytesEqual(k, key))))
			throw new OfframpError(ERR.USAGE, 'its programme replaced this key');
		const have = this.anchorOf(key);
		if (have) {
			if (name && !have.name) have.name = nameOf(name);
		} else {
			if (this.anchors.length >= ANCHORS_MAX) throw new OfframpError(ERR.LIMIT, 'too many trusted programme keys');
			this.anchors.push({ key, name: nameOf(name), programme: isSafeId(programme) ? programme : null, origin: 'user', left: [] });
		}
		this.fresh.clear();
		this.onChange();
	}

	/* programme.get, reused for FRESH_SECONDS; FRESH_MAX answers kept,
	 * whatever programmes a server names. */
	async get(programme, ask) {
		const f = this.fresh.get(programme);
		const t = this.now();
		if (f && t >= f.at && t - f.at < FRESH_SECONDS) return f.answer;
		const a = await ask({ type: 'programme.get', programme });
		this.fresh.delete(programme);	// set again: the newest, last
		for (const [id, e] of this.fresh)
			if (this.fresh.size >= FRESH_MAX || !(t >= e.at && t - e.at < FRESH_SECONDS))
				this.fresh.delete(id);	// the oldest first (Map order)
		this.fresh.set(programme, { at: t, answer: a });
		return a;
	}

	/* The anchor whose rotations lead, step by step, to key for programme,
	 * followed now; or null. Never to a key an anchor left. */
	follow(programme, key, rotations) {
		const steps = [];
		for (const s of (Array.isArray(rotations) ? rotations : []).slice(0, ROTATIONS_MAX)) {
			try {
				steps.push(b64Decode(s, ROTATION_BYTES, ROTATION_BYTES, 'rotations'));
			} catch { /* not one: skipped */ }
		}
		for (const a of this.anchors) {
			let cur = a.key;
			const path = [];
			for (let n = 0; n < steps.length && !bytesEqual(cur, key); n++) {
				let next = null;
				for (const s of steps) {
					try {
						const r = rotationVerify(s, cur);
						if (r.programmeId === programme) next = r.newPk;
					} catch { /* not signed by cur */ }
					if (next) break;
				}
				if (!next || bytesEqual(next, a.key) || path.some((k) => bytesEqual(k, next)) ||
				    this.anchors.some((x) => x.left.some((k) => bytesEqual(k, next))))
					break;
				path.push(cur);
				cur = next;
			}
			if (path.length === 0 || !bytesEqual(cur, key)) continue;
			const from = a.key;
			a.left = [...a.left, ...path].slice(-LEFT_MAX);
			a.key = key;
			const l = this.lists.get(b64(from));	// still refused until a newer list comes
			if (l && !this.lists.has(b64(key))) this.lists.set(b64(key), l);
			this.lists.delete(b64(from));
			this.onChange();
			this.onRotate({ name: a.name, programme, from: b64(from), to: b64(key), fingerprint: keyFingerprint(key) });
			return a;
		}
		return null;
	}

	/* true when an anchor vouches for key as programme's (one step). */
	vouched(programme, key, vouchedBy) {
		for (const v of (Array.isArray(vouchedBy) ? vouchedBy : []).slice(0, VOUCHED_MAX)) {
			let st;
			try {
				st = b64Decode(v?.statement, PARTNER_BYTES, PARTNER_BYTES, 'statement');
			} catch {
				continue;
			}
			for (const a of this.anchors) {
				try {
					const p = partnerVerify(st, a.key, this.now());
					if (p.partnerId === programme && bytesEqual(p.partnerPk, key)) return true;
				} catch { /* not this anchor's, or not valid now */ }
			}
		}
		return false;
	}

	/* Keeps the list (base64 or null) when it is key's, for programme, and
	 * newer than the one kept. */
	keepList(programme, key, listB64) {
		if (typeof listB64 !== 'string') return;
		let r;
		try {
			r = revocationVerify(b64Decode(listB64, 0, REVOCATION_BYTES_MAX, 'revoked'), key);
		} catch {
			return;		// not one of key's: as if none was served
		}
		const id = b64(key), have = this.lists.get(id);
		if (r.programmeId !== programme || (have && have.issued >= r.issued)) return;
		if (!have && this.lists.size >= LISTS_MAX) this.lists.delete(this.lists.keys().next().value);
		this.lists.set(id, { programme, issued: r.issued, keys: r.keys });
		this.onChange();
	}

	/**
	 * The trusted key of programme as the server names it (programme.get
	 * through ask): an anchor's, one reached by its rotations (followed
	 * now), or (unless partners is false) a partner's an anchor vouches
	 * for. Keeps a newer revocation list. Throws "crypto" with reason
	 * "no_programme_key" (none set), "untrusted_programme" (with .programme
	 * {id, name, key, fingerprint}); errors of ask pass through.
	 * @returns {Promise<Uint8Array>}
	 */
	async programmeKey(programme, ask, { partners = true } = {}) {
		const a = await this.get(programme, ask);
		const p = a?.programme;
		let key;
		try {
			key = unb64(p?.key, 32, 'key');
		} catch {
			throw refusal('no_programme_key', `programme ${programme} has no signing key`);
		}
		// rotations, revoked and vouched_by come inside the programme object
		if (!this.anchorOf(key) && !this.follow(programme, key, p.rotations) &&
		    !(partners && this.vouched(programme, key, p.vouched_by))) {
			throw refusal('untrusted_programme', `programme ${programme}: a key not trusted here`, {
				programme: { id: programme, name: nameOf(p?.name), key: b64(key), fingerprint: keyFingerprint(key) },
			});
		}
		this.keepList(programme, key, p.revoked);
		return key;
	}

	/**
	 * Checks a counsellor's certificate (base64 or null) for key (32 bytes)
	 * and programme (as the server names it) under that programme's trusted
	 * key, now, against the newest revocation list kept; want: the
	 * programme the user asked for (or null). Resolves with the checked
	 * certificate, or throws "crypto" with reason "wrong_programme",
	 * "no_programme_key", "untrusted_programme", "uncertified" or
	 * "revoked"; errors of ask pass through: then nothing was decided.
	 *
	 * context ADMIN_CERT_CONTEXT checks an admin's certificate instead
	 * (CRYPTO.md, "Feedback"): the same, but under a live anchor only (its
	 * rotations followed), never a key a partner vouches for.
	 */
	async checkCert(key, certB64, programme, want, ask, context = CERT_CONTEXT) {
		const verify = certVerifier(context);
		const admin = context === ADMIN_CERT_CONTEXT;
		if (want != null && programme !== want)
			throw refusal('wrong_programme', `a counsellor of programme ${programme}, not of ${want}`);
		if (!isSafeId(programme)) throw refusal('uncertified', 'no programme');
		// the programme first: its newest revocation list is kept whatever the certificate
		const pk = await this.programmeKey(programme, ask, { partners: !admin });
		let cert = null;
		try {
			if (typeof certB64 === 'string') cert = b64Decode(certB64, CERT_BYTES, CERT_BYTES, 'cert');
		} catch {
			cert = null;
		}
		if (!cert) throw refusal('uncertified', 'no certificate');
		let info;
		try {
			info = verify(cert, pk, key, this.now());
		} catch {
			info = null;
		}
		if (!info || info.programmeId !== programme)
			throw refusal('uncertified', 'the key is not certified by a trusted programme key');
		const l = this.lists.get(b64(pk));
		if (l && l.programme === programme && l.keys.some((k) => bytesEqual(k, key)))
			throw refusal('revoked', `the programme revoked this ${admin ? 'admin' : 'counsellor'}`);
		return info;
	}
}
