// core_trust.test.js: the core against a compromised server (fake.mjs)
// that tries to make the web client trust what it must not: a programme
// key it made up, a counsellor of another programme than the one asked
// for, a revoked counsellor after dropping the list, a rotation or partner
// statement not signed by a trusted key, a counsellor's key swapped
// between showing the safety number and verify, another server key. Each
// is refused and told; what the user accepted, or a real rotation, is
// followed. An admin to seal feedback to needs an admin certificate under
// a live anchor (never a counsellor's, never a partner's); the sealed text
// is padded as proto/feedback.c pads it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import sodium from 'libsodium-wrappers-sumo';
import { createCore } from '../src/core.js';
import { E2E } from '../src/e2e.js';
import * as P from '../src/proto/index.js';
import { waitFor } from './live.mjs';
import { fake, core as newCore } from './fake.mjs';

before(async () => {
	await P.ocryptoInit();
});

const b64 = P.b64Encode;
/* A core whose scripted server learns its key at login. */
const core = (f, opts = {}) => newCore(f, opts, { account: true });

const NOW = Math.floor(Date.now() / 1000);

/* A counsellor (an E2E) of programme id, certified by sk. */
function counsellor(id, sk, { notAfter = NOW + 3600 } = {}) {
	const peer = new E2E();
	const cert = P.certSign(sk, { counsellorPk: peer.pk, programmeId: id, notBefore: NOW - 60, notAfter });
	return { peer, cert, bundle: peer.makeBundle(2), id };
}

/* Case 77 of the core's client with counsellor c; programme.get answers
 * from progs[id] ({key, rotations, revoked, vouched_by}); sends are kept. */
function scene(f, c, progs) {
	const kase = (clientKey, who = c) => ({
		id: 77, status: 'active', language: 'en', topic: null, urgency: 'normal', created: NOW, updated: NOW, preferences: null,
		participants: [{ key: clientKey, role: 'client', name: 'quiet-heron-1' },
			{ key: who.peer.key, role: 'counsellor', name: 'Sam', programme: who.id, cert: b64(who.cert) }],
	});
	const sc = { kase, sent: [], progs, who: c };
	f.handlers['case.list'] = (fr, s) => ({ cases: [kase(s.clientKey, sc.who)] });
	f.handlers['programme.get'] = (fr) => {
		const p = sc.progs[fr.programme];
		if (!p) return { error: 'not_found' };
		return {
			programme: {
				id: fr.programme, name: p.name || `Programme ${fr.programme}`, key: b64(p.key),
				rotations: (p.rotations || []).map(b64), revoked: p.revoked ? b64(p.revoked) : null,
				vouched_by: (p.vouched_by || []).map((v) => ({ programme: v.programme, statement: b64(v.statement) })),
			},
		};
	};
	f.handlers['prekeys.get'] = (fr) => (fr.key === sc.who.peer.key
		? { bundle: b64(sc.who.bundle), cert: b64(sc.who.cert), programme: sc.who.id } : { error: 'not_found' });
	f.handlers['msg.send'] = (fr) => {
		sc.sent.push(fr);
		return { mid: fr.mid, dup: false };
	};
	return sc;
}

const counsellorOf = (c) => c.caseOf(77).participants.find((p) => p.role === 'counsellor');

test('a programme key the server made up is never used silently: reported with its fingerprint, trusted only when the user says so', async () => {
	const f = await fake();
	const made = sodium.crypto_sign_keypair();
	const sc = scene(f, counsellor(1, made.privateKey), { 1: { key: made.publicKey, name: 'Exit North' } });
	const c = await core(f);	// no key in the bundle: nothing is trusted on first use
	const offered = [];
	c.on('untrusted-programme', (ev) => offered.push(ev));
	await c.login();
	assert.equal(counsellorOf(c).certified, false);
	assert.equal(counsellorOf(c).refused, 'untrusted_programme');
	assert.deepEqual(offered[0], { caseId: 77, programme: { id: 1, name: 'Exit North', key: b64(made.publicKey),
		fingerprint: P.keyFingerprint(made.publicKey) } });
	assert.deepEqual(c.untrustedProgrammes(), [offered[0].programme]);
	const m = c.send(77, 'must wait for the user');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.reason === 'untrusted_programme', 3000, 'the message waits');
	assert.equal(sc.sent.length, 0);
	assert.equal(f.seen.filter((x) => x.type === 'prekeys.get').length, 0, 'no session with it');
	assert.equal(JSON.parse(c.exportState({ as: 'json' })).trust.anchors.length, 0, 'nothing kept as trusted');
	// the user compared the fingerprint and said yes
	await c.trustProgramme(b64(made.publicKey), 'Exit North', 1);
	assert.equal(counsellorOf(c).certified, true);
	await waitFor(() => sc.sent.length === 1, 3000, 'the message goes');
	assert.deepEqual(c.untrustedProgrammes(), []);
	assert.deepEqual(c.trustedProgrammes().map((a) => [a.name, a.origin, a.fingerprint]),
		[['Exit North', 'user', P.keyFingerprint(made.publicKey)]]);
	// kept in the state, and so after a reload
	const d = await core(f, { state: c.exportState() });
	await d.login();
	assert.equal(counsellorOf(d).certified, true);
});

test('a client that asked for a programme refuses a counsellor of another, though certified by a trusted key (the request answered with queue_position 0)', async () => {
	const f = await fake();
	const p1 = sodium.crypto_sign_keypair(), p2 = sodium.crypto_sign_keypair();
	const other = counsellor(2, p2.privateKey);
	const sc = scene(f, other, { 1: { key: p1.publicKey }, 2: { key: p2.publicKey } });
	f.handlers['case.list'] = () => ({ cases: [] });
	// queue_position 0: another node of a cluster matched the case as this
	// one answered (S_CASE_QUEUE_POSITION counts no waiting case)
	f.handlers['case.request'] = (fr, s) => ({ case: { ...sc.kase(s.clientKey), status: 'waiting', queue_position: 0, participants: [{ key: s.clientKey, role: 'client', name: 'quiet-heron-1' }] } });
	const c = await core(f, { pins: [[1, b64(p1.publicKey)], [2, b64(p2.publicKey)]] });
	await c.login();
	const asked = await c.requestCase({ language: 'en', programme: 1 });
	assert.equal(f.seen.find((x) => x.type === 'case.request').programme, 1);
	assert.deepEqual([asked?.status, asked?.queuePosition], ['waiting', null], 'kept, no place shown');
	// the server assigns a counsellor of programme 2
	f.handlers['case.list'] = (fr, s) => ({ cases: [sc.kase(s.clientKey)] });
	f.push({ type: 'case', case: sc.kase(c.key) });
	await waitFor(() => counsellorOf(c)?.refused === 'wrong_programme', 3000, 'the refusal');
	const m = c.send(77, 'only for programme 1');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.reason === 'wrong_programme', 3000, 'held back');
	assert.equal(sc.sent.length, 0);
	// its first message is refused too
	const copy = await other.peer.seal({ key: c.key, role: 'client' }, new TextEncoder().encode('hello'), async () => ({ bundle: b64(bundleOf(f)) }));
	const undec = [];
	c.on('undecryptable', (ev) => undec.push(ev.message));
	f.push({ type: 'msg', seq: 3, case: 77, mid: b64(sodium.randombytes_buf(16)), from: other.peer.key, ts: NOW, ct: copy.ct });
	await waitFor(() => undec.length === 1, 3000, 'refused');
	assert.equal(undec[0].reason, 'wrong_programme');
	// the wish is kept with the case across a reload
	const d = await core(f, { state: c.exportState(), pins: [[1, b64(p1.publicKey)], [2, b64(p2.publicKey)]] });
	await d.login();
	assert.equal(counsellorOf(d).refused, 'wrong_programme');
});

for (const how of ['a case not of a case\'s shape', 'case_open']) {
	test(`a client that asked for a programme refuses a counsellor of another when the request is answered with ${how}, and the case comes after`, async () => {
		const f = await fake();
		const p1 = sodium.crypto_sign_keypair(), p2 = sodium.crypto_sign_keypair();
		const sc = scene(f, counsellor(2, p2.privateKey), { 1: { key: p1.publicKey }, 2: { key: p2.publicKey } });
		f.handlers['case.list'] = () => ({ cases: [] });
		const c = await core(f, { pins: [[1, b64(p1.publicKey)], [2, b64(p2.publicKey)]] });
		await c.login();
		if (how === 'case_open') {
			// the server says a case is open, and lists one with programme 2's counsellor
			f.handlers['case.request'] = () => ({ error: 'case_open' });
			f.handlers['case.list'] = (fr, s) => ({ cases: [sc.kase(s.clientKey)] });
			await assert.rejects(c.requestCase({ language: 'en', programme: 1 }), { code: 'case_open' });
			await c.refreshCases();		// as the page does, to take the open case
		} else {
			f.handlers['case.request'] = () => ({ case: { id: 77, status: 'waiting' } });
			await c.requestCase({ language: 'en', programme: 1 });
			f.push({ type: 'case', case: sc.kase(c.key) });
		}
		await waitFor(() => c.caseOf(77) && counsellorOf(c)?.refused === 'wrong_programme', 3000, 'the refusal');
		const m = c.send(77, 'only for programme 1');
		await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.reason === 'wrong_programme', 3000, 'held back');
		assert.equal(sc.sent.length, 0);
		c.logout();
	});
}

function bundleOf(f) {
	const b = P.x3dhBundleDecode(P.b64Decode(f.seen.filter((x) => x.type === 'prekeys.upload').at(-1).bundle, 0, P.X3DH_BUNDLE_MAX_BYTES));
	b.opk = b.opk.slice(0, 1);
	return P.x3dhBundleEncode(b);
}

