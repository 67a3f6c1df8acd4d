// core.js: the headless offramp client that the page drives. It owns the
// account's identity, its end-to-end sessions (e2e.js), the connection
// (conn.js), and what it knows of its cases and their messages; it knows
// no DOM and no storage. The page calls its methods (intents) and listens
// to its events; it keeps the exported state wherever its mode says (in
// memory only, a recovery code, or sealed in IndexedDB by storage.js).
//
// What it must never do: send plaintext to the server, drop a message it
// could not decrypt without telling (event "undecryptable"), send to a
// case whose participant's key changed until verify(), start a session
// with a counsellor whose certificate no trusted programme key signs
// (trust.js: the bundle's keys and the keys the user accepted, never a key
// because the server names it), or lose a text the user typed (the outbox
// keeps it until the server has acknowledged it). Its one-frame requests
// are in requests.js, its key and safety-number intents in keys.js, and
// the shapes it gives in types.js.
//
// Errors: every method that fails rejects with an OfframpError whose
// .code is a stable string: the server's error code (PROTOCOL.md: e.g.
// "case_open", "forbidden", "bad_field" with .field) or a local one of
// proto/err.h ("crypto", "timeout", "connection", "usage", "limit").
//
// Keys, signatures and message ids are base64 strings (RFC 4648, padded),
// as on the wire. Times are integer seconds since the epoch.
//
// Usage:
//   import { createCore } from './core.js';
//   const core = await createCore({ url, WebSocket, state, pins });
//   core.on('message', ({ caseId, message }) => ...);
//   await core.login();                      // or core.redeem(invite, name)
//   const c = await core.requestCase({ language: 'en' });
//   core.send(c.id, 'hello');                // queued until a counsellor comes

import sodium from 'libsodium-wrappers-sumo';
import { OfframpError, ERR } from './proto/err.js';
import { ascii, bytesEqual } from './proto/bytes.js';
import { b64Decode, b64Encode, frameIsName, OFR_CT_MAX, OFR_ACKS_MAX, OFR_MID_BYTES } from './proto/frame.js';
import { ocryptoInit, ocryptoInviteDecode, ocryptoLoginSign } from './proto/ocrypto.js';
import { powSolve, POW_LOGIN, POW_CASE } from './proto/pow.js';
import {
	envelopeParse, envelopeCheck,
	ENVELOPE_MEETING, ENVELOPE_AGREEMENT, ENVELOPE_MOVED, ENVELOPE_REPLAYED,
	ENVELOPE_HELD_BACK, ENVELOPE_FUTURE, ENVELOPE_EARLIER, MEETING_ACTIONS,
	AGREEMENT_ACTIONS, AGREEMENT_FIELDS, ENVELOPE_REFERRAL, REFERRAL_FIELDS,
	ENVELOPE_NOTHING, ENVELOPE_REPORT, ENVELOPE_TEXT, ENVELOPE_V2_TEXT_MAX, envelopeWrite,
} from './proto/envelope.js';
import { Conn, Emitter } from './conn.js';
import { E2E, participantRole, PARTICIPANTS_MAX } from './e2e.js';
import { Trust, refusal } from './trust.js';
import { ADMIN_CERT_CONTEXT } from './proto/cert.js';
import { feedbackSeal, FEEDBACK_ADMINS_MAX, FEEDBACK_TEXT_MAX } from './proto/feedback.js';
import { copy, isId, textBytes, usage, utf8, utf8d } from './util.js';
import { requests, SHOWN_MAX } from './requests.js';
import { keys } from './keys.js';
import { referrals, acceptedOf } from './referral.js';
import { meetingsOf, agreementOf, sidesOf } from './meetings.js';
import { caseShapeOk } from './shape.js';

// The shapes the core takes and gives (CoreOptions, Account, Participant,
// Case, Message, Safety, CoreEvent) are described in types.js.

export { OfframpError };

/** The version of exportState()'s JSON (1: before trust.js; still read). */
export const CORE_STATE_VERSION = 2;
/* Refusals of msg.send after which the server stored nothing and asks to
 * try again later (PROTOCOL.md, error codes): the message waits. An
 * `unavailable` cut in its commit may have stored it: the retry's same
 * mid is then answered as a duplicate. */
const RETRYABLE = new Set([ERR.STORAGE_FULL, ERR.RECIPIENT_FULL, ERR.INTERNAL, ERR.RATE_LIMITED, ERR.UNAVAILABLE]);
const RETRY_MAX_MS = 16000;

/** Messages kept per case (the oldest go first; the outbox never). */
export const HISTORY_CASE = 1000;
/** Of those, messages not read (refused, not readable, reports): past
 * this many the oldest of them goes first. */
export const REFUSED_CASE = 50;
/** Own messages waiting per case (send() then throws "limit"). */
export const OUTBOX_CASE = 100;
/** Cases kept. */
export const CASES_MAX = 1000;
/** What the history of every case holds at most, in all, as historySize
 * counts it (the oldest messages go first, an outbox's never): "Keep on
 * this device" seals the whole state at each ack and send (exportState),
 * and the cases and messages a server can make for a counsellor's page
 * would otherwise take that past what a tab can hold (1,000 cases of
 * 1,000 messages of 16 kB: 16 GB). */
export const HISTORY_BYTES = 32 * 1024 * 1024;
/* A message's share of HISTORY_BYTES: its text's and its meeting's
 * characters, and 256 for the rest of it. */
const historySize = (m) => 256 + (typeof m.text === 'string' ? m.text.length : 0) +
	(m.meeting ? String(m.meeting.place ?? '').length + String(m.meeting.recognise ?? '').length : 0);
/** Cases read of one listing (case.list): as many as the server lists at
 * most (PROTOCOL.md; STORE_CASES_MAX), a listing past it being no
 * server's that keeps to the protocol. Each LISTED_SLICE cases of a
 * listing the page takes its input (a quick exit) and draws: each case
 * can cost its safety numbers (7 ms each) and the views one sync
 * (controller.js: one a task). */
export const LISTED_MAX = 100;
const LISTED_SLICE = 4;
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));
/*
 * What a case shows of a counsellor's certificate is the answer of a check
 * of what the server lists now: a check depends on the key, the
 * certificate, the programme it is listed in and the one the user asked
 * for, and so does the entry it is kept under (e.certOk). A key certified
 * under one programme and listed under another later is checked again,
 * not shown certified by the first answer. At most CERT_KEPT entries a
 * case (a server that keeps changing a listing only makes the checks
 * run again).
 */
const CERT_KEPT = 32;
const certTag = (p) => JSON.stringify([p.key, p.cert ?? null, p.programme ?? null, p.asked_programme ?? null]);
function certKeep(e, p, ok) {
	const tag = certTag(p);
	if (!e.certOk.has(tag) && e.certOk.size >= CERT_KEPT) e.certOk.clear();
	e.certOk.set(tag, ok);
}

/* The reasons a counsellor's certificate is refused (trust.js, checkCert). */
const CERT_REFUSALS = new Set(['wrong_programme', 'no_programme_key', 'untrusted_programme', 'uncertified', 'revoked']);
const RECOVERY_MAGIC = ascii('OFRR');
const RECOVERY_VERSION = 2;	// 1: keys pinned on first use (dropped when read)
const ROLE_CODES = ['client', 'counsellor', 'admin'];
/* What became of a case's feedback form: given, or declined (kept per case). */
const FEEDBACK_DONE = ['sent', 'dismissed'];

/**
 * Makes a core: loads libsodium, then the identity from options.state, or
 * makes a new key pair. Does not connect: call login() or redeem().
 * @param {CoreOptions} options
 * @returns {Promise<Core>}
 * @throws {OfframpError} "usage" for a bad option, "bad_field" for a state
 *   that does not parse
 */
export async function createCore(options) {
	return Core.create(options);
}


/* false while p is joining (PROTOCOL.md, "Co-counselling"): nothing is
 * sealed for it until every participant was told of it. */
function told(p) {
	return p?.state !== 'joining';
}

/* true when participant p of case entry e joined at a membership
 * version this page never confirmed (requests.js, confirmMembers), or is
 * a colleague whose very key this page never confirmed (or invited): a
 * colleague joins at a version (since) of 1 or more, and a server that
 * lists one without it, or puts another key in a confirmed colleague's
 * place, is not taken at its word. The server's word that everyone was
 * told is not this page's, so nothing is sealed for anyone until the
 * user was shown it and confirmed. */
function unconfirmed(e, p) {
	if (E2E.isColleague(p))
		return !(Number.isSafeInteger(p.since) && p.since >= 1 && p.since <= (e.seen || 0) &&
			(e.shown || []).includes(p.key));
	return Number.isSafeInteger(p?.since) && p.since > (e.seen || 0);
}

/* true when the participants of case object k are what the protocol
 * allows: at most PARTICIPANTS_MAX, at most one client (this user itself
 * when it is a client), every
 * other a counsellor there as one the protocol knows (one of them the
 * case's own at most), none marked as gone. A list the server made
 * otherwise, one who reads and writes in the case without a certificate,
 * say, gets nothing sealed, and nothing is read from it. */
function participantsOk(k, isMe, myRole) {
	let clients = 0, leads = 0;
	if (Array.isArray(k?.participants) && k.participants.length > PARTICIPANTS_MAX) return false;
	for (const p of Array.isArray(k?.participants) ? k.participants : []) {
		if (!p || typeof p !== 'object' || p.left !== undefined) return false;
		if (p.role === 'client') {
			if ((p.as !== undefined && p.as !== 'client') || ++clients > 1) return false;
			if (myRole === 'client' && !isMe(p)) return false;
		} else if (p.role === 'counsellor') {
			// the case's own once at most; any other a colleague the protocol knows
			if (p.as === undefined || p.as === 'counsellor') {
				if (++leads > 1) return false;
			} else if (!E2E.isColleague(p)) {
				return false;
			}
		} else {
			return false;
		}
	}
	return true;
}

function parsePins(pins) {
	const m = [];
	for (const item of pins || []) {
		if (!Array.isArray(item) || item.length !== 2 || !isId(item[0]) && item[0] !== 0) throw usage('pins: [[id, base64key]]');
		m.push([item[0], b64Decode(item[1], 32, 32, 'pins')]);
	}
	return m;
}

/** The client. Make one with createCore(). */
/* The kind and body of an envelope for message m of the outbox: a text,
 * a meeting or an agreement proposed (propose) or answered (answer), or
 * a referral card (propose). */
