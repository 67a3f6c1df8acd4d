// members.js: the assigned counsellor brings a colleague of its programme
// into the open case (PROTOCOL.md, "Co-counselling": case.invite), as
// supervisor, second counsellor or language helper. The colleague is
// chosen among the counsellors of the programme this page has met in its
// cases, or by the key the colleague gives (the server lists a
// programme's counsellors to its admin only); the panel shows this
// counsellor's own key for that. Who is joining, and the
// removal, are in the participant list (parts.js).

import { h, fill, uid } from './dom.js';
import { t } from '../i18n/index.js';

const AS = ['supervisor', 'co-counsellor', 'language-helper'];

/* The counsellors of my programme met in the cases of state s, not in case c. */
function colleaguesOf(s, c) {
	const me = c.participants.find((p) => p.me);
	const seen = new Map();
	for (const id of s.order) {
		for (const p of s.cases[id].case.participants) {
			if (p.me || p.role !== 'counsellor' || p.programme !== me?.programme || seen.has(p.key)) continue;
			if (c.participants.some((x) => x.key === p.key)) continue;
			seen.set(p.key, p.name);
		}
	}
	return [...seen].map(([key, name]) => ({ key, name }));
}

/*
 * The panel; getId gives the open case's id, intents.inviteColleague(id,
 * key, as) resolves true once the colleague is listed. update(s, c)
 * shows the form to the case's assigned counsellor while the case is
 * active or paused, and to every counsellor its own key (what a
 * colleague who brings it in needs).
 */
export function membersPanel(getId, intents) {
	const pick = h('select', { id: uid('colleague') });
	const keyBox = h('input', { id: uid('colleague-key'), type: 'text', autocomplete: 'off', spellcheck: 'false',
		maxlength: '44', dir: 'ltr' });	// its form checked by the page, which says so in the page's language
	const as = h('select', { id: uid('colleague-as') },
		AS.map((a) => h('option', { value: a }, t(`as_${a.replace(/-/g, '_')}`))));
	const status = h('p', { class: 'small', role: 'status' });
	const form = h('form', { id: 'members-invite', onsubmit: async (e) => {
		e.preventDefault();
		const key = keyBox.value.trim() || pick.value;
		status.textContent = '';
		if (!key) {
			status.textContent = t('colleague_none_chosen');
			return;
		}
		if (await intents.inviteColleague(getId(), key, as.value)) {
			keyBox.value = '';
			status.textContent = t('colleague_brought');
		}
	} },
	h('p', { class: 'small' }, t('colleague_explain')),
	h('label', { for: pick.id }, t('colleague_pick')), pick,
	h('label', { for: keyBox.id }, t('colleague_key')), keyBox,
	h('label', { for: as.id }, t('colleague_as')), as,
	h('div', { class: 'row' }, h('button', { type: 'submit' }, t('colleague_bring'))));
	const own = h('code', { id: 'own-key', dir: 'ltr' });
	const el = h('details', { class: 'card members', id: 'members-panel' },
		h('summary', null, t('colleague_title')), form, status,
		h('p', { class: 'small' }, t('colleague_own_key'), ' ', own));
	let sig = '', caseId = null;
	return {
		el,
		update(s, c) {
			const me = c.participants.find((p) => p.me);
			form.hidden = !(me && me.as === 'counsellor' && (c.status === 'active' || c.status === 'paused'));
			own.textContent = s.me?.key || '';
			if (caseId !== c.id) {
				caseId = c.id;
				status.textContent = '';
				keyBox.value = '';
			}
			const list = colleaguesOf(s, c);
			const next = JSON.stringify([list, s.lang]);
			if (next === sig) return;
			sig = next;
			const was = pick.value;
			fill(pick, h('option', { value: '' }, list.length ? t('colleague_pick_one') : t('colleague_pick_none')),
				list.map((p) => h('option', { value: p.key, selected: p.key === was }, p.name)));
		},
	};
}
