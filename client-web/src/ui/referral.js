// referral.js (ui): the client's view of a referral of its case to a
// partner programme (PROTOCOL.md, "Referrals"), as client-cli/referral.c
// shows it. A proposal shows the reason and what the partner offers (the
// counsellor's message to the client alone, "Referral proposed to
// programme N. Reason: … What they offer: …", as the CLI writes it), the
// partner's public profile (programme.list), and Accept / Decline;
// nothing moves without the yes. After it: Withdraw until the handover;
// the partner's counsellor as what it is ("new counsellor from partner
// programme B, certified by B, B endorsed by A", only once its
// certificate checked out through A's partner statement: referral.js);
// the summary draft to approve or to ask changes of (a request that goes
// to A's counsellor alone, never to B's); then the handover. Every state
// in plain words.

import { h, fill } from './dom.js';
import { t } from '../i18n/index.js';
import { summaryDigest, cancelledWhy } from '../referral.js';
import { sidesOf } from '../meetings.js';

/* The reason and the offer of the newest proposal message to partner in
 * messages (received, not mine) from the case's counsellor (sides:
 * sidesOf the case; a colleague's text is no proposal), or null. */
export function proposalOf(messages, partner, sides) {
	const head = `Referral proposed to programme ${partner}.`;
	const m = [...messages].reverse().find((x) => !x.mine && x.state === 'received' && typeof x.text === 'string' &&
		sides.get(x.from) === 'counsellor' && x.text.startsWith(head));
	if (!m) return null;
	const rest = m.text.slice(head.length);
	const ri = rest.indexOf(' Reason: '), oi = rest.indexOf(' What they offer: ');
	return {
		mid: m.mid,
		reason: ri >= 0 ? rest.slice(ri + 9, oi > ri ? oi : undefined) : '',
		offer: oi >= 0 ? rest.slice(oi + 18) : '',
	};
}

/* The newest text from the proposing counsellor (key from) since the
 * proposal, not the proposal itself: the draft the client reads. */
function draftOf(messages, from, proposal) {
	return [...messages].reverse().find((m) => !m.mine && m.state === 'received' && m.from === from &&
		typeof m.text === 'string' && m.text && !m.meeting && !m.agreement && !m.referral &&
		(!proposal || m.mid !== proposal.mid)) || null;
}

function digestOf(text) {
	try {
		return summaryDigest(text);
	} catch {
		return null;
	}
}

/*
 * The referral card of the client's conversation. intents: referralAnswer(id,
 * accept, partner: the one the card shows), referralWithdraw(id),
 * approveSummary(id, text),
 * askChanges(id, key, text) (the request for changes to the counsellor
 * of key alone; true when queued).
 */
