// core_fake.test.js: conn.js and core.js against a scripted server in
// this process (ws on 127.0.0.1), for what the real server will not do on
// request: withhold answers, drop sockets at chosen moments, refuse a
// login, name another server key, hand out a counsellor whose certificate
// a configured pin does not sign, inject messages from strangers, garbage
// and replays. The peer on the other side is an E2E of e2e.js.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import sodium from 'libsodium-wrappers-sumo';
import { Conn, PENDING_MAX } from '../src/conn.js';
import { createCore, HISTORY_CASE, HISTORY_BYTES, REFUSED_CASE, LISTED_MAX } from '../src/core.js';
import { E2E, NOTE_TEXT_MAX, PARTICIPANTS_MAX } from '../src/e2e.js';
import * as P from '../src/proto/index.js';
import { waitFor } from './live.mjs';
import { fake, core } from './fake.mjs';

before(async () => {
	await P.ocryptoInit();
});

const te = new TextEncoder();
const b64 = P.b64Encode;


test('conn: login bound to the server key and nonce; answers by id; pushes', async () => {
	const f = await fake();
	const c = await core(f);
	const acct = await c.login();
	assert.equal(acct.key, c.key);
	const login = f.seen.find((x) => x.type === 'login');
	assert.equal(login.role, 'client');
	assert.equal(login.v, 1);
	// prekeys: a new identity uploads a signed prekey and 30 one-time keys, after the ping barrier
	const up = f.seen.find((x) => x.type === 'prekeys.upload');
	const b = P.x3dhBundleVerify(P.b64Decode(up.bundle, 0, P.X3DH_BUNDLE_MAX_BYTES), P.b64Decode(c.key, 32, 32));
	assert.equal(b.opk.length, 30);
	const ids = f.seen.filter((x) => x.id).map((x) => x.id);
	assert.equal(new Set(ids).size, ids.length, 'request ids are unique');
	f.handlers['programme.list'] = () => ({ programmes: [{ id: 1, name: 'P' }] });
	assert.deepEqual(await c.programmes(), [{ id: 1, name: 'P' }]);
	f.handlers['case.request'] = () => ({ error: 'case_open' });
	await assert.rejects(c.requestCase({ language: 'en' }), { code: 'case_open' });
	await assert.rejects(c.requestCase({ language: 'EN' }), { code: 'bad_field', field: 'language' });
	await assert.rejects(c.requestCase({ language: 'en', name: 'x' }), { code: 'bad_field', field: 'name' });
	await assert.rejects(c.requestCase({}), { code: 'bad_field', field: 'language' });
});

test('conn: a request unanswered times out and the socket is replaced; a retried one is sent again', async () => {
	const f = await fake();
	const c = await core(f);
	await c.login();
	let hold = true;
	f.handlers['programme.list'] = () => (hold ? null : { programmes: [] });
	const sends = [];
	f.handlers['msg.send'] = (fr) => {
		sends.push(fr);
		return sends.length <= 2 ? null : { mid: fr.mid, dup: false };
	};
	const logins = f.seen.filter((x) => x.type === 'login').length;
	await assert.rejects(c.programmes(), { code: 'timeout' });
	await waitFor(() => f.seen.filter((x) => x.type === 'login').length > logins && c.connection === 'online', 3000, 'a new login');
	hold = false;
	// a retried request: unanswered, the socket goes, it is sent again, same mid
	const r = c.request({ type: 'msg.send', case: 1, mid: b64(new Uint8Array(16)), copies: [] });
	const conn = c.conn;
	const p = conn.request({ type: 'msg.send', case: 1, mid: 'AAAAAAAAAAAAAAAAAAAAAA==', copies: [] }, { retry: true });
	await assert.rejects(r, { code: 'timeout' });	// not retried: fails
	const a = await p;
	assert.equal(a.type, 'msg.send.ok');
	assert.equal(sends.length, 3, 'the plain one once, the retried one twice');
	assert.deepEqual(sends.slice(1).map((x) => x.mid), ['AAAAAAAAAAAAAAAAAAAAAA==', 'AAAAAAAAAAAAAAAAAAAAAA==']);
	assert.deepEqual(sends[2].copies, sends[1].copies, 'the same frame again');
});

test('conn: in flight when the socket drops: plain requests fail with "connection", retried ones survive', async () => {
	const f = await fake();
	const c = await core(f);
	await c.login();
	let n = 0;
	f.handlers['programme.list'] = () => null;
	f.handlers['msg.ack'] = (fr) => (++n === 1 ? null : { acked: fr.seqs.length });
	const plain = c.programmes();
	const kept = c.conn.request({ type: 'msg.ack', seqs: [5] }, { retry: true });
	await waitFor(() => f.seen.some((x) => x.type === 'msg.ack'), 2000, 'the ack sent');
	f.dropAll();
	await assert.rejects(plain, { code: 'connection' });
	assert.equal((await kept).acked, 1);
	assert.equal(n, 2);
});

test('conn: bounded; backoff capped; a fatal login stops; a pinned server key is enforced', async () => {
	const f = await fake();
	const c = await core(f);
	await c.login();
	f.handlers['programme.list'] = () => null;
	const many = [];
	for (let i = 0; i < PENDING_MAX; i++) many.push(c.conn.request({ type: 'programme.list' }, { timeoutMs: 5000 }).catch((e) => e.code));
	await assert.rejects(c.conn.request({ type: 'programme.list' }), { code: 'limit' });
	c.logout();
	assert.deepEqual(new Set(await Promise.all(many)), new Set(['connection']));

	// the server goes away: attempts back off, never past maxMs
	const g = await fake();
	const d = await core(g);
	const states = [];
	d.on('connection', (ev) => states.push(ev));
	await d.login();
	g.stop();
	await waitFor(() => states.filter((s) => s.state === 'reconnecting' && s.delayMs !== undefined).length >= 6, 5000, 'six attempts');
	const delays = states.filter((s) => s.delayMs !== undefined).map((s) => s.delayMs);
	assert.ok(delays.every((x) => x <= 80), `capped: ${delays}`);
	d.logout();
	assert.equal(d.connection, 'offline');

	const h = await fake();
	h.loginError = 'wrong_role';
	const e = await core(h);
	await assert.rejects(e.login({ role: 'counsellor' }), { code: 'wrong_role' });
	assert.equal(e.connection, 'offline');
	const logins = h.seen.filter((x) => x.type === 'login').length;
	await new Promise((r) => setTimeout(r, 150));	// no reconnect may follow: a bounded look
	assert.equal(h.seen.filter((x) => x.type === 'login').length, logins);

	const k = await fake();
	const other = b64(sodium.crypto_sign_keypair().publicKey);
	const x = await core(k, { serverKey: other });
	await assert.rejects(x.login(), { code: 'crypto' });
	assert.equal(k.seen.filter((y) => y.type === 'login').length, 0, 'no signature for another server');
	const y = await core(k, { serverKey: b64(k.id.publicKey) });
	await y.login();
});

/* A case with the core as client and an E2E peer as counsellor of
 * programme 1 whose key the server names (realKey), certified by certSk. */
/* fresh: each prekeys.get hands out the next one-time key (a session
 * started again after a reset needs one of its own) */
function counsellorScene(f, { pins, certSk, progKey, fresh = false }) {
	const peer = new E2E();
	const full = peer.makeBundle(fresh ? 8 : 2);
	let given = 0;
	const nextBundle = () => {
		if (!fresh) return full;
		const b = P.x3dhBundleDecode(full);
		b.opk = b.opk.slice(given, ++given);
		return P.x3dhBundleEncode(b);
	};
	const now = Math.floor(Date.now() / 1000);
	const cert = P.certSign(certSk, { counsellorPk: peer.pk, programmeId: 1, notBefore: now - 60, notAfter: now + 3600 });
	const kase = (clientKey) => ({
		id: 77, status: 'active', language: 'en', topic: null, urgency: 'normal', created: now, updated: now, preferences: null,
		participants: [{ key: clientKey, role: 'client', name: 'quiet-heron-1' },
			{ key: peer.key, role: 'counsellor', name: 'Sam', programme: 1, cert: b64(cert) }],
	});
	f.handlers['case.list'] = (fr, s) => ({ cases: [kase(s.clientKey)] });
	f.handlers['programme.get'] = () => ({ programme: { id: 1, key: b64(progKey) } });
	f.handlers['prekeys.get'] = (fr) => (fr.key === peer.key
		? { bundle: b64(nextBundle()), cert: b64(cert), programme: 1 } : { error: 'not_found' });
	const sent = [];
	f.handlers['msg.send'] = (fr) => {
		sent.push(fr);
		return { mid: fr.mid, dup: false };
	};
	return { peer, kase, sent, pins };
}

