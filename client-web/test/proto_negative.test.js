// proto_negative.test.js: what the C unit tests refuse (tests/unit/
// test_ratchet.c, test_x3dh.c), refused the same way by the JavaScript
// mirror: tampered messages, replays, forged bundles and certificates,
// wrong sizes, bad saved states, skip limits; and a failed decrypt leaves
// the session's saved state byte for byte as it was.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import sodium from 'libsodium-wrappers-sumo';
import * as P from '../src/proto/index.js';

before(async () => {
	await P.ocryptoInit();
});

const te = new TextEncoder(), td = new TextDecoder();

function party() {
	const id = sodium.crypto_sign_keypair();
	const spk = P.x3dhKeypair();
	return { pk: id.publicKey, sk: id.privateKey, spk, spkId: 9 };
}

function bundleOf(b, nOpk) {
	const opk = [];
	for (let i = 0; i < nOpk; i++) opk.push({ id: 100 + i, ...P.x3dhKeypair() });
	return {
		ik: b.pk, spkId: b.spkId, spk: b.spk.pk, spkSig: P.x3dhSpkSign(b.sk, b.spkId, b.spk.pk),
		opk: opk.map((o) => ({ id: o.id, pk: o.pk })), secrets: opk,
	};
}

/** A started session pair: a (initiator) has sent nothing yet; b answers the first message. */
function pair() {
	const A = party(), B = party();
	const bu = bundleOf(B, 1);
	const x = P.x3dhInitiate(A.sk, bu);
	const a = P.ratchetNew();
	P.ratchetInitInitiator(a, x.sk, x.ad, bu.spk, x.init);
	const first = P.ratchetEncrypt(a, te.encode('first'));
	const m = P.ratchetMsgParse(first);
	const y = P.x3dhRespond(m.init, B.sk, B.spk.sk, bu.secrets[0].sk);
	const b = P.ratchetNew();
	P.ratchetInitResponder(b, y.sk, y.ad, m.init, B.spk.pk, B.spk.sk);
	assert.equal(td.decode(P.ratchetDecrypt(b, first)), 'first');
	return { a, b, A, B };
}

const enc = (r, s) => P.ratchetEncrypt(r, te.encode(s));
const dec = (r, m) => td.decode(P.ratchetDecrypt(r, m));

test('tamper: every flipped byte is refused and the state is unchanged', () => {
	const { a, b } = pair();
	const m0 = enc(a, 'with init');
	const m = enc(a, 'target');
	const st = P.ratchetStateSave(b);
	for (let i = 0; i < m.length; i++) {
		m[i] ^= 0x04;
		assert.throws(() => P.ratchetDecrypt(b, m), (e) => e.code === 'crypto' || e.code === 'limit');
		m[i] ^= 0x04;
	}
	assert.deepEqual(P.ratchetStateSave(b), st);
	assert.throws(() => P.ratchetDecrypt(b, m.subarray(0, m.length - 1)), { code: 'crypto' });
	assert.throws(() => P.ratchetDecrypt(b, m.subarray(0, 41)), { code: 'crypto' });
	assert.throws(() => P.ratchetDecrypt(b, new Uint8Array(0)), { code: 'crypto' });
	assert.deepEqual(P.ratchetStateSave(b), st);
	assert.equal(dec(b, m), 'target');
	assert.equal(dec(b, m0), 'with init');
	// a forged message for a skipped key does not delete the key
	const s0 = enc(b, 'skipped');
	const s1 = enc(b, 'received');
	assert.equal(dec(a, s1), 'received');
	assert.equal(P.ratchetSkippedCount(a), 1);
	s0[s0.length - 1] ^= 1;
	assert.throws(() => P.ratchetDecrypt(a, s0), { code: 'crypto' });
	assert.equal(P.ratchetSkippedCount(a), 1);
	s0[s0.length - 1] ^= 1;
	assert.equal(dec(a, s0), 'skipped');
});

