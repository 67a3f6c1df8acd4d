// ocrypto.js: mirror of proto/ocrypto.c: the crypto of protocol v1 that
// both ends agree on outside the sessions: libsodium's initialisation, the
// login signature (PROTOCOL.md, "Connection and login") and invite tokens.
// (The C file's interim crypto_box of messages is retired by the sessions
// and not mirrored.)

import sodium from 'libsodium-wrappers-sumo';
import { OfframpError, ERR } from './err.js';
import { ascii, concat } from './bytes.js';

export const OFR_PK_BYTES = 32;
export const OFR_SK_BYTES = 64;
export const OFR_SEED_BYTES = 32;
export const OFR_SIG_BYTES = 64;
export const OFR_CHALLENGE_BYTES = 32;
export const OFR_INVITE_BYTES = 32;
export const OFR_INVITE_STR_MAX = 64;
export const OFR_LOGIN_CONTEXT = 'offramp-login-v1';
export const OFR_LOGIN_MSG_BYTES = 16 + 3 * 32;

/** Must be awaited once before any other function of proto/. */
export async function ocryptoInit() {
	await sodium.ready;
}

function need(b, n, what) {
	if (!(b instanceof Uint8Array) || b.length !== n)
		throw new OfframpError(ERR.USAGE, `${what} is ${n} bytes`);
}

/** The signed login message: context || server_pk || challenge || user_pk (112 bytes). */
export function ocryptoLoginMessage(serverPk, challenge, userPk) {
	need(serverPk, OFR_PK_BYTES, 'server key');
	need(challenge, OFR_CHALLENGE_BYTES, 'challenge');
	need(userPk, OFR_PK_BYTES, 'user key');
	return concat(ascii(OFR_LOGIN_CONTEXT), serverPk, challenge, userPk);
}

/** Signs the login message with userSk (libsodium's 64-byte form, whose
 * second half is the public key). */
export function ocryptoLoginSign(userSk, serverPk, challenge) {
	need(userSk, OFR_SK_BYTES, 'secret key');
	return sodium.crypto_sign_detached(ocryptoLoginMessage(serverPk, challenge,
		userSk.subarray(32)), userSk);
}

/** Throws "bad_signature" unless sig is userPk's signature of the login message. */
export function ocryptoLoginVerify(sig, serverPk, challenge, userPk) {
	let ok = false;
	try {
		need(sig, OFR_SIG_BYTES, 'signature');
		ok = sodium.crypto_sign_verify_detached(sig,
			ocryptoLoginMessage(serverPk, challenge, userPk), userPk);
	} catch {
		ok = false;
	}
	if (!ok) throw new OfframpError(ERR.BAD_SIGNATURE, 'login signature');
}

/** An Ed25519 identity from a 32-byte seed: {publicKey, privateKey (64)}. */
export function ocryptoSeedKeypair(seed) {
	need(seed, OFR_SEED_BYTES, 'seed');
	return sodium.crypto_sign_seed_keypair(seed);
}

/** An invite token as text: base64url of 32 bytes, no padding. */
export function ocryptoInviteEncode(token) {
	need(token, OFR_INVITE_BYTES, 'invite');
	return sodium.to_base64(token, sodium.base64_variants.URLSAFE_NO_PADDING);
}

/** The 32 bytes of an invite token; throws "bad_invite" when s is not one. */
export function ocryptoInviteDecode(s) {
	if (typeof s !== 'string' || s.length >= OFR_INVITE_STR_MAX || !/^[A-Za-z0-9_-]+$/.test(s))
		throw new OfframpError(ERR.BAD_INVITE, 'not an invite token');
	let t;
	try {
		t = sodium.from_base64(s, sodium.base64_variants.URLSAFE_NO_PADDING);
	} catch {
		throw new OfframpError(ERR.BAD_INVITE, 'not an invite token');
	}
	if (t.length !== OFR_INVITE_BYTES || ocryptoInviteEncode(t) !== s)
		throw new OfframpError(ERR.BAD_INVITE, 'not an invite token');
	return t;
}