test('core: a key the server names instead of the bundle\'s is refused both ways, and reported', async () => {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair(), rogue = sodium.crypto_sign_keypair();
	// the server (compromised) names the rogue key and certifies with it; the bundle pins the real one
	const sc = counsellorScene(f, { certSk: rogue.privateKey, progKey: rogue.publicKey });
	const c = await core(f, { pins: [[1, b64(prog.publicKey)]] });
	f.account = (key) => ({ key, role: 'client', name: 'quiet-heron-1', programme: null });
	const errors = [], offered = [];
	c.on('error', (e) => errors.push(e));
	c.on('untrusted-programme', (ev) => offered.push(ev.programme));
	const wsOf = () => [...f.socks][0];
	c.on('account', () => { for (const s of f.socks) s.clientKey = c.key; });
	await c.login();
	const kc = c.caseOf(77);
	assert.equal(kc.participants.find((p) => p.role === 'counsellor').certified, false);
	const m = c.send(77, 'must not leave');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.reason === 'untrusted_programme', 3000, 'the refusal');
	assert.equal(sc.sent.length, 0, 'nothing sent to an uncertified key');
	assert.ok(errors.some((e) => e.reason === 'untrusted_programme'));
	assert.equal(offered[0].key, b64(rogue.publicKey));
	assert.equal(offered[0].fingerprint, P.keyFingerprint(rogue.publicKey));
	assert.equal(f.seen.filter((x) => x.type === 'prekeys.get').length, 0, 'no session started');
	// the rogue counsellor's first message: refused before any session, acknowledged
	const clientParticipant = sc.kase(c.key).participants[0];
	const copy = await sc.peer.seal(clientParticipant, P.envelopeText(te.encode('hello, from the rogue')), async (fr) => {
		if (fr.type === 'prekeys.get') return { bundle: b64((await upBundle(f, c.key))) };
		throw new Error(fr.type);
	});
	const undec = [];
	c.on('undecryptable', (ev) => undec.push(ev.message));
	f.push({ type: 'msg', seq: 9, case: 77, mid: b64(sodium.randombytes_buf(16)), from: sc.peer.key, ts: 1, ct: copy.ct });
	await waitFor(() => undec.length === 1, 3000, 'the refused first message');
	assert.equal(undec[0].reason, 'untrusted_programme');
	assert.equal(undec[0].text, null);
	await c.request({ type: 'ping' });	// an ack sent would be seen before this
	assert.ok(!f.seen.some((x) => x.type === 'msg.ack'), 'left on the server until the user decides');
	assert.ok(wsOf());
	// the server names the bundle's key but certifies with another: uncertified
	f.handlers['programme.get'] = () => ({ programme: { id: 1, key: b64(prog.publicKey) } });
	const d = await core(f, { pins: [[1, b64(prog.publicKey)]] });
	d.on('account', () => { for (const s of f.socks) s.clientKey = d.key; });
	await d.login();
	assert.equal(d.caseOf(77).participants.find((p) => p.role === 'counsellor').refused, 'uncertified');
});

/* A client core logged in to a scripted server whose counsellor of case
 * 77 is certified by a programme key built into the bundle. */
async function withCounsellor({ fresh = false, opts = {} } = {}) {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair();
	const sc = counsellorScene(f, { certSk: prog.privateKey, progKey: prog.publicKey, fresh });
	const c = await core(f, { pins: [[1, b64(prog.publicKey)]], ...opts }, { account: true });
	await c.login();
	return { f, prog, sc, c };
}

async function upBundle(f, key) {
	const up = f.seen.filter((x) => x.type === 'prekeys.upload').at(-1);
	assert.ok(up, `a bundle of ${key}`);
	const b = P.x3dhBundleDecode(P.b64Decode(up.bundle, 0, P.X3DH_BUNDLE_MAX_BYTES));
	b.opk = b.opk.slice(0, 1);
	return P.x3dhBundleEncode(b);
}

test('core: strangers, garbage, replays and duplicates are shown as such and acknowledged', async () => {
	const { f, prog, sc, c } = await withCounsellor();
	assert.equal(c.caseOf(77).participants.find((p) => p.role === 'counsellor').certified, true, 'the bundle\'s key');
	const msgs = [];
	c.on('message', (ev) => msgs.push(ev.message));
	const clientP = sc.kase(c.key).participants[0];
	const askPeer = async (fr) => {
		if (fr.type === 'prekeys.get') return { bundle: b64(await upBundle(f, c.key)) };
		throw new Error(fr.type);
	};
	const first = await sc.peer.seal(clientP, P.envelopeText(te.encode('first')), askPeer);
	const mid1 = b64(sodium.randombytes_buf(16));
	const stranger = new E2E();
	const push = (seq, from, ct, mid = b64(sodium.randombytes_buf(16))) =>
		f.push({ type: 'msg', seq, case: 77, mid, from, ts: 1700000000 + seq, ct });
	push(1, sc.peer.key, first.ct, mid1);
	push(2, sc.peer.key, first.ct, mid1);	// the same again (an ack lost): shown once
	push(3, sc.peer.key, first.ct);		// a replay under a new id
	push(4, stranger.key, first.ct);		// not a participant
	push(5, sc.peer.key, b64(sodium.randombytes_buf(200)));	// garbage
	await waitFor(() => msgs.length === 4, 3000, 'four messages');
	assert.deepEqual(msgs.map((m) => [m.state, m.reason ?? null, m.text]), [
		['received', null, 'first'],
		['undecryptable', 'replay', null],
		['refused', 'stranger', null],
		['undecryptable', 'crypto', null],
	]);
	assert.equal(msgs[0].ts, 1700000001);
	await waitFor(() => {
		const acked = new Set(f.seen.filter((x) => x.type === 'msg.ack').flatMap((x) => x.seqs));
		return [1, 2, 3, 4, 5].every((s) => acked.has(s));
	}, 3000, 'every seq acknowledged');
	// what a server injects cannot push the case's history out: of the
	// messages not read, the oldest go first past REFUSED_CASE (so that
	// they never fill the HISTORY_CASE kept)
	assert.ok(REFUSED_CASE < HISTORY_CASE / 10);
	for (let seq = 6; seq < 16 + REFUSED_CASE; seq++) push(seq, stranger.key, first.ct);
	await waitFor(() => {
		const acked = new Set(f.seen.filter((x) => x.type === 'msg.ack').flatMap((x) => x.seqs));
		return acked.has(15 + REFUSED_CASE);
	}, 5000, 'the injected ones acknowledged');
	assert.deepEqual(c.messages(77).filter((x) => x.state === 'received').map((x) => x.text), ['first'], 'the one read stays');
	assert.equal(c.messages(77).length, 1 + REFUSED_CASE);
	// a time in the future (year 2100) is kept as now: it would never expire
	f.push({ type: 'msg', seq: 5000, case: 77, mid: b64(sodium.randombytes_buf(16)), from: stranger.key, ts: 4102444800, ct: first.ct });
	await waitFor(() => f.seen.some((x) => x.type === 'msg.ack' && x.seqs.includes(5000)), 3000, 'the one from 2100');
	assert.ok(c.messages(77).every((x) => x.ts <= Math.floor(Date.now() / 1000)), 'no message is dated in the future');
	assert.equal(c.messages(77).length, 1 + REFUSED_CASE);
	// the conversation goes on both ways
	const m = c.send(77, 'answer');
	await waitFor(() => sc.sent.length === 1, 3000, 'the answer sent');
	const copy = sc.sent[0].copies[0];
	assert.equal(copy.to, sc.peer.key);
	assert.equal(new TextDecoder().decode(P.envelopeParse(sc.peer.open(P.b64Decode(c.key, 32, 32), P.b64Decode(copy.ct, 1, P.OFR_CT_MAX))).text), 'answer');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid).state === 'sent', 3000, 'sent');
	// state: full export and import keep the session; recovery keeps the identity and the keys accepted
	const other = sodium.crypto_sign_keypair().publicKey;
	await c.trustProgramme(b64(other), 'Other programme', 2);
	const full = c.exportState();
	c.logout();
	const c2 = await core(f, { state: full, pins: [[1, b64(prog.publicKey)]] });
	assert.equal(c2.key, c.key);
	assert.deepEqual(c2.messages(77).map((x) => x.text), c.messages(77).map((x) => x.text));
	const rec = c.exportRecovery();
	assert.ok(rec.length <= 39 + 40 * 64);
	const c3 = await core(f, { state: rec });
	assert.equal(c3.key, c.key);
	assert.deepEqual(c3.trust.accepted(), [[2, b64(other)]]);
	assert.deepEqual(c2.trustedProgrammes(), c.trustedProgrammes());
	assert.equal(c2.trustedProgrammes().length, 2);
	for (const bad of [new Uint8Array([1, 2, 3]), 'not json', JSON.stringify({ v: 9 }), rec.subarray(0, rec.length - 1)])
		await assert.rejects(createCore({ url: f.url, WebSocket, state: bad }), { code: 'bad_field' });	// history expiry: the pushes of 2023 go, the answer of now stays
	assert.equal(c2.expireHistory(Math.floor(Date.now() / 1000) - 3600), REFUSED_CASE);
	assert.deepEqual(c2.messages(77).map((x) => x.text), [null, 'answer'], 'the one from 2100, dated when it came, and the answer');
	assert.equal(c2.expireHistory(Math.floor(Date.now() / 1000) - 3600), 0);
});

