// web_page.test.mjs: the page's intents (controller.js) with the real core
// on a scripted server (fake.mjs), and, for "Keep on this device", an
// IndexedDB in memory (memidb.mjs): what a server that sends what the
// real one would not does to the page, and what the device keeps when.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import sodium from 'libsodium-wrappers-sumo';
import * as P from '../src/proto/index.js';
import { createCore } from '../src/core.js';
import { createStore } from '../src/app/store.js';
import { createController } from '../src/app/controller.js';
import { encodeRecovery } from '../src/app/recovery.js';
import { fake } from './fake.mjs';
import { waitFor } from './live.mjs';
import { memIdb } from './memidb.mjs';
import { E2E } from '../src/e2e.js';

before(async () => {
	await P.ocryptoInit();
	await sodium.ready;
});

const pages = [];
after(() => {
	for (const p of pages) p.intents._wipe();
});

const NOW = Math.floor(Date.now() / 1000);
const win = { addEventListener() {}, removeEventListener() {}, location: { replace() {} }, document: { body: {}, title: '' } };

/* A page (store and intents) on scripted server f whose sockets learn the
 * core's key at login; page.core() is its core once made. */
function page(f, config = {}) {
	const store = createStore();
	let c = null;
	const intents = createController({
		store, sodium,
		createCore: async (o) => {
			c = await createCore({ ...o, timeoutMs: 2000, heartbeatMs: 0 });
			c.on('account', () => { for (const s of f.socks) s.clientKey = c.key; });
			return c;
		},
		config: { url: f.url, WebSocket, pins: [], win, idb: null, ...config },
	});
	const p = { store, intents, core: () => c };
	pages.push(p);	// let go of after this file's tests, failed or not
	return p;
}

test('a malformed case object from the server is dropped: the page goes on following its case', async () => {
	const f = await fake();
	let clientKey = null;
	const mine = (status) => ({ id: 7, status, language: 'en', created: NOW, updated: NOW,
		participants: [{ key: clientKey, role: 'client', name: 'quiet-heron-1' }] });
	f.handlers['case.request'] = (fr, s) => {
		clientKey = s.clientKey;
		return { case: mine('waiting') };
	};
	f.handlers['case.list'] = () => ({ cases: clientKey ? [mine('waiting')] : [] });
	const p = page(f);
	const failed = [];
	await p.intents.startClient();
	p.core().on('listener-error', (e) => failed.push(e.error.message));
	assert.equal(p.store.state.screen, 'conversation');
	assert.equal(p.store.state.cases[7].case.status, 'waiting');
	// a case object with a null participant, then one with a null former one
	f.push({ type: 'case', case: { ...mine('active'), id: 8, participants: [...mine('active').participants, null] } });
	f.push({ type: 'case', case: { ...mine('active'), former: [null] } });
	// then the client's own case closes
	f.push({ type: 'case', case: mine('closed') });
	await waitFor(() => p.store.state.cases[7].case.status === 'closed', 3000, 'the page shows the case closed');
	assert.deepEqual(failed, []);
	assert.equal(p.store.state.cases[8], undefined, 'the malformed case is not shown');
});

test('a counsellor\'s queue keeps only entries of the shape of one: a null among them does not stop the inbox; a negative waiting (another node\'s clock) is 0', async () => {
	const f = await fake();
	f.account = (key) => ({ key, role: 'counsellor', name: 'Sam', programme: 1 });
	const waiting = { id: 11, status: 'waiting', language: 'en', topic: null, urgency: 'normal', created: NOW, updated: NOW,
		preferences: { asked: [], met: null, unmet: null }, participants: [], former: [], waiting: 120 };
	const referred = { id: 12, language: 'de', topic: 'family', urgency: 'high', created: NOW, preferences: null, referred_by: 2, waiting: 60 };
	const ahead = { ...referred, id: 14, waiting: -40 };	// answered on a node whose clock runs ahead
	f.handlers['case.queue'] = () => ({ cases: [null, waiting, { id: 'x' }, { ...referred, id: 13, referred_by: 'Programme 2' }, referred, 5, ahead, { ...ahead, id: 15, waiting: 1.5 }] });
	f.handlers['presence.set'] = () => ({});
	f.handlers['programme.get'] = (fr) => ({ programme: { id: fr.programme, name: 'Exit South', key: P.b64Encode(sodium.crypto_sign_keypair().publicKey) } });
	// a counsellor's account, opened from its recovery code
	const seed = await createCore({ url: f.url, WebSocket });
	await seed.login({ role: 'counsellor' });
	seed.logout();
	const p = page(f);
	await p.intents.restore(encodeRecovery(sodium, seed.exportRecovery()));
	assert.equal(p.store.state.screen, 'inbox');
	await waitFor(() => p.store.state.queue.length > 0, 3000, 'the queue');
	assert.deepEqual(p.store.state.queue.map((q) => q.id), [11, 12, 14]);
	assert.equal(p.core().account.role, 'counsellor');
	// the core alone: what case.queue gave, shaped
	const q = await p.core().queue();
	assert.deepEqual(q.map((x) => [x.id, x.waiting, x.referred_by ?? null]), [[11, 120, null], [12, 60, 2], [14, 0, 2]]);
	f.handlers['case.queue'] = () => ({ cases: Array.from({ length: 150 }, (_, i) => ({ ...referred, id: 100 + i })) });
	assert.equal((await p.core().queue()).length, 100, 'at most 100 (PROTOCOL.md)');
});

