// csprng.js: mirror of proto/csprng.c: the one source of random bytes of
// the session code (x3dh.js, ratchet.js): libsodium's randombytes_buf, or
// for tests only a deterministic hook, so that a whole conversation can be
// replayed against proto/vectors/ratchet.json.

import sodium from 'libsodium-wrappers-sumo';

let testFn = null;

/** len random bytes (from the test hook when one is set). */
export function csprngBuf(len) {
	if (testFn !== null) {
		const b = testFn(len);
		if (!(b instanceof Uint8Array) || b.length !== len) throw new Error('csprng hook: wrong length');
		return b;
	}
	return sodium.randombytes_buf(len);
}

/** FOR TESTS ONLY: fn(len) -> Uint8Array replaces the generator; null restores it. */
export function csprngSetTestHook(fn) {
	testFn = fn;
}
