// keys.js: what the core says and does about keys: the safety numbers of
// a case, verify() bound to the number compared, refetching what waited
// for a decision, and the programme keys the user is offered or has
// trusted (trust.js decides; this is the core's side). Mixed into Core
// (core.js).

import { OfframpError, ERR } from './proto/err.js';
import { E2E, participantKey, PARTICIPANTS_MAX } from './e2e.js';
import { usage } from './util.js';

export const keys = {
	/**
	 * The safety numbers of the other participants of a case.
	 * @param {number} id @returns {Safety[]}
	 */
	safety(id) {
		const e = this.cs.get(id);
		if (!e) throw new OfframpError(ERR.NOT_FOUND, 'no such case');
		// a list longer than a case holds is refused anyway: its numbers
		// (7 ms each) are not all made
		return this.view(e).participants.filter((p) => !p.me && participantKey(p)).slice(0, PARTICIPANTS_MAX - 1).map((p) => ({
			key: p.key, name: p.name, role: p.role, number: this.e2e.safety(p.key),
			verified: p.verified, changed: p.changed,
			colleague: E2E.isColleague(p),	// held to its certificate; not verified here
		}));
	},

	/**
	 * Accepts the key of one participant of a case after the user compared
	 * the safety number: only when key is that participant's current key
	 * and number is the one this key makes with ours (what the user saw).
	 * A blocked case can send again, and refused messages left on the
	 * server come again at once (the connection logs in again).
	 * @param {number} id @param {string} key @param {string} number  the
	 *   safety number the user compared (spaces ignored)
	 * @returns {Safety[]} what was verified
	 * @throws {OfframpError} "not_found" (no such case, or key is not a
	 *   participant's now: the server changed it meanwhile), "crypto"
	 *   (reason "safety_mismatch": not this key's number; nothing verified)
	 */
	verify(id, key, number) {
		const e = this.cs.get(id);
		if (!e) throw new OfframpError(ERR.NOT_FOUND, 'no such case');
		if (typeof key !== 'string' || typeof number !== 'string') throw usage('verify(case, key, number)');
		const p = (e.kase.participants || []).find((x) => x.key === key && !this.me(x));
		if (!p || !participantKey(p)) throw new OfframpError(ERR.NOT_FOUND, 'no such participant now');
		if (this.e2e.safety(key).replace(/ /g, '') !== number.replace(/ /g, '')) {
			const err = new OfframpError(ERR.CRYPTO, 'not the safety number of this key');
			err.reason = 'safety_mismatch';
			throw err;
		}
		const done = this.e2e.verify(e.kase, key);
		if (done.length === 0) throw new OfframpError(ERR.NOT_FOUND, 'no such participant');
		for (const d of done) e.announced.delete(`${d.role}:${d.key}`);
		this.tell(e, null);
		this.refetch(e, 'fetch the messages kept for verify');
		this.flush(id);
		// a report owed while the key had changed (else at the next ack)
		if (this.conn.state === 'online') this.sendReports();
		const keys = new Set(done.map((d) => d.key));
		return this.safety(id).filter((x) => keys.has(x.key));
	},

	refetch(e, why) {
		if (e.kept > 0 && this.conn.ws) {
			e.kept = 0;
			this.conn.drop(this.conn.ws, why);
		}
	},

	// --- programme keys ---

	offer(caseId, programme) {
		if (!this.pending.has(programme.key) && this.pending.size >= 16) return;
		this.pending.set(programme.key, { ...programme });
		this.emit('untrusted-programme', { caseId, programme: { ...programme } });
	},

	/**
	 * The programme keys trusted: the bundle's and those the user accepted
	 * (rotations followed), [{key, name, programme, origin, fingerprint}].
	 * @returns {object[]}
	 */
	trustedProgrammes() {
		return this.trust.list();
	},

	/**
	 * The programme keys offered since the page started and not trusted
	 * (event "untrusted-programme"): [{id, name, key, fingerprint}].
	 * @returns {object[]}
	 */
	untrustedProgrammes() {
		return [...this.pending.values()].map((p) => ({ ...p }));
	},

	/**
	 * Trusts a programme key (base64) as an anchor, with a name for
	 * people. The page calls it only after it has shown the key's
	 * fingerprint and the user said yes. The certificates of every case
	 * are checked again, waiting messages go, and those left on the server
	 * come again.
	 * @param {string} key @param {string|null} [name] @param {number} [programme]
	 * @throws {OfframpError} "usage" (a key its programme replaced), "limit"
	 */
	async trustProgramme(key, name = null, programme = null) {
		this.trust.add(key, name, programme);
		this.pending.delete(key);
		for (const e of this.cs.values()) {
			for (const [k, v] of e.certOk) if (v !== true) e.certOk.delete(k);
		}
		await this.chain(async () => {
			for (const e of [...this.cs.values()]) await this.caseUpdate(e.kase);
		});
		for (const e of this.cs.values()) this.refetch(e, 'fetch the messages kept for a programme key');
	},
};
