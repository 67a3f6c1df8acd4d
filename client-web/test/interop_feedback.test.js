// interop_feedback.test.js: anonymous feedback from the web core (in node,
// over ws) read by the real CLI admin, through the real offramp-server
// (PROTOCOL.md and CRYPTO.md, "Feedback"):
//  (a) the admin certifies its own key (programme-key admin-cert); a web
//      client rates its closed case with a text, which the core seals to
//      that admin (its admin certificate checked under the page's anchor);
//      from the fifth entry on (four more clients rate), once their week
//      has ended, `offramp feedback` as the admin prints the ratings and
//      the text,
//      opened; a second feedback is refused with "limit" and the case
//      stays "sent";
//  (b) a web client that trusts no programme key: the ratings go, the
//      text does not ("not_sent"); a text alone is not sent at all.
// Every wait has a deadline; each test starts its own server. Needs
// build/ (server and CLI) built.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { createCore } from '../src/core.js';
import { startServer, cliOk, setupAdmin, cliCounsellor, signing, waitFor } from './live.mjs';

const MARK = `fb${process.pid}x${Date.now() % 100000}`;
const cores = [];

after(() => {
	for (const c of cores) c.logout();
});

async function webCore(srv, pins) {
	const core = await createCore({ url: srv.url, WebSocket, timeoutMs: 8000, reconnect: { minMs: 100, maxMs: 1000 }, pins });
	cores.push(core);
	return core;
}

/* The server lists a week's feedback once the week has ended: the rows
 * so far are moved a week back (the server stopped meanwhile, then
 * started again on its port and data; the cores and Sam's daemon connect
 * again: this waits for the daemon, which new cases need). */
async function weekEnded(srv) {
	const log = path.join(srv.dir, 'sam.daemon.log');
	const connects = () => (fs.readFileSync(log, 'utf8').match(/connected to/g) || []).length;
	const before = connects();
	srv.proc.kill('SIGTERM');
	await waitFor(() => srv.proc.exitCode !== null || srv.proc.signalCode !== null, 20000, 'the server to stop');
	execFileSync('sqlite3', [path.join(srv.dir, 'data', 'offramp.db'), 'UPDATE feedback SET week = week - 604800']);
	const again = await startServer({ again: srv });
	await waitFor(() => connects() > before, 20000, "Sam's daemon to connect again");
	return again;
}

/* A web client's case with Sam, closed by the client. */
async function closedCase(core) {
	await core.login();
	const c = await core.requestCase({ language: 'en', topic: 'leaving' });
	assert.equal(c.status, 'active');
	const closed = await core.closeCase(c.id);
	assert.equal(closed.status, 'closed');
	assert.ok(closed.participants.some((p) => p.role === 'counsellor'), 'a closed case still names its counsellor');
	assert.equal(closed.feedback, null);
	return c.id;
}

test('the web core seals the text to the certified admin, the CLI admin reads it; untrusted: ratings only', async () => {
	// (a)
	let srv = await startServer();
	await setupAdmin(srv);
	await cliCounsellor(srv, 'sam', 'Sam', 'en');
	assert.equal((await cliOk(srv, 'admin', ['programme-key', 'admin-cert', ...signing(srv.dir)])).trim(), 'admin-cert: 365 days');
	const core = await webCore(srv, [[1, srv.programmeKey]]);
	const id = await closedCase(core);
	const text = `thank you, ${MARK} — شكرا ✓`;
	assert.deepEqual(await core.sendFeedback(id, { helpful: true, recommend: false, text }), { text: 'sealed' });
	assert.equal(core.caseOf(id).feedback, 'sent');
	// the admin is shown entries only from 5 on: four more clients rate
	assert.match(await cliOk(srv, 'admin', ['feedback']), /^totals: entries=fewer than 5 /);
	for (let i = 0; i < 4; i++) {
		const more = await webCore(srv, [[1, srv.programmeKey]]);
		assert.deepEqual(await more.sendFeedback(await closedCase(more), { helpful: true }), { text: 'none' });
	}
	// not while the week goes on (a list read again and again would tell
	// each new one)
	assert.doesNotMatch(await cliOk(srv, 'admin', ['feedback']), /^week=/m);
	srv = await weekEnded(srv);
	const out = await cliOk(srv, 'admin', ['feedback']);
	assert.match(out, /^totals: entries=5 /, out);
	assert.match(out, new RegExp(`^week=\\d{4}-W\\d{2} helpful=yes recommend=no text: ${text}$`, 'm'), out);
	await assert.rejects(core.sendFeedback(id, { helpful: false }), { code: 'limit' });
	assert.equal(core.caseOf(id).feedback, 'sent');
	// what the device keeps says so too
	assert.equal(JSON.parse(core.exportState({ as: 'json' })).cases.find((c) => c.case.id === id).feedback, 'sent');

	// (b) no trusted programme key: the ratings go, the text does not
	const other = await webCore(srv, []);
	const id2 = await closedCase(other);
	await assert.rejects(other.sendFeedback(id2, { text: `only text ${MARK}` }), { code: 'crypto', reason: 'no_admin' });
	assert.equal(other.caseOf(id2).feedback, null, 'nothing was sent');
	assert.deepEqual(await other.sendFeedback(id2, { recommend: true, text: `never read ${MARK}` }), { text: 'not_sent' });
	srv = await weekEnded(srv);
	const out2 = await cliOk(srv, 'admin', ['feedback']);
	assert.match(out2, /^week=\S+ helpful=- recommend=yes text: -$/m, out2);
	assert.doesNotMatch(out2, /never read|only text/);
	other.dismissFeedback(id2);
	assert.equal(other.caseOf(id2).feedback, 'sent', 'dismissing after sending changes nothing');
});
