// cert.js: mirror of proto/cert.c: what a programme's signing key signs
// (CRYPTO.md, "Programme keys"): certificates of counsellor identity keys
// (and of admins' keys, under their own context),
// rotations of the programme key, revocation lists and partner statements.
// Each is body || Ed25519 signature over context || body; the signature is
// checked before any field is trusted.

import sodium from 'libsodium-wrappers-sumo';
import { OfframpError, ERR } from './err.js';
import { ascii, be64Get, be64Put, bytesCompare, bytesEqual, concat } from './bytes.js';

export const CERT_VERSION = 1;
export const CERT_CONTEXT = 'offramp-cert-v1';
export const CERT_BODY_BYTES = 57;
export const CERT_BYTES = CERT_BODY_BYTES + 64;	// 121

/* A certificate under context ctx (a counsellor's or an admin's). */
function signCert(ctx, programmeSk, info) {
	if (BigInt(info.notAfter) <= BigInt(info.notBefore))
		throw new OfframpError(ERR.USAGE, 'empty validity');
	if (!(info.counsellorPk instanceof Uint8Array) || info.counsellorPk.length !== 32)
		throw new OfframpError(ERR.USAGE, 'counsellor key');
	const body = new Uint8Array(CERT_BODY_BYTES);
	body[0] = CERT_VERSION;
	body.set(info.counsellorPk, 1);
	be64Put(body, 33, info.programmeId);
	be64Put(body, 41, info.notBefore);
	be64Put(body, 49, info.notAfter);
	const sig = sodium.crypto_sign_detached(concat(ascii(ctx), body), programmeSk);
	return concat(body, sig);
}

function verifyCert(ctx, cert, programmePk, counsellorPk, now) {
	if (!(cert instanceof Uint8Array) || cert.length !== CERT_BYTES)
		throw new OfframpError(ERR.BAD_FIELD, 'certificate size');
	if (!(programmePk instanceof Uint8Array) || programmePk.length !== 32)
		throw new OfframpError(ERR.USAGE, 'programme key');
	const body = cert.subarray(0, CERT_BODY_BYTES);
	let ok = false;
	try {
		ok = sodium.crypto_sign_verify_detached(cert.subarray(CERT_BODY_BYTES),
			concat(ascii(ctx), body), programmePk);
	} catch {
		ok = false;
	}
	if (!ok) throw new OfframpError(ERR.BAD_SIGNATURE, 'certificate signature');
	const nb = be64Get(cert, 41), na = be64Get(cert, 49);
	if (cert[0] !== CERT_VERSION || na <= nb) throw new OfframpError(ERR.BAD_FIELD, 'certificate');
	const pk = cert.slice(1, 33);
	if (counsellorPk != null && !bytesEqual(pk, counsellorPk))
		throw new OfframpError(ERR.BAD_SIGNATURE, 'certificate of another key');
	const t = BigInt(now);
	if (t < nb || t >= na) throw new OfframpError(ERR.CRYPTO, 'certificate not valid now');
	return { counsellorPk: pk, programmeId: Number(be64Get(cert, 33)), notBefore: Number(nb), notAfter: Number(na) };
}

/**
 * Signs info {counsellorPk (32 bytes), programmeId, notBefore, notAfter}
 * (integers or BigInts) with the programme's 64-byte secret key: the
 * 121-byte certificate. Throws "usage" when notAfter <= notBefore.
 */
export function certSign(programmeSk, info) {
	return signCert(CERT_CONTEXT, programmeSk, info);
}

/**
 * Checks cert against the pinned programme key at time now (seconds) and,
 * when counsellorPk is given, that it certifies that key. Returns
 * {counsellorPk, programmeId, notBefore, notAfter} (Numbers); throws
 * "bad_field" (malformed), "bad_signature" (signature, or another key),
 * "crypto" (outside its validity).
 */
export function certVerify(cert, programmePk, counsellorPk, now) {
	return verifyCert(CERT_CONTEXT, cert, programmePk, counsellorPk, now);
}

/*
 * Admin certificate (CRYPTO.md, "Feedback"): the same body, signed under
 * its own context, so that neither passes for the other. It says "this
 * key is an admin of the programme": clients seal anonymous feedback text
 * to the admins it names. As certSign and certVerify; counsellorPk is the
 * admin's key.
 */
export const ADMIN_CERT_CONTEXT = 'offramp-admin-cert-v1';

