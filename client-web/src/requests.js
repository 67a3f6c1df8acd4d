// requests.js: the core's requests that are one frame and its answer:
// the programmes, a client's intake (case.request), reassign and
// self-erasure (account.delete), a
// counsellor's queue, take, pause, resume, reopen, presence, profile and
// notes; the members of a case (case.invite, case.seen, case.remove). Mixed into Core (core.js), whose ask(), move(), entry(),
// caseUpdate(), chain() and e2e they use.

import { OfframpError, ERR } from './proto/err.js';
import { b64Decode, frameIsToken, OFR_CT_MAX } from './proto/frame.js';
import { isId, textBytes, usage, utf8d } from './util.js';
import { caseShapeOk, queueShaped } from './shape.js';
import { E2E } from './e2e.js';

/* The colleagues' keys this page confirmed kept for a case, at most. */
export const SHOWN_MAX = 64;

const INTAKE_TOKENS = ['language', 'topic', 'gender', 'region'];
/* A case holds at most 1000 notes of its counsellor (PROTOCOL.md): one
 * notes() keeps no more, and asks for no more pages (a page holds one at
 * least), whatever a server says of more. */
const NOTES_MAX = 1000;
const INTAKE_ENUMS = {
	age_band: ['18-29', '30-44', '45-59', '60-plus'],
	background: ['peer', 'professional'],
	format: ['chat', 'in-person', 'phone-video'],
	urgency: ['low', 'normal', 'high'],
};