function envelopeBody(m) {
	if (m.meeting) {
		const x = m.meeting;
		return { kind: ENVELOPE_MEETING, meeting: { action: MEETING_ACTIONS.indexOf(x.action), id: x.id, time: x.time,
			place: utf8.encode(x.place), recognise: utf8.encode(x.recognise) } };
	}
	if (m.agreement) {
		return { kind: ENVELOPE_AGREEMENT, agreement: { action: AGREEMENT_ACTIONS.indexOf(m.agreement.action),
			version: m.agreement.version, fields: AGREEMENT_FIELDS.map((f) => utf8.encode(m.agreement[f] || '')) } };
	}
	if (m.referral) return { kind: ENVELOPE_REFERRAL, referral: { fields: REFERRAL_FIELDS.map((f) => utf8.encode(m.referral[f] || '')) } };
	return { kind: ENVELOPE_TEXT, text: utf8.encode(m.text) };
}

export class Core extends Emitter {
	/** @param {CoreOptions} options @returns {Promise<Core>} */
	static async create(options) {
		await ocryptoInit();
		return new Core(options || {});
	}

	constructor(o) {
		super();
		if (typeof o.url !== 'string' || typeof o.WebSocket !== 'function') throw usage('url and WebSocket');
		this.opts = o;
		this.now = o.now || (() => Math.floor(Date.now() / 1000));
		this.pinned = parsePins(o.pins);
		this.serverKey = o.serverKey ? b64Decode(o.serverKey, 32, 32, 'serverKey') : null;
		this.seenServer = null;		// the server key of the first login (state)
		this.pending = new Map();	// base64 key -> untrusted programme offered
		this.acct = null;
		this.roleHint = null;
		this.asking = null;	// the programme of a request whose case has not come (requestCase)
		this.historyBytes = 0;	// what the history holds, about (keep, trimHistory)
		this.cs = new Map();	// id -> {kase, messages: [], outbox: [], unread, announced: Set, certOk: Map}
		this.inbox = Promise.resolve();	// pushes and logins, one at a time
		this.acks = [];
		this.ackTimer = null;
		this.uploading = null;
		this.flushing = new Set();
		this.lowPush = null;
		// peers whose sessions this page load dropped (a message of theirs
		// could not be read), and the report each is owed: at most one
		// reset and one report per peer per page load (CRYPTO.md,
		// "Undecryptable messages"). key -> {caseId, count, reason, sent}
		this.resets = new Map();
		this.resetsMade = 0;	// how many: a seal that saw one begin is done again
		const trustOpts = {
			bundle: this.pinned, now: this.now, onChange: () => this.changed(),
			onRotate: (ev) => this.emit('programme-rotated', ev),
		};
		this.trust = new Trust(trustOpts);
		const e2eOpts = { trust: this.trust, now: this.now, onChange: () => this.changed() };
		const st = o.state;
		if (st === undefined || st === null) {
			this.e2e = new E2E(e2eOpts);
		} else {
			this.load(st, e2eOpts, trustOpts);
		}
		this.conn = new Conn({
			url: o.url, WebSocket: o.WebSocket, timeoutMs: o.timeoutMs,
			minMs: o.reconnect?.minMs, maxMs: o.reconnect?.maxMs, heartbeatMs: o.heartbeatMs,
		});
		this.conn.on('state', (ev) => this.emit('connection', ev));
		this.conn.on('login', ({ answer }) => this.loggedIn(answer));
		this.conn.on('push', ({ frame }) => this.push(frame));
		this.conn.on('error', ({ error }) => this.fail(error, 'login'));
	}

	// Methods and fields not documented with JSDoc below are internal:
	// the page uses only the documented ones.

	// --- identity and state ---

	/** This identity's public key (base64). @type {string} */
	get key() {
		return this.e2e.key;
	}

	/** The account after login/redeem, else null. @type {Account|null} */
	get account() {
		return this.acct ? copy(this.acct) : null;
	}

	/** The connection's state: 'offline'|'connecting'|'online'|'reconnecting'. @type {string} */
	get connection() {
		return this.conn.state;
	}

	changed() {
		this.emit('state', {});
	}

	fail(error, request) {
		const ev = { code: error?.code || ERR.INTERNAL, request };
		if (error?.field) ev.field = error.field;
		if (error?.reason) ev.reason = error.reason;
		this.emit('error', ev);
	}

	load(st, e2eOpts, trustOpts) {
		const bytes = typeof st === 'string' ? utf8.encode(st) : st;
		if (!(bytes instanceof Uint8Array)) throw usage('state is bytes or text');
		if (bytes.length >= 4 && bytesEqual(bytes.subarray(0, 4), RECOVERY_MAGIC)) {
			this.loadRecovery(bytes, e2eOpts);
			return;
		}
		let j;
		try {
			j = JSON.parse(utf8d.decode(bytes));
		} catch {
			throw new OfframpError(ERR.BAD_FIELD, 'state', 'state');
		}
		if (!j || (j.v !== CORE_STATE_VERSION && j.v !== 1) || !Array.isArray(j.cases) || j.cases.length > CASES_MAX)
			throw new OfframpError(ERR.BAD_FIELD, 'state', 'state');
		if (j.v === CORE_STATE_VERSION) {
			this.trust = e2eOpts.trust = Trust.fromJSON(j.trust, trustOpts);
			if (j.server !== null) this.seenServer = b64Decode(j.server, 32, 32, 'state');
		}
		this.e2e = E2E.fromJSON(j.e2e, e2eOpts);
		if (ROLE_CODES.includes(j.role)) this.roleHint = j.role;
		for (const c of j.cases) {
			if (!c || !isId(c.case?.id) || !Array.isArray(c.outbox) || c.outbox.length > OUTBOX_CASE ||
			    (c.messages !== undefined && (!Array.isArray(c.messages) || c.messages.length > HISTORY_CASE)))
				throw new OfframpError(ERR.BAD_FIELD, 'state: case', 'state');
			// a case object that is not one (kept by a page of before
			// shape.js): its id and status, nobody in it, until the
			// server lists it again; its messages and outbox stay
			const e = this.entry(c.case.id, caseShapeOk(c.case) ? c.case : {
				id: c.case.id, status: ['waiting', 'active', 'paused'].includes(c.case.status) ? c.case.status : 'closed',
				participants: [], former: [],
			});
			e.messages = (c.messages || []).map((m) => ({ ...m }));
			for (const m of e.messages) {	// receipts: participants' keys (delivered), kept by a page of before unchecked
				if (m.deliveredTo !== undefined)
					m.deliveredTo = (Array.isArray(m.deliveredTo) ? m.deliveredTo : []).filter((k) => typeof k === 'string' && k.length === 44).slice(0, PARTICIPANTS_MAX);
			}
			for (const m of c.outbox) {
				const have = e.messages.find((x) => x.mine && x.mid === m.mid);
				const msg = have || { ...m, sealed: undefined };
				msg.sealed = m.sealed;
				msg.bind = m.bind;	// its binding, once taken (bindOut)
				if (!(isId(msg.bind?.seq) && Number.isSafeInteger(msg.bind?.time) && msg.bind?.caseId === c.case.id)) delete msg.bind;
				// asked to store, no answer yet: it goes as it is (flushNow)
				if (m.tried === true && msg.bind) msg.tried = true;
				else delete msg.tried;
				if (msg.state === 'sending') msg.state = 'queued';
				if (!have) e.messages.push(msg);
				e.outbox.push(msg);
			}
			e.unread = Number.isSafeInteger(c.unread) ? c.unread : 0;
			e.seen = Number.isSafeInteger(c.seen) && c.seen >= 0 ? c.seen : 0;
			e.shown = Array.isArray(c.shown) ? c.shown.filter((x) => typeof x === 'string' && x.length === 44).slice(-SHOWN_MAX) : [];
			if (Number.isSafeInteger(c.bindOut?.seq) && Number.isSafeInteger(c.bindOut?.time))
				e.bindOut = { seq: c.bindOut.seq, time: c.bindOut.time };
			const o = c.reportOut;	// a report that may be stored: it goes again, as it is (flushNow)
			if (e.bindOut && isId(o?.seq) && o.seq <= e.bindOut.seq && typeof o.mid === 'string' && Array.isArray(o.copies) &&
			    o.copies.length <= PARTICIPANTS_MAX && o.copies.every((x) => typeof x?.to === 'string' && typeof x?.ct === 'string'))
				e.reportOut = { seq: o.seq, mid: o.mid, copies: o.copies.map((x) => ({ to: x.to, ct: x.ct })), tried: true };
			e.binds = {};
			for (const [k, b] of Object.entries(c.binds || {}))
				if (Number.isSafeInteger(b?.seq) && Number.isSafeInteger(b?.time)) e.binds[k] = { seq: b.seq, time: b.time };
			if (isId(c.asked)) e.asked = c.asked;
			e.accepted = acceptedOf(c.accepted);
			// a yes no handover used yet (a state of before: none, as a
			// yes a handover used is not told from one still to use)
			e.yes = acceptedOf(Array.isArray(c.yes) ? c.yes : []);
			// the partners a handover took this case to (with a yes); a
			// state of before kept none: those accepted with no yes left
			e.used = acceptedOf(Array.isArray(c.used) ? c.used : e.accepted.filter((p) => !e.yes.includes(p)));
			if (FEEDBACK_DONE.includes(c.feedback)) e.feedback = c.feedback;
		}
		this.trimHistory();	// a state of before kept any number
	}

	loadRecovery(b, e2eOpts) {
		const bad = () => new OfframpError(ERR.BAD_FIELD, 'recovery state', 'state');
		if (b.length < 39 || (b[4] !== RECOVERY_VERSION && b[4] !== 1)) throw bad();
		const n = b[38];
		if (b.length !== 39 + 40 * n) throw bad();
		this.roleHint = ROLE_CODES[b[5]] || null;
		this.e2e = new E2E({ ...e2eOpts, seed: b.slice(6, 38) });
		const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
		for (let i = 0, p = 39; i < n; i++, p += 40) {
			const id = Number(dv.getBigInt64(p));
			if (!Number.isSafeInteger(id) || id < 0) throw bad();
			// version 1 held keys pinned on first use: not trusted for that
			if (b[4] === RECOVERY_VERSION) this.trust.add(b64Encode(b.slice(p + 8, p + 40)), null, id || null);
		}
	}