test('a revoked counsellor stays refused when the server later serves an older list or none; expired certificates by our clock', async () => {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair();
	const c1 = counsellor(1, prog.privateKey, { notAfter: NOW + 86400 });
	const older = P.revocationSign(prog.privateKey, 1, NOW - 100, []);
	const list = P.revocationSign(prog.privateKey, 1, NOW - 10, [c1.peer.pk]);
	const sc = scene(f, c1, { 1: { key: prog.publicKey, revoked: list } });
	const pins = [[1, b64(prog.publicKey)]];
	let t = NOW;
	const c = await core(f, { pins, now: () => t });
	await c.login();
	assert.equal(counsellorOf(c).refused, 'revoked');
	// the server drops the list, then serves the older one: still refused
	for (const served of [null, older]) {
		sc.progs[1].revoked = served;
		t += 600;	// past what programme.get answers are reused for
		const d = await core(f, { pins, state: c.exportState(), now: () => t });
		await d.login();
		assert.equal(counsellorOf(d).refused, 'revoked', `served ${served ? 'an older list' : 'none'}`);
		const m = d.send(77, 'not to a revoked counsellor');
		await waitFor(() => d.messages(77).find((x) => x.mid === m.mid)?.reason === 'revoked', 3000, 'held back');
		d.logout();
	}
	assert.equal(sc.sent.length, 0);
	// a list signed by another key is not one
	const rogue = sodium.crypto_sign_keypair();
	sc.progs[1].revoked = P.revocationSign(rogue.privateKey, 1, NOW, [c1.peer.pk]);
	const e = await core(f, { pins, now: () => NOW });
	await e.login();
	assert.equal(counsellorOf(e).certified, true);
	// by our own clock, not the server's
	const g = await core(f, { pins, now: () => NOW + 86400 });
	sc.progs[1].revoked = null;
	await g.login();
	assert.equal(counsellorOf(g).refused, 'uncertified');
});

test('a rotation from the bundle\'s key is followed step by step, told, and never undone; a forged one is not', async () => {
	const f = await fake();
	const k0 = sodium.crypto_sign_keypair(), k1 = sodium.crypto_sign_keypair(), k2 = sodium.crypto_sign_keypair();
	const rot = (a, b, id = 1) => P.rotationSign(a.privateKey, { programmeId: id, oldPk: a.publicKey, newPk: b.publicKey, issued: NOW });
	const rogue = sodium.crypto_sign_keypair();
	const pins = [[1, b64(k0.publicKey)]];
	// a chain that does not start at our key, and one for another programme: refused
	const sc = scene(f, counsellor(1, rogue.privateKey), { 1: { key: rogue.publicKey, rotations: [rot(k1, rogue)] } });
	const a = await core(f, { pins });
	await a.login();
	assert.equal(counsellorOf(a).refused, 'untrusted_programme');
	sc.progs[1] = { key: k1.publicKey, rotations: [rot(k0, k1, 9)] };
	sc.who = counsellor(1, k1.privateKey);
	const b = await core(f, { pins });
	await b.login();
	assert.equal(counsellorOf(b).refused, 'untrusted_programme');
	// the real chain k0 -> k1 -> k2
	sc.progs[1] = { key: k2.publicKey, rotations: [rot(k0, k1), rot(k1, k2)] };
	sc.who = counsellor(1, k2.privateKey);
	const c = await core(f, { pins });
	const told = [];
	c.on('programme-rotated', (ev) => told.push(ev));
	await c.login();
	assert.equal(counsellorOf(c).certified, true);
	assert.deepEqual(told, [{ name: null, programme: 1, from: b64(k0.publicKey), to: b64(k2.publicKey), fingerprint: P.keyFingerprint(k2.publicKey) }]);
	assert.deepEqual(c.trustedProgrammes().map((x) => x.key), [b64(k2.publicKey)]);
	// the server goes back to the old key (with a certificate it still has): refused, even with the bundle naming it
	sc.progs[1] = { key: k0.publicKey, rotations: [] };
	sc.who = counsellor(1, k0.privateKey);
	const d = await core(f, { pins, state: c.exportState() });
	await d.login();
	assert.equal(counsellorOf(d).refused, 'untrusted_programme');
	assert.deepEqual(d.trustedProgrammes().map((x) => x.key), [b64(k2.publicKey)]);
	await assert.rejects(d.trustProgramme(b64(k0.publicKey), 'old'), { code: 'usage' });
});

test('a partner vouched for by a trusted key is trusted for its programme, one step only', async () => {
	const f = await fake();
	const a = sodium.crypto_sign_keypair(), b = sodium.crypto_sign_keypair(), c3 = sodium.crypto_sign_keypair();
	const vouch = (by, byId, id, key, notAfter = NOW + 3600) => ({ programme: byId, statement: P.partnerSign(by.privateKey,
		{ programmeId: byId, partnerId: id, partnerPk: key.publicKey, notBefore: NOW - 60, notAfter }) });
	const sc = scene(f, counsellor(2, b.privateKey), {
		2: { key: b.publicKey, vouched_by: [vouch(a, 1, 2, b)] },
		3: { key: c3.publicKey, vouched_by: [vouch(b, 2, 3, c3)] },
	});
	const pins = [[1, b64(a.publicKey)]];
	const c = await core(f, { pins });
	await c.login();
	assert.equal(counsellorOf(c).certified, true);
	assert.deepEqual(c.trustedProgrammes().length, 1, 'a partner is not made an anchor');
	// a partner of the partner: not through it
	sc.who = counsellor(3, c3.privateKey);
	const d = await core(f, { pins });
	await d.login();
	assert.equal(counsellorOf(d).refused, 'untrusted_programme');
	// for another programme id than the one vouched for, or expired: not
	sc.progs[2].vouched_by = [vouch(a, 1, 4, b), vouch(a, 1, 2, b, NOW - 1)];
	sc.who = counsellor(2, b.privateKey);
	const e = await core(f, { pins });
	await e.login();
	assert.equal(counsellorOf(e).refused, 'untrusted_programme');
});

test('verify binds the number compared: a key swapped between the safety view and verify is caught', async () => {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair();
	const first = counsellor(1, prog.privateKey), swapped = counsellor(1, prog.privateKey);
	const sc = scene(f, first, { 1: { key: prog.publicKey } });
	const c = await core(f, { pins: [[1, b64(prog.publicKey)]] });
	await c.login();
	const shown = c.safety(77)[0];
	assert.equal(shown.key, first.peer.key);
	assert.throws(() => c.verify(77, shown.key, '12345 '.repeat(12)), { code: 'crypto', reason: 'safety_mismatch' });
	assert.throws(() => c.verify(77, shown.key), { code: 'usage' });
	// the server swaps the counsellor's key after the number was shown
	sc.who = swapped;
	f.push({ type: 'case', case: sc.kase(c.key, swapped) });
	await waitFor(() => counsellorOf(c).key === swapped.peer.key, 3000, 'the swap');
	assert.equal(counsellorOf(c).changed, true);
	assert.throws(() => c.verify(77, shown.key, shown.number), { code: 'not_found' });
	assert.throws(() => c.verify(77, swapped.peer.key, shown.number), { code: 'crypto', reason: 'safety_mismatch' });
	assert.equal(counsellorOf(c).verified, false);
	assert.equal(c.caseOf(77).blocked, true, 'nothing verified: still blocked');
	// the number of the key now shown, compared: verified
	const now = c.safety(77)[0];
	const done = c.verify(77, now.key, now.number.replace(/ /g, ''));
	assert.equal(done[0].verified, true);
	assert.equal(c.caseOf(77).blocked, false);
});

test('a server with another key is refused and reported, not logged in to', async () => {
	const f = await fake();
	const c = await core(f);
	await c.login();
	const state = c.exportState();
	c.logout();
	const g = await fake();	// another server (or one in the middle) at the same address
	const d = await core(g, { state });
	const errors = [];
	d.on('error', (e) => errors.push(e));
	await assert.rejects(d.login(), { code: 'crypto', reason: 'server_key_changed' });
	assert.deepEqual(errors.map((e) => [e.code, e.reason, e.request]), [['crypto', 'server_key_changed', 'login']]);
	assert.equal(g.seen.filter((x) => x.type === 'login').length, 0, 'no signature for another server');
	assert.equal(d.connection, 'offline');
	// the same server again: fine
	const e = await core(f, { state });
	await e.login();
});

test('a login answered for another role is refused: a client told it is a counsellor lists no case, seals nothing to a stranger listed as the client', async () => {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair();
	const sc = scene(f, counsellor(1, prog.privateKey), { 1: { key: prog.publicKey } });
	const spy = new E2E();
	f.handlers['case.list'] = () => ({ cases: [sc.kase(spy.key)] });	// the stranger as the case's client
	f.account = (key) => ({ key, role: 'counsellor', name: 'Sam', programme: 1 });
	const c = await core(f, { pins: [[1, b64(prog.publicKey)]] });
	const errors = [];
	c.on('error', (e) => errors.push(e));
	await assert.rejects(c.login({ role: 'client' }), { code: 'bad_field' });
	assert.deepEqual(errors.map((e) => [e.code, e.field]), [['bad_field', 'role']]);
	assert.equal(c.connection, 'offline');
	assert.equal(f.seen.filter((x) => x.type === 'case.list').length, 0, 'no case listed');
	assert.equal(c.caseOf(77), null);
	assert.equal(sc.sent.length, 0);
	// the same server, answering for the role asked: logged in
	f.account = (key) => ({ key, role: 'client', name: 'quiet-heron-1', programme: null });
	await c.login({ role: 'client' });
	assert.equal(c.account.role, 'client');
	c.logout();
});

