// meetings.js: what a case's meetings and its counselling agreement are
// now, read again each time from the meeting and agreement messages kept
// (CRYPTO.md, kinds meeting and agreement), oldest first, as
// client-cli/meetings.c reads them from its key file. They are between
// the two sides of the case (CRYPTO.md: "either side"), the client and
// its assigned counsellor, known by their keys (sidesOf) when a message
// came or went (its side, kept with it: core.js): what anyone else sends
// (a colleague, a partner's counsellor before the handover) counts for
// nothing, then or later. A meeting is made by its proposal (an id already
// made is not made again); a reschedule gives it a new time and place;
// an accept or a decline counts only from the side that did not propose
// or reschedule it last, a cancel from either side, and each only when
// it names the time the meeting has. An agreement's version counts when
// it is newer than the one kept; an accept counts when it names that
// version and comes from the other side than its author's. The server
// never sees any of it. No DOM: node tests drive it.

/* The side of participant object p: 'client' (as `client`),
 * 'counsellor' (as `counsellor`, the one assigned), or null. Without an
 * `as`, its role's, as participantsOk (core.js) takes it. */
function sideOf(p) {
	const as = p?.as === undefined ? p?.role : p.as;
	if (p?.role === 'client' && as === 'client') return 'client';
	if (p?.role === 'counsellor' && as === 'counsellor') return 'counsellor';
	return null;
}

/**
 * The sides of case kase: a Map of key to 'client' or 'counsellor'
 * (sideOf). A key in `participants` has the side it has there (none for a
 * colleague: a `former` entry of the same key does not make it one);
 * one that left, in `former`, the side it had.
 */
export function sidesOf(kase) {
	const sides = new Map();
	for (const p of Array.isArray(kase?.former) ? kase.former : [])
		if (typeof p?.key === 'string' && sideOf(p)) sides.set(p.key, sideOf(p));
	for (const p of Array.isArray(kase?.participants) ? kase.participants : []) {
		if (typeof p?.key !== 'string') continue;
		if (sideOf(p)) sides.set(p.key, sideOf(p));
		else sides.delete(p.key);
	}
	return sides;
}

/* The side message m was sent from: the one kept with it when it came
 * (or went), else its sender's in sides now (a message kept before). */
const sideAt = (m, sides) => (m.side !== undefined ? m.side : sides.get(m.from)) || null;

/* A message of mine that never went does not count, nor one its
 * sender's running number shows to be a replay (as the CLI keeps none). */
const counts = (m) => !(m.mine && m.state === 'failed') && !(m.warn || []).includes('replayed');

/**
 * The meetings of messages (a case's, oldest first), in the order they
 * were proposed: {id, time, place, recognise, status (the last action
 * that counted), by (a name, or null for me), mine (the last action was
 * mine), mid, from and side (of the last proposal or reschedule)}.
 * sides: sidesOf the case.
 */
export function meetingsOf(messages, sides) {
	const list = [];
	for (const m of messages) {
		const x = m.meeting, side = sideAt(m, sides);
		if (!x || !side || !counts(m)) continue;
		let k = list.find((y) => y.id === x.id);
		if (!k && x.action !== 'propose') continue;	// nothing to act on
		if (k && x.action === 'propose') continue;	// made already: a reschedule moves it
		if (!k) list.push(k = { id: x.id });
		if (x.action === 'propose' || x.action === 'reschedule') {
			Object.assign(k, { time: x.time, place: x.place, recognise: x.recognise, mid: m.mid, from: m.from, side });
		} else if (x.time !== k.time) {
			continue;	// about another time
		} else if (x.action !== 'cancel' && side === k.side) {
			continue;	// answered by the side that asked
		}
		Object.assign(k, { status: x.action, by: m.mine ? null : m.name, mine: !!m.mine });
	}
	return list;
}

/**
 * The counselling agreement of messages, or null: {version, objectives,
 * formats, frequency, crisis, by (author's name, null for me), mine,
 * from (author's key), side (its author's), mid, accepted (by the other
 * side), acceptedBy (null: me)}. sides: sidesOf the case.
 */
export function agreementOf(messages, sides) {
	let a = null;
	for (const m of messages) {
		const x = m.agreement, side = sideAt(m, sides);
		if (!x || !side || !counts(m)) continue;
		if (x.action === 'accept') {
			if (a && x.version === a.version && side !== a.side) Object.assign(a, { accepted: true, acceptedBy: m.mine ? null : m.name });
			continue;
		}
		if (a && x.version <= a.version) continue;	// not newer
		a = { version: x.version, objectives: x.objectives, formats: x.formats, frequency: x.frequency, crisis: x.crisis,
			by: m.mine ? null : m.name, mine: !!m.mine, from: m.from, side, mid: m.mid, accepted: false, acceptedBy: null };
	}
	return a;
}
