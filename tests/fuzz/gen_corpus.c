/*
 * gen_corpus.c: writes the seed corpus of every fuzz target, made with
 * the real encoders from fixed keys (fixture.h, and the programme key of
 * proto/vectors/statements.json), so that the same bytes come out each
 * time. The corpus is committed; run this only to renew it:
 *
 *   build/tests/fuzz/fuzz_gen_corpus tests/fuzz/corpus
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/bytes.h"
#include "proto/cert.h"
#include "proto/csprng.h"
#include "proto/envelope.h"
#include "proto/frame.h"
#include "proto/ratchet.h"
#include "proto/x3dh.h"
#include "keyfile_int.h"
#include "fixture.h"

static const char *root;

static void
die(const char *what)
{
	fprintf(stderr, "gen_corpus: %s\n", what);
	exit(1);
}

static void
put(const char *target, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		die(path);
}

/* Requests of each kind the server takes, as a client sends them. */
static const char *const frames[][2] = {
	{ "ping", "{\"v\":1,\"type\":\"ping\",\"id\":1}" },
	{ "redeem", "{\"v\":1,\"type\":\"redeem\",\"id\":3,\"invite\":"
	    "\"abcdefabcdef\",\"name\":\"Ada L\\u00f6we\"}" },
	{ "case-request", "{\"v\":1,\"type\":\"case.request\",\"id\":4,"
	    "\"languages\":[\"de\",\"en\"],\"topics\":[\"leaving\"],"
	    "\"programme\":42}" },
	{ "msg-send", "{\"v\":1,\"type\":\"msg.send\",\"id\":5,\"case\":"
	    "4503599627370,\"mid\":\"AAECAwQFBgcICQoLDA0ODw==\",\"copies\":"
	    "[{\"to\":\"Q2huNev3Sw+bkOsDXDzbXsyrbkRJFowGl3KIig4gEeQ=\","
	    "\"ct\":\"AgEAAAA=\"}]}" },
	{ "msg-ack", "{\"v\":1,\"type\":\"msg.ack\",\"id\":6,\"seqs\":"
	    "[1,2,3,9007199254740991]}" },
	{ "profile-set", "{\"v\":1,\"type\":\"profile.set\",\"id\":7,"
	    "\"available\":true,\"capacity\":5,\"languages\":[\"ar\"],"
	    "\"description\":\"\\u0645\\u0631\\u062d\\u0628\\u0627\"}" },
	{ "audit-list", "{\"v\":1,\"type\":\"audit.list\",\"id\":8,"
	    "\"before\":1000,\"limit\":50}" },
	{ "note-add", "{\"v\":1,\"type\":\"note.add\",\"id\":9,\"case\":1,"
	    "\"text\":\"line one\\nline two\",\"ttl\":null}" },
	{ "deep", "{\"v\":1,\"type\":\"x\",\"id\":10,\"a\":[{\"b\":[1]}]}" },
	{ "error", "{\"v\":1,\"type\":\"error\",\"re\":7,\"code\":"
	    "\"bad_field\",\"field\":\"language\"}" },
};

/* A login with a real key and signature (of a made-up challenge). */
static void
gen_login(const struct fixture *f)
{
	char key[OFR_B64_LEN(OFR_PK_BYTES)], sig[OFR_B64_LEN(OFR_SIG_BYTES)];
	char text[512];
	uint8_t s[OFR_SIG_BYTES];

	crypto_sign_detached(s, NULL, (const uint8_t *)"challenge", 9,
	    f->alice_sk);
	b64_encode(key, sizeof(key), f->alice_sk + 32, OFR_PK_BYTES);
	b64_encode(sig, sizeof(sig), s, sizeof(s));
	snprintf(text, sizeof(text), "{\"v\":1,\"type\":\"login\",\"id\":2,"
	    "\"key\":\"%s\",\"sig\":\"%s\",\"role\":\"client\"}", key, sig);
	put("frame", "login", text, strlen(text));
}

