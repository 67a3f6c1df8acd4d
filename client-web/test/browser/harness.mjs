// harness.mjs: what the browser tests share. It builds the page (once, when
// the sources are newer than dist/), starts the real offramp-server on a
// free loopback port with a temporary data directory and --web dist/, sets
// up an admin and a certified counsellor with the real CLI (as
// tests/integration/lib.sh does), and launches Debian's chromium through
// playwright-core (nothing downloads a browser). Every wait has a deadline.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO = path.resolve(WEB_ROOT, '..');
export const DIST = path.join(WEB_ROOT, 'dist');
export const SERVER_BIN = process.env.OFFRAMP_SERVER_BIN || path.join(REPO, 'build/server/offramp-server');
export const CLI_BIN = process.env.OFFRAMP_CLI_BIN || path.join(REPO, 'build/client-cli/offramp');
export const SHOTS = process.env.OFFRAMP_SHOTS_DIR || path.join(REPO, 'build/web-screenshots');
export const EXIT_URL = 'https://www.bbc.com/weather';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Waits until fn() returns something truthy (awaited); throws after ms. */
export async function waitFor(desc, fn, ms = 15000) {
	const end = Date.now() + ms;
	let last;
	for (;;) {
		try {
			const v = await fn();
			if (v) return v;
		} catch (e) {
			last = e;
		}
		if (Date.now() > end)
			throw new Error(`timed out after ${ms} ms waiting for ${desc}${last ? `: ${last.message}` : ''}`);
		await sleep(40);
	}
}

function newestMtime(dir) {
	let m = 0;
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		m = Math.max(m, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
	}
	return m;
}

/* Builds dist/ when it is missing or older than src/ or build.mjs. */
export function ensureBuilt() {
	const stamp = path.join(DIST, 'BUNDLE-HASH');
	const src = Math.max(newestMtime(path.join(WEB_ROOT, 'src')),
		fs.statSync(path.join(WEB_ROOT, 'build.mjs')).mtimeMs);
	if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= src) return;
	const lock = path.join(WEB_ROOT, '.build-lock');
	const end = Date.now() + 60000;
	for (;;) {
		try {
			fs.mkdirSync(lock);
			break;
		} catch {
			if (Date.now() > end) throw new Error('build lock held too long');
			spawnSync('sleep', ['0.1']);
		}
	}
	try {
		if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= src) return;
		const r = spawnSync(process.execPath, ['build.mjs'], { cwd: WEB_ROOT, encoding: 'utf8' });
		if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
		process.stdout.write(r.stdout);
	} finally {
		fs.rmdirSync(lock);
	}
}

/* A temporary directory for one test file, removed by env.close(). */
export function tmpDir(name) {
	return fs.mkdtempSync(path.join(os.tmpdir(), `offramp-web-${name}-`));
}

/* Starts offramp-server on data dir, with more options args; resolves
 * {proc, port, token, out}. Port 0: a random free port below the OS's
 * ephemeral range (32768-60999 on Linux), so that no client connection is
 * ever given it as its local port while the server restarts on it. */
export async function startServer(data, port = 0, web = DIST, args = []) {
	if (port !== 0) return startOn(data, port, web, args);
	for (let tries = 0; ; tries++) {
		try {
			return await startOn(data, 10000 + crypto.randomInt(22768), web, args);
		} catch (e) {
			if (tries >= 25 || !/server exited/.test(String(e.message))) throw e;	// the port taken, or its stderr not read yet
		}
	}
}