test('states and recovery codes of before: read, their keys pinned on first use are not trusted', async () => {
	const f = await fake();
	const made = sodium.crypto_sign_keypair();
	scene(f, counsellor(1, made.privateKey), { 1: { key: made.publicKey } });
	const c = await core(f);
	await c.login();
	// a version 1 state: no trust, the key the server named pinned on first use inside e2e
	const j = JSON.parse(c.exportState({ as: 'json' }));
	const old = { ...j, v: 1, e2e: { ...j.e2e, pins: [{ programme: 1, key: b64(made.publicKey) }] } };
	delete old.trust;
	delete old.server;
	const d = await core(f, { state: JSON.stringify(old) });
	assert.equal(d.key, c.key);
	assert.deepEqual(d.trustedProgrammes(), []);
	await d.login();
	assert.equal(counsellorOf(d).refused, 'untrusted_programme');
	// a version 1 recovery code: the identity, not its pins
	const rec = c.exportRecovery();
	const v1 = new Uint8Array(39 + 40);
	v1.set(rec.subarray(0, 38));
	v1[4] = 1;
	v1[38] = 1;
	v1[46] = 1;
	v1.set(made.publicKey, 47);
	const e = await core(f, { state: v1 });
	assert.equal(e.key, c.key);
	assert.deepEqual(e.trustedProgrammes(), []);
	// bounds: a state with too many anchors is refused
	const many = JSON.parse(c.exportState({ as: 'json' }));
	many.trust.anchors = Array.from({ length: 65 }, () => ({ key: b64(sodium.randombytes_buf(32)), name: null, programme: null, origin: 'user', left: [] }));
	await assert.rejects(createCore({ url: f.url, WebSocket, state: JSON.stringify(many) }), { code: 'bad_field' });
});

test('an admin to seal feedback to: only an admin certificate, under a live anchor, not revoked, never a partner\'s word', async () => {
	const { Trust } = await import('../src/trust.js');
	const anchor = sodium.crypto_sign_keypair(), next = sodium.crypto_sign_keypair(), partner = sodium.crypto_sign_keypair();
	const admin = sodium.crypto_sign_keypair(), other = sodium.crypto_sign_keypair();
	const info = (pk, id = 1) => ({ counsellorPk: pk, programmeId: id, notBefore: NOW - 60, notAfter: NOW + 3600 });
	const progs = {};
	const ask = async (fr) => ({ programme: { id: fr.programme, name: 'P', ...progs[fr.programme] } });
	const t = new Trust({ bundle: [[1, anchor.publicKey]], now: () => NOW });
	const check = (key, cert, id = 1) => t.checkCert(key, b64(cert), id, null, ask, P.ADMIN_CERT_CONTEXT);
	progs[1] = { key: b64(anchor.publicKey), rotations: [], revoked: null, vouched_by: [] };

	assert.equal((await check(admin.publicKey, P.adminCertSign(anchor.privateKey, info(admin.publicKey)))).programmeId, 1);
	// a counsellor's certificate makes nobody an admin, and the other way round
	await assert.rejects(check(admin.publicKey, P.certSign(anchor.privateKey, info(admin.publicKey))), { reason: 'uncertified' });
	await assert.rejects(t.checkCert(admin.publicKey, b64(P.adminCertSign(anchor.privateKey, info(admin.publicKey))), 1, null, ask),
		{ reason: 'uncertified' });
	// of another key, or another programme
	await assert.rejects(check(other.publicKey, P.adminCertSign(anchor.privateKey, info(admin.publicKey))), { reason: 'uncertified' });
	progs[2] = progs[1];
	await assert.rejects(check(admin.publicKey, P.adminCertSign(anchor.privateKey, info(admin.publicKey)), 2), { reason: 'uncertified' });
	// a partner the anchor vouches for: enough for a counsellor, not for an admin
	progs[3] = { key: b64(partner.publicKey), rotations: [], revoked: null, vouched_by: [{ programme: 1,
		statement: b64(P.partnerSign(anchor.privateKey, { programmeId: 1, partnerId: 3, partnerPk: partner.publicKey,
			notBefore: NOW - 60, notAfter: NOW + 3600 })) }] };
	await t.checkCert(other.publicKey, b64(P.certSign(partner.privateKey, info(other.publicKey, 3))), 3, null, ask);
	await assert.rejects(check(admin.publicKey, P.adminCertSign(partner.privateKey, info(admin.publicKey, 3)), 3),
		{ reason: 'untrusted_programme' });
	// the anchor's rotation is followed; its revocation list holds
	t.fresh.clear();
	progs[1] = { key: b64(next.publicKey), rotations: [b64(P.rotationSign(anchor.privateKey,
		{ programmeId: 1, oldPk: anchor.publicKey, newPk: next.publicKey, issued: NOW }))], revoked: null, vouched_by: [] };
	await check(admin.publicKey, P.adminCertSign(next.privateKey, info(admin.publicKey)));
	await assert.rejects(check(admin.publicKey, P.adminCertSign(anchor.privateKey, info(admin.publicKey))), { reason: 'uncertified' });
	t.fresh.clear();
	progs[1].revoked = b64(P.revocationSign(next.privateKey, 1, NOW, [admin.publicKey]));
	await assert.rejects(check(admin.publicKey, P.adminCertSign(next.privateKey, info(admin.publicKey))), { reason: 'revoked' });
});

test('a feedback text: padded to 1024 bytes, sealed to the admin\'s X25519 key (1072), opened with its secret key', () => {
	const admin = sodium.crypto_sign_keypair();
	const text = new TextEncoder().encode('danke — شكرا');
	const sealed = P.feedbackSeal(admin.publicKey, text);
	assert.equal(sealed.length, P.FEEDBACK_SEALED_BYTES);
	assert.equal(P.FEEDBACK_SEALED_BYTES, 1072);
	assert.deepEqual(P.feedbackOpen(sealed, admin.privateKey), text);
	// the plaintext is the text, then zeros, whatever its length
	const xsk = sodium.crypto_sign_ed25519_sk_to_curve25519(admin.privateKey);
	const plain = sodium.crypto_box_seal_open(sealed, sodium.crypto_scalarmult_base(xsk), xsk);
	assert.equal(plain.length, 1024);
	assert.deepEqual(plain.subarray(0, text.length), text);
	assert.ok(plain.subarray(text.length).every((b) => b === 0));
	assert.throws(() => P.feedbackOpen(sealed, sodium.crypto_sign_keypair().privateKey), { code: 'crypto' });
	assert.throws(() => P.feedbackSeal(admin.publicKey, new Uint8Array(0)), { code: 'usage' });
	assert.throws(() => P.feedbackSeal(admin.publicKey, new Uint8Array(1001).fill(65)), { code: 'usage' });
	assert.throws(() => P.feedbackSeal(admin.publicKey, Uint8Array.of(65, 0, 66)), { code: 'usage' });
	assert.equal(P.feedbackSeal(admin.publicKey, new Uint8Array(1000).fill(65)).length, 1072);
});

