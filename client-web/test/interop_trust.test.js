// interop_trust.test.js: the web core against the real offramp-server's
// programme.get (rotations, revoked): an admin (a web core holding the
// programme's signing key here) rotates the key and revokes a counsellor
// with the real server; a web client that was given only the old key
// follows the rotation, tells it, keeps the revocation list and refuses
// the revoked counsellor.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import sodium from 'libsodium-wrappers-sumo';
import { createCore } from '../src/core.js';
import * as P from '../src/proto/index.js';
import { waitFor, startServer, cliOk, field, counsellorUp } from './live.mjs';

const b64 = P.b64Encode;
const cores = [];
before(async () => {
	await P.ocryptoInit();
});
after(() => {
	for (const c of cores) c.logout();
});

async function webCore(srv, opts = {}) {
	const core = await createCore({ url: srv.url, WebSocket, timeoutMs: 8000, reconnect: { minMs: 100, maxMs: 1000 }, ...opts });
	cores.push(core);
	return core;
}

const now = () => Math.floor(Date.now() / 1000);

/* Certifies every pending counsellor with sk (as `offramp certify NAME` after comparing). */
async function certifyAll(admin, sk) {
	const pending = (await admin.request({ type: 'counsellor.pending' })).counsellors;
	for (const c of pending) {
		const cert = P.certSign(sk, { counsellorPk: P.b64Decode(c.key, 32, 32), programmeId: 1, notBefore: now() - 60, notAfter: now() + 86400 });
		await admin.request({ type: 'counsellor.certify', key: c.key, cert: b64(cert) });
	}
	return pending.length;
}

test('a rotation made on the real server is followed from the old key; a revoked counsellor is refused and the list kept', async () => {
	const srv = await startServer();
	const admin = await webCore(srv);
	assert.equal((await admin.redeem(srv.token, 'Ada')).role, 'admin');
	const k0 = sodium.crypto_sign_keypair(), k1 = sodium.crypto_sign_keypair();
	await admin.request({ type: 'programme.key.set', key: b64(k0.publicKey) });
	const inv = (await admin.request({ type: 'invite.create', role: 'counsellor' })).invite;
	const samKey = field(await cliOk(srv, 'sam', ['keygen', '--kdf', 'min']), 'key');
	await cliOk(srv, 'sam', ['redeem', inv, '--name', 'Sam', '--languages', 'en', '--topics', 'leaving']);
	assert.equal(await certifyAll(admin, k0.privateKey), 1);
	await counsellorUp(srv, 'sam');	// Sam at work: connected

	// a client given the old key out of band (a bundle built with it)
	const pins = [[1, b64(k0.publicKey)]];
	const a = await webCore(srv, { pins });
	await a.login();
	const ca = await a.requestCase({ language: 'en' });
	const sam = () => ca && a.caseOf(ca.id).participants.find((p) => p.role === 'counsellor');
	assert.equal(sam().key, samKey);
	assert.equal(sam().certified, true);
	await a.closeCase(ca.id);
	const state = a.exportState();
	a.logout();

	// the admin rotates the key with the real server and certifies again
	const st = P.rotationSign(k0.privateKey, { programmeId: 1, oldPk: k0.publicKey, newPk: k1.publicKey, issued: now() });
	await admin.request({ type: 'programme.key.rotate', statement: b64(st) });
	const got = await admin.request({ type: 'programme.get', programme: 1 });
	assert.deepEqual(got.programme.rotations, [b64(st)]);
	assert.equal(got.programme.key, b64(k1.publicKey));
	assert.equal(await certifyAll(admin, k1.privateKey), 1);

	const b = await webCore(srv, { pins, state });
	const told = [];
	b.on('programme-rotated', (ev) => told.push(ev));
	await b.login();
	const cb = await b.requestCase({ language: 'en' });
	const samB = () => b.caseOf(cb.id).participants.find((p) => p.role === 'counsellor');
	assert.equal(samB().key, samKey);
	assert.equal(samB().certified, true);
	assert.equal(told.length, 1);
	assert.equal(told[0].to, b64(k1.publicKey));
	assert.deepEqual(b.trustedProgrammes().map((x) => x.key), [b64(k1.publicKey)]);
	const m = b.send(cb.id, 'after the rotation');
	await waitFor(() => ['sent', 'delivered'].includes(b.messages(cb.id).find((x) => x.mid === m.mid)?.state), 15000, 'sent');
	assert.match(await cliOk(srv, 'sam', ['recv', '--count', '1']), /after the rotation/);

	// the admin revokes Sam; a reload of the client reads and keeps the list
	const list = P.revocationSign(k1.privateKey, 1, now(), [P.b64Decode(samKey, 32, 32)]);
	await admin.request({ type: 'programme.revoke', list: b64(list) });
	const c = await webCore(srv, { pins, state: b.exportState() });
	await c.login();
	await waitFor(() => c.caseOf(cb.id)?.participants.find((p) => p.role === 'counsellor')?.refused, 15000, 'Sam refused');
	const kept = JSON.parse(c.exportState({ as: 'json' })).trust.lists;
	assert.deepEqual(kept.map((l) => [l.key, l.programme, l.keys]), [[b64(k1.publicKey), 1, [samKey]]]);
	const held = c.send(cb.id, 'not to a revoked counsellor');
	await waitFor(() => c.messages(cb.id).find((x) => x.mid === held.mid)?.reason, 15000, 'held back');
	assert.equal(c.messages(cb.id).find((x) => x.mid === held.mid).state, 'queued');
});
