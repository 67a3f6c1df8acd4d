// join.js: a counsellor redeems an invite from the programme's admin. The
// key pair is made here, in the browser, and kept on this device sealed by
// the passphrase; the admin then certifies it (CLI: offramp certify).

import { h, uid } from './dom.js';
import { t } from '../i18n/index.js';

function field(label, input, hint) {
	const hintId = hint ? `${input.id}-h` : undefined;
	if (hintId) input.setAttribute('aria-describedby', hintId);
	return h('div', { class: 'field' },
		h('label', { for: input.id }, label), hint ? h('span', { class: 'hint', id: hintId }, hint) : null, input);
}

export function joinScreen(state, intents) {
	const invite = h('input', { id: uid('invite'), type: 'text', autocomplete: 'off', spellcheck: 'false', required: true });
	const name = h('input', { id: uid('name'), type: 'text', maxlength: '64', autocomplete: 'off', required: true });
	const languages = h('input', { id: uid('langs'), type: 'text', autocomplete: 'off', spellcheck: 'false', value: state.lang });
	const topics = h('input', { id: uid('topics'), type: 'text', autocomplete: 'off', spellcheck: 'false' });
	const pass = h('input', { id: uid('pass'), type: 'password', autocomplete: 'new-password', required: true });
	const go = h('button', { type: 'submit', class: 'primary' });
	const form = h('form', {
		onsubmit: (e) => {
			e.preventDefault();
			intents.join({ invite: invite.value, name: name.value, languages: languages.value,
				topics: topics.value, passphrase: pass.value });
		},
	},
	field(t('join_invite'), invite, t('join_invite_hint')),
	field(t('join_name'), name, t('join_name_hint')),
	field(t('join_languages'), languages, t('join_languages_hint')),
	field(t('join_topics'), topics, t('join_topics_hint')),
	field(t('passphrase'), pass, t('join_passphrase_hint')),
	go);
	const el = h('section', { 'aria-labelledby': 'join-h' },
		h('h1', { id: 'join-h' }, t('join_title')),
		h('p', null, t('join_lead')), form,
		h('div', { class: 'links' },
			h('button', { type: 'button', class: 'link', onclick: () => intents.go('unlock') }, t('join_have_account')),
			h('button', { type: 'button', class: 'link', onclick: () => intents.go('start') }, t('back'))));
	return {
		el,
		update(s) {
			go.disabled = s.busy;
			go.textContent = s.busy ? t('starting') : t('join_button');
		},
	};
}