test('keep on this device: what the server has is in the vault first; a tab closed at once, unlocked later, goes on the conversation', async () => {
	const f = await fake();
	const prog = sodium.crypto_sign_keypair();
	const peer = new E2E();
	const cert = P.certSign(prog.privateKey, { counsellorPk: peer.pk, programmeId: 1, notBefore: NOW - 60, notAfter: NOW + 3600 });
	const bundle = peer.makeBundle(2);
	let clientKey = null;
	const kase = () => ({ id: 7, status: 'active', language: 'en', created: NOW, updated: NOW,
		participants: [{ key: clientKey, role: 'client', name: 'quiet-heron-1' },
			{ key: peer.key, role: 'counsellor', name: 'Sam', programme: 1, cert: P.b64Encode(cert) }] });
	f.handlers['case.request'] = (fr, s) => {
		clientKey = s.clientKey;
		return { case: kase() };
	};
	f.handlers['case.list'] = () => ({ cases: clientKey ? [kase()] : [] });
	f.handlers['programme.get'] = () => ({ programme: { id: 1, name: 'P', key: P.b64Encode(prog.publicKey) } });
	f.handlers['prekeys.get'] = () => ({ bundle: P.b64Encode(bundle), cert: P.b64Encode(cert), programme: 1 });
	const idb = memIdb();
	const sent = [];
	f.handlers['msg.send'] = (fr) => {
		// a message sent again (the same mid) is a duplicate, as the real server says
		if (sent.some((x) => x.fr.mid === fr.mid)) return { mid: fr.mid, dup: true };
		// the device as it is when the server takes the message
		sent.push({ fr, vault: idb.record('offramp', 'vault', 'v1')?.slice(), puts: idb.puts });
		return { mid: fr.mid, dup: false };
	};
	const config = { pins: [[1, P.b64Encode(prog.publicKey)]], kdf: { ops: 1, memKiB: 8 } };
	const a = page(f, { ...config, idb });
	a.intents.setMode('device');
	await a.intents.startClient({ passphrase: 'a long passphrase' });
	assert.equal(a.store.state.screen, 'conversation');
	a.intents.send(7, 'one');
	await waitFor(() => sent.length === 1, 3000, 'one');
	await waitFor(() => idb.puts > sent[0].puts, 3000, 'a save after it');
	a.intents.send(7, 'two');
	await waitFor(() => sent.length === 2, 3000, 'two');
	// the tab is closed as the server takes "two": the device keeps what it had then
	a.intents._wipe();
	const idb2 = memIdb();
	idb2.dbs.set('offramp', new Map([['vault', new Map([['v1', sent[1].vault]])]]));
	const b = page(f, { ...config, idb: idb2 });
	await b.intents.unlock('a long passphrase');
	assert.equal(b.store.state.screen, 'conversation');
	b.intents.send(7, 'three');
	await waitFor(() => sent.length === 3, 3000, 'three');
	// the server's answer reaches the page a moment after the server took it
	await waitFor(() => b.store.state.cases[7].messages.at(-1)?.state !== 'sending', 3000, 'three answered');
	// the counsellor reads all three, in order, none taken for a replay
	const from = P.b64Decode(clientKey, 32, 32);
	const read = (x) => {
		try {
			const env = P.envelopeParse(peer.open(from, P.b64Decode(x.fr.copies[0].ct, 1, P.OFR_CT_MAX)));
			return `${env.seq}: ${new TextDecoder().decode(env.text)}`;
		} catch (e) {
			return `refused (${e.reason || e.code})`;
		}
	};
	assert.deepEqual(sent.map(read), ['1: one', '2: two', '3: three']);
	assert.deepEqual(b.store.state.cases[7].messages.map((m) => [m.text, m.state]), [['one', 'sent'], ['two', 'sent'], ['three', 'sent']],
		'its own messages kept');
});
