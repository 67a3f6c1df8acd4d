// inbox.js: the counsellor's tab for the whole day. Every case in one list
// (unread badges, new cases announced live), the waiting queue with "take"
// (a referral from a partner programme marked with the partner's name),
// and the open case: its people (and a colleague brought in: members.js),
// messages and reply, pause / resume / close / reopen, encrypted notes,
// safety numbers and the tools: the meetings and the counselling agreement
// (ui/meetings.js), the referral to a partner programme, a referral card
// for an external partner of the directory.
// Presence is online while connected and "away" after the chosen idle time.

import { h, fill, uid } from './dom.js';
import { t, formatTime } from '../i18n/index.js';
import { messageLog, composer, composeHint, participantList, safetyPanel } from './parts.js';
import { membersPanel } from './members.js';
import { referralTool } from './referral.js';
import { meetingsCard } from './meetings.js';

const IDLE_CHOICES = [5, 10, 15, 30, 60];

/* A token's name from the catalogue, or the token itself (e.g. a language we have no name for). */
function named(prefix, v) {
	const k = `${prefix}_${v}`;
	const s = t(k);
	return s === k ? v : s;
}

/* The first element of el (el itself included) that takes the focus. */
function focusable(el) {
	if (!el) return null;
	if (el.matches('button:not([disabled]), a[href], input, select, textarea, [tabindex]')) return el;
	return el.querySelector('button:not([disabled]), a[href], input, select, textarea, [tabindex]');
}

/*
 * Rebuilds a list, keeping the focus on the element with the same
 * data-focus; when it is gone (Pause became Resume, a case taken left
 * the queue), on what now stands where it stood, else on fallback: never
 * on the page's body, where a keyboard or a screen reader user is lost.
 */
function refill(el, children, fallback) {
	const a = document.activeElement;
	const had = a && el.contains(a);
	const key = had ? a.dataset.focus : null;
	const at = had ? [...el.children].findIndex((c) => c.contains(a)) : -1;
	fill(el, children);
	if (!had) return;
	const again = (key && el.querySelector(`[data-focus="${CSS.escape(key)}"]`)) ||
		focusable(el.children[Math.min(at, el.children.length - 1)]) || fallback;
	if (again) again.focus();
}

/* A labelled field: [label, control]. */
function field(label, control) {
	return [h('label', { for: control.id }, label), control];
}

/* The counsellor's tools for the open case (getId gives it): the
 * meetings and the agreement (meetingsCard, ui/meetings.js), partnerTool,
 * the referral to a partner programme (ui/referral.js), and a small form
 * that sends a referral card to an external partner. */
function toolsPanel(getId, intents, meetTool, partnerTool) {
	const input = (key, attrs = {}) => h(attrs.rows ? 'textarea' : 'input', { id: uid(key), dir: 'auto', ...attrs });
	const status = h('p', { class: 'small', role: 'status' });

	const partner = h('select', { id: uid('partner'), required: true });
	const expect = input('expect', { rows: '2', maxlength: '2048' });
	const say = input('say', { rows: '2', maxlength: '2048' });
	const none = h('p', { class: 'small muted', hidden: true }, t('tool_no_partners'));
	let partners = [];
	const load = async () => {
		const list = await intents.externalPartners();
		if (!list) return;
		partners = list;
		fill(partner, list.map((p) => h('option', { value: String(p.id) }, `${p.name} (${p.contact})`)));
		none.hidden = list.length > 0;
	};
	const referral = h('form', { id: 'tool-referral', onsubmit: async (e) => {
		e.preventDefault();
		const p = partners.find((x) => String(x.id) === partner.value);
		if (!p) return;
		status.textContent = '';
		if (await intents.refer(getId(), { name: p.name, contact: p.contact, expect: expect.value, say: say.value }))
			expect.value = say.value = '';
	} }, h('h3', null, t('tool_referral')),
	h('div', { class: 'row' }, h('button', { type: 'button', id: 'tool-partners-load', onclick: load }, t('tool_partners_load'))),
	none, ...field(t('tool_partner'), partner), ...field(t('referral_expect'), expect), ...field(t('referral_say'), say),
	h('div', { class: 'row' }, h('button', { type: 'submit' }, t('tool_referral_send'))));

	const el = h('details', { class: 'card tools', id: 'tools-panel', ontoggle: (e) => {
		if (!e.target.open) return;
		load();
		partnerTool.load();
	} }, h('summary', null, t('tools_title')), meetTool.el, partnerTool.el, referral, status);
	return { el };
}