export function referralPanel(intents) {
	const el = h('section', { class: 'card referral', id: 'referral', 'aria-labelledby': 'ref-h' });
	let sig = '';
	el.hidden = true;
	// the request for changes: made once, so that what is typed survives a repaint
	const changes = h('textarea', { id: 'ref-changes-text', dir: 'auto', rows: '3', maxlength: '8000' });
	let asking = false, asked = null;	// asked: the draft's mid a request went about
	let shownId = null;

	const fmt = (f) => {
		const key = `referral_format_${String(f).replace(/-/g, '_')}`;
		return t(key) === key ? f : t(key);
	};

	function profile(p) {
		if (!p) return null;
		// a programme.list entry is the server's: strings are taken, the rest is not shown
		const row = (key, v) => (v ? [h('dt', null, t(key)), h('dd', { dir: 'auto' }, v)] : []);
		const strings = (a) => (Array.isArray(a) ? a.filter((x) => typeof x === 'string') : []);
		const list = (a) => strings(a).join(', ');
		return h('dl', { class: 'profile', id: 'ref-profile' },
			...row('referral_about', typeof p.description === 'string' ? p.description : ''),
			...row('referral_languages', list(p.languages)),
			...row('referral_topics', list(p.topics)), ...row('referral_regions', list(p.regions)),
			...row('referral_formats', list(strings(p.formats).map((f) => fmt(f)))));
	}

	return {
		el,
		update(s, c, messages) {
			const r = c.referral;
			if (c.id !== shownId) {
				shownId = c.id;
				asking = false;
				asked = null;
				changes.value = '';
			}
			const name = (id) => s.programmes?.[id]?.name || t('referral_programme_n', { id });
			// the case's own counsellor, not a colleague: the draft is its
			const first = c.participants.find((p) => p.role === 'counsellor' && p.as === 'counsellor' && (!r?.counsellor || p.key !== r.counsellor.key));
			const gone = (c.former || []).find((p) => p.reason === 'referral');
			const proposal = r ? proposalOf(messages, r.partner, sidesOf(c)) : null;
			const draft = r && r.status === 'accepted' && first ? draftOf(messages, first.key, proposal) : null;
			const sum = draft ? digestOf(draft.text) : null;
			// a cancellation as what it was: the partnership's end, the counsellor, or not known
			const why = cancelledWhy(r, c.former);
			const state = r?.status !== 'cancelled' ? r?.status : why ? `cancelled_${why}` : 'cancelled_unknown';
			const next = JSON.stringify([c.id, r, s.programmes?.[r?.partner], s.programmes?.[r?.from], proposal, draft && draft.mid,
				first && first.name, gone && gone.name, s.busy, s.lang, asking, asked, state]);
			if (next === sig) return;
			sig = next;
			el.hidden = !r;
			if (!r) return fill(el);
			const vars = { partner: name(r.partner), from: name(r.from), counsellor: first ? first.name : gone ? gone.name : '',
				name: r.counsellor ? r.counsellor.name : '' };
			const parts = [h('h2', { id: 'ref-h' }, t(`referral_h_${r.status}`, vars)),
				h('p', { class: 'status-line', role: 'status', id: 'ref-state', 'data-status': r.status }, t(`referral_state_${state}`, vars))];
			if (r.status === 'proposed') {
				if (proposal?.reason) parts.push(h('p', null, h('strong', null, `${t('referral_reason')}: `), h('span', { dir: 'auto', id: 'ref-reason' }, proposal.reason)));
				if (proposal?.offer) parts.push(h('p', null, h('strong', null, `${t('referral_offer')}: `), h('span', { dir: 'auto', id: 'ref-offer' }, proposal.offer)));
				parts.push(profile(s.programmes?.[r.partner]), h('p', { class: 'small' }, t('referral_consent', vars)),
					h('div', { class: 'row' },
						h('button', { type: 'button', id: 'ref-accept', disabled: s.busy, onclick: () => intents.referralAnswer(c.id, true, r.partner) }, t('referral_accept')),
						h('button', { type: 'button', id: 'ref-decline', disabled: s.busy, onclick: () => intents.referralAnswer(c.id, false) }, t('referral_decline'))));
			}
			const who = r.counsellor;
			if ((r.status === 'accepted' || r.status === 'completed') && who) {
				// what the partner's counsellor is, only as far as its certificate checked out
				parts.push(h('p', { id: 'ref-counsellor', 'data-certified': String(who.certified) },
					who.certified ? t('referral_counsellor_trusted', vars)
						: who.refused ? h('strong', null, t('referral_counsellor_refused', { ...vars, why: t(`refused_${who.refused}`) }))
							: t('referral_counsellor_checking', vars)));
				if (r.status === 'accepted' && who.joining) parts.push(h('p', { class: 'small' }, t('referral_joining', vars)));
			}
			if (r.status === 'accepted' && who && !who.joining) {
				if (r.summarySent) {
					parts.push(h('p', { id: 'ref-summary-state' }, t('referral_summary_sent', vars)));
				} else if (draft) {
					const approved = r.approved && sum === r.approved;
					parts.push(h('h3', null, t('referral_draft_h', vars)),
						h('blockquote', { dir: 'auto', id: 'ref-draft' }, draft.text),
						h('p', { class: 'small', id: 'ref-summary-state' }, t(approved ? 'referral_draft_approved' : r.approved ? 'referral_draft_new' : 'referral_draft_ask', vars)),
						approved ? null : h('div', { class: 'row' },
							h('button', { type: 'button', class: 'go', id: 'ref-approve', disabled: s.busy || !sum,
								onclick: () => intents.approveSummary(c.id, draft.text) }, t('referral_approve')),
							asking ? null : h('button', { type: 'button', id: 'ref-changes', onclick: () => {
								asking = true;
								if (!changes.value) changes.value = t('referral_changes_prefix');
								sig = '';
								this.update(s, c, messages);
								changes.focus();
							} }, t('referral_changes'))));
					// the request for changes: to the counsellor who wrote the draft alone
					if (!approved && asking) {
						parts.push(h('label', { for: changes.id }, t('referral_changes_label', vars)), changes,
							h('div', { class: 'row' }, h('button', { type: 'button', id: 'ref-changes-send', onclick: () => {
								if (!changes.value.trim() || !intents.askChanges(c.id, first.key, changes.value)) return;
								changes.value = '';
								asking = false;
								asked = draft.mid;
								sig = '';
								this.update(s, c, messages);
							} }, t('referral_changes_send', vars))));
					}
					if (asked === draft.mid && !approved)
						parts.push(h('p', { class: 'small', role: 'status', id: 'ref-changes-state' }, t('referral_changes_sent', vars)));
				} else {
					parts.push(h('p', { class: 'small', id: 'ref-summary-state' }, t('referral_draft_none', vars)));
				}
			}
			if (r.status === 'proposed' || r.status === 'accepted') {
				if (r.status === 'accepted')
					parts.push(h('div', { class: 'row' }, h('button', { type: 'button', id: 'ref-withdraw', disabled: s.busy,
						onclick: () => intents.referralWithdraw(c.id) }, t('referral_withdraw'))));
			}
			fill(el, parts);
		},
	};
}

