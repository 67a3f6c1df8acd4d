// The message catalogues: the same keys in every language, the same
// placeholders, and every key the views use exists.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOGUES, pickLanguage, setLanguage, t, dir } from '../src/i18n/index.js';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src');
const vars = (s) => [...s.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).sort();

test('every catalogue has exactly the English keys, with the same placeholders', () => {
	const en = CATALOGUES.en;
	for (const [lang, cat] of Object.entries(CATALOGUES)) {
		assert.deepEqual(Object.keys(cat).sort(), Object.keys(en).sort(), lang);
		for (const k of Object.keys(en)) {
			assert.ok(cat[k].trim().length > 0, `${lang}.${k} empty`);
			assert.deepEqual(vars(cat[k]), vars(en[k]), `${lang}.${k} placeholders`);
		}
	}
});

test('every literal key the page uses is in the catalogue', () => {
	const files = [];
	const walk = (d) => {
		for (const e of fs.readdirSync(d, { withFileTypes: true })) {
			const p = path.join(d, e.name);
			if (e.isDirectory()) walk(p);
			else if (p.endsWith('.js') && !p.includes(`${path.sep}i18n${path.sep}`) &&
				!p.includes(`${path.sep}proto${path.sep}`)) files.push(p);
		}
	};
	walk(path.join(SRC, 'app'));
	walk(path.join(SRC, 'ui'));
	const used = new Set();
	for (const f of files) {
		const s = fs.readFileSync(f, 'utf8');
		for (const m of s.matchAll(/\bt\('([a-z_0-9-]+)'/g)) used.add(m[1]);
		for (const m of s.matchAll(/(?:fail|key:\s*)\(?'((?:err|notice)_[a-z_]+)'/g)) used.add(m[1]);
		for (const m of s.matchAll(/btn\('([a-z_]+)'/g)) used.add(m[1]);
	}
	const missing = [...used].filter((k) => !(k in CATALOGUES.en));
	assert.deepEqual(missing, []);
	assert.ok(used.size > 100);
});

test('the language follows the browser, Arabic is right to left', () => {
	assert.equal(pickLanguage(['de-AT', 'en']), 'de');
	assert.equal(pickLanguage(['fr', 'ar-EG']), 'ar');
	assert.equal(pickLanguage(['fr']), 'en');
	assert.equal(pickLanguage([]), 'en');
	assert.equal(dir('ar'), 'rtl');
	assert.equal(dir('de'), 'ltr');
	setLanguage('de', null);
	assert.equal(t('send'), 'Senden');
	assert.equal(t('conv_with', { name: 'Sam' }), 'Gespräch mit Sam');
	setLanguage('en', null);
});
