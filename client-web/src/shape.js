// shape.js: what a case object and an entry of the counsellor's queue
// from the server must look like before the core keeps one (PROTOCOL.md,
// "Cases", "case.queue", "Co-counselling", "Referrals"): the types of
// their fields, and the bounds the protocol gives. Only the shape: who
// may be in a case, and whose key is trusted, the core and e2e.js decide
// (a list longer than a case holds is kept, shown, and gets nothing).
// One malformed object is dropped whole; the page never keeps a part of it.

import { b64Decode, frameIsName, frameIsToken } from './proto/frame.js';
import { isId } from './util.js';

/** Former participants listed at most (PROTOCOL.md: the latest 16). */
export const FORMER_MAX = 16;
/** Stays in a case's history at most, present and former (PROTOCOL.md,
 * case.invite's "limit"): no list of the case is longer. */
export const STAYS_MAX = 64;
/** Entries of case.queue's answer at most. */
export const QUEUE_MAX = 100;

const STATUSES = ['waiting', 'active', 'paused', 'closed'];
const URGENCIES = ['low', 'normal', 'high'];
const STATES = ['joining', 'joined'];
const PREFS_MAX = 16;

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isTime = (v) => Number.isSafeInteger(v) && v >= 0;
const optional = (v, ok) => v === undefined || ok(v);
const nullable = (v, ok) => v === undefined || v === null || ok(v);
const isString = (v) => typeof v === 'string';

function isKey(v) {
	try {
		b64Decode(v, 32, 32, 'key');
		return true;
	} catch {
		return false;
	}
}

/* A participant (or, with left, a former one): an object with a 32-byte
 * key, and what else it has of the types PROTOCOL.md gives (a role the
 * protocol does not know, or none, is the core's to refuse: participantsOk). */
function participantOk(p, former) {
	return isObject(p) && isKey(p.key) && optional(p.role, frameIsToken) &&
		optional(p.name, frameIsName) && nullable(p.programme, isId) && nullable(p.cert, isString) &&
		optional(p.as, frameIsToken) && optional(p.joined, isTime) && optional(p.since, isTime) &&
		optional(p.state, (s) => STATES.includes(s)) &&
		(former ? isTime(p.left) && optional(p.reason, frameIsToken) : optional(p.left, isTime));
}

function prefsOk(x) {
	const list = (v) => Array.isArray(v) && v.length <= PREFS_MAX && v.every(isString);
	return isObject(x) && nullable(x.asked, list) && nullable(x.met, list) && nullable(x.unmet, list);
}

function referralOk(r) {
	return isObject(r) && optional(r.id, isId) && optional(r.from, isId) && optional(r.partner, isId) &&
		optional(r.status, frameIsToken) && nullable(r.proposed, isTime) && nullable(r.ended, isTime) &&
		nullable(r.counsellor, isKey) && nullable(r.approved, isString) && optional(r.summary_sent, (v) => typeof v === 'boolean');
}

/* The fields of a case's request (a case object's, a queue entry's). */
function requestOk(k) {
	return isObject(k) && isId(k.id) && optional(k.language, frameIsToken) && nullable(k.topic, frameIsToken) &&
		optional(k.urgency, (u) => URGENCIES.includes(u)) && optional(k.created, isTime) &&
		nullable(k.preferences, prefsOk);
}

/**
 * true when k has the shape of a case object: an id, a known status,
 * participants (at most STAYS_MAX) and former ones (at most FORMER_MAX),
 * each an object with a key, and every other field of its type.
 * @param {*} k
 * @returns {boolean}
 */
export function caseShapeOk(k) {
	return requestOk(k) && STATUSES.includes(k.status) && optional(k.updated, isTime) &&
		// queue_position 0: the case no longer waits in the store while the
		// server's copy still did (S_CASE_QUEUE_POSITION; another node of
		// a cluster matched it): no place is shown, the case is kept
		optional(k.members, isTime) && optional(k.queue_position, isTime) && optional(k.unread, isTime) &&
		Array.isArray(k.participants) && k.participants.length <= STAYS_MAX &&
		k.participants.every((p) => participantOk(p, false)) &&
		(k.former === undefined || (Array.isArray(k.former) && k.former.length <= FORMER_MAX &&
			k.former.every((p) => participantOk(p, true)))) &&
		nullable(k.referral, referralOk);
}

/**
 * The entries of a case.queue answer that have the shape of one (a
 * waiting case's request, or a referral's: referred_by), at most
 * QUEUE_MAX; the others are left out. waiting below 0 (the server's
 * clock minus a time another node's clock wrote, or a clock stepped back)
 * is taken as 0.
 * @param {*} list
 * @returns {object[]}
 */
export function queueShaped(list) {
	return (Array.isArray(list) ? list : []).filter((q) => requestOk(q) && optional(q.waiting, Number.isSafeInteger) &&
		optional(q.referred_by, isId) && optional(q.status, (s) => STATUSES.includes(s))).slice(0, QUEUE_MAX)
		.map((q) => (q.waiting < 0 ? { ...q, waiting: 0 } : q));
}