test('a referral: the partner the client accepted is not refused, only under the partner\'s key a trusted programme vouched for; the handover it consented to is no changed key', async () => {
	const f = await fake();
	const a = sodium.crypto_sign_keypair(), b = sodium.crypto_sign_keypair(), c3 = sodium.crypto_sign_keypair();
	const vouch = (id, key) => ({ programme: 1, statement: P.partnerSign(a.privateKey,
		{ programmeId: 1, partnerId: id, partnerPk: key.publicKey, notBefore: NOW - 60, notAfter: NOW + 3600 }) });
	const sam = counsellor(1, a.privateKey), lou = counsellor(2, b.privateKey);
	const sc = scene(f, sam, { 1: { key: a.publicKey }, 2: { key: b.publicKey, vouched_by: [vouch(2, b)] },
		3: { key: c3.publicKey, vouched_by: [vouch(3, c3)] } });
	const who = (x, as) => ({ key: x.peer.key, role: 'counsellor', name: x === lou ? 'Lou' : 'Sam', programme: x.id, cert: b64(x.cert), as });
	/* case 77 at a step of its referral (status, with the partner's
	 * counsellor x as a participant, or handed over) */
	const at = (clientKey, status, x = null, done = false) => {
		const k = sc.kase(clientKey);
		k.referral = { id: 5, from: 1, partner: x ? x.id : 2, status, proposed: NOW, counsellor: x ? x.peer.key : null,
			approved: null, summary_sent: done, ended: null };
		if (done) {
			k.participants = [k.participants[0], who(x, 'counsellor')];
			k.former = [{ ...who(sam, 'counsellor'), left: NOW, reason: 'referral' }];
		} else if (x) {
			k.participants.push(who(x, 'referral'));
		}
		return k;
	};
	f.handlers['case.list'] = () => ({ cases: [] });
	f.handlers['case.request'] = (fr, s) => ({ case: sc.kase(s.clientKey) });
	const pins = [[1, b64(a.publicKey)]];
	/* a new client of a case of Sam's (1), a referral to 2 proposed in it */
	const proposed = async () => {
		const x = await core(f, { pins });
		await x.login();
		await x.requestCase({ language: 'en', programme: 1 });
		f.push({ type: 'case', case: at(x.key, 'proposed') });
		await waitFor(() => x.caseOf(77).referral?.status === 'proposed', 3000, 'the proposal');
		return x;
	};
	const c = await core(f, { pins });
	await c.login();
	await c.requestCase({ language: 'en', programme: 1 });
	f.push({ type: 'case', case: at(c.key, 'proposed') });
	await waitFor(() => c.caseOf(77).referral?.status === 'proposed', 3000, 'the proposal');
	assert.equal(c.caseOf(77).referral.accepted, false);
	f.handlers['referral.answer'] = (fr, s) => (fr.accept ? { case: at(s.clientKey, 'accepted', lou) } : { error: 'bad_state' });
	// a yes to the partner the user read (3), where the referral is to 2 now: nothing sent
	await assert.rejects(c.referralAnswer(77, true, 3), { code: 'bad_state', reason: 'referral_changed' });
	assert.equal(f.seen.filter((x) => x.type === 'referral.answer').length, 0, 'nothing sent');
	const got = await c.referralAnswer(77, true, 2);
	assert.equal(f.seen.find((x) => x.type === 'referral.answer').accept, true);
	assert.deepEqual([got.referral.accepted, got.referral.counsellor.certified, got.referral.counsellor.refused], [true, true, null],
		'the partner\'s counsellor: certified by the partner, the partner vouched for by the programme asked for');
	assert.equal(got.blocked, false);
	// the approval is the digest of the text the client read
	f.handlers['referral.approve'] = (fr, s) => ({ case: at(s.clientKey, 'accepted', lou) });
	await c.referralApprove(77, 'a summary, ünïcode');
	assert.equal(f.seen.find((x) => x.type === 'referral.approve').digest,
		b64(sodium.crypto_generichash(32, new TextEncoder().encode('a summary, ünïcode'), null)));
	// a "handover" to a key of the partner's whose certificate does not
	// hold (signed by another programme's key): a changed key, and the
	// yes not used up by it
	const fake2 = counsellor(2, c3.privateKey);
	f.push({ type: 'case', case: at(c.key, 'completed', fake2, true) });
	await waitFor(() => c.caseOf(77).blocked === true, 3000, 'a handover to a key of a bad certificate: a changed key');
	assert.deepEqual(JSON.parse(c.exportState({ as: 'json' })).cases[0].yes, [2], 'the yes kept');
	// the handover it consented to: the new counsellor in the old one's place
	f.push({ type: 'case', case: at(c.key, 'completed', lou, true) });
	await waitFor(() => counsellorOf(c).key === lou.peer.key && c.caseOf(77).blocked === false, 3000, 'the handover');
	assert.deepEqual(JSON.parse(c.exportState({ as: 'json' })).cases[0].used, [2], 'the handover to 2 recorded');
	const now = c.caseOf(77);
	assert.deepEqual([now.blocked, counsellorOf(c).key, counsellorOf(c).certified, counsellorOf(c).changed], [false, lou.peer.key, true, false]);
	// kept across a reload: the accepted partner with the case
	const d = await core(f, { pins, state: c.exportState() });
	await d.login();
	assert.equal(JSON.parse(d.exportState({ as: 'json' })).cases[0].accepted[0], 2);
	// a state saved before the record of handovers: a partner accepted
	// with no yes left is taken as one a handover used
	const old = JSON.parse(c.exportState({ as: 'json' }));
	delete old.cases[0].used;
	const o = await core(f, { pins, state: JSON.stringify(old) });
	assert.deepEqual(JSON.parse(o.exportState({ as: 'json' })).cases[0].used, [2]);
	// the yes carried one key over: another counsellor of the partner in
	// Lou's place, "handed over" by the same referral, is a changed key
	const pia = counsellor(2, b.privateKey);
	const again = at(c.key, 'completed', pia, true);
	again.former = [{ ...who(lou, 'counsellor'), left: NOW + 1, reason: 'referral' }, ...again.former];
	f.push({ type: 'case', case: again });
	await waitFor(() => c.caseOf(77).blocked === true, 3000, 'a second handover within the partner: a changed key');
	assert.equal(JSON.parse(c.exportState({ as: 'json' })).cases[0].yes.length, 0, 'the yes used');

	// a handover this page did not see before Lou proposed a new referral
	// (back to 1): the case lists Lou in Sam's place, the referral now is
	// the new one; Lou's key is taken for Sam's all the same
	const n = await proposed();
	await n.referralAnswer(77, true);
	const later = at(n.key, 'completed', lou, true);
	later.referral = { id: 6, from: 2, partner: 1, status: 'proposed', proposed: NOW + 5, counsellor: null,
		approved: null, summary_sent: false, ended: null };
	f.push({ type: 'case', case: later });
	await waitFor(() => n.caseOf(77).referral?.id === 6, 3000, 'the new proposal');
	assert.deepEqual([counsellorOf(n).key, n.caseOf(77).blocked, counsellorOf(n).certified], [lou.peer.key, false, true]);
	assert.deepEqual(JSON.parse(n.exportState({ as: 'json' })).cases[0].yes, [], 'the yes used');
	n.logout();

	// two listings handed over at once, the second read while the first's
	// certificate check waits (a refetch runs beside the pushes): one yes
	// carries one key over, the newest listing's (Pia's), not Lou's first
	const r2 = await proposed();
	await r2.referralAnswer(77, true);
	const answerGet = f.handlers['programme.get'], held = [];
	f.handlers['programme.get'] = (fr, sock) => {
		held.push([fr, sock]);
		return null;
	};
	let carried = 0;
	const forget = r2.e2e.forgetRole.bind(r2.e2e);
	r2.e2e.forgetRole = (...args) => {
		carried++;
		return forget(...args);
	};
	r2.trust.fresh.clear();
	const toLou = r2.caseUpdate(at(r2.key, 'completed', lou, true));
	await waitFor(() => held.length > 0, 3000, 'Lou\'s check asked');
	const toPia = r2.caseUpdate(at(r2.key, 'completed', pia, true));
	f.handlers['programme.get'] = answerGet;
	for (const [fr, sock] of held) f.send(sock, { type: 'programme.get.ok', re: fr.id, ...answerGet(fr, sock) });
	await Promise.all([toLou, toPia]);
	assert.equal(carried, 1, 'one key carried over');
	assert.deepEqual([counsellorOf(r2).key, r2.caseOf(77).blocked], [pia.peer.key, false]);
	assert.deepEqual(JSON.parse(r2.exportState({ as: 'json' })).cases[0].yes, [], 'the yes used');
	r2.logout();

	// a "handover" to a key of a bad certificate pushed, then listed the
	// same while the push's check waits: the listing decides, and the
	// views are told that Sam's place is another's now (a changed key)
	const r3 = await proposed();
	await r3.referralAnswer(77, true);
	const told = [];
	r3.on('case', (ev) => told.push(ev.case.participants.find((p) => p.role === 'counsellor')?.key));
	f.handlers['programme.get'] = (fr, sock) => {
		held.push([fr, sock]);
		return null;
	};
	held.length = 0;
	r3.trust.fresh.clear();
	const pushed = r3.caseUpdate(at(r3.key, 'completed', fake2, true));
	await waitFor(() => held.length > 0, 3000, 'the check asked');
	const listed = r3.caseUpdate(at(r3.key, 'completed', fake2, true), true);
	f.handlers['programme.get'] = answerGet;
	for (const [fr, sock] of held) f.send(sock, { type: 'programme.get.ok', re: fr.id, ...answerGet(fr, sock) });
	await Promise.all([pushed, listed]);
	assert.deepEqual([counsellorOf(r3).key, r3.caseOf(77).blocked], [fake2.peer.key, true]);
	assert.ok(told.includes(fake2.peer.key), 'the views were told');
	r3.logout();

	// a yes the server refused keeps nothing: a handover then is a changed key
	const h = await proposed();
	f.handlers['referral.answer'] = () => ({ error: 'bad_state' });
	await assert.rejects(h.referralAnswer(77, true), { code: 'bad_state' });
	f.push({ type: 'case', case: at(h.key, 'completed', lou, true) });
	await waitFor(() => h.caseOf(77).blocked === true, 3000, 'a handover after a refused yes: a changed key');
	// a listing to another partner (3) that comes while the yes's check
	// of Sam waits: the user read the one before, nothing is sent; and a
	// yes names the referral read (its id)
	const mid = await proposed();
	const getOk = f.handlers['programme.get'], waiting = [];
	f.handlers['programme.get'] = (fr, sock) => {
		waiting.push([fr, sock]);
		return null;
	};
	mid.trust.fresh.clear();
	const sent0 = f.seen.filter((x) => x.type === 'referral.answer').length;
	const yes = mid.referralAnswer(77, true, 2);
	await waitFor(() => waiting.length > 0, 3000, 'Sam\'s check asked');
	const to3 = at(mid.key, 'proposed');
	to3.referral = { ...to3.referral, id: 6, partner: 3 };
	await mid.caseUpdate(to3);
	f.handlers['programme.get'] = getOk;
	for (const [fr, sock] of waiting) f.send(sock, { type: 'programme.get.ok', re: fr.id, ...getOk(fr, sock) });
	await assert.rejects(yes, { code: 'bad_state', reason: 'referral_changed' });
	assert.equal(f.seen.filter((x) => x.type === 'referral.answer').length, sent0, 'nothing sent');
	assert.deepEqual(JSON.parse(mid.exportState({ as: 'json' })).cases[0].yes || [], [], 'nothing kept');
	f.handlers['referral.answer'] = (fr, s) => ({ case: at(s.clientKey, 'accepted', lou) });
	await mid.caseUpdate(at(mid.key, 'proposed'));
	await mid.referralAnswer(77, true, 2);
	assert.equal(f.seen.filter((x) => x.type === 'referral.answer').at(-1).referral, 5, 'the yes names referral 5');
	mid.logout();
	// a yes whose answer was lost (the socket dropped before it): kept, the
	// server may have it; a no then takes it back
	const drop = (fr, sock) => {
		sock.terminate();
		return null;
	};
	const lostErr = (err) => err.code === 'connection' || err.code === 'timeout';
	/* a client of a proposal, whose yes's answer was lost; back online */
	const lostYes = async () => {
		const x = await proposed();
		f.handlers['referral.answer'] = drop;
		await assert.rejects(x.referralAnswer(77, true), lostErr);
		await waitFor(() => x.connection === 'online', 10000, 'back online');
		return x;
	};
	const lost = await lostYes();
	const kept = () => JSON.parse(lost.exportState({ as: 'json' })).cases[0];
	assert.deepEqual([kept().accepted, kept().yes], [[2], [2]], 'the yes kept');
	// the same state loaded on a page that has not logged in (offline): a
	// withdrawal takes the yes back all the same, though nothing is sent
	const off = await core(f, { pins, state: lost.exportState() });
	await assert.rejects(off.referralWithdraw(77));
	const offKept = JSON.parse(off.exportState({ as: 'json' })).cases[0];
	assert.deepEqual([offKept.accepted, offKept.yes], [[], []], 'taken back before a login');
	f.handlers['referral.answer'] = () => ({ case: at(lost.key, 'declined') });
	await lost.referralAnswer(77, false);
	assert.deepEqual([kept().accepted, kept().yes], [[], []], 'the no took it back');
	lost.logout();
	// a lost yes, then a no sent from a listing that says accepted, which
	// the server refuses: taken back all the same
	const stale = await lostYes();
	await stale.caseUpdate(at(stale.key, 'accepted', lou));
	f.handlers['referral.answer'] = () => ({ error: 'bad_state' });
	await assert.rejects(stale.referralAnswer(77, false), { code: 'bad_state' });
	const kept5 = JSON.parse(stale.exportState({ as: 'json' })).cases[0];
	assert.deepEqual([kept5.accepted, kept5.yes], [[], []], 'the refused no took the yes back');
	stale.logout();
	// a lost yes, then a no whose answer is lost too: taken back all the
	// same, and a "handover" to the partner then is a changed key
	const lost2 = await lostYes();
	await assert.rejects(lost2.referralAnswer(77, false), lostErr);
	const kept2 = () => JSON.parse(lost2.exportState({ as: 'json' })).cases[0];
	assert.deepEqual([kept2().accepted, kept2().yes], [[], []], 'the lost no took the lost yes back');
	// (pushed again every 100 ms until taken: a push before the login
	// again is lost)
	let polls = 0;
	await waitFor(() => {
		if (polls++ % 10 === 0) f.push({ type: 'case', case: at(lost2.key, 'completed', lou, true) });
		return lost2.caseOf(77).blocked === true;
	}, 10000, 'a handover after the no: a changed key');
	lost2.logout();
	// a no while the server lists a made-up former counsellor of the
	// partner, as if a handover had taken the case there before: the
	// page's own record says none did, and the partner goes too; then
	// Lou put in as the partner's counsellor is refused
	const met = await lostYes();
	const before = at(met.key, 'proposed');
	before.former = [{ ...who(lou, 'counsellor'), left: NOW - 5, reason: 'referral' }];
	polls = 0;
	await waitFor(() => {
		if (polls++ % 10 === 0) f.push({ type: 'case', case: before });
		return met.caseOf(77).former?.length === 1;
	}, 10000, 'Lou listed as a former counsellor');
	f.handlers['referral.answer'] = () => ({ case: at(met.key, 'declined') });
	await met.referralAnswer(77, false);
	const kept3 = JSON.parse(met.exportState({ as: 'json' })).cases[0];
	assert.deepEqual([kept3.accepted, kept3.yes], [[], []], 'no yes, nor the partner asked for');
	polls = 0;
	await waitFor(() => {
		if (polls++ % 10 === 0) f.push({ type: 'case', case: at(met.key, 'accepted', lou) });
		return met.caseOf(77).referral?.counsellor?.refused === 'wrong_programme';
	}, 10000, 'Lou refused: not a programme the client asked for');
	// one a handover this page saw took the case to (e.used) stays
	const me = met.cs.get(77);
	Object.assign(me, { yes: [2], accepted: [2], used: [2] });
	met.takeBackYes(me);
	assert.deepEqual([me.accepted, me.yes], [[2], []], 'asked for still, no yes');
	met.logout();
	// a yes to 2, withdrawn while the server names another partner (3):
	// the yes to 2 goes all the same, and a "handover" to Lou after is a
	// changed key
	const w = await proposed();
	f.handlers['referral.answer'] = () => ({ case: at(w.key, 'accepted', lou) });
	await w.referralAnswer(77, true, 2);
	const other3 = at(w.key, 'accepted', lou);
	other3.referral.partner = 3;
	polls = 0;
	await waitFor(() => {
		if (polls++ % 10 === 0) f.push({ type: 'case', case: other3 });
		return w.caseOf(77).referral?.partner === 3;
	}, 10000, 'the referral listed to 3');
	f.handlers['referral.withdraw'] = () => ({ case: { ...other3, referral: { ...other3.referral, status: 'withdrawn' } } });
	await w.referralWithdraw(77);
	const kept4 = JSON.parse(w.exportState({ as: 'json' })).cases[0];
	assert.deepEqual([kept4.accepted, kept4.yes], [[], []], 'the yes to 2 taken back');
	polls = 0;
	await waitFor(() => {
		if (polls++ % 10 === 0) f.push({ type: 'case', case: at(w.key, 'completed', lou, true) });
		return w.caseOf(77).blocked === true;
	}, 10000, 'a handover after the withdrawal: a changed key');
	w.logout();
	// nor a yes to the programme the case began at: a "handover" to another of its counsellors is a changed key
	const s2 = counsellor(1, a.privateKey);
	const m = await core(f, { pins });
	await m.login();
	await m.requestCase({ language: 'en', programme: 1 });
	const home = (status, x, done) => {
		const k = at(m.key, status, x, done);
		k.referral.partner = 1;
		return k;
	};
	f.push({ type: 'case', case: home('proposed') });
	await waitFor(() => m.caseOf(77).referral?.status === 'proposed', 3000, 'a proposal to programme 1');
	f.handlers['referral.answer'] = (fr, s) => ({ case: home('accepted', s2) });
	await m.referralAnswer(77, true);
	f.push({ type: 'case', case: home('completed', s2, true) });
	await waitFor(() => m.caseOf(77).blocked === true, 3000, 'a handover to where the case began: a changed key');
	f.handlers['referral.answer'] = (fr, s) => ({ case: at(s.clientKey, 'accepted', lou) });
	// a yes to 2, and the case "handed over" to a counsellor of 1: not the partner's
	const q = await proposed();
	await q.referralAnswer(77, true);
	const wrong = at(q.key, 'completed', s2, true);
	wrong.referral.partner = 2;
	f.push({ type: 'case', case: wrong });
	await waitFor(() => q.caseOf(77).blocked === true, 3000, 'a handover to a counsellor not of the partner: a changed key');
	// the server lists Lou (2) as the case's counsellor at the answer and
	// proposes 1, where the case is: no yes sent (a no goes), and a
	// "handover" to another counsellor of 1 is a changed key
	const v = await core(f, { pins });
	await v.login();
	await v.requestCase({ language: 'en' });
	const lie = (status) => {
		const k = at(v.key, status);
		k.referral.partner = 1;
		k.referral.from = 2;
		k.participants = [k.participants[0], who(lou, undefined)];
		return k;
	};
	f.push({ type: 'case', case: at(v.key, 'proposed') });
	await waitFor(() => v.caseOf(77).referral?.status === 'proposed', 3000, 'the proposal');
	f.push({ type: 'case', case: lie('proposed') });
	await waitFor(() => v.caseOf(77).referral?.from === 2, 3000, 'the lie');
	f.handlers['referral.answer'] = () => ({ case: lie('accepted') });
	const answers = () => f.seen.filter((x) => x.type === 'referral.answer' && x.case === 77).length;
	const sent = answers();
	await assert.rejects(v.referralAnswer(77, true), { code: 'crypto', reason: 'referral_unchecked' });
	assert.equal(answers(), sent, 'the yes not sent');
	assert.deepEqual(JSON.parse(v.exportState({ as: 'json' })).cases[0].yes || [], [], 'no yes kept');
	f.handlers['referral.answer'] = () => ({ case: lie('declined') });
	await v.referralAnswer(77, false);
	assert.equal(f.seen.filter((x) => x.type === 'referral.answer' && x.case === 77).at(-1).accept, false, 'a no goes');
	const done = at(v.key, 'completed', s2, true);
	done.referral.partner = 1;
	f.push({ type: 'case', case: done });
	await waitFor(() => v.caseOf(77).blocked === true, 3000, 'a handover after the lie: a changed key');
	f.handlers['referral.answer'] = (fr, s) => ({ case: at(s.clientKey, 'accepted', lou) });

	// another client, which never said yes: the same handover is a changed key,
	// and the partner's counsellor is not of the programme it asked for
	const e = await core(f, { pins });
	await e.login();
	await e.requestCase({ language: 'en', programme: 1 });
	f.push({ type: 'case', case: at(e.key, 'accepted', lou) });
	await waitFor(() => e.caseOf(77).referral?.counsellor?.refused === 'wrong_programme', 3000, 'not asked for');
	f.push({ type: 'case', case: at(e.key, 'completed', lou, true) });
	await waitFor(() => e.caseOf(77).blocked === true, 3000, 'a changed key');

	// a partner's key only the server vouches for: refused, though accepted
	sc.progs[2].vouched_by = [];
	const g = await proposed();
	const r = await g.referralAnswer(77, true);
	assert.deepEqual([r.referral.counsellor.certified, r.referral.counsellor.refused], [false, 'untrusted_programme']);
	// and a counsellor of a programme it did not accept, though vouched for
	const other = counsellor(3, c3.privateKey);
	f.push({ type: 'case', case: at(g.key, 'accepted', other) });
	await waitFor(() => g.caseOf(77).referral?.counsellor?.refused === 'wrong_programme', 3000, 'not accepted there');
});