	/* The binding of my next message in case k (entry e): its id, my next
	 * running number there (kept, saved with the sessions before the
	 * message leaves) and my clock, never before my previous one. A
	 * message of the outbox takes one once (flushNow: m.bind) and keeps it
	 * through failed seals and seals again: a number is never used up by
	 * an attempt, which the peer would take for a message held back. A
	 * report takes the next one too (report): a message that has not
	 * left by then takes a new one after it (numberTaken). */
	bindOut(e, k) {
		const last = e.bindOut || { seq: 0, time: 0 };
		e.bindOut = { seq: last.seq + 1, time: Math.max(this.now(), last.time) };
		return { caseId: k.id, ...e.bindOut };
	}

	/* true when a report took a later number of case e than outbox
	 * message m holds, and the server has not been asked to store m: m
	 * would come after the report with a lower number (the peer's
	 * "replayed"), so it takes the next one instead. One asked and not
	 * answered (m.tried: the connection closed) may be stored: it keeps
	 * its number and mid, and the server answers a retry "dup". */
	numberTaken(e, m) {
		return Boolean(m.bind && !m.tried && e.bindOut && m.bind.seq < e.bindOut.seq);
	}

	/* true while case e holds a number that may be stored and whose
	 * answer has not come: a report asked (e.reportOut), a message asked
	 * (m.tried). A report takes no number until then (report): whatever
	 * goes again goes with the number it may be stored with, and nothing
	 * after it has taken a later one. */
	unsettled(e) {
		return Boolean(e.reportOut) || e.outbox.some((m) => m.tried);
	}

	/* A promise resolved once case e is settled (or the core logged out). */
	settledOf(e) {
		if (!e.settled) {
			let done = null;
			e.settled = new Promise((resolve) => { done = resolve; });
			e.settled.done = done;
		}
		return e.settled;
	}

	/* Called where a number's outcome became known: wakes a report waiting. */
	settle(e, force = false) {
		if (e.settled && (force || !this.unsettled(e))) {
			e.settled.done();
			e.settled = null;
		}
	}

	/* Drops m.tried (its outcome is known, or it was never asked). */
	untried(e, m) {
		delete m.tried;
		this.settle(e);
	}

	/**
	 * Checks the binding of the version 2 envelope env of msg push f in
	 * case entry e (CRYPTO.md, "Plaintext envelope"): moved to another
	 * case, m is refused (true); replayed, held back or misdated, m.warn
	 * names them; the sender's running number is kept unless replayed. A
	 * report starts its sender's sequence again.
	 */
	bindingRefused(e, f, env, m) {
		e.binds ||= {};
		const last = env.kind === ENVELOPE_REPORT ? null : e.binds[f.from];
		const found = envelopeCheck(env, f.case, last?.seq ?? 0, last?.time ?? 0, this.now());
		if (found & ENVELOPE_MOVED) {
			m.state = 'refused';
			m.reason = 'moved';
			return true;
		}
		const warn = [];
		if (found & ENVELOPE_REPLAYED) warn.push('replayed');
		if (found & ENVELOPE_HELD_BACK) warn.push('held_back');
		if (found & ENVELOPE_FUTURE) warn.push('future');
		if (found & ENVELOPE_EARLIER) warn.push('earlier');
		if (warn.length) m.warn = warn;
		if (!(found & ENVELOPE_REPLAYED)) e.binds[f.from] = { seq: env.seq, time: Math.max(env.time, last?.time ?? 0) };
		return false;
	}

	/**
	 * The whole state: identity, prekey secrets, sessions, the programme
	 * keys trusted (with rotations followed and revocation lists kept), the
	 * server's key, keys seen per case and their verification, the outbox, and (unless
	 * {history: false}) the messages kept per case. It holds secrets: the
	 * page keeps it in memory or seals it (storage.js).
	 * @param {{as?: 'bytes'|'json', history?: boolean}} [opts]
	 * @returns {Uint8Array|string} UTF-8 JSON bytes (default), or the JSON text
	 */
	exportState(opts = {}) {
		const history = opts.history !== false;
		const cases = [];
		for (const [, e] of this.cs) {
			cases.push({
				case: e.kase,
				unread: e.unread,
				binds: e.binds,
				bindOut: e.bindOut,
				reportOut: e.reportOut,
				asked: e.asked,
				accepted: e.accepted,
				yes: e.yes,
				used: e.used,
				feedback: e.feedback,
				seen: e.seen || 0,
				shown: e.shown || [],
				outbox: e.outbox.map((m) => ({ ...m })),
				messages: history ? e.messages.map((m) => ({ ...m, sealed: undefined })) : undefined,
			});
		}
		const text = JSON.stringify({
			v: CORE_STATE_VERSION, role: this.acct?.role || this.roleHint, e2e: this.e2e.toJSON(),
			trust: this.trust.toJSON(), server: this.seenServer ? b64Encode(this.seenServer) : null, cases,
		});
		return opts.as === 'json' ? text : utf8.encode(text);
	}

	/**
	 * The smallest state that restores this account: the identity seed and
	 * the programme keys the user accepted (at most a few hundred bytes,
	 * for a recovery code). Sessions are not in it: after a restore from it,
	 * new sessions are started; messages still in flight to old sessions
	 * arrive as "undecryptable".
	 * Format: "OFRR" || version 2 || role (0 client, 1 counsellor, 2 admin,
	 * 255 unknown) || seed (32) || n (1) || n × (programme id i64 BE || key 32).
	 * @returns {Uint8Array}
	 */
	exportRecovery() {
		const pins = this.trust.accepted().slice(0, 64);
		const out = new Uint8Array(39 + 40 * pins.length);
		out.set(RECOVERY_MAGIC, 0);
		out[4] = RECOVERY_VERSION;
		const r = ROLE_CODES.indexOf(this.acct?.role || this.roleHint);
		out[5] = r < 0 ? 255 : r;
		out.set(this.e2e.seed, 6);
		out[38] = pins.length;
		const dv = new DataView(out.buffer);
		pins.forEach(([id, key], i) => {
			dv.setBigInt64(39 + 40 * i, BigInt(id));
			out.set(b64Decode(key, 32, 32, 'pin'), 47 + 40 * i);
		});
		return out;
	}

	// --- connection ---

	authFrame(frame) {
		return async ({ nonce, serverKey, pow, needPow }) => {
			const want = this.serverKey || this.seenServer;
			if (want && !bytesEqual(serverKey, want)) {
				const err = new OfframpError(ERR.CRYPTO, 'the server is not the one this identity knows');
				err.reason = 'server_key_changed';
				throw err;
			}
			if (!want) {
				this.seenServer = serverKey.slice();
				this.changed();
			}
			const f = { ...frame(), key: this.e2e.key, sig: b64Encode(ocryptoLoginSign(this.e2e.sk, serverKey, nonce)) };
			// a new client account costs a proof of work, a known one
			// nothing: paid when the server asked, or before the first login
			if (f.type === 'login' && pow > 0 && (needPow || !this.acct))
				f.pow = await powSolve(POW_LOGIN, nonce, b64Decode(this.e2e.key, 32, 32, 'key'), pow);
			return f;
		};
	}

	/**
	 * Connects and logs in (challenge signed with the server key and the
	 * context, PROTOCOL.md), then uploads prekeys when the server asks,
	 * fetches the cases and takes the undelivered messages. A new key logs
	 * in as a new anonymous client. Reconnects by itself after that, until
	 * logout(). Safe to call again while connected (resolves at once).
	 * @param {{role?: 'client'|'counsellor'|'admin'}} [opts] role: the
	 *   account's (default: the one in the state, else 'client')
	 * @returns {Promise<Account>}
	 * @throws {OfframpError} e.g. "wrong_role", "account_disabled",
	 *   "unknown_key", "timeout", "connection"
	 */
	async login(opts = {}) {
		if (this.acct && this.conn.state === 'online') return this.account;
		const role = opts.role || this.acct?.role || this.roleHint || 'client';
		if (!ROLE_CODES.includes(role)) throw usage('role');
		this.conn.setAuth(this.authFrame(() => ({ type: 'login', role })));
		this.afterLogin = null;
		await this.conn.start();
		await this.afterLogin;
		return this.account;
	}

	/**
	 * Redeems an invite: a counsellor (or admin) account for this identity,
	 * with keys made here; logs in, uploads a signed prekey and one-time
	 * prekeys, and sets the profile when one is given (counsellors).
	 * @param {string} invite  the token (base64url)
	 * @param {string} name  the display name (1..64 bytes)
	 * @param {object} [profile]  profile.set fields (PROTOCOL.md), capacity excepted
	 * @returns {Promise<Account>}
	 * @throws {OfframpError} "bad_invite", "forbidden", "bad_field"...
	 */
	async redeem(invite, name, profile) {
		ocryptoInviteDecode(invite);
		if (!frameIsName(name)) throw new OfframpError(ERR.BAD_FIELD, 'name', 'name');
		if (profile && 'capacity' in profile) throw new OfframpError(ERR.FORBIDDEN, 'capacity is the admin\'s', 'capacity');
		if (this.conn.state !== 'offline') this.conn.stop();
		let redeemed = false;
		this.conn.setAuth(this.authFrame(() => (redeemed
			? { type: 'login', role: this.acct.role }
			: { type: 'redeem', invite, name })));
		this.afterLogin = null;
		await this.conn.start();
		redeemed = true;
		await this.afterLogin;
		if (profile && Object.keys(profile).length > 0 && this.acct.role === 'counsellor')
			await this.setProfile(profile);
		return this.account;
	}

	/** Closes the connection and stops reconnecting; state stays. */
	logout() {
		this.conn.stop();
		clearTimeout(this.ackTimer);
		this.ackTimer = null;
		for (const e of this.cs.values()) {
			clearTimeout(e.retryTimer);
			e.retryTimer = null;
			this.settle(e, true);	// a report waiting gives up (report)
		}
	}

