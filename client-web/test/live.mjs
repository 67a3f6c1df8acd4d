// live.mjs: what the node tests share to drive the real offramp-server and
// the real CLI on loopback: waiting with a deadline, a server on a free
// port with a fresh data directory (killed and removed at the end), and
// the CLI as one identity of that server. Not a test file itself.

import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER_BIN = process.env.OFFRAMP_SERVER_BIN || path.join(ROOT, 'build', 'server', 'offramp-server');
export const CLI_BIN = process.env.OFFRAMP_CLI_BIN || path.join(ROOT, 'build', 'client-cli', 'offramp');
const servers = [];

after(() => {
	for (const s of servers) if (s.exitCode === null) s.kill('SIGKILL');
});

/** Polls cond() (sync or async) until it is truthy, at most ms (but
 * never less than WAIT_MIN_MS); returns its value, or throws naming desc.
 * A deadline bounds how long a failure takes to show, it measures
 * nothing: in the whole suite on two busy cores, 3 s for what takes
 * milliseconds alone ran out. */
const WAIT_MIN_MS = 15000;
export async function waitFor(cond, ms, desc) {
	ms = Math.max(ms, WAIT_MIN_MS);
	const deadline = Date.now() + ms;
	for (;;) {
		const v = await cond();
		if (v) return v;
		if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${desc}`);
		await new Promise((r) => setTimeout(r, 10));
	}
}

/**
 * A server on a free loopback port with a fresh data directory, started
 * with the extra args; or, with again (a server this made before, now
 * stopped), the same one started again on its port and data.
 * @returns {Promise<{proc, port, token, dir, url}>}
 */
export async function startServer({ again, args = [] } = {}) {
	const dir = again ? again.dir : fs.mkdtempSync(path.join(os.tmpdir(), 'offramp-live-'));
	const proc = spawn(SERVER_BIN, ['--data', path.join(dir, 'data'), '--listen', '127.0.0.1',
		'--port', again ? String(again.port) : '0', '--pow-bits', '8', '--pow-max-bits', '12', ...args],
		{ stdio: ['ignore', 'pipe', 'pipe'] });
	servers.push(proc);
	let out = '';
	proc.stdout.on('data', (d) => { out += d; });
	proc.stderr.on('data', () => {});
	const port = await waitFor(() => {
		if (proc.exitCode !== null) throw new Error('offramp-server exited at start');
		return /offramp-server: listening on port (\d+)/.exec(out)?.[1];
	}, 20000, 'the server port');
	if (again) return { ...again, proc };
	const tokenFile = await waitFor(() => /bootstrap admin token in (\S+)/.exec(out)?.[1], 10000, 'the bootstrap token');
	const token = fs.readFileSync(tokenFile, 'utf8').trim();
	after(() => fs.rmSync(dir, { recursive: true, force: true }));
	return { proc, port: Number(port), token, dir, url: `ws://127.0.0.1:${port}/` };
}

/** The CLI as identity who of srv, stdin empty: {out, err, rc}. */
export function cli(srv, who, args) {
	return new Promise((resolve) => {
		const child = execFile(CLI_BIN, ['--timeout', '15', ...args], {
			timeout: 40000,
			env: {
				PATH: process.env.PATH, HOME: srv.dir, OFFRAMP_SERVER: `ws://127.0.0.1:${srv.port}`,
				OFFRAMP_KEY: path.join(srv.dir, `${who}.key`), OFFRAMP_PASSPHRASE: `pass-${who}`,
				OFFRAMP_TRUST_FILE: path.join(srv.dir, 'trust'),
			},
		}, (err, out, errOut) => resolve({ out: String(out), err: String(errOut), rc: err ? (err.code ?? 1) : 0 }));
		child.stdin.end();
	});
}

/** cli(), asserting exit status 0; its stdout. */
export async function cliOk(srv, who, args) {
	const r = await cli(srv, who, args);
	assert.equal(r.rc, 0, `offramp ${args.join(' ')} (${who}) failed: ${r.err}`);
	return r.out;
}

/** The value of the CLI's output line "name: value". */
export const field = (text, name) => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1];