test('a colleague is of the programme of the case\'s counsellor; a list longer than a case holds gets nothing', async () => {
	const f = await fake();
	const a = sodium.crypto_sign_keypair(), c3 = sodium.crypto_sign_keypair();
	const sam = counsellor(1, a.privateKey), kim = counsellor(3, c3.privateKey);
	const sc = scene(f, sam, { 1: { key: a.publicKey }, 3: { key: c3.publicKey } });
	let extra = [];
	const base = sc.kase;
	sc.kase = (ck, who) => {
		const k = base(ck, who);
		k.participants[1].as = 'counsellor';
		k.participants.push(...extra);
		k.members = 1;
		return k;
	};
	f.handlers['case.list'] = (fr, s) => ({ cases: [sc.kase(s.clientKey)] });
	f.handlers['case.seen'] = (fr, s) => ({ case: sc.kase(s.clientKey) });
	const prekeys = f.handlers['prekeys.get'];
	f.handlers['prekeys.get'] = (fr) => (fr.key === kim.peer.key ? { bundle: b64(kim.bundle), cert: b64(kim.cert), programme: 3 } : prekeys(fr));
	// both programmes trusted, none asked for: Kim, certified by programme 3,
	// is brought in as Sam's supervisor (Sam is of programme 1)
	const c = await core(f, { pins: [[1, b64(a.publicKey)], [3, b64(c3.publicKey)]] });
	await c.login();
	extra = [{ key: kim.peer.key, role: 'counsellor', name: 'Kim (your supervisor)', programme: 3, cert: b64(kim.cert), as: 'supervisor', state: 'joined', since: 1 }];
	f.push({ type: 'case', case: sc.kase(c.key) });
	await waitFor(() => c.caseOf(77).participants.some((p) => p.key === kim.peer.key), 3000, 'Kim listed');
	await c.confirmMembers(77, 1);	// shown and confirmed: held to the programme still
	const m = c.send(77, 'only for the people of my programme');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.reason === 'wrong_programme', 3000, 'held: Kim is not of Sam\'s programme');
	assert.equal(sc.sent.length, 0, 'no copy for anyone');
	// nine in the list (a case holds eight): nothing sealed, said so
	extra = Array.from({ length: 7 }, (_, i) => ({ key: new E2E().key, role: 'counsellor', name: `C${i}`, programme: 1, cert: b64(sam.cert), as: 'co-counsellor', state: 'joined' }));
	f.push({ type: 'case', case: sc.kase(c.key) });
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.reason === 'bad_participants', 3000, 'nine: held');
	assert.equal(sc.sent.length, 0, 'still no copy');
	assert.ok(c.safety(77).length <= 7, 'at most the others of a case that holds eight');
	c.logout();
});