test('replay: a message opens once; a loaded state refuses it too', () => {
	const { a, b } = pair();
	const m = enc(a, 'once');
	const late = enc(a, 'late');
	const last = enc(a, 'last');
	assert.equal(dec(b, m), 'once');
	assert.throws(() => P.ratchetDecrypt(b, m), { code: 'crypto' });
	assert.equal(dec(b, last), 'last');
	const r = P.ratchetStateLoad(P.ratchetStateSave(b));
	assert.throws(() => P.ratchetDecrypt(r, m), { code: 'crypto' });
	assert.equal(dec(r, late), 'late');
	assert.throws(() => P.ratchetDecrypt(r, late), { code: 'crypto' });
});

test('a message of another session is refused', () => {
	const p1 = pair(), p2 = pair();
	const m = enc(p1.a, 'for p1');
	const st = P.ratchetStateSave(p2.b);
	assert.throws(() => P.ratchetDecrypt(p2.b, m), { code: 'crypto' });
	assert.deepEqual(P.ratchetStateSave(p2.b), st);
});

test('a responder cannot send before it has decrypted; too long is too_big', () => {
	const B = party(), A = party();
	const bu = bundleOf(B, 0);
	const x = P.x3dhInitiate(A.sk, bu);
	const y = P.x3dhRespond(x.init, B.sk, B.spk.sk, null);
	const b = P.ratchetNew();
	P.ratchetInitResponder(b, y.sk, y.ad, x.init, B.spk.pk, B.spk.sk);
	assert.throws(() => enc(b, 'too soon'), { code: 'usage' });
	const a = P.ratchetNew();
	P.ratchetInitInitiator(a, x.sk, x.ad, bu.spk, x.init);
	assert.throws(() => P.ratchetEncrypt(a, new Uint8Array(P.PAD_PLAINTEXT_MAX + 1)), { code: 'too_big' });
	const big = P.ratchetEncrypt(a, new Uint8Array(P.PAD_PLAINTEXT_MAX).fill(0x61));
	assert.equal(big.length, P.RATCHET_MSG_MAX);
	assert.ok(big.length <= P.OFR_CT_MAX);
	assert.equal(P.ratchetDecrypt(b, big).length, P.PAD_PLAINTEXT_MAX);
	// first (X3DH fields) or later, text, report or nothing: 1024 bytes;
	// a text over 869 bytes of envelope, or the longest, 16282
	const te8 = (n) => P.envelopeText(new Uint8Array(n).fill(0x62));
	const short = [te8(0), te8(2), te8(200), te8(P.PAD_SHORT_PLAINTEXT_MAX - 2), P.envelopeReport(1, 2), P.envelopeNothing()];
	for (const [from, to, init] of [[a, b, true], [b, a, false], [a, b, false]]) {
		for (const e of short) {
			assert.equal(P.ratchetEncryptSize(from, e.length), 1024);
			const m = P.ratchetEncrypt(from, e);
			assert.equal(m.length, 1024);
			assert.equal(P.ratchetMsgParse(m).hasInit, init);
			assert.deepEqual(P.ratchetDecrypt(to, m), e);
		}
		for (const e of [te8(P.PAD_SHORT_PLAINTEXT_MAX - 1), te8(P.ENVELOPE_TEXT_MAX)]) {
			const m = P.ratchetEncrypt(from, e);
			assert.equal(m.length, 16282);
			assert.equal(P.ratchetMsgParse(m).hasInit, init);
			assert.deepEqual(P.ratchetDecrypt(to, m), e);
		}
	}
	// the responder wrongly given no one-time secret for an OPK message, or one it was not sent
	assert.throws(() => P.x3dhRespond({ ...x.init, hasOpk: true, opkId: 1 }, B.sk, B.spk.sk, null), { code: 'usage' });
	assert.throws(() => P.x3dhRespond(x.init, B.sk, B.spk.sk, new Uint8Array(32)), { code: 'usage' });
	// the wrong spk pair for the responder
	assert.throws(() => P.ratchetInitResponder(P.ratchetNew(), y.sk, y.ad, x.init, B.spk.pk, P.x3dhKeypair().sk), { code: 'crypto' });
});