/*
 * The counsellor's referral to a partner programme, in the tools panel
 * of the open case (getId gives it): propose (a partner of the
 * directory, the reason and the offer for the client alone), cancel;
 * once the partner's counsellor joined, the summary draft to the client
 * alone, the text the client approved to the partner's counsellor alone,
 * then the handover. intents: partners(), referralPropose(id, partner,
 * why), referralWithdraw(id), referralDraft(id, text),
 * referralSummary(id, text), referralComplete(id).
 */
export function referralTool(getId, intents) {
	const field = (label, control) => [h('label', { for: control.id }, label), control];
	const select = h('select', { id: 'tool-ref-partner' });
	const reason = h('textarea', { id: 'tool-ref-reason', dir: 'auto', rows: '2', maxlength: '4000' });
	const offer = h('textarea', { id: 'tool-ref-offer', dir: 'auto', rows: '2', maxlength: '4000' });
	const summary = h('textarea', { id: 'tool-ref-summary', dir: 'auto', rows: '4', maxlength: '8000' });
	const state = h('p', { class: 'small', role: 'status', id: 'tool-ref-state' });
	const none = h('p', { class: 'small muted', hidden: true }, t('tool_ref_no_partners'));
	const propose = h('div', null, none, ...field(t('tool_ref_partner'), select), ...field(t('tool_ref_reason'), reason),
		...field(t('tool_ref_offer'), offer),
		h('div', { class: 'row' }, h('button', { type: 'button', id: 'tool-ref-propose', onclick: async () => {
			const partner = Number(select.value);
			if (!Number.isSafeInteger(partner) || partner <= 0) return;
			if (await intents.referralPropose(getId(), partner, { reason: reason.value.trim(), offer: offer.value.trim() }))
				reason.value = offer.value = '';
		} }, t('tool_ref_propose'))));
	const cancel = h('button', { type: 'button', id: 'tool-ref-cancel', onclick: () => intents.referralWithdraw(getId()) }, t('tool_ref_cancel'));
	const draftBtn = h('button', { type: 'button', id: 'tool-ref-draft', onclick: () => intents.referralDraft(getId(), summary.value) }, t('tool_ref_draft'));
	const sendBtn = h('button', { type: 'button', id: 'tool-ref-send', onclick: () => intents.referralSummary(getId(), summary.value) });
	const completeBtn = h('button', { type: 'button', id: 'tool-ref-complete', onclick: () => intents.referralComplete(getId()) }, t('tool_ref_complete'));
	const handover = h('div', null, ...field(t('tool_ref_summary'), summary), h('div', { class: 'row' }, draftBtn, sendBtn));
	const el = h('section', { id: 'tool-partner-referral' }, h('h3', null, t('tool_ref_title')), state, propose, handover,
		h('div', { class: 'row' }, cancel, completeBtn));
	let partners = [];
	let loaded = false;

	function paint(s, c) {
		const r = c?.referral;
		const open = r && (r.status === 'proposed' || r.status === 'accepted');
		const name = (id) => partners.find((p) => p.id === id)?.name || s.programmes?.[id]?.name || t('referral_programme_n', { id });
		const who = r?.counsellor;
		const vars = r ? { partner: name(r.partner), name: who ? who.name : '' } : {};
		propose.hidden = !!open || !c || (c.status !== 'active' && c.status !== 'paused');
		cancel.hidden = !open;
		const joined = r?.status === 'accepted' && who && !who.joining;
		handover.hidden = !joined || r.summarySent;
		completeBtn.hidden = !(joined && r.summarySent);
		sendBtn.textContent = t('tool_ref_send', vars);
		state.textContent = !r ? '' : r.status !== 'accepted' ? t(`tool_ref_state_${r.status}`, vars)
			: !who ? t('tool_ref_state_waiting', vars) : who.joining ? t('tool_ref_state_joining', vars)
				: r.summarySent ? t('tool_ref_state_sent', vars) : r.approved ? t('tool_ref_state_approved', vars) : t('tool_ref_state_accepted', vars);
	}

	let last = [null, null];
	return {
		el,
		/* Loads the directory's partners (once the panel opens). */
		async load() {
			if (loaded) return;
			const list = await intents.partners();
			if (!list) return;
			loaded = true;
			partners = list;
			fill(select, list.map((p) => h('option', { value: String(p.id) }, p.name)));
			none.hidden = list.length > 0;
			paint(...last);
		},
		update(s, c) {
			if (c?.id !== last[1]?.id) reason.value = offer.value = summary.value = '';
			last = [s, c];
			paint(s, c);
		},
	};
}