/** Admin Ada (the bootstrap token) with the programme key (programme 1); returns that key, kept as srv.programmeKey. */
export async function setupAdmin(srv) {
	await cliOk(srv, 'admin', ['keygen', '--kdf', 'min']);
	assert.equal(field(await cliOk(srv, 'admin', ['redeem', srv.token, '--name', 'Ada']), 'role'), 'admin');
	fs.writeFileSync(path.join(srv.dir, 'admin.ppass'), 'programme-pass\n');
	const key = field(await cliOk(srv, 'admin', ['programme-key', 'new', '--out', path.join(srv.dir, 'admin.pkey'),
		'--kdf', 'min', '--new-passphrase-file', path.join(srv.dir, 'admin.ppass')]), 'programme-key');
	fs.appendFileSync(path.join(srv.dir, 'trust'), `${key} the test programme\n`);
	srv.programmeKey = key;
	return key;
}

/** The options that open Ada's programme key file. */
export const signing = (dir) => ['--signing-key', path.join(dir, 'admin.pkey'),
	'--signing-passphrase-file', path.join(dir, 'admin.ppass')];

/** A CLI counsellor who, redeemed and certified by Ada; returns its key. */
export async function cliCounsellor(srv, who, name, langs) {
	const inv = (await cliOk(srv, 'admin', ['invite', '--role', 'counsellor'])).trim().split('\n').pop();
	const key = field(await cliOk(srv, who, ['keygen', '--kdf', 'min']), 'key');
	const r = await cliOk(srv, who, ['redeem', inv, '--name', name, '--languages', langs, '--topics', 'leaving']);
	assert.equal(field(r, 'role'), 'counsellor');
	assert.equal((await cliOk(srv, 'admin', ['certify', ...signing(srv.dir), name])).trim(), `certified: ${name}`);
	await counsellorUp(srv, who);
	return key;
}

/* How many times counsellor who's daemon has logged in (its log's lines). */
export function daemonLogins(srv, who) {
	const log = path.join(srv.dir, `${who}.daemon.log`);
	return (fs.readFileSync(log, 'utf8').match(/connected to/g) || []).length;
}

/**
 * Keeps CLI counsellor who connected, as a counsellor at work does: its
 * `offramp daemon --detach` (the server gives new cases only to a
 * counsellor with a connection up), stopped when the test file ends; it
 * connects again by itself when the server is started again. Resolves
 * once it is connected.
 */
export async function counsellorUp(srv, who) {
	const log = path.join(srv.dir, `${who}.daemon.log`);
	const fd = fs.openSync(log, 'w');
	const child = spawn(CLI_BIN, ['--timeout', '15', 'daemon', '--detach'], {
		stdio: ['ignore', 'pipe', fd],
		env: {
			PATH: process.env.PATH, HOME: srv.dir, OFFRAMP_SERVER: `ws://127.0.0.1:${srv.port}`,
			OFFRAMP_KEY: path.join(srv.dir, `${who}.key`), OFFRAMP_PASSPHRASE: `pass-${who}`,
			OFFRAMP_TRUST_FILE: path.join(srv.dir, 'trust'),
		},
	});
	fs.closeSync(fd);
	let out = '';
	child.stdout.on('data', (d) => { out += d; });
	const pid = Number(await waitFor(() => /^daemon: (\d+)$/m.exec(out)?.[1], 20000, `${who}'s daemon to start`));
	after(() => { try { process.kill(pid, 'SIGTERM'); } catch { /* gone already */ } });
	await waitFor(() => /connected to/.test(fs.readFileSync(log, 'utf8')), 20000, `${who}'s daemon to connect`);
	return pid;
}
