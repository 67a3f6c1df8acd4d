// proto_vectors.test.js: the web client's proto/ mirror against every
// vector of proto/vectors/*.json, read at test time, so that those files
// stay the one conformance suite of the C and the JavaScript sides (as
// tests/unit/test_ratchet_vectors.c does for C).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sodium from 'libsodium-wrappers-sumo';
import * as P from '../src/proto/index.js';

const VEC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto', 'vectors');
const load = (name) => JSON.parse(fs.readFileSync(path.join(VEC, name), 'utf8'));
const hex = P.fromHex, toHex = P.toHex;

before(async () => {
	await P.ocryptoInit();
});

test('every vector file is covered by this test', () => {
	const files = fs.readdirSync(VEC).filter((f) => f.endsWith('.json')).sort();
	assert.deepEqual(files, ['cert.json', 'envelope.json', 'hkdf.json', 'pad.json', 'ratchet.json', 'safety.json', 'statements.json', 'x3dh.json']);
});

test('hkdf.json: RFC 5869 cases', () => {
	const j = load('hkdf.json');
	assert.ok(j.cases.length >= 3);
	for (const c of j.cases) {
		const prk = P.hkdfExtract(hex(c.salt), hex(c.ikm));
		assert.equal(toHex(prk), c.prk);
		assert.equal(toHex(P.hkdfExpand(c.length, prk, hex(c.info))), c.okm);
		assert.equal(toHex(P.hkdf(c.length, hex(c.salt), hex(c.ikm), hex(c.info))), c.okm);
	}
	assert.throws(() => P.hkdf(0, null, new Uint8Array(1), null), { code: 'usage' });
	assert.throws(() => P.hkdf(P.HKDF_OUT_MAX + 1, null, new Uint8Array(1), null), { code: 'usage' });
	assert.equal(P.hkdf(P.HKDF_OUT_MAX, null, new Uint8Array(1), null).length, P.HKDF_OUT_MAX);
});

test('pad.json: two wire sizes by overhead, old buckets read, too long, bad padding', () => {
	const j = load('pad.json');
	assert.equal(j.wire_short, P.PAD_WIRE_SHORT);
	assert.equal(j.wire_long, P.PAD_WIRE_LONG);
	assert.equal(j.overhead_max, P.PAD_OVERHEAD_MAX);
	assert.equal(j.short_plaintext_max, P.PAD_SHORT_PLAINTEXT_MAX);
	assert.equal(j.plaintext_max, P.PAD_PLAINTEXT_MAX);
	assert.deepEqual([...P.PAD_OLD_BUCKETS], j.old_buckets);
	const plain = (c) => c.plaintext !== undefined ? hex(c.plaintext)
		: Uint8Array.from({ length: c.length }, (_, i) => (7 * i + 3) % 256);
	assert.ok(j.cases.length >= 30);
	for (const c of j.cases) {
		assert.equal(P.padSize(c.length, c.overhead), c.padded_length, `length ${c.length}`);
		const padded = P.pad(plain(c), c.overhead);
		assert.equal(padded.length, c.padded_length);
		if (c.padded !== undefined) assert.equal(toHex(padded), c.padded);
		assert.equal(P.unpad(padded, c.overhead), c.length);
	}
	assert.ok(j.old_cases.length >= 10);
	for (const c of j.old_cases) {
		const padded = new Uint8Array(c.padded_length);
		padded.set(plain(c));
		padded[c.length] = 0x80;
		if (c.padded !== undefined) assert.equal(toHex(padded), c.padded);
		for (const o of [P.RATCHET_OVERHEAD_MAX, P.RATCHET_OVERHEAD_MIN, 40])
			assert.equal(P.unpad(padded, o), c.length, `old ${c.length} at ${o}`);
	}
	for (const n of j.too_long) {
		assert.equal(P.padSize(n, P.RATCHET_OVERHEAD_MIN), 0);
		assert.throws(() => P.pad(new Uint8Array(n), P.RATCHET_OVERHEAD_MIN), { code: 'too_big' });
	}
	assert.ok(j.bad_padded.length >= 8);
	for (const b of j.bad_padded) assert.throws(() => P.unpad(hex(b.padded), b.overhead), { code: 'crypto' });
});