test('skip limits: 1001 in one chain, 2000 in all; the state stays', () => {
	let { a, b } = pair();
	for (let i = 0; i < P.RATCHET_MAX_SKIP + 1; i++) enc(a, 'x');
	const far = enc(a, 'far');
	let st = P.ratchetStateSave(b);
	assert.throws(() => P.ratchetDecrypt(b, far), { code: 'limit' });
	assert.deepEqual(P.ratchetStateSave(b), st);
	({ a, b } = pair());
	for (let round = 0; round < 3; round++) {
		for (let i = 0; i < P.RATCHET_MAX_SKIP - 1; i++) enc(a, 'x');
		const last = enc(a, 'last');
		if (round < 2) {
			assert.equal(dec(b, last), 'last');
		} else {
			st = P.ratchetStateSave(b);
			assert.throws(() => P.ratchetDecrypt(b, last), { code: 'limit' });
			assert.deepEqual(P.ratchetStateSave(b), st);
		}
		assert.equal(dec(a, enc(b, 'turn')), 'turn');
	}
	assert.equal(P.ratchetSkippedCount(b), 2 * (P.RATCHET_MAX_SKIP - 1));
});

test('saved states: bad ones are refused', () => {
	const { a, b } = pair();
	enc(a, 'zero');
	enc(a, 'one');
	assert.equal(dec(b, enc(a, 'two')), 'two');
	const st = P.ratchetStateSave(b);
	assert.equal(st.length, P.RATCHET_STATE_FIXED_BYTES + 2 * P.RATCHET_SKIPPED_ENTRY_BYTES);
	const bad = (f) => {
		const s = st.slice();
		const t = f(s) || s;
		assert.throws(() => P.ratchetStateLoad(t), { code: 'bad_field' });
	};
	bad((s) => s.subarray(0, s.length - 1));
	bad((s) => { const t = new Uint8Array(s.length + 1); t.set(s); return t; });
	bad((s) => s.subarray(0, 10));
	bad((s) => { s[0] = 3; });
	bad((s) => { s[0] = 1; });	// a version 1 state is shorter
	bad((s) => { s[1] |= 0x80; });
	bad((s) => { s[100] ^= 0x40; });	// DHs secret no longer its public's
	bad((s) => { s[349] = 1; });	// a skipped count the length does not carry
	bad((s) => { s[346] = 0xff; });
	bad((s) => { s[1] = (s[1] & ~0x10) | 0x08; });	// sends init without being the initiator
	bad((s) => { s[1] &= ~0x20; s[333] = 7; });	// opk id without the opk flag
	assert.deepEqual(P.ratchetStateSave(P.ratchetStateLoad(st)), st);
});

test('parse: sizes, flags, versions', () => {
	const msg = new Uint8Array(16283);
	msg[0] = 2;
	const ok = (n) => P.ratchetMsgParse(msg.subarray(0, n));
	const no = (n) => assert.throws(() => ok(n), { code: 'bad_field' });
	const m = ok(42 + 24 + 80);
	assert.equal(m.hdrLen, 42);
	assert.equal(m.ct.length, 80);
	no(42 + 24 + 79); no(42 + 80); no(42 + 23); no(41);
	ok(42 + 24 + 16200 + 16);	// a long later message
	no(42 + 24 + 16200 + 17);
	msg[1] = P.RATCHET_FLAG_OPK; no(42 + 24 + 80);
	msg[1] = 0x04; no(42 + 24 + 80);
	msg[1] = P.RATCHET_FLAG_INIT;
	const mi = ok(42 + 72 + 24 + 80);
	assert.equal(mi.hasInit, true);
	assert.equal(mi.init.hasOpk, false);
	assert.equal(mi.hdrLen, 114);
	no(42 + 72 + 80); no(42 + 72 + 24); no(42 + 72);
	assert.equal(ok(16282).ct.length, 16128 + 16);	// a long first message
	no(16283);
	msg[113] = 1; no(42 + 72 + 24 + 80);
	msg[1] |= P.RATCHET_FLAG_OPK;
	assert.equal(ok(42 + 72 + 24 + 80).init.opkId, 1);
	msg[0] = 1; no(42 + 72 + 24 + 80);	// version 1 is retired
	msg[0] = 3; no(42 + 72 + 24 + 80);
});

