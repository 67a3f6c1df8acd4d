// Why a referral was cancelled, as the client's card tells it
// (src/referral.js cancelledWhy; PROTOCOL.md, "When the partnership
// ends"): from the case's former participants, never a guess.
import test from 'node:test';
import assert from 'node:assert/strict';
import { cancelledWhy } from '../src/referral.js';
import { CATALOGUES } from '../src/i18n/index.js';

const ENDED = 1795000600;
const ref = (status, ended = ENDED) => ({ id: 5, from: 1, partner: 2, status, ended });
const left = (name, reason, at = ENDED) => ({ key: name, role: 'counsellor', name, as: 'co-counsellor', left: at, reason });

test('a cancellation: the partnership\'s end, the counsellor, or not known', () => {
	assert.equal(cancelledWhy(ref('cancelled'), [left('Lou', 'partnership')]), 'partnership');
	assert.equal(cancelledWhy(ref('cancelled'), [left('Lou', 'removed')]), 'counsellor');
	// nobody of the partner had joined: the case does not say which
	assert.equal(cancelledWhy(ref('cancelled'), []), null);
	assert.equal(cancelledWhy(ref('cancelled'), undefined), null);
	// one who left for the partnership's end earlier, in another referral
	assert.equal(cancelledWhy(ref('cancelled'), [left('Kim', 'partnership', ENDED - 3600)]), null);
	// a helper who left at that moment by itself says nothing
	assert.equal(cancelledWhy(ref('cancelled'), [left('Ann', 'left')]), null);
	// only a cancelled referral has a why
	assert.equal(cancelledWhy(ref('withdrawn'), [left('Lou', 'removed')]), null);
	assert.equal(cancelledWhy(ref('cancelled', null), [left('Lou', 'partnership')]), null);
	assert.equal(cancelledWhy(null, []), null);
});

test('every why has its words, in each language', () => {
	for (const [lang, cat] of Object.entries(CATALOGUES))
		for (const why of ['partnership', 'counsellor', 'unknown'])
			assert.ok(cat[`referral_state_cancelled_${why}`], `${lang}: cancelled_${why}`);
	assert.match(CATALOGUES.en.referral_state_cancelled_partnership, /partnership between \{from\} and \{partner\} ended/);
	assert.doesNotMatch(CATALOGUES.en.referral_state_cancelled_unknown, /\{counsellor\} cancelled/);
});