test('envelope.json: text, report, nothing; bad ones refused', () => {
	const j = load('envelope.json');
	assert.equal(j.version, P.ENVELOPE_VERSION);
	assert.equal(j.text_max, P.ENVELOPE_TEXT_MAX);
	assert.equal(j.padded_overhead, P.RATCHET_OVERHEAD_MIN);	// "padded": as in a later message
	const o = j.padded_overhead;
	assert.deepEqual(j.kinds, { text: P.ENVELOPE_TEXT, report: P.ENVELOPE_REPORT, nothing: P.ENVELOPE_NOTHING });
	assert.deepEqual(j.reasons, { limit: P.ENVELOPE_R_LIMIT, no_session: P.ENVELOPE_R_NO_SESSION, crypto: P.ENVELOPE_R_CRYPTO });
	assert.ok(j.text.length >= 3);
	for (const c of j.text) {
		const e = P.envelopeText(hex(c.text));
		assert.equal(toHex(e), c.envelope);
		assert.equal(toHex(P.pad(e, o)), c.padded);
		const got = P.envelopeParse(hex(c.envelope));
		assert.equal(got.kind, P.ENVELOPE_TEXT);
		assert.equal(toHex(got.text), c.text);
	}
	assert.ok(j.report.length >= 3);
	for (const c of j.report) {
		const e = P.envelopeReport(c.count, c.reason);
		assert.equal(toHex(e), c.envelope);
		assert.equal(toHex(P.pad(e, o)), c.padded);
		assert.deepEqual(P.envelopeParse(hex(c.envelope)), { version: 1, kind: P.ENVELOPE_REPORT, count: c.count, reason: c.reason });
	}
	assert.equal(toHex(P.envelopeNothing()), j.nothing.envelope);
	assert.equal(toHex(P.pad(P.envelopeNothing(), o)), j.nothing.padded);
	assert.deepEqual(P.envelopeParse(hex(j.nothing.envelope)), { version: 1, kind: P.ENVELOPE_NOTHING });
	assert.ok(j.bad.length >= 10);
	for (const b of j.bad) assert.throws(() => P.envelopeParse(hex(b)), { code: 'bad_field' }, b);
	const long = new Uint8Array(P.ENVELOPE_TEXT_MAX + 1).fill(0x61);
	const n = P.envelopeText(long.subarray(1)).length;
	assert.equal(P.padSize(n, P.RATCHET_OVERHEAD_MAX) + P.RATCHET_OVERHEAD_MAX, P.RATCHET_MSG_MAX);
	assert.equal(P.padSize(n, P.RATCHET_OVERHEAD_MIN) + P.RATCHET_OVERHEAD_MIN, P.RATCHET_MSG_MAX);
	assert.throws(() => P.envelopeText(long), { code: 'too_big' });
	assert.throws(() => P.envelopeReport(0, 1), { code: 'usage' });
});

