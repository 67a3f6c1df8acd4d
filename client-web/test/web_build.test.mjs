// The build: reproducible (two builds give identical files), SRI on every
// script and style of index.html, one bundle hash over the sorted file
// hashes, pinned programme keys built in from the environment, no inline
// script or style, and a first load under 300 kB compressed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'offramp-build-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function build(name, env = {}) {
	const out = path.join(tmp, name);
	const r = spawnSync(process.execPath, ['build.mjs'], {
		cwd: ROOT, encoding: 'utf8',
		env: { PATH: process.env.PATH, OFFRAMP_DIST: out, ...env },
	});
	return { out, code: r.status, log: r.stdout + r.stderr };
}
const read = (dir, f) => fs.readFileSync(path.join(dir, f));
const files = (dir) => fs.readdirSync(dir).sort();

test('two builds of the same sources are identical, and the hash is printed', () => {
	const a = build('a');
	const b = build('b');
	assert.equal(a.code, 0, a.log);
	assert.equal(b.code, 0, b.log);
	assert.deepEqual(files(a.out), files(b.out));
	for (const f of files(a.out)) assert.deepEqual(read(a.out, f), read(b.out, f), f);
	const hash = read(a.out, 'BUNDLE-HASH').toString().trim();
	assert.match(hash, /^[0-9a-f]{64}$/);
	assert.ok(a.log.includes(`bundle hash (sha256 of dist/SHA256SUMS): ${hash}`), a.log);
	const first = /first load (\d+) bytes gzip/.exec(a.log);
	assert.ok(first && Number(first[1]) < 300 * 1024, a.log);
	console.log(a.log.trim());
});

test('the bundle hash is sha256 over the sorted "hash  name" lines of every file', () => {
	const { out } = build('c');
	const names = files(out).filter((f) => f !== 'BUNDLE-HASH' && f !== 'SHA256SUMS');
	const sums = names.map((n) => `${createHash('sha256').update(read(out, n)).digest('hex')}  ${n}\n`).join('');
	assert.equal(read(out, 'SHA256SUMS').toString(), sums);
	assert.equal(read(out, 'BUNDLE-HASH').toString().trim(), createHash('sha256').update(sums).digest('hex'));
});

test('index.html loads only files of the bundle, each with a matching sha384 SRI, nothing inline', () => {
	const { out } = build('d');
	const html = read(out, 'index.html').toString();
	const refs = [...html.matchAll(/<(script|link)\b[^>]*>/g)].map((m) => m[0])
		.filter((tag) => !/rel="icon"/.test(tag));
	assert.equal(refs.length, 3, html);
	for (const tag of refs) {
		const src = /(?:src|href)="([^"]+)"/.exec(tag)[1];
		const sri = /integrity="sha384-([^"]+)"/.exec(tag);
		assert.ok(sri, `no SRI on ${tag}`);
		assert.equal(sri[1], createHash('sha384').update(read(out, src)).digest('base64'), src);
	}
	assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/);
	assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/);
	assert.doesNotMatch(html, /https?:\/\//, 'no other origin named');
	const app = read(out, 'app.js').toString();
	assert.doesNotMatch(app, /\beval\(|new Function\(/);
	assert.doesNotMatch(app, /localStorage|sessionStorage|document\.cookie|serviceWorker/);
});

test('pinned programme keys from the environment are built in and change the hash', () => {
	const key = Buffer.alloc(32, 7).toString('base64');
	const plain = build('e');
	const pinned = build('f', { OFFRAMP_PIN_PROGRAMMES: `1:${key}` });
	assert.equal(pinned.code, 0, pinned.log);
	assert.match(pinned.log, /programme pins built in: 1/);
	assert.ok(read(pinned.out, 'app.js').toString().includes(key));
	assert.notEqual(read(plain.out, 'BUNDLE-HASH').toString(), read(pinned.out, 'BUNDLE-HASH').toString());
	const pinFile = path.join(tmp, 'pins.txt');
	fs.writeFileSync(pinFile, `# programme keys\n1:${key}\n`);
	const fromFile = build('g', { OFFRAMP_PIN_FILE: pinFile });
	assert.deepEqual(read(fromFile.out, 'app.js'), read(pinned.out, 'app.js'));
	const bad = build('h', { OFFRAMP_PIN_PROGRAMMES: '1:notakey' });
	assert.notEqual(bad.code, 0);
	assert.match(bad.log, /bad programme pin/);
	const badUrl = build('i', { OFFRAMP_EXIT_URL: 'http://example.org/' });
	assert.notEqual(badUrl.code, 0);
});
