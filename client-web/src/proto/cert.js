// cert.js: mirror of proto/cert.c: programme certificates of counsellor
// identity keys (CRYPTO.md, "Counsellor certificates"). The signature is
// checked before any field is trusted.

import sodium from 'libsodium-wrappers-sumo';
import { OfframpError, ERR } from './err.js';
import { ascii, be64Get, be64Put, bytesEqual, concat } from './bytes.js';

export const CERT_VERSION = 1;
export const CERT_CONTEXT = 'offramp-cert-v1';
export const CERT_BODY_BYTES = 57;
export const CERT_BYTES = CERT_BODY_BYTES + 64;	// 121

/**
 * Signs info {counsellorPk (32 bytes), programmeId, notBefore, notAfter}
 * (integers or BigInts) with the programme's 64-byte secret key: the
 * 121-byte certificate. Throws "usage" when notAfter <= notBefore.
 */
export function certSign(programmeSk, info) {
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
	const sig = sodium.crypto_sign_detached(concat(ascii(CERT_CONTEXT), body), programmeSk);
	return concat(body, sig);
}

/**
 * Checks cert against the pinned programme key at time now (seconds) and,
 * when counsellorPk is given, that it certifies that key. Returns
 * {counsellorPk, programmeId, notBefore, notAfter} (Numbers); throws
 * "bad_field" (malformed), "bad_signature" (signature, or another key),
 * "crypto" (outside its validity).
 */
export function certVerify(cert, programmePk, counsellorPk, now) {
	if (!(cert instanceof Uint8Array) || cert.length !== CERT_BYTES)
		throw new OfframpError(ERR.BAD_FIELD, 'certificate size');
	if (!(programmePk instanceof Uint8Array) || programmePk.length !== 32)
		throw new OfframpError(ERR.USAGE, 'programme key');
	const body = cert.subarray(0, CERT_BODY_BYTES);
	let ok = false;
	try {
		ok = sodium.crypto_sign_verify_detached(cert.subarray(CERT_BODY_BYTES),
			concat(ascii(CERT_CONTEXT), body), programmePk);
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
