// interop_cli.test.js: the web core (core.js, in node, over ws) and the
// real C CLI talking through the real offramp-server on loopback:
//  (a) a web client and a CLI counsellor converse both ways, and compute
//      the same safety number;
//  (b) a web counsellor (invite redeemed with keys made in the core,
//      certified by the CLI admin) and a CLI client converse both ways;
//  (c) the counsellor of a web client's case is replaced by another key
//      (the first is disabled, the case rematched): the core detects it,
//      holds what is typed until verify(), then it goes through; a
//      reassignment the client asked for is not a changed key;
//  (d) the server is killed (SIGKILL) mid-conversation and started again
//      on the same port: the core reconnects and logs in again by itself,
//      what was typed meanwhile arrives exactly once, in order, and what
//      the counsellor sent meanwhile reaches the core;
//  (e) a web client whose case waits (no certified counsellor yet) types
//      into its outbox; once a counsellor is certified and matched, what
//      was typed is sealed and arrives, in order.
// Every wait has a deadline; each test starts its own server on a free
// port and kills it at the end. Needs build/ (server and CLI) built.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createCore } from '../src/core.js';
import { waitFor, startServer, cliOk, field, setupAdmin, cliCounsellor, signing, daemonLogins } from './live.mjs';

const MARK = `w${process.pid}x${Date.now() % 100000}`;
const cores = [];

after(() => {
	for (const c of cores) c.logout();
});

async function webCore(srv, opts = {}) {
	// the programme's key as the page's bundle would have it, given out of band
	const core = await createCore({ url: srv.url, WebSocket, timeoutMs: 8000, reconnect: { minMs: 100, maxMs: 1000 },
		pins: srv.programmeKey ? [[1, srv.programmeKey]] : [], ...opts });
	cores.push(core);
	const got = [];
	core.on('message', ({ message }) => got.push(message));
	const keychanges = [];
	core.on('keychange', (ev) => keychanges.push(ev));
	const errors = [];
	core.on('error', (ev) => errors.push(ev));
	return { core, got, keychanges, errors };
}

/** The CLI's safety line of the participant named name: its number and verification. */
async function cliSafety(srv, who, caseId, name) {
	const out = await cliOk(srv, who, ['safety', String(caseId)]);
	const m = new RegExp(`^${name} ((?:\\d{5} ){11}\\d{5}) (verified|unverified)$`, 'm').exec(out);
	assert.ok(m, `a safety line for ${name} in: ${out}`);
	return { number: m[1], state: m[2] };
}

const sentState = (core, id, mid) => core.messages(id).find((m) => m.mid === mid)?.state;

async function webSends(core, id, text) {
	const m = core.send(id, text);
	await waitFor(() => ['sent', 'delivered'].includes(sentState(core, id, m.mid)), 15000, `"${text}" acknowledged by the server`);
	return m;
}

async function cliReads(srv, who, caseId, fromName, text) {
	const out = await cliOk(srv, who, ['recv', '--count', '1']);
	assert.equal(out, `${caseId}\t${fromName}\t${text}\n`);
}

async function webReads(w, text) {
	const m = await waitFor(() => w.got.find((x) => x.text === text), 15000, `"${text}" in the web core`);
	assert.equal(m.state, 'received');
	return m;
}

