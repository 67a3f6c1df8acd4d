// x3dh.js: mirror of proto/x3dh.c: prekeys, prekey bundles and the X3DH
// key agreement (CRYPTO.md, "Keys", "Prekey bundle", "Key agreement").
// Identities are Ed25519 account keys; X3DH uses their X25519 forms. Every
// DH result is checked (all-zero refused); secrets are wiped after use.
//
// A bundle is {ik, spkId, spk, spkSig, opk: [{id, pk}]}; the X3DH fields an
// initiator sends are an "init" {ik, ek, spkId, hasOpk, opkId}.

import sodium from 'libsodium-wrappers-sumo';
import { OfframpError, ERR } from './err.js';
import { ascii, be32Get, be32Put, bytesEqual, concat, wipe } from './bytes.js';
import { csprngBuf } from './csprng.js';
import { hkdf } from './hkdf.js';

export const X3DH_KEY_BYTES = 32;
export const X3DH_SK_BYTES = 32;
export const X3DH_AD_BYTES = 64;
export const X3DH_SPK_CONTEXT = 'offramp-spk-v1';
export const X3DH_INFO = 'offramp-x3dh-v1';
export const X3DH_BUNDLE_VERSION = 1;
export const X3DH_OPK_MAX = 100;
export const X3DH_OPK_ENTRY_BYTES = 36;
export const X3DH_BUNDLE_FIXED_BYTES = 135;
export const X3DH_BUNDLE_MAX_BYTES = X3DH_BUNDLE_FIXED_BYTES + X3DH_OPK_MAX * X3DH_OPK_ENTRY_BYTES;

const F = new Uint8Array(32).fill(0xff);

function need(b, n, what, code = ERR.USAGE) {
	if (!(b instanceof Uint8Array) || b.length !== n) throw new OfframpError(code, `${what} is ${n} bytes`);
}

