// The message catalogues: the same keys in every language, the same
// placeholders, and every key the views use exists.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOGUES, pickLanguage, setLanguage, t, dir, VAR_MAX } from '../src/i18n/index.js';

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

test('a value in a sentence is isolated: its direction and its controls stay inside; a long one is cut', () => {
	setLanguage('en', null);
	// a place from a peer that would turn the rest of the line around
	const s = t('meet_when_where', { when: '6 Dec, 10:00', place: 'Caf\u00e9 \u202emiddle' });
	assert.ok(s.includes('\u2068Caf\u00e9 \ufffdmiddle\u2069'), 'the place is between FSI and PDI, its override shown as U+FFFD');
	// a PDI of its own would close the isolate early: the override after
	// it would turn what follows
	const early = t('meet_when_where', { when: '6 Dec, 10:00', place: 'x\u2069\u202ey' });
	assert.equal(early.match(/[\u2066-\u2069\u202a-\u202e]/g).join(''), '\u2068\u2069', 'one FSI and one PDI, nothing else');
	// an Arabic name in an English sentence, a Latin one in an Arabic sentence
	assert.equal(t('conv_with', { name: '\u0633\u0627\u0645 (2)' }), 'Talking with \u2068\u0633\u0627\u0645 (2)\u2069');
	assert.equal(t('conv_with', { name: 'Sam' }), 'Talking with Sam', 'nothing to isolate: as it is');
	setLanguage('ar', null);
	assert.ok(t('conv_with', { name: 'Sam (2)' }).includes('\u2068Sam (2)\u2069'));
	assert.equal(t('minutes', { n: 5 }).includes('\u2068'), false, 'a number goes in as it is');
	setLanguage('en', null);
	const long = t('conv_with', { name: 'x'.repeat(VAR_MAX + 100) });
	assert.ok(long.endsWith(`${'x'.repeat(VAR_MAX)}\u2026`) && !long.includes('x'.repeat(VAR_MAX + 1)));
});
