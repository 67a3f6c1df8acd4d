// shell.js: what every screen has (the bar with the language choice, the
// connection state and the quick-exit button; the live regions; the main
// landmark) and the choice of screen. A screen is mounted once when the
// state's screen changes, then updated in place, so that what the user
// types and where the focus is survive every update.

import { h, fill, byTouch } from './dom.js';
import { t, LANGUAGES } from '../i18n/index.js';
import { startScreen } from './start.js';
import { restoreScreen, unlockScreen } from './restore.js';
import { conversationScreen } from './conversation.js';
import { joinScreen } from './join.js';
import { inboxScreen } from './inbox.js';
import { trustPrompt } from './parts.js';

const SCREENS = {
	start: startScreen,
	restore: restoreScreen,
	unlock: unlockScreen,
	conversation: conversationScreen,
	join: joinScreen,
	inbox: inboxScreen,
};

const LANG_NAMES = { en: 'English', de: 'Deutsch', ar: 'العربية' };

export function mountShell(root, store, intents) {
	let screen = null, screenName = null, lang = null, mounted = false;
	const langSel = h('select', { id: 'ui-lang', onchange: (e) => intents.setLanguage(e.target.value) },
		LANGUAGES.map((l) => h('option', { value: l, lang: l }, LANG_NAMES[l])));
	const langLabel = h('label', { for: 'ui-lang', class: 'sr-only' });
	const brand = h('span', { class: 'brand' });
	const conn = h('div', { class: 'conn', role: 'status' });
	const exitBtn = h('button', { type: 'button', class: 'exit', id: 'quick-exit', onclick: () => intents.quickExit() });
	// to the content without following #main: a fragment followed is a
	// history entry, which the quick exit's location.replace would leave
	// behind it (Back from the neutral site came to this page)
	const skip = h('a', { class: 'skip', href: '#main', onclick: (e) => { e.preventDefault(); main.focus(); } });
	const bar = h('header', { class: 'sticky' }, h('div', { class: 'bar' }, brand, langLabel, langSel, exitBtn), conn);
	const alert = h('div', { class: 'alert', role: 'alert', id: 'alert' });
	const notice = h('div', { class: 'notice', role: 'status', id: 'notice' });
	const trust = trustPrompt(intents);
	const main = h('main', { id: 'main', tabindex: '-1' });
	const live = h('div', { class: 'sr-only', 'aria-live': 'polite', id: 'announce' });
	fill(root, skip, bar, main, live);

	function render(state) {
		if (state.lang !== lang) {
			lang = state.lang;
			langSel.value = lang;
			langLabel.textContent = t('language');
			brand.textContent = t('brand');
			skip.textContent = t('skip_to_content');
			// Escape three times, where there is a keyboard
			fill(exitBtn, t('quick_exit'), byTouch() ? null : h('small', null, t('quick_exit_hint')));
			// a screen's words change with the language: mount it again
			screenName = null;
		}
		// said only when it is not as it should be; before the first
		// login (Start pressed, the server away) nothing was lost
		conn.textContent = state.conn === 'reconnecting' && !state.me ? t('conn_not_yet')
			: state.conn === 'reconnecting' || (state.conn === 'connecting' && state.me) ? t(`conn_${state.conn}`) : '';
		const error = state.error ? t(state.error.key, state.error.vars) : '';
		if (alert.textContent !== error) {
			alert.textContent = error;
			if (error && mounted) shown(alert);
		}
		notice.textContent = state.notice ? t(state.notice.key, state.notice.vars) : '';
		trust.update(state.screen === 'conversation' || state.screen === 'inbox' ? state.untrusted || [] : []);
		if (live.textContent !== state.lastAnnounce) live.textContent = state.lastAnnounce;
		main.dataset.saves = String(state.saves);

		if (state.screen !== screenName) {
			if (screen && screen.unmount) screen.unmount();
			const first = !mounted;
			mounted = true;
			screenName = state.screen;
			main.className = state.screen === 'inbox' ? 'wide' : '';
			const make = SCREENS[state.screen];
			fill(main);
			screen = make(state, intents);
			main.append(alert, notice, trust.el, screen.el);
			const h1 = screen.el.querySelector('h1');
			if (h1 && !first) {
				h1.setAttribute('tabindex', '-1');
				h1.focus({ preventScroll: false });
			}
		}
		screen.update(state);
	}
	store.subscribe(render);
	render(store.state);
}

/*
 * A new error is read out (role alert), and seen: on a phone the button
 * pressed is far below the alert at the top of the screen, so the alert
 * is scrolled into view (below the sticky bar: its scroll-margin); and
 * where focus was lost (the button, disabled while busy, let it go to the
 * body), it goes to the alert, so that the keyboard goes on from there.
 */
function shown(el) {
	el.scrollIntoView({ block: 'nearest' });
	const a = document.activeElement;
	if (!a || a === document.body) {
		el.setAttribute('tabindex', '-1');
		el.focus({ preventScroll: true });
	}
}
