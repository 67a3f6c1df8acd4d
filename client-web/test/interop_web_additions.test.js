// interop_web_additions.test.js: the web core (in node, over ws) against
// the real offramp-server and CLI, for what the server added for the web
// client (PROTOCOL.md):
//  (a) delivery receipts: a web client's message is "sent", then
//      "delivered" once the CLI counsellor has read (acked) it, with one
//      "message-state" event naming that recipient;
//  (b) queue positions: waiting web clients see their place, urgent
//      requests first, and case.list brings it up to date;
//  (c) a web counsellor's presence follows its connection: after logout
//      a waiting case is not matched to it; after login it is.
// Every wait has a deadline; each test starts its own server. Needs
// build/ (server and CLI) built.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createCore } from '../src/core.js';
import { waitFor, startServer, cliOk, field, setupAdmin, cliCounsellor, signing } from './live.mjs';

const cores = [];

after(() => {
	for (const c of cores) c.logout();
});

async function webCore(srv) {
	const core = await createCore({ url: srv.url, WebSocket, timeoutMs: 8000, reconnect: { minMs: 100, maxMs: 1000 },
		pins: [[1, srv.programmeKey]] });
	cores.push(core);
	return core;
}

const stateOf = (core, id, mid) => core.messages(id).find((m) => m.mid === mid)?.state;

test('(a) a message is "sent", then "delivered" when the counsellor has acked it', async () => {
	const srv = await startServer();
	await setupAdmin(srv);
	const samKey = await cliCounsellor(srv, 'sam', 'Sam', 'en');
	const core = await webCore(srv);
	await core.login();
	const c = await core.requestCase({ language: 'en' });
	assert.equal(c.status, 'active');
	const receipts = [];
	core.on('message-state', (ev) => { if (ev.to) receipts.push(ev); });
	const m = core.send(c.id, 'hello Sam');
	await waitFor(() => stateOf(core, c.id, m.mid) === 'sent', 15000, 'the message sent');
	assert.deepEqual(receipts, [], 'no receipt before Sam reads');
	assert.equal(await cliOk(srv, 'sam', ['recv', '--count', '1']), `${c.id}\t${core.account.name}\thello Sam\n`);
	await waitFor(() => stateOf(core, c.id, m.mid) === 'delivered', 15000, 'the message delivered');
	assert.equal(receipts.length, 1, 'one receipt for one copy');
	assert.equal(receipts[0].to, samKey);
	assert.equal(receipts[0].message.state, 'delivered');
	assert.deepEqual(core.messages(c.id).find((x) => x.mid === m.mid).deliveredTo, [samKey]);
});

test('(b) waiting web clients see their place in the queue', async () => {
	const srv = await startServer();
	await setupAdmin(srv);
	await cliCounsellor(srv, 'sam', 'Sam', 'en');	// nobody speaks de
	const w1 = await webCore(srv), w2 = await webCore(srv);
	await w1.login();
	await w2.login();
	const c1 = await w1.requestCase({ language: 'de' });
	assert.equal(c1.status, 'waiting');
	assert.equal(c1.queuePosition, 1);
	const c2 = await w2.requestCase({ language: 'de', urgency: 'high' });
	assert.equal(c2.queuePosition, 1, 'urgent requests go first');
	const [again] = (await w1.refreshCases()).filter((x) => x.id === c1.id);
	assert.equal(again.queuePosition, 2);
	await w2.closeCase(c2.id);
	const [now] = (await w1.refreshCases()).filter((x) => x.id === c1.id);
	assert.equal(now.queuePosition, 1);
	assert.equal(w2.caseOf(c2.id).queuePosition, null, 'a closed case has no place');
});

test('(c) a web counsellor gets no case while its connection is gone, and the waiting one when it logs in', async () => {
	const srv = await startServer({ args: ['--rematch-period', '1'] });
	await setupAdmin(srv);
	const inv = (await cliOk(srv, 'admin', ['invite', '--role', 'counsellor'])).trim().split('\n').pop();
	const core = await webCore(srv);
	await core.redeem(inv, 'Robin', { languages: ['it'], topics: ['leaving'] });
	assert.equal((await cliOk(srv, 'admin', ['certify', ...signing(srv.dir), 'Robin'])).trim(), 'certified: Robin');
	const p = await core.setPresence('online');
	assert.equal(p.presence, 'online');
	assert.equal(p.connections, 1, 'the page\'s connection is counted');
	assert.equal(p.idle, false);
	core.logout();
	const listed = async () => (await cliOk(srv, 'admin', ['counsellors'])).split('\n').find((l) => l.includes('Robin')) || '';
	await waitFor(async () => /presence=online .*connections=0 new-cases=not-connected/.test(await listed()), 15000,
		'Robin, still online by choice, not connected after logout');
	await cliOk(srv, 'kid', ['keygen', '--kdf', 'min']);
	const out = await cliOk(srv, 'kid', ['request', '--language', 'it']);
	const id = field(out, 'case');
	assert.equal(field(out, 'status'), 'waiting');
	// it stays waiting through two rematch jobs (an observation window)
	for (const until = Date.now() + 2500; Date.now() < until;)
		assert.match(await cliOk(srv, 'kid', ['cases']), new RegExp(`^${id} waiting it`, 'm'));
	await core.login({ role: 'counsellor' });	// logging in is enough
	await waitFor(async () => new RegExp(`^${id} active it`, 'm').test(await cliOk(srv, 'kid', ['cases'])), 15000, 'the case matched to Robin');
	assert.match(await listed(), /connections=1 new-cases=yes/);
});