test('envelope.json v2: every kind written and parsed, bad ones refused, the binding checked', () => {
	const v = load('envelope.json').v2;
	assert.equal(v.version, P.ENVELOPE_VERSION_2);
	assert.equal(v.header_bytes, P.ENVELOPE_V2_HDR_BYTES);
	assert.equal(v.text_max, P.ENVELOPE_V2_TEXT_MAX);
	assert.equal(v.future_max, P.ENVELOPE_FUTURE_MAX);
	assert.equal(v.place_max, P.ENVELOPE_PLACE_MAX);
	assert.equal(v.agreement_field_max, P.ENVELOPE_AGREEMENT_FIELD_MAX);
	assert.equal(v.referral_name_max, P.ENVELOPE_REFERRAL_NAME_MAX);
	assert.equal(v.referral_contact_max, P.ENVELOPE_REFERRAL_CONTACT_MAX);
	assert.equal(v.referral_note_max, P.ENVELOPE_REFERRAL_NOTE_MAX);
	assert.equal(v.kinds.referral, P.ENVELOPE_REFERRAL);
	assert.deepEqual(v.findings, { moved: P.ENVELOPE_MOVED, replayed: P.ENVELOPE_REPLAYED,
		held_back: P.ENVELOPE_HELD_BACK, future: P.ENVELOPE_FUTURE, earlier: P.ENVELOPE_EARLIER });
	// this client deals in ids and times below 2^53: the vector at 2^63 - 1 is left out
	const safe = (c) => Number.isSafeInteger(c.case_id) && Number.isSafeInteger(c.time);
	const kinds = new Set();
	for (const c of v.cases.filter(safe)) {
		const e = { caseId: c.case_id, seq: c.seq, time: c.time, kind: c.kind };
		if (c.kind === P.ENVELOPE_TEXT) e.text = hex(c.text);
		if (c.kind === P.ENVELOPE_REPORT) Object.assign(e, { count: c.count, reason: c.reason });
		if (c.kind === P.ENVELOPE_MEETING) e.meeting = { action: c.action, id: c.id, time: c.meeting_time, place: hex(c.place), recognise: hex(c.recognise) };
		if (c.kind === P.ENVELOPE_AGREEMENT) e.agreement = { action: c.action, version: c.version, fields: P.AGREEMENT_FIELDS.map((f) => hex(c[f === 'frequency' ? 'frequency' : f])) };
		if (c.kind === P.ENVELOPE_REFERRAL) e.referral = { fields: P.REFERRAL_FIELDS.map((f) => hex(c[f])) };
		kinds.add(c.kind);
		const w = P.envelopeWrite(e);
		assert.equal(toHex(w), c.envelope);
		assert.equal(toHex(P.pad(w, P.RATCHET_OVERHEAD_MIN)), c.padded);
		const got = P.envelopeParse(hex(c.envelope));
		assert.equal(got.version, 2);
		assert.equal(toHex(P.envelopeWrite(got)), c.envelope);
		assert.deepEqual([got.caseId, got.seq, got.time, got.kind], [c.case_id, c.seq, c.time, c.kind]);
	}
	assert.deepEqual([...kinds].sort(), [1, 2, 3, 4, 5, 9]);
	assert.ok(v.bad.length >= 30);
	for (const b of v.bad) assert.throws(() => P.envelopeParse(hex(b)), { code: 'bad_field' }, b);
	let n = 0;
	for (const c of v.checks) {
		const e = P.envelopeParse(hex(c.envelope));
		if (!Number.isSafeInteger(c.case_id) || !Number.isSafeInteger(e.caseId ?? 0) || !Number.isSafeInteger(e.time ?? 0)) continue;
		const want = c.found.reduce((f, name) => f | v.findings[name], 0);
		assert.equal(P.envelopeCheck(e, c.case_id, c.last_seq, c.last_time, c.now), want, JSON.stringify(c));
		n++;
	}
	assert.ok(n >= 10);
	const long = new Uint8Array(P.ENVELOPE_V2_TEXT_MAX + 1).fill(0x61);
	assert.equal(P.envelopeWrite({ caseId: 1, seq: 1, time: 0, kind: 1, text: long.subarray(1) }).length, P.PAD_PLAINTEXT_MAX);
	assert.throws(() => P.envelopeWrite({ caseId: 1, seq: 1, time: 0, kind: 1, text: long }), { code: 'too_big' });
	assert.throws(() => P.envelopeWrite({ caseId: 1, seq: 0, time: 0, kind: 3 }), { code: 'bad_field' });
	const card = (name, contact) => ({ caseId: 1, seq: 1, time: 0, kind: P.ENVELOPE_REFERRAL,
		referral: { fields: [name, contact, new Uint8Array(0), new Uint8Array(0)] } });
	assert.throws(() => P.envelopeWrite(card(long.subarray(0, 1), new Uint8Array(0))), { code: 'bad_field' });
	assert.throws(() => P.envelopeWrite(card(long.subarray(0, P.ENVELOPE_REFERRAL_NAME_MAX + 1), long.subarray(0, 1))), { code: 'too_big' });
});

test('safety.json: the same number both ways', () => {
	const j = load('safety.json');
	assert.equal(P.safetyNumber(hex(j.a), hex(j.b)), j.number);
	assert.equal(P.safetyNumber(hex(j.b), hex(j.a)), j.number);
	assert.throws(() => P.safetyNumber(hex(j.a), new Uint8Array(31)), { code: 'usage' });
});

test('cert.json: sign gives the certificate; valid and invalid times', () => {
	const j = load('cert.json');
	const kp = P.ocryptoSeedKeypair(hex(j.programme_seed));
	assert.equal(toHex(kp.publicKey), j.programme_pub);
	const info = { counsellorPk: hex(j.counsellor_pub), programmeId: j.programme_id,
		notBefore: j.not_before, notAfter: j.not_after };
	const cert = P.certSign(kp.privateKey, info);
	assert.equal(toHex(cert), j.cert);
	for (const t of j.valid_at) {
		const got = P.certVerify(hex(j.cert), kp.publicKey, hex(j.counsellor_pub), t);
		assert.equal(got.programmeId, j.programme_id);
		assert.equal(got.notBefore, j.not_before);
		assert.equal(got.notAfter, j.not_after);
		assert.equal(toHex(got.counsellorPk), j.counsellor_pub);
	}
	for (const t of j.invalid_at)
		assert.throws(() => P.certVerify(hex(j.cert), kp.publicKey, hex(j.counsellor_pub), t), { code: 'crypto' });
});