test('core: a message of a case not in the server\'s list is acknowledged as a stranger\'s only when that list was whole', async () => {
	const { f, sc } = await withCounsellor();
	const acked = () => new Set(f.seen.filter((x) => x.type === 'msg.ack').flatMap((x) => x.seqs));
	const push = (seq, kase) => f.push({ type: 'msg', seq, case: kase, mid: b64(sodium.randombytes_buf(16)),
		from: sc.peer.key, ts: 1700000000 + seq, ct: b64(sodium.randombytes_buf(80)) });
	// the whole list: case 91 is nobody's of ours, the message goes
	push(1, 91);
	await waitFor(() => acked().has(1), 3000, 'acknowledged');
	// a list that left cases out (more): case 92 may be ours, it stays
	const list = f.handlers['case.list'];
	f.handlers['case.list'] = (fr, st) => ({ ...list(fr, st), more: true });
	push(2, 92);
	push(3, 77);	// and a case it has goes on as before (answered after 2)
	await waitFor(() => acked().has(3), 3000, 'the next one acknowledged');
	assert.equal(acked().has(2), false, 'kept on the server');
});

test('core: notes come a page at a time, after the last id, while the server says more; a server that does not step forward is not followed', async () => {
	const { f, c } = await withCounsellor();
	const note = (id) => ({ id, ts: 1700000000, ct: b64(sodium.randombytes_buf(40)) });
	f.handlers['note.list'] = (fr) => {
		const after = fr.after ?? 0;
		const ids = [];
		for (let id = after + 1; id <= Math.min(after + 3, 7); id++) ids.push(id);
		return { notes: ids.map(note), ...(ids.at(-1) < 7 ? { more: true } : {}) };
	};
	const got = await c.notes(77);
	assert.deepEqual(got.map((n) => n.id), [1, 2, 3, 4, 5, 6, 7]);
	assert.deepEqual(f.seen.filter((x) => x.type === 'note.list').map((x) => x.after ?? 0), [0, 3, 6]);
	f.handlers['note.list'] = () => ({ notes: [note(1)], more: true });	// always "more", never a step
	assert.equal((await c.notes(77)).length, 2, 'the first page and one that did not step forward');
	// a server that always has more: 1000 notes a case at most, kept and
	// asked for (4,037,059 notes and 511 MB before)
	let pages = 0;
	f.handlers['note.list'] = (fr) => {
		pages++;
		const after = fr.after ?? 0;
		return { notes: Array.from({ length: 300 }, (_, i) => ({ id: after + 1 + i, ts: 0, ct: '' })), more: true };
	};
	assert.equal((await c.notes(77)).length, 1000, 'no more than a case holds');
	assert.equal(pages, 4, 'and no page asked past them');
});

test('core: an unreadable message resets the session and the peer gets a report before the ack; a report received is shown', async () => {
	const { f, sc, c } = await withCounsellor();
	const msgs = [], undec = [];
	c.on('message', (ev) => msgs.push(ev.message));
	c.on('undecryptable', (ev) => undec.push(ev.message));
	const clientP = sc.kase(c.key).participants[0];
	const askPeer = async (fr) => {
		if (fr.type === 'prekeys.get') return { bundle: b64(await upBundle(f, c.key)) };
		throw new Error(fr.type);
	};
	const push = (seq, ct) => f.push({ type: 'msg', seq, case: 77, mid: b64(sodium.randombytes_buf(16)), from: sc.peer.key, ts: 1700000000 + seq, ct });
	const sealed = async (text) => (await sc.peer.seal(clientP, P.envelopeText(te.encode(text)), askPeer)).ct;
	push(1, await sealed('first'));
	await waitFor(() => msgs.length === 1, 3000, 'the first message');
	assert.equal(msgs[0].text, 'first');
	// two messages that do not authenticate in the session (out of step)
	for (const seq of [2, 3]) {
		const ct = P.b64Decode(await sealed(`broken ${seq}`), 1, P.OFR_CT_MAX);
		ct[ct.length - 1] ^= 1;
		push(seq, b64(ct));
	}
	await waitFor(() => sc.sent.length === 1, 3000, 'the report');
	await waitFor(() => f.seen.some((x) => x.type === 'msg.ack' && x.seqs.includes(3)), 3000, 'the acks');
	assert.deepEqual(msgs.slice(1).map((m) => [m.state, m.reason, m.reset]), [['undecryptable', 'crypto', true], ['undecryptable', 'no_session', true]]);
	assert.equal(undec.length, 2);
	const order = f.seen.filter((x) => x.type === 'msg.send' || (x.type === 'msg.ack' && x.seqs.includes(2)));
	assert.equal(order[0].type, 'msg.send', 'the report leaves before the ack');
	const copy = sc.sent[0].copies[0];
	assert.equal(copy.to, sc.peer.key);
	const raw = P.b64Decode(copy.ct, 1, P.OFR_CT_MAX);
	assert.equal(P.ratchetMsgParse(raw).hasInit, true, 'in a new session');
	const rep = P.envelopeParse(sc.peer.open(P.b64Decode(c.key, 32, 32), raw));
	assert.deepEqual({ ...rep, time: undefined }, { version: 2, caseId: 77, seq: 1, time: undefined, kind: P.ENVELOPE_REPORT, count: 2, reason: P.ENVELOPE_R_CRYPTO }, 'a version 2 report, bound to the case');
	// another unreadable one in this page load: told, no second reset or report
	const ct4 = P.b64Decode(await sealed('broken again'), 1, P.OFR_CT_MAX);
	ct4[ct4.length - 1] ^= 1;
	push(4, b64(ct4));
	await waitFor(() => msgs.length === 4, 3000, 'the fourth');
	assert.equal(msgs[3].reset, false);
	await waitFor(() => f.seen.some((x) => x.type === 'msg.ack' && x.seqs.includes(4)), 3000, 'its ack');
	assert.equal(sc.sent.length, 1);
	// the peer's report comes in the new session: shown, and it now talks in it
	push(5, (await sc.peer.seal(clientP, P.envelopeReport(3, P.ENVELOPE_R_NO_SESSION), askPeer)).ct);
	await waitFor(() => msgs.length === 5, 3000, 'the report received');
	assert.deepEqual([msgs[4].state, msgs[4].count, msgs[4].reason, msgs[4].text], ['report', 3, 'no_session', null]);
	assert.equal(undec.at(-1).state, 'report');
	push(6, await sealed('after the reset'));
	await waitFor(() => msgs.length === 6, 3000, 'a text again');
	assert.equal(msgs[5].text, 'after the reset');
	const m = c.send(77, 'answer');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid).state === 'sent', 3000, 'sent');
	const ans = sc.sent.at(-1).copies[0];
	assert.equal(new TextDecoder().decode(P.envelopeParse(sc.peer.open(P.b64Decode(c.key, 32, 32), P.b64Decode(ans.ct, 1, P.OFR_CT_MAX))).text), 'answer');
	// "nothing" is acknowledged and not shown
	push(7, (await sc.peer.seal(clientP, P.envelopeNothing(), askPeer)).ct);
	await waitFor(() => f.seen.some((x) => x.type === 'msg.ack' && x.seqs.includes(7)), 3000, 'the ack of nothing');
	assert.equal(msgs.length, 6);
});

