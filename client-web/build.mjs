// build.mjs: builds the web client into dist/ (npm run build).
//
// It owns the shape of what the server serves with --web: index.html, the
// application (app.js), its style (app.css), libsodium's WebAssembly module
// (sodium.js) and a favicon, nothing else. It must stay reproducible: two
// builds of one commit with the same environment give byte-identical files
// (no time, no absolute path, no random name), so that anyone can rebuild
// and compare with the hash the operator publishes.
//
//   dist/SHA256SUMS   "<sha256 hex>  <name>" per file, sorted by name (C locale)
//   dist/BUNDLE-HASH  sha256 of SHA256SUMS: the one hash to publish; check with
//                     (cd dist && sha256sum $(LC_ALL=C ls | grep -v -e BUNDLE-HASH -e SHA256SUMS) | sha256sum)
//
// Environment (optional):
//   OFFRAMP_PIN_PROGRAMMES  "id:base64key,id:base64key": programme signing keys
//                           built into the bundle: the client's trust anchors
//                           (any other key is used only once the user accepts it)
//   OFFRAMP_PIN_FILE        a file with the same, one "id:base64key" per line
//   OFFRAMP_EXIT_URL        where quick exit goes (https only)
//   OFFRAMP_DIST            another output directory (tests)

import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const DIST = process.env.OFFRAMP_DIST ? path.resolve(process.env.OFFRAMP_DIST) : path.join(ROOT, 'dist');
const SODIUM_FILE = 'sodium.js';
const DEFAULT_EXIT_URL = 'https://www.bbc.com/weather';
const BUDGET = 300 * 1024;

function fail(msg) {
	console.error(`build: ${msg}`);
	process.exit(1);
}

