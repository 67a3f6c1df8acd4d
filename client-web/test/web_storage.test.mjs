// The sealing of "Keep on this device" and the recovery code, on bytes,
// with the real libsodium; no browser, no IndexedDB.
import test from 'node:test';
import assert from 'node:assert/strict';
import sodium from 'libsodium-wrappers-sumo';
import * as storage from '../src/app/storage.js';
import { encodeRecovery, decodeRecovery } from '../src/app/recovery.js';
import { extractCode, intakeOf, errorKey } from '../src/app/controller.js';

await sodium.ready;
const MIN = { ops: sodium.crypto_pwhash_OPSLIMIT_MIN, memKiB: sodium.crypto_pwhash_MEMLIMIT_MIN / 1024 };
const bytes = (s) => sodium.from_string(s);

test('a sealed vault opens with its passphrase and gives back the bytes', () => {
	const vk = storage.newVaultKey(sodium, 'correct horse', MIN);
	const rec = storage.seal(sodium, vk, bytes('{"secret":"seed"}'));
	assert.equal(rec.length, storage.VAULT_HEADER_BYTES + 17 + 16);
	assert.deepEqual([...rec.slice(0, 5)], [...storage.VAULT_MAGIC, 1]);
	const { plain, vk: vk2 } = storage.unseal(sodium, rec, 'correct horse');
	assert.equal(sodium.to_string(plain), '{"secret":"seed"}');
	assert.deepEqual(vk2.key, vk.key);
	assert.ok(!Buffer.from(rec).includes(Buffer.from('seed')), 'no plaintext in the record');
});

test('every seal has a fresh nonce; the key is reused without Argon2id again', () => {
	const vk = storage.newVaultKey(sodium, 'pass phrase', MIN);
	const a = storage.seal(sodium, vk, bytes('same'));
	const b = storage.seal(sodium, vk, bytes('same'));
	assert.notDeepEqual(a, b);
	assert.equal(sodium.to_string(storage.openWith(sodium, vk, b)), 'same');
});

test('a wrong passphrase, a flipped byte anywhere or a cut record is refused', () => {
	const vk = storage.newVaultKey(sodium, 'right one', MIN);
	const rec = storage.seal(sodium, vk, bytes('hello vault'));
	assert.throws(() => storage.unseal(sodium, rec, 'wrong one'), /wrong passphrase/);
	for (let i = 0; i < rec.length; i++) {
		const bad = rec.slice();
		bad[i] ^= 1;
		assert.throws(() => storage.unseal(sodium, bad, 'right one'), `byte ${i}`);
	}
	assert.throws(() => storage.unseal(sodium, rec.slice(0, 60), 'right one'));
	assert.throws(() => storage.vaultHeader(sodium, new Uint8Array(10)), /not a vault/);
});

test('the cost is read from the header, and absurd costs are refused', () => {
	const vk = storage.newVaultKey(sodium, 'some passphrase', MIN);
	const rec = storage.seal(sodium, vk, bytes('x'));
	assert.deepEqual(storage.vaultHeader(sodium, rec).kdf, MIN);
	const bad = rec.slice();
	bad[9] = 0xff; // memlimit in KiB: far too high
	assert.throws(() => storage.vaultHeader(sodium, bad), /out of bounds/);
	assert.throws(() => storage.newVaultKey(sodium, '', MIN), /empty/);
});

test('the browser default cost is Argon2id interactive', () => {
	const k = storage.defaultKdf(sodium);
	assert.equal(k.ops, sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE);
	assert.equal(k.memKiB * 1024, sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE);
});

test('a recovery code round-trips, forgives case, dashes, spaces, I/L/O', () => {
	for (const n of [1, 31, 32, 33, 100, 300]) {
		const b = sodium.randombytes_buf(n);
		const code = encodeRecovery(sodium, b);
		assert.match(code, /^[0-9A-HJKMNP-TV-Z]{1,4}(-[0-9A-HJKMNP-TV-Z]{1,4})*$/);
		assert.deepEqual(decodeRecovery(sodium, code), b);
		const sloppy = code.toLowerCase().replace(/-/g, ' ').replace(/1/g, 'l').replace(/0/g, 'o');
		assert.deepEqual(decodeRecovery(sodium, sloppy), b);
	}
});

test('a mistyped recovery code is refused, never decoded to other bytes', () => {
	const b = sodium.randombytes_buf(40);
	const code = encodeRecovery(sodium, b);
	const chars = code.replace(/-/g, '');
	let refused = 0;
	for (let i = 0; i < chars.length; i++) {
		const c = chars[i] === 'A' ? 'B' : 'A';
		const typo = chars.slice(0, i) + c + chars.slice(i + 1);
		try {
			const d = decodeRecovery(sodium, typo);
			assert.notDeepEqual(d, b);
			assert.fail(`typo at ${i} accepted`);
		} catch (e) {
			assert.match(e.message, /bad code/);
			refused++;
		}
	}
	assert.equal(refused, chars.length);
	assert.throws(() => decodeRecovery(sodium, ''), /bad code/);
	assert.throws(() => decodeRecovery(sodium, 'UUUU'), /bad code/);
});

test('a recovery file gives its code back', () => {
	const code = encodeRecovery(sodium, sodium.randombytes_buf(36));
	assert.equal(extractCode(`Recovery code: keep it safe.\n\n${code}\n`), code);
	assert.equal(extractCode(` ${code} `), code);
});

test('the intake carries only the wishes given, as protocol tokens', () => {
	assert.deepEqual(intakeOf({}, 'de'), { language: 'de' });
	assert.deepEqual(intakeOf({ language: 'ar', topic: '', gender: 'female', region: ' De Be ', urgency: 'high' }, 'en'),
		{ language: 'ar', gender: 'female', region: 'de-be', urgency: 'high' });
	assert.throws(() => intakeOf({ region: 'Köln!' }, 'en'));
});

test('errors map to catalogue keys, unknown ones to the generic text', () => {
	assert.equal(errorKey({ code: 'internal' }), 'err_internal');
	assert.equal(errorKey({ code: 'case_closed' }), 'err_case_closed');
	assert.equal(errorKey({ code: 'something_new' }), 'err_generic');
	assert.equal(errorKey(new Error('x')), 'err_generic');
});
