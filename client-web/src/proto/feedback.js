// feedback.js: mirror of proto/feedback.c: the free text of anonymous
// feedback (CRYPTO.md, "Feedback"), sealed to each admin of a programme
// with libsodium's sealed box (crypto_box_seal: an ephemeral X25519 key,
// so the sender is anonymous and cannot open it again) under the X25519
// form of the admin's Ed25519 identity key. The plaintext is always
// FEEDBACK_PLAIN_BYTES: the UTF-8 text, then zero bytes, so a sealed text
// does not give away the length of what was written. Secrets (the
// plaintext, the X25519 secret) are wiped before return.

import sodium from 'libsodium-wrappers-sumo';
import { OfframpError, ERR } from './err.js';

export const FEEDBACK_TEXT_MAX = 1000;		// bytes of UTF-8, no NUL
export const FEEDBACK_PLAIN_BYTES = 1024;
export const FEEDBACK_SEAL_OVERHEAD = 48;	// crypto_box_SEALBYTES
export const FEEDBACK_SEALED_BYTES = FEEDBACK_PLAIN_BYTES + FEEDBACK_SEAL_OVERHEAD;	// 1072
export const FEEDBACK_ADMINS_MAX = 8;		// sealed copies in one feedback

/**
 * Seals text (UTF-8 bytes, 1..FEEDBACK_TEXT_MAX, no NUL) to the admin's
 * Ed25519 identity key (32 bytes): FEEDBACK_SEALED_BYTES. Throws "usage"
 * for a bad length or a NUL, "crypto" for a key with no X25519 form.
 */
export function feedbackSeal(adminPk, text) {
	if (!(text instanceof Uint8Array) || text.length === 0 || text.length > FEEDBACK_TEXT_MAX || text.includes(0))
		throw new OfframpError(ERR.USAGE, `the text must be 1 to ${FEEDBACK_TEXT_MAX} bytes, no NUL`);
	if (!(adminPk instanceof Uint8Array) || adminPk.length !== 32) throw new OfframpError(ERR.USAGE, 'admin key');
	let xpk;
	try {
		xpk = sodium.crypto_sign_ed25519_pk_to_curve25519(adminPk);
	} catch {
		throw new OfframpError(ERR.CRYPTO, 'the key has no X25519 form');
	}
	const plain = new Uint8Array(FEEDBACK_PLAIN_BYTES);
	plain.set(text);
	try {
		return sodium.crypto_box_seal(plain, xpk);
	} finally {
		sodium.memzero(plain);
	}
}

/**
 * Opens a sealed text (FEEDBACK_SEALED_BYTES) with the admin's Ed25519
 * identity secret key (64 bytes): the text's UTF-8 bytes. Throws "crypto"
 * when it does not open or is not a padded text.
 */
export function feedbackOpen(sealed, adminSk) {
	const bad = () => new OfframpError(ERR.CRYPTO, 'not a sealed feedback text');
	if (!(sealed instanceof Uint8Array) || sealed.length !== FEEDBACK_SEALED_BYTES) throw bad();
	let xsk = null, plain = null;
	try {
		xsk = sodium.crypto_sign_ed25519_sk_to_curve25519(adminSk);
		plain = sodium.crypto_box_seal_open(sealed, sodium.crypto_scalarmult_base(xsk), xsk);
		let len = plain.indexOf(0);
		if (len < 0) len = plain.length;
		if (len === 0 || len > FEEDBACK_TEXT_MAX || plain.subarray(len).some((b) => b !== 0)) throw bad();
		return plain.slice(0, len);
	} catch {
		throw bad();
	} finally {
		if (xsk) sodium.memzero(xsk);
		if (plain) sodium.memzero(plain);
	}
}
