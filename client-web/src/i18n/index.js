// i18n: every string a user reads comes from these catalogues (en, de, ar).
// t(key, vars) looks the key up in the current language, then in English;
// "{name}" in a string is replaced by vars.name (as text: views put it in
// textContent, never in HTML; a string isolated, see isolate). The language follows navigator.languages
// until the user picks one in the page.

import en from './en.js';
import de from './de.js';
import ar from './ar.js';

export const CATALOGUES = { en, de, ar };
export const LANGUAGES = ['en', 'de', 'ar'];
const RTL = new Set(['ar']);

let current = 'en';

/* The first of the browser's languages we have, else English. */
export function pickLanguage(prefs) {
	for (const p of prefs || []) {
		const base = String(p).toLowerCase().split('-')[0];
		if (LANGUAGES.includes(base)) return base;
	}
	return 'en';
}

export function setLanguage(lang, doc = globalThis.document) {
	current = LANGUAGES.includes(lang) ? lang : 'en';
	if (doc) {
		doc.documentElement.lang = current;
		doc.documentElement.dir = dir(current);
		doc.title = t('page_title');
	}
	return current;
}

export const language = () => current;
export const dir = (lang = current) => (RTL.has(lang) ? 'rtl' : 'ltr');

export function t(key, vars) {
	let s = CATALOGUES[current][key];
	if (s === undefined) s = en[key];
	if (s === undefined) return key;
	if (vars) s = s.replace(/\{([a-z_]+)\}/g, (m, k) => (vars[k] !== undefined ? isolate(vars[k]) : m));
	return s;
}

/* The longest text put into a sentence, in UTF-16 units: more than any
 * field the server or a peer may send there (a place: 512 bytes). */
export const VAR_MAX = 600;

/* A right-to-left letter (Hebrew to NKo and their presentation forms; the
 * astral right-to-left blocks U+10800..U+10FFF and U+1E800..U+1EFFF) or a
 * bidi control. */
const BIDI = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud802\ud803\ud83a\ud83b][\udc00-\udfff]/;

/*
 * A value as it goes into a sentence. A string (a name, a place, a time:
 * from the server or a peer, in any script) is isolated between U+2068
 * FIRST STRONG ISOLATE and U+2069 POP DIRECTIONAL ISOLATE, so that its
 * direction cannot move the words around it, and the PDI ends any
 * embedding or override it left open (UAX #9): a place that says
 * "\u202e..." cannot turn "on Monday at 10" around. The embeddings,
 * overrides and isolates in the value itself are shown as U+FFFD (a PDI
 * of its own would close the isolate early, and what follows it would
 * be outside). Where neither the
 * sentence (the page's language) nor the value has anything right to
 * left or a bidi control, the isolate would change nothing on the screen,
 * and the text stays as it is (and can be found as it is). One longer
 * than VAR_MAX is cut, with an ellipsis.
 */
function isolate(v) {
	if (typeof v !== 'string') return String(v);
	if (v.length > VAR_MAX) v = `${v.slice(0, VAR_MAX)}\u2026`;
	if (!RTL.has(current) && !BIDI.test(v)) return v;
	return `\u2068${v.replace(/[\u202a-\u202e\u2066-\u2069]/g, '\ufffd')}\u2069`;
}

/* A time as the user's language writes it (hours and minutes; the date
 * when not today, and its year when not this year's). */
export function formatTime(sec, now = Date.now()) {
	const d = new Date(sec * 1000);
	// a time past what a Date holds (a peer's or the server's) is no time
	if (!Number.isFinite(d.getTime())) return '?';
	const loc = current === 'ar' ? 'ar-u-nu-latn' : current;
	const sameDay = new Date(now).toDateString() === d.toDateString();
	const sameYear = new Date(now || Date.now()).getFullYear() === d.getFullYear();
	const opts = sameDay ? { hour: '2-digit', minute: '2-digit' }
		: { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }), hour: '2-digit', minute: '2-digit' };
	try {
		return new Intl.DateTimeFormat(loc, opts).format(d);
	} catch {
		return d.toISOString().slice(0, 16).replace('T', ' ');
	}
}
