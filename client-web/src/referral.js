// referral.js: a referral of a case to a partner programme as the web
// client sees and answers it (PROTOCOL.md, "Referrals"; CRYPTO.md, "A
// referral's trust"), the web mirror of client-cli/referral.c and of the
// referral part of client-cli/trust.c. Mixed into Core (core.js), whose
// ask(), entry(), caseUpdate(), chain() and e2e it uses.
//
// It keeps, per case, the partners its user said yes to there
// (e.accepted): a counsellor of such a partner is not refused as "not the
// programme you asked for", and its certificate is still checked under
// the partner's key, which trust.js takes only through the partner
// statement of a programme this device trusts (never because the server
// names it). After a handover the user consented to, the new counsellor's
// key takes the old one's place in the case, not as a changed key: only
// when the referral is completed to exactly that key, the counsellor
// pinned before left for "referral", and the partner is one the user
// said yes to in that case, a yes no handover used yet (e.yes; kept once
// the server took it or when its answer was lost, never for where the
// case is; the partners a handover used one for: e.used). The client
// approves the summary draft it read by its BLAKE2b-256 digest; the
// server never reads the text. A counsellor proposes, sends the draft to
// the client alone, the approved text (and no other) to the partner's
// counsellor alone, and hands over.

import sodium from 'libsodium-wrappers-sumo';
import { b64Encode } from './proto/frame.js';
import { bytesEqual } from './proto/bytes.js';
import { E2E, participantKey, participantRole } from './e2e.js';
import { isId, textBytes, usage } from './util.js';
import { OFR_CT_MAX } from './proto/frame.js';
import { OfframpError, ERR } from './proto/err.js';
import { ENVELOPE_V2_TEXT_MAX } from './proto/envelope.js';

/** Partners remembered per case as accepted (the oldest go). */
export const ACCEPTED_MAX = 8;
/** The BLAKE2b digest of an approved summary, in bytes. */
export const SUMMARY_DIGEST_BYTES = 32;
const STATUSES = ['proposed', 'accepted', 'declined', 'withdrawn', 'cancelled', 'completed'];

/** The digest (base64) the client approves for summary text. */
export function summaryDigest(text) {
	const b = textBytes(text, OFR_CT_MAX);
	try {
		return b64Encode(sodium.crypto_generichash(SUMMARY_DIGEST_BYTES, b, null));
	} finally {
		b.fill(0);
	}
}

/**
 * Why cancelled referral r (referralView's) was cancelled, as the case's
 * former participants (former) tell: 'partnership' when its partner
 * counsellor left with it because the partnership ended, 'counsellor'
 * when it left because the counsellor cancelled (removed), else null:
 * nobody of the partner had joined, and the case does not say which.
 */
export function cancelledWhy(r, former) {
	if (!r || r.status !== 'cancelled' || !Number.isSafeInteger(r.ended)) return null;
	const at = (Array.isArray(former) ? former : []).filter((p) => p?.left === r.ended);
	if (at.some((p) => p.reason === 'partnership')) return 'partnership';
	return at.some((p) => p.reason === 'removed') ? 'counsellor' : null;
}

/* The accepted partners kept in a case's saved state, bounded. */
export function acceptedOf(list) {
	return Array.isArray(list) ? list.filter(isId).slice(-ACCEPTED_MAX) : [];
}