	// every (re)login: who we are, prekeys, cases, then the outboxes;
	// chained before the pushes that follow login.ok
	loggedIn(answer) {
		const a = answer.account || {};
		this.acct = {
			// this page's own key, whatever the server names (a colleague
			// types it to bring this user in: members.js)
			key: this.e2e.key, role: ROLE_CODES.includes(a.role) ? a.role : 'client',
			name: typeof a.name === 'string' ? a.name : '', programme: Number.isSafeInteger(a.programme) ? a.programme : null,
		};
		if (this.roleHint !== this.acct.role) {
			this.roleHint = this.acct.role;
			this.changed();
		}
		this.lowPush = null;
		this.inLogin = true;
		this.emit('account', { account: this.account });
		const run = this.chain(async () => {
			try {
				await this.ask({ type: 'ping' });	// a barrier: prekeys.low has come if it comes
			} finally {
				this.inLogin = false;
			}
			const fresh = this.e2e.spk.length === 0;
			if (this.lowPush || this.e2e.needsRotation()) {
				if (this.e2e.needsRotation()) this.e2e.spkRotate();
				// a refused upload is told, not fatal: the cases still come
				await this.upload(this.lowPush ? E2E.wanted(this.lowPush) : fresh ? 30 : 0)
					.catch((e) => this.fail(e, 'prekeys.upload'));
			}
			this.lowPush = null;
			if (this.acct.role !== 'admin') await this.refreshCasesNow();
			for (const id of this.cs.keys()) this.flush(id);
		});
		this.afterLogin = run.catch((e) => {
			this.fail(e, 'login');
			throw e;
		});
		this.afterLogin.catch(() => {});
	}

	chain(fn) {
		const p = this.inbox.then(fn);
		this.inbox = p.catch(() => {});
		return p;
	}

	ask(frame, opts) {
		return this.conn.request(frame, opts);
	}

	/** Asks frame with the proof of work of purpose that the latest
	 * challenge asks for, and again with a fresh one after pow_required
	 * (the challenge that follows it is taken before a ping's answer). */
	async askPaid(frame, purpose = POW_CASE) {
		for (let tries = 0; ; tries++) {
			const f = { ...frame };
			const bits = this.conn.powBits || 0;
			if (bits > 0 && this.conn.nonce)
				f.pow = await powSolve(purpose, this.conn.nonce, b64Decode(this.e2e.key, 32, 32, 'key'), bits);
			try {
				return await this.ask(f);
			} catch (e) {
				if (e?.code !== ERR.POW_REQUIRED || tries >= 3) throw e;
				await this.ask({ type: 'ping' });
			}
		}
	}

	async upload(n) {
		if (this.uploading) return this.uploading;
		const bundle = this.e2e.makeBundle(n);	// onChange ran: secrets kept first
		this.uploading = this.ask({ type: 'prekeys.upload', bundle: b64Encode(bundle) })
			.finally(() => { this.uploading = null; });
		return this.uploading;
	}

	push(f) {
		switch (f.type) {
		case 'prekeys.low':
			if (this.inLogin) this.lowPush = f;	// taken by the login's upload
			else this.upload(E2E.wanted(f)).catch((e) => this.fail(e, 'prekeys.upload'));
			break;
		case 'case':
			this.chain(() => this.caseUpdate(f.case)).catch((e) => this.fail(e, 'case'));
			break;
		case 'msg':
			this.chain(() => this.received(f)).catch((e) => this.fail(e, 'msg'));
			break;
		case 'msg.delivered':
			this.chain(() => this.delivered(f)).catch((e) => this.fail(e, 'msg.delivered'));
			break;
		case 'queue':
			this.chain(() => this.queued(f)).catch((e) => this.fail(e, 'queue'));
			break;
		default:
			break;	// unknown pushes are ignored, as unknown fields
		}
	}

	// --- cases ---

	entry(id, kase) {
		let e = this.cs.get(id);
		if (!e) {
			e = { kase, messages: [], outbox: [], unread: 0, announced: new Set(), certOk: new Map(), kept: 0 };
			this.cs.set(id, e);
		}
		return e;
	}

	me(p) {
		return p?.key === this.e2e.key;
	}

	participantsOk(k) {
		return participantsOk(k, (p) => this.me(p), this.acct?.role || this.roleHint);
	}

	view(e) {
		const k = e.kase;
		const participants = (Array.isArray(k.participants) ? k.participants : []).map((p) => ({
			key: p.key, role: p.role, name: p.name, programme: p.programme, me: this.me(p),
			certified: p.role === 'counsellor' && e.certOk.get(certTag(p)) === true,
			refused: p.role === 'counsellor' && typeof e.certOk.get(certTag(p)) === 'string' ? e.certOk.get(certTag(p)) : null,
			changed: !this.me(p) && this.e2e.keyChanged(k, p),
			verified: !this.me(p) && this.e2e.isVerified(k, p),
			as: typeof p.as === 'string' ? p.as : p.role, joining: !told(p) || (!this.me(p) && unconfirmed(e, p)),
		}));
		const former = (Array.isArray(k.former) ? k.former : []).map((p) => ({
			key: p.key, role: p.role, name: p.name, as: typeof p.as === 'string' ? p.as : p.role,
			left: p.left, reason: typeof p.reason === 'string' ? p.reason : 'left',
		}));
		return {
			id: k.id, status: k.status, language: k.language, topic: k.topic ?? null,
			urgency: k.urgency, created: k.created, updated: k.updated,
			preferences: copy(k.preferences) ?? null, participants, former, unread: e.unread,
			members: isId(k.members) || k.members === 0 ? k.members : 0,
			seen: e.seen || 0,	// the membership version this page confirmed (requests.js)
			// someone this page has yet to show and confirm: a version
			// not confirmed here, or one the server says all were told of
			toConfirm: (e.seen || 0) < (isId(k.members) ? k.members : 0) ||
				(Array.isArray(k.participants) ? k.participants : []).some((p) => !this.me(p) && told(p) && unconfirmed(e, p)),
			blocked: participants.some((p) => p.changed),
			waitingSince: k.status === 'waiting' ? k.updated ?? k.created : null,
			queuePosition: k.status === 'waiting' && isId(k.queue_position) ? k.queue_position : null,
			outbox: e.outbox.length,
			feedback: e.feedback || null,
			referral: this.referralView(e, participants),
		};
	}

	/**
	 * The cases known now (client: its own; counsellor: assigned), newest
	 * first; copies.
	 * @returns {Case[]}
	 */
	cases() {
		return [...this.cs.values()].map((e) => this.view(e))
			.sort((a, b) => (b.updated || b.created || 0) - (a.updated || a.created || 0));
	}

	/** One case, or null. @param {number} id @returns {Case|null} */
	caseOf(id) {
		const e = this.cs.get(id);
		return e ? this.view(e) : null;
	}

	/**
	 * Asks the server for the cases again (case.list) and checks their keys.
	 * @returns {Promise<Case[]>}
	 */
	async refreshCases() {
		await this.chain(() => this.refreshCasesNow());
		return this.cases();
	}

	async refreshCasesNow() {
		const a = await this.ask({ type: 'case.list' });
		// the server left cases out (past one frame, or its 100): a case
		// not in the list may still be ours
		const list = Array.isArray(a.cases) ? a.cases.slice(0, LISTED_MAX) : [];
		this.casesMore = a.more === true || list.length < (Array.isArray(a.cases) ? a.cases.length : 0);
		for (let i = 0; i < list.length; i++) {
			if (i > 0 && i % LISTED_SLICE === 0) await nextTask();
			await this.caseUpdate(list[i], true);
		}
	}

	/* A case object from the server: its shape checked (shape.js; one
	 * that is not a case object is dropped, and the case stays as it was),
	 * stored, keys checked, certificates checked, events; then its outbox
	 * may go. */
	async caseUpdate(k, listed = false) {
		if (!caseShapeOk(k)) return;
		const old = this.cs.get(k.id);
		// what the views were told last: a listing replaced while it
		// waited (below) told them nothing
		const previous = old ? old.told ?? this.view(old) : null;
		if (!old && this.cs.size >= CASES_MAX) return;
		const e = this.entry(k.id, k);
		e.kase = k;
		e.listing = k;	// the newest listing given here (a queue push copies e.kase)
		if (!old && this.asking && k.status !== 'closed' && this.acct?.role === 'client') {
			e.asked = this.asking;	// the programme of the request (requestCase)
			this.asking = null;
		}
		// a colleague confirmed here and gone since is shown again first,
		// however the server lists it when it comes back
		if (e.shown?.length) e.shown = e.shown.filter((key) => (Array.isArray(k.participants) ? k.participants : []).some((p) => p?.key === key));
		const former = Array.isArray(k.former) ? k.former : [];
		for (const p of [...(Array.isArray(k.participants) ? k.participants : []), ...former]) {
			// the programme the user asked for, which every check holds to
			// (a former counsellor's messages too: checked as it was)
			if (p && typeof p === 'object') delete p.asked_programme;
			const want = p?.role === 'counsellor' ? this.wantOf(e, p) : null;
			if (want != null) p.asked_programme = want;
		}
		await this.handOver(e, k);
		if (e.listing !== k) return;	// a newer listing came meanwhile: it decides
		// one event an update, for a key changed not told of before; what
		// is kept of them is what is changed now (the listing's bound)
		const changed = this.e2e.checkCase(k);
		const tags = new Set(changed.map((p) => `${p.role}:${p.key}`));
		const fresh = changed.find((p) => !e.announced.has(`${p.role}:${p.key}`));
		e.announced = tags;
		if (fresh) this.emit('keychange', { caseId: k.id, participant: this.view(e).participants.find((x) => x.key === fresh.key) });
		for (const p of k.participants || []) {
			if (p.role !== 'counsellor' || this.me(p) || e.certOk.has(certTag(p))) continue;
			try {
				await this.e2e.checkCounsellor(p, (f) => this.ask(f));
				certKeep(e, p, true);
			} catch (err) {
				if (!err.reason) continue;	// not decided (offline): checked again later
				certKeep(e, p, err.reason);
				if (err.programme) this.offer(k.id, err.programme);
			}
		}
		const now = this.view(e);
		const mine = (k.participants || []).some((p) => this.me(p));
		if (this.acct?.role === 'counsellor' && mine && !listed &&
		    (!previous || !previous.participants.some((p) => p.me)))
			this.emit('newcase', { case: now });
		if (!previous || JSON.stringify(previous) !== JSON.stringify(now) || !listed) {
			e.told = now;
			this.emit('case', { case: now, previous });
		}
		this.flush(k.id);
	}

	/* Tells the views case entry e as it is now (a 'case' event, previous:
	 * the view before), and keeps what it told: an update's previous. */
	tell(e, previous) {
		const now = this.view(e);
		e.told = now;
		this.emit('case', { case: now, previous });
	}

