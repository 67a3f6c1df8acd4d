// fake.mjs: a scripted offramp server in the test's own process (ws on
// 127.0.0.1), for the node tests that play a server the real one will not
// be: one that withholds answers, drops sockets, names keys it made up.

import { after } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import sodium from 'libsodium-wrappers-sumo';
import { createCore } from '../src/core.js';
import * as P from '../src/proto/index.js';

const b64 = P.b64Encode;

/**
 * A scripted server: a challenge on connect, the login checked for real;
 * then handlers[type](frame, sock) return the answer's fields, {error:
 * code}, or null (no answer). this.seen has every request.
 */
export class Fake {
	constructor() {
		this.id = sodium.crypto_sign_keypair();
		this.handlers = {};
		this.seen = [];
		this.socks = new Set();
		this.loginError = null;
		this.account = (key) => ({ key, role: 'client', name: 'quiet-heron-1', programme: null });
	}

	async start() {
		this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (ps) => (ps.has('offramp.v1') ? 'offramp.v1' : false) });
		await new Promise((r) => this.wss.on('listening', r));
		this.url = `ws://127.0.0.1:${this.wss.address().port}/`;
		this.wss.on('connection', (s) => this.conn(s));
		return this;
	}

	stop() {
		for (const s of this.socks) s.terminate();
		this.wss.close();
	}

	send(s, f) {
		s.send(JSON.stringify({ v: 1, ...f }));
	}

	push(f) {
		for (const s of this.socks) if (s.loggedIn) this.send(s, f);
	}

	dropAll() {
		for (const s of this.socks) s.terminate();
	}

	conn(s) {
		this.socks.add(s);
		s.on('close', () => this.socks.delete(s));
		s.nonce = sodium.randombytes_buf(32);
		this.send(s, { type: 'challenge', nonce: b64(s.nonce), server_key: b64(this.id.publicKey) });
		s.on('message', (data) => {
			const f = JSON.parse(String(data));
			this.seen.push(f);
			if (f.type === 'login' || f.type === 'redeem') {
				const key = P.b64Decode(f.key, 32, 32);
				P.ocryptoLoginVerify(P.b64Decode(f.sig, 64, 64), this.id.publicKey, s.nonce, key);
				if (this.loginError) {
					this.send(s, { type: 'error', re: f.id, code: this.loginError });
					return;
				}
				s.loggedIn = true;
				this.send(s, { type: `${f.type}.ok`, re: f.id, created: false, account: this.account(f.key) });
				return;
			}
			const h = this.handlers[f.type] || defaults[f.type];
			const a = h ? h(f, s) : { error: 'unknown_type' };
			if (a === null) return;
			if (a.error) this.send(s, { type: 'error', re: f.id, code: a.error });
			else this.send(s, { type: `${f.type}.ok`, re: f.id, ...a });
		});
	}
}

export const defaults = {
	'ping': () => ({}),
	'prekeys.upload': () => ({ one_time: 30 }),
	'case.list': () => ({ cases: [] }),
	'msg.ack': (f) => ({ acked: f.seqs.length }),
};


const fakes = [];
const cores = [];
after(() => {
	for (const c of cores) c.logout();
	for (const f of fakes) f.stop();
});

/** A started scripted server, stopped after this file's tests. */
export async function fake() {
	const f = await new Fake().start();
	fakes.push(f);
	return f;
}

/** A core on scripted server f (2 s timeouts: 400 ms ran out once for an
 * answer the scripted server gave, under the suite's load; no heartbeat),
 * logged out after this file's tests; with account: true, f's sockets
 * learn the core's key at login. */
export async function core(f, opts = {}, { account = false } = {}) {
	const c = await createCore({ url: f.url, WebSocket, timeoutMs: 2000, heartbeatMs: 0, reconnect: { minMs: 20, maxMs: 80 }, ...opts });
	if (account) c.on('account', () => { for (const s of f.socks) s.clientKey = c.key; });
	cores.push(c);
	return c;
}
