// parts.js: pieces that the client's conversation and the counsellor's
// inbox share: the message log, the composer, the participant list and the
// safety numbers. Each is made once and updated in place.

import { h, fill, uid, byTouch } from './dom.js';
import { t, formatTime } from '../i18n/index.js';

const MARK = { queued: 'state_queued', sending: 'state_sending', sent: 'state_sent', delivered: 'state_delivered', failed: 'state_failed' };
/* The ticks of a sent and a delivered message: seen, not read out (the
 * word after them is). */
const TICKS = { sent: '✓', delivered: '✓✓' };

/* The words of a meeting, an agreement or a referral card message
 * (CRYPTO.md, kinds meeting, agreement and referral); the fields as they
 * came, set as text. */
function structured(m) {
	if (m.referral) {
		const r = m.referral;
		let s = `${t('referral_title', { name: r.name })}\n${t('referral_contact')}: ${r.contact}`;
		if (r.expect) s += `\n${t('referral_expect')}: ${r.expect}`;
		if (r.say) s += `\n${t('referral_say')}: ${r.say}`;
		return s;
	}
	if (m.meeting) {
		const x = m.meeting;
		let s = t(`meeting_${x.action}`, { id: x.id, when: formatTime(x.time, 0) });
		if (x.place) s += ` ${t('meeting_place', { place: x.place })}`;
		if (x.recognise) s += ` ${t('meeting_recognise', { recognise: x.recognise })}`;
		return s;
	}
	const a = m.agreement;
	let s = t(`agreement_${a.action}`, { version: a.version });
	if (a.action !== 'accept')
		for (const f of ['objectives', 'formats', 'frequency', 'crisis']) s += `\n${t(`agreement_${f}`)}: ${a[f]}`;
	return s;
}

/* What a message's painting depends on. */
function sigOf(m) {
	return `${m.state}|${m.text === null}|${m.reason || ''}|${m.ts}|${m.count || ''}|${m.reset || ''}|${(m.warn || []).join()}|${m.to || ''}|${m.name}`;
}

/* The messages of one case, keyed by sender and mid; a role=log live region. A
 * meeting or the agreement is answered in its card (ui/meetings.js).
 * update(id, messages, nameOf): nameOf(key) names a participant (for a
 * text sent to one alone). */
export function messageLog(label, onRetry) {
	const list = h('ol', { class: 'log' });
	const el = h('div', { role: 'log', 'aria-live': 'polite', 'aria-label': label }, list);
	const empty = h('li', { class: 'empty' }, t('no_messages'));
	const items = new Map();
	let caseId = null;
	list.append(empty);

	function item(m) {
		const bad = m.state === 'undecryptable' || m.state === 'refused' || m.state === 'report' || m.text === null;
		const li = h('li', { class: m.mine ? 'mine' : bad ? 'bad' : '', 'data-mid': m.mid, 'data-state': m.state });
		const who = h('div', { class: 'who' });
		const text = h('div', { class: 'text', dir: 'auto' });
		const meta = h('div', { class: 'meta' });
		li.append(who, text, meta);
		li._parts = { who, text, meta };
		return li;
	}
	let nameOf = () => undefined;
	function paint(li, m) {
		const bad = m.state === 'undecryptable' || m.state === 'refused' || m.state === 'report' || (!m.mine && m.text === null);
		li._parts.who.textContent = m.mine ? t('you') : m.name;
		li._parts.text.textContent = m.state === 'report' ? t('msg_report', { name: m.name, count: m.count })
			: bad ? t(m.state === 'refused' ? 'msg_refused' : 'msg_undecryptable')
				: m.meeting || m.agreement || m.referral ? structured(m) : m.text;
		li.className = m.mine ? 'mine' : bad ? 'bad' : '';
		li.dataset.state = m.state;
		const at = new Date(m.ts * 1000);
		const time = h('time', { datetime: Number.isFinite(at.getTime()) ? at.toISOString() : null }, formatTime(m.ts));
		const parts = [time];
		if (m.mine && MARK[m.state]) {
			parts.push(' · ', h('span', { class: 'mark' },
				TICKS[m.state] ? h('span', { class: 'ticks', 'aria-hidden': 'true' }, `${TICKS[m.state]} `) : null,
				t(MARK[m.state])));
		}
		// a text for one participant alone says so
		if (m.mine && m.to) parts.push(' · ', h('span', { class: 'alone' }, t('msg_to_alone', { name: nameOf(m.to) || '?' })));
		if (m.mine && m.state === 'queued' && m.reason && m.reason !== 'case_waiting')
			parts.push(' · ', t(`reason_${m.reason}`) !== `reason_${m.reason}` ? t(`reason_${m.reason}`) : t(`err_${m.reason}`));
		if (bad && m.reason) parts.push(' · ', t(`reason_${m.reason}`) === `reason_${m.reason}` ? m.reason : t(`reason_${m.reason}`));
		if (m.state === 'undecryptable' && m.reset) parts.push(' · ', t('msg_reset'));
		for (const w of m.warn || []) parts.push(' · ', h('span', { class: 'warn' }, t(`bind_${w}`)));
		if (m.mine && m.state === 'failed' && m.reason) parts.push(' · ', t(`err_${m.reason}`) === `err_${m.reason}` ? t('err_generic') : t(`err_${m.reason}`));
		if (m.mine && m.state === 'failed' && onRetry && !li._retried)
			parts.push(' ', h('button', { type: 'button', class: 'link retry', onclick: (e) => {
				if (onRetry(m.text)) {
					li._retried = true;
					e.target.remove();
				}
			} }, t('send_again')));
		fill(li._parts.meta, parts);
		li._sig = sigOf(m);
	}
	return {
		el,
		update(id, messages, names, closed = false) {
			if (names) nameOf = names;
			if (id !== caseId) {
				caseId = id;
				items.clear();
				fill(list, empty);
			}
			empty.hidden = messages.length > 0;
			// nobody writes into a closed conversation
			empty.textContent = t(closed ? 'no_messages_closed' : 'no_messages');
			// rows of messages no longer kept (past the history's bounds) go
			const keep = new Set(messages.map((m) => `${m.mine ? '' : m.from} ${m.mid}`));
			for (const [key, li] of items) {
				if (keep.has(key)) continue;
				li.remove();
				items.delete(key);
			}
			for (const m of messages) {
				// a row a sender's message: the server chooses the mid it
				// pushes, and may push another's message under one of mine
				// or of a third's
				const key = `${m.mine ? '' : m.from} ${m.mid}`;
				let li = items.get(key);
				if (!li) {
					li = item(m);
					items.set(key, li);
					list.append(li);
				}
				if (li._sig !== sigOf(m)) paint(li, m);
			}
		},
	};
}