static void
gen_frames(const struct fixture *f)
{
	static uint8_t ws[OFR_FRAME_MAX];
	size_t n, k, cut;

	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		put("frame", frames[i][0], frames[i][1], strlen(frames[i][1]));
	gen_login(f);
	/* ws_rx: frames of flags (1: first, 2: binary, 4: final) || u16
	 * length || bytes; flags >> 3: 2^n pieces of those bytes (see
	 * fuzz_ws_rx.c). */
	for (size_t i = 0; i < 3; i++) {
		const char *f = frames[i][1];
		char name[64];

		n = strlen(f);
		k = 0;
		ws[k++] = 1 | 4;
		ws[k++] = (uint8_t)(n >> 8);
		ws[k++] = (uint8_t)n;
		memcpy(ws + k, f, n);
		k += n;
		snprintf(name, sizeof(name), "whole-%s", frames[i][0]);
		put("ws_rx", name, ws, k);
		/* the same in three fragments, then an empty message */
		k = 0;
		cut = n / 3;
		for (int part = 0; part < 3; part++) {
			size_t len = part < 2 ? cut : n - 2 * cut;

			ws[k++] = (uint8_t)((part == 0 ? 1 : 0) |
			    (part == 2 ? 4 : 0));
			ws[k++] = (uint8_t)(len >> 8);
			ws[k++] = (uint8_t)len;
			memcpy(ws + k, f + part * cut, len);
			k += len;
		}
		ws[k++] = 1 | 4;
		ws[k++] = 0;
		ws[k++] = 0;
		snprintf(name, sizeof(name), "fragments-%s", frames[i][0]);
		put("ws_rx", name, ws, k);
	}
	/* a binary message; one over the cap (a frame of 2^8 pieces of 1024
	 * bytes, announced at its first: read to its end, then refused). */
	k = 0;
	ws[k++] = 1 | 2 | 4;
	ws[k++] = 0;
	ws[k++] = 4;
	memcpy(ws + k, "\x00\x01\x02\x03", 4);
	k += 4;
	put("ws_rx", "binary", ws, k);
	k = 0;
	ws[k++] = 1;
	ws[k++] = 0;
	ws[k++] = 1;
	ws[k++] = '{';
	ws[k++] = (uint8_t)(8 << 3);
	ws[k++] = 4;
	ws[k++] = 0;
	memset(ws + k, ' ', 1024);
	k += 1024;
	ws[k++] = 4;
	ws[k++] = 0;
	ws[k++] = 1;
	ws[k++] = '}';
	put("ws_rx", "oversize", ws, k);
}

/* wsguard: cuts (1) || a client's byte stream (see fuzz_wsguard.c):
 * frames of each length encoding at its bounds, masked with a zero key,
 * then each rule broken behind a good frame. */
static size_t
ws_frame(uint8_t *out, uint64_t n, int form, int masked)
{
	size_t k = 0;

	out[k++] = 0x81;
	if (form == 7) {
		out[k++] = (uint8_t)((masked ? 0x80 : 0) | n);
	} else if (form == 16) {
		out[k++] = (uint8_t)((masked ? 0x80 : 0) | 126);
		out[k++] = (uint8_t)(n >> 8);
		out[k++] = (uint8_t)n;
	} else {
		out[k++] = (uint8_t)((masked ? 0x80 : 0) | 127);
		for (int i = 7; i >= 0; i--)
			out[k++] = (uint8_t)(n >> (8 * i));
	}
	if (masked) {
		memset(out + k, 0, 4);
		k += 4;
	}
	if (n < 70000) {
		memset(out + k, ' ', (size_t)n);
		k += (size_t)n;
	}
	return k;
}

