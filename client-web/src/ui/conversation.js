// conversation.js: the client's conversation, from waiting to closed. It
// shows who is in the case (every participant, with roles), the messages
// with their time and state, the meetings and the counselling agreement
// (ui/meetings.js), the counsellor's safety number, what to do in an
// emergency, and how this conversation is kept (on this device: for
// how long). The client can write at once: while the case waits, the core
// keeps the text in its outbox. Once the case is closed, a small optional
// form asks for anonymous feedback (two ratings and a text for the
// programme's admins), until it is sent or declined. A request that closed
// without a counsellor, and not from this page, expired: the page says so
// (the server closes a waiting case whose client stayed away, PROTOCOL.md
// "Waiting cases"). At the end, apart
// from the rest, the client can delete its account: one button, then one
// confirmation.

import { h, fill, uid } from './dom.js';
import { t, formatTime } from '../i18n/index.js';
import { HISTORY_DAYS, feedbackOpen } from '../app/store.js';
import { FEEDBACK_TEXT_MAX } from '../proto/feedback.js';
import { messageLog, composer, composeHint, participantList, safetyPanel } from './parts.js';
import { referralPanel } from './referral.js';
import { meetingsCard } from './meetings.js';

/* A tap on "delete" that lands this soon after the question appeared is
 * the second half of a double tap, not an answer: the button is disabled
 * until then. */
const ERASE_SETTLE_MS = 800;

const utf8Length = (text) => new TextEncoder().encode(text).length;

