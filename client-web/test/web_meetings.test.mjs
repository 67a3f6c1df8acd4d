// What a case's meetings and agreement are, read from its messages
// (src/meetings.js), as client-cli/meetings.c reads them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { meetingsOf, agreementOf, sidesOf } from '../src/meetings.js';

const theirs = (mid, x) => ({ mid, from: 'S', name: 'Sam', mine: false, state: 'received', ...x });
const mine = (mid, x, state = 'sent') => ({ mid, from: 'C', name: '', mine: true, state, ...x });
const meet = (action, id, time, place = '', recognise = '') => ({ meeting: { action, id, time, place, recognise } });
const agr = (action, version, objectives = '') => ({ agreement: { action, version, objectives, formats: '', frequency: '', crisis: '' } });
// C the client (me), S its counsellor Sam, K a colleague (supervisor)
const kase = {
	participants: [{ key: 'C', role: 'client', as: 'client', me: true }, { key: 'S', role: 'counsellor', as: 'counsellor' },
		{ key: 'K', role: 'counsellor', as: 'supervisor' }],
	former: [{ key: 'R', role: 'counsellor', as: 'counsellor', left: 5 }, { key: 'L', role: 'counsellor', as: 'language-helper', left: 5 }],
};
const sides = sidesOf(kase);
const kims = (mid, x) => ({ mid, from: 'K', name: 'Kim', mine: false, state: 'received', ...x });

test('a meeting: proposed, moved, answered only about the time it has, called off', () => {
	const log = [
		theirs('a', meet('accept', 9, 100)),			// nothing to act on
		theirs('b', meet('propose', 7, 100, 'Café', 'umbrella')),
		mine('c', meet('accept', 7, 100)),
		mine('d', meet('reschedule', 7, 200, 'Park')),
		theirs('e', meet('decline', 7, 100)),			// about the old time: does not count
	];
	assert.deepEqual(meetingsOf(log, sides), [{ id: 7, time: 200, place: 'Park', recognise: '', mid: 'd', from: 'C', side: 'client', status: 'reschedule', by: null, mine: true }]);
	log.push(theirs('f', meet('cancel', 7, 200)));
	assert.equal(meetingsOf(log, sides)[0].status, 'cancel');
	assert.equal(meetingsOf(log, sides)[0].by, 'Sam');
	// a message of mine that failed never happened
	assert.equal(meetingsOf([theirs('b', meet('propose', 7, 100, 'Café')), mine('x', meet('cancel', 7, 100), 'failed')], sides)[0].status, 'propose');
});

test('the agreement: the newest version, accepted by someone other than its author', () => {
	assert.equal(agreementOf([], sides), null);
	const log = [theirs('a', agr('propose', 1, 'leave')), theirs('b', agr('accept', 1))];
	assert.equal(agreementOf(log, sides).accepted, false, 'its author\'s accept does not count');
	log.push(mine('c', agr('revise', 2, 'leave safely')), theirs('d', agr('revise', 2, 'stale')));
	const a = agreementOf(log, sides);
	assert.equal(a.objectives, 'leave safely');
	assert.equal(a.mine, true);
	log.push(theirs('e', agr('accept', 1)));
	assert.equal(agreementOf(log, sides).accepted, false, 'an older version accepted');
	log.push(theirs('f', agr('accept', 2)));
	assert.deepEqual([agreementOf(log, sides).accepted, agreementOf(log, sides).acceptedBy], [true, 'Sam']);
});

test('the sides: the client and its counsellor act; a colleague, a stranger, the side that asked do not', () => {
	assert.deepEqual([...sides].sort(), [['C', 'client'], ['R', 'counsellor'], ['S', 'counsellor']]);
	// a colleague's proposal makes no meeting; its accept of the client's does not count
	assert.deepEqual(meetingsOf([kims('a', meet('propose', 3, 100, 'Alley'))], sides), []);
	let log = [mine('b', meet('propose', 4, 100, 'Café')), kims('c', meet('accept', 4, 100))];
	assert.equal(meetingsOf(log, sides)[0].status, 'propose', 'a colleague accepts nothing');
	// one proposed already is not proposed again: its place stays
	log.push(theirs('d', meet('propose', 4, 300, 'Back alley')));
	assert.deepEqual([meetingsOf(log, sides)[0].place, meetingsOf(log, sides)[0].time], ['Café', 100]);
	// the side that proposed cannot accept for the other; the other side can
	log.push(mine('e', meet('accept', 4, 100)));
	assert.equal(meetingsOf(log, sides)[0].status, 'propose', 'the proposer\'s own accept');
	log.push(theirs('f', meet('accept', 4, 100)));
	assert.deepEqual([meetingsOf(log, sides)[0].status, meetingsOf(log, sides)[0].by], ['accept', 'Sam']);
	// a cancel from either side, never from a colleague
	log.push(kims('g', meet('cancel', 4, 100)));
	assert.equal(meetingsOf(log, sides)[0].status, 'accept');
	log.push(mine('h', meet('cancel', 4, 100)));
	assert.equal(meetingsOf(log, sides)[0].status, 'cancel');
	// the agreement: a colleague neither proposes nor accepts
	assert.equal(agreementOf([kims('i', agr('propose', 1, 'x'))], sides), null);
	log = [theirs('j', agr('propose', 1, 'leave')), kims('k', agr('accept', 1))];
	assert.equal(agreementOf(log, sides).accepted, false, 'a colleague accepts for nobody');
	// the counsellor before (R) is the counsellor's side: its accept is not the client's
	log.push({ mid: 'l', from: 'R', name: 'Rob', mine: false, state: 'received', ...agr('accept', 1) });
	assert.equal(agreementOf(log, sides).accepted, false, 'the same side');
	log.push(mine('m', agr('accept', 1)));
	assert.deepEqual([agreementOf(log, sides).accepted, agreementOf(log, sides).acceptedBy], [true, null]);
	// a replay (its sender's running number says so) counts for nothing
	log = [theirs('n', meet('propose', 5, 100, 'Café')), mine('o', meet('cancel', 5, 100)),
		{ ...theirs('p', meet('reschedule', 5, 200, 'Park')), warn: ['replayed'] }];
	assert.equal(meetingsOf(log, sides)[0].status, 'cancel');
	// a key in the participants has its side there: a former entry the
	// server made up for a colleague makes it no counsellor
	assert.equal(sidesOf({ participants: kase.participants, former: [{ key: 'K', role: 'counsellor', as: 'counsellor' }] }).get('K'), undefined);
	// without an `as`, the role's side (as core.js's participantsOk takes it)
	assert.deepEqual([...sidesOf({ participants: [{ key: 'A', role: 'client' }, { key: 'B', role: 'counsellor' }] })], [['A', 'client'], ['B', 'counsellor']]);
	// the side a message came from is kept with it: a partner's counsellor
	// (no side then) that becomes the case's counsellor at the handover
	// did not accept the client's agreement before it
	log = [{ ...mine('q', agr('propose', 1, 'leave')), side: 'client' }, { ...kims('r', agr('accept', 1)), side: null }];
	assert.equal(agreementOf(log, new Map([['C', 'client'], ['K', 'counsellor']])).accepted, false, 'no side when it came');
	log[1] = { ...log[1], side: 'counsellor' };
	assert.equal(agreementOf(log, new Map()).accepted, true, 'the side kept counts, whatever the case says now');
	// a key in no role of the case (a language helper, gone) counts for nothing
	assert.equal(sidesOf({ participants: [{ key: 'X', role: 'client', as: 'supervisor' }] }).size, 0);
});