test('e2e: notes open only for their author and case', () => {
	const a = new E2E(), b = new E2E();
	const ct = a.noteSeal(5, te.encode('a note'));
	assert.equal(new TextDecoder().decode(a.noteOpen(5, ct)), 'a note');
	assert.equal(a.noteOpen(6, ct), null);
	assert.equal(b.noteOpen(5, ct), null);
	const raw = P.b64Decode(ct, 0, P.OFR_CT_MAX);
	raw[30] ^= 1;
	assert.equal(a.noteOpen(5, b64(raw)), null);
	assert.throws(() => a.noteSeal(5, new Uint8Array(P.OFR_CT_MAX)), { code: 'too_big' });
	// the note format of caseload.c: nonce || secretbox(pad(case i64 BE || text)) under BLAKE2b(sk, context)
	const key = sodium.crypto_generichash(32, P.ascii('offramp-case-note-key-v2'), a.sk);
	const plain = sodium.crypto_secretbox_open_easy(P.b64Decode(ct, 0, 9999).subarray(24), P.b64Decode(ct, 0, 9999).subarray(0, 24), key);
	assert.deepEqual([...plain.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 5]);
	assert.equal(plain.length, 1024 - 40, 'padded like a message: 1024 bytes stored');
	assert.deepEqual([...plain.subarray(14, 16)], [0x80, 0]);
	assert.equal(P.b64Decode(ct, 0, 99999).length, 1024);
	const mid = a.noteSeal(5, new Uint8Array(861).fill(0x61));
	assert.equal(P.b64Decode(mid, 0, 99999).length, 1024, 'an 869-byte plaintext is still short');
	const long = a.noteSeal(5, new Uint8Array(862).fill(0x61));
	assert.equal(P.b64Decode(long, 0, 99999).length, 16282, 'an 870-byte plaintext is long');
	assert.equal(a.noteOpen(5, long).length, 862);
	const longest = a.noteSeal(5, new Uint8Array(NOTE_TEXT_MAX).fill(0x61));
	assert.equal(P.b64Decode(longest, 0, 99999).length, 16282);
	assert.equal(a.noteOpen(5, longest).length, NOTE_TEXT_MAX);
	// a v2 note padded to an old bucket (before fixed sizes) still opens
	const oldv2 = new Uint8Array(64);
	oldv2[7] = 5;
	oldv2.set(te.encode('old v2'), 8);
	oldv2[14] = 0x80;
	const n2 = sodium.randombytes_buf(24);
	assert.equal(new TextDecoder().decode(a.noteOpen(5, b64(new Uint8Array([...n2,
		...sodium.crypto_secretbox_easy(oldv2, n2, key)])))), 'old v2');
	// ...but not in a larger old bucket than it needed
	const big2 = new Uint8Array(256);
	big2.set(oldv2);
	assert.equal(a.noteOpen(5, b64(new Uint8Array([...n2, ...sodium.crypto_secretbox_easy(big2, n2, key)]))), null);
	// a note from before padding (v1 key, no padding) still opens
	const key1 = sodium.crypto_generichash(32, P.ascii('offramp-case-note-key-v1'), a.sk);
	const old = new Uint8Array(8 + 6);
	old[7] = 5;
	old.set(te.encode('an old'), 8);
	const nonce = sodium.randombytes_buf(24);
	const oldCt = b64(new Uint8Array([...nonce, ...sodium.crypto_secretbox_easy(old, nonce, key1)]));
	assert.equal(new TextDecoder().decode(a.noteOpen(5, oldCt)), 'an old');
	assert.equal(b.noteOpen(5, oldCt), null);
	// under the v2 key, a note without valid padding is refused
	const unpadded = b64(new Uint8Array([...nonce, ...sodium.crypto_secretbox_easy(old, nonce, key)]));
	assert.equal(a.noteOpen(5, unpadded), null);
});

test('e2e: a state round trip, bounds refused', () => {
	const a = new E2E();
	a.makeBundle(3);
	const j = JSON.parse(JSON.stringify(a.toJSON()));
	const b = E2E.fromJSON(j);
	assert.deepEqual(b.toJSON(), a.toJSON());
	assert.throws(() => E2E.fromJSON({ ...j, v: 2 }), { code: 'bad_field' });
	assert.throws(() => E2E.fromJSON({ ...j, spk: [j.spk[0], j.spk[0], j.spk[0], j.spk[0]] }), { code: 'bad_field' });
	const spk = { ...j.spk[0], pk: j.opk[0].sk };
	assert.throws(() => E2E.fromJSON({ ...j, spk: [spk] }), { code: 'bad_field' });
	assert.throws(() => E2E.fromJSON({ ...j, seed: 'AAAA' }), { code: 'bad_field' });
	assert.throws(() => E2E.fromJSON({ ...j, sessions: [{ peer: j.seed, state: 'AAAA', used: 1 }] }), { code: 'bad_field' });
});

test('core: an ack leaves only after beforeAck kept the state; when keeping fails nothing is acked', async () => {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair();
	const sc = counsellorScene(f, { certSk: prog.privateKey, progKey: prog.publicKey });
	let keeping = null;		// the pending keep, resolved by the test
	let refuse = false;
	const order = [];
	const c = await core(f, {
		pins: [[1, b64(prog.publicKey)]],	// its counsellor's messages are read
		beforeAck: () => {
			order.push('keep');
			if (refuse) return Promise.reject(new Error('disk full'));
			return new Promise((resolve) => { keeping = resolve; });
		},
	});
	c.on('account', () => { for (const s of f.socks) s.clientKey = c.key; });
	const errors = [];
	c.on('error', (e) => errors.push(e));
	await c.login();
	const acks = () => f.seen.filter((x) => x.type === 'msg.ack').flatMap((x) => x.seqs);
	f.push({ type: 'msg', seq: 1, case: 77, mid: b64(sodium.randombytes_buf(16)), from: sc.peer.key, ts: 1700000001, ct: b64(sodium.randombytes_buf(200)) });
	await waitFor(() => keeping !== null, 3000, 'beforeAck called');
	await c.request({ type: 'ping' });	// an ack sent before keeping would be seen before this
	assert.deepEqual(acks(), [], 'no ack while the state is being kept');
	keeping();
	await waitFor(() => acks().includes(1), 3000, 'the ack after keeping');
	refuse = true;
	f.push({ type: 'msg', seq: 2, case: 77, mid: b64(sodium.randombytes_buf(16)), from: sc.peer.key, ts: 1700000002, ct: b64(sodium.randombytes_buf(200)) });
	await waitFor(() => errors.some((e) => e.request === 'msg.ack'), 3000, 'the failure reported');
	await c.request({ type: 'ping' });
	assert.ok(!acks().includes(2), 'a copy the device could not keep is not acked');
	assert.deepEqual(order, ['keep', 'keep']);
});

