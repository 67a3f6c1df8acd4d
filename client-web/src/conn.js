// conn.js: the WebSocket connection of the web client (PROTOCOL.md,
// "Envelope", "Connection and login"): one socket with subprotocol
// offramp.v1 to the one URL it is given, the login by a signed challenge
// (the signing is the caller's: an auth function), request ids with one
// answer each and a deadline, server pushes as events, a heartbeat, and
// reconnects with capped, jittered backoff and a new login.
//
// Nothing is lost across reconnects: a request made with {retry: true}
// (msg.send with its fixed mid, msg.ack) is sent again after the next login
// until it gets an answer; the server de-duplicates by mid. Other requests
// in flight when the socket drops fail with "connection" (the caller
// decides), and requests made while offline wait for the next login until
// their deadline. Queues are bounded. It knows no crypto and no case.

import { OfframpError, ERR } from './proto/err.js';
import { b64Decode, frameParse, OFR_FRAME_MAX, OFR_ID_MAX } from './proto/frame.js';
import { POW_BITS_MAX } from './proto/pow.js';

export const SUBPROTOCOL = 'offramp.v1';
export const PENDING_MAX = 256;		// requests waiting or in flight
const LOGIN_TYPES = new Set(['login', 'redeem']);
// a login answered with one of these will never work by trying again
const FATAL_LOGIN = new Set([ERR.WRONG_ROLE, ERR.DISABLED, ERR.UNKNOWN_KEY,
	ERR.BAD_INVITE, ERR.FORBIDDEN, ERR.BAD_FIELD, ERR.ALREADY_LOGGED_IN]);

/* true when answer f is the one login frame sent asked for: login.ok
 * for the role it named, or redeem.ok for a counsellor or an admin (an
 * invite makes no client). */
function roleAnswered(sent, f) {
	const role = f?.account?.role;
	if (sent?.type === 'login') return f.type === 'login.ok' && role === sent.role;
	return f.type === 'redeem.ok' && (role === 'counsellor' || role === 'admin');
}

/** A minimal event emitter: on(name, fn) returns an unsubscribe function. */
export class Emitter {
	constructor() {
		this.subs = new Map();
	}

	/** @param {string} name @param {(ev: object) => void} fn @returns {() => void} */
	on(name, fn) {
		if (!this.subs.has(name)) this.subs.set(name, new Set());
		this.subs.get(name).add(fn);
		return () => this.subs.get(name)?.delete(fn);
	}

	/** Calls every listener of name with ev; a throwing listener is reported, not fatal. */
	emit(name, ev) {
		for (const fn of [...(this.subs.get(name) || [])]) {
			try {
				fn(ev);
			} catch (e) {
				if (name !== 'listener-error') this.emit('listener-error', { name, error: e });
			}
		}
	}
}

/** The OfframpError of a server error frame (its stable code and field). */
export function errorOf(frame) {
	return new OfframpError(typeof frame.code === 'string' ? frame.code : ERR.INTERNAL,
		'server', typeof frame.field === 'string' ? frame.field : undefined);
}

/**
 * A connection. Events (on):
 *  "state"  {state: 'offline'|'connecting'|'online'|'reconnecting', attempt, delayMs}
 *  "login"  {answer}: a login (or redeem) answer: online from now on
 *  "push"   {frame}: a frame the server sent on its own (case, msg, prekeys.low...)
 *  "error"  {error}: something went wrong that no caller awaits (a fatal login)
 */
/* A socket this connection no longer listens to; closing one that is
 * still connecting makes it report an error, which must find a handler
 * (node's ws throws otherwise). */
function forget(ws) {
	ws.onopen = ws.onmessage = ws.onclose = null;
	ws.onerror = () => {};
}