function isU32(v) {
	return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

/** A fresh X25519 pair {pk, sk} from csprngBuf. */
export function x3dhKeypair() {
	const sk = csprngBuf(X3DH_KEY_BYTES);
	return { pk: sodium.crypto_scalarmult_base(sk), sk };
}

/** The X25519 form of an Ed25519 public key; throws "crypto" when not a valid point. */
export function x3dhIdentityX25519Pk(pk) {
	need(pk, 32, 'identity', ERR.CRYPTO);
	try {
		return sodium.crypto_sign_ed25519_pk_to_curve25519(pk);
	} catch {
		throw new OfframpError(ERR.CRYPTO, 'identity is not a valid point');
	}
}

/** The X25519 form of an Ed25519 secret key (64 bytes); the caller wipes it. */
export function x3dhIdentityX25519Sk(sk) {
	need(sk, 64, 'identity secret', ERR.CRYPTO);
	return sodium.crypto_sign_ed25519_sk_to_curve25519(sk);
}

/** The signed prekey message: context || spk_id (u32 BE) || spk. */
export function x3dhSpkMessage(spkId, spk) {
	if (!isU32(spkId)) throw new OfframpError(ERR.USAGE, 'spk id');
	need(spk, X3DH_KEY_BYTES, 'spk');
	const id = new Uint8Array(4);
	be32Put(id, 0, spkId);
	return concat(ascii(X3DH_SPK_CONTEXT), id, spk);
}

/** Signs the signed prekey with the identity secret key (64 bytes). */
export function x3dhSpkSign(idSk, spkId, spk) {
	need(idSk, 64, 'identity secret');
	return sodium.crypto_sign_detached(x3dhSpkMessage(spkId, spk), idSk);
}

/** Throws "bad_signature" unless sig is idPk's signature of the prekey. */
export function x3dhSpkVerify(sig, idPk, spkId, spk) {
	let ok = false;
	try {
		ok = sig instanceof Uint8Array && sig.length === 64 &&
			sodium.crypto_sign_verify_detached(sig, x3dhSpkMessage(spkId, spk), idPk);
	} catch {
		ok = false;
	}
	if (!ok) throw new OfframpError(ERR.BAD_SIGNATURE, 'signed prekey');
}

/** The encoded size of bundle b. */
export function x3dhBundleSize(b) {
	return X3DH_BUNDLE_FIXED_BYTES + b.opk.length * X3DH_OPK_ENTRY_BYTES;
}

/** The bytes of bundle b (spkSig filled by x3dhSpkSign). Throws "usage"
 * when it has over 100 one-time prekeys or a field of the wrong size. */
export function x3dhBundleEncode(b) {
	if (b.opk.length > X3DH_OPK_MAX) throw new OfframpError(ERR.USAGE, 'too many one-time prekeys');
	need(b.ik, 32, 'ik');
	need(b.spk, 32, 'spk');
	need(b.spkSig, 64, 'spk signature');
	if (!isU32(b.spkId)) throw new OfframpError(ERR.USAGE, 'spk id');
	const out = new Uint8Array(x3dhBundleSize(b));
	out[0] = X3DH_BUNDLE_VERSION;
	out.set(b.ik, 1);
	be32Put(out, 33, b.spkId);
	out.set(b.spk, 37);
	out.set(b.spkSig, 69);
	out[133] = b.opk.length >> 8;
	out[134] = b.opk.length & 0xff;
	let p = 135;
	for (const o of b.opk) {
		if (!isU32(o.id)) throw new OfframpError(ERR.USAGE, 'opk id');
		need(o.pk, 32, 'opk');
		be32Put(out, p, o.id);
		out.set(o.pk, p + 4);
		p += X3DH_OPK_ENTRY_BYTES;
	}
	return out;
}

/** Decodes a bundle without checking its signature; throws "bad_field"
 * unless buf is exactly one well-formed bundle (distinct one-time ids). */
export function x3dhBundleDecode(buf) {
	const bad = () => new OfframpError(ERR.BAD_FIELD, 'bundle', 'bundle');
	if (!(buf instanceof Uint8Array) || buf.length < X3DH_BUNDLE_FIXED_BYTES ||
	    buf[0] !== X3DH_BUNDLE_VERSION)
		throw bad();
	const n = (buf[133] << 8) | buf[134];
	if (n > X3DH_OPK_MAX || buf.length !== X3DH_BUNDLE_FIXED_BYTES + n * X3DH_OPK_ENTRY_BYTES)
		throw bad();
	const b = {
		ik: buf.slice(1, 33), spkId: be32Get(buf, 33), spk: buf.slice(37, 69),
		spkSig: buf.slice(69, 133), opk: [],
	};
	const seen = new Set();
	for (let i = 0, p = 135; i < n; i++, p += X3DH_OPK_ENTRY_BYTES) {
		const id = be32Get(buf, p);
		if (seen.has(id)) throw bad();
		seen.add(id);
		b.opk.push({ id, pk: buf.slice(p + 4, p + 36) });
	}
	return b;
}

/**
 * The check of an uploaded or fetched bundle: it decodes ("bad_field"),
 * its identity is expectIk when given, a valid point, and the signed
 * prekey signature verifies ("bad_signature"). Returns the bundle.
 */
export function x3dhBundleVerify(buf, expectIk) {
	const b = x3dhBundleDecode(buf);
	if (expectIk != null && !bytesEqual(b.ik, expectIk))
		throw new OfframpError(ERR.BAD_SIGNATURE, 'bundle of another identity');
	try {
		x3dhIdentityX25519Pk(b.ik);
	} catch {
		throw new OfframpError(ERR.BAD_SIGNATURE, 'bundle identity');
	}
	x3dhSpkVerify(b.spkSig, b.ik, b.spkId, b.spk);
	return b;
}

function dh(sk, pk) {
	try {
		return sodium.crypto_scalarmult(sk, pk);	// throws on an all-zero result
	} catch {
		throw new OfframpError(ERR.CRYPTO, 'bad DH');
	}
}

function derive(dhs, ika, ikb) {
	const ikm = concat(F, ...dhs);
	try {
		return { sk: hkdf(X3DH_SK_BYTES, null, ikm, ascii(X3DH_INFO)), ad: concat(ika, ikb) };
	} finally {
		wipe(ikm, ...dhs);
	}
}

/**
 * Initiator: agrees on SK with the owner of bundle b (decoded), which must
 * verify ("bad_signature"), using b.opk[0] when there is one. Generates
 * the ephemeral key (csprngBuf). Returns {sk, ad, init}; throws "crypto".
 */
export function x3dhInitiate(myIdSk, b) {
	x3dhSpkVerify(b.spkSig, b.ik, b.spkId, b.spk);
	const ikbX = x3dhIdentityX25519Pk(b.ik);
	const myX = x3dhIdentityX25519Sk(myIdSk);
	const ek = x3dhKeypair();
	const init = { ik: myIdSk.slice(32, 64), ek: ek.pk, spkId: b.spkId, hasOpk: false, opkId: 0 };
	const dhs = [];
	try {
		dhs.push(dh(myX, b.spk), dh(ek.sk, ikbX), dh(ek.sk, b.spk));
		if (b.opk.length > 0) {
			dhs.push(dh(ek.sk, b.opk[0].pk));
			init.hasOpk = true;
			init.opkId = b.opk[0].id;
		}
		const { sk, ad } = derive(dhs, init.ik, b.ik);
		return { sk, ad, init };
	} finally {
		wipe(myX, ek.sk, ...dhs);
	}
}

/**
 * Responder: the same {sk, ad} from the initiator's fields, its identity
 * secret, the signed prekey secret named by init.spkId and, exactly when
 * init.hasOpk, the one-time prekey secret ("usage" otherwise). The caller
 * deletes that one-time secret once a message has decrypted. Throws "crypto".
 */
export function x3dhRespond(init, myIdSk, spkSk, opkSk) {
	if (Boolean(init.hasOpk) !== (opkSk != null)) throw new OfframpError(ERR.USAGE, 'one-time prekey');
	const ikaX = x3dhIdentityX25519Pk(init.ik);
	const myX = x3dhIdentityX25519Sk(myIdSk);
	const dhs = [];
	try {
		dhs.push(dh(spkSk, ikaX), dh(myX, init.ek), dh(spkSk, init.ek));
		if (opkSk != null) dhs.push(dh(opkSk, init.ek));
		return derive(dhs, init.ik, myIdSk.slice(32, 64));
	} finally {
		wipe(myX, ...dhs);
	}
}