test('core: version 2 read: a meeting and an agreement shown as such, a message moved to another case refused, one out of order warned of; its own are version 2', async () => {
	const { f, sc, c } = await withCounsellor();
	const msgs = [];
	c.on('message', (ev) => msgs.push(ev.message));
	const clientP = sc.kase(c.key).participants[0];
	const askPeer = async (fr) => {
		if (fr.type === 'prekeys.get') return { bundle: b64(await upBundle(f, c.key)) };
		throw new Error(fr.type);
	};
	const now = Math.floor(Date.now() / 1000);
	const push = (seq, ct) => f.push({ type: 'msg', seq, case: 77, mid: b64(sodium.randombytes_buf(16)), from: sc.peer.key, ts: now, ct });
	const sealed = async (e) => (await sc.peer.seal(clientP, P.envelopeWrite({ caseId: 77, time: now, ...e }), askPeer)).ct;
	push(1, await sealed({ seq: 1, kind: P.ENVELOPE_MEETING, meeting: { action: 1, id: 42, time: now + 86400, place: te.encode('Café Nord'), recognise: te.encode('') } }));
	await waitFor(() => msgs.length === 1, 3000, 'the meeting');
	assert.deepEqual(msgs[0].meeting, { action: 'propose', id: 42, time: now + 86400, place: 'Café Nord', recognise: '' });
	assert.equal(msgs[0].warn, undefined);
	const a = { action: 1, version: 1, fields: ['goals', 'chat', 'weekly', 'call 112'].map((x) => te.encode(x)) };
	const late = await sealed({ seq: 2, kind: P.ENVELOPE_TEXT, text: te.encode('second') });
	push(2, await sealed({ seq: 3, kind: P.ENVELOPE_AGREEMENT, agreement: a }));
	await waitFor(() => msgs.length === 2, 3000, 'the agreement');
	assert.equal(msgs[1].agreement.objectives, 'goals');
	assert.equal(msgs[1].agreement.crisis, 'call 112');
	assert.deepEqual(msgs[1].warn, ['held_back'], 'number 2 was skipped');
	push(3, late);
	await waitFor(() => msgs.length === 3, 3000, 'the late one');
	assert.equal(msgs[2].text, 'second');
	assert.deepEqual(msgs[2].warn, ['replayed'], 'shown, and warned of');
	push(4, (await sc.peer.seal(clientP, P.envelopeWrite({ caseId: 78, seq: 4, time: now, kind: P.ENVELOPE_TEXT, text: te.encode('elsewhere') }), askPeer)).ct);
	await waitFor(() => msgs.length === 4, 3000, 'the moved one');
	assert.equal(msgs[3].state, 'refused');
	assert.equal(msgs[3].reason, 'moved');
	assert.equal(msgs[3].text, null);
	// what this page sends is version 2, bound to the case, numbered from 1
	c.send(77, 'mine');
	await waitFor(() => sc.sent.some((x) => x.case === 77), 3000, 'the send');
	const copy = sc.sent.find((x) => x.case === 77).copies.find((x) => x.to === sc.peer.key);
	const env = P.envelopeParse(sc.peer.open(P.b64Decode(c.key, 32, 32), P.b64Decode(copy.ct, 1, P.OFR_CT_MAX)));
	assert.deepEqual([env.version, env.caseId, env.seq, env.kind], [2, 77, 1, P.ENVELOPE_TEXT]);
	// the meeting accepted, the agreement accepted: numbers 2 and 3
	assert.throws(() => c.answer(77, msgs[1].from, msgs[1].mid, 'decline'), { code: 'usage' }, 'an agreement is accepted or revised');
	// a mid names one sender's message: under another key it is not that one
	assert.throws(() => c.answer(77, c.key, msgs[0].mid, 'accept'), { code: 'not_found' }, 'the mid under another key');
	c.answer(77, msgs[0].from, msgs[0].mid, 'accept');
	c.answer(77, msgs[1].from, msgs[1].mid, 'accept');
	await waitFor(() => sc.sent.filter((x) => x.case === 77).length === 3, 3000, 'the answers');
	const [m2, m3] = sc.sent.filter((x) => x.case === 77).slice(1).map((fr) => P.envelopeParse(sc.peer.open(P.b64Decode(c.key, 32, 32),
		P.b64Decode(fr.copies.find((x) => x.to === sc.peer.key).ct, 1, P.OFR_CT_MAX))));
	assert.deepEqual([m2.seq, m2.kind, m2.meeting.action, m2.meeting.id, m2.meeting.time, m2.meeting.place.length], [2, P.ENVELOPE_MEETING, 2, 42, now + 86400, 0]);
	assert.deepEqual([m3.seq, m3.kind, m3.agreement.action, m3.agreement.version], [3, P.ENVELOPE_AGREEMENT, 2, 1]);
});

test('core: a message the server refused for good gives its running number back: the next one takes it, so the peers see no gap', async () => {
	const { f, sc, c } = await withCounsellor();
	const take = f.handlers['msg.send'];
	f.handlers['msg.send'] = () => ({ error: 'forbidden' });
	const m = c.send(77, 'refused');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.state === 'failed', 3000, 'refused for good');
	f.handlers['msg.send'] = take;
	c.send(77, 'next');
	await waitFor(() => sc.sent.some((x) => x.case === 77), 3000, 'the next one');
	const copy = sc.sent.find((x) => x.case === 77).copies.find((x) => x.to === sc.peer.key);
	const env = P.envelopeParse(sc.peer.open(P.b64Decode(c.key, 32, 32), P.b64Decode(copy.ct, 1, P.OFR_CT_MAX)));
	assert.deepEqual([env.seq, new TextDecoder().decode(env.text)], [1, 'next']);
	assert.equal(JSON.parse(c.exportState({ as: 'json' })).cases[0].bindOut.seq, 1, 'kept so');
	c.logout();
});

test('core: a message whose try a reconnect cut keeps its number when the retry is refused: that try may be stored', async () => {
	const { f, sc, c } = await withCounsellor();
	const take = f.handlers['msg.send'];
	let tries = 0;
	f.handlers['msg.send'] = (fr, sock) => {
		if (++tries > 1) return { error: 'not_found' };
		take(fr, sock);		// stored, and the answer lost with the connection
		sock.terminate();
		return null;
	};
	const m = c.send(77, 'stored, its answer lost');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.state === 'failed', 10000, 'refused at the retry');
	f.handlers['msg.send'] = take;
	c.send(77, 'next');
	await waitFor(() => sc.sent.filter((x) => x.case === 77).length === 2, 10000, 'the next one');
	const seqs = sc.sent.filter((x) => x.case === 77).map((fr) => P.envelopeParse(sc.peer.open(P.b64Decode(c.key, 32, 32),
		P.b64Decode(fr.copies.find((x) => x.to === sc.peer.key).ct, 1, P.OFR_CT_MAX))).seq);
	assert.deepEqual(seqs, [1, 2], 'no number stored twice');
	c.logout();
});

test('core: a case object of another shape than PROTOCOL.md\'s is dropped whole: the case stays as it was, the page goes on, nothing of it is kept', async () => {
	const { f, sc, c } = await withCounsellor();
	const errors = [];
	c.on('error', (e) => errors.push(e));
	c.on('listener-error', (e) => errors.push(e));
	const now = Math.floor(Date.now() / 1000);
	const good = sc.kase(c.key);
	const me = good.participants[0];
	const bad = [
		{ id: 5, status: 'active', participants: [me, null] },		// one participant null
		{ ...good, former: [null] },					// a former one null (case 77 itself)
		{ ...good, participants: [me, { ...good.participants[1], key: 'not a key' }] },
		{ ...good, participants: { 0: me } },
		{ ...good, status: 'active sr-only' },
		{ ...good, former: Array.from({ length: 17 }, () => ({ key: new E2E().key, role: 'counsellor', left: now, reason: 'left' })) },
		{ ...good, participants: [me, { ...good.participants[1], name: 'x'.repeat(65) }] },
		{ ...good, referral: { status: 'accepted', counsellor: 42 } },
		{ ...good, members: -1 },
	];
	for (const k of bad) f.push({ type: 'case', case: k });
	// pushes are taken in order: once this one is in, the others were seen
	f.push({ type: 'case', case: { ...good, id: 6, participants: [me] } });
	await waitFor(() => c.caseOf(6), 3000, 'the well-formed case after them');
	assert.deepEqual(errors, [], 'nothing failed');
	assert.equal(c.caseOf(5), null, 'a case never seen is not kept');
	assert.deepEqual(c.caseOf(77).participants.map((p) => p.key), good.participants.map((p) => p.key), 'case 77 as it was');
	assert.deepEqual(c.caseOf(77).former, []);
	assert.equal(c.caseOf(77).status, 'active');
	assert.deepEqual(c.cases().map((x) => x.id).sort(), [6, 77]);
	assert.ok(!c.exportState({ as: 'json' }).includes('null]'), 'nothing of them in the state');
	// a state a page kept before this check (a case object with a null
	// participant): it opens, the case keeps its messages, nobody is in it
	// until the server lists it again
	const m = c.send(77, 'kept');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid).state === 'sent', 3000, 'sent');
	const st = JSON.parse(c.exportState({ as: 'json' }));
	st.cases.find((x) => x.case.id === 77).case.participants.push(null);
	const d = await core(f, { state: JSON.stringify(st) });
	assert.deepEqual(d.caseOf(77).participants, []);
	assert.deepEqual(d.messages(77).map((x) => x.text), ['kept']);
	assert.equal(d.cases().length, 2);
});