test('a forged message before the first reply is refused (no receiving chain)', () => {
	const A = party(), B = party();
	const bu = bundleOf(B, 0);
	const x = P.x3dhInitiate(A.sk, bu);
	const a = P.ratchetNew();
	P.ratchetInitInitiator(a, x.sk, x.ad, bu.spk, x.init);
	enc(a, 'hi');
	// keyed as the library would key an all-zero chain
	let ck = new Uint8Array(32);
	const mk = sodium.crypto_auth_hmacsha256(Uint8Array.of(1), ck);
	const key = P.hkdf(32, null, mk, P.ascii(P.RATCHET_MSG_INFO));
	const hdr = new Uint8Array(42);
	hdr[0] = 2;
	hdr.set(bu.spk, 2);
	const nonce = sodium.randombytes_buf(24);
	const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(P.pad(te.encode('forged'), 42 + 24 + 16),
		P.concat(x.ad, hdr), null, nonce, key);
	assert.throws(() => P.ratchetDecrypt(a, P.concat(hdr, nonce, ct)), { code: 'crypto' });
	assert.equal(P.ratchetSendsInit(a), true);
});

test('bundles: forged, foreign, malformed', () => {
	const B = party(), other = party();
	const bu = bundleOf(B, 3);
	const buf = P.x3dhBundleEncode(bu);
	assert.equal(buf.length, 135 + 3 * 36);
	const got = P.x3dhBundleVerify(buf, B.pk);
	assert.equal(got.opk.length, 3);
	assert.equal(got.spkId, 9);
	P.x3dhBundleVerify(buf, null);
	assert.throws(() => P.x3dhBundleVerify(buf, other.pk), { code: 'bad_signature' });
	for (let off = 1; off < 133; off += 7) {
		buf[off] ^= 0x40;
		assert.throws(() => P.x3dhBundleVerify(buf, null));
		buf[off] ^= 0x40;
	}
	buf[80] ^= 1;
	assert.throws(() => P.x3dhBundleVerify(buf, B.pk), { code: 'bad_signature' });
	assert.throws(() => P.x3dhInitiate(other.sk, P.x3dhBundleDecode(buf)), { code: 'bad_signature' });
	buf[80] ^= 1;
	assert.throws(() => P.x3dhBundleVerify(buf.subarray(0, buf.length - 1), null), { code: 'bad_field' });
	assert.throws(() => P.x3dhBundleVerify(P.concat(buf, Uint8Array.of(0)), null), { code: 'bad_field' });
	assert.throws(() => P.x3dhBundleVerify(buf.subarray(0, 100), null), { code: 'bad_field' });
	buf[134] = 2;
	assert.throws(() => P.x3dhBundleVerify(buf, null), { code: 'bad_field' });
	P.x3dhBundleVerify(buf.subarray(0, 135 + 2 * 36), null);
	buf[134] = 3;
	buf[0] = 2;
	assert.throws(() => P.x3dhBundleVerify(buf, null), { code: 'bad_field' });
	bu.opk[1].id = bu.opk[0].id;
	assert.throws(() => P.x3dhBundleDecode(P.x3dhBundleEncode(bu)), { code: 'bad_field' });
	bu.opk = Array.from({ length: 101 }, (_, i) => ({ id: i, pk: new Uint8Array(32) }));
	assert.throws(() => P.x3dhBundleEncode(bu), { code: 'usage' });
	bu.opk.pop();
	assert.equal(P.x3dhBundleEncode(bu).length, P.X3DH_BUNDLE_MAX_BYTES);
	bu.opk = [];
	assert.equal(P.x3dhBundleVerify(P.x3dhBundleEncode(bu), B.pk).opk.length, 0);
});