/* A scene whose case lists m.extra (colleagues) after its client and its
 * counsellor (both at version 0), at membership version m.members; the
 * fake answers case.seen with it. */
function membersScene(f, sc) {
	const m = { extra: [], members: 0 };
	const base = sc.kase;
	sc.kase = (ck, who) => {
		const k = base(ck, who);
		k.participants[0].since = 0;
		k.participants[1].since = 0;
		k.participants.push(...m.extra);
		k.members = m.members;
		return k;
	};
	f.handlers['case.list'] = (fr, s) => ({ cases: [sc.kase(s.clientKey)] });
	f.handlers['case.seen'] = (fr, s) => ({ case: sc.kase(s.clientKey) });
	return m;
}

test('one the server lists as joined at a membership version this page never confirmed gets nothing until the user confirms', async () => {
	const f = await fake();
	const a = sodium.crypto_sign_keypair();
	const sam = counsellor(1, a.privateKey), kim = counsellor(1, a.privateKey);
	const sc = scene(f, sam, { 1: { key: a.publicKey } });
	const ms = membersScene(f, sc);
	const prekeys = f.handlers['prekeys.get'];
	f.handlers['prekeys.get'] = (fr) => (fr.key === kim.peer.key ? { bundle: b64(kim.bundle), cert: b64(kim.cert), programme: 1 } : prekeys(fr));
	const c = await core(f, { pins: [[1, b64(a.publicKey)]] });
	await c.login();
	// Kim, "joined" by the server's word, at version 1: never shown here
	ms.extra = [{ key: kim.peer.key, role: 'counsellor', name: 'Kim', programme: 1, cert: b64(kim.cert), as: 'supervisor', state: 'joined', since: 1 }];
	ms.members = 1;
	f.push({ type: 'case', case: sc.kase(c.key) });
	await waitFor(() => c.caseOf(77).participants.some((p) => p.key === kim.peer.key), 3000, 'Kim listed');
	assert.equal(c.caseOf(77).participants.find((p) => p.key === kim.peer.key).joining, true, 'shown as joining');
	const m = c.send(77, 'before I saw who is here');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.reason === 'members_unconfirmed', 3000, 'held');
	assert.equal(sc.sent.length, 0, 'no copy for anyone');
	await c.confirmMembers(77, 1);
	await waitFor(() => sc.sent.length === 1, 3000, 'sent once confirmed');
	assert.deepEqual(sc.sent[0].copies.map((x) => x.to).sort(), [sam.peer.key, kim.peer.key].sort());
	// a colleague's number is shown, not verified: it never stands in for
	// the counsellor's key (one record a role and case)
	const nums = c.safety(77);
	assert.deepEqual(nums.map((x) => [x.key === kim.peer.key, x.colleague]).sort(), [[false, false], [true, true]]);
	const samNum = nums.find((x) => x.key === sam.peer.key).number, kimNum = nums.find((x) => x.key === kim.peer.key).number;
	c.verify(77, sam.peer.key, samNum);
	assert.throws(() => c.verify(77, kim.peer.key, kimNum), { code: 'not_found' });
	const now = c.caseOf(77).participants.find((p) => p.key === sam.peer.key);
	assert.deepEqual([now.verified, now.changed, c.caseOf(77).blocked], [true, false, false], 'Sam still verified, nothing blocked');
	c.logout();
});

test('a colleague the server lists without a version, or puts in a confirmed colleague\'s place, gets nothing until the user confirms that key', async () => {
	const f = await fake();
	const a = sodium.crypto_sign_keypair();
	const sam = counsellor(1, a.privateKey), kim = counsellor(1, a.privateKey), lee = counsellor(1, a.privateKey);
	const sc = scene(f, sam, { 1: { key: a.publicKey } });
	const ms = membersScene(f, sc);
	const prekeys = f.handlers['prekeys.get'];
	f.handlers['prekeys.get'] = (fr) => {
		const x = [kim, lee].find((y) => y.peer.key === fr.key);
		return x ? { bundle: b64(x.bundle), cert: b64(x.cert), programme: 1 } : prekeys(fr);
	};
	const c = await core(f, { pins: [[1, b64(a.publicKey)]] });
	await c.login();
	const held = async (m, what) => {
		await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.reason === 'members_unconfirmed', 3000, what);
		assert.equal(sc.sent.length, sent, `${what}: no copy for anyone`);
		assert.equal(c.caseOf(77).toConfirm, true, `${what}: the page asks the user to confirm`);
	};
	let sent = 0;
	// Kim "joined" with no version, then at version 0 (a colleague joins
	// at 1 or more): sealed to before, unshown
	for (const since of [undefined, 0]) {
		ms.extra = [{ key: kim.peer.key, role: 'counsellor', name: 'Kim', programme: 1, cert: b64(kim.cert), as: 'supervisor', state: 'joined', since }];
		f.push({ type: 'case', case: sc.kase(c.key) });
		await waitFor(() => c.caseOf(77).participants.find((p) => p.key === kim.peer.key)?.joining === true, 3000, `Kim listed, since ${since}`);
	}
	await held(c.send(77, 'before I saw who is here'), 'Kim with no version');
	// at version 1, shown and confirmed: it goes to Sam and Kim
	ms.extra[0].since = 1;
	ms.members = 1;
	f.push({ type: 'case', case: sc.kase(c.key) });
	await waitFor(() => c.caseOf(77).members === 1, 3000, 'at version 1');
	await c.confirmMembers(77, 1, c.caseOf(77).participants.map((p) => p.key));
	await waitFor(() => sc.sent.length === 1, 3000, 'sent once confirmed');
	sent = 1;
	assert.deepEqual(sc.sent[0].copies.map((x) => x.to).sort(), [sam.peer.key, kim.peer.key].sort());
	// Lee in Kim's place, same name, same version: held until shown
	ms.extra = [{ ...ms.extra[0], key: lee.peer.key, cert: b64(lee.cert) }];
	f.push({ type: 'case', case: sc.kase(c.key) });
	await waitFor(() => c.caseOf(77).participants.find((p) => p.key === lee.peer.key)?.joining === true, 3000, 'Lee shown as joining');
	await held(c.send(77, 'to Sam and Kim, I believe'), 'Lee in Kim\'s place');
	await c.confirmMembers(77, 1, c.caseOf(77).participants.map((p) => p.key));
	await waitFor(() => sc.sent.length === 2, 3000, 'sent once Lee was confirmed');
	assert.deepEqual(sc.sent[1].copies.map((x) => x.to).sort(), [sam.peer.key, lee.peer.key].sort());
	assert.equal(c.caseOf(77).toConfirm, false, 'nothing left to confirm');
	// Kim, shown before and gone since (Lee took her place), back at the
	// old version without a word: shown again first; and so after a
	// removal of her own, whatever the page confirmed meanwhile
	ms.extra = [ms.extra[0], { ...ms.extra[0], key: kim.peer.key, cert: b64(kim.cert), name: 'Kim' }];
	f.push({ type: 'case', case: sc.kase(c.key) });
	await waitFor(() => c.caseOf(77).participants.find((p) => p.key === kim.peer.key)?.joining === true, 3000, 'Kim back, shown as joining');
	sent = 2;
	await held(c.send(77, 'to Sam and Lee'), 'Kim back unshown');
	await c.confirmMembers(77, 1, c.caseOf(77).participants.map((p) => p.key));
	await waitFor(() => sc.sent.length === 3, 3000, 'sent once Kim was confirmed again');
	ms.extra = [ms.extra[0]];	// Kim removed: nothing to confirm, no button
	ms.members = 2;
	f.push({ type: 'case', case: sc.kase(c.key) });
	await waitFor(() => c.caseOf(77).members === 2 && !c.caseOf(77).participants.some((p) => p.key === kim.peer.key), 3000, 'Kim gone');
	ms.extra = [ms.extra[0], { ...ms.extra[0], key: kim.peer.key, cert: b64(kim.cert), name: 'Kim' }];
	f.push({ type: 'case', case: sc.kase(c.key) });	// back, at version 1, "joined"
	await waitFor(() => c.caseOf(77).participants.find((p) => p.key === kim.peer.key)?.joining === true, 3000, 'Kim back after her removal: joining');
	sent = 3;
	await held(c.send(77, 'to Sam and Lee again'), 'Kim back after her removal');
	c.logout();
});