test('core: a message takes its running number once: seals that fail, and a seal again for new participants, use up none', async () => {
	const { f, sc, c } = await withCounsellor();
	const programme = f.handlers['programme.get'];
	const asks = () => f.seen.filter((x) => x.type === 'programme.get').length;
	c.send(77, 'first');
	await waitFor(() => sc.sent.length === 1, 3000, 'the first');
	// programme.get fails for a while (its answer kept in memory ran out):
	// the second message is sealed three times in vain
	f.handlers['programme.get'] = () => ({ error: 'internal' });
	c.trust.fresh.clear();
	c.send(77, 'second');
	for (let i = 0; i < 2; i++) {
		const n = asks();
		await waitFor(() => asks() > n, 3000, 'an attempt');
		f.push({ type: 'case', case: sc.kase(c.key) });	// each case push flushes again
	}
	const n = asks();
	await waitFor(() => asks() > n, 3000, 'the third attempt');
	await c.request({ type: 'ping' });
	assert.equal(sc.sent.length, 1, 'nothing went meanwhile');
	const kept = JSON.parse(c.exportState({ as: 'json' })).cases[0].outbox[0];
	assert.equal(kept.bind.seq, 2, 'its number, saved with the outbox');
	f.handlers['programme.get'] = programme;
	f.push({ type: 'case', case: sc.kase(c.key) });
	await waitFor(() => sc.sent.length === 2, 3000, 'the second');
	// the third is refused once (bad_recipients: the participants changed) and sealed again
	let refuse = true;
	f.handlers['msg.send'] = (fr) => {
		if (refuse) {
			refuse = false;
			return { error: 'bad_recipients' };
		}
		sc.sent.push(fr);
		return { mid: fr.mid, dup: false };
	};
	c.send(77, 'third');
	await waitFor(() => sc.sent.length === 3, 3000, 'the third');
	// the counsellor reads 1, 2, 3: nothing held back
	const from = P.b64Decode(c.key, 32, 32);
	const got = sc.sent.map((fr) => P.envelopeParse(sc.peer.open(from, P.b64Decode(fr.copies[0].ct, 1, P.OFR_CT_MAX))));
	assert.deepEqual(got.map((x) => [x.seq, new TextDecoder().decode(x.text)]), [[1, 'first'], [2, 'second'], [3, 'third']]);
	for (let i = 1; i < got.length; i++)
		assert.equal(P.envelopeCheck(got[i], 77, got[i - 1].seq, got[i - 1].time, got[i].time), 0, `no warning on ${i + 1}`);
	assert.ok(c.messages(77).every((x) => x.bind === undefined), 'the binding is the core\'s own');
});

test('core: receipts are kept only from the case\'s participants, at most a case\'s number: made-up ones do not grow the state', async () => {
	const { f, sc, c } = await withCounsellor();
	const m = c.send(77, 'hello');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid).state === 'sent', 3000, 'sent');
	const before = c.exportState().length;
	const states = [];
	c.on('message-state', (ev) => states.push(ev));
	const big = 'x'.repeat(100000);
	for (let i = 0; i < 200; i++) f.push({ type: 'msg.delivered', case: 77, mid: m.mid, to: `${big}${i}` });
	for (let i = 0; i < 20; i++) f.push({ type: 'msg.delivered', case: 77, mid: m.mid, to: new E2E().key });	// strangers
	f.push({ type: 'msg.delivered', case: 77, mid: m.mid, to: c.key });	// itself
	f.push({ type: 'msg.delivered', case: 77, mid: m.mid, to: sc.peer.key });	// its counsellor
	await waitFor(() => states.length > 0, 3000, 'the receipt');
	await c.request({ type: 'ping' });
	assert.deepEqual(states.map((x) => x.to), [sc.peer.key], 'one receipt told');
	const got = c.messages(77).find((x) => x.mid === m.mid);
	assert.deepEqual(got.deliveredTo, [sc.peer.key]);
	assert.equal(got.state, 'delivered');
	assert.ok(c.exportState().length < before + 200, `the state grew by ${c.exportState().length - before} bytes`);
	// a state a page kept before this check: its receipts are cut to keys, at most eight
	const st = JSON.parse(c.exportState({ as: 'json' }));
	st.cases[0].messages.find((x) => x.mid === m.mid).deliveredTo = [sc.peer.key, big, ...Array.from({ length: 20 }, () => new E2E().key)];
	const d = await core(f, { state: JSON.stringify(st) });
	const kept = d.messages(77).find((x) => x.mid === m.mid).deliveredTo;
	assert.equal(kept.length, PARTICIPANTS_MAX);
	assert.equal(kept[0], sc.peer.key);
});

test('core: a message leaves only after beforeSend kept the state that sealed it; when keeping fails it waits', async () => {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair();
	const sc = counsellorScene(f, { certSk: prog.privateKey, progKey: prog.publicKey });
	const keeping = [];	// the pending keeps, resolved by the test
	let refuse = false;
	const c = await core(f, {
		pins: [[1, b64(prog.publicKey)]],
		beforeSend: () => (refuse ? Promise.reject(new Error('disk full')) : new Promise((resolve) => keeping.push(resolve))),
	}, { account: true });
	const kept = async () => {
		await waitFor(() => keeping.length > 0, 3000, 'beforeSend called');
		keeping.shift()();
	};
	const errors = [];
	c.on('error', (e) => errors.push(e));
	await c.login();
	const m = c.send(77, 'one');
	await waitFor(() => keeping.length > 0, 3000, 'beforeSend called');
	await c.request({ type: 'ping' });	// a send before keeping would be seen before this
	assert.equal(sc.sent.length, 0, 'nothing leaves while the state is being kept');
	const out = JSON.parse(c.exportState({ as: 'json' })).cases[0].outbox[0];
	assert.ok(out.sealed && out.bind.seq === 1, 'what is kept is the message sealed, with its number');
	await kept();
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid).state === 'sent', 3000, 'sent after keeping');
	assert.equal(sc.sent.length, 1);
	refuse = true;
	const m2 = c.send(77, 'two');
	await waitFor(() => errors.some((e) => e.request === 'msg.send' && e.code === 'io'), 3000, 'the failure told');
	await c.request({ type: 'ping' });
	assert.equal(sc.sent.length, 1, 'not sent while the device cannot keep it');
	const two = c.messages(77).find((x) => x.mid === m2.mid);
	assert.deepEqual([two.state, two.reason], ['queued', 'io']);
	refuse = false;
	c.send(77, 'three');	// the device keeps again: both go, in order
	await kept();
	await kept();
	await waitFor(() => sc.sent.length === 3, 3000, 'three sent');
	const from = P.b64Decode(c.key, 32, 32);
	assert.deepEqual(sc.sent.map((fr) => new TextDecoder().decode(P.envelopeParse(sc.peer.open(from, P.b64Decode(fr.copies[0].ct, 1, P.OFR_CT_MAX))).text)),
		['one', 'two', 'three']);
});

/* The counsellor's client reading the copies the core sent, as
 * received() does: opened; a report keeps the newest session and starts
 * its sender's numbers again; else envelopeCheck against the sender's
 * last number in that case. */
function counsellorReads(sc, clientKey) {
	const from = P.b64Decode(clientKey, 32, 32);
	const last = new Map();		// case -> {seq, time}
	return (fr) => {
		const ct = P.b64Decode(fr.copies.find((x) => x.to === sc.peer.key).ct, 1, P.OFR_CT_MAX);
		let env;
		try {
			env = P.envelopeParse(sc.peer.open(from, ct));
		} catch (e) {
			return { unreadable: e.reason || e.message };
		}
		const report = env.kind === P.ENVELOPE_REPORT;
		const was = report ? null : last.get(fr.case);
		const found = P.envelopeCheck(env, fr.case, was?.seq ?? 0, was?.time ?? 0, env.time + 1);
		if (report) sc.peer.keepLatest(from);
		const warn = [];
		if (found & P.ENVELOPE_REPLAYED) warn.push('replayed');
		if (found & P.ENVELOPE_HELD_BACK) warn.push('held_back');
		if (found & P.ENVELOPE_EARLIER) warn.push('earlier');
		if (!(found & P.ENVELOPE_REPLAYED)) last.set(fr.case, { seq: env.seq, time: Math.max(env.time, was?.time ?? 0) });
		return report ? { case: fr.case, seq: env.seq, report: true, warn } : { case: fr.case, seq: env.seq, text: new TextDecoder().decode(env.text), warn };
	};
}

/* A message from the counsellor in case id that does not authenticate
 * (its last byte flipped): the core resets the sessions and owes a report. */