test('certificates: forged, foreign, expired, self-made', () => {
	const p = sodium.crypto_sign_keypair(), o = sodium.crypto_sign_keypair(), c = sodium.crypto_sign_keypair();
	const info = { counsellorPk: c.publicKey, programmeId: 7, notBefore: 1000, notAfter: 2000 };
	const cert = P.certSign(p.privateKey, info);
	assert.equal(cert[0], P.CERT_VERSION);
	assert.deepEqual(P.certVerify(cert, p.publicKey, c.publicKey, 1500),
		{ counsellorPk: c.publicKey, programmeId: 7, notBefore: 1000, notAfter: 2000 });
	P.certVerify(cert, p.publicKey, null, 1000);
	P.certVerify(cert, p.publicKey, c.publicKey, 1999);
	assert.throws(() => P.certVerify(cert, p.publicKey, c.publicKey, 2000), { code: 'crypto' });
	assert.throws(() => P.certVerify(cert, p.publicKey, c.publicKey, 999), { code: 'crypto' });
	assert.throws(() => P.certVerify(cert, o.publicKey, c.publicKey, 1500), { code: 'bad_signature' });
	assert.throws(() => P.certVerify(cert, p.publicKey, o.publicKey, 1500), { code: 'bad_signature' });
	for (let i = 0; i < P.CERT_BYTES; i += 5) {
		cert[i] ^= 0x10;
		assert.throws(() => P.certVerify(cert, p.publicKey, c.publicKey, 1500), { code: 'bad_signature' });
		cert[i] ^= 0x10;
	}
	assert.throws(() => P.certVerify(cert.subarray(0, 120), p.publicKey, c.publicKey, 1500), { code: 'bad_field' });
	const self = P.certSign(c.privateKey, info);
	assert.throws(() => P.certVerify(self, p.publicKey, c.publicKey, 1500), { code: 'bad_signature' });
	assert.throws(() => P.certSign(p.privateKey, { ...info, notAfter: 1000 }), { code: 'usage' });
});

test('rotations: flipped byte, wrong key, bad length, old = new', () => {
	const a = sodium.crypto_sign_keypair(), b = sodium.crypto_sign_keypair();
	const r = { programmeId: 3, oldPk: a.publicKey, newPk: b.publicKey, issued: 5000 };
	const st = P.rotationSign(a.privateKey, r);
	assert.equal(st.length, P.ROTATION_BYTES);
	assert.equal(P.rotationVerify(st, a.publicKey).programmeId, 3);
	for (let i = 0; i < P.ROTATION_BYTES; i += 3) {
		st[i] ^= 0x04;
		assert.throws(() => P.rotationVerify(st, a.publicKey), { code: 'bad_signature' }, `byte ${i}`);
		st[i] ^= 0x04;
	}
	assert.throws(() => P.rotationVerify(st, b.publicKey), { code: 'bad_signature' });
	// signed by the old key's secret, but naming another old key
	const other = P.rotationSign(a.privateKey, { ...r, oldPk: b.publicKey, newPk: a.publicKey });
	assert.throws(() => P.rotationVerify(other, a.publicKey), { code: 'bad_signature' });
	assert.throws(() => P.rotationVerify(st.subarray(0, 144), a.publicKey), { code: 'bad_field' });
	assert.throws(() => P.rotationVerify(P.concat(st, Uint8Array.of(0)), a.publicKey), { code: 'bad_field' });
	assert.throws(() => P.rotationSign(a.privateKey, { ...r, newPk: a.publicKey }), { code: 'usage' });
});

test('revocation lists: flipped byte, wrong key, bad length, unsorted or repeated keys, too many', () => {
	const p = sodium.crypto_sign_keypair(), o = sodium.crypto_sign_keypair();
	const keys = [1, 2, 3].map(() => sodium.randombytes_buf(32)).sort(P.bytesCompare);
	const list = P.revocationSign(p.privateKey, 9, 100, keys);
	assert.equal(list.length, P.revocationBytes(3));
	assert.equal(P.revocationVerify(list, p.publicKey).keys.length, 3);
	for (let i = 0; i < list.length; i += 7) {
		if (i === 17 || i === 18) continue;	// the count: a length error, below
		list[i] ^= 0x01;
		assert.throws(() => P.revocationVerify(list, p.publicKey), { code: 'bad_signature' }, `byte ${i}`);
		list[i] ^= 0x01;
	}
	list[18] ^= 0x01;
	assert.throws(() => P.revocationVerify(list, p.publicKey), { code: 'bad_field' });
	list[18] ^= 0x01;
	assert.throws(() => P.revocationVerify(list, o.publicKey), { code: 'bad_signature' });
	assert.throws(() => P.revocationVerify(list.subarray(0, list.length - 1), p.publicKey), { code: 'bad_field' });
	assert.throws(() => P.revocationVerify(new Uint8Array(P.REVOCATION_BYTES_MAX + 32), p.publicKey), { code: 'bad_field' });
	assert.throws(() => P.revocationVerify(new Uint8Array(82), p.publicKey), { code: 'bad_field' });
	// unsorted and repeated keys: refused by sign, and by verify though the signature holds
	const unsorted = [keys[1], keys[0], keys[2]];
	assert.throws(() => P.revocationSign(p.privateKey, 9, 100, unsorted), { code: 'usage' });
	assert.throws(() => P.revocationSign(p.privateKey, 9, 100, [keys[0], keys[0]]), { code: 'usage' });
	const body = P.concat(Uint8Array.of(1), new Uint8Array(8), new Uint8Array(8), Uint8Array.of(0, 3), ...unsorted);
	body[8] = 9;
	body[16] = 100;
	const forged = P.concat(body, sodium.crypto_sign_detached(P.concat(P.ascii(P.REVOCATION_CONTEXT), body), p.privateKey));
	assert.throws(() => P.revocationVerify(forged, p.publicKey), { code: 'bad_field' });
	const many = Array.from({ length: P.REVOCATION_MAX + 1 }, () => sodium.randombytes_buf(32)).sort(P.bytesCompare);
	assert.throws(() => P.revocationSign(p.privateKey, 9, 100, many), { code: 'usage' });
	assert.equal(P.revocationSign(p.privateKey, 9, 100, many.slice(1)).length, P.REVOCATION_BYTES_MAX);
});