export function adminCertSign(programmeSk, info) {
	return signCert(ADMIN_CERT_CONTEXT, programmeSk, info);
}

export function adminCertVerify(cert, programmePk, adminPk, now) {
	return verifyCert(ADMIN_CERT_CONTEXT, cert, programmePk, adminPk, now);
}

/** The check of a certificate under context ctx (CERT_CONTEXT or
 * ADMIN_CERT_CONTEXT); "usage" for another context. */
export function certVerifier(ctx) {
	if (ctx === CERT_CONTEXT) return certVerify;
	if (ctx === ADMIN_CERT_CONTEXT) return adminCertVerify;
	throw new OfframpError(ERR.USAGE, 'certificate context');
}

const SIG_BYTES = 64;
const isKey = (k) => k instanceof Uint8Array && k.length === 32;

function signBody(ctx, body, sk) {
	return concat(body, sodium.crypto_sign_detached(concat(ascii(ctx), body), sk));
}

/* true when in (body of blen bytes, then the signature) is signed by pk. */
function verifyBody(ctx, inp, blen, pk) {
	if (!isKey(pk)) throw new OfframpError(ERR.USAGE, 'programme key');
	try {
		return sodium.crypto_sign_verify_detached(inp.subarray(blen, blen + SIG_BYTES),
			concat(ascii(ctx), inp.subarray(0, blen)), pk);
	} catch {
		return false;
	}
}

function checkSize(inp, n, what) {
	if (!(inp instanceof Uint8Array) || inp.length !== n) throw new OfframpError(ERR.BAD_FIELD, `${what} size`);
}

// --- rotations ---

export const ROTATION_CONTEXT = 'offramp-rotate-v1';
export const ROTATION_BODY_BYTES = 81;
export const ROTATION_BYTES = ROTATION_BODY_BYTES + SIG_BYTES;	// 145

/**
 * Signs r {programmeId, oldPk, newPk, issued} with the old key's 64-byte
 * secret (whose public half is oldPk): the 145-byte statement. Throws
 * "usage" when the old and the new key are the same.
 */
export function rotationSign(oldSk, r) {
	if (!isKey(r.oldPk) || !isKey(r.newPk) || bytesEqual(r.oldPk, r.newPk))
		throw new OfframpError(ERR.USAGE, 'rotation keys');
	const body = new Uint8Array(ROTATION_BODY_BYTES);
	body[0] = CERT_VERSION;
	be64Put(body, 1, r.programmeId);
	body.set(r.oldPk, 9);
	body.set(r.newPk, 41);
	be64Put(body, 73, r.issued);
	return signBody(ROTATION_CONTEXT, body, oldSk);
}

/**
 * Checks a rotation statement signed by oldPk: {programmeId, oldPk, newPk,
 * issued}; throws "bad_signature" (signature, or another old key),
 * "bad_field" (size, version, old = new).
 */
export function rotationVerify(inp, oldPk) {
	checkSize(inp, ROTATION_BYTES, 'rotation');
	if (!verifyBody(ROTATION_CONTEXT, inp, ROTATION_BODY_BYTES, oldPk) || !bytesEqual(inp.subarray(9, 41), oldPk))
		throw new OfframpError(ERR.BAD_SIGNATURE, 'rotation signature');
	if (inp[0] !== CERT_VERSION || bytesEqual(inp.subarray(9, 41), inp.subarray(41, 73)))
		throw new OfframpError(ERR.BAD_FIELD, 'rotation');
	return {
		programmeId: Number(be64Get(inp, 1)), oldPk: inp.slice(9, 41), newPk: inp.slice(41, 73),
		issued: Number(be64Get(inp, 73)),
	};
}

// --- revocation lists ---

export const REVOCATION_CONTEXT = 'offramp-revoke-v1';
export const REVOCATION_HEAD_BYTES = 19;
export const REVOCATION_MAX = 128;
/** The size of a list of n keys. */
export const revocationBytes = (n) => REVOCATION_HEAD_BYTES + 32 * n + SIG_BYTES;
export const REVOCATION_BYTES_MAX = revocationBytes(REVOCATION_MAX);	// 4179

function sorted(keys) {
	for (let i = 1; i < keys.length; i++) if (bytesCompare(keys[i - 1], keys[i]) >= 0) return false;
	return true;
}

/**
 * Signs the list of keys (32 bytes each, sorted bytewise and distinct,
 * at most 128; else "usage") of programmeId, issued at issued.
 */
