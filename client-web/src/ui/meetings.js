// meetings.js (ui): the case's in-person meetings and its counselling
// agreement, the same card for the client (its conversation) and the
// counsellor (the tools panel), as the CLI's meeting and agreement
// commands have them: each meeting with its time, place, how to recognise
// each other and what became of it; accept or decline one the other side
// proposed or moved, another time or place for it, call it off; propose a
// new one. The agreement as it stands, who proposed it and whether the
// other side accepted it; accept it; propose it or a revision. Everything
// goes as an encrypted message (core.propose, core.answer); what a
// meeting or the agreement is now is read from the messages (meetings.js).

import { h, fill, uid } from './dom.js';
import { t, formatTime } from '../i18n/index.js';
import { meetingsOf, agreementOf, sidesOf } from '../meetings.js';

const FIELDS = ['objectives', 'formats', 'frequency', 'crisis'];
const OPEN = ['propose', 'reschedule'];

/* "YYYY-MM-DDTHH:MM" in local time, for a datetime-local input. */
function localInput(sec) {
	const d = new Date(sec * 1000);
	const p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/* Seconds of a datetime-local value, or 0. */
function seconds(value) {
	const ms = new Date(value).getTime();
	return ms > 0 ? Math.floor(ms / 1000) : 0;
}

/* A labelled field: [label, control]. */
const field = (label, control) => [h('label', { for: control.id }, label), control];

/*
 * The card; getId gives the open case's id. intents: propose(id, item)
 * (true when queued), answer(id, from, mid, action). update(s, c,
 * messages). Only the two sides of the case act (meetings.js): a colleague
 * sees the card and no action.
 */
export function meetingsCard(getId, intents) {
	const input = (key, attrs = {}) => h(attrs.rows ? 'textarea' : 'input', { id: uid(key), dir: 'auto', ...attrs });
	const status = h('p', { class: 'small', role: 'status', id: 'meet-status' });
	const done = (ok, key) => {
		status.textContent = ok ? t(key) : '';
		return ok;
	};

	/* a new meeting */
	const when = input('when', { type: 'datetime-local', required: true });
	const place = input('place', { maxlength: '512', required: true });
	const recog = input('recognise', { maxlength: '512' });
	const propose = h('form', { id: 'tool-meeting', onsubmit: (e) => {
		e.preventDefault();
		const time = seconds(when.value);
		if (!time || !place.value.trim()) return;
		if (done(intents.propose(getId(), { meeting: { time, place: place.value, recognise: recog.value } }), 'meet_sent_propose'))
			place.value = recog.value = '';
	} }, h('h3', null, t('tool_meeting')), ...field(t('tool_when'), when), ...field(t('tool_place'), place),
	...field(t('tool_recognise'), recog), h('div', { class: 'row' }, h('button', { type: 'submit' }, t('tool_meeting_send'))));

	/* another time or place for one (moving: its id) */
	let moving = null;
	const newWhen = input('new-when', { type: 'datetime-local', required: true });
	const newPlace = input('new-place', { maxlength: '512', required: true });
	const newRecog = input('new-recognise', { maxlength: '512' });
	const move = h('form', { id: 'meet-move', onsubmit: (e) => {
		e.preventDefault();
		const time = seconds(newWhen.value);
		if (!time || !newPlace.value.trim() || moving === null) return;
		if (done(intents.propose(getId(), { meeting: { action: 'reschedule', id: moving, time, place: newPlace.value, recognise: newRecog.value } }),
			'meet_sent_reschedule')) {
			moving = null;
			paint();
		}
	} }, h('h3', { id: 'meet-move-h' }), ...field(t('meet_new_when'), newWhen), ...field(t('meet_new_place'), newPlace),
	...field(t('meet_new_recognise'), newRecog),
	h('div', { class: 'row' }, h('button', { type: 'submit' }, t('meet_reschedule_send')),
		h('button', { type: 'button', onclick: () => { moving = null; paint(); } }, t('meet_keep'))));

	/* the agreement: proposed, or a revision of the one in force */
	const agr = {};
	for (const f of FIELDS) agr[f] = input(`agr-${f}`, { rows: '2', maxlength: '2048', required: f === 'objectives' });
	const agrHead = h('h3');
	const agreement = h('form', { id: 'tool-agreement', onsubmit: (e) => {
		e.preventDefault();
		const item = {};
		for (const f of FIELDS) item[f] = agr[f].value;
		if (!item.objectives.trim()) return;
		done(intents.propose(getId(), { agreement: item }), 'meet_sent_agreement');
	} }, agrHead, ...FIELDS.flatMap((f) => field(t(`agreement_${f}`), agr[f])),
	h('div', { class: 'row' }, h('button', { type: 'submit' }, t('tool_agreement_send'))));

	const list = h('ul', { class: 'meetings', id: 'meetings' });
	const current = h('div', { id: 'agreement' });
	const el = h('section', { class: 'card meetings-card', id: 'meetings-card', 'aria-labelledby': 'meet-h' },
		h('h2', { id: 'meet-h' }, t('meet_title')), list, move, propose, current, agreement, status);

	let last = { c: null, messages: [] };
	let sig = '', filled = null, shownId = null;

	function paint() {
		const { c, messages } = last;
		if (!c) return;
		const sides = sidesOf(c);
		const side = sides.get((c.participants || []).find((p) => p.me)?.key);
		const open = c.status !== 'closed' && !!side;
		const meetings = meetingsOf(messages, sides);
		const a = agreementOf(messages, sides);
		const next = JSON.stringify([c.id, open, side, meetings, a, moving, t('meet_title')]);
		if (next === sig) return;
		sig = next;
		fill(list, meetings.length ? meetings.map((m) => h('li', { 'data-meeting': String(m.id), 'data-status': m.status },
			h('strong', null, t('meet_when_where', { when: formatTime(m.time, 0), place: m.place })),
			m.recognise ? h('div', { dir: 'auto' }, t('meeting_recognise', { recognise: m.recognise })) : null,
			h('div', { class: 'small' }, t(`meet_status_${m.status}${m.mine ? '_me' : ''}`, { name: m.by })),
			!open || m.status === 'cancel' ? null : h('div', { class: 'row' },
				OPEN.includes(m.status) && m.side !== side ? [
					h('button', { type: 'button', class: 'go', onclick: () => intents.answer(getId(), m.from, m.mid, 'accept') }, t('meeting_do_accept')),
					h('button', { type: 'button', onclick: () => intents.answer(getId(), m.from, m.mid, 'decline') }, t('meeting_do_decline'))] : null,
				h('button', { type: 'button', onclick: () => {
					moving = m.id;
					newWhen.value = localInput(m.time);
					newPlace.value = m.place;
					newRecog.value = m.recognise || '';
					paint();
					newWhen.focus();
				} }, t('meet_reschedule')),
				m.status === 'decline' ? null : h('button', { type: 'button', onclick: () => {
					if (done(intents.propose(getId(), { meeting: { action: 'cancel', id: m.id } }), 'meet_sent_cancel') && moving === m.id) moving = null;
				} }, t('meet_cancel'))))) : [h('li', { class: 'muted' }, t('meet_none'))]);
		const moved = meetings.find((m) => m.id === moving);
		move.hidden = !open || !moved;
		if (moved) move.querySelector('#meet-move-h').textContent = t('meet_move_h', { when: formatTime(moved.time, 0) });
		propose.hidden = !open;
		agreement.hidden = !open;
		agrHead.textContent = t(a ? 'meet_agreement_revise' : 'meet_agreement_propose');
		// the form starts from the version in force, once per version (what is typed stays)
		const version = `${c.id}|${a ? a.version : 0}`;
		if (version !== filled) {
			filled = version;
			for (const f of FIELDS) agr[f].value = a ? a[f] : '';
		}
		fill(current, !a ? h('p', { class: 'small muted' }, t('meet_agreement_none'))
			: [h('h3', null, t('meet_agreement_h', { version: a.version })),
				h('dl', { class: 'profile' }, ...FIELDS.flatMap((f) => (a[f] ? [h('dt', null, t(`agreement_${f}`)), h('dd', { dir: 'auto' }, a[f])] : []))),
				h('p', { class: 'small', id: 'agreement-state', 'data-accepted': String(a.accepted) },
					a.accepted ? (a.acceptedBy === null ? t('meet_agreement_accepted_me') : t('meet_agreement_accepted', { name: a.acceptedBy }))
						: a.mine ? t('meet_agreement_waiting')
							// the other side's to accept: mine (with its form), or not (a colleague, the same side)
							: open && a.side !== side ? t('meet_agreement_open', { name: a.by }) : t('meet_agreement_pending', { name: a.by })),
				open && !a.accepted && a.side !== side
					? h('div', { class: 'row' }, h('button', { type: 'button', class: 'go', id: 'agreement-accept',
						onclick: () => intents.answer(getId(), a.from, a.mid, 'accept') }, t('agreement_do_accept'))) : null]);
	}

	return {
		el,
		update(s, c, messages) {
			if (c?.id !== shownId) {
				shownId = c?.id;
				moving = null;
				status.textContent = '';
			}
			last = { c, messages: messages || [] };
			paint();
		},
	};
}