async function pushUnreadable(f, sc, c, seq, id = 77) {
	const clientP = sc.kase(c.key).participants[0];
	const askPeer = async (fr) => {
		if (fr.type === 'prekeys.get') return { bundle: b64(await upBundle(f, c.key)) };
		throw new Error(fr.type);
	};
	const ct = P.b64Decode((await sc.peer.seal(clientP, P.envelopeText(te.encode('unreadable')), askPeer)).ct, 1, P.OFR_CT_MAX);
	ct[ct.length - 1] ^= 1;
	f.push({ type: 'msg', seq, case: id, mid: b64(sodium.randombytes_buf(16)), from: sc.peer.key, ts: Math.floor(Date.now() / 1000), ct: b64(ct) });
}

test('core: a report takes the case\'s next number: a message sealed again after it takes a later one (not read as a replay); a report refused gives its number back', async () => {
	const { f, sc, c } = await withCounsellor({ fresh: true });
	const read = counsellorReads(sc, c.key);
	const got = [];		// what the counsellor reads, in the server's order
	let refuse = null;
	f.handlers['msg.send'] = (fr) => {
		if (refuse) {
			const error = refuse;
			refuse = null;
			return { error };
		}
		sc.sent.push(fr);
		got.push(read(fr));
		return { mid: fr.mid, dup: false };
	};
	c.send(77, 'first');
	await waitFor(() => sc.sent.length === 1, 3000, 'the first');
	// 'second' is refused once (bad_recipients), and the case.list the core
	// then asks for is answered late; meanwhile a report goes
	let held = null;
	const list = f.handlers['case.list'];
	f.handlers['case.list'] = (fr, s) => {
		held = () => f.send(s, { type: 'case.list.ok', re: fr.id, ...list(fr, s) });
		return null;
	};
	refuse = 'bad_recipients';
	c.send(77, 'second');
	await waitFor(() => held, 3000, 'case.list asked after bad_recipients');
	await pushUnreadable(f, sc, c, 1);
	await waitFor(() => sc.sent.length === 2, 3000, 'the report');
	f.handlers['case.list'] = list;
	held();
	await waitFor(() => sc.sent.length === 3, 3000, 'the second, sealed again');
	// the next report (another reset) is refused: not stored, its number is the next message's
	c.resets.clear();
	refuse = 'case_closed';
	await pushUnreadable(f, sc, c, 2);
	await waitFor(() => refuse === null, 3000, 'the report refused');
	await c.request({ type: 'ping' });
	c.send(77, 'third');
	await waitFor(() => sc.sent.length === 4, 3000, 'the third');
	assert.deepEqual(got.map((x) => [x.seq, x.text ?? 'report', x.warn]),
		[[1, 'first', []], [3, 'report', []], [4, 'second', []], [5, 'third', []]], 'in order, no warning');
});

test('core: a message sealed before the counsellor\'s sessions were reset is sealed again in the new one, in the report\'s case and in another', async () => {
	let failKeep = false;
	const { f, sc, c } = await withCounsellor({ fresh: true, opts: {
		beforeSend: async () => {
			if (failKeep) throw new Error('disk full');
		},
	} });
	const read = counsellorReads(sc, c.key);
	const got = [];		// what the counsellor reads, in the server's order
	f.handlers['msg.send'] = (fr) => {
		sc.sent.push(fr);
		got.push(read(fr));
		return { mid: fr.mid, dup: false };
	};
	const other = (key) => ({ ...sc.kase(key), id: 78 });	// another case with the same counsellor
	f.handlers['case.list'] = (fr, s) => ({ cases: [sc.kase(s.clientKey), other(s.clientKey)] });
	f.push({ type: 'case', case: other(c.key) });
	await waitFor(() => c.caseOf(78), 3000, 'the other case');
	const state = (m) => c.messages(m.caseId).find((x) => x.mid === m.mid);
	const m1 = c.send(77, 'first');
	await waitFor(() => state(m1).state === 'sent', 3000, 'the first');
	// sealed in the session of now, kept back: the device could not keep the state
	failKeep = true;
	const m77 = c.send(77, 'second');
	const m78 = c.send(78, 'elsewhere');
	await waitFor(() => [m77, m78].every((m) => state(m).reason === 'io'), 3000, 'both kept back');
	failKeep = false;
	// an unreadable message: the sessions are dropped, the report goes in a new one
	await pushUnreadable(f, sc, c, 1);
	await waitFor(() => sc.sent.length === 2, 3000, 'the report');
	f.push({ type: 'case', case: sc.kase(c.key) });		// each case push flushes again
	f.push({ type: 'case', case: other(c.key) });
	await waitFor(() => sc.sent.length === 4, 3000, 'both sent');
	// the report may go before 'second' or after it: read, in order, either way
	assert.ok(got.every((x) => !x.unreadable && x.warn.length === 0), JSON.stringify(got));
	const texts = (id) => got.filter((x) => x.case === id).map((x) => x.text ?? 'report');
	assert.deepEqual(texts(77).filter((x) => x !== 'report'), ['first', 'second']);
	assert.deepEqual(texts(78), ['elsewhere'], 'read, in the new session');
	await waitFor(() => [m77, m78].every((m) => state(m).state === 'sent'), 3000, 'both shown sent');
});

/* A msg.send handler that stores as the server does, once per mid (a mid
 * stored before is answered "dup"), whose answers the test can cut: the
 * next one, after storing, is cut.shift() when set ("unavailable": the
 * commit was cut off, and it was made). got: what the counsellor read. */
function storedOnce(sc, c) {
	const read = counsellorReads(sc, c.key);
	const st = { got: [], mids: new Map(), cut: [] };
	st.handler = (fr) => {
		sc.sent.push(fr);
		if (st.mids.has(fr.mid)) return { mid: fr.mid, dup: true };
		st.mids.set(fr.mid, fr);
		st.got.push(read(fr));
		const error = st.cut.shift();
		return error ? { error } : { mid: fr.mid, dup: false };
	};
	return st;
}
const seen = (got) => got.map((x) => [x.seq, x.text ?? 'report', x.warn]);

test('core: a report answered "unavailable" (it may be stored) keeps its number and goes again, the same copies under the same mid', async () => {
	const { f, sc, c } = await withCounsellor({ fresh: true });
	const st = storedOnce(sc, c);
	f.handlers['msg.send'] = st.handler;
	c.send(77, 'first');
	await waitFor(() => st.got.length === 1, 3000, 'the first');
	st.cut.push('unavailable');	// the report is stored, the answer says unavailable
	await pushUnreadable(f, sc, c, 1);
	await waitFor(() => st.got.length === 2, 3000, 'the report');
	const report = sc.sent[1];
	await waitFor(() => JSON.parse(c.exportState({ as: 'json' })).cases[0].reportOut?.mid === report.mid, 3000, 'kept to go again');
	c.send(77, 'second');
	await waitFor(() => st.got.length === 3, 8000, 'the second');
	const again = sc.sent.filter((x) => x.mid === report.mid);
	assert.equal(again.length, 2, 'the report sent again before the second');
	assert.deepEqual(again[1].copies, report.copies, 'as it was');
	assert.ok(sc.sent.indexOf(again[1]) < sc.sent.findIndex((x) => x.mid === [...st.mids.keys()][2]));
	assert.equal(JSON.parse(c.exportState({ as: 'json' })).cases[0].reportOut, undefined, 'answered: done');
	assert.deepEqual(seen(st.got), [[1, 'first', []], [2, 'report', []], [3, 'second', []]], 'no number used twice');
});

test('core: a report whose try a reconnect cut keeps its number when the retry is refused: that try may be stored', async () => {
	const { f, sc, c } = await withCounsellor({ fresh: true });
	const st = storedOnce(sc, c);
	let cut = false, refuse = false;
	f.handlers['msg.send'] = (fr, sock) => {
		if (refuse) {
			refuse = false;
			return { error: 'not_found' };
		}
		const a = st.handler(fr);
		if (!cut) return a;
		cut = false;		// stored, and the answer lost with the connection
		refuse = true;
		sock.terminate();
		return null;
	};
	c.send(77, 'first');
	await waitFor(() => st.got.length === 1, 3000, 'the first');
	cut = true;
	await pushUnreadable(f, sc, c, 1);
	await waitFor(() => st.got.length === 2 && !refuse, 10000, 'the report stored, its retry refused');
	c.send(77, 'second');
	await waitFor(() => st.got.length === 3, 10000, 'the second');
	assert.deepEqual(seen(st.got), [[1, 'first', []], [2, 'report', []], [3, 'second', []]], 'no number used twice');
	c.logout();
});