/* The composer's hint for a conversation open (waiting: no counsellor yet). */
export function composeHint(waiting) {
	return t(`compose_hint${waiting ? '_waiting' : ''}${byTouch() ? '_touch' : ''}`);
}

/*
 * The composer: a labelled text box and a send button. Enter sends,
 * Shift+Enter starts a new line; by touch, Enter starts a new line and
 * the button sends. The text stays in the box until onSend returns true
 * (the core took it into its outbox).
 */
export function composer({ label, onSend, onDraft }) {
	const id = uid('compose');
	const box = h('textarea', { id, dir: 'auto', rows: '2', maxlength: '16000', autocomplete: 'off', 'aria-describedby': `${id}-h` });
	const hint = h('span', { class: 'hint', id: `${id}-h` });
	const send = h('button', { type: 'submit', class: 'send' });
	const form = h('form', { class: 'composer' },
		h('label', { for: id }, label), hint, h('div', { class: 'send-row' }, box, send));
	const submit = () => {
		if (onSend(box.value)) {
			box.value = '';
			onDraft('');
		}
		box.focus();
	};
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		submit();
	});
	box.addEventListener('keydown', (e) => {
		if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !byTouch()) {
			e.preventDefault();
			submit();
		}
	});
	box.addEventListener('input', () => onDraft(box.value));
	send.textContent = t('send');
	return {
		el: form,
		box,
		update({ draft, hintText, disabled }) {
			if (document.activeElement !== box && draft !== undefined && box.value !== draft) box.value = draft;
			hint.textContent = hintText || '';
			send.disabled = !!disabled;
			// disabled under the cursor (the conversation closed while the
			// user typed): focus goes to the hint that says why, not to the
			// page's body
			const had = document.activeElement === box;
			box.disabled = !!disabled;
			if (disabled && had) {
				hint.setAttribute('tabindex', '-1');
				hint.focus();
			}
		},
	};
}

const COLLEAGUES = ['supervisor', 'co-counsellor', 'language-helper'];
const REASONS = ['reassigned', 'disabled', 'removed', 'left', 'referral', 'partnership'];

/*
 * Who is in the case: every participant with its role, a colleague with
 * what it is there for and whether it is still joining; who has left and
 * why; nobody invisible. intents (optional): confirmMembers(id, members)
 * once the user has seen a colleague joining (members: the membership
 * version shown), removeColleague(id, key).
 */