test('(a) a web client and a CLI counsellor converse both ways; same safety number', async () => {
	const srv = await startServer();
	await setupAdmin(srv);
	const samKey = await cliCounsellor(srv, 'sam', 'Sam', 'en');
	const w = await webCore(srv);
	const acct = await w.core.login();
	assert.equal(acct.role, 'client');
	assert.equal(acct.key, w.core.key);
	const c = await w.core.requestCase({ language: 'en', topic: 'leaving', urgency: 'normal' });
	assert.equal(c.status, 'active');
	const sam = c.participants.find((p) => p.role === 'counsellor');
	assert.equal(sam.key, samKey);
	assert.equal(sam.name, 'Sam');
	assert.equal(sam.certified, true, 'the counsellor is certified by the programme key pinned on first use');

	const texts = [];
	for (let i = 0; i < 3; i++) {
		const a = `web client ${i} ${MARK} ünïcødé ✓`;
		await webSends(w.core, c.id, a);
		await cliReads(srv, 'sam', c.id, acct.name, a);
		const b = `cli counsellor ${i} ${MARK}`;
		await cliOk(srv, 'sam', ['send', String(c.id), b]);
		await webReads(w, b);
		texts.push(a, b);
	}
	// two from the counsellor before the client answers, one long
	const long = `long ${MARK} `.repeat(40);
	await cliOk(srv, 'sam', ['send', String(c.id), 'one']);
	await cliOk(srv, 'sam', ['send', String(c.id), long.trim()]);
	await webReads(w, 'one');
	await webReads(w, long.trim());
	assert.deepEqual(w.core.messages(c.id).filter((m) => !m.mine).map((m) => m.text).slice(0, 3), [texts[1], texts[3], texts[5]]);
	assert.equal(w.got.filter((m) => m.state !== 'received').length, 0, 'nothing undecryptable');

	const web = w.core.safety(c.id);
	assert.equal(web.length, 1);
	const samSide = await cliSafety(srv, 'sam', c.id, acct.name);
	assert.match(web[0].number, /^(\d{5} ){11}\d{5}$/);
	assert.equal(web[0].number, samSide.number, 'both sides compute the same safety number');
	assert.deepEqual(w.errors, []);

	// "leave no trace": only the recovery code is kept; a new core from it
	// finds the case again, starts new sessions, and talks on
	const rec = w.core.exportRecovery();
	w.core.logout();
	const r = await webCore(srv, { state: rec });
	assert.equal(r.core.key, w.core.key);
	await r.core.login();
	assert.deepEqual(r.core.cases().map((x) => x.id), [c.id]);
	assert.equal(r.core.caseOf(c.id).participants.find((p) => p.role === 'counsellor').certified, true);
	await webSends(r.core, c.id, `restored ${MARK}`);
	await cliReads(srv, 'sam', c.id, acct.name, `restored ${MARK}`);
	await cliOk(srv, 'sam', ['send', String(c.id), `welcome back ${MARK}`]);
	await webReads(r, `welcome back ${MARK}`);
	assert.deepEqual(r.errors, []);
});

test('(b) a web counsellor (redeemed, certified) and a CLI client converse both ways', async () => {
	const srv = await startServer();
	await setupAdmin(srv);
	const inv = (await cliOk(srv, 'admin', ['invite', '--role', 'counsellor'])).trim().split('\n').pop();
	const w = await webCore(srv);
	const newcases = [];
	w.core.on('newcase', (ev) => newcases.push(ev.case));
	const acct = await w.core.redeem(inv, 'Robin', { languages: ['de'], topics: ['leaving'], presence: 'online' });
	assert.equal(acct.role, 'counsellor');
	assert.equal(acct.name, 'Robin');
	assert.equal((await cliOk(srv, 'admin', ['certify', ...signing(srv.dir), 'Robin'])).trim(), 'certified: Robin',
		'the admin certifies the key the browser made');

	const clientKey = field(await cliOk(srv, 'client', ['keygen', '--kdf', 'min']), 'key');
	const clientName = field(await cliOk(srv, 'client', ['login']), 'name');
	const req = await cliOk(srv, 'client', ['request', '--language', 'de', '--topic', 'leaving']);
	const caseId = Number(field(req, 'case'));
	assert.equal(field(req, 'counsellor'), 'Robin');
	const nc = await waitFor(() => newcases.find((x) => x.id === caseId), 10000, 'the new-case notice');
	assert.equal(nc.participants.find((p) => p.role === 'client').key, clientKey);

	for (let i = 0; i < 3; i++) {
		const a = `cli client ${i} ${MARK}`;
		await cliOk(srv, 'client', ['send', String(caseId), a]);
		const got = await webReads(w, a);
		assert.equal(got.from, clientKey);
		assert.equal(got.name, clientName);
		const b = `web counsellor ${i} ${MARK} — ok`;
		await webSends(w.core, caseId, b);
		await cliReads(srv, 'client', caseId, 'Robin', b);
	}
	assert.ok(w.core.caseOf(caseId).unread >= 3);
	w.core.markRead(caseId);
	assert.equal(w.core.caseOf(caseId).unread, 0);

	const web = w.core.safety(caseId);
	const cliSide = await cliSafety(srv, 'client', caseId, 'Robin');
	assert.equal(web[0].number, cliSide.number, 'both sides compute the same safety number');
	assert.equal(web[0].key, clientKey);

	// notes, encrypted to the counsellor itself; pause and resume
	const nid = await w.core.addNote(caseId, `note ${MARK}`);
	assert.ok(Number.isSafeInteger(nid));
	const notes = await w.core.notes(caseId);
	assert.deepEqual(notes.map((n) => n.text), [`note ${MARK}`]);
	assert.equal((await w.core.pause(caseId)).status, 'paused');
	assert.equal((await w.core.resume(caseId)).status, 'active');

	// the whole state survives an export and import: the sessions go on
	const state = w.core.exportState();
	w.core.logout();
	const w2 = await webCore(srv, { state });
	assert.equal(w2.core.key, w.core.key);
	await w2.core.login();
	await cliOk(srv, 'client', ['send', String(caseId), `after import ${MARK}`]);
	await webReads(w2, `after import ${MARK}`);
	await webSends(w2.core, caseId, `still here ${MARK}`);
	await cliReads(srv, 'client', caseId, 'Robin', `still here ${MARK}`);
	assert.deepEqual([...w.errors, ...w2.errors], []);
});

