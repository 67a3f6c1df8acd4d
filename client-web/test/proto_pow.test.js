// proto_pow.test.js: the proof of work of intake (src/proto/pow.js) finds
// and checks the same numbers as proto/pow.c (tests/unit/test_pow.c), and
// yields to the page while it searches.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as P from '../src/proto/index.js';

before(async () => {
	await P.ocryptoInit();
});

const nonce = Uint8Array.from({ length: 32 }, (_, i) => i);
const key = Uint8Array.from({ length: 32 }, (_, i) => 32 + i);

test('the vector of test_pow.c', async () => {
	assert.equal(await P.powSolve(P.POW_LOGIN, nonce, key, 12), 2110);
	assert.equal(P.powZeros(P.POW_LOGIN, nonce, key, 2110), 15);
	assert.equal(await P.powSolve(P.POW_CASE, nonce, key, 12), 7656);
	assert.equal(P.powZeros(P.POW_LOGIN, nonce, key, 0), 1);
});

test('checks: purpose, bounds, no difficulty', () => {
	assert.ok(P.powCheck(P.POW_LOGIN, nonce, key, 2110, 15));
	assert.ok(!P.powCheck(P.POW_LOGIN, nonce, key, 2110, 16));
	assert.ok(P.powZeros(P.POW_CASE, nonce, key, 2110) < 12);
	assert.ok(P.powCheck(P.POW_CASE, nonce, key, 12345, 0));
	assert.ok(!P.powCheck(P.POW_CASE, nonce, key, -1, 1));
	assert.ok(!P.powCheck(P.POW_CASE, nonce, key, 2 ** 53, 1));
});

// the first proof of 16 bits is 43130: the search passes two chunks
test('the search yields between chunks', async () => {
	let yields = 0;
	await P.powSolve(P.POW_LOGIN, nonce, key, 16, { yieldFn: async () => { yields++; } });
	assert.ok(yields >= 1, 'at least one yield for a 16-bit search');
});