	/*
	 * What a check of counsellor p's certificate found at a send or a
	 * message (true, or why it was refused) is what the case shows of it
	 * from then on: one its programme revoked after the case listed it as
	 * certified is no longer shown so once a send or a message finds out.
	 */
	certFound(e, p, ok) {
		if (!p || participantRole(p) !== 'counsellor' || this.me(p) || e.certOk.get(certTag(p)) === ok) return;
		const previous = this.view(e);
		certKeep(e, p, ok);
		this.tell(e, previous);
	}

	async move(type, id) {
		const e = this.cs.get(id);
		if (!isId(id)) throw usage('case id');
		const a = await this.ask({ type, case: id });
		if (type === 'case.reassign') this.e2e.forgetRole(id, 'counsellor');
		if (type === 'case.reassign' && e) e.certOk.clear();
		await this.chain(() => this.caseUpdate(a.case));
		return this.caseOf(id);
	}

	/**
	 * The messages of a case, oldest first (ours and theirs, every state);
	 * copies. At most 1000 are kept per case (the oldest go).
	 * @param {number} id @returns {Message[]}
	 */
	messages(id) {
		const e = this.cs.get(id);
		return e ? e.messages.map((m) => { const c = { ...m }; delete c.sealed; delete c.bind; delete c.tried; return c; }) : [];
	}

	/**
	 * Forgets the messages kept per case that are older than before
	 * (seconds since the epoch), but none waiting in an outbox: the page's
	 * history expiry ("Keep on this device"). Emits no event: the caller
	 * saves and redraws. @param {number} before @returns {number} how many went
	 */
	expireHistory(before) {
		let gone = 0;
		for (const [, e] of this.cs) {
			const kept = e.messages.filter((m) => !(typeof m.ts === 'number' && m.ts < before) || e.outbox.includes(m));
			gone += e.messages.length - kept.length;
			e.messages = kept;
		}
		return gone;
	}

	/** Marks a case's messages read (resets unread). @param {number} id */
	markRead(id) {
		const e = this.cs.get(id);
		if (e && e.unread !== 0) {
			e.unread = 0;
			this.changed();
		}
	}

	/* Keeps message m in case entry e: past HISTORY_CASE the oldest goes
	 * (never one of the outbox); a message not read (refused, not
	 * readable, a report) goes first once there are REFUSED_CASE of them,
	 * so that what the server injects cannot push the case's meetings,
	 * its agreement and its conversation out. */
	keep(e, m) {
		e.messages.push(m);
		const unread = (x) => !x.mine && x.state !== 'received';
		if (unread(m) && e.messages.filter(unread).length > REFUSED_CASE)
			e.messages.splice(e.messages.findIndex(unread), 1);
		while (e.messages.length > HISTORY_CASE) {
			const i = e.messages.findIndex((x) => !e.outbox.includes(x));
			e.messages.splice(i < 0 ? 0 : i, 1);
		}
		// counted up as messages come, counted again when past the bound
		// (what went since counts until then)
		this.historyBytes += historySize(m);
		if (this.historyBytes > HISTORY_BYTES) this.trimHistory();
	}

	/* Counts the history of every case again and, past HISTORY_BYTES,
	 * forgets the oldest messages of all cases, an outbox's never, down
	 * to nine tenths of it (so that it is not counted again at the next
	 * message). */
	trimHistory() {
		let total = 0;
		for (const e of this.cs.values()) for (const m of e.messages) total += historySize(m);
		while (total > HISTORY_BYTES * 0.9) {
			let oldest = null, at = -1;
			for (const e of this.cs.values()) {
				const i = e.messages.findIndex((x) => !e.outbox.includes(x));
				if (i >= 0 && (!oldest || (e.messages[i].ts ?? 0) < (oldest.messages[at].ts ?? 0))) {
					oldest = e;
					at = i;
				}
			}
			if (!oldest) break;	// outboxes alone (100 a case, bounded)
			total -= historySize(oldest.messages[at]);
			oldest.messages.splice(at, 1);
		}
		this.historyBytes = total;
	}

	/**
	 * Sends text in a case: encrypted once per other participant (X3DH and
	 * the Double Ratchet, e2e.js). Returns at once with the message in
	 * state "queued"; it goes out when the case has a counsellor and no
	 * changed key, and is re-sent with the same mid across reconnects until
	 * the server acknowledges it ("message-state" events follow).
	 * @param {number} id @param {string} text  1..16105 bytes of UTF-8
	 * @param {{to?: string, summary?: boolean}} [alone]  to: the one
	 *   participant (base64 key) who reads it, the others get "nothing"
	 *   (CRYPTO.md); summary: as a referral's summary, one copy to "to"
	 *   alone (referral.summary; referral.js)
	 * @returns {Message}
	 * @throws {OfframpError} "usage" (empty, too long), "not_found",
	 *   "case_closed", "limit" (the outbox is full: 100 per case)
	 */
	send(id, text, alone = {}) {
		const bytes = textBytes(text, ENVELOPE_V2_TEXT_MAX);
		const e = this.cs.get(id);
		if (!e) throw new OfframpError(ERR.NOT_FOUND, 'no such case');
		if (e.kase.status === 'closed') throw new OfframpError(ERR.CASE_CLOSED, 'the case is closed');
		if (e.outbox.length >= OUTBOX_CASE) throw new OfframpError(ERR.LIMIT, 'the outbox is full');
		bytes.fill(0);
		const m = {
			mid: b64Encode(sodium.randombytes_buf(OFR_MID_BYTES)), caseId: id, from: this.e2e.key,
			name: this.acct?.name || '', mine: true, text, ts: this.now(), state: 'queued',
		};
		if (typeof alone.to === 'string') m.to = alone.to;
		if (m.to && alone.summary === true) m.summary = true;
		return this.enqueue(e, id, m);
	}


	/* Keeps message m of case entry e (case id) and puts it in the
	 * outbox, told and sent as soon as the connection allows; a copy. */
	enqueue(e, id, m) {
		// a meeting's or the agreement's: from my side of the case, kept
		if (m.meeting || m.agreement) m.side = sidesOf(e.kase).get(this.e2e.key) || null;
		this.keep(e, m);
		e.outbox.push(m);
		this.changed();
		this.emit('message-state', { caseId: id, message: { ...m } });
		this.flush(id);
		return { ...m };
	}
	/**
	 * Answers the meeting or agreement message mid that key from sent in
	 * case id (a mid names a message of one sender only: the server
	 * chooses what it pushes as the mid): accepts or declines a meeting
	 * proposed or rescheduled (the time it names), accepts an agreement
	 * proposed or revised (its version). It goes as send's texts go.
	 * @param {'accept'|'decline'} action
	 * @returns {Message} @throws {OfframpError} "not_found", "usage",
	 *   "case_closed", "limit"
	 */
	answer(id, from, mid, action) {
		const e = this.cs.get(id);
		const r = e?.messages.find((x) => !x.mine && x.from === from && x.mid === mid && (x.meeting || x.agreement));
		if (!r) throw new OfframpError(ERR.NOT_FOUND, 'no such meeting or agreement');
		if (!sidesOf(e.kase).get(this.e2e.key)) throw new OfframpError(ERR.USAGE, 'only the client and its counsellor answer these');
		if (e.kase.status === 'closed') throw new OfframpError(ERR.CASE_CLOSED, 'the case is closed');
		if (e.outbox.length >= OUTBOX_CASE) throw new OfframpError(ERR.LIMIT, 'the outbox is full');
		const open = r.meeting ? ['propose', 'reschedule'].includes(r.meeting.action) : ['propose', 'revise'].includes(r.agreement.action);
		if (!open || !['accept', 'decline'].includes(action) || (r.agreement && action !== 'accept'))
			throw new OfframpError(ERR.USAGE, 'not an answer to that');
		const m = {
			mid: b64Encode(sodium.randombytes_buf(OFR_MID_BYTES)), caseId: id, from: this.e2e.key,
			name: this.acct?.name || '', mine: true, text: '', ts: this.now(), state: 'queued',
		};
		if (r.meeting) m.meeting = { action, id: r.meeting.id, time: r.meeting.time, place: '', recognise: '' };
		else m.agreement = { action, version: r.agreement.version };
		return this.enqueue(e, id, m);
	}

	/**
	 * Proposes something structured in case id, sent as send's texts go:
	 * a meeting {meeting: {time (seconds), place, recognise}} (a new id),
	 * a new time and place for one {meeting: {action: 'reschedule', id,
	 * time, place, recognise}} or its cancellation {meeting: {action:
	 * 'cancel', id}} (the time it has; meetings.js),
	 * the counselling agreement {agreement: {objectives, formats,
	 * frequency, crisis}} (version 1, or a revision of the latest one
	 * kept), or a referral card {referral: {name, contact, expect, say}}
	 * (CRYPTO.md, "Plaintext envelope"). @returns {Message}
	 * @throws {OfframpError} "bad_field", "too_big" (what the envelope
	 *   refuses), "not_found", "case_closed", "limit"
	 */
	propose(id, item) {
		const e = this.cs.get(id);
		if (!e) throw new OfframpError(ERR.NOT_FOUND, 'no such case');
		if (e.kase.status === 'closed') throw new OfframpError(ERR.CASE_CLOSED, 'the case is closed');
		if (e.outbox.length >= OUTBOX_CASE) throw new OfframpError(ERR.LIMIT, 'the outbox is full');
		if ((item.meeting || item.agreement) && !sidesOf(e.kase).get(this.e2e.key))
			throw new OfframpError(ERR.USAGE, 'only the client and its counsellor propose these');
		const m = {
			mid: b64Encode(sodium.randombytes_buf(OFR_MID_BYTES)), caseId: id, from: this.e2e.key,
			name: this.acct?.name || '', mine: true, text: '', ts: this.now(), state: 'queued',
		};
		if (item.meeting) {
			const x = item.meeting;
			const action = x.action || 'propose';
			if (!['propose', 'reschedule', 'cancel'].includes(action)) throw new OfframpError(ERR.USAGE, 'no such meeting action');
			if (action === 'propose') {
				m.meeting = { action, id: 1 + sodium.randombytes_uniform(0x7fffffff), time: x.time,
					place: x.place || '', recognise: x.recognise || '' };
			} else {
				const known = meetingsOf(e.messages, sidesOf(e.kase)).find((k) => k.id === x.id);
				if (!known) throw new OfframpError(ERR.NOT_FOUND, 'no such meeting');
				// a cancel names the time the meeting has
				m.meeting = action === 'cancel' ? { action, id: known.id, time: known.time, place: '', recognise: '' }
					: { action, id: known.id, time: x.time, place: x.place || '', recognise: x.recognise || '' };
			}
		} else if (item.agreement) {
			// the version in force (a colleague's numbers count for nothing)
			const latest = agreementOf(e.messages, sidesOf(e.kase))?.version || 0;
			m.agreement = { action: latest ? 'revise' : 'propose', version: latest + 1 };
			for (const f of AGREEMENT_FIELDS) m.agreement[f] = item.agreement[f] || '';
		} else if (item.referral) {
			m.referral = {};
			for (const f of REFERRAL_FIELDS) m.referral[f] = item.referral[f] || '';
		} else {
			throw new OfframpError(ERR.USAGE, 'nothing to propose');
		}
		envelopeWrite({ caseId: 1, seq: 1, time: 0, ...envelopeBody(m) });	// throws what a peer would refuse
		return this.enqueue(e, id, m);
	}