test('(c) a changed counsellor key is detected; sending waits for verify(); a reassignment asked for is not a change', async () => {
	const srv = await startServer();
	await setupAdmin(srv);
	const samKey = await cliCounsellor(srv, 'sam', 'Sam', 'en');
	const w = await webCore(srv);
	const acct = await w.core.login();
	const c = await w.core.requestCase({ language: 'en', topic: 'leaving' });
	assert.equal(c.participants.find((p) => p.role === 'counsellor').key, samKey);
	await webSends(w.core, c.id, `to sam ${MARK}`);
	await cliReads(srv, 'sam', c.id, acct.name, `to sam ${MARK}`);
	await cliOk(srv, 'sam', ['send', String(c.id), `from sam ${MARK}`]);
	await webReads(w, `from sam ${MARK}`);
	const before = w.core.safety(c.id)[0];

	// Kim joins; Sam is disabled: the server puts Kim's key where Sam's was
	const kimKey = await cliCounsellor(srv, 'kim', 'Kim', 'en');
	await cliOk(srv, 'admin', ['disable', samKey]);
	const kc = await waitFor(() => w.keychanges.find((e) => e.caseId === c.id), 15000, 'the key change');
	assert.equal(kc.participant.key, kimKey);
	assert.equal(kc.participant.changed, true);
	const now = w.core.caseOf(c.id);
	assert.equal(now.blocked, true);
	assert.equal(now.status, 'active');
	const s = w.core.safety(c.id)[0];
	assert.equal(s.changed, true);
	assert.notEqual(s.number, before.number);

	// typed while blocked: kept, not sent
	const held = w.core.send(c.id, `held ${MARK}`);
	await waitFor(() => w.core.messages(c.id).find((m) => m.mid === held.mid)?.reason === 'key_changed', 5000, 'the hold');
	assert.equal(sentState(w.core, c.id, held.mid), 'queued');
	const none = await cliOk(srv, 'kim', ['recv', '--wait', '1']);
	assert.equal(none, '', 'nothing reached the new counsellor before verify');
	// a message from the new key is refused and left on the server
	await cliOk(srv, 'kim', ['send', String(c.id), `kim early ${MARK}`]);
	const refused = await waitFor(() => w.got.find((m) => m.from === kimKey), 10000, 'the refused message');
	assert.equal(refused.state, 'refused');
	assert.equal(refused.reason, 'key_changed');
	assert.equal(refused.text, null);

	// the user compares safety numbers with Kim, then accepts the key
	const kimSide = await cliSafety(srv, 'kim', c.id, acct.name);
	assert.equal(s.number, kimSide.number);
	const v = w.core.verify(c.id, s.key, kimSide.number);
	assert.equal(v.length, 1);
	assert.equal(v[0].verified, true);
	assert.equal(w.core.caseOf(c.id).blocked, false);
	await waitFor(() => ['sent', 'delivered'].includes(sentState(w.core, c.id, held.mid)), 15000, 'the held message sent after verify');
	await cliReads(srv, 'kim', c.id, acct.name, `held ${MARK}`);
	// the message left on the server comes again and now opens
	await waitFor(() => w.got.find((m) => m.from === kimKey && m.state === 'received' && m.text === `kim early ${MARK}`),
		15000, 'the kept message after verify');
	await cliOk(srv, 'kim', ['send', String(c.id), `kim later ${MARK}`]);
	await webReads(w, `kim later ${MARK}`);

	// the client asks for another counsellor: Sam again (enabled); not a key change
	const logins = daemonLogins(srv, 'sam');
	await cliOk(srv, 'admin', ['enable', samKey]);
	// Sam's daemon, refused while Sam was disabled, logs in again after its
	// pause (doubling up to 30 s): only then is Sam there to be matched
	await waitFor(() => daemonLogins(srv, 'sam') > logins, 45000, "Sam's daemon to log in again");
	const n = w.keychanges.length;
	const r = await w.core.reassign(c.id);
	// Kim is never matched again; Sam is (certificate checked again)
	await waitFor(() => w.core.caseOf(c.id).participants.some((p) => p.key === samKey && p.certified), 15000, 'Sam again');
	assert.ok(r.id === c.id);
	assert.equal(w.keychanges.length, n, 'a counsellor asked for is no key change');
	assert.equal(w.core.caseOf(c.id).blocked, false);
	await webSends(w.core, c.id, `back to sam ${MARK}`);
	await cliReads(srv, 'sam', c.id, acct.name, `back to sam ${MARK}`);
	assert.deepEqual(w.errors.filter((e) => e.reason !== 'key_changed'), []);
});