test('statements.json: rotation, revocation lists, partner statement, fingerprints', () => {
	const j = load('statements.json');
	const old = P.ocryptoSeedKeypair(hex(j.programme_seed)), neu = P.ocryptoSeedKeypair(hex(j.new_programme_seed));
	assert.equal(toHex(old.publicKey), j.programme_pub);
	assert.equal(toHex(neu.publicKey), j.new_programme_pub);
	const signer = { programme: old, new_programme: neu };

	const ro = j.rotation;
	const rot = P.rotationSign(old.privateKey, { programmeId: ro.programme_id, oldPk: old.publicKey, newPk: neu.publicKey, issued: ro.issued });
	assert.equal(toHex(rot), ro.statement);
	assert.deepEqual(P.rotationVerify(hex(ro.statement), old.publicKey),
		{ programmeId: ro.programme_id, oldPk: old.publicKey, newPk: neu.publicKey, issued: ro.issued });
	assert.throws(() => P.rotationVerify(hex(ro.statement), neu.publicKey), { code: 'bad_signature' });

	for (const name of ['revocation', 'revocation_empty']) {
		const rv = j[name], kp = signer[rv.signer], keys = (rv.keys || []).map(hex);
		assert.equal(toHex(P.revocationSign(kp.privateKey, rv.programme_id, rv.issued, keys)), rv.list, name);
		const got = P.revocationVerify(hex(rv.list), kp.publicKey);
		assert.equal(got.programmeId, rv.programme_id);
		assert.equal(got.issued, rv.issued);
		assert.deepEqual(got.keys.map(toHex), rv.keys || []);
		for (const k of keys) assert.equal(P.revocationHas(got, k), true);
		assert.equal(P.revocationHas(got, old.publicKey), false);
	}

	const pa = j.partner;
	const info = { programmeId: pa.programme_id, partnerId: pa.partner_id, partnerPk: hex(pa.partner_pub),
		notBefore: pa.not_before, notAfter: pa.not_after };
	assert.equal(toHex(P.partnerSign(old.privateKey, info)), pa.statement);
	for (const t of pa.valid_at) assert.deepEqual(P.partnerVerify(hex(pa.statement), old.publicKey, t), info);
	for (const t of pa.invalid_at)
		assert.throws(() => P.partnerVerify(hex(pa.statement), old.publicKey, t), { code: 'crypto' });

	assert.ok(j.fingerprints.length >= 3);
	for (const f of j.fingerprints) assert.equal(P.keyFingerprint(hex(f.key)), f.fingerprint);
});

function keyQueue(list) {
	const q = list.map(hex);
	let i = 0;
	const fn = (len) => {
		assert.ok(i < q.length, 'random source exhausted');
		assert.equal(q[i].length, len, `draw ${i} has the expected length`);
		return q[i++].slice();
	};
	fn.used = () => i;
	fn.total = q.length;
	return fn;
}

test('x3dh.json: identities, signed prekey, bundles, agreement with and without the one-time key', () => {
	const j = load('x3dh.json');
	const a = P.ocryptoSeedKeypair(hex(j.ika_seed));
	const b = P.ocryptoSeedKeypair(hex(j.ikb_seed));
	assert.equal(toHex(a.publicKey), j.ika_pub);
	assert.equal(toHex(b.publicKey), j.ikb_pub);
	assert.equal(toHex(P.x3dhIdentityX25519Pk(a.publicKey)), j.ika_x25519_pub);
	assert.equal(toHex(P.x3dhIdentityX25519Sk(b.privateKey)), j.ikb_x25519_sk);
	assert.equal(toHex(sodium.crypto_scalarmult_base(hex(j.spk_sk))), j.spk_pub);
	assert.equal(toHex(sodium.crypto_scalarmult_base(hex(j.opk_sk))), j.opk_pub);
	const sig = P.x3dhSpkSign(b.privateKey, j.spk_id, hex(j.spk_pub));
	assert.equal(toHex(sig), j.spk_sig);
	const bundle = {
		ik: b.publicKey, spkId: j.spk_id, spk: hex(j.spk_pub), spkSig: sig,
		opk: [{ id: j.opk_id, pk: hex(j.opk_pub) },
			{ id: 8, pk: sodium.crypto_scalarmult_base(hex(j.opk8_sk)) }],
	};
	assert.equal(toHex(P.x3dhBundleEncode(bundle)), j.bundle_upload);
	P.x3dhBundleVerify(hex(j.bundle_upload), b.publicKey);
	const fetched = P.x3dhBundleVerify(hex(j.bundle_fetched), b.publicKey);
	assert.equal(fetched.opk.length, 1);
	assert.equal(fetched.opk[0].id, j.opk_id);
	for (const [b2, want, opk] of [[fetched, j.with_opk, hex(j.opk_sk)],
		[{ ...fetched, opk: [] }, j.without_opk, null]]) {
		P.csprngSetTestHook(keyQueue([j.ek_sk]));
		let r;
		try {
			r = P.x3dhInitiate(a.privateKey, b2);
		} finally {
			P.csprngSetTestHook(null);
		}
		assert.equal(toHex(r.init.ek), j.ek_pub);
		assert.equal(toHex(r.sk), want.sk);
		assert.equal(toHex(r.ad), want.ad);
		assert.equal(r.init.hasOpk, opk !== null);
		const s = P.x3dhRespond(r.init, b.privateKey, hex(j.spk_sk), opk);
		assert.equal(toHex(s.sk), want.sk);
		assert.equal(toHex(s.ad), want.ad);
	}
});