/* Programme pins from the environment: [[id, base64key], ...], sorted by id. */
export function parsePins(text) {
	const pins = [];
	for (const item of text.replace(/#[^\n]*/g, '').split(/[\s,]+/)) {
		if (item === '') continue;
		const m = /^([0-9]{1,15}):([A-Za-z0-9+/]{43}=)$/.exec(item);
		if (!m) throw new Error(`bad programme pin "${item}" (want id:base64key)`);
		if (Buffer.from(m[2], 'base64').length !== 32)
			throw new Error(`programme pin ${m[1]}: key is not 32 bytes`);
		if (pins.some((p) => p[0] === Number(m[1])))
			throw new Error(`programme ${m[1]} pinned twice`);
		pins.push([Number(m[1]), m[2]]);
	}
	return pins.sort((a, b) => a[0] - b[0]);
}

function readPins() {
	let text = process.env.OFFRAMP_PIN_PROGRAMMES || '';
	if (process.env.OFFRAMP_PIN_FILE)
		text += '\n' + fs.readFileSync(process.env.OFFRAMP_PIN_FILE, 'utf8');
	try {
		return parsePins(text);
	} catch (e) {
		fail(e.message);
	}
}

function exitUrl() {
	const u = process.env.OFFRAMP_EXIT_URL || DEFAULT_EXIT_URL;
	let url;
	try {
		url = new URL(u);
	} catch {
		fail(`OFFRAMP_EXIT_URL is not a URL: ${u}`);
	}
	if (url.protocol !== 'https:') fail('OFFRAMP_EXIT_URL must be https');
	return url.href;
}

const sha = (alg, buf, enc) => createHash(alg).update(buf).digest(enc);
const sri = (buf) => `sha384-${sha('sha384', buf, 'base64')}`;

// libsodium's wrappers import "libsodium-sumo" (the WebAssembly module, with
// its wasm inlined); it becomes its own file so that the application's size
// can be told apart from libsodium's, and is fetched with its own SRI hash.
const sodiumExternal = {
	name: 'sodium-external',
	setup(b) {
		b.onResolve({ filter: /^libsodium-sumo$/ }, () => ({
			path: `./${SODIUM_FILE}`,
			external: true,
		}));
	},
};

const common = {
	bundle: true,
	minify: true,
	format: 'esm',
	target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
	platform: 'browser',
	legalComments: 'eof',
	charset: 'utf8',
	write: false,
	logLevel: 'warning',
	absWorkingDir: ROOT,
};

async function build() {
	const pins = readPins();
	fs.rmSync(DIST, { recursive: true, force: true });
	fs.mkdirSync(DIST);

	const app = await esbuild.build({
		...common,
		entryPoints: ['src/main.js'],
		outfile: 'dist/app.js',
		plugins: [sodiumExternal],
		define: {
			__OFFRAMP_PINS__: JSON.stringify(pins),
			__OFFRAMP_EXIT_URL__: JSON.stringify(exitUrl()),
		},
	});
	const sodium = await esbuild.build({
		...common,
		entryPoints: ['node_modules/libsodium-sumo/dist/modules-sumo-esm/libsodium-sumo.mjs'],
		outfile: `dist/${SODIUM_FILE}`,
	});
	const css = await esbuild.build({
		...common,
		entryPoints: ['src/ui/style.css'],
		outfile: 'dist/app.css',
		loader: { '.css': 'css' },
	});
	const files = new Map();
	const one = (res) => {
		if (res.outputFiles.length !== 1) fail('unexpected esbuild outputs');
		return Buffer.from(res.outputFiles[0].contents);
	};
	files.set('app.js', one(app));
	files.set(SODIUM_FILE, one(sodium));
	files.set('app.css', one(css));
	files.set('favicon.svg', fs.readFileSync(path.join(ROOT, 'src/ui/favicon.svg')));
	for (const [name, buf] of files)
		if (/\beval\(|new Function\(/.test(buf.toString('latin1')) && name !== SODIUM_FILE)
			fail(`${name} contains eval or new Function`);

	let html = fs.readFileSync(path.join(ROOT, 'src/index.html'), 'utf8');
	const refs = {
		'{{APP_CSS}}': `<link rel="stylesheet" href="app.css" integrity="${sri(files.get('app.css'))}">`,
		'{{SODIUM_PRELOAD}}': `<link rel="modulepreload" href="${SODIUM_FILE}" integrity="${sri(files.get(SODIUM_FILE))}">`,
		'{{APP_JS}}': `<script type="module" src="app.js" integrity="${sri(files.get('app.js'))}"></script>`,
	};
	for (const [k, v] of Object.entries(refs)) {
		if (!html.includes(k)) fail(`src/index.html lacks ${k}`);
		html = html.replace(k, v);
	}
	if (/<script(?![^>]*\bsrc=)/i.test(html) || /<style|\sstyle=|\son[a-z]+=/i.test(html))
		fail('index.html must have no inline script or style');
	files.set('index.html', Buffer.from(html, 'utf8'));

	const names = [...files.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
	let sums = '';
	for (const n of names) {
		fs.writeFileSync(path.join(DIST, n), files.get(n));
		sums += `${sha('sha256', files.get(n), 'hex')}  ${n}\n`;
	}
	fs.writeFileSync(path.join(DIST, 'SHA256SUMS'), sums);
	const bundleHash = sha('sha256', Buffer.from(sums), 'hex');
	fs.writeFileSync(path.join(DIST, 'BUNDLE-HASH'), bundleHash + '\n');

	const gz = (n) => gzipSync(files.get(n), { level: 9 }).length;
	const firstLoad = ['index.html', 'app.js', 'app.css', 'favicon.svg'].reduce((s, n) => s + gz(n), 0);
	console.log(`build: ${names.length} files in dist/: ${names.join(' ')}`);
	console.log(`build: programme pins built in: ${pins.length ? pins.map((p) => p[0]).join(',') : 'none'}`);
	console.log(`build: first load ${firstLoad} bytes gzip (budget ${BUDGET}), ` +
		`excluding libsodium's wasm module ${SODIUM_FILE} (${gz(SODIUM_FILE)} bytes gzip)`);
	console.log(`build: bundle hash (sha256 of dist/SHA256SUMS): ${bundleHash}`);
	if (firstLoad > BUDGET) fail(`first load ${firstLoad} bytes is over the ${BUDGET}-byte budget`);
	return { bundleHash, firstLoad };
}

if (process.argv[1] === fileURLToPath(import.meta.url))
	await build();