export class Conn extends Emitter {
	/**
	 * @param {object} o
	 * @param {string} o.url  the server's URL (ws: or wss:)
	 * @param {Function} o.WebSocket  a WebSocket constructor (browser's or ws's)
	 * @param {number} [o.timeoutMs=10000]  deadline of a request's answer
	 * @param {number} [o.minMs=500] @param {number} [o.maxMs=30000]  reconnect backoff
	 * @param {number} [o.heartbeatMs=25000]  a ping after this long without a frame (0: none)
	 * @param {(c: {nonce: Uint8Array, serverKey: Uint8Array}) => object} [o.auth]
	 */
	constructor(o) {
		super();
		if (typeof o?.url !== 'string' || !/^wss?:\/\//.test(o.url))
			throw new OfframpError(ERR.USAGE, 'url is ws:// or wss://');
		if (typeof o.WebSocket !== 'function') throw new OfframpError(ERR.USAGE, 'a WebSocket constructor');
		this.url = o.url;
		this.WS = o.WebSocket;
		this.timeoutMs = o.timeoutMs ?? 10000;
		this.minMs = o.minMs ?? 500;
		this.maxMs = o.maxMs ?? 30000;
		this.heartbeatMs = o.heartbeatMs ?? 25000;
		this.auth = o.auth || null;
		this.state = 'offline';
		this.ws = null;
		this.nextId = 1;
		this.pending = [];	// {frame, retry, resolve, reject, id, timer, sent, sends}
		this.inflight = new Map();	// id -> pending entry
		this.attempt = 0;
		this.wanted = false;	// keep connecting
		this.timers = new Set();
		this.lastRx = 0;
		this.loginWaiters = [];
	}

	/** Sets the auth function: given the challenge, the login or redeem frame to send. */
	setAuth(fn) {
		this.auth = fn;
	}

	/**
	 * Connects (if not already) and resolves with the next login answer;
	 * rejects with the login's error when it is one that retrying cannot
	 * mend (wrong_role, account_disabled, bad_invite...), then stays offline.
	 * @returns {Promise<object>} the login.ok (or redeem.ok) frame
	 */
	start() {
		if (!this.auth) return Promise.reject(new OfframpError(ERR.USAGE, 'no auth function'));
		this.wanted = true;
		const p = new Promise((resolve, reject) => this.loginWaiters.push({ resolve, reject }));
		if (this.state === 'offline') this.open();
		return p;
	}

	/** Closes for good (until start()); every waiting request fails with "connection". */
	stop() {
		this.wanted = false;
		for (const t of this.timers) clearTimeout(t);
		this.timers.clear();
		const ws = this.ws;
		this.ws = null;
		if (ws) {
			forget(ws);
			try {
				ws.close(1000);
			} catch { /* closing anyway */ }
		}
		for (const p of this.pending) this.fail(p, new OfframpError(ERR.CONN, 'closed'));
		this.pending = [];
		this.inflight.clear();
		this.settleLogin(null, new OfframpError(ERR.CONN, 'closed'));
		this.setState('offline');
	}

	/**
	 * Sends a request and resolves with its answer frame ("<type>.ok"), or
	 * rejects with an OfframpError: the server's code (and field), or
	 * "timeout", "connection", "limit" (too many waiting), "too_big".
	 * @param {object} frame  {type, ...fields}; v and id are added
	 * @param {{retry?: boolean, timeoutMs?: number}} [opts]  retry: sent
	 *   again after each reconnect until answered (idempotent requests only)
	 * @returns {Promise<object>}
	 */
	request(frame, opts = {}) {
		if (!frame || typeof frame.type !== 'string' || LOGIN_TYPES.has(frame.type))
			return Promise.reject(new OfframpError(ERR.USAGE, 'request type'));
		if (!this.wanted)
			return Promise.reject(new OfframpError(ERR.CONN, 'not connected: start() first'));
		if (this.pending.length >= PENDING_MAX)
			return Promise.reject(new OfframpError(ERR.LIMIT, 'too many requests waiting'));
		return new Promise((resolve, reject) => {
			const p = { frame, retry: Boolean(opts.retry), resolve, reject, id: 0, timer: null, sent: false, sends: 0,
				timeoutMs: opts.timeoutMs ?? this.timeoutMs };
			this.pending.push(p);
			if (!p.retry) p.timer = this.later(() => this.expire(p), p.timeoutMs);
			if (this.state === 'online') this.send(p);
		});
	}

	// --- internals ---

	later(fn, ms) {
		const t = setTimeout(() => {
			this.timers.delete(t);
			fn();
		}, ms);
		this.timers.add(t);
		return t;
	}

	clear(t) {
		if (t) {
			clearTimeout(t);
			this.timers.delete(t);
		}
	}

	setState(state, extra = {}) {
		if (this.state === state && !extra.force) return;
		this.state = state;
		this.emit('state', { state, attempt: this.attempt, ...extra });
	}

	settleLogin(answer, error) {
		const w = this.loginWaiters;
		this.loginWaiters = [];
		for (const x of w) (error ? x.reject(error) : x.resolve(answer));
	}

	open() {
		this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting');
		let ws;
		try {
			ws = new this.WS(this.url, SUBPROTOCOL);
		} catch (e) {
			this.dropped(new OfframpError(ERR.CONN, String(e?.message || e)));
			return;
		}
		this.ws = ws;
		this.challenged = false;
		this.loggingIn = null;
		// no challenge (or no login answer) in time: try again
		this.armGuard(ws, this.timeoutMs);
		ws.onopen = () => {
			if (ws.protocol && ws.protocol !== SUBPROTOCOL) this.drop(ws, 'subprotocol');
		};
		ws.onmessage = (ev) => this.received(ws, ev.data);
		ws.onerror = () => { /* onclose follows */ };
		ws.onclose = () => {
			this.clear(ws.offrampGuard);
			if (this.ws === ws) this.dropped(new OfframpError(ERR.CONN, 'closed'));
		};
	}

	// the login deadline of ws: ms from now
	armGuard(ws, ms) {
		this.clear(ws.offrampGuard);
		ws.offrampGuard = this.later(() => {
			if (this.ws === ws && this.state !== 'online') this.drop(ws, 'login timeout');
		}, ms);
	}

	drop(ws, why) {
		if (this.ws !== ws) return;
		try {
			ws.close(1000);
		} catch { /* gone */ }
		this.dropped(new OfframpError(ERR.CONN, why));
	}

	// the socket is gone: fail or keep what waited, then maybe reconnect
	dropped(err) {
		const ws = this.ws;
		this.ws = null;
		if (ws) forget(ws);
		this.clear(this.hbTimer);
		this.inflight.clear();
		const keep = [];
		for (const p of this.pending) {
			if (p.sent && !p.retry) {
				this.fail(p, err);
				continue;
			}
			p.sent = false;
			p.id = 0;
			this.clear(p.attemptTimer);
			keep.push(p);
		}
		this.pending = keep;
		if (!this.wanted) {
			this.setState('offline');
			return;
		}
		this.attempt++;
		const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt - 1, 16));
		const delayMs = Math.round(base / 2 + Math.random() * base / 2);
		this.setState('reconnecting', { delayMs, force: true });
		this.later(() => {
			if (this.wanted && this.ws === null) this.open();
		}, delayMs);
	}

	fail(p, err) {
		this.clear(p.timer);
		this.clear(p.attemptTimer);
		this.pending = this.pending.filter((x) => x !== p);
		if (p.id) this.inflight.delete(p.id);
		p.reject(err);
	}

	expire(p) {
		const wasSent = p.sent;
		this.fail(p, new OfframpError(ERR.TIMEOUT, `no answer to ${p.frame.type}`));
		// answers come in order: a live connection would have answered
		if (wasSent && this.ws) this.drop(this.ws, 'request timeout');
	}

	raw(obj) {
		const text = JSON.stringify(obj);
		if (text.length > OFR_FRAME_MAX || new TextEncoder().encode(text).length > OFR_FRAME_MAX)
			throw new OfframpError(ERR.TOO_BIG, 'frame over the limit');
		this.ws.send(text);
	}

	newId() {
		const id = this.nextId;
		this.nextId = this.nextId >= OFR_ID_MAX ? 1 : this.nextId + 1;
		return id;
	}

	send(p) {
		if (!this.ws || p.sent) return;
		p.id = this.newId();
		try {
			this.raw({ ...p.frame, v: 1, id: p.id });
		} catch (e) {
			p.id = 0;
			this.fail(p, e instanceof OfframpError ? e : new OfframpError(ERR.CONN, 'send'));
			return;
		}
		p.sent = true;
		p.sends++;
		this.inflight.set(p.id, p);
		// a retried request still needs an answer per attempt, else reconnect
		if (p.retry) p.attemptTimer = this.later(() => {
			if (p.sent && this.ws) this.drop(this.ws, 'request timeout');
		}, p.timeoutMs);
	}

	received(ws, data) {
		if (this.ws !== ws) return;
		if (typeof data !== 'string') {
			this.drop(ws, 'binary frame');
			return;
		}
		let f;
		try {
			f = frameParse(data);
		} catch {
			this.drop(ws, 'bad frame');
			return;
		}
		this.lastRx = Date.now();
		this.beat();
		if (f.type === 'challenge' && (f.re === undefined || f.re === null)) {
			this.challenge(ws, f);
			return;
		}
		if (this.loggingIn && f.re === this.loggingIn.id) {
			this.loginAnswer(ws, f);
			return;
		}
		if (f.re === undefined || f.re === null) {
			if (this.state === 'online') this.emit('push', { frame: f });
			return;
		}
		const p = this.inflight.get(f.re);
		if (!p) return;		// not ours, or given up: ignore
		this.inflight.delete(f.re);
		this.clear(p.timer);
		this.clear(p.attemptTimer);
		this.pending = this.pending.filter((x) => x !== p);
		if (f.type === 'error') {
			// how many times it went: an error answer to a request sent
			// more than once says nothing of what an earlier try did
			const err = errorOf(f);
			err.sends = p.sends;
			p.reject(err);
		} else {
			p.resolve(f);
		}
	}

	async challenge(ws, f) {
		let frame;
		try {
			const nonce = b64Decode(f.nonce, 32, 32, 'nonce');
			const serverKey = b64Decode(f.server_key, 32, 32, 'server_key');
			// the nonce and difficulty of a proof of work (PROTOCOL.md)
			this.nonce = nonce;
			this.powBits = Number.isSafeInteger(f.pow) && f.pow > 0 && f.pow <= POW_BITS_MAX ? f.pow : 0;
			// logged in: a fresh nonce for the next request that pays
			if (this.state === 'online') return;
			frame = await this.auth({ nonce, serverKey, pow: this.powBits, needPow: this.needPow });
		} catch (e) {
			// a server we must not log in to (pinned key), or a broken challenge
			this.wanted = false;
			this.settleLogin(null, e instanceof OfframpError ? e : new OfframpError(ERR.CRYPTO, 'challenge'));
			this.emit('error', { error: e });
			this.drop(ws, 'challenge refused');
			return;
		}
		if (this.ws !== ws) return;
		this.loggingIn = { id: this.newId(), type: frame.type, role: frame.role };
		try {
			this.raw({ ...frame, v: 1, id: this.loggingIn.id });
		} catch (e) {
			this.drop(ws, 'login frame');
		}
	}

	loginAnswer(ws, f) {
		const sent = this.loggingIn;
		this.loggingIn = null;
		if (f.type !== 'error' && !roleAnswered(sent, f)) {
			// the role is the login's, not the server's to name: a page
			// told it is a counsellor would take the client in its
			// cases for a stranger (PROTOCOL.md, "login")
			const err = new OfframpError(ERR.BAD_FIELD, 'the server answered for another role', 'role');
			this.wanted = false;
			this.settleLogin(null, err);
			this.emit('error', { error: err });
			this.drop(ws, 'login answered for another role');
			return;
		}
		if (f.type === 'error') {
			const err = errorOf(f);
			if (err.code === ERR.BAD_SIGNATURE) return;	// a new challenge follows
			if (err.code === ERR.POW_REQUIRED) {
				// a new key: a new challenge follows, with the work to do,
				// and the server waits a minute more for it
				this.needPow = true;
				this.armGuard(ws, this.timeoutMs + 60000);
				return;
			}
			if (FATAL_LOGIN.has(err.code)) {
				this.wanted = false;
				this.settleLogin(null, err);
				this.emit('error', { error: err });
			}
			this.drop(ws, 'login refused');
			return;
		}
		this.attempt = 0;
		this.needPow = false;
		this.setState('online');
		// answer first: the caller learns the account before any push
		this.emit('login', { answer: f });
		this.settleLogin(f, null);
		for (const p of [...this.pending]) this.send(p);
	}

	beat() {
		if (!this.heartbeatMs) return;
		this.clear(this.hbTimer);
		this.hbTimer = this.later(() => {
			if (this.state !== 'online') return;
			this.request({ type: 'ping' }).catch(() => { /* expire drops the socket */ });
		}, this.heartbeatMs);
	}
}