static void
gen_wsguard(void)
{
	static uint8_t ws[3 * 70000];
	static const struct {
		const char *name;
		uint64_t n;
		int form, masked;
	} bad[] = {
		{ "unmasked", 28, 7, 0 },
		{ "nonminimal16", 28, 16, 1 },
		{ "nonminimal64", 28, 64, 1 },
		{ "nonminimal64-65535", 65535, 64, 1 },
		{ "top-bit", (uint64_t)1 << 63, 64, 1 },
	};
	size_t k = 0;

	ws[k++] = 7;
	k += ws_frame(ws + k, 0, 7, 1);
	k += ws_frame(ws + k, 125, 7, 1);
	k += ws_frame(ws + k, 126, 16, 1);
	k += ws_frame(ws + k, 65535, 16, 1);
	k += ws_frame(ws + k, 65536, 64, 1);
	put("wsguard", "minimal", ws, k);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k = 0;
		ws[k++] = (uint8_t)(i * 37 + 1);
		k += ws_frame(ws + k, 28, 7, 1);
		k += ws_frame(ws + k, bad[i].n, bad[i].form, bad[i].masked);
		k += ws_frame(ws + k, 28, 7, 1);
		put("wsguard", bad[i].name, ws, k);
	}
	/* a ping of 126 bytes: a control frame past 125 */
	k = 0;
	ws[k++] = 3;
	k += ws_frame(ws + k, 28, 7, 1);
	k += ws_frame(ws + k, 126, 16, 1);
	ws[k - 126 - 8] = 0x89;		/* its header's first byte */
	put("wsguard", "control-long", ws, k);
	/* text in three frames, a character cut at each frame's end, a
	 * ping between them, masked by a key that is not zero; then the
	 * same with a bad byte, and a continuation after the end */
	static const char *const parts[] = { "h\xc3", "\xa9 \xe2\x82",
	    "\xac \xf0\x9d\x84\x9e" };
	static const uint8_t b0[] = { 0x01, 0x00, 0x80 };
	for (int bad_byte = 0; bad_byte < 3; bad_byte++) {
		k = 0;
		ws[k++] = (uint8_t)(11 + bad_byte);
		for (size_t i = 0; i < 3; i++) {
			size_t n = strlen(parts[i]);

			ws[k++] = b0[i];
			ws[k++] = (uint8_t)(0x80 | n);
			memcpy(ws + k, "\x5a\xa5\x3c\xff", 4);
			for (size_t j = 0; j < n; j++)
				ws[k + 4 + j] = (uint8_t)(parts[i][j] ^
				    ws[k + j % 4]);
			if (bad_byte == 1 && i == 2)
				ws[k + 4 + 2] ^= 0x40;	/* the 0xf0: 0xb0 */
			k += 4 + n;
			if (i == 0) {
				memcpy(ws + k, "\x89\x80\0\0\0\0", 6);
				k += 6;
			}
		}
		if (bad_byte == 2) {
			memcpy(ws + k, "\x80\x80\0\0\0\0", 6);
			k += 6;
		}
		put("wsguard", bad_byte == 0 ? "utf8-fragments" : bad_byte == 1 ?
		    "utf8-bad" : "continuation-after-end", ws, k);
	}
	/* a text frame of 300 bytes (the 16-bit form, the 8-byte steps),
	 * characters at the bounds of the encodings at odd offsets; then
	 * each with one bad sequence: overlong, a surrogate, past
	 * U+10FFFF */
	static const char *const odd[] = { "", "\xc0\xaf", "\xed\xb0\x80",
	    "\xf4\x90\x80\x80" };
	for (size_t v = 0; v < 4; v++) {
		static const char chars[] = "\xc2\x80\xe0\xa0\x80\xef\xbf\xbf"
		    "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf";
		uint8_t text[300];

		memset(text, 'a', sizeof(text));
		memcpy(text + 101, chars, sizeof(chars) - 1);
		memcpy(text + 203, odd[v], strlen(odd[v]));
		k = 0;
		ws[k++] = (uint8_t)(23 + v);
		ws[k++] = 0x81;
		ws[k++] = 0x80 | 126;
		ws[k++] = sizeof(text) >> 8;
		ws[k++] = sizeof(text) & 0xff;
		memcpy(ws + k, "\x3c\x5a\xff\xa5", 4);
		for (size_t j = 0; j < sizeof(text); j++)
			ws[k + 4 + j] = (uint8_t)(text[j] ^ ws[k + j % 4]);
		k += 4 + sizeof(text);
		put("wsguard", v == 0 ? "utf8-long" : v == 1 ? "utf8-overlong" :
		    v == 2 ? "utf8-surrogate" : "utf8-past-10ffff", ws, k);
	}
	/* a client's close (code 1000, a UTF-8 reason, masked), then one
	 * with a code no peer may send (1005) */
	for (int bad_code = 0; bad_code < 2; bad_code++) {
		static const char body[] = "\x03\xe8" "bye \xc3\xa9";
		size_t n = sizeof(body) - 1;

		k = 0;
		ws[k++] = (uint8_t)(17 + bad_code);
		k += ws_frame(ws + k, 28, 7, 1);
		ws[k++] = 0x88;
		ws[k++] = (uint8_t)(0x80 | n);
		memcpy(ws + k, "\x5a\xa5\x3c\xff", 4);
		for (size_t j = 0; j < n; j++)
			ws[k + 4 + j] = (uint8_t)(body[j] ^ ws[k + j % 4]);
		if (bad_code)
			ws[k + 4 + 1] = (uint8_t)(0xed ^ ws[k + 1]);
		k += 4 + n;
		k += ws_frame(ws + k, 28, 7, 1);
		put("wsguard", bad_code ? "close-1005" : "close", ws, k);
	}
}