test('the approved summary goes only to the partner\'s counsellor in the case as such, never to a key the server names', async () => {
	const f = await fake();
	f.account = (key) => ({ key, role: 'counsellor', name: 'Sam', programme: 1 });
	const client = new E2E(), kim = new E2E();
	const text = 'the summary the client approved';
	const kase = (ck, as) => ({ id: 77, status: 'active', language: 'en', created: NOW, updated: NOW,
		participants: [{ key: client.key, role: 'client', name: 'quiet-heron-1', as: 'client' },
			{ key: ck, role: 'counsellor', name: 'Sam', programme: 1, as: 'counsellor' },
			{ key: kim.key, role: 'counsellor', name: 'Dana (Programme B)', programme: 1, as, state: 'joined' }],
		referral: { id: 5, from: 1, partner: 2, status: 'accepted', proposed: NOW, counsellor: kim.key,
			approved: b64(sodium.crypto_generichash(32, new TextEncoder().encode(text), null)), summary_sent: false, ended: null } });
	let as = 'supervisor';
	f.handlers['case.list'] = (fr, s) => ({ cases: [kase(s.clientKey, as)] });
	const c = await core(f);
	await c.login({ role: 'counsellor' });
	await waitFor(() => c.caseOf(77), 3000, 'the case');
	// the server names Sam's supervisor as the partner's counsellor
	assert.throws(() => c.referralSummary(77, text), { code: 'bad_state' });
	assert.equal(c.messages(77).length, 0, 'nothing queued');
	// in the case as the partner's counsellor: queued (its certificate is
	// then held to the partner, programme 2, when it is sealed)
	as = 'referral';
	f.push({ type: 'case', case: kase(c.key, as) });
	await waitFor(() => c.caseOf(77).participants.some((p) => p.as === 'referral'), 3000, 'as referral');
	assert.equal(c.referralSummary(77, text).to, kim.key);
	c.logout();
});

/* A message of peer (an E2E) to the core c in case 77, as the server
 * would push it. */
async function pushFrom(f, c, peer, text, seq) {
	const cp = { key: c.key, role: 'client' };
	const env = P.envelopeWrite({ caseId: 77, seq: 1, time: NOW, kind: 1, text: new TextEncoder().encode(text) });
	// the client's prekeys, as it uploaded them
	const up = [...f.seen].reverse().find((x) => x.type === 'prekeys.upload');
	assert.ok(up, 'the client uploaded its prekeys');
	const copy = await peer.seal(cp, env, async () => ({ bundle: up.bundle }));
	f.push({ type: 'msg', seq, case: 77, mid: b64(sodium.randombytes_buf(16)), from: peer.key, ts: NOW, ct: copy.ct });
}

for (const role of ['client', 'observer', undefined]) {
	test(`one the server adds to a client's case (role ${role}, named as its counsellor) gets nothing, and is not read`, async () => {
		const f = await fake();
		const p1 = sodium.crypto_sign_keypair();
		const sc = scene(f, counsellor(1, p1.privateKey), { 1: { key: p1.publicKey } });
		const eve = new E2E(), eveBundle = eve.makeBundle(2);
		const base = sc.kase;
		sc.kase = (ck, who) => {
			const k = base(ck, who);
			k.participants.push({ key: eve.key, role, name: 'Sam (your counsellor)', as: 'client', state: 'joined' });
			return k;
		};
		f.handlers['case.list'] = (fr, s) => ({ cases: [sc.kase(s.clientKey)] });
		const prekeys = f.handlers['prekeys.get'];
		f.handlers['prekeys.get'] = (fr) => (fr.key === eve.key ? { bundle: b64(eveBundle) } : prekeys(fr));
		const c = await core(f, { pins: [[1, b64(p1.publicKey)]] });
		await c.login();
		const m = c.send(77, 'I want out, my brother is still in the group');
		await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.reason === 'bad_participants', 3000, 'held back');
		assert.equal(sc.sent.length, 0, 'no copy for anyone while the list is wrong');
		await pushFrom(f, c, eve, 'Meet me at the station, come alone', 5);
		await waitFor(() => c.messages(77).some((x) => !x.mine), 3000, 'its message');
		const got = c.messages(77).find((x) => !x.mine);
		assert.equal(got.state, 'refused');
		assert.equal(got.text, null, 'not read');
		c.logout();
	});
}

for (const extra of [{ as: 'helper' }, { left: 0 }]) {
	test(`a counsellor's client key swapped with ${JSON.stringify(extra)} is no colleague: the case is held, nothing to the new key`, async () => {
		const f = await fake();
		f.account = (key) => ({ key, role: 'counsellor', name: 'Sam', programme: 1 });
		const real = new E2E(), eve = new E2E(), eb = eve.makeBundle(2);
		let who = { key: real.key, role: 'client', name: 'quiet-heron-1' };
		const kase = (ck) => ({ id: 77, status: 'active', language: 'en', created: NOW, updated: NOW,
			participants: [who, { key: ck, role: 'counsellor', name: 'Sam', programme: 1 }] });
		f.handlers['case.list'] = (fr, s) => ({ cases: [kase(s.clientKey)] });
		f.handlers['prekeys.get'] = () => ({ bundle: b64(eb) });
		const sent = [];
		f.handlers['msg.send'] = (fr) => {
			sent.push(fr);
			return { mid: fr.mid, dup: false };
		};
		const c = await core(f);
		await c.login({ role: 'counsellor' });
		who = { key: eve.key, role: 'client', name: 'quiet-heron-1', ...extra };
		f.push({ type: 'case', case: kase(c.key) });
		await waitFor(() => c.caseOf(77).participants.some((p) => p.key === eve.key), 3000, 'the swapped list');
		const m = c.send(77, 'notes for the client');
		await waitFor(() => ['bad_participants', 'key_changed'].includes(c.messages(77).find((x) => x.mid === m.mid)?.reason),
			3000, 'held back');
		assert.equal(sent.some((s) => s.copies.some((x) => x.to === eve.key)), false, 'nothing to the new key');
		c.logout();
	});
}

test('a former counsellor of another programme than the one asked for is not read, as a current one is not', async () => {
	const f = await fake();
	const p1 = sodium.crypto_sign_keypair(), p2 = sodium.crypto_sign_keypair();
	const sam = counsellor(1, p1.privateKey), other = counsellor(2, p2.privateKey);
	const sc = scene(f, sam, { 1: { key: p1.publicKey }, 2: { key: p2.publicKey } });
	f.handlers['case.list'] = () => ({ cases: [] });
	f.handlers['case.request'] = (fr, s) => ({ case: { ...sc.kase(s.clientKey), status: 'waiting',
		participants: [{ key: s.clientKey, role: 'client', name: 'quiet-heron-1' }] } });
	const c = await core(f, { pins: [[1, b64(p1.publicKey)], [2, b64(p2.publicKey)]] });
	await c.login();
	await c.requestCase({ language: 'en', programme: 1 });
	const k = sc.kase(c.key);
	k.former = [{ key: other.peer.key, role: 'counsellor', name: 'Sam', programme: 2, cert: b64(other.cert),
		left: NOW - 10, reason: 'reassigned' }];
	f.handlers['case.list'] = () => ({ cases: [k] });
	f.handlers['prekeys.get'] = (fr) => (fr.key === sam.peer.key ? { bundle: b64(sam.bundle), cert: b64(sam.cert), programme: 1 }
		: { error: 'not_found' });
	f.push({ type: 'case', case: k });
	await waitFor(() => counsellorOf(c)?.certified === true, 3000, 'Sam of programme 1');
	await pushFrom(f, c, other.peer, 'Your case is being moved; reply with your city', 9);
	await waitFor(() => c.messages(77).some((x) => !x.mine), 3000, 'its message');
	const got = c.messages(77).find((x) => !x.mine);
	assert.equal(got.state, 'refused');
	assert.equal(got.reason, 'wrong_programme');
	assert.equal(got.text, null);
	c.logout();
});