	/**
	 * Refers case id to an external partner (PROTOCOL.md, case.referred):
	 * the referral card (propose) first; once the server has taken it,
	 * the server is told only that the case was referred. Resolves with
	 * the answer; rejects when the card failed.
	 * @param {{name, contact, expect, say}} card
	 */
	async refer(id, card) {
		const sent = this.propose(id, { referral: card });
		await new Promise((resolve, reject) => {
			const off = this.on('message-state', ({ message }) => {
				if (message.mid !== sent.mid) return;
				if (message.state === 'sent' || message.state === 'delivered') resolve(off());
				else if (message.state === 'failed') reject(new OfframpError(message.reason || ERR.INTERNAL, 'the card was not sent'), off());
			});
		});
		return this.ask({ type: 'case.referred', case: id });
	}

	setMsg(e, m, state, reason) {
		m.state = state;
		if (reason) m.reason = reason;
		else delete m.reason;
		const c = { ...m };
		delete c.sealed;
		delete c.bind;
		delete c.tried;
		this.changed();
		this.emit('message-state', { caseId: m.caseId, message: c });
	}

	/* After a retryable refusal of msg.send: flush case e again in 2 s,
	 * doubling up to RETRY_MAX_MS while the server keeps refusing. */
	retryLater(e) {
		if (e.retryTimer) return;
		e.retryMs = Math.min(e.retryMs ? e.retryMs * 2 : 2000, RETRY_MAX_MS);
		e.retryTimer = setTimeout(() => {
			e.retryTimer = null;
			this.flush(e.kase.id);
		}, e.retryMs);
	}

	/* Sends what waits in the outbox of case id, in order, one at a time. */
	flush(id) {
		const e = this.cs.get(id);
		if (e && this.flushing.has(id)) {
			e.again = true;
			return;
		}
		if (!e || (e.outbox.length === 0 && !e.reportOut) || this.conn.state !== 'online' || !this.acct) return;
		this.flushing.add(id);
		this.flushNow(e).catch((err) => this.fail(err, 'msg.send')).finally(() => {
			this.flushing.delete(id);
			if (e.again) {
				e.again = false;
				this.flush(id);
			}
		});
	}

	async flushNow(e) {
		const ask = (f) => this.ask(f);
		while ((e.outbox.length > 0 || e.reportOut) && this.conn.state === 'online') {
			const k = e.kase, m = e.outbox[0];
			if (e.reporting) {	// a report's number first: it leaves before
				await e.reporting;
				continue;
			}
			if (e.reportOut) {	// a report that may be stored goes again first, as it was
				try {
					await this.reportAgain(e);
				} catch (err) {
					if (err.code !== ERR.CONN) this.fail(err, 'msg.send');
					if (e.reportOut) return;	// later (retryLater), or at the next login
				}
				continue;
			}
			if (this.numberTaken(e, m)) {	// it takes the next one
				delete m.sealed;
				delete m.bind;
			}
			if (!m.sealed) {
				const others = (k.participants || []).filter((p) => !this.me(p) && told(p));
				const why = k.status !== 'active' && k.status !== 'paused' ? (k.status === 'closed' ? ERR.CASE_CLOSED : ERR.CASE_WAITING)
					: !this.participantsOk(k) ? 'bad_participants'
					: others.some((p) => unconfirmed(e, p)) ? 'members_unconfirmed'
					: others.length === 0 || !(k.participants || []).some((p) => p.role === 'counsellor') ? ERR.CASE_WAITING
					: others.some((p) => this.e2e.keyChanged(k, p)) ? 'key_changed' : null;
				if (why) {	// every message waiting says why
					for (const x of e.outbox) if (!x.sealed && x.reason !== why) this.setMsg(e, x, 'queued', why);
					return;
				}
				if (m.to && !others.some((p) => p.key === m.to)) {	// the one it is for is not (or not yet) in the case
					e.outbox.shift();
					this.setMsg(e, m, 'failed', ERR.NOT_FOUND);
					continue;
				}
				if (m.reason) this.setMsg(e, m, 'queued');
				const copies = [];
				const resets = this.resetsMade;
				let at = null;
				try {
					const bind = m.bind ||= this.bindOut(e, k);	// saved with the outbox
					const bytes = envelopeWrite({ ...bind, ...envelopeBody(m) });
					// to one alone: the others get "nothing"; a summary, no copy to them
					const nothing = m.to ? envelopeWrite({ ...bind, kind: ENVELOPE_NOTHING }) : null;
					for (const p of others) {
						if (m.summary && p.key !== m.to) continue;
						at = p;
						copies.push(await this.e2e.seal(p, m.to && p.key !== m.to ? nothing : bytes, ask));
						this.certFound(e, p, true);
					}
				} catch (err) {
					if (err.reason) {	// uncertified, bad bundle: waits, told
						if (CERT_REFUSALS.has(err.reason)) this.certFound(e, at, err.reason);
						this.setMsg(e, m, 'queued', err.reason);
						this.fail(err, 'msg.send');
					}
					return;	// a network error: the next login tries again
				}
				// a report took the next number meanwhile, or sessions were
				// dropped (one of these copies may be in a dead one): again
				if (this.resetsMade !== resets || this.numberTaken(e, m)) continue;
				m.sealed = { case: k.id, copies };
				this.changed();
			}
			// a report or a reset while it was sealed: sealed again
			if (e.reporting || !m.sealed || this.numberTaken(e, m)) continue;
			// from here the server may have it: until it answers it keeps
			// its number and mid (a retry is answered "dup"), and no report
			// takes a later one (unsettled); kept so, before it leaves, for
			// a page loaded again (asked before, and not answered: it stays so)
			const asked = m.tried === true;
			m.tried = true;
			// the sessions and the number that sealed it are kept before it
			// leaves: else a device closed at once seals its next message
			// with them again, which the peer refuses as a replay
			try {
				await this.keepBeforeSend();
			} catch (err) {
				if (!asked) this.untried(e, m);
				this.setMsg(e, m, 'queued', err.code);
				this.fail(err, 'msg.send');
				this.retryLater(e);
				return;
			}
			// a report or a reset meanwhile: sealed again (nothing left yet)
			if (e.reporting || !m.sealed || this.numberTaken(e, m)) {
				if (!asked) this.untried(e, m);
				continue;
			}
			this.setMsg(e, m, 'sending');
			try {
				const [one] = m.sealed.copies;
				await this.ask(m.summary ? { type: 'referral.summary', case: m.sealed.case, mid: m.mid, to: one.to, ct: one.ct }
					: { type: 'msg.send', case: m.sealed.case, mid: m.mid, copies: m.sealed.copies }, { retry: true });
			} catch (err) {
				if (err.code === ERR.CONN || err.code === ERR.TIMEOUT) {
					this.setMsg(e, m, 'queued');
					return;
				}
				// refused: nothing was stored, but by an "unavailable"
				// cut in its commit: that one keeps its number and mid
				if (err.code !== ERR.UNAVAILABLE) this.untried(e, m);
				if (RETRYABLE.has(err.code)) {
					// the same copies (the same mid) go again a little
					// later, until the server takes them (sealed again if a
					// report or a reset came meanwhile)
					this.setMsg(e, m, 'queued', err.code);
					this.fail(err, 'msg.send');
					this.retryLater(e);
					return;
				}
				delete m.sealed;
				if ((err.code === ERR.BAD_RECIPIENTS || err.code === ERR.CASE_WAITING) && (m.reseals = (m.reseals || 0) + 1) <= 3) {
					// the participants changed: seal again for the new ones
					this.setMsg(e, m, 'queued', err.code);
					await this.refreshCasesNow().catch(() => {});
					continue;
				}
				e.outbox.shift();
				// refused for good, and no try of it may be stored (none
				// before, and this one sent once: a try cut by a reconnect
				// may be): its running number is given back when none was
				// taken after it, or the peers see the next one "held back"
				if (!asked && err.sends === 1 && m.bind && e.bindOut?.seq === m.bind.seq)
					e.bindOut = { ...e.bindOut, seq: m.bind.seq - 1 };
				delete m.bind;
				this.setMsg(e, m, 'failed', err.code);
				this.fail(err, 'msg.send');
				continue;
			}
			e.outbox.shift();
			delete m.sealed;
			delete m.bind;
			this.untried(e, m);
			e.retryMs = 0;
			// a referral's summary changes the case, which the server pushes to nobody
			if (m.summary) await this.refreshCasesNow().catch(() => {});
			// a receipt may have come before the answer was read
			this.setMsg(e, m, this.allDelivered(e, m) ? 'delivered' : 'sent');
		}
	}