static void
gen_bundles(const struct fixture *f)
{
	struct x3dh_bundle b;
	uint8_t out[X3DH_BUNDLE_MAX_BYTES], spk_sk[X3DH_KEY_BYTES];
	uint8_t opk_sk[X3DH_KEY_BYTES];
	size_t len;

	put("bundle", "fetched-with-opk", f->bundle, f->bundle_len);
	if (x3dh_bundle_decode(&b, f->bundle, f->bundle_len) != 0)
		die("fixture bundle");
	b.n_opk = 0;
	if (x3dh_bundle_encode(out, sizeof(out), &len, &b) != 0)
		die("bundle");
	put("bundle", "fetched-no-opk", out, len);
	/* an upload: a new signed prekey and five one-time keys */
	b.spk_id = 4;
	x3dh_keypair(b.spk, spk_sk);
	x3dh_spk_sign(b.spk_sig, f->bob_sk, b.spk_id, b.spk);
	b.n_opk = 5;
	for (size_t i = 0; i < b.n_opk; i++) {
		b.opk[i].id = (uint32_t)(100 + i * 17);
		x3dh_keypair(b.opk[i].pk, opk_sk);
	}
	if (x3dh_bundle_encode(out, sizeof(out), &len, &b) != 0)
		die("bundle");
	put("bundle", "upload", out, len);
}

/* statements.json's programme_seed and new_programme_seed. */
static const uint8_t prog_seed[32] = {
	0xa6, 0x99, 0x2e, 0x64, 0xcb, 0xd2, 0xd1, 0x0d, 0x7a, 0x04, 0x24,
	0xb8, 0x91, 0x41, 0xb8, 0xd7, 0x2d, 0x89, 0x65, 0xa3, 0xff, 0xf7,
	0xce, 0x08, 0x91, 0xa1, 0x3a, 0xb7, 0xfd, 0x0b, 0xba, 0xe2,
};

/* kind || now || statement, once whole and once as a body to sign. */
static void
put_statement(const char *name, int kind, int64_t now, const uint8_t *s,
    size_t len, size_t body)
{
	uint8_t buf[16 + REVOCATION_BYTES_MAX];
	char signed_name[64];

	buf[0] = (uint8_t)kind;
	be64_put(buf + 1, (uint64_t)now);
	memcpy(buf + 9, s, len);
	put("cert", name, buf, 9 + len);
	buf[0] = (uint8_t)(kind | 8);
	snprintf(signed_name, sizeof(signed_name), "%s-body", name);
	put("cert", signed_name, buf, 9 + body);
}