test('partner statements: flipped byte, wrong key, bad length, itself, expired', () => {
	const p = sodium.crypto_sign_keypair(), o = sodium.crypto_sign_keypair();
	const info = { programmeId: 1, partnerId: 2, partnerPk: o.publicKey, notBefore: 1000, notAfter: 2000 };
	const st = P.partnerSign(p.privateKey, info);
	assert.deepEqual(P.partnerVerify(st, p.publicKey, 1000), info);
	for (let i = 0; i < P.PARTNER_BYTES; i += 4) {
		st[i] ^= 0x40;
		assert.throws(() => P.partnerVerify(st, p.publicKey, 1500), { code: 'bad_signature' }, `byte ${i}`);
		st[i] ^= 0x40;
	}
	assert.throws(() => P.partnerVerify(st, o.publicKey, 1500), { code: 'bad_signature' });
	assert.throws(() => P.partnerVerify(st.subarray(1), p.publicKey, 1500), { code: 'bad_field' });
	assert.throws(() => P.partnerVerify(st, p.publicKey, 2000), { code: 'crypto' });
	assert.throws(() => P.partnerSign(p.privateKey, { ...info, partnerId: 1 }), { code: 'usage' });
	assert.throws(() => P.partnerSign(p.privateKey, { ...info, notAfter: 999 }), { code: 'usage' });
	assert.throws(() => P.keyFingerprint(new Uint8Array(31)), { code: 'usage' });
	assert.match(P.keyFingerprint(p.publicKey), /^[0-9a-f]{4}( [0-9a-f]{4}){4}$/);
});