	/* A msg push: checked, opened, kept, told; then acknowledged (or left
	 * on the server while a changed key waits for verify). */
	async received(f) {
		if (!Number.isSafeInteger(f.seq) || !isId(f.case) || typeof f.mid !== 'string' || typeof f.from !== 'string')
			return;		// malformed: never acked, never shown
		let e = this.cs.get(f.case);
		if (!e && this.acct?.role !== 'admin') {
			await this.refreshCasesNow();
			e = this.cs.get(f.case);
		}
		const m = {
			mid: f.mid, caseId: f.case, from: f.from, name: '?', mine: false, text: null,
			// no later than now: a time the server puts in the future would
			// keep the message past the history's days
			ts: Number.isSafeInteger(f.ts) && f.ts <= this.now() ? f.ts : this.now(), state: 'received',
		};
		const ack = () => this.ack(f.seq);
		if (!e && this.casesMore) {
			// not in the server's list of ours, which left some out: kept
			// on the server (never acked as a stranger's), not shown
			return;
		}
		if (!e) {
			// nobody this client knows: injected, or from a case it left
			this.emit('undecryptable', { caseId: f.case, message: { ...m, state: 'refused', reason: 'stranger' } });
			ack();
			return;
		}
		const k = e.kase;
		const dup = e.messages.find((x) => !x.mine && x.mid === m.mid && x.from === m.from);
		if (dup && dup.state === 'received') {
			ack();	// delivered again (our ack was lost): shown already
			return;
		}
		// one who has left is looked up among the former: its message,
		// sent while it was in the case, is checked by its certificate
		const former = (k.former || []).find((x) => x.key === f.from && participantRole(x) === 'counsellor');
		const p = (k.participants || []).find((x) => x.key === f.from) || former;
		m.name = typeof p?.name === 'string' ? p.name : '?';
		let from, ct, fate = 'ack';
		try {
			from = b64Decode(f.from, 32, 32, 'from');
			ct = b64Decode(f.ct, 1, OFR_CT_MAX, 'ct');
		} catch {
			m.state = 'undecryptable';
			m.reason = 'crypto';
		}
		if (m.state === 'received' && !p) {
			m.state = 'refused';
			m.reason = 'stranger';
		} else if (m.state === 'received' && !this.participantsOk(k)) {
			m.state = 'refused';	// kept on the server: the list may be mended
			m.reason = 'bad_participants';
			fate = 'keep';
		} else if (m.state === 'received' && this.e2e.keyChanged(k, p)) {
			m.state = 'refused';
			m.reason = 'key_changed';
			fate = 'keep';
		} else if (m.state === 'received' && participantRole(p) === 'counsellor') {
			// at every message, not only a first one (the programme's
			// answer is fresh for a while): a counsellor its programme
			// revoked is read no more, in a session made before too
			try {
				await this.e2e.checkCounsellor(p, (fr) => this.ask(fr));
				this.certFound(e, p, true);
			} catch (err) {
				if (!err.reason) throw err;	// not checked: it stays on the server
				this.certFound(e, p, err.reason);
				m.state = 'refused';
				m.reason = err.reason;
				if (err.programme) {	// kept on the server until the user decides
					this.offer(f.case, err.programme);
					fate = 'keep';
				}
			}
		}
		let kind = ENVELOPE_TEXT;
		if (m.state === 'received') {
			let pt = null;
			try {
				pt = this.e2e.open(from, ct);
			} catch (err) {
				m.state = 'undecryptable';
				m.reason = err.reason || (err.code === ERR.LIMIT ? 'limit' : 'crypto');
				// a first message of a session this page dropped itself is
				// no replay: it is one more that could not be read
				if (m.reason === 'replay' && E2E.isFirst(ct) && this.resets.has(f.from)) m.reason = 'no_session';
				if (m.reason === 'malformed') m.reason = 'crypto';
				else if (m.reason !== 'replay') m.reset = this.unreadable(f.case, f.from, m.reason);
			}
			if (pt) {
				try {
					const env = envelopeParse(pt);
					kind = env.kind;
					if (env.version === 2 && this.bindingRefused(e, f, env, m)) kind = ENVELOPE_TEXT;
					else if (kind === ENVELOPE_TEXT) m.text = utf8d.decode(env.text);
					else if (kind === ENVELOPE_MEETING) {
						const x = env.meeting;
						m.meeting = { action: MEETING_ACTIONS[x.action], id: x.id, time: x.time,
							place: utf8d.decode(x.place), recognise: utf8d.decode(x.recognise) };
						m.text = '';
					} else if (kind === ENVELOPE_AGREEMENT) {
						const x = env.agreement;
						m.agreement = { action: AGREEMENT_ACTIONS[x.action], version: x.version };
						AGREEMENT_FIELDS.forEach((name, i) => { m.agreement[name] = utf8d.decode(x.fields[i]); });
						m.text = '';
					}
					// the side it came from, as the case is now (meetings.js):
					// one who becomes the case's counsellor later (a partner's
					// at the handover) did not send it as such
					if (m.meeting || m.agreement) m.side = sidesOf(k).get(f.from) || null; else if (kind === ENVELOPE_REFERRAL) {
						m.referral = {};
						REFERRAL_FIELDS.forEach((name, i) => { m.referral[name] = utf8d.decode(env.referral.fields[i]); });
						m.text = '';
					}
					if (kind === ENVELOPE_REPORT) {
						// it came in the new session: the old ones are dead
						this.e2e.keepLatest(from);
						m.state = 'report';
						m.count = env.count;
						m.reason = env.reason === 1 ? 'limit' : env.reason === 2 ? 'no_session' : env.reason === 3 ? 'crypto' : 'other';
					}
				} catch {
					m.state = 'undecryptable';
					m.reason = 'format';
				} finally {
					pt.fill(0);
				}
			}
		}
		if (kind === ENVELOPE_NOTHING) {
			this.changed();
			ack();	// nothing to show
			return;
		}
		if (dup) {
			Object.assign(dup, m);
		} else {
			this.keep(e, m);
		}
		if (m.state === 'received' || !dup) e.unread++;
		this.changed();	// durable before the ack
		this.emit('message', { caseId: f.case, message: { ...m } });
		if (m.state !== 'received') this.emit('undecryptable', { caseId: f.case, message: { ...m } });
		if (fate === 'ack') ack();
		else e.kept++;
	}

	/* A message of case caseId from key from could not be read for
	 * reason: the first time in this page load the sessions with that peer
	 * are dropped and a report is owed; later, while it has not left, it is
	 * counted. true while the report is owed (the sessions started again). */
	unreadable(caseId, from, reason) {
		let r = this.resets.get(from);
		if (r) {
			if (r.sent) return false;
			r.count++;
			return true;
		}
		r = { caseId, count: 1, reason: reason === 'limit' ? 1 : reason === 'no_session' ? 2 : 3, sent: false };
		this.resets.set(from, r);
		this.e2e.reset(b64Decode(from, 32, 32, 'from'));
		// a message sealed to it in a dropped session would come after the
		// report, in a session the peer drops at the report: it is sealed
		// again (its number kept; the same mid, so the server answers "dup"
		// if it has the old copies); one being sealed now, too (flushNow)
		this.resetsMade++;
		for (const [, e] of this.cs) {
			for (const m of e.outbox) {
				if (m.sealed?.copies?.some((c) => c.to === from)) {
					delete m.sealed;
					this.changed();
				}
			}
		}
		return true;
	}

	/* Sends every report owed, in a new session with its peer (the other
	 * participants get the envelope "nothing"), before the unreadable
	 * messages are acknowledged; one whose case may not be sent to now (a
	 * list to mend or confirm, a changed key) stays owed, and goes at a
	 * later ack or once the key is verified. A report that cannot go is
	 * told as an "error" event and not tried again. */
	async sendReports() {
		for (const [peer, r] of this.resets) {
			if (r.sent) continue;
			r.sent = true;
			const e = this.cs.get(r.caseId);
			try {
				const k = e?.kase;
				if (!k || (k.status !== 'active' && k.status !== 'paused')) throw new OfframpError(ERR.CASE_CLOSED, 'the case is not open');
				const others = (k.participants || []).filter((p) => !this.me(p) && told(p));
				if (!others.some((p) => p.key === peer)) throw new OfframpError(ERR.NOT_FOUND, 'not a participant');
				// as a message goes (flushNow): to a list the protocol allows,
				// each one this page was shown, no key changed since the
				// user last saw it (never a session with a key only the
				// server vouches for)
				if (!this.participantsOk(k) || others.some((p) => unconfirmed(e, p) || this.e2e.keyChanged(k, p))) {
					r.sent = false;	// owed still: sent once the list is mended, or the key verified
					continue;
				}
				await this.report(e, k, others, peer, r);
			} catch (err) {
				this.fail(err instanceof OfframpError ? err : new OfframpError(ERR.INTERNAL, 'report'), 'msg.send');
			}
		}
	}

	/* Seals and sends report r to peer in case e (k), "nothing" to the
	 * others. Its number is the case's next, taken once no number of e
	 * waits for its answer (unsettled); no message of e takes one, or
	 * leaves, until the report is answered (flushNow waits for
	 * e.reporting, then sends e.reportOut first): numbers go out in
	 * order. A report that never left, or that the server refused, gives
	 * its number back (a gap would tell the others that messages were
	 * held back), and one that did not leave for the network stays owed;
	 * one that may be stored (no answer, "unavailable") or that the server
	 * asks to send again is kept (e.reportOut, saved) and goes again as it
	 * is, the same mid, until answered (reportAgain). */
	async report(e, k, others, peer, r) {
		while (e.reporting || this.unsettled(e)) {
			if (!this.acct || this.conn.state === 'offline') {
				r.sent = false;	// owed still
				throw new OfframpError(ERR.CONN, 'closed');
			}
			await (e.reporting || this.settledOf(e));
		}
		let done = null;
		e.reporting = new Promise((resolve) => { done = resolve; });
		const b = this.bindOut(e, k);
		let asked = false;
		try {
			const copies = [];
			const report = envelopeWrite({ ...b, kind: ENVELOPE_REPORT, count: r.count, reason: r.reason });
			const nothing = envelopeWrite({ ...b, kind: ENVELOPE_NOTHING });
			for (const p of others)
				copies.push(await this.e2e.seal(p, p.key === peer ? report : nothing, (f) => this.ask(f)));
			// kept before it leaves (as a message, flushNow): a page loaded
			// again sends it, as it is
			e.reportOut = { seq: b.seq, mid: b64Encode(sodium.randombytes_buf(OFR_MID_BYTES)), copies };
			try {
				await this.keepBeforeSend();
			} catch (err) {
				delete e.reportOut;
				throw err;
			}
			asked = true;
			await this.reportAgain(e);
		} catch (err) {
			if (!asked) {	// nothing left: its number back; owed still when the network failed it
				if (err.code === ERR.CONN || err.code === ERR.TIMEOUT || err.code === ERR.IO) r.sent = false;
				if (e.bindOut?.seq === b.seq) {
					e.bindOut = { seq: b.seq - 1, time: e.bindOut.time };
					this.changed();
				}
			}
			throw err;
		} finally {
			e.reporting = null;
			done();
		}
	}