export const referrals = {
	/* The programme a counsellor participant p of case entry e must be
	 * of: a partner's counsellor in the case (as "referral"), the
	 * referral's partner (for a client, only once it said yes to that
	 * partner: else no programme fits, 0); a colleague (PROTOCOL.md: "a
	 * colleague of its programme"), the programme of the case's
	 * counsellor; else a partner the user accepted a referral to there,
	 * else the one of the request (or null: none asked). A former
	 * participant is held to the last two only. */
	wantOf(e, p) {
		const k = e.kase, now = Array.isArray(k?.participants) && k.participants.includes(p);
		if (now && p?.as === 'referral') {
			const partner = isId(k.referral?.partner) ? k.referral.partner : 0;
			return this.acct?.role !== 'client' || (e.accepted || []).includes(partner) ? partner : 0;
		}
		if (now && E2E.isColleague(p)) {
			const lead = k.participants.find((x) => x?.role === 'counsellor' && (x.as === undefined || x.as === 'counsellor'));
			if (isId(lead?.programme)) return lead.programme;
		}
		if (isId(p?.programme) && (e.accepted || []).includes(p.programme)) return p.programme;
		return e.asked || null;
	},

	/* The handover of case object k (entry e): the pinned counsellor's
	 * key gives way to the new one when the user consented to it, once:
	 * the pinned one left for a referral, and the new one is listed in,
	 * and certified for, a programme the user said yes to in this case
	 * (e.yes), which is used then, so another counsellor of it put in
	 * later is a changed key until the user says yes again; one whose
	 * certificate does not hold uses up nothing. The case's referral now
	 * is not asked: it may be a newer one, proposed after a handover this
	 * page did not see, and it is the server's word as much as the rest. */
	async handOver(e, k) {
		const pinned = this.e2e.contactOf(k.id, 'counsellor');
		const now = (k.participants || []).find((p) => participantRole(p) === 'counsellor' && !E2E.isColleague(p) &&
			participantKey(p) && pinned && !bytesEqual(pinned.key, participantKey(p)));
		if (!now || !isId(now.programme) || !(e.yes || []).includes(now.programme)) return;
		const left = (k.former || []).some((x) => x?.reason === 'referral' && participantRole(x) === 'counsellor' &&
			participantKey(x) && bytesEqual(participantKey(x), pinned.key));
		if (!left) return;
		// its certificate holds for the programme before the yes is used
		// and the pin let go (a check not made, offline, waits for the
		// next listing)
		try {
			await this.e2e.checkCounsellor(now, (f) => this.ask(f));
		} catch {
			return;
		}
		// another listing of the case came while the check ran (a refetch
		// runs beside the pushes): that one decides, never this one on
		// what held before the wait (one yes, one key carried over)
		const still = this.e2e.contactOf(k.id, 'counsellor');
		if (e.listing !== k || !still || !bytesEqual(still.key, pinned.key) || !(e.yes || []).includes(now.programme)) return;
		this.e2e.forgetRole(k.id, 'counsellor');	// first seen now: pinned in checkCase
		e.yes = e.yes.filter((x) => x !== now.programme);
		e.used = acceptedOf([...(e.used || []).filter((x) => x !== now.programme), now.programme]);
		this.changed();
	},

	/* A client's no or withdrawal, at once, whatever its answer (the
	 * safe side): every yes of case entry e that no handover used goes,
	 * whatever partner the server names now; each such partner is asked
	 * for no more unless a handover this page saw took the case to it
	 * before (e.used: its own record, not the server's listing). */
	takeBackYes(e) {
		const open = e.yes || [];
		if (!open.length) return;
		e.accepted = (e.accepted || []).filter((p) => !open.includes(p) || (e.used || []).includes(p));
		e.yes = [];
		this.changed();
	},

	/* The referral of case entry e as the page shows it, or null;
	 * participants: the view's. */
	referralView(e, participants) {
		const r = e.kase.referral;
		if (!r || typeof r !== 'object' || !isId(r.partner) || !STATUSES.includes(r.status)) return null;
		const p = participants.find((x) => typeof r.counsellor === 'string' && x.key === r.counsellor);
		return {
			id: r.id, from: r.from, partner: r.partner, status: r.status, proposed: r.proposed ?? null,
			ended: r.ended ?? null, approved: typeof r.approved === 'string' ? r.approved : null,
			summarySent: r.summary_sent === true,
			accepted: (e.accepted || []).includes(r.partner),
			// the partner's counsellor, once in the case: certified by the
			// partner under its key, which a trusted programme vouched for
			counsellor: p ? {
				key: p.key, name: p.name, programme: p.programme, joining: p.joining,
				certified: p.certified && p.programme === r.partner, refused: p.refused,
			} : null,
		};
	},

	/**
	 * The client's answer to the referral proposed in case id
	 * (referral.answer). Once the server took a yes to a proposed
	 * referral, the partner is one this user asked for in this case
	 * (e.accepted: its counsellor is not refused there) and one handover
	 * to it is no changed key (e.yes); only when the partner is another
	 * programme than the case's counsellor's. A client's yes is not sent
	 * (crypto, reason referral_unchecked) while a counsellor leads the
	 * case that is not the one pinned here, or its certificate does not
	 * hold for the programme it is listed in: the server would then
	 * choose where the yes takes the client. A no always goes. A yes
	 * whose answer was lost (offline, no answer in time) is kept: the
	 * server may have taken it; a no later takes it back, whether its
	 * own answer comes or not. With shown (the partner the user read),
	 * a yes goes only while the referral is to that partner (bad_state,
	 * reason referral_changed).
	 * @param {number} id @param {boolean} accept @param {number} [shown]
	 * @returns {Promise<Case>}
	 */
	async referralAnswer(id, accept, shown) {
		const e = this.cs.get(id);
		if (!isId(id) || !e || typeof accept !== 'boolean') throw usage('case id and answer');
		const r = e.kase.referral, partner = r?.partner;
		if (accept && shown !== undefined && shown !== partner)
			throw Object.assign(new OfframpError(ERR.BAD_STATE, 'not answered: the referral is to another partner now'),
				{ reason: 'referral_changed' });
		// the case's counsellor: the one pinned here, never whom the server lists
		this.e2e.checkCase(e.kase);	// pins one first seen
		const pinned = this.e2e.contactOf(id, 'counsellor');
		const leads = (e.kase.participants || []).filter((p) => participantRole(p) === 'counsellor' && !E2E.isColleague(p));
		const lead = leads.find((p) => pinned && participantKey(p) && bytesEqual(pinned.key, participantKey(p)));
		let home = null;
		if (accept && isId(lead?.programme)) {
			try {
				await this.e2e.checkCounsellor(lead, (f) => this.ask(f));
				home = lead.programme;
			} catch (err) {
				if (err?.code !== ERR.CRYPTO) throw err;	// offline, refused: nothing sent
				home = null;	// the server's word alone
			}
		}
		if (accept && r?.status === 'proposed' && this.acct?.role === 'client' && leads.length > 0 && home === null)
			throw Object.assign(new OfframpError(ERR.CRYPTO, 'not answered: the case\'s counsellor did not pass its checks'),
				{ reason: 'referral_unchecked' });
		// a listing that came while the check ran: the user read the one before
		if (accept && (e.kase.referral?.id !== r?.id || e.kase.referral?.partner !== partner))
			throw Object.assign(new OfframpError(ERR.BAD_STATE, 'not answered: the referral changed'), { reason: 'referral_changed' });
		// kept once the server took it, or when its answer was lost (the
		// server may have taken it: the user gave it); a no takes it back
		const keep = () => {
			if (!accept || r?.status !== 'proposed' || !isId(partner) || !isId(home) || partner === home) return;
			if (!(e.accepted ||= []).includes(partner)) e.accepted = acceptedOf([...e.accepted, partner]);
			if (!(e.yes ||= []).includes(partner)) e.yes = acceptedOf([...e.yes, partner]);
			this.changed();
		};
		if (!accept && (this.acct?.role || this.roleHint) === 'client') this.takeBackYes(e);
		let a;
		try {
			// a yes names the referral read: the server answers no other
			a = await this.ask({ type: 'referral.answer', case: id, accept, ...(accept && isId(r?.id) ? { referral: r.id } : {}) });
		} catch (err) {
			if (err?.code === ERR.TIMEOUT || err?.code === ERR.CONN) keep();
			throw err;
		}
		keep();
		await this.chain(() => this.caseUpdate(a.case));
		return this.caseOf(id);
	},

	// --- the counsellor's side (as client-cli/referral.c) ---

	/** The programmes in an active partnership with the counsellor's
	 * (partner.directory's partners). @returns {Promise<object[]>} */
	async partners() {
		const a = await this.ask({ type: 'partner.directory' });
		return Array.isArray(a.partners) ? a.partners : [];
	},

	/* The key (base64) of case entry e's client. */
	clientOf(e) {
		return (e.kase.participants || []).find((p) => p?.role === 'client')?.key || null;
	},

	/**
	 * Proposes to refer case id to partner (referral.propose); the reason
	 * and the offer, when given, go to the client alone, encrypted, in the
	 * words the CLI uses (ui/referral.js reads them). @param {number} id
	 * @param {number} partner @param {{reason?: string, offer?: string}} [why]
	 * @returns {Promise<Case>}
	 */
	async referralPropose(id, partner, { reason = '', offer = '' } = {}) {
		if (!isId(id) || !isId(partner)) throw usage('case id and partner');
		let text = null;
		if (reason || offer) {
			text = `Referral proposed to programme ${partner}.${reason ? ` Reason: ${reason}` : ''}${offer ? ` What they offer: ${offer}` : ''}`;
			textBytes(text, ENVELOPE_V2_TEXT_MAX);	// too long: nothing proposed
		}
		const a = await this.ask({ type: 'referral.propose', case: id, partner });
		await this.chain(() => this.caseUpdate(a.case));
		if (text) this.send(id, text, { to: this.clientOf(this.cs.get(id)) });
		return this.caseOf(id);
	},

	/** The summary draft text of case id, to its client alone (as often as
	 * it is revised). @returns {Message} */
	referralDraft(id, text) {
		const e = this.cs.get(id);
		if (!e) throw usage('case id');
		return this.send(id, text, { to: this.clientOf(e) });
	},

	/**
	 * The approved summary of case id, to the partner's counsellor alone:
	 * only the text whose digest the client approved (else "bad_state",
	 * nothing sent), as the CLI refuses any other. @returns {Message}
	 */
	referralSummary(id, text) {
		const k = this.cs.get(id)?.kase, r = k?.referral;
		if (!r || typeof r.counsellor !== 'string') throw new OfframpError(ERR.BAD_STATE, 'no partner counsellor yet');
		// the partner's counsellor, in the case as such (its certificate
		// then held to the partner: wantOf), not any key the server names
		if (!(k.participants || []).some((p) => p?.key === r.counsellor && p.role === 'counsellor' && p.as === 'referral'))
			throw new OfframpError(ERR.BAD_STATE, 'the partner\'s counsellor is not in the case');
		if (typeof r.approved !== 'string' || summaryDigest(text) !== r.approved)
			throw Object.assign(new OfframpError(ERR.BAD_STATE, 'not the summary the client approved: nothing sent'), { reason: 'not_approved' });
		return this.send(id, text, { to: r.counsellor, summary: true });
	},

	/** The handover (referral.complete). @returns {Promise<Case>} */
	async referralComplete(id) {
		if (!isId(id)) throw usage('case id');
		const a = await this.ask({ type: 'referral.complete', case: id });
		await this.chain(() => this.caseUpdate(a.case));
		return this.caseOf(id);
	},

	/** Withdraws (client) or cancels (counsellor) the open referral of case id. @returns {Promise<Case>} */
	async referralWithdraw(id) {
		if (!isId(id)) throw usage('case id');
		const e = this.cs.get(id);
		// the client's yes is taken back: the partner's counsellors are
		// refused in this case again (as one of another programme)
		if (e && (this.acct?.role || this.roleHint) === 'client') this.takeBackYes(e);
		const a = await this.ask({ type: 'referral.withdraw', case: id });
		await this.chain(() => this.caseUpdate(a.case));
		return this.caseOf(id);
	},

	/**
	 * The client approves text, the summary draft it read, as what goes
	 * to the partner's counsellor (referral.approve with its digest).
	 * @param {number} id @param {string} text @returns {Promise<Case>}
	 */
	async referralApprove(id, text) {
		if (!isId(id)) throw usage('case id');
		const a = await this.ask({ type: 'referral.approve', case: id, digest: summaryDigest(text) });
		await this.chain(() => this.caseUpdate(a.case));
		return this.caseOf(id);
	},
};