test('a counsellor revoked mid-case is read no more, in a session made before', async () => {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair();
	const c1 = counsellor(1, prog.privateKey, { notAfter: NOW + 86400 });
	const sc = scene(f, c1, { 1: { key: prog.publicKey } });
	let t = NOW;
	const c = await core(f, { pins: [[1, b64(prog.publicKey)]], now: () => t });
	await c.login();
	// the client writes first: the counsellor's answers carry no first
	// message's header, which alone had its certificate checked
	c.send(77, 'hello');
	await waitFor(() => sc.sent.length === 1, 3000, 'sent');
	const copy = sc.sent[0].copies.find((x) => x.to === c1.peer.key);
	c1.peer.open(P.b64Decode(c.key, 32, 32), P.b64Decode(copy.ct, 1, 1 << 20));
	await pushFrom(f, c, c1.peer, 'before the revocation', 5);
	await waitFor(() => c.messages(77).some((x) => !x.mine), 3000, 'its answer');
	assert.equal(c.messages(77).find((x) => !x.mine).state, 'received');
	// the programme revokes it; the client's programme answer goes stale
	sc.progs[1].revoked = P.revocationSign(prog.privateKey, 1, NOW, [c1.peer.pk]);
	t += 301;
	await pushFrom(f, c, c1.peer, 'after the revocation', 6);
	await waitFor(() => c.messages(77).filter((x) => !x.mine).length === 2, 3000, 'its next message');
	const got = c.messages(77).filter((x) => !x.mine)[1];
	assert.equal(got.state, 'refused');
	assert.equal(got.reason, 'revoked');
	assert.equal(got.text, null);
	// and the case no longer shows it as certified
	assert.equal(counsellorOf(c).certified, false);
	assert.equal(counsellorOf(c).refused, 'revoked');
	c.logout();
});

test('a counsellor revoked after the case listed it certified: the next send finds it, is held back, and the case shows it refused', async () => {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair();
	const c1 = counsellor(1, prog.privateKey, { notAfter: NOW + 86400 });
	const sc = scene(f, c1, { 1: { key: prog.publicKey } });
	let t = NOW;
	const c = await core(f, { pins: [[1, b64(prog.publicKey)]], now: () => t });
	await c.login();
	c.send(77, 'hello');
	await waitFor(() => sc.sent.length === 1, 3000, 'sent');
	assert.equal(counsellorOf(c).certified, true);
	const shown = [];
	c.on('case', (ev) => shown.push(ev.case.participants.find((p) => p.role === 'counsellor')));
	sc.progs[1].revoked = P.revocationSign(prog.privateKey, 1, NOW, [c1.peer.pk]);
	t += 301;
	const m = c.send(77, 'not to a revoked counsellor');
	await waitFor(() => c.messages(77).find((x) => x.mid === m.mid)?.reason === 'revoked', 3000, 'held back');
	assert.equal(sc.sent.length, 1);
	assert.equal(counsellorOf(c).certified, false);
	assert.equal(counsellorOf(c).refused, 'revoked');
	assert.ok(shown.some((p) => p.refused === 'revoked'), 'the views were told');
	c.logout();
});

test('a counsellor shown certified under one programme and listed under another later is checked again, not shown certified by the first answer', async () => {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair(), made = sodium.crypto_sign_keypair();
	const c1 = counsellor(1, prog.privateKey);
	const sc = scene(f, c1, { 1: { key: prog.publicKey }, 2: { key: made.publicKey } });
	const c = await core(f, { pins: [[1, b64(prog.publicKey)]] });
	await c.login();
	await c.refreshCases();
	assert.equal(counsellorOf(c).certified, true);
	// the same key and certificate, listed under a programme made up
	sc.who = { ...c1, id: 2 };
	await c.refreshCases();
	assert.equal(counsellorOf(c).programme, 2);
	assert.equal(counsellorOf(c).certified, false);
	assert.equal(counsellorOf(c).refused, 'untrusted_programme');
	// and back under its own: certified again
	sc.who = c1;
	await c.refreshCases();
	assert.equal(counsellorOf(c).certified, true);
	c.logout();
});

test('a report owed while the counsellor\'s key changed waits for verify: no session with the new key before, nothing sealed to it', async () => {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair();
	const sam = counsellor(1, prog.privateKey), swapped = counsellor(1, prog.privateKey), kim = counsellor(1, prog.privateKey);
	const sc = scene(f, sam, { 1: { key: prog.publicKey } });
	const base = sc.kase;
	sc.kase = (ck, who) => {
		const k = base(ck, who);
		k.participants.push({ key: kim.peer.key, role: 'counsellor', name: 'Kim', programme: 1, cert: b64(kim.cert), as: 'supervisor', state: 'joined', since: 1 });
		k.members = 1;
		return k;
	};
	f.handlers['case.list'] = (fr, s) => ({ cases: [sc.kase(s.clientKey, sc.who)] });
	f.handlers['case.seen'] = (fr, s) => ({ case: sc.kase(s.clientKey, sc.who) });
	const asked = [];
	f.handlers['prekeys.get'] = (fr) => {
		asked.push(fr.key);
		const x = [sam, swapped, kim].find((y) => y.peer.key === fr.key);
		return x ? { bundle: b64(x.bundle), cert: b64(x.cert), programme: 1 } : { error: 'not_found' };
	};
	const c = await core(f, { pins: [[1, b64(prog.publicKey)]] });
	await c.login();
	await waitFor(() => c.caseOf(77), 3000, 'the case');
	await c.confirmMembers(77, 1);	// Kim shown and confirmed
	// the server swaps the counsellor's key: the case is blocked
	sc.who = swapped;
	f.push({ type: 'case', case: sc.kase(c.key, swapped) });
	await waitFor(() => c.caseOf(77).blocked, 3000, 'the change shown');
	// a message "from" the supervisor that opens in no session: a report is owed to it
	const junk = new Uint8Array(1024);
	junk[0] = 2;
	junk.set(sodium.randombytes_buf(1000), 24);
	f.push({ type: 'msg', seq: 1, case: 77, mid: b64(sodium.randombytes_buf(16)), from: kim.peer.key, ts: NOW, ct: b64(junk) });
	await waitFor(() => f.seen.some((x) => x.type === 'msg.ack' && x.seqs.includes(1)), 3000, 'its ack');
	assert.equal(c.messages(77).find((x) => !x.mine).reset, true, 'a report is owed');
	assert.deepEqual(sc.sent, [], 'no report while the key is not verified');
	assert.ok(!asked.includes(swapped.peer.key), 'no session with the changed key');
	// the user compares the new key's number: the report goes, to both
	const now = c.safety(77).find((x) => x.key === swapped.peer.key);
	c.verify(77, now.key, now.number);
	await waitFor(() => sc.sent.length === 1, 3000, 'the report');
	const copies = sc.sent[0].copies;
	assert.deepEqual(copies.map((x) => x.to).sort(), [swapped.peer.key, kim.peer.key].sort());
	const rep = P.envelopeParse(kim.peer.open(P.b64Decode(c.key, 32, 32), P.b64Decode(copies.find((x) => x.to === kim.peer.key).ct, 1, P.OFR_CT_MAX)));
	assert.equal(rep.kind, P.ENVELOPE_REPORT);
});

test('programme.get answers: reused for FRESH_SECONDS, FRESH_MAX kept whatever programmes a server names', async () => {
	const { Trust, FRESH_MAX, FRESH_SECONDS } = await import('../src/trust.js');
	let now = NOW, asked = 0;
	const t = new Trust({ bundle: [], now: () => now });
	const ask = async (fr) => { asked++; return { programme: { id: fr.programme } }; };
	await t.get(1, ask);
	await t.get(1, ask);
	assert.equal(asked, 1, 'reused');
	// a server naming a new programme each time (401 answers of 120 kB
	// kept before, growing without end)
	for (let id = 2; id <= 400; id++) await t.get(id, ask);
	assert.equal(t.fresh.size, FRESH_MAX, 'no more kept than FRESH_MAX');
	assert.ok(t.fresh.has(400) && !t.fresh.has(2), 'the newest kept, the oldest gone');
	now += FRESH_SECONDS;
	await t.get(400, ask);
	assert.equal(t.fresh.size, 1, 'the expired ones go');
});

test('safety numbers: kept for every participant of as many cases as the core keeps, not made again at each change', async () => {
	const { SAFETY_KEPT } = await import('../src/e2e.js');
	const { CASES_MAX } = await import('../src/core.js');
	assert.ok(SAFETY_KEPT >= CASES_MAX, 'one a case at least');
	const e = new E2E();
	const keys = Array.from({ length: 100 }, () => new E2E().key);
	const first = keys.map((k) => e.safety(k));
	// the page asks again for all of them at the next event: none made
	// again (64 were kept before: a server listing 100 cases of distinct
	// keys had the page make every number at every event)
	assert.equal(e.numbers.size, 100);
	assert.ok(keys.every((k) => e.numbers.has(k)), 'all kept');
	assert.deepEqual(keys.map((k) => e.safety(k)), first);
});