static void
gen_statements(const struct fixture *f)
{
	uint8_t pk[OFR_PK_BYTES], sk[OFR_SK_BYTES], npk[OFR_PK_BYTES];
	uint8_t c[CERT_BYTES], rot[ROTATION_BYTES], par[PARTNER_BYTES];
	uint8_t rev[REVOCATION_BYTES_MAX], keys[3 * OFR_PK_BYTES];
	struct cert_info ci;
	struct rotation r;
	struct partner_info p;
	size_t len;

	crypto_sign_seed_keypair(pk, sk, prog_seed);
	memset(&ci, 0, sizeof(ci));
	memcpy(ci.counsellor_pk, f->bob_sk + 32, OFR_PK_BYTES);
	ci.programme_id = 42;
	ci.not_before = 1700000000;
	ci.not_after = 1800000000;
	if (cert_sign(c, sk, &ci) != 0)
		die("cert");
	put_statement("cert", 0, FIX_NOW, c, CERT_BYTES, CERT_BODY_BYTES);
	if (admin_cert_sign(c, sk, &ci) != 0)
		die("admin cert");
	put_statement("admin-cert", 1, FIX_NOW, c, CERT_BYTES,
	    CERT_BODY_BYTES);
	memset(&r, 0, sizeof(r));
	r.programme_id = 42;
	memcpy(r.old_pk, pk, OFR_PK_BYTES);
	memcpy(npk, f->alice_sk + 32, OFR_PK_BYTES);
	memcpy(r.new_pk, npk, OFR_PK_BYTES);
	r.issued = 1750000000;
	if (rotation_sign(rot, sk, &r) != 0)
		die("rotation");
	put_statement("rotation", 2, FIX_NOW, rot, ROTATION_BYTES,
	    ROTATION_BODY_BYTES);
	for (int i = 0; i < 3; i++)
		memset(keys + i * OFR_PK_BYTES, 0x10 * (i + 1), OFR_PK_BYTES);
	if (revocation_sign(rev, sizeof(rev), &len, sk, 42, 1760000000, keys,
	    3) != 0)
		die("revocation");
	put_statement("revocation", 3, FIX_NOW, rev, len, len - OFR_SIG_BYTES);
	if (revocation_sign(rev, sizeof(rev), &len, sk, 42, 1700000001, keys,
	    0) != 0)
		die("revocation");
	put_statement("revocation-empty", 3, FIX_NOW, rev, len,
	    len - OFR_SIG_BYTES);
	memset(&p, 0, sizeof(p));
	p.programme_id = 42;
	p.partner_id = 7;
	memcpy(p.partner_pk, npk, OFR_PK_BYTES);
	p.not_before = 1700000000;
	p.not_after = 1800000000;
	if (partner_sign(par, sk, &p) != 0)
		die("partner");
	put_statement("partner", 4, FIX_NOW, par, PARTNER_BYTES,
	    PARTNER_BODY_BYTES);
}

static void
gen_ratchet(const struct fixture *f)
{
	static const char *const names[FIX_MSGS] = {
		"first-replayed", "second-same-chain", "long",
		"after-dh-step", "skipped", "after-skip",
	};

	for (int i = 0; i < FIX_MSGS; i++)
		put("ratchet", names[i], f->msg[i], f->msg_len[i]);
}

/* A copy of session r, for the state to own. */
static struct ratchet *
copy_session(const struct ratchet *r)
{
	static uint8_t buf[RATCHET_STATE_MAX_BYTES];
	struct ratchet *c = ratchet_new();
	size_t len;

	if (c == NULL || ratchet_state_save(r, buf, sizeof(buf), &len) != 0 ||
	    ratchet_state_load(c, buf, len, FIX_NOW) != 0)
		die("session");
	return c;
}

static void
put_plain(const char *name, uint8_t version_byte, const struct keyfile *k)
{
	uint8_t *buf;
	size_t len;

	if (keyfile_plain_write(k, NULL, &len) != 0 ||
	    (buf = malloc(len + 1)) == NULL ||
	    keyfile_plain_write(k, buf + 1, &len) != 0)
		die("keyfile");
	buf[0] = version_byte;
	put("keyfile", name, buf, len + 1);
	free(buf);
}

