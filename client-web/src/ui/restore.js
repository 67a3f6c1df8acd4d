// restore.js: the two ways back into a conversation. "restore": a recovery
// code typed in, or its file (Leave no trace); "unlock": the passphrase of
// what this device keeps (Keep on this device), with a way to erase it.

import { h, uid } from './dom.js';
import { t } from '../i18n/index.js';

function back(intents) {
	return h('button', { type: 'button', class: 'link', onclick: () => intents.go('start') }, t('back'));
}

export function restoreScreen(state, intents) {
	const id = uid('code');
	const code = h('textarea', { id, rows: '3', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters',
		'aria-describedby': `${id}-h` });
	const fileId = uid('file');
	const file = h('input', { id: fileId, type: 'file', accept: '.txt,text/plain' });
	file.addEventListener('change', async () => {
		const f = file.files && file.files[0];
		if (!f || f.size > 20000) return;
		code.value = (await f.text()).trim();
	});
	const go = h('button', { type: 'submit', class: 'primary' });
	const form = h('form', { onsubmit: (e) => { e.preventDefault(); intents.restore(code.value); } },
		h('div', { class: 'field' }, h('label', { for: id }, t('restore_code')),
			h('span', { class: 'hint', id: `${id}-h` }, t('restore_code_hint')), code),
		h('div', { class: 'field' }, h('label', { for: fileId }, t('restore_file')), file),
		go);
	const el = h('section', { 'aria-labelledby': 'restore-h' },
		h('h1', { id: 'restore-h' }, t('restore_title')),
		h('p', null, t('restore_lead')), form, back(intents));
	return {
		el,
		update(s) {
			go.disabled = s.busy;
			go.textContent = s.busy ? t('starting') : t('restore_button');
		},
	};
}

export function unlockScreen(state, intents) {
	const id = uid('pass');
	const pass = h('input', { id, type: 'password', autocomplete: 'off', required: true });
	const go = h('button', { type: 'submit', class: 'primary' });
	let confirmErase = false;
	const erase = h('button', { type: 'button', class: 'link' });
	const paintErase = () => { erase.textContent = confirmErase ? t('erase_confirm') : t('erase_device'); };
	erase.addEventListener('click', () => {
		if (confirmErase) intents.eraseDevice();
		else {
			confirmErase = true;
			paintErase();
		}
	});
	paintErase();
	const form = h('form', { onsubmit: (e) => { e.preventDefault(); intents.unlock(pass.value); } },
		h('div', { class: 'field' }, h('label', { for: id }, t('passphrase')), pass), go);
	const el = h('section', { 'aria-labelledby': 'unlock-h' },
		h('h1', { id: 'unlock-h' }, t('unlock_title')),
		h('p', null, t('unlock_lead')), form,
		h('div', { class: 'links' }, erase, back(intents)));
	return {
		el,
		update(s) {
			go.disabled = s.busy;
			go.textContent = s.busy ? t('unlocking') : t('unlock_button');
		},
	};
}