test('core: a report whose seal fails (prekeys.get unanswered) gives its number back and stays owed', async () => {
	const { f, sc, c } = await withCounsellor({ fresh: true });
	const st = storedOnce(sc, c);
	f.handlers['msg.send'] = st.handler;
	const errors = [];
	c.on('error', (e) => errors.push(e));
	c.send(77, 'first');
	await waitFor(() => st.got.length === 1, 3000, 'the first');
	const pk = f.handlers['prekeys.get'];
	f.handlers['prekeys.get'] = () => null;	// no answer: the report's seal times out
	await pushUnreadable(f, sc, c, 1);
	await waitFor(() => errors.some((e) => e.request === 'msg.send' && e.code === 'timeout'), 8000, 'the report failed');
	f.handlers['prekeys.get'] = pk;
	await waitFor(() => c.conn.state === 'online', 5000, 'online again');
	assert.equal(JSON.parse(c.exportState({ as: 'json' })).cases[0].bindOut.seq, 1, 'its number given back');
	assert.equal([...c.resets.values()][0].sent, false, 'owed still');
	c.send(77, 'second');
	await waitFor(() => st.got.length === 2, 5000, 'the second');
	await c.sendReports();	// the report owed goes at the next ack
	await waitFor(() => st.got.length === 3, 5000, 'the report');
	assert.deepEqual(seen(st.got), [[1, 'first', []], [2, 'second', []], [3, 'report', []]]);
});

test('core: a message answered "unavailable" (it may be stored) keeps its number and mid: a report waits for its answer; "tried" is kept before it leaves', async () => {
	const kept = [];	// the state kept before each message leaves
	let c = null;
	const { f, sc, c: d } = await withCounsellor({ fresh: true, opts: {
		beforeSend: async () => { kept.push(JSON.parse(c.exportState({ as: 'json' }))); },
	} });
	c = d;
	const st = storedOnce(sc, c);
	f.handlers['msg.send'] = st.handler;
	c.send(77, 'first');
	await waitFor(() => st.got.length === 1, 3000, 'the first');
	st.cut.push('unavailable');
	const m = c.send(77, 'second');
	await waitFor(() => st.got.length === 2, 3000, 'the second, cut');
	const out = kept.at(-1).cases[0].outbox.find((x) => x.mid === m.mid);
	assert.deepEqual([out.tried, out.bind.seq], [true, 2], 'asked: kept so before it left');
	await pushUnreadable(f, sc, c, 1);
	await waitFor(() => st.got.length === 3, 8000, 'the report');
	c.send(77, 'third');
	await waitFor(() => st.got.length === 4, 3000, 'the third');
	const seconds = sc.sent.filter((x) => x.mid === m.mid);
	// sent again under its mid (sealed again in the new session, its number kept): answered dup
	assert.equal(seconds.length, 2, 'the second sent again, once');
	assert.ok(sc.sent.indexOf(seconds[1]) < sc.sent.findIndex((x) => x.mid === [...st.mids.keys()][2]),
		'before the report');
	assert.deepEqual(seen(st.got), [[1, 'first', []], [2, 'second', []], [3, 'report', []], [4, 'third', []]]);
});

test('core: a hostile listing: no more cases than the protocol lists, the event loop taking turns between them; a changed key told once an update, its record bounded; the account\'s key is the page\'s own', async () => {
	const f = await fake();
	// the server names another key than the one that logged in
	f.account = () => ({ key: new E2E().key, role: 'client', name: 'quiet-heron-1', programme: null });
	const c = await core(f);
	const me = { key: c.key, role: 'client', name: 'quiet-heron-1' };
	f.handlers['case.list'] = () => ({ cases: Array.from({ length: 500 }, (_, i) => ({ id: 1000 + i, status: 'closed', participants: [me] })) });
	const seen = [];
	c.on('case', (ev) => seen.push(ev.case.id));
	// the controller's way (coalesced): one sync of the view a task
	let syncs = 0, queued = false;
	c.on('case', () => {
		if (queued) return;
		queued = true;
		setTimeout(() => { queued = false; syncs++; }, 0);
	});
	let tick = -1;
	setTimeout(() => { tick = seen.length; }, 0);
	const acct = await c.login();
	assert.equal(acct.key, c.key, 'the page\'s key, not the server\'s word');
	assert.equal(c.account.key, c.key);
	await waitFor(() => seen.length >= LISTED_MAX, 5000, 'the listing read');
	assert.equal(c.cases().length, LISTED_MAX, 'no more cases than one listing holds');
	assert.equal(c.casesMore, true, 'the rest may be ours: said as more');
	assert.ok(tick >= 0 && tick < LISTED_MAX, `a timer ran between the listing's cases (after ${tick})`);
	await waitFor(() => !queued, 1000, 'the last sync');
	assert.ok(syncs >= 2 && syncs <= LISTED_MAX / 4 + 1, `a sync of the view every few cases, not every case (${syncs})`);
	// one counsellor's key recorded, then an update naming 20 others in its place, 30 times
	const lead = (key) => ({ key, role: 'counsellor', name: 'Sam' });
	f.push({ type: 'case', case: { id: 7, status: 'active', participants: [me, lead(new E2E().key)] } });
	await waitFor(() => c.caseOf(7), 3000, 'case 7');
	const changes = [];
	c.on('keychange', (ev) => changes.push(ev));
	for (let i = 0; i < 30; i++) {
		f.push({ type: 'case', case: { id: 7, status: 'active', participants: [me, ...Array.from({ length: 20 }, () => lead(new E2E().key))] } });
	}
	f.push({ type: 'case', case: { id: 8, status: 'closed', participants: [me] } });
	await waitFor(() => c.caseOf(8), 3000, 'the update after them');
	assert.equal(changes.length, 30, 'one keychange an update');
	assert.ok(changes.every((ev) => ev.caseId === 7 && ev.participant?.changed), 'each of a changed key of case 7');
	assert.ok(c.cs.get(7).announced.size <= 20, `what is kept of them is the last update's (${c.cs.get(7).announced.size})`);
	// the same listing again: nothing new to tell
	f.push({ type: 'case', case: { id: 7, status: 'active', participants: [me, ...[...c.cs.get(7).announced].map((t) => lead(t.slice('counsellor:'.length)))] } });
	f.push({ type: 'case', case: { id: 9, status: 'closed', participants: [me] } });
	await waitFor(() => c.caseOf(9), 3000, 'the update after it');
	assert.equal(changes.length, 30, 'keys told of before are not told again');
});

test('the history of all cases is bounded in bytes: past HISTORY_BYTES the oldest messages of any case go, an outbox\'s never, and the state exported stays within it', async () => {
	const f = await fake();
	const c = await core(f);
	// 40 cases of 60 messages of 16,000 characters (38 MB): what a server
	// making cases for a counsellor's page could send, through keep(),
	// the path of every message received and sent
	const big = 'x'.repeat(16000);
	let ts = 1700000000;
	const waiting = [];
	for (let id = 1; id <= 40; id++) {
		const e = c.entry(id, { id, status: 'active', participants: [] });
		for (let i = 0; i < 60; i++) {
			const m = { mid: `m${id}-${i}`, caseId: id, mine: false, text: big, ts: ts++, state: 'received' };
			if (id === 1 && i === 0) {	// the oldest of all waits in its outbox
				m.mine = true;
				m.state = 'queued';
				e.outbox.push(m);
				waiting.push(m);
			}
			c.keep(e, m);
		}
	}
	const all = [...c.cs.values()].flatMap((e) => e.messages);
	const chars = all.reduce((n, m) => n + m.text.length, 0);
	assert.ok(chars <= HISTORY_BYTES, `${chars} characters kept`);
	assert.ok(chars >= HISTORY_BYTES * 0.8, 'not much more than needed went');
	assert.ok(all.includes(waiting[0]), 'the outbox\'s message stays');
	assert.ok(c.messages(40).some((m) => m.mid === 'm40-59'), 'the newest stays');
	assert.ok(!c.messages(1).some((m) => m.mid === 'm1-1'), 'the oldest went');
	const oldestKept = Math.min(...all.filter((m) => m !== waiting[0]).map((m) => m.ts));
	assert.ok(all.every((m) => m === waiting[0] || m.ts >= oldestKept), 'in order of time, across cases');
	assert.ok(c.exportState().length < HISTORY_BYTES * 1.2, 'the state sealed at each ack is bounded');
	c.logout();
});