test('(d) a server killed and started again: the core reconnects, nothing typed or sent is lost or doubled', async () => {
	let srv = await startServer();
	await setupAdmin(srv);
	await cliCounsellor(srv, 'sam', 'Sam', 'en');
	const w = await webCore(srv);
	const states = [];
	w.core.on('connection', (ev) => states.push(ev));
	const acct = await w.core.login();
	const c = await w.core.requestCase({ language: 'en' });
	await webSends(w.core, c.id, `before ${MARK}`);
	await cliReads(srv, 'sam', c.id, acct.name, `before ${MARK}`);

	const racing = w.core.send(c.id, `racing ${MARK}`);	// may or may not be committed
	srv.proc.kill('SIGKILL');
	await waitFor(() => w.core.connection === 'reconnecting', 10000, 'the core to see the server gone');
	const down = [1, 2, 3].map((i) => w.core.send(c.id, `while down ${i} ${MARK}`));
	for (const m of down) assert.equal(sentState(w.core, c.id, m.mid), 'queued');

	srv = await startServer({ again: srv });
	await waitFor(() => w.core.connection === 'online', 20000, 'the core to log in again');
	await waitFor(() => [racing, ...down].every((m) => ['sent', 'delivered'].includes(sentState(w.core, c.id, m.mid))), 15000, 'the outbox sent');
	const out = await cliOk(srv, 'sam', ['recv', '--count', '4']);
	assert.equal(out, [`racing ${MARK}`, ...[1, 2, 3].map((i) => `while down ${i} ${MARK}`)]
		.map((t) => `${c.id}\t${acct.name}\t${t}\n`).join(''), 'each exactly once, in order');
	assert.equal(await cliOk(srv, 'sam', ['recv', '--wait', '1']), '', 'and no copy twice');
	assert.ok(states.some((s) => s.state === 'reconnecting' && s.delayMs <= 1000), 'backoff capped at maxMs');

	// the counsellor writes while the core is away; the server keeps it for the core
	w.core.logout();
	await cliOk(srv, 'sam', ['send', String(c.id), `while away ${MARK}`]);
	await w.core.login();
	await webReads(w, `while away ${MARK}`);
	assert.deepEqual(w.errors, []);
});

test('(e) typed while the case waits: kept in the outbox, sent once a counsellor is assigned', async () => {
	const srv = await startServer();
	await setupAdmin(srv);
	const w = await webCore(srv);
	const acct = await w.core.login();
	const c = await w.core.requestCase({ language: 'en', topic: 'leaving', urgency: 'high', format: 'chat' });
	assert.equal(c.status, 'waiting');
	assert.ok(Number.isSafeInteger(c.waitingSince));
	const typed = ['are you there?', `still waiting ${MARK}`].map((t) => w.core.send(c.id, t));
	await waitFor(() => w.core.messages(c.id).every((m) => m.state === 'queued' && m.reason === 'case_waiting'), 5000, 'the hold');
	assert.equal(w.core.caseOf(c.id).outbox, 2);
	// the state with its outbox survives an export: nothing typed is lost
	const st = JSON.parse(w.core.exportState({ as: 'json', history: false }));
	assert.deepEqual(st.cases[0].outbox.map((m) => m.text), ['are you there?', `still waiting ${MARK}`]);

	await cliCounsellor(srv, 'sam', 'Sam', 'en');	// certified: the waiting case is matched
	await waitFor(() => w.core.caseOf(c.id).status === 'active', 15000, 'a counsellor assigned');
	await waitFor(() => typed.every((m) => ['sent', 'delivered'].includes(sentState(w.core, c.id, m.mid))), 15000, 'the outbox sent');
	assert.equal(w.core.caseOf(c.id).outbox, 0);
	const out = await cliOk(srv, 'sam', ['recv', '--count', '2']);
	assert.equal(out, `${c.id}\t${acct.name}\tare you there?\n${c.id}\t${acct.name}\tstill waiting ${MARK}\n`);
	assert.deepEqual(w.errors, []);
});