export const requests = {
	/** Every programme's public profile. @returns {Promise<object[]>} */
	async programmes() {
		const a = await this.ask({ type: 'programme.list' });
		return Array.isArray(a.programmes) ? a.programmes : [];
	},

	// --- clients ---

	/**
	 * Opens a case (case.request). Only language is required. While it
	 * waits, the case's status is "waiting", waitingSince tells since
	 * when and queuePosition its place in the queue (updated by the
	 * server's queue pushes and at each case.list).
	 * @param {{language: string, topic?: string, programme?: number,
	 *   gender?: string, age_band?: string, background?: 'peer'|'professional',
	 *   format?: 'chat'|'in-person'|'phone-video', region?: string,
	 *   urgency?: 'low'|'normal'|'high', intake_code?: string}} intake
	 *   (intake_code: the programme's, for a direct request to a
	 *   programme that asks for one). The proof of work the server asks
	 *   for is done here, in chunks that leave the page responsive.
	 * @returns {Promise<Case>}
	 * @throws {OfframpError} "case_open", "bad_field" (with field),
	 *   "intake_code_required", "bad_intake_code"
	 */
	async requestCase(intake) {
		const f = { type: 'case.request' };
		for (const [k, v] of Object.entries(intake || {})) {
			if (v === undefined || v === null || v === '') continue;
			if (INTAKE_TOKENS.includes(k)) {
				if (!frameIsToken(v)) throw new OfframpError(ERR.BAD_FIELD, k, k);
			} else if (INTAKE_ENUMS[k]) {
				if (!INTAKE_ENUMS[k].includes(v)) throw new OfframpError(ERR.BAD_FIELD, k, k);
			} else if (k === 'programme') {
				if (!isId(v)) throw new OfframpError(ERR.BAD_FIELD, k, k);
			} else if (k === 'intake_code') {
				if (typeof v !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(v)) throw new OfframpError(ERR.BAD_FIELD, k, k);
			} else {
				throw new OfframpError(ERR.BAD_FIELD, k, k);	// nothing else is asked
			}
			f[k] = v;
		}
		if (!f.language) throw new OfframpError(ERR.BAD_FIELD, 'language', 'language');
		// held to whatever the server does with the case from now on:
		// the next open case new to this page takes it (caseUpdate), when
		// the answer's case is not one, or the answer is case_open
		this.asking = f.programme || null;
		let a;
		try {
			a = await this.askPaid(f);
		} catch (e) {
			if (e.code !== ERR.CASE_OPEN) this.asking = null;
			throw e;
		}
		if (f.programme && caseShapeOk(a.case)) {
			this.entry(a.case.id, a.case).asked = f.programme;
			this.asking = null;
			this.changed();
		}
		await this.chain(() => this.caseUpdate(a.case));
		return this.caseOf(a.case.id);
	},

	/**
	 * Asks for another counsellor; the next one is new, not a changed key
	 * (its certificate is still checked). @param {number} id
	 * @returns {Promise<Case>}
	 */
	async reassign(id) {
		return this.move('case.reassign', id);
	},

	/**
	 * Tells the server this user was shown the case's participants as
	 * they are now (case.seen): a colleague joining reads nothing before
	 * every participant's client said so. shown is the membership version
	 * the user was shown (default: the case's now); a later one is never
	 * confirmed, so a colleague brought in while the user looked is not;
	 * keys, the keys the user was shown (default: all), so that no other
	 * key the server put in a colleague's place meanwhile is either. A
	 * colleague is written to only once its key was confirmed so (or
	 * invited from this page).
	 * @param {number} id @param {number} [shown] @param {string[]} [keys]
	 * @returns {Promise<Case>}
	 */
	async confirmMembers(id, shown, keys) {
		const e = this.cs.get(id);
		if (!isId(id) || !e) throw usage('case id');
		const now = e.kase.members ?? 0;
		const members = Number.isSafeInteger(shown) && shown >= 0 ? Math.min(shown, now) : now;
		// the colleagues' keys shown (keys: those the page put before the
		// user, when it says), as they are at that version
		const colleagues = (e.kase.participants || []).filter((p) => E2E.isColleague(p) && Number.isSafeInteger(p.since) &&
			p.since >= 1 && p.since <= members && (!Array.isArray(keys) || keys.includes(p.key))).map((p) => p.key);
		const a = await this.ask({ type: 'case.seen', case: id, members });
		e.seen = Math.max(e.seen || 0, members);
		e.shown = colleagues.slice(-SHOWN_MAX);	// those in the case now: one gone is shown again when back
		await this.chain(() => this.caseUpdate(a.case));
		return this.caseOf(id);
	},

	/**
	 * Brings the counsellor with key, a colleague of this counsellor's
	 * programme, into case id as `as` (case.invite): it is listed at once,
	 * joining, and reads nothing until every other participant's client
	 * has shown it (case.seen). @param {number} id @param {string} key
	 * @param {'supervisor'|'co-counsellor'|'language-helper'} as
	 * @returns {Promise<Case>}
	 */
	async inviteColleague(id, key, as) {
		if (!isId(id) || !this.cs.get(id)) throw usage('case id');
		b64Decode(key, 32, 32, 'key');
		if (!['supervisor', 'co-counsellor', 'language-helper'].includes(as)) throw usage('as');
		const a = await this.ask({ type: 'case.invite', case: id, key, as });
		// the inviter confirmed the new version by inviting (PROTOCOL.md)
		const e = this.cs.get(id);
		if (e && Number.isSafeInteger(a.case?.members)) e.seen = Math.max(e.seen || 0, a.case.members);
		if (e) e.shown = [...(e.shown || []).filter((k) => k !== key), key].slice(-SHOWN_MAX);
		await this.chain(() => this.caseUpdate(a.case));
		return this.caseOf(id);
	},

	/**
	 * Asks for a colleague's removal from the case (case.remove).
	 * @param {number} id @param {string} key @returns {Promise<Case>}
	 */
	async removeColleague(id, key) {
		if (!isId(id) || typeof key !== 'string') throw usage('case id and key');
		const a = await this.ask({ type: 'case.remove', case: id, key });
		await this.chain(() => this.caseUpdate(a.case));
		return this.caseOf(id);
	},

	/**
	 * Deletes this client's account and everything the server holds about
	 * it (account.delete, PROTOCOL.md): its cases with their messages and
	 * notes, its prekeys, its account; the counsellor of an open case is
	 * told it closed, not why. Resolves once the server has committed it;
	 * the core is then logged out for good (the server closes the
	 * connection, and a new login would make a new, empty account). Sent
	 * only while online, once, never retried.
	 * @returns {Promise<void>}
	 * @throws {OfframpError} "connection" (offline: nothing was sent, or
	 *   the connection went before the answer), "timeout", "forbidden"
	 *   (not a client)
	 */
	async deleteAccount() {
		if (this.conn.state !== 'online') throw new OfframpError(ERR.CONN, 'offline: nothing was sent');
		await this.ask({ type: 'account.delete' });
		this.logout();
	},

	// --- counsellors ---

	/**
	 * The waiting cases this counsellor could take, in queue order, each
	 * with waiting (seconds); at most 100, each of the shape of one
	 * (shape.js: an entry that is not is left out). @returns {Promise<object[]>}
	 */
	async queue() {
		const a = await this.ask({ type: 'case.queue' });
		return queueShaped(a.cases);
	},

	/** Takes a waiting case. @param {number} id @returns {Promise<Case>} */
	async take(id) {
		return this.move('case.take', id);
	},

	/** @param {number} id @returns {Promise<Case>} */
	async pause(id) {
		return this.move('case.pause', id);
	},

	/** @param {number} id @returns {Promise<Case>} */
	async resume(id) {
		return this.move('case.resume', id);
	},

	/** @param {number} id @returns {Promise<Case>} */
	async reopen(id) {
		return this.move('case.reopen', id);
	},

	/**
	 * Sets presence: 'online' (takes new cases) or 'away'. The server
	 * gives new cases only while a connection of the counsellor is logged
	 * in and it is not idle (PROTOCOL.md, "Presence").
	 * @param {'online'|'away'|'offline'} presence @returns {Promise<object>} the profile
	 */
	async setPresence(presence) {
		if (!['online', 'away', 'offline'].includes(presence)) throw usage('presence');
		return this.setProfile({ presence });
	},

	/** profile.set with any profile fields but capacity. @returns {Promise<object>} */
	async setProfile(profile) {
		if (!profile || typeof profile !== 'object' || 'capacity' in profile)
			throw new OfframpError(ERR.FORBIDDEN, 'capacity is the admin\'s', 'capacity');
		const a = await this.ask({ ...profile, type: 'profile.set' });
		return a.profile;
	},

	/**
	 * Adds a case note, encrypted to this identity only (as the CLI's).
	 * @param {number} id @param {string} text
	 * @returns {Promise<number>} the note's id
	 */
	async addNote(id, text) {
		if (!isId(id)) throw usage('case id');
		const ct = this.e2e.noteSeal(id, textBytes(text, OFR_CT_MAX));
		const a = await this.ask({ type: 'note.add', case: id, ct });
		return a.id;
	},

	/**
	 * The notes of a case, decrypted; a note that does not open has text
	 * null. @param {number} id
	 * @returns {Promise<Array<{id: number, ts: number, text: string|null}>>}
	 */
	async notes(id) {
		if (!isId(id)) throw usage('case id');
		// a page at a time: as many as one frame holds, "more" while the
		// next ones wait after the last id given (at most 1000 a case)
		const all = [];
		let after = 0;
		for (let page = 0; page < NOTES_MAX && all.length < NOTES_MAX; page++) {
			const a = await this.ask({ type: 'note.list', case: id, ...(after > 0 ? { after } : {}) });
			const got = Array.isArray(a.notes) ? a.notes.slice(0, NOTES_MAX - all.length) : [];
			all.push(...got);
			const last = got.reduce((m, n) => (isId(n?.id) && n.id > m ? n.id : m), after);
			if (a.more !== true || last <= after) break;	// no step forward: no more
			after = last;
		}
		return all.map((n) => {
			const b = this.e2e.noteOpen(id, n.ct);
			let text = null;
			try {
				text = b ? utf8d.decode(b) : null;
			} catch { /* not UTF-8: unreadable */ }
			return { id: n.id, ts: n.ts, text };
		});
	},
};
