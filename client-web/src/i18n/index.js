// i18n: every string a user reads comes from these catalogues (en, de, ar).
// t(key, vars) looks the key up in the current language, then in English;
// "{name}" in a string is replaced by vars.name (as text: views put it in
// textContent, never in HTML). The language follows navigator.languages
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
	if (vars) s = s.replace(/\{([a-z_]+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m));
	return s;
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