export function participantList(intents) {
	const el = h('div', { class: 'people' });
	let sig = '';
	const as = (p) => (COLLEAGUES.includes(p.as) || p.as === 'referral' ? ` (${t(`as_${p.as.replace(/-/g, '_')}`)})` : '');
	return {
		el,
		update(c) {
			const former = c.former || [];
			const s = JSON.stringify([c.id, c.members, c.seen, c.toConfirm, c.participants.map((p) => [p.key, p.name, p.role, p.certified, p.refused, p.changed, p.verified, p.as, p.joining]),
				former.map((p) => [p.key, p.left, p.reason])]);
			if (s === sig) return;
			sig = s;
			const me = c.participants.find((p) => p.me);
			const mayRemove = me && !COLLEAGUES.includes(me.as);
			const list = h('ul', null, ...c.participants.map((p) => h('li', { 'data-key': p.key, 'data-role': p.role, 'data-state': p.joining ? 'joining' : 'joined' },
				h('strong', null, p.me ? t('you') : p.name), ' — ', t(p.role === 'client' && !p.me ? 'role_client_other' : `role_${p.role}`), as(p),
				p.joining ? h('strong', null, ` · ${t('member_joining')}`) : '',
				p.role === 'counsellor' && p.certified ? ` · ${t('certified')}` : '',
				p.role === 'counsellor' && p.refused ? h('strong', null, ` · ${t(`refused_${p.refused}`)}`) : '',
				p.changed ? h('strong', null, ` · ${t('key_changed')}`) : '',
				p.verified ? ` · ${t('verified')}` : '',
				intents && mayRemove && !p.me && COLLEAGUES.includes(p.as)
					? [' ', h('button', { type: 'button', class: 'link', onclick: () => intents.removeColleague(c.id, p.key) }, t('member_remove'))] : '')));
			const gone = former.map((p) => h('li', { 'data-key': p.key, 'data-state': 'left', 'data-reason': p.reason },
				h('strong', null, p.name), as(p), ' — ', t(`member_left_${REASONS.includes(p.reason) ? p.reason : 'left'}`)));
			// someone else joining: the user confirms having seen it, unless
			// this page confirmed this version already (or invited them)
			const joining = c.participants.some((p) => p.joining && !p.me);
			fill(el, list, gone.length > 0 ? h('ul', { class: 'former' }, ...gone) : '',
				!joining || !intents ? ''
					: c.toConfirm ? h('p', { class: 'card warn', role: 'status' }, t('member_joining_notice'), ' ',
						h('button', { type: 'button', onclick: () => intents.confirmMembers(c.id, c.members, c.participants.map((p) => p.key)) }, t('member_confirm')))
						: h('p', { class: 'card', role: 'status' }, t('member_joining_wait')));
		},
	};
}

/* The safety numbers of the other participants, with a plain explanation. */
export function safetyPanel(onVerify) {
	const body = h('div');
	const el = h('details', { class: 'card safety' }, h('summary', null, t('safety_title')),
		h('p', { class: 'small' }, t('safety_explain')), body);
	let sig = '';
	return {
		el,
		update(list) {
			const s = JSON.stringify(list);
			if (s === sig) return;
			sig = s;
			if (!list.length) {
				fill(body, h('p', { class: 'muted small' }, t('safety_none')));
				return;
			}
			fill(body, list.map((p) => h('div', { class: 'safety-one', 'data-key': p.key },
				h('h3', null, t('safety_with', { name: p.name })),
				h('div', { class: 'safety-digits', 'aria-label': t('safety_digits_label', { name: p.name }), 'data-number': p.number },
					p.number.split(/\s+/).map((g) => h('span', null, g))),
				h('p', { class: 'small' }, p.colleague ? t('safety_colleague') : p.changed ? h('strong', null, t('safety_changed'))
					: p.verified ? t('safety_verified') : t('safety_unverified')),
				p.colleague || (p.verified && !p.changed) ? null
					// the number shown is the one verified: the core checks it is this key's
					: h('button', { type: 'button', onclick: () => onVerify(p.key, p.number) }, t('safety_mark_verified')))));
		},
	};
}

/*
 * The question about a programme key this device was not given: who the
 * programme is, its fingerprint to compare with what the programme
 * published, and two answers. Nothing is sent to its counsellors until
 * the user trusts it.
 */
export function trustPrompt(intents) {
	const el = h('section', { class: 'card trust', 'aria-labelledby': 'trust-title', hidden: true });
	let sig = '', shown = '';
	return {
		el,
		update(list) {
			const p = list[0];
			const s = p ? `${p.key}|${t('trust_title')}` : '';
			if (s === sig) return;
			sig = s;
			el.hidden = !p;
			if (!p) {
				fill(el);
				return;
			}
			const who = p.name ? t('trust_who', { name: p.name }) : t('trust_who_unnamed', { id: String(p.id) });
			fill(el,
				h('h2', { id: 'trust-title' }, t('trust_title')),
				h('p', null, who),
				h('p', null, t('trust_compare')),
				h('p', { class: 'fingerprint', dir: 'ltr', 'data-key': p.key, 'aria-label': t('trust_fingerprint_label') },
					p.fingerprint.split(' ').map((g) => h('span', null, g))),
				h('p', { class: 'small' }, t('trust_explain')),
				h('div', { class: 'actions' },
					h('button', { type: 'button', class: 'primary', onclick: () => intents.trustProgramme(p.key) }, t('trust_yes')),
					h('button', { type: 'button', onclick: () => intents.trustLater(p.key) }, t('trust_later'))));
			if (shown !== p.key && el.isConnected) {
				// a decision that holds the conversation: brought to the eye and the screen reader
				shown = p.key;
				const title = el.querySelector('h2');
				title.setAttribute('tabindex', '-1');
				title.focus({ preventScroll: true });
				el.scrollIntoView({ block: 'start' });
			}
		},
	};
}