	/* Sends e.reportOut (a report sealed, kept) and waits for the answer.
	 * Stored (or "dup": stored before): done. Refused whole: nothing was
	 * stored, its number is given back (nothing has taken a later one:
	 * flushNow sends e.reportOut before it seals anything). No answer, or
	 * an answer that asks to send again (RETRYABLE, "unavailable" may be
	 * stored): it stays, and goes again as it is (flushNow, retryLater). */
	async reportAgain(e) {
		const o = e.reportOut;
		const before = o.tried === true;	// a try of it before may be stored
		o.tried = true;
		try {
			await this.ask({ type: 'msg.send', case: e.kase.id, mid: o.mid, copies: o.copies }, { retry: true });
		} catch (err) {
			if (err.code === ERR.CONN || err.code === ERR.TIMEOUT) throw err;
			if (RETRYABLE.has(err.code)) {
				this.retryLater(e);
				throw err;
			}
			if (e.reportOut === o) delete e.reportOut;
			// its number back only when no try of it may be stored: none
			// before, and this one sent once (a reconnect sends it again)
			if (!before && err.sends === 1 && e.bindOut?.seq === o.seq) e.bindOut = { seq: o.seq - 1, time: e.bindOut.time };
			this.changed();
			this.settle(e);
			throw err;
		}
		if (e.reportOut === o) delete e.reportOut;
		e.retryMs = 0;
		this.changed();
		this.settle(e);
	}

	/* A msg.delivered push: the recipient "to" acknowledged its copy of
	 * our message mid. One "message-state" event per receipt; the state
	 * is "delivered" once every other participant's has come. Only a
	 * receipt of another participant of the case now is kept, at most
	 * PARTICIPANTS_MAX a message: what the server names else is not one,
	 * and would grow the saved state without end. */
	async delivered(f) {
		if (!isId(f.case) || typeof f.mid !== 'string' || typeof f.to !== 'string') return;
		const e = this.cs.get(f.case);
		const m = e && e.messages.find((x) => x.mine && x.mid === f.mid);
		if (!m || this.me({ key: f.to }) || !e.kase.participants.some((p) => p.key === f.to)) return;
		m.deliveredTo = m.deliveredTo || [];
		if (m.deliveredTo.includes(f.to) || m.deliveredTo.length >= PARTICIPANTS_MAX) return;
		m.deliveredTo.push(f.to);
		if (m.state === 'sent' && this.allDelivered(e, m)) m.state = 'delivered';
		const c = { ...m, deliveredTo: [...m.deliveredTo] };
		delete c.sealed;
		delete c.bind;
		delete c.tried;
		this.changed();
		this.emit('message-state', { caseId: m.caseId, message: c, to: f.to });
	}

	allDelivered(e, m) {
		const others = (e.kase.participants || []).filter((p) => !this.me(p) && told(p));
		return others.length > 0 && others.every((p) => (m.deliveredTo || []).includes(p.key));
	}

	/* A queue push: the place of our waiting case. */
	async queued(f) {
		const e = this.cs.get(f.case);
		if (!e || e.kase.status !== 'waiting' || !isId(f.queue_position) || e.kase.queue_position === f.queue_position) return;
		const previous = this.view(e);
		e.kase = { ...e.kase, queue_position: f.queue_position };
		this.tell(e, previous);
	}

	/* Keeps the state through options.beforeSend() before a message
	 * leaves; rejects with an OfframpError "io" when it could not. */
	async keepBeforeSend() {
		if (!this.opts.beforeSend) return;
		try {
			await this.opts.beforeSend();
		} catch (e) {
			throw e instanceof OfframpError ? e : new OfframpError(ERR.IO, 'keeping the state before sending');
		}
	}

	ack(seq) {
		this.acks.push(seq);
		if (this.acks.length >= OFR_ACKS_MAX) this.ackFlush();
		else if (!this.ackTimer) this.ackTimer = setTimeout(() => this.ackFlush(), 0);
	}

	/* Acks what arrived, after options.beforeAck() has kept it (the page's
	 * sealed store is asynchronous): the server deletes an acked copy, so an
	 * ack must never leave before what it acknowledges is kept. When keeping
	 * fails nothing is acked; the server delivers the copies again at the
	 * next login. */
	async ackFlush() {
		clearTimeout(this.ackTimer);
		this.ackTimer = null;
		const seqs = this.acks.splice(0, OFR_ACKS_MAX);
		if (seqs.length === 0) return;
		if (this.acks.length) this.ackFlush();
		await this.sendReports();	// the peer is told before the acks
		if (this.opts.beforeAck) {
			try {
				await this.opts.beforeAck();
			} catch (e) {
				this.fail(e instanceof OfframpError ? e : new OfframpError(ERR.IO, 'keeping messages'), 'msg.ack');
				return;
			}
		}
		this.ask({ type: 'msg.ack', seqs }, { retry: true }).catch((e) => {
			if (e.code !== ERR.CONN) this.fail(e, 'msg.ack');
		});
	}

	/**
	 * Closes a case (both roles). @param {number} id @returns {Promise<Case>}
	 */
	async closeCase(id) {
		return this.move('case.close', id);
	}

	/**
	 * Anonymous feedback on a closed case of this client's, once
	 * (PROTOCOL.md and CRYPTO.md, "Feedback"; as the CLI's offramp
	 * feedback): helpful and recommend true, false or null (not given), and
	 * a text (or null) sealed with crypto_box_seal, padded, to each admin
	 * of the case's programme whose admin certificate a trusted programme
	 * key signed (trust.js: a live anchor, its rotations followed, not
	 * revoked; never a partner's, never asked about). With no such admin
	 * only the ratings go. Afterwards the case's feedback is "sent" (also
	 * when the server says it has one: "limit"); see dismissFeedback().
	 * @param {number} id
	 * @param {{helpful?: boolean|null, recommend?: boolean|null, text?: string|null}} fb
	 * @returns {Promise<{text: 'none'|'sealed'|'not_sent'}>} what became of the text
	 * @throws {OfframpError} "usage" (nothing given; a text not of 1..1000
	 *   bytes of UTF-8, or with a NUL), "crypto" with reason "no_admin"
	 *   (only a text, and nobody it could be sealed to: nothing was sent),
	 *   "limit" (given before), "bad_state" (not closed), "not_found",
	 *   "connection", "timeout"
	 */
	async sendFeedback(id, { helpful = null, recommend = null, text = null } = {}) {
		const e = this.cs.get(id);
		if (!isId(id) || !e) throw usage('case id');
		for (const v of [helpful, recommend]) if (v !== null && typeof v !== 'boolean') throw usage('a rating is true, false or null');
		if (text !== null && typeof text !== 'string') throw usage('text');
		if (text === '') text = null;
		if (helpful === null && recommend === null && text === null) throw usage('give at least one');
		let bytes = null;
		if (text !== null) {
			try {
				bytes = textBytes(text, FEEDBACK_TEXT_MAX);
			} catch {
				bytes = null;
			}
			if (!bytes || bytes.includes(0)) throw usage(`the text must be 1 to ${FEEDBACK_TEXT_MAX} bytes, no NUL`);
		}
		const f = { type: 'feedback.send', case: id };
		if (helpful !== null) f.helpful = helpful;
		if (recommend !== null) f.recommend = recommend;
		let fate = 'none';
		try {
			if (bytes) {
				const copies = await this.feedbackCopies(id, bytes);
				if (copies.length > 0) {
					f.text = copies;
					fate = 'sealed';
				} else {
					fate = 'not_sent';
					if (helpful === null && recommend === null)
						throw refusal('no_admin', 'no admin of the programme has a key certified by a programme key trusted here');
				}
			}
			await this.ask(f);
		} catch (err) {
			if (err.code === ERR.LIMIT) this.feedbackDone(e, 'sent');
			throw err;
		} finally {
			if (bytes) bytes.fill(0);
		}
		this.feedbackDone(e, 'sent');
		return { text: fate };
	}

	/* The admins of case id's programme whose admin certificate a
	 * programme key trusted here signed (feedback.keys; sendFeedback's
	 * rules): [{to, key}], the key in base64 and as bytes; maybe none. */
	async feedbackAdmins(id) {
		const ask = (fr) => this.ask(fr);
		const a = await this.ask({ type: 'feedback.keys', case: id });
		const admins = [];
		for (const adm of (Array.isArray(a.admins) ? a.admins : []).slice(0, FEEDBACK_ADMINS_MAX)) {
			let key;
			try {
				key = b64Decode(adm?.key, 32, 32, 'key');
			} catch {
				continue;
			}
			if (admins.some((c) => c.to === adm.key)) continue;
			try {
				await this.trust.checkCert(key, adm.cert, a.programme, null, ask, ADMIN_CERT_CONTEXT);
			} catch (err) {
				if (err.reason) continue;	// not an admin we can trust
				throw err;
			}
			admins.push({ to: adm.key, key });
		}
		return admins;
	}

	/**
	 * Whether a feedback text on closed case id could go: how many of its
	 * programme's admins sendFeedback would seal it to (0: only the
	 * ratings could go). Asked when the form opens, so that the page says
	 * so before anything is written.
	 * @param {number} id
	 * @returns {Promise<number>}
	 * @throws {OfframpError} "usage" (no such case here), "not_found",
	 *   "connection", "timeout"
	 */
	async feedbackReach(id) {
		if (!isId(id) || !this.cs.get(id)) throw usage('case id');
		return (await this.feedbackAdmins(id)).length;
	}

	/* The sealed copies of the text (UTF-8 bytes) for the trusted admins
	 * of case id's programme: [{to, ct}], maybe none. */
	async feedbackCopies(id, bytes) {
		return (await this.feedbackAdmins(id)).map((a) => ({ to: a.to, ct: b64Encode(feedbackSeal(a.key, bytes)) }));
	}

	/**
	 * The client declines to give feedback on case id: its feedback is
	 * "dismissed" (nothing is sent). @param {number} id
	 */
	dismissFeedback(id) {
		const e = this.cs.get(id);
		if (e && !e.feedback) this.feedbackDone(e, 'dismissed');
	}

	feedbackDone(e, how) {
		const previous = this.view(e);
		e.feedback = how;
		this.changed();
		this.tell(e, previous);
	}

	/**
	 * Any request of the protocol not covered above (admin tools):
	 * resolves with the answer frame. @param {object} frame  with type
	 * @returns {Promise<object>}
	 */
	async request(frame) {
		return this.ask(frame);
	}
}

// the requests that are one frame and its answer (requests.js), and
// safety numbers, verification and programme keys (keys.js), and a
// client's referrals (referral.js)
Object.assign(Core.prototype, requests, keys, referrals);