async function startOn(data, port, web, args) {
	const proc = spawn(SERVER_BIN, ['--data', data, '--listen', '127.0.0.1', '--port', String(port),
		'--web', web, '--pow-bits', '8', '--pow-max-bits', '12', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	const srv = { proc, port: 0, token: '', out: '', err: '', exited: false };
	proc.stdout.on('data', (d) => (srv.out += d));
	proc.stderr.on('data', (d) => (srv.err += d));
	proc.on('exit', () => (srv.exited = true));
	await waitFor('offramp-server to print its port', () => {
		if (srv.exited) throw new Error(`server exited: ${srv.err}`);
		return /listening on port (\d+)/.test(srv.out);
	}, 20000);
	srv.port = Number(/listening on port (\d+)/.exec(srv.out)[1]);
	const tok = /bootstrap admin token in (\S+)/.exec(srv.out);
	srv.token = tok ? fs.readFileSync(tok[1], 'utf8').trim() : '';
	return srv;
}

export async function stopServer(srv, signal = 'SIGTERM') {
	if (srv.exited) return;
	srv.proc.kill(signal);
	await waitFor('offramp-server to exit', () => srv.exited, 20000);
}

/* Under the sanitizers, a one-shot CLI command skips LeakSanitizer's scan
 * at exit and keeps no stack of each allocation (as lib.sh's cli does):
 * every bad access is still caught; the server and the daemons keep both.
 * And, as in the integration tests about the server, the set-up's and
 * the admin's commands run the release build's CLI when tests/run.sh
 * names it (OFFRAMP_CLI_DRIVER_BIN): a sanitized command cost some 45 ms
 * of CPU against 15, most of 246 in a run. Those that read or write what
 * the page reads or wrote (sessions, messages, meetings, safety numbers)
 * and the daemons stay this build's: the sanitizers watch the C client
 * reading the web client's bundles and ciphertext. */
const ONE_SHOT_ASAN = [process.env.ASAN_OPTIONS, 'detect_leaks=0:malloc_context_size=0']
	.filter(Boolean).join(':');
const SETUP_VERBS = new Set(['keygen', 'redeem', 'programme-key', 'invite', 'certify', 'profile']);
const cliBin = (args) => (SETUP_VERBS.has(args[0]) && process.env.OFFRAMP_CLI_DRIVER_BIN) || CLI_BIN;

/* The CLI as identity who (key file ids/who.key, passphrase pass-who). */
export function cli(env, who, args, input) {
	let key = path.join(env.ids, `${who}.key`);
	if (args[0] === 'raw' && fs.existsSync(`${key}.d/sock`)) {
		// raw never runs through a daemon: beside one, it logs in from a
		// copy of the key file, a second connection of the same account
		fs.copyFileSync(key, path.join(env.ids, `${who}.raw.key`));
		key = path.join(env.ids, `${who}.raw.key`);
	}
	const r = spawnSync(cliBin(args), ['--server', `ws://127.0.0.1:${env.srv.port}`,
		'--key', key, '--timeout', '20', ...args], {
		encoding: 'utf8', input, timeout: 60000,
		env: { PATH: process.env.PATH, OFFRAMP_PASSPHRASE: `pass-${who}`,
			OFFRAMP_TRUST_FILE: path.join(env.ids, 'trust'), ASAN_OPTIONS: ONE_SHOT_ASAN },
	});
	return { code: r.status, out: r.stdout || '', err: r.stderr || '' };
}

/* Ada certifies the counsellor named name with the programme key file. */
export function certify(env, name) {
	return cliOk(env, 'admin', ['certify', '--signing-key', path.join(env.ids, 'admin.pkey'),
		'--signing-passphrase-file', path.join(env.ids, 'admin.ppass'), name]);
}

/* As cli, but throws unless the command succeeds; returns stdout. */
export function cliOk(env, who, args, input) {
	const r = cli(env, who, args, input);
	if (r.code !== 0) throw new Error(`offramp ${args.join(' ')} (${who}): exit ${r.code}: ${r.err}${r.out}`);
	return r.out;
}

export const field = (text, name) => {
	const m = new RegExp(`^${name}: (.*)$`, 'm').exec(text);
	return m ? m[1] : '';
};

/*
 * A server with a pool: the admin Ada (bootstrap token, programme key) and,
 * unless counsellor is false, the certified counsellor Sam (languages en,
 * topics leaving). Unless pinned is false the page is built with the
 * programme's key in it (OFFRAMP_PIN_PROGRAMMES), as an operator does;
 * without it the page asks the user before it trusts the key. Resolves
 * env {dir, data, ids, srv, url, programmeKey}.
 */
export async function setupPool(name, { counsellor = true, tmpfs = null, pinned = true, serverArgs = [] } = {}) {
	ensureBuilt();
	const dir = tmpDir(name);
	const env = { dir, data: path.join(dir, 'data'), ids: path.join(dir, 'id'), serverArgs };
	fs.mkdirSync(env.ids);
	if (tmpfs) {
		// a small file system of its own for the data: a disk that can be filled
		fs.mkdirSync(env.data, { mode: 0o700 });
		const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${tmpfs},mode=0700`, 'tmpfs', env.data], { encoding: 'utf8' });
		if (r.status !== 0) {
			fs.rmSync(dir, { recursive: true, force: true });
			return { skip: `cannot mount a tmpfs (${(r.stderr || '').trim()})` };
		}
		env.mounted = true;
	}
	env.srv = await startServer(env.data, 0, DIST, serverArgs);
	env.url = `http://127.0.0.1:${env.srv.port}/`;
	assert.ok(env.srv.token, 'the server printed a bootstrap token');
	cliOk(env, 'admin', ['keygen', '--kdf', 'min']);
	assert.equal(field(cliOk(env, 'admin', ['redeem', env.srv.token, '--name', 'Ada']), 'role'), 'admin');
	fs.writeFileSync(path.join(env.ids, 'admin.ppass'), 'programme-pass\n');
	env.programmeKey = field(cliOk(env, 'admin', ['programme-key', 'new', '--out', path.join(env.ids, 'admin.pkey'),
		'--kdf', 'min', '--new-passphrase-file', path.join(env.ids, 'admin.ppass')]), 'programme-key');
	fs.appendFileSync(path.join(env.ids, 'trust'), `${env.programmeKey} the test programme\n`);
	if (counsellor) {
		const inv = newInvite(env);
		cliOk(env, 'couns', ['keygen', '--kdf', 'min']);
		assert.equal(field(cliOk(env, 'couns', ['redeem', inv, '--name', 'Sam', '--languages', 'en',
			'--topics', 'leaving']), 'role'), 'counsellor');
		assert.match(certify(env, 'Sam'), /certified: Sam/);
	}
	if (pinned) {
		buildInto(path.join(dir, 'dist'), { OFFRAMP_PIN_PROGRAMMES: `1:${env.programmeKey}` });
		await serveBuild(env, path.join(dir, 'dist'));
	}
	if (counsellor) await counsellorUp(env, 'couns');
	env.close = async () => {
		for (const pid of env.daemons || []) {
			try { process.kill(pid, 'SIGTERM'); } catch { /* gone already */ }
		}
		for (const ctx of env.contexts || []) await ctx.close().catch(() => {});
		if (env.browser && !keep) await closeBrowser();
		await stopServer(env.srv, 'SIGKILL').catch(() => {});
		if (env.mounted) spawnSync('umount', [env.data]);
		fs.rmSync(dir, { recursive: true, force: true });
	};
	return env;
}

/*
 * Keeps CLI counsellor who connected, as a counsellor at work does: its
 * `offramp daemon --detach` (the server gives new cases only to a
 * counsellor with a connection up). Its log is ids/who.daemon.log;
 * env.close stops it. Resolves once it is connected.
 */
export async function counsellorUp(env, who) {
	const log = path.join(env.ids, `${who}.daemon.log`);
	const fd = fs.openSync(log, 'w');
	const r = spawnSync(CLI_BIN, ['--server', `ws://127.0.0.1:${env.srv.port}`,
		'--key', path.join(env.ids, `${who}.key`), '--timeout', '20', 'daemon', '--detach'], {
		encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', fd],
		env: { PATH: process.env.PATH, OFFRAMP_PASSPHRASE: `pass-${who}`,
			OFFRAMP_TRUST_FILE: path.join(env.ids, 'trust') },
	});
	fs.closeSync(fd);
	const pid = Number(field(r.stdout || '', 'daemon'));
	assert.ok(r.status === 0 && pid > 0, `${who}'s daemon started: ${fs.readFileSync(log, 'utf8')}`);
	(env.daemons ||= []).push(pid);
	(env.daemonLogs ||= []).push(log);
	await waitFor(`${who}'s daemon to connect`, () => connections(log) > 0);
	return pid;
}

export function newInvite(env, role = 'counsellor') {
	const inv = cliOk(env, 'admin', ['invite', '--role', role]).trim().split('\n').pop();
	assert.ok(inv, 'the admin made an invite');
	return inv;
}

/* Starts the server again on the same data and port (the page reconnects to its own origin). */
export async function restartServer(env) {
	const end = Date.now() + 15000;
	const logs = (env.daemonLogs || []).map((f) => [f, connections(f)]);
	for (;;) {
		try {
			env.srv = await startServer(env.data, env.srv.port, env.web, env.serverArgs);
			break;
		} catch (e) {
			if (Date.now() > end) throw e;	// the port may linger a moment
			await sleep(100);
		}
	}
	// the counsellors' daemons connect again by themselves
	for (const [f, n] of logs)
		await waitFor(`the daemon of ${path.basename(f)} to connect again`, () => connections(f) > n, 40000);
	return env.srv;
}

/* The connections a daemon's log tells of. */
function connections(log) {
	return (fs.readFileSync(log, 'utf8').match(/connected to/g) || []).length;
}

/*
 * Chromium 156's headless mode gives each context's window two omnibox
 * popup pages (chrome://omnibox-popup.top-chrome/ and its AI mode page)
 * in a renderer of their own, about a fifth of a browser test's CPU; these
 * three features off, there are none. Chromium takes the last
 * --disable-features alone, and Playwright passes its own list: ours is
 * that list and these, the list read from the installed playwright-core
 * (its lockfile's version), and a launch fails loudly if it is not found.
 */
const NO_POPUPS = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup', 'WebUIOmniboxFullPopup'];
/* Nor does a test need the spare renderer that Chromium starts beside each
 * new context for its next site: the tests close a context rather than
 * navigate it to another site, so it was started and never used (20
 * contexts of a page each: 47 processes and 14.9 CPU s with it, 37 and
 * 11.3 without, medians of 4 runs). */
const NO_SPARE = ['SpareRendererForSitePerProcess'];
let disabledFeatures = null;
function disableFeatures() {
	if (disabledFeatures) return disabledFeatures;
	const src = fs.readFileSync(path.join(WEB_ROOT, 'node_modules/playwright-core/lib/coreBundle.js'), 'utf8');
	const m = /\bdisabledFeatures = \[([^\]]*)\]\.filter\(Boolean\)/.exec(src);
	if (!m) throw new Error('playwright-core: its list of disabled Chromium features is not where harness.mjs reads it');
	const theirs = [...m[1].matchAll(/"([A-Za-z0-9]+)"/g)].map((x) => x[1]);
	if (theirs.length === 0) throw new Error('playwright-core: its list of disabled Chromium features is empty');
	disabledFeatures = `--disable-features=${[...theirs, ...NO_POPUPS, ...NO_SPARE].join(',')}`;
	return disabledFeatures;
}

/*
 * One Chromium for the test files of a process: run.mjs runs a group of
 * files in one process, each file's env with contexts of its own in it
 * (each a fresh profile: storage, cache and cookies of its own); a launch
 * cost some 1.5 CPU s, and each process's load of playwright-core 0.9.
 * A file run alone (node --test FILE) closes it with its env.
 */
let browser = null;
let keep = false;

export async function launch(env) {
	if (!browser || !browser.isConnected()) {
		browser = await chromium.launch({
			executablePath: '/usr/bin/chromium',
			args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
				'--disable-background-networking', '--disable-component-update', '--disable-sync',
				disableFeatures()],
		});
	}
	env.browser = browser;
	env.contexts = [];
	return browser;
}

/* run.mjs: the browser stays open for the next file, until closeBrowser. */
export function keepBrowser() {
	keep = true;
}

export async function closeBrowser() {
	const b = browser;
	browser = null;
	if (b) await b.close().catch(() => {});
}

/*
 * A new page of a new context at 360×740 (touch: used by touch, as a
 * phone is: its primary pointer coarse), with a guard that records every
 * request to another origin than the server's (quick exit's neutral URL is
 * answered here by page.route, so no real outside request is made, but it
 * is still recorded as foreign unless allowExit).
 */
export async function newPage(env, { locale = 'en-GB', allowExit = false, touch = false } = {}) {
	const ctx = await env.browser.newContext({ viewport: { width: 360, height: 740 }, locale, hasTouch: touch });
	env.contexts.push(ctx);
	const page = await ctx.newPage();
	page.foreign = [];
	page.exits = [];
	const origin = new URL(env.url).origin;
	page.on('request', (req) => {
		const u = req.url();
		if (u.startsWith('data:') || u.startsWith('blob:')) return;
		if (new URL(u).origin === origin) return;
		if (allowExit && u.startsWith(EXIT_URL)) return;
		page.foreign.push(u);
	});
	await ctx.route((url) => url.origin !== origin, (route) => {
		page.exits.push(route.request().url());
		route.fulfill({ status: 200, contentType: 'text/html', body: '<title>Weather</title><p>weather</p>' });
	});
	page.errors = [];
	page.on('pageerror', (e) => page.errors.push(String(e)));
	page.on('console', (m) => {
		if (m.type() === 'error') page.errors.push(m.text());
		if (process.env.OFFRAMP_TEST_VERBOSE) console.log(`[page] ${m.text()}`);
	});
	return page;
}

/* Whether the element matched is on screen: below the sticky bar, above
 * the viewport's bottom. */
export function inView(page, selector) {
	return page.locator(selector).evaluate((el) => {
		const r = el.getBoundingClientRect();
		const bar = document.querySelector('header.sticky').getBoundingClientRect();
		return r.height > 0 && r.top >= bar.bottom - 1 && r.bottom <= window.innerHeight + 1;
	});
}

let axeSource = null;
/*
 * Runs axe-core on the page and fails on any serious or critical
 * violation. axe is injected with page.evaluate of its source: that goes
 * through the DevTools protocol, which the page's CSP does not govern
 * (addScriptTag would add an inline script, which the CSP refuses).
 */
export async function axe(page, screen) {
	if (!axeSource) axeSource = fs.readFileSync(path.join(WEB_ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
	const has = await page.evaluate(() => typeof window.axe === 'object');
	if (!has) await page.evaluate(axeSource);
	const res = await page.evaluate(async () => {
		const r = await window.axe.run(document, { resultTypes: ['violations'] });
		return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
	});
	const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	assert.deepEqual(bad, [], `axe on "${screen}": serious or critical violations`);
	return res;
}

/* A 360×740 screenshot (the viewport) under build/web-screenshots/. */
export async function shot(page, name) {
	fs.mkdirSync(SHOTS, { recursive: true });
	await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
	if (process.env.OFFRAMP_SHOTS_FULL)
		await page.screenshot({ path: path.join(SHOTS, `${name}-full.png`), fullPage: true });
}

/* A counsellor joins in the page with an invite (by default the first
 * programme's admin's); resolves when the inbox shows. */
export async function webJoin(page, env, { name = 'Rae', languages = 'en', topics = 'leaving', pass = 'counsellor pass 1', invite = newInvite(env) } = {}) {
	await page.goto(env.url);
	await page.getByRole('button', { name: 'I am a counsellor' }).click();
	await page.getByRole('textbox', { name: 'Invite', exact: true }).fill(invite);
	await page.getByLabel('Display name').fill(name);
	await page.getByLabel('Languages you speak').fill(languages);
	await page.getByLabel('Topics you take').fill(topics);
	await page.getByLabel('Passphrase').fill(pass);
	await page.getByRole('button', { name: 'Join', exact: true }).click();
	await expectHeading(page, 'Inbox');
}

/* The first case id of `offramp cases` as identity who. */
export function cliCases(env, who) {
	return cliOk(env, who, ['cases']).trim().split('\n').filter(Boolean);
}

/* Waits for a heading; on failure the error says what the page shows. */
export async function expectHeading(page, name, timeout = 20000) {
	try {
		await page.getByRole('heading', { name }).waitFor({ timeout });
	} catch (e) {
		const text = await page.locator('main').innerText().catch(() => '?');
		throw new Error(`heading "${name}" did not come; the page shows:\n${text.slice(0, 1500)}\nerrors: ${page.errors.join(' | ')}`);
	}
}

/* Builds the page into dir with extra environment (e.g. pinned programme keys). */
export function buildInto(dir, extraEnv) {
	const r = spawnSync(process.execPath, ['build.mjs'], {
		cwd: WEB_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, OFFRAMP_DIST: dir, ...extraEnv },
	});
	if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
	return r.stdout;
}

/* Serves another build: the server is started again on the same data, with --web dir. */
export async function serveBuild(env, dir) {
	await stopServer(env.srv);
	env.web = dir;
	await restartServer(env);
	env.url = `http://127.0.0.1:${env.srv.port}/`;
}
