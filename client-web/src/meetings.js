// meetings.js: what a case's meetings and its counselling agreement are
// now, read again each time from the meeting and agreement messages kept
// (CRYPTO.md, kinds meeting and agreement), oldest first, as
// client-cli/meetings.c reads them from its key file: a meeting is made by
// its proposal; a reschedule gives it a new time and place; an accept, a
// decline or a cancel counts only when it names the time the meeting has.
// An agreement's version counts when it is newer than the one kept; an
// accept counts when it names that version and is not its author's. The
// server never sees any of it. No DOM: node tests drive it.

/* A message of mine that never went does not count. */
const counts = (m) => !(m.mine && m.state === 'failed');

/**
 * The meetings of messages (a case's, oldest first), in the order they
 * were proposed: {id, time, place, recognise, status (the last action
 * that counted), by (a name, or null for me), mine (the last action was
 * mine), mid (of the last proposal or reschedule)}.
 */
export function meetingsOf(messages) {
	const list = [];
	for (const m of messages) {
		const x = m.meeting;
		if (!x || !counts(m)) continue;
		let k = list.find((y) => y.id === x.id);
		if (!k && x.action !== 'propose') continue;	// nothing to act on
		if (!k) list.push(k = { id: x.id });
		if (x.action === 'propose' || x.action === 'reschedule') {
			Object.assign(k, { time: x.time, place: x.place, recognise: x.recognise, mid: m.mid });
		} else if (x.time !== k.time) {
			continue;	// about another time
		}
		Object.assign(k, { status: x.action, by: m.mine ? null : m.name, mine: !!m.mine });
	}
	return list;
}

/**
 * The counselling agreement of messages, or null: {version, objectives,
 * formats, frequency, crisis, by (author's name, null for me), mine,
 * from (author's key), mid, accepted (by someone other than its
 * author), acceptedBy (null: me)}.
 */
export function agreementOf(messages) {
	let a = null;
	for (const m of messages) {
		const x = m.agreement;
		if (!x || !counts(m)) continue;
		if (x.action === 'accept') {
			if (a && x.version === a.version && m.from !== a.from) Object.assign(a, { accepted: true, acceptedBy: m.mine ? null : m.name });
			continue;
		}
		if (a && x.version <= a.version) continue;	// not newer
		a = { version: x.version, objectives: x.objectives, formats: x.formats, frequency: x.frequency, crisis: x.crisis,
			by: m.mine ? null : m.name, mine: !!m.mine, from: m.from, mid: m.mid, accepted: false, acceptedBy: null };
	}
	return a;
}