export function conversationScreen(state, intents) {
	const title = h('h1', { id: 'conv-h' });
	const status = h('p', { class: 'status-line' });
	const waiting = h('div', { class: 'card warn', id: 'waiting' });
	const emergency = h('div', { class: 'card small' },
		h('h2', null, t('emergency_title')), h('p', null, t('emergency_text')));
	const people = participantList(intents);
	const peopleCard = h('section', { class: 'people-line', 'aria-labelledby': 'people-h' },
		h('h2', { id: 'people-h' }, t('people_title')), people.el);
	const log = messageLog(t('messages_label'), (text) => intents.send(currentId, text));
	let currentId = null;
	const comp = composer({
		label: t('compose_label'),
		onSend: (text) => intents.send(currentId, text),
		onDraft: (text) => intents.draft(currentId, text),
	});
	const referral = referralPanel(intents);
	const meetings = meetingsCard(() => currentId, intents);
	const safety = safetyPanel((key, number) => intents.verify(currentId, key, number));
	const keep = h('section', { class: 'card', 'aria-labelledby': 'keep-h' });
	const actions = h('div', { class: 'row' });
	const erase = h('section', { class: 'card erase', 'aria-labelledby': 'erase-h' });
	const feedback = h('section', { class: 'card feedback', 'aria-labelledby': 'fb-h', id: 'feedback' });
	let confirmClose = false;
	let confirmReassign = false;	// the counsellor left never comes back
	let keepSig = '';
	let askErase = false, eraseSettled = false, eraseAsks = 0, eraseSig = '', eraseState = null;
	let fbSig = '';
	let fbBusyFocus = false;	// the send button had the focus when it was disabled

	const el = h('section', { 'aria-labelledby': 'conv-h' },
		title, status, waiting, referral.el, peopleCard,
		h('h2', { class: 'sr-only' }, t('messages_label')), log.el, comp.el, feedback, meetings.el,
		safety.el, keep, emergency, actions, erase);

	function paintKeep(s) {
		const sig = `${s.mode}|${s.recovery}|${s.historyDays}`;
		if (sig === keepSig) return;
		keepSig = sig;
		if (s.mode === 'device') {
			const id = uid('history');
			const sel = h('select', { id, 'aria-describedby': `${id}-h`,
				onchange: (e) => intents.setHistoryDays(Number(e.target.value)) },
			HISTORY_DAYS.map((d) => h('option', { value: String(d), selected: d === s.historyDays },
				t(`history_keep_${d}`))));
			fill(keep, h('h2', { id: 'keep-h' }, t('mode_device')), h('p', { class: 'small' }, t('kept_device')),
				h('div', { class: 'field' }, h('label', { for: id }, t('history_keep')),
					h('span', { class: 'hint', id: `${id}-h` }, t('history_keep_hint')), sel));
			return;
		}
		const parts = [h('h2', { id: 'keep-h' }, t('mode_trace')), h('p', { class: 'small' }, t('kept_trace'))];
		if (!s.recovery) {
			parts.push(h('button', { type: 'button', id: 'show-recovery', onclick: () => intents.showRecovery() }, t('recovery_show')));
		} else {
			const file = new Blob([`${t('recovery_file_head')}\n\n${s.recovery}\n`], { type: 'text/plain' });
			const href = URL.createObjectURL(file);
			parts.push(
				h('p', { class: 'small' }, t('recovery_explain')),
				h('p', { class: 'code', id: 'recovery-code', tabindex: '0', 'aria-label': t('recovery_code') }, s.recovery),
				h('div', { class: 'row' },
					h('a', { class: 'button', href, download: 'recovery-code.txt', id: 'recovery-download' }, t('recovery_download')),
					h('button', { type: 'button', onclick: () => { URL.revokeObjectURL(href); intents.hideRecovery(); } }, t('recovery_hide'))));
		}
		fill(keep, parts);
	}

	/*
	 * The client's buttons; want: the one to focus (a confirmation just
	 * asked for). Painted again at every change of the case (a place in
	 * the queue): the focus stays on the button of the same id; when the
	 * button pressed gave way (ended: "Start a new conversation"), it goes
	 * to the heading that says what happened, not to the page's body.
	 */
	function paintActions(c, want) {
		const btns = [];
		if (c.status === 'closed') {
			btns.push(h('button', { type: 'button', id: 'act-new', onclick: () => intents.newRequest() }, t('new_conversation')));
		} else {
			if (c.status !== 'waiting')
				btns.push(confirmReassign
					? h('button', { type: 'button', id: 'reassign-yes', onclick: () => { confirmReassign = false; intents.reassign(c.id); } }, t('reassign_confirm'))
					: h('button', { type: 'button', id: 'act-reassign', onclick: () => { confirmReassign = true; paintActions(c, 'reassign-yes'); } }, t('reassign')));
			btns.push(confirmClose
				? h('button', { type: 'button', id: 'close-yes', onclick: () => { confirmClose = false; intents.closeCase(c.id); } }, t('close_confirm'))
				: h('button', { type: 'button', id: 'act-close', onclick: () => { confirmClose = true; paintActions(c, 'close-yes'); } }, t('close_case')));
		}
		const a = document.activeElement;
		const had = actions.contains(a) ? a.id : null;
		fill(actions, btns);
		if (had === null && !want) return;
		const key = want || had;
		const next = key ? actions.querySelector(`#${CSS.escape(key)}`) : null;
		if (next) next.focus();
		else if (had !== null) {
			title.setAttribute('tabindex', '-1');
			title.focus();
		}
	}

	function paintErase(s) {
		const err = s.error && s.error.key.startsWith('err_erase') ? s.error.key : '';
		const settled = askErase && eraseSettled;
		const sig = `${askErase}|${settled}|${s.busy}|${s.mode}|${err}`;
		eraseState = s;
		if (sig === eraseSig) return;
		eraseSig = sig;
		const parts = [h('h2', { id: 'erase-h' }, t('erase_account_title')),
			h('p', { class: 'small' }, t(s.mode === 'device' ? 'erase_account_text_device' : 'erase_account_text'))];
		if (!askErase) {
			parts.push(h('button', { type: 'button', class: 'danger', id: 'erase-account',
				onclick: () => {
					const ask = ++eraseAsks;
					askErase = true;
					eraseSettled = false;
					setTimeout(() => {
						if (ask !== eraseAsks || !askErase) return;
						eraseSettled = true;
						paintErase(eraseState);
					}, ERASE_SETTLE_MS);
					intents.dismiss();
					eraseSig = '';
					paintErase(s);
					erase.querySelector('#erase-ask').focus();
				} }, t('erase_account')));
		} else {
			parts.push(h('p', { class: 'ask', id: 'erase-ask', tabindex: '-1' }, t('erase_account_ask')),
				h('div', { class: 'row' },
					h('button', { type: 'button', id: 'erase-no', disabled: s.busy,
						onclick: () => { askErase = false; eraseSig = ''; paintErase(s); erase.querySelector('#erase-account').focus(); } },
					t('erase_account_no')),
					h('button', { type: 'button', class: 'danger go', id: 'erase-yes', disabled: s.busy || !settled,
						onclick: () => { if (eraseSettled) intents.eraseAccount(); } },
					s.busy ? t('erase_account_busy') : t('erase_account_yes'))));
		}
		// said here too, near the buttons; the alert at the top is the one read out
		if (err) parts.push(h('p', { class: 'alert' }, t(err)));
		fill(erase, parts);
	}

	/* The feedback form of closed case c (one that had a counsellor), until
	 * it is sent or declined; then what became of it, while this view lives.
	 * What is entered goes to the state as a draft (intents.feedbackDraft). */
	function paintFeedback(s, c) {
		const open = feedbackOpen(c);
		const reach = open ? s.feedbackReach[c.id] || '' : '';
		const said = s.feedbackSaid && s.feedbackSaid.id === c.id ? s.feedbackSaid.key : '';
		const err = open && s.error && s.error.key.startsWith('err_feedback') ? s.error.key : '';
		const sig = `${c.id}|${open}|${said}|${err}`;
		if (sig !== fbSig) {
			const lost = !document.activeElement || document.activeElement === document.body;
			const hadFocus = feedback.contains(document.activeElement) || (fbBusyFocus && lost);
			fbBusyFocus = false;
			fbSig = sig;
			feedback.hidden = !open && !said;
			if (open) fill(feedback, feedbackForm(s, c.id, err));
			else fill(feedback, said ? h('p', { role: 'status', id: 'fb-said' }, t(said)) : null);
			if (hadFocus && open) feedback.querySelector('#fb-send').focus();
			else if (hadFocus) {
				title.setAttribute('tabindex', '-1');
				title.focus();
			}
		}
		// said before anything is written: a text could not go now (no
		// admin key this page can trust; asked again when the text is
		// entered, and the send says what became of it)
		const noText = feedback.querySelector('#fb-no-text');
		if (noText) {
			noText.hidden = reach !== 'no';
			const box = feedback.querySelector('textarea');
			const by = `${box.id}-h ${box.id}-n`;
			box.setAttribute('aria-describedby', reach === 'no' ? `fb-no-text ${by}` : by);
		}
		const send = feedback.querySelector('#fb-send');
		if (send) {
			// disabled while it is sent, the button lets the focus go: it
			// comes back to the form's answer, or to the button
			if (s.busy && document.activeElement === send) fbBusyFocus = true;
			if (!s.busy && fbBusyFocus) {
				fbBusyFocus = false;
				send.disabled = false;
				// unless the user went elsewhere meanwhile
				if (!document.activeElement || document.activeElement === document.body) send.focus();
			}
			send.disabled = s.busy;
			feedback.querySelector('#fb-skip').disabled = s.busy;
			send.textContent = s.busy ? t('feedback_sending') : t('feedback_send');
		}
	}

	function feedbackForm(s, id, err) {
		const d = { helpful: null, recommend: null, text: '', ...s.feedbackDrafts[id] };
		const keep = () => intents.feedbackDraft(id, d);
		const rating = (name, q) => {
			const opts = [['yes', true], ['no', false], ['skip', null]].map(([v, val]) => {
				const rid = uid(`fb-${name}`);
				return h('span', { class: 'opt' },
					h('input', { type: 'radio', name: `fb-${name}-${id}`, id: rid, value: v, checked: d[name] === val,
						onchange: () => { d[name] = val; keep(); } }),
					h('label', { for: rid }, t(`feedback_opt_${v}`)));
			});
			return h('fieldset', null, h('legend', null, t(q)), h('div', { class: 'opts' }, opts));
		};
		const tid = uid('fb-text');
		const counter = h('span', { class: 'counter', id: `${tid}-n` });
		const box = h('textarea', { id: tid, dir: 'auto', rows: '3', maxlength: String(FEEDBACK_TEXT_MAX), autocomplete: 'off',
			'aria-describedby': `${tid}-h ${tid}-n`,
			oninput: () => { d.text = box.value; count(); keep(); },
			onfocus: () => intents.checkFeedback(id, true) });
		// bytes of UTF-8, as the protocol counts them
		function count() {
			const left = FEEDBACK_TEXT_MAX - utf8Length(box.value);
			counter.textContent = left >= 0 ? t('feedback_text_left', { n: left }) : t('feedback_text_over', { n: -left });
			counter.classList.toggle('over', left < 0);
		}
		box.value = d.text;
		count();
		return [
			h('h2', { id: 'fb-h' }, t('feedback_title')),
			h('p', { class: 'small' }, t('feedback_lead')),
			rating('helpful', 'feedback_helpful'),
			rating('recommend', 'feedback_recommend'),
			h('p', { class: 'notice', id: 'fb-no-text', hidden: true }, t('feedback_no_text')),
			h('div', { class: 'field' },
				h('label', { for: tid }, t('feedback_text')),
				h('span', { class: 'hint', id: `${tid}-h` }, t('feedback_text_hint', { n: FEEDBACK_TEXT_MAX })),
				box, counter),
			h('div', { class: 'row' },
				h('button', { type: 'button', class: 'go', id: 'fb-send',
					onclick: () => intents.sendFeedback(id, { ...d, text: box.value }) }, t('feedback_send')),
				h('button', { type: 'button', id: 'fb-skip', onclick: () => intents.skipFeedback(id) }, t('feedback_no_thanks'))),
			// said here too, near the buttons; the alert at the top is the one read out
			err ? h('p', { class: 'alert' }, t(err)) : null,
		];
	}

	let statusSig = '';
	return {
		el,
		update(s) {
			const entry = s.cases[s.current];
			if (!entry) {
				title.textContent = t('conv_loading');
				return;
			}
			const c = entry.case;
			currentId = c.id;
			const counsellor = c.participants.find((p) => p.role === 'counsellor');
			// a request that closed without a counsellor, and not from here, expired
			const expired = c.status === 'closed' && !counsellor && !s.closedHere.includes(c.id);
			const sig = `${c.id}|${c.status}|${counsellor ? counsellor.name : ''}|${c.blocked}|${c.queuePosition}|${expired}|${s.lang}`;
			if (sig !== statusSig) {
				statusSig = sig;
				title.textContent = c.status === 'waiting' ? t('conv_waiting_title')
					: c.status === 'closed' ? t('conv_closed_title')
						: t('conv_with', { name: counsellor ? counsellor.name : '' });
				fill(status, h('span', { class: `badge ${c.status}` }, t(`status_${c.status}`)),
					counsellor && counsellor.certified ? h('span', { class: 'small muted' }, t('counsellor_certified')) : null);
				waiting.hidden = c.status !== 'waiting' && !expired;
				if (expired) fill(waiting, h('h2', null, t('expired_title')), h('p', { id: 'expired' }, t('expired_text')));
				else fill(waiting, h('h2', null, t('waiting_title')),
					c.queuePosition ? h('p', { id: 'queue-position' }, t('queue_position', { n: c.queuePosition })) : null,
					h('p', null, t('waiting_since', { time: formatTime(c.created) })),
					c.urgency === 'high' ? h('p', null, t('waiting_urgent')) : null,
					// a topic is a constraint (PROTOCOL.md, case.request): said,
					// with the way out
					c.topic ? h('p', { id: 'waiting-topic' }, t('waiting_topic')) : null,
					h('p', null, t('waiting_write')));
				paintActions(c);
			}
			people.update(c);
			referral.update(s, c, entry.messages);
			log.update(c.id, entry.messages, (key) => c.participants.find((p) => p.key === key)?.name, c.status === 'closed');
			// meetings and the agreement, once there is a counsellor
			meetings.el.hidden = !counsellor;
			meetings.update(s, c, entry.messages);
			comp.update({
				draft: s.drafts[c.id] || '',
				disabled: c.status === 'closed',
				hintText: c.status === 'waiting' ? composeHint(true)
					: c.blocked ? t('compose_hint_blocked') : c.status === 'closed' ? t('compose_hint_closed')
						: c.status === 'paused' ? `${t('compose_hint_paused')} ${composeHint(false)}` : composeHint(false),
			});
			safety.el.hidden = !counsellor;
			safety.update(entry.safety || []);
			paintFeedback(s, c);
			paintKeep(s);
			paintErase(s);
		},
	};
}