export function inboxScreen(state, intents) {
	/* --- the list pane --- */
	const presenceText = h('span');
	const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
	const presenceBtn = h('button', { type: 'button', id: 'presence-toggle' });
	const idleId = uid('idle');
	const idleSel = h('select', { id: idleId, onchange: (e) => intents.setIdleMinutes(Number(e.target.value)) },
		IDLE_CHOICES.map((m) => h('option', { value: String(m), selected: m === state.idleMinutes }, t('minutes', { n: m }))));
	const presence = h('div', { class: 'card presence' }, dot, presenceText, presenceBtn,
		h('label', { for: idleId, class: 'small' }, t('away_after')), idleSel);
	const caseList = h('ul', { class: 'caselist', id: 'caselist' });
	const queueList = h('ul', { class: 'caselist queue', id: 'queue' });
	const refreshBtn = h('button', { type: 'button', onclick: () => intents.refreshQueue() }, t('refresh'));
	const listTitle = h('h1', { id: 'inbox-h', tabindex: '-1' }, t('inbox_title'));
	const listPane = h('section', { class: 'list-pane', 'aria-labelledby': 'inbox-h' },
		listTitle, presence,
		h('h2', null, t('cases_title')), caseList,
		h('div', { class: 'row' }, h('h2', null, t('queue_title')), refreshBtn),
		queueList);

	/* --- the case pane --- */
	let currentId = null;
	const caseTitle = h('h2', { id: 'case-h', tabindex: '-1' });
	const caseStatus = h('p', { class: 'status-line' });
	const people = participantList(intents);
	const actions = h('div', { class: 'row', id: 'case-actions' });
	const log = messageLog(t('messages_label'), (text) => intents.send(currentId, text));
	const comp = composer({
		label: t('reply_label'),
		onSend: (text) => intents.send(currentId, text),
		onDraft: (text) => intents.draft(currentId, text),
	});
	const noteId = uid('note');
	const noteBox = h('textarea', { id: noteId, dir: 'auto', rows: '2', maxlength: '8000', 'aria-describedby': `${noteId}-h` });
	const notesList = h('ul', { class: 'notes', id: 'notes' });
	const notes = h('details', { class: 'card', id: 'notes-panel' }, h('summary', null, t('notes_title')),
		h('p', { class: 'small', id: `${noteId}-h` }, t('notes_explain')), notesList,
		h('form', {
			onsubmit: async (e) => {
				e.preventDefault();
				if (await intents.addNote(currentId, noteBox.value)) noteBox.value = '';
			},
		}, h('label', { for: noteId }, t('note_label')), noteBox,
		h('div', { class: 'row' }, h('button', { type: 'submit' }, t('note_add')))));
	const safety = safetyPanel((key, number) => intents.verify(currentId, key, number));
	const members = membersPanel(() => currentId, intents);
	const partnerTool = referralTool(() => currentId, intents);
	const meetTool = meetingsCard(() => currentId, intents);
	const tools = toolsPanel(() => currentId, intents, meetTool, partnerTool);
	const back = h('button', { type: 'button', class: 'link back', onclick: () => intents.closeView() }, t('back_to_list'));
	const caseBody = h('div', null, caseStatus, people.el, members.el, actions, log.el, comp.el, tools.el, notes, safety.el);
	const empty = h('p', { class: 'muted' }, t('inbox_pick'));
	const casePane = h('section', { class: 'case-pane', 'aria-labelledby': 'case-h' }, back, caseTitle, caseBody, empty);

	const el = h('div', { class: 'inbox' }, listPane, casePane);

	let listSig = '', queueSig = '', caseSig = '', notesSig = '';
	return {
		el,
		update(s) {
			/* presence */
			const online = s.conn === 'online' && s.presence === 'online';
			dot.className = `dot ${s.conn !== 'online' ? '' : s.presence}`;
			presenceText.textContent = s.conn !== 'online' ? t('presence_offline') : t(`presence_${s.presence}`);
			presenceBtn.textContent = online ? t('set_away') : t('set_online');
			presenceBtn.onclick = () => intents.setPresence(online ? 'away' : 'online');
			presenceBtn.disabled = s.conn !== 'online';

			/* the cases */
			const ids = s.order;
			const sig = JSON.stringify([ids.map((id) => {
				const c = s.cases[id].case;
				return [id, c.status, c.unread, c.updated, s.current === id, s.newCases.includes(id),
					c.participants.map((p) => p.name).join()];
			}), s.lang]);
			if (sig !== listSig) {
				listSig = sig;
				refill(caseList, ids.length ? ids.map((id) => {
					const c = s.cases[id].case;
					const client = c.participants.find((p) => p.role === 'client');
					const isNew = s.newCases.includes(id);
					return h('li', null, h('button', {
						type: 'button', 'data-focus': `c${id}`, 'data-case': String(id),
						'aria-current': s.current === id ? 'true' : 'false',
						onclick: () => intents.openCase(id),
					},
					h('span', { class: 'top' }, h('strong', null, client ? client.name : String(id)),
						h('span', null,
							isNew ? h('span', { class: 'badge unread' }, t('new')) : null, ' ',
							c.unread ? h('span', { class: 'badge unread', 'data-unread': String(c.unread) },
								t('unread', { n: c.unread })) : null, ' ',
							h('span', { class: `badge ${c.status}` }, t(`status_${c.status}`)))),
					h('span', { class: 'sub' }, [named('lang', c.language), c.topic ? named('topic', c.topic) : null,
						c.urgency === 'high' ? t('urgent') : null,
						formatTime(c.updated)].filter(Boolean).join(' · '))));
				}) : [h('li', { class: 'muted' }, t('no_cases'))], listTitle);
			}

			/* the queue */
			// a referral from a partner programme says so (PROTOCOL.md, "A referral in the partner's queues")
			const from = (q) => (Number.isSafeInteger(q.referred_by)
				? t('queue_referred_by', { name: s.programmes?.[q.referred_by]?.name || t('referral_programme_n', { id: q.referred_by }) }) : null);
			const qsig = JSON.stringify([s.queue.map((q) => [q.id, Math.floor((q.waiting || 0) / 60), from(q)]), s.lang]);
			if (qsig !== queueSig) {
				queueSig = qsig;
				refill(queueList, s.queue.length ? s.queue.map((q) => h('li', { 'data-queue': String(q.id),
					'data-referred-by': Number.isSafeInteger(q.referred_by) ? String(q.referred_by) : null },
					h('span', null, [named('lang', q.language), q.topic ? named('topic', q.topic) : null, q.urgency === 'high' ? t('urgent') : null,
						t('waiting_for', { n: Math.max(1, Math.round((q.waiting || 0) / 60)) }), from(q)].filter(Boolean).join(' · ')),
					h('button', { type: 'button', 'data-focus': `q${q.id}`, onclick: () => intents.take(q.id) }, t('take')))) : [h('li', { class: 'muted' }, t('queue_empty'))], refreshBtn);
			}

			/* the open case */
			const entry = s.current !== null ? s.cases[s.current] : null;
			el.classList.toggle('has-case', !!entry);
			caseBody.hidden = !entry;
			empty.hidden = !!entry;
			// back to the list: the focus goes to the case left, in the
			// list, not with the hidden button to the page's body
			if (!entry && document.activeElement === back) {
				back.hidden = true;
				(caseList.querySelector(`[data-case="${currentId}"]`) || listTitle).focus();
			}
			back.hidden = !entry;
			if (!entry) {
				caseTitle.textContent = t('case_none');
				currentId = null;
				return;
			}
			const c = entry.case;
			const switched = currentId !== c.id;
			currentId = c.id;
			const client = c.participants.find((p) => p.role === 'client');
			// the case's own counsellor changes it; a colleague only talks
			const lead = c.participants.find((p) => p.me)?.as === 'counsellor';
			const csig = JSON.stringify([c.id, c.status, client && client.name, s.lang, lead]);
			if (csig !== caseSig) {
				caseSig = csig;
				caseTitle.textContent = client ? client.name : String(c.id);
				fill(caseStatus, h('span', { class: `badge ${c.status}` }, t(`status_${c.status}`)),
					h('span', { class: 'small muted' }, t('case_since', { time: formatTime(c.created) })));
				const btn = (key, fn) => h('button', { type: 'button', 'data-focus': key, id: `act-${key}`, onclick: fn }, t(key));
				const list = [];
				if (lead && c.status === 'active') list.push(btn('pause', () => intents.pause(c.id)));
				if (lead && c.status === 'paused') list.push(btn('resume', () => intents.resume(c.id)));
				if (lead && (c.status === 'active' || c.status === 'paused')) list.push(btn('close_case', () => intents.closeCase(c.id)));
				if (lead && c.status === 'closed') list.push(btn('reopen', () => intents.reopen(c.id)));
				refill(actions, list, caseTitle);
			}
			people.update(c);
			members.update(s, c);
			partnerTool.update(s, c);
			meetTool.update(s, c, entry.messages);
			log.update(c.id, entry.messages, (key) => c.participants.find((p) => p.key === key)?.name);
			comp.update({
				draft: s.drafts[c.id] || '',
				disabled: c.status === 'closed',
				hintText: c.blocked ? t('compose_hint_blocked') : c.status === 'closed' ? t('compose_hint_closed') : composeHint(false),
			});
			const nsig = JSON.stringify([c.id, entry.notes]);
			if (nsig !== notesSig) {
				notesSig = nsig;
				fill(notesList, (entry.notes || []).map((n) => h('li', null,
					h('span', { class: 'small muted' }, formatTime(n.ts)), ' ', h('span', { dir: 'auto' }, n.text === null ? t('note_unreadable') : n.text))));
			}
			safety.update(entry.safety || []);
			if (switched) caseTitle.focus();
		},
	};
}