test('login signature and invites, base64 and frames', () => {
	const u = sodium.crypto_sign_keypair(), s = sodium.crypto_sign_keypair();
	const ch = sodium.randombytes_buf(32);
	const sig = P.ocryptoLoginSign(u.privateKey, s.publicKey, ch);
	const msg = P.ocryptoLoginMessage(s.publicKey, ch, u.publicKey);
	assert.equal(msg.length, 112);
	assert.equal(td.decode(msg.subarray(0, 16)), 'offramp-login-v1');
	P.ocryptoLoginVerify(sig, s.publicKey, ch, u.publicKey);
	// bound to the server key and the challenge
	assert.throws(() => P.ocryptoLoginVerify(sig, u.publicKey, ch, u.publicKey), { code: 'bad_signature' });
	ch[0] ^= 1;
	assert.throws(() => P.ocryptoLoginVerify(sig, s.publicKey, ch, u.publicKey), { code: 'bad_signature' });
	assert.throws(() => P.ocryptoLoginSign(u.privateKey, s.publicKey, new Uint8Array(31)), { code: 'usage' });
	const tok = sodium.randombytes_buf(32);
	const t = P.ocryptoInviteEncode(tok);
	assert.deepEqual(P.ocryptoInviteDecode(t), tok);
	for (const badTok of ['', 'abc', t + 'A', t.slice(1), t.replace(/.$/, '='), 'x'.repeat(64)])
		assert.throws(() => P.ocryptoInviteDecode(badTok), { code: 'bad_invite' });
	assert.deepEqual(P.b64Decode('AAEC', 3, 3), Uint8Array.of(0, 1, 2));
	for (const b of ['AAE', 'AAE=x', 'AA==AA==', 'AAF=', ' AAEC', 'AA\nEC'])
		assert.throws(() => P.b64Decode(b, 0, 16, 'ct'), { code: 'bad_field', field: 'ct' });
	assert.throws(() => P.b64Decode('AAECAw==', 0, 3, 'key'), { code: 'bad_field' });
	assert.throws(() => P.b64Decode('A'.repeat(1 << 20), 0, 16), { code: 'bad_field' });
	assert.equal(P.frameIsToken('en'), true);
	for (const t2 of ['', '-en', 'EN', 'a b', 'x'.repeat(33)]) assert.equal(P.frameIsToken(t2), false);
	assert.equal(P.frameIsName('Sam'), true);
	for (const n of ['', 'a\nb', 'x'.repeat(65), '\ud800']) assert.equal(P.frameIsName(n), false);
	assert.equal(P.frameParse('{"v":1,"type":"ping.ok","re":3}').re, 3);
	assert.throws(() => P.frameParse('[1]'), { code: 'bad_json' });
	assert.throws(() => P.frameParse('{"v":2,"type":"x"}'), { code: 'bad_version' });
	assert.throws(() => P.frameParse('{"v":1}'), { code: 'bad_field', field: 'type' });
	assert.throws(() => P.frameParse('{"v":1,"type":"x","re":-1}'), { code: 'bad_field', field: 're' });
	assert.throws(() => P.frameParse('"' + 'x'.repeat(P.OFR_FRAME_MAX) + '"'), { code: 'too_big' });
	// what the server refuses in a string (frame_str) is shown as U+FFFD,
	// at any depth: a name from a server that lies cannot turn text around
	const bent = P.frameParse(JSON.stringify({ v: 1, type: 'case.list', cases: [{ participants: [
		{ name: 'Sam\u202e\u2066x\u2028\u0007\u0085\ufeff', key: 'AAEC' }] }], note: 'ok \u00e9 \u0645' }));
	assert.equal(bent.cases[0].participants[0].name, 'Sam\ufffd\ufffdx\ufffd\ufffd\ufffd\ufffd');
	assert.equal(bent.cases[0].participants[0].key, 'AAEC');
	assert.equal(bent.note, 'ok \u00e9 \u0645', 'letters of any script are kept');
});

const T0 = 1700000000;

/* One DH ratchet step each way; b's receiving step count goes up by one. */
function roundTrip(a, b, now) {
	assert.equal(td.decode(P.ratchetDecrypt(a, enc(b, 'ping'), now)), 'ping');
	assert.equal(td.decode(P.ratchetDecrypt(b, enc(a, 'pong'), now)), 'pong');
}

test('skipped keys outlive 5 DH ratchet steps, not 6', () => {
	const { a, b } = pair();
	roundTrip(a, b, T0);
	const late0 = enc(a, 'late zero'), late1 = enc(a, 'late one');
	assert.equal(td.decode(P.ratchetDecrypt(b, enc(a, 'now'), T0)), 'now');
	assert.equal(P.ratchetSkippedCount(b), 2);
	const s0 = P.ratchetSteps(b);
	for (let i = 0; i < P.RATCHET_SKIPPED_STEPS; i++) roundTrip(a, b, T0);
	assert.equal(P.ratchetSteps(b), s0 + P.RATCHET_SKIPPED_STEPS);
	assert.equal(P.ratchetSkippedCount(b), 2);
	assert.equal(td.decode(P.ratchetDecrypt(b, late1, T0)), 'late one');
	roundTrip(a, b, T0);
	assert.equal(P.ratchetSkippedCount(b), 0);
	assert.throws(() => P.ratchetDecrypt(b, late0, T0), { code: 'crypto' });
});

