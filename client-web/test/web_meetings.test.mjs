// What a case's meetings and agreement are, read from its messages
// (src/meetings.js), as client-cli/meetings.c reads them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { meetingsOf, agreementOf } from '../src/meetings.js';

const theirs = (mid, x) => ({ mid, from: 'S', name: 'Sam', mine: false, state: 'received', ...x });
const mine = (mid, x, state = 'sent') => ({ mid, from: 'C', name: '', mine: true, state, ...x });
const meet = (action, id, time, place = '', recognise = '') => ({ meeting: { action, id, time, place, recognise } });
const agr = (action, version, objectives = '') => ({ agreement: { action, version, objectives, formats: '', frequency: '', crisis: '' } });

test('a meeting: proposed, moved, answered only about the time it has, called off', () => {
	const log = [
		theirs('a', meet('accept', 9, 100)),			// nothing to act on
		theirs('b', meet('propose', 7, 100, 'Café', 'umbrella')),
		mine('c', meet('accept', 7, 100)),
		mine('d', meet('reschedule', 7, 200, 'Park')),
		theirs('e', meet('decline', 7, 100)),			// about the old time: does not count
	];
	assert.deepEqual(meetingsOf(log), [{ id: 7, time: 200, place: 'Park', recognise: '', mid: 'd', status: 'reschedule', by: null, mine: true }]);
	log.push(theirs('f', meet('cancel', 7, 200)));
	assert.equal(meetingsOf(log)[0].status, 'cancel');
	assert.equal(meetingsOf(log)[0].by, 'Sam');
	// a message of mine that failed never happened
	assert.equal(meetingsOf([theirs('b', meet('propose', 7, 100, 'Café')), mine('x', meet('cancel', 7, 100), 'failed')])[0].status, 'propose');
});

test('the agreement: the newest version, accepted by someone other than its author', () => {
	assert.equal(agreementOf([]), null);
	const log = [theirs('a', agr('propose', 1, 'leave')), theirs('b', agr('accept', 1))];
	assert.equal(agreementOf(log).accepted, false, 'its author\'s accept does not count');
	log.push(mine('c', agr('revise', 2, 'leave safely')), theirs('d', agr('revise', 2, 'stale')));
	const a = agreementOf(log);
	assert.equal(a.objectives, 'leave safely');
	assert.equal(a.mine, true);
	log.push(theirs('e', agr('accept', 1)));
	assert.equal(agreementOf(log).accepted, false, 'an older version accepted');
	log.push(theirs('f', agr('accept', 2)));
	assert.deepEqual([agreementOf(log).accepted, agreementOf(log).acceptedBy], [true, 'Sam']);
});