test('ratchet.json: the whole conversation, byte for byte', () => {
	const j = load('ratchet.json');
	const x = load('x3dh.json');
	assert.equal(j.version, P.RATCHET_VERSION);
	const ikb = P.ocryptoSeedKeypair(hex(x.ikb_seed));
	const qa = keyQueue(j.alice_random), qb = keyQueue(j.bob_random);
	const init = { ik: hex(j.init.ik), ek: hex(j.init.ek), spkId: j.init.spk_id, hasOpk: true, opkId: j.init.opk_id };
	const a = P.ratchetNew(), b = P.ratchetNew();
	const msgs = [];
	let bReady = false, nsend = 0, nrecv = 0;
	try {
		P.csprngSetTestHook(qa);
		P.ratchetInitInitiator(a, hex(j.sk), hex(j.ad), hex(j.spk_pub), init);
		for (const e of j.events) {
			const pt = hex(e.plaintext);
			if (e.op === 'send') {
				const fromA = e.from === 'a';
				P.csprngSetTestHook(fromA ? qa : qb);
				let wire = P.ratchetEncrypt(fromA ? a : b, pt);
				assert.ok(wire.length === P.RATCHET_MSG_SHORT || wire.length === P.RATCHET_MSG_MAX);
				if (e.old_padding) {
					// sent by a client before fixed sizes: the same header
					// and nonce, an old bucket
					const old = hex(e.wire), m = P.ratchetMsgParse(old);
					assert.ok(old.length < wire.length);
					assert.equal(toHex(wire.subarray(0, m.hdrLen + 24)), toHex(old.subarray(0, m.hdrLen + 24)));
					wire = old;
				}
				assert.equal(toHex(wire), e.wire, `message ${e.msg}`);
				const m = P.ratchetMsgParse(wire);
				assert.equal(toHex(m.nonce), e.nonce);
				msgs[e.msg] = wire;
				nsend++;
				continue;
			}
			let got;
			if (e.to === 'b') {
				P.csprngSetTestHook(qb);
				if (!bReady) {
					const m = P.ratchetMsgParse(msgs[e.msg]);
					assert.ok(m.hasInit);
					const s = P.x3dhRespond(m.init, ikb.privateKey, hex(x.spk_sk), hex(x.opk_sk));
					assert.equal(toHex(s.sk), j.sk);
					assert.equal(toHex(s.ad), j.ad);
					P.ratchetInitResponder(b, s.sk, s.ad, m.init, hex(j.spk_pub), hex(j.spk_sk));
					bReady = true;
				}
				got = P.ratchetDecrypt(b, msgs[e.msg]);
				assert.equal(P.ratchetSkippedCount(b), e.skipped_after);
			} else {
				P.csprngSetTestHook(qa);
				got = P.ratchetDecrypt(a, msgs[e.msg]);
				assert.equal(P.ratchetSkippedCount(a), e.skipped_after);
			}
			assert.equal(toHex(got), e.plaintext, `message ${e.msg}`);
			nrecv++;
		}
	} finally {
		P.csprngSetTestHook(null);
	}
	assert.ok(nsend >= 12 && nrecv >= 11);
	// every key and nonce drawn, in order
	assert.equal(qa.used(), qa.total);
	assert.equal(qb.used(), qb.total);
	// the X3DH fields end after A's first reply
	assert.equal(P.ratchetSendsInit(a), false);
	// the saved states reload to the same bytes
	for (const r of [a, b]) {
		const st = P.ratchetStateSave(r);
		assert.deepEqual(P.ratchetStateSave(P.ratchetStateLoad(st)), st);
	}
});