test('skipped keys live 7 days; a clock gone back ages them from then', () => {
	const { a, b } = pair();
	const m = [0, 1, 2, 3].map((i) => enc(a, `m${i}`));
	assert.equal(td.decode(P.ratchetDecrypt(b, m[1], T0)), 'm1');
	assert.equal(td.decode(P.ratchetDecrypt(b, m[3], T0 + 100)), 'm3');
	assert.equal(P.ratchetExpire(b, T0 + P.RATCHET_SKIPPED_TTL - 1), 0);
	assert.equal(P.ratchetExpire(b, T0 + P.RATCHET_SKIPPED_TTL), 1);
	assert.throws(() => P.ratchetDecrypt(b, m[0], T0), { code: 'crypto' });
	assert.equal(P.ratchetExpire(b, T0 - 50), 0);
	assert.equal(P.ratchetExpire(b, T0 - 51 + P.RATCHET_SKIPPED_TTL), 0);
	assert.equal(P.ratchetExpire(b, T0 - 50 + P.RATCHET_SKIPPED_TTL), 1);
	assert.equal(P.ratchetSkippedCount(b), 0);
});

test('a version 1 state loads; its skipped keys count as stored at the load', () => {
	const { a, b } = pair();
	roundTrip(a, b, T0);
	const m0 = enc(a, 'zero'), m1 = enc(a, 'one');
	assert.equal(dec(b, enc(a, 'two')), 'two');
	const v2 = P.ratchetStateSave(b);
	assert.equal(v2[0], 2);
	// the same state in version 1: no step count, 68-byte entries
	const k = (v2.length - P.RATCHET_STATE_FIXED_BYTES) / P.RATCHET_SKIPPED_ENTRY_BYTES;
	const v1 = new Uint8Array(P.RATCHET_STATE_V1_FIXED_BYTES + k * P.RATCHET_SKIPPED_V1_ENTRY_BYTES);
	v1.set(v2.subarray(0, 342));
	v1[0] = 1;
	v1.set(v2.subarray(346, 350), 342);
	for (let i = 0; i < k; i++) {
		const e = P.RATCHET_STATE_FIXED_BYTES + i * P.RATCHET_SKIPPED_ENTRY_BYTES;
		const o = P.RATCHET_STATE_V1_FIXED_BYTES + i * P.RATCHET_SKIPPED_V1_ENTRY_BYTES;
		v1.set(v2.subarray(e, e + 36), o);
		v1.set(v2.subarray(e + 48, e + 80), o + 36);
	}
	assert.throws(() => P.ratchetStateLoad(v1.subarray(0, v1.length - 1), T0), { code: 'bad_field' });
	const r = P.ratchetStateLoad(v1, T0 + 1000);
	assert.equal(P.ratchetSkippedCount(r), 2);
	assert.equal(P.ratchetSteps(r), 0);
	const again = P.ratchetStateSave(r);
	assert.equal(again[0], P.RATCHET_STATE_VERSION);
	assert.equal(Number(P.be64Get(again, P.RATCHET_STATE_FIXED_BYTES + 40)), T0 + 1000);
	assert.equal(td.decode(P.ratchetDecrypt(r, m1, T0 + 2000)), 'one');
	assert.equal(P.ratchetExpire(r, T0 + 999 + P.RATCHET_SKIPPED_TTL), 0);
	assert.equal(P.ratchetExpire(r, T0 + 1000 + P.RATCHET_SKIPPED_TTL), 1);
	assert.throws(() => P.ratchetDecrypt(r, m0, T0), { code: 'crypto' });
});

test('ratchetMsgUsed tells a used key from one that may open', () => {
	const { a, b } = pair();
	const m = [0, 1, 2].map(() => enc(a, 'm'));
	assert.equal(P.ratchetMsgUsed(b, m[1]), false);
	assert.equal(dec(b, m[1]), 'm');
	assert.equal(P.ratchetMsgUsed(b, m[1]), true);
	assert.equal(P.ratchetMsgUsed(b, m[0]), false);
	assert.equal(P.ratchetMsgUsed(b, m[2]), false);
	roundTrip(a, b, T0);
	assert.equal(P.ratchetMsgUsed(b, m[1]), true);
	assert.equal(P.ratchetMsgUsed(b, m[0]), false);
	assert.equal(P.ratchetMsgUsed(b, enc(b, 'o')), false);
});
