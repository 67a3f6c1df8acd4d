// start.js: the client's first screen. Everything on it is optional but the
// one button: the conversation's language, a topic, wishes for the
// counsellor ("no preference" by default), a programme's number and
// intake code from its flyer (a link may carry the number: #programme=N),
// and how the conversation is kept on this device. Nothing here is read by
// the server but the wishes and the code.

import { h, uid } from './dom.js';
import { t, language } from '../i18n/index.js';

export const TOPICS = ['leaving', 'family', 'doubts', 'safety'];
export const CASE_LANGUAGES = ['en', 'de', 'ar'];
const CHOICES = {
	background: ['peer', 'professional'],
	gender: ['female', 'male', 'diverse'],
	age_band: ['18-29', '30-44', '45-59', '60-plus'],
	format: ['chat', 'in-person', 'phone-video'],
};

function select(name, label, options, value, onchange, hint) {
	const id = uid(name);
	const hintId = hint ? `${id}-hint` : undefined;
	return h('div', { class: 'field' },
		h('label', { for: id }, label), hint ? h('span', { class: 'hint', id: hintId }, hint) : null,
		h('select', { id, name, onchange, 'aria-describedby': hintId },
			options.map(([v, text]) => h('option', { value: v, selected: v === (value || '') }, text))));
}

export function startScreen(state, intents) {
	const w = state.wishes;
	const set = (k) => (e) => intents.setWish(k, e.target.type === 'checkbox'
		? (e.target.checked ? 'high' : '') : e.target.value);
	const noPref = ['', t('no_preference')];

	const langField = select('language', t('wish_language'),
		CASE_LANGUAGES.map((l) => [l, t(`lang_${l}`)]), w.language || language(), set('language'));
	const wishes = h('details', { class: 'card', open: Object.keys(w).some((k) => k !== 'language' && w[k]) },
		h('summary', null, t('wishes_title')),
		h('p', { class: 'muted small' }, t('wishes_hint')),
		h('div', { class: 'grid2' },
			select('topic', t('wish_topic'), [noPref, ...TOPICS.map((v) => [v, t(`topic_${v}`)])], w.topic, set('topic')),
			select('background', t('wish_background'), [noPref, ...CHOICES.background.map((v) => [v, t(`background_${v}`)])],
				w.background, set('background')),
			select('gender', t('wish_gender'), [noPref, ...CHOICES.gender.map((v) => [v, t(`gender_${v}`)])], w.gender, set('gender')),
			select('age_band', t('wish_age'), [noPref, ...CHOICES.age_band.map((v) => [v, t(`age_${v}`)])], w.age_band, set('age_band')),
			select('format', t('wish_format'), [noPref, ...CHOICES.format.map((v) => [v, t(`format_${v}`)])], w.format, set('format')),
			(() => {
				const id = uid('region');
				return h('div', { class: 'field' },
					h('label', { for: id }, t('wish_region')), h('span', { class: 'hint', id: `${id}-h` }, t('wish_region_hint')),
					h('input', { id, type: 'text', name: 'region', value: w.region || '', maxlength: '32',
						autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${id}-h`, oninput: set('region') }));
			})()),
		(() => {
			const id = uid('urgent');
			return h('div', { class: 'choice' },
				h('input', { type: 'checkbox', id, checked: w.urgency === 'high', onchange: set('urgency') }),
				h('label', { for: id }, t('wish_urgent')));
		})());

	// a programme's own door: its number and the code on its flyer
	const flyer = h('details', { class: 'card', id: 'flyer', open: Boolean(w.programme || w.intake_code) },
		h('summary', null, t('flyer_title')),
		h('p', { class: 'muted small' }, t('flyer_hint')),
		h('div', { class: 'grid2' },
			(() => {
				const id = uid('programme');
				return h('div', { class: 'field' },
					h('label', { for: id }, t('flyer_programme')),
					h('input', { id, type: 'text', name: 'programme', value: w.programme || '', maxlength: '16',
						inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', oninput: set('programme') }));
			})(),
			(() => {
				const id = uid('code');
				return h('div', { class: 'field' },
					h('label', { for: id }, t('flyer_code')), h('span', { class: 'hint', id: `${id}-h` }, t('flyer_code_hint')),
					h('input', { id, type: 'text', name: 'intake_code', value: w.intake_code || '', maxlength: '64',
						autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', 'aria-describedby': `${id}-h`,
						oninput: set('intake_code') }));
			})()));

	const passId = uid('pass');
	// not 'new-password': a browser that offers to keep the passphrase
	// keeps it for whoever picks up the device next
	const pass = h('input', { id: passId, type: 'password', autocomplete: 'off',
		'aria-describedby': `${passId}-h` });
	// typed twice: this mode has no recovery code, and one slip of a
	// phone's keyboard would lock the conversation away for good
	const againId = uid('pass-again');
	const again = h('input', { id: againId, type: 'password', autocomplete: 'off' });
	const passField = h('div', { class: 'field' },
		h('label', { for: passId }, t('passphrase')), h('span', { class: 'hint', id: `${passId}-h` }, t('passphrase_hint')),
		pass, h('label', { for: againId }, t('passphrase_again')), again);
	const mode = (value) => {
		const id = uid(`mode-${value}`);
		return h('div', { class: 'choice' },
			h('input', { type: 'radio', name: 'keep', id, value, checked: state.mode === value,
				'aria-describedby': `${id}-h`, onchange: () => intents.setMode(value) }),
			h('div', null, h('label', { for: id }, t(`mode_${value}`)),
				h('span', { class: 'hint', id: `${id}-h` }, t(`mode_${value}_hint`))));
	};
	const keep = h('fieldset', null, h('legend', null, t('keep_title')), mode('trace'), mode('device'), passField);

	const go = h('button', { type: 'submit', class: 'primary' });
	const form = h('form', {
		onsubmit: (e) => {
			e.preventDefault();
			intents.startClient({ passphrase: pass.value, again: again.value });
		},
	}, langField, wishes, flyer, keep, go);

	const unlockLink = h('button', { type: 'button', class: 'link', onclick: () => intents.go('unlock') }, t('link_unlock'));
	const el = h('section', { 'aria-labelledby': 'start-h' },
		h('h1', { id: 'start-h' }, t('start_title')),
		h('p', { class: 'lead' }, t('start_lead')),
		form,
		h('div', { class: 'card soft small' }, h('p', null, t('private_window_tip')), h('p', null, t('start_exit_tip'))),
		h('p', { class: 'small muted' }, t('emergency_short')),
		h('nav', { class: 'links', 'aria-label': t('other_ways') },
			h('button', { type: 'button', class: 'link', onclick: () => intents.go('restore') }, t('link_restore')),
			unlockLink,
			h('button', { type: 'button', class: 'link', onclick: () => intents.go('join') }, t('link_counsellor'))));

	return {
		el,
		update(s) {
			passField.hidden = s.mode !== 'device';
			pass.required = s.mode === 'device';
			again.required = s.mode === 'device';
			go.disabled = s.busy;
			go.textContent = s.busy ? t('starting') : t('start_button');
			unlockLink.hidden = s.vaultExists === false;
		},
	};
}