static void
gen_keyfile(const struct fixture *f)
{
	struct keyfile *k = sodium_malloc(sizeof(*k));
	struct ks_state *s;
	uint8_t seed[32], pk[OFR_PK_BYTES], key[OFR_PK_BYTES];
	uint8_t plain[PLAIN_V1_BYTES + 1];

	if (k == NULL)
		die("memory");
	memset(k, 0, sizeof(*k));
	memset(seed, 0xc3, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	/* version 1: role || seed, nothing else (version byte 0 -> 1) */
	plain[0] = 0;
	plain[1] = KEY_ROLE_CLIENT;
	memcpy(plain + 2, seed, sizeof(seed));
	put("keyfile", "v1-client", plain, sizeof(plain));
	k->role = KEY_ROLE_COUNSELLOR;
	s = &k->st;
	s->next_spk_id = 2;
	s->use_counter = 9;
	/* version 2 file with the meta record only (version byte 1 -> 2) */
	put_plain("v2-meta", 1, k);
	s->n_spk = 2;
	for (size_t i = 0; i < s->n_spk; i++) {
		s->spk[i].id = (uint32_t)(2 - i);
		s->spk[i].created = 1700000000 + (int64_t)i;
		x3dh_keypair(s->spk[i].pk, s->spk[i].sk);
	}
	s->n_opk = 3;
	for (size_t i = 0; i < s->n_opk; i++) {
		s->opk[i].id = (uint32_t)(0x1000 + i);
		x3dh_keypair(pk, s->opk[i].sk);
	}
	s->n_sessions = 2;
	memcpy(s->sessions[0].peer, f->alice_sk + 32, OFR_PK_BYTES);
	s->sessions[0].used = 5;
	s->sessions[0].r = copy_session(f->bob);
	memcpy(s->sessions[1].peer, f->bob_sk + 32, OFR_PK_BYTES);
	s->sessions[1].used = 4;
	s->sessions[1].r = copy_session(f->alice);
	s->n_pins = 1;
	s->pins[0].programme = 42;
	memset(s->pins[0].key, 0x42, OFR_PK_BYTES);
	memset(key, 0x77, sizeof(key));
	if (keyfile_contact_add(k, 17, KEY_ROLE_CLIENT, key) != 0 ||
	    keyfile_history_add(k, 17, 1750000000, 0, "client 17",
	    "hello", 5) != 0 ||
	    keyfile_history_add(k, 17, 1750000100, 1, "Ada", "hi\nthere",
	    8) != 0 ||
	    keyfile_seen_add(k, 2, key, f->alice_sk + 32) != 0)
		die("state");
	s->has_progsk = 1;
	s->prog_id = 42;
	crypto_sign_seed_keypair(pk, s->prog_sk, prog_seed);
	/* version 4 (byte 3): no KEEP yet */
	s->n_anchors = 1;
	memcpy(s->anchors[0].key, s->prog_sk + 32, OFR_PK_BYTES);
	s->anchors[0].how = KS_ANCHOR_GIVEN;
	strcpy(s->anchors[0].name, "Exit Nord");
	if (revocation_sign(s->anchors[0].revoked,
	    sizeof(s->anchors[0].revoked), &s->anchors[0].revoked_len,
	    s->prog_sk, 42, 1760000000, key, 1) != 0)
		die("revocation");
	s->has_server_key = 1;
	memset(s->server_key, 0x5e, OFR_PK_BYTES);
	s->n_asked = 2;
	s->asked[0].case_id = 17;
	s->asked[0].programme = 42;
	s->asked[1].case_id = 18;
	s->asked[1].programme = 7;
	put_plain("v4-full", 3, k);
	s->keep_days = 30;
	put_plain("v5-full", 4, k);
	{
		static const uint8_t item[] = { 4, 2, 0, 0, 0x10, 0x92, 0,
		    0, 0, 0, 0x69, 0x57, 0x25, 0x80, 0, 0, 0, 0 };
		uint8_t peer[OFR_PK_BYTES];

		memset(peer, 0x70, sizeof(peer));
		if (keyfile_bind_set(k, 17, peer, 5, 1767225600) != 0 ||
		    keyfile_bind_set(k, 17, k->pk, 3, 1767225601) != 0 ||
		    keyfile_item_add(k, 17, 1767225600, 0, "Anna", item,
		    sizeof(item)) != 0)
			die("keyfile v6");
	}
	put_plain("v6-full", 5, k);
	keyfile_state_clear(s);
	sodium_free(k);
}

/* Envelopes of each version and kind, after the prefix of
 * fuzz_envelope.c (now, case id, last running number, last time). */
static void
put_envelope(const char *name, const struct envelope *e, int v1)
{
	static uint8_t buf[28 + ENVELOPE_MAX_BYTES];
	size_t n = 0;
	int rc;

	be64_put(buf, 1767225600);
	be64_put(buf + 8, 17);
	be32_put(buf + 16, 4);
	be64_put(buf + 20, 1767225500);
	if (!v1)
		rc = envelope_write(buf + 28, ENVELOPE_MAX_BYTES, &n, e);
	else if (e->kind == ENVELOPE_TEXT)
		rc = envelope_text(buf + 28, ENVELOPE_MAX_BYTES, &n, e->text,
		    e->text_len);
	else if (e->kind == ENVELOPE_REPORT)
		rc = envelope_report(buf + 28, ENVELOPE_MAX_BYTES, &n,
		    e->count, e->reason);
	else
		rc = envelope_nothing(buf + 28, ENVELOPE_MAX_BYTES, &n);
	if (rc != 0)
		die("envelope");
	put("envelope", name, buf, 28 + n);
}

static void
gen_envelope(void)
{
	static const char place[] = "Caf\xc3\xa9 am Markt", recog[] =
	    "rote M\xc3\xbctze", obj[] = "Ausstieg", fmt[] = "Chat",
	    name[] = "Beratung Nord", contact[] = "+49 30 1234567";
	struct envelope e;

	memset(&e, 0, sizeof(e));
	e.kind = ENVELOPE_TEXT;
	e.text = (const uint8_t *)"hello";
	e.text_len = 5;
	put_envelope("v1-text", &e, 1);
	e.case_id = 17, e.seq = 5, e.time = 1767225600;
	put_envelope("v2-text", &e, 0);
	e.kind = ENVELOPE_REPORT, e.count = 2, e.reason = 3;
	put_envelope("v1-report", &e, 1);
	put_envelope("v2-report", &e, 0);
	e.kind = ENVELOPE_NOTHING;
	put_envelope("v1-nothing", &e, 1);
	put_envelope("v2-nothing", &e, 0);
	e.kind = ENVELOPE_MEETING;
	e.meeting.action = ENVELOPE_M_PROPOSE;
	e.meeting.id = 4242;
	e.meeting.time = 1767312000;
	e.meeting.place = (const uint8_t *)place;
	e.meeting.place_len = strlen(place);
	e.meeting.recognise = (const uint8_t *)recog;
	e.meeting.recognise_len = strlen(recog);
	put_envelope("v2-meeting-propose", &e, 0);
	e.meeting.action = ENVELOPE_M_ACCEPT;
	e.meeting.place_len = e.meeting.recognise_len = 0;
	put_envelope("v2-meeting-accept", &e, 0);
	e.kind = ENVELOPE_AGREEMENT;
	e.agreement.action = ENVELOPE_A_REVISE;
	e.agreement.version = 2;
	e.agreement.field[0] = (const uint8_t *)obj;
	e.agreement.len[0] = strlen(obj);
	e.agreement.field[1] = (const uint8_t *)fmt;
	e.agreement.len[1] = strlen(fmt);
	put_envelope("v2-agreement-revise", &e, 0);
	e.agreement.action = ENVELOPE_A_ACCEPT;
	e.agreement.len[0] = e.agreement.len[1] = 0;
	put_envelope("v2-agreement-accept", &e, 0);
	e.kind = ENVELOPE_REFERRAL;
	e.referral.field[ENVELOPE_RF_NAME] = (const uint8_t *)name;
	e.referral.len[ENVELOPE_RF_NAME] = strlen(name);
	e.referral.field[ENVELOPE_RF_CONTACT] = (const uint8_t *)contact;
	e.referral.len[ENVELOPE_RF_CONTACT] = strlen(contact);
	e.referral.field[ENVELOPE_RF_SAY] = (const uint8_t *)obj;
	e.referral.len[ENVELOPE_RF_SAY] = strlen(obj);
	put_envelope("v2-referral", &e, 0);
}

int
main(int argc, char **argv)
{
	static struct fixture f;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_gen_corpus DIR\n");
		return 2;
	}
	root = argv[1];
	if (fixture_make(&f) != 0)
		die("fixture");
	/* the rest reproducible as well */
	fixture_random_reset();
	csprng_set_test_hook(fixture_random, NULL);
	gen_frames(&f);
	gen_wsguard();
	gen_bundles(&f);
	gen_statements(&f);
	gen_ratchet(&f);
	gen_keyfile(&f);
	gen_envelope();
	fixture_free(&f);
	return 0;
}