export function revocationSign(sk, programmeId, issued, keys) {
	if (!Array.isArray(keys) || keys.length > REVOCATION_MAX || !keys.every(isKey) || !sorted(keys))
		throw new OfframpError(ERR.USAGE, 'revoked keys: sorted, distinct, at most 128');
	const body = new Uint8Array(revocationBytes(keys.length) - SIG_BYTES);
	body[0] = CERT_VERSION;
	be64Put(body, 1, programmeId);
	be64Put(body, 9, issued);
	body[17] = keys.length >> 8;
	body[18] = keys.length & 255;
	keys.forEach((k, i) => body.set(k, REVOCATION_HEAD_BYTES + 32 * i));
	return signBody(REVOCATION_CONTEXT, body, sk);
}

/**
 * Checks a revocation list under pk: {programmeId, issued, keys: [32-byte
 * keys]}; throws "bad_field" (length, version, order), "bad_signature".
 */
export function revocationVerify(inp, pk) {
	if (!(inp instanceof Uint8Array) || inp.length < revocationBytes(0) || inp.length > REVOCATION_BYTES_MAX)
		throw new OfframpError(ERR.BAD_FIELD, 'revocation list size');
	const n = inp[17] << 8 | inp[18];
	if (n > REVOCATION_MAX || inp.length !== revocationBytes(n))
		throw new OfframpError(ERR.BAD_FIELD, 'revocation list size');
	if (!verifyBody(REVOCATION_CONTEXT, inp, inp.length - SIG_BYTES, pk))
		throw new OfframpError(ERR.BAD_SIGNATURE, 'revocation list signature');
	const keys = [];
	for (let i = 0; i < n; i++) keys.push(inp.slice(REVOCATION_HEAD_BYTES + 32 * i, REVOCATION_HEAD_BYTES + 32 * (i + 1)));
	if (inp[0] !== CERT_VERSION || !sorted(keys)) throw new OfframpError(ERR.BAD_FIELD, 'revocation list');
	return { programmeId: Number(be64Get(inp, 1)), issued: Number(be64Get(inp, 9)), keys };
}

/** true when key is on the checked list r. */
export function revocationHas(r, key) {
	return r.keys.some((k) => bytesEqual(k, key));
}

// --- partner statements ---

export const PARTNER_CONTEXT = 'offramp-partner-v1';
export const PARTNER_BODY_BYTES = 65;
export const PARTNER_BYTES = PARTNER_BODY_BYTES + SIG_BYTES;	// 129

/**
 * Signs p {programmeId (the signer), partnerId, partnerPk, notBefore,
 * notAfter}: the 129-byte statement. Throws "usage" (empty validity, a
 * programme vouching for itself).
 */
export function partnerSign(sk, p) {
	if (BigInt(p.notAfter) <= BigInt(p.notBefore) || BigInt(p.partnerId) === BigInt(p.programmeId) || !isKey(p.partnerPk))
		throw new OfframpError(ERR.USAGE, 'partner statement');
	const body = new Uint8Array(PARTNER_BODY_BYTES);
	body[0] = CERT_VERSION;
	be64Put(body, 1, p.programmeId);
	be64Put(body, 9, p.partnerId);
	body.set(p.partnerPk, 17);
	be64Put(body, 49, p.notBefore);
	be64Put(body, 57, p.notAfter);
	return signBody(PARTNER_CONTEXT, body, sk);
}

/**
 * Checks a partner statement under signerPk at now: {programmeId,
 * partnerId, partnerPk, notBefore, notAfter}; codes as certVerify.
 */
export function partnerVerify(inp, signerPk, now) {
	checkSize(inp, PARTNER_BYTES, 'partner statement');
	if (!verifyBody(PARTNER_CONTEXT, inp, PARTNER_BODY_BYTES, signerPk))
		throw new OfframpError(ERR.BAD_SIGNATURE, 'partner statement signature');
	const id = be64Get(inp, 1), partner = be64Get(inp, 9), nb = be64Get(inp, 49), na = be64Get(inp, 57);
	if (inp[0] !== CERT_VERSION || na <= nb || id === partner) throw new OfframpError(ERR.BAD_FIELD, 'partner statement');
	const t = BigInt(now);
	if (t < nb || t >= na) throw new OfframpError(ERR.CRYPTO, 'partner statement not valid now');
	return {
		programmeId: Number(id), partnerId: Number(partner), partnerPk: inp.slice(17, 49),
		notBefore: Number(nb), notAfter: Number(na),
	};
}
