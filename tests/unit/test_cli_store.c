/*
 * test_cli_store.c: the CLI's local store (client-cli/keyfile*.c, version
 * 2): a state with prekey secrets, a live session, pins, contacts, the
 * programme key and history survives save and load (the loaded session
 * still decrypts the peer's reply); the history is bounded per case; a
 * wrong passphrase, every flipped bit and every truncation are refused;
 * saves keep mode 0600 and leave no temporary file; the lock excludes a
 * second holder. Version 3 adds the first messages answered (SEEN): they
 * survive save and load, are bounded per peer and in all, go with their
 * signed prekey; files of versions 1 and 2, sealed here by hand as the
 * format says, still load, and a version 2 file with a SEEN record is
 * refused. Version 5 adds how long the history is kept (KEEP): entries
 * older than that, by times given to the test, go; the setting survives
 * save and load. Uses the "min" cost level so it runs fast.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "keyfile.h"
#include "proto/err.h"
#include "proto/ocrypto.h"
#include "proto/ratchet.h"
#include "proto/x3dh.h"

#define PASS	"store passphrase"

static char dir[256], path[300];

static int
load_rc(const char *p, const char *pass)
{
	struct keyfile *k = NULL;
	int rc = keyfile_load(&k, p, pass, strlen(pass));

	CHECK(rc == 0 ? k != NULL : k == NULL);
	keyfile_free(k);
	return rc;
}

static uint8_t *
read_all(const char *p, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(p, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	*len = buf != NULL ? (size_t)read(fd, buf, (size_t)st.st_size) : 0;
	close(fd);
	return buf;
}

static int
write_bytes(const char *p, const uint8_t *buf, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* Bob (an identity pair and a signed prekey) and Alice's session to him. */
struct peer {
	uint8_t pk[OFR_PK_BYTES], sk[OFR_SK_BYTES];
	uint8_t spk_pk[32], spk_sk[32];
	struct ratchet *r;
};

static void
test_roundtrip(void)
{
	struct keyfile *k = NULL, *k2 = NULL;
	struct ks_state *s, *s2;
	struct x3dh_bundle b;
	struct x3dh_init init;
	struct ratchet_msg m;
	struct peer bob;
	struct stat st;
	uint8_t sk[32], ad[64], msg[RATCHET_MSG_MAX], pt[RATCHET_PT_MAX];
	uint8_t st1[RATCHET_STATE_MAX_BYTES], st2[RATCHET_STATE_MAX_BYTES];
	size_t len, l1, l2, n;
	DIR *d;
	struct dirent *e;
	int tmp_left = 0;

	CHECK_EQ_INT(keyfile_create(&k, path, PASS, strlen(PASS),
	    KEY_KDF_MIN), 0);
	if (k == NULL)
		return;
	s = keyfile_state(k);

	/* prekeys */
	s->next_spk_id = 2;
	s->n_spk = 2;
	for (int i = 0; i < 2; i++) {
		s->spk[i].id = (uint32_t)(2 - i);
		s->spk[i].created = 1700000000 - i;
		x3dh_keypair(s->spk[i].pk, s->spk[i].sk);
	}
	s->next_opk_id = 3;
	s->n_opk = 3;
	for (int i = 0; i < 3; i++) {
		s->opk[i].id = (uint32_t)(i + 1);
		x3dh_keypair(pt, s->opk[i].sk);
	}

	/* trust: two anchors (one with a revocation list), the server's
	 * key, a programme asked for */
	s->n_anchors = 2;
	memset(s->anchors[0].key, 0x61, 32);
	s->anchors[0].how = KS_ANCHOR_GIVEN;
	strcpy(s->anchors[0].name, "Exit Nord");
	memset(s->anchors[1].key, 0x62, 32);
	s->anchors[1].how = KS_ANCHOR_ASKED;
	strcpy(s->anchors[1].name, "");
	s->anchors[1].revoked_len = revocation_bytes(1);
	memset(s->anchors[1].revoked, 0x63, revocation_bytes(1));
	s->has_server_key = 1;
	memset(s->server_key, 0x64, 32);
	s->n_asked = 1;
	s->asked[0].case_id = 12;
	s->asked[0].programme = 3;

	/* a session with Bob: Alice (the store) sends first */
	crypto_sign_keypair(bob.pk, bob.sk);
	x3dh_keypair(bob.spk_pk, bob.spk_sk);
	memset(&b, 0, sizeof(b));
	memcpy(b.ik, bob.pk, 32);
	b.spk_id = 7;
	memcpy(b.spk, bob.spk_pk, 32);
	x3dh_spk_sign(b.spk_sig, bob.sk, 7, b.spk);
	s->sessions[0].r = ratchet_new();
	CHECK(s->sessions[0].r != NULL);
	CHECK_EQ_INT(x3dh_initiate(sk, ad, &init, keyfile_sk(k), &b), 0);
	CHECK_EQ_INT(ratchet_init_initiator(s->sessions[0].r, sk, ad, b.spk,
	    &init), 0);
	memcpy(s->sessions[0].peer, bob.pk, 32);
	s->sessions[0].used = 5;
	s->n_sessions = 1;
	s->use_counter = 5;
	CHECK_EQ_INT(ratchet_encrypt(s->sessions[0].r, msg, sizeof(msg), &len,
	    (const uint8_t *)"hi bob", 6), 0);
	/* Bob answers */
	bob.r = ratchet_new();
	CHECK_EQ_INT(ratchet_msg_parse(&m, msg, len), 0);
	CHECK_EQ_INT(x3dh_respond(sk, ad, &m.init, bob.sk, bob.spk_sk, NULL),
	    0);
	CHECK_EQ_INT(ratchet_init_responder(bob.r, sk, ad, &m.init, bob.spk_pk,
	    bob.spk_sk), 0);
	CHECK_EQ_INT(ratchet_decrypt(bob.r, pt, sizeof(pt), &n, msg, len, 0), 0);
	CHECK(n == 6 && memcmp(pt, "hi bob", 6) == 0);
	CHECK_EQ_INT(ratchet_encrypt(bob.r, msg, sizeof(msg), &len,
	    (const uint8_t *)"hi alice", 8), 0);

	/* pins, contacts, programme key, history */
	s->n_pins = 1;
	s->pins[0].programme = 42;
	memset(s->pins[0].key, 0x42, 32);
	s->contacts = calloc(4, sizeof(*s->contacts));
	s->cap_contacts = 4;
	s->n_contacts = 1;
	s->contacts[0].case_id = 99;
	s->contacts[0].role = KEY_ROLE_COUNSELLOR;
	s->contacts[0].verified = 1;
	memcpy(s->contacts[0].key, bob.pk, 32);
	s->has_progsk = 1;
	s->prog_id = 42;
	crypto_sign_keypair(pt, s->prog_sk);
	CHECK_EQ_INT(keyfile_history_add(k, 99, 1, 1, "me", "hello", 5), 0);
	CHECK_EQ_INT(keyfile_history_add(k, 99, 2, 0, "Sam", "welcome", 7), 0);
	CHECK_EQ_INT(keyfile_history_add(k, 98, 3, 0, "Kim", "other", 5), 0);
	/* running numbers (set twice: the newest kept) and a meeting */
	CHECK_EQ_INT(keyfile_bind_set(k, 99, bob.pk, 4, 40), 0);
	CHECK_EQ_INT(keyfile_bind_set(k, 98, bob.pk, 1, 10), 0);
	CHECK_EQ_INT(keyfile_bind_set(k, 99, bob.pk, 5, 50), 0);
	CHECK_EQ_INT(keyfile_item_add(k, 99, 7, KS_ITEM_COUNSELLOR, "Sam",
	    (const uint8_t *)"\x04meeting", 8), 0);
	/* first messages answered */
	memset(pt, 0x51, 32);
	CHECK_EQ_INT(keyfile_seen_add(k, 2, pt, bob.pk), 0);
	memset(pt, 0x52, 32);
	CHECK_EQ_INT(keyfile_seen_add(k, 1, pt, bob.pk), 0);
	CHECK_EQ_INT(keyfile_seen_add(k, 1, pt, bob.pk), 0);	/* again */
	CHECK_EQ_INT(s->n_seen, 2);

	umask(022);
	CHECK_EQ_INT(keyfile_save(k, path), 0);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (strstr(e->d_name, ".tmp.") != NULL)
				tmp_left++;
		closedir(d);
	}
	CHECK_EQ_INT(tmp_left, 0);

	CHECK_EQ_INT(keyfile_load(&k2, path, PASS, strlen(PASS)), 0);
	if (k2 == NULL) {
		keyfile_free(k);
		return;
	}
	s2 = keyfile_state(k2);
	CHECK_EQ_INT(s2->n_anchors, 2);
	CHECK(memcmp(s2->anchors[0].key, s->anchors[0].key, 32) == 0 &&
	    s2->anchors[0].how == KS_ANCHOR_GIVEN &&
	    strcmp(s2->anchors[0].name, "Exit Nord") == 0 &&
	    s2->anchors[0].revoked_len == 0);
	CHECK(s2->anchors[1].how == KS_ANCHOR_ASKED &&
	    s2->anchors[1].name[0] == '\0' &&
	    s2->anchors[1].revoked_len == revocation_bytes(1) &&
	    memcmp(s2->anchors[1].revoked, s->anchors[1].revoked,
	    revocation_bytes(1)) == 0);
	CHECK(s2->has_server_key && memcmp(s2->server_key, s->server_key,
	    32) == 0);
	CHECK(s2->n_asked == 1 && s2->asked[0].case_id == 12 &&
	    s2->asked[0].programme == 3);
	CHECK(memcmp(keyfile_pk(k2), keyfile_pk(k), 32) == 0);
	CHECK_EQ_INT(s2->next_spk_id, 2);
	CHECK_EQ_INT(s2->next_opk_id, 3);
	CHECK_EQ_INT(s2->use_counter, 5);
	CHECK_EQ_INT(s2->n_spk, 2);
	CHECK(memcmp(s2->spk, s->spk, sizeof(s->spk[0]) * 2) == 0);
	CHECK_EQ_INT(s2->n_opk, 3);
	CHECK(memcmp(s2->opk, s->opk, sizeof(s->opk[0]) * 3) == 0);
	CHECK_EQ_INT(s2->n_sessions, 1);
	CHECK(memcmp(s2->sessions[0].peer, bob.pk, 32) == 0);
	CHECK_EQ_INT(s2->sessions[0].used, 5);
	CHECK_EQ_INT(ratchet_state_save(s->sessions[0].r, st1, sizeof(st1),
	    &l1), 0);
	CHECK_EQ_INT(ratchet_state_save(s2->sessions[0].r, st2, sizeof(st2),
	    &l2), 0);
	CHECK(l1 == l2 && memcmp(st1, st2, l1) == 0);
	/* the loaded session reads Bob's reply */
	CHECK_EQ_INT(ratchet_decrypt(s2->sessions[0].r, pt, sizeof(pt), &n,
	    msg, len, 0), 0);
	CHECK(n == 8 && memcmp(pt, "hi alice", 8) == 0);
	CHECK_EQ_INT(s2->n_pins, 1);
	CHECK_EQ_INT(s2->pins[0].programme, 42);
	CHECK_EQ_INT(s2->n_contacts, 1);
	CHECK(s2->contacts[0].case_id == 99 &&
	    s2->contacts[0].role == KEY_ROLE_COUNSELLOR &&
	    s2->contacts[0].verified == 1 &&
	    memcmp(s2->contacts[0].key, bob.pk, 32) == 0);
	CHECK_EQ_INT(s2->has_progsk, 1);
	CHECK(memcmp(s2->prog_sk, s->prog_sk, 64) == 0);
	CHECK_EQ_INT(s2->n_seen, 2);
	memset(pt, 0x51, 32);
	CHECK(keyfile_seen_find(k2, 2, pt) != NULL);
	CHECK(keyfile_seen_find(k2, 1, pt) == NULL);
	memset(pt, 0x52, 32);
	CHECK(keyfile_seen_find(k2, 1, pt) != NULL &&
	    memcmp(keyfile_seen_find(k2, 1, pt)->peer, bob.pk, 32) == 0);
	CHECK(s2->n_seen == 2 && s2->seen[0].spk_id == 2);
	CHECK_EQ_INT(s2->n_msgs, 3);
	if (s2->n_msgs == 3) {
		CHECK(strcmp(s2->msgs[0].text, "hello") == 0 &&
		    s2->msgs[0].sent == 1 && s2->msgs[0].case_id == 99);
		CHECK(strcmp(s2->msgs[1].name, "Sam") == 0 &&
		    strcmp(s2->msgs[1].text, "welcome") == 0 &&
		    s2->msgs[1].ts == 2 && s2->msgs[1].sent == 0);
		CHECK(strcmp(s2->msgs[2].text, "other") == 0 &&
		    s2->msgs[2].case_id == 98);
	}
	{
		uint32_t seq;
		int64_t t;

		CHECK_EQ_INT(s2->n_binds, 2);
		keyfile_bind_get(k2, 99, bob.pk, &seq, &t);
		CHECK(seq == 5 && t == 50);
		keyfile_bind_get(k2, 98, bob.pk, &seq, &t);
		CHECK(seq == 1 && t == 10);
		keyfile_bind_get(k2, 97, bob.pk, &seq, &t);
		CHECK(seq == 0 && t == 0);
		CHECK(s2->n_items == 1 && s2->items[0].case_id == 99 &&
		    s2->items[0].ts == 7 && s2->items[0].len == 8 &&
		    s2->items[0].sent == KS_ITEM_COUNSELLOR &&
		    memcmp(s2->items[0].body, "\x04meeting", 8) == 0 &&
		    strcmp(s2->items[0].name, "Sam") == 0);
	}

	/* the plaintext is nowhere in the file; it is of version 9 */
	{
		uint8_t *buf = read_all(path, &n);

		CHECK(buf != NULL);
		CHECK(buf != NULL && n > 6 && buf[6] == 9);
		for (size_t i = 0; buf != NULL && i + 7 <= n; i++)
			CHECK(memcmp(buf + i, "welcome", 7) != 0);
		free(buf);
	}
	keyfile_free(k2);
	ratchet_free(bob.r);
	keyfile_free(k);
}

static void
test_history_bound(void)
{
	struct keyfile *k = NULL;
	struct ks_state *s;
	char text[32];
	size_t in99 = 0;

	CHECK_EQ_INT(keyfile_load(&k, path, PASS, strlen(PASS)), 0);
	if (k == NULL)
		return;
	s = keyfile_state(k);
	for (int i = 0; i < KS_HISTORY_CASE + 5; i++) {
		snprintf(text, sizeof(text), "m%d", i);
		CHECK_EQ_INT(keyfile_history_add(k, 99, i, 1, "me", text,
		    strlen(text)), 0);
	}
	for (size_t i = 0; i < s->n_msgs; i++)
		in99 += s->msgs[i].case_id == 99;
	CHECK_EQ_INT(in99, KS_HISTORY_CASE);
	/* the other case keeps its message; case 99 lost its oldest */
	CHECK_EQ_INT(s->n_msgs, KS_HISTORY_CASE + 1);
	CHECK(strcmp(s->msgs[s->n_msgs - 1].text, "m1004") == 0);
	for (size_t i = 0; i < s->n_msgs; i++)
		if (s->msgs[i].case_id == 99) {
			CHECK(strcmp(s->msgs[i].text, "m5") == 0);
			break;
		}
	keyfile_free(k);
}

static void
test_damaged(void)
{
	char bad[320];
	uint8_t *orig, *buf;
	size_t len = 0, failed = 0;

	snprintf(bad, sizeof(bad), "%s/bad", dir);
	orig = read_all(path, &len);
	CHECK(orig != NULL && len > KEYFILE_BYTES);
	if (orig == NULL)
		return;
	buf = malloc(len + 1);
	CHECK_EQ_INT(load_rc(path, "wrong passphrase"), OFR_E_PASSPHRASE);
	CHECK_EQ_INT(load_rc(path, ""), OFR_E_PASSPHRASE);
	for (size_t n = 0; n < len; n++) {
		CHECK_EQ_INT(write_bytes(bad, orig, n), 0);
		if (load_rc(bad, PASS) != OFR_E_PASSPHRASE)
			failed++;
	}
	memcpy(buf, orig, len);
	buf[len] = 0;
	CHECK_EQ_INT(write_bytes(bad, buf, len + 1), 0);
	CHECK_EQ_INT(load_rc(bad, PASS), OFR_E_PASSPHRASE);
	/* every byte, with a bit of it flipped: each of the 8 bits in turn
	 * (every bit of every byte was 8 times the key derivations, and
	 * found nothing more: the file is one AEAD ciphertext) */
	for (size_t i = 0; i < len; i++) {
		int bit = (int)(i % 8);

		memcpy(buf, orig, len);
		buf[i] ^= (uint8_t)(1u << bit);
		CHECK_EQ_INT(write_bytes(bad, buf, len), 0);
		if (load_rc(bad, PASS) != OFR_E_PASSPHRASE) {
			fprintf(stderr, "byte %zu bit %d: opened\n", i, bit);
			failed++;
		}
	}
	CHECK_EQ_INT(failed, 0);
	CHECK_EQ_INT(load_rc(path, PASS), 0);
	unlink(bad);
	free(buf);
	free(orig);
}

/* The records of first messages: bounded per peer, then in all (the
 * oldest go), and pruned with the signed prekeys they name. */
static void
test_seen(void)
{
	struct keyfile *k = NULL;
	struct ks_state *s;
	uint8_t ek[32], p1[32], p2[32];
	uint32_t i;

	CHECK_EQ_INT(keyfile_load(&k, path, PASS, strlen(PASS)), 0);
	if (k == NULL)
		return;
	s = keyfile_state(k);
	s->n_seen = 0;
	memset(p1, 1, sizeof(p1));
	memset(p2, 2, sizeof(p2));
	memset(ek, 0, sizeof(ek));
	for (i = 0; i < KS_SEEN_PEER + 1; i++) {
		memcpy(ek, &i, sizeof(i));
		CHECK_EQ_INT(keyfile_seen_add(k, 1, ek, p1), 0);
	}
	CHECK_EQ_INT(s->n_seen, KS_SEEN_PEER);
	i = 0;
	memcpy(ek, &i, sizeof(i));
	CHECK(keyfile_seen_find(k, 1, ek) == NULL);	/* p1's oldest went */
	i = 1;
	memcpy(ek, &i, sizeof(i));
	CHECK(keyfile_seen_find(k, 1, ek) != NULL);
	/* many peers: KS_SEEN_MAX in all, the oldest of all goes */
	for (i = 0; s->n_seen < KS_SEEN_MAX; i++) {
		uint8_t peer[32];

		memset(peer, 0, sizeof(peer));
		memcpy(peer, &i, sizeof(i));
		peer[31] = 0xee;
		memcpy(ek, &i, sizeof(i));
		ek[31] = 0xee;
		CHECK_EQ_INT(keyfile_seen_add(k, 2, ek, peer), 0);
	}
	memset(ek, 0xab, sizeof(ek));			/* a new one */
	CHECK_EQ_INT(keyfile_seen_add(k, 2, ek, p2), 0);
	CHECK_EQ_INT(s->n_seen, KS_SEEN_MAX);
	i = 1;
	memset(ek, 0, sizeof(ek));
	memcpy(ek, &i, sizeof(i));
	CHECK(keyfile_seen_find(k, 1, ek) == NULL);	/* the oldest */
	CHECK(memcmp(s->seen[s->n_seen - 1].peer, p2, 32) == 0);
	/* a full set survives save and load */
	CHECK_EQ_INT(keyfile_save(k, path), 0);
	keyfile_free(k);
	k = NULL;
	CHECK_EQ_INT(keyfile_load(&k, path, PASS, strlen(PASS)), 0);
	if (k == NULL)
		return;
	s = keyfile_state(k);
	CHECK_EQ_INT(s->n_seen, KS_SEEN_MAX);
	/* signed prekeys 1 and 2 held: nothing goes; then only 2 */
	s->n_spk = 2;
	s->spk[0].id = 2;
	s->spk[1].id = 1;
	CHECK_EQ_INT(keyfile_seen_prune(k), 0);
	s->n_spk = 1;
	CHECK_EQ_INT(keyfile_seen_prune(k), KS_SEEN_PEER - 1);
	CHECK_EQ_INT(s->n_seen, KS_SEEN_MAX - (KS_SEEN_PEER - 1));
	for (size_t j = 0; j < s->n_seen; j++)
		CHECK(s->seen[j].spk_id == 2);
	s->n_spk = 0;
	CHECK_EQ_INT(keyfile_seen_prune(k), KS_SEEN_MAX - (KS_SEEN_PEER - 1));
	CHECK_EQ_INT(s->n_seen, 0);
	keyfile_free(k);
}

/*
 * Seals plain (role || seed || records) by hand into a file of version
 * at p, as keyfile.h describes it: header, Argon2id of the passphrase,
 * the box key BLAKE2b-keyed over the header, secretbox.
 */
static int
seal_by_hand(const char *p, uint8_t version, const uint8_t *plain,
    size_t plen)
{
	uint8_t *buf = malloc(64 + 16 + plen), pw[32], key[32];
	uint64_t ops = crypto_pwhash_OPSLIMIT_MIN;
	uint64_t mem = crypto_pwhash_MEMLIMIT_MIN;
	int rc;

	if (buf == NULL)
		return -1;
	memcpy(buf, "OFRKEY", 6);
	buf[6] = version;
	buf[7] = 1;
	randombytes_buf(buf + 8, 16);
	for (int i = 0; i < 8; i++) {
		buf[24 + i] = (uint8_t)(ops >> (8 * i));
		buf[32 + i] = (uint8_t)(mem >> (8 * i));
	}
	randombytes_buf(buf + 40, 24);
	if (crypto_pwhash(pw, sizeof(pw), PASS, strlen(PASS), buf + 8, ops,
	    (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		free(buf);
		return -1;
	}
	crypto_generichash(key, sizeof(key), buf, 40, pw, sizeof(pw));
	crypto_secretbox_easy(buf + 64, plain, plen, buf + 40, key);
	rc = write_bytes(p, buf, 64 + 16 + plen);
	free(buf);
	return rc;
}

/* keep: every key but one of 0x67 bytes */
static int
not_67(const uint8_t key[32], void *arg)
{
	(void)arg;
	return key[0] != 0x67;
}

/* Old files: version 1 (role || seed), version 2 with records; a SEEN
 * record only from version 3 on. */
static void
test_old_versions(void)
{
	char old[320];
	uint8_t plain[256], seed[32], pk[32], sk[64];
	struct keyfile *k = NULL;
	size_t n;

	snprintf(old, sizeof(old), "%s/old", dir);
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	plain[0] = KEY_ROLE_COUNSELLOR;
	memcpy(plain + 1, seed, 32);

	CHECK_EQ_INT(seal_by_hand(old, 1, plain, 33), 0);
	CHECK_EQ_INT(keyfile_load(&k, old, PASS, strlen(PASS)), 0);
	CHECK(k != NULL && memcmp(keyfile_pk(k), pk, 32) == 0 &&
	    keyfile_role(k) == KEY_ROLE_COUNSELLOR);
	keyfile_free(k);
	k = NULL;

	/* version 2: META and a PIN record */
	n = 33;
	plain[n++] = 1;				/* META */
	memcpy(plain + n, "\0\0\0\x10", 4);
	n += 4;
	memset(plain + n, 0, 16);
	plain[n + 3] = 7;			/* next_spk_id 7 */
	n += 16;
	plain[n++] = 5;				/* PIN */
	memcpy(plain + n, "\0\0\0\x28", 4);
	n += 4;
	memset(plain + n, 0, 8);
	plain[n + 7] = 3;			/* programme 3 */
	memset(plain + n + 8, 0x33, 32);
	n += 40;
	CHECK_EQ_INT(seal_by_hand(old, 2, plain, n), 0);
	CHECK_EQ_INT(keyfile_load(&k, old, PASS, strlen(PASS)), 0);
	if (k != NULL) {
		struct ks_state *s = keyfile_state(k);

		CHECK(memcmp(keyfile_pk(k), pk, 32) == 0);
		CHECK_EQ_INT(s->next_spk_id, 7);
		CHECK(s->n_pins == 1 && s->pins[0].programme == 3 &&
		    s->pins[0].key[0] == 0x33);
		CHECK_EQ_INT(s->n_seen, 0);
		/* saved again, it is a version 3 file that loads */
		CHECK_EQ_INT(keyfile_save(k, old), 0);
		keyfile_free(k);
		k = NULL;
		CHECK_EQ_INT(load_rc(old, PASS), 0);
		{
			uint8_t *buf = read_all(old, &n);

			CHECK(buf != NULL && buf[6] == 9);
			free(buf);
		}
	}

	/* a SEEN record: refused in version 2, loaded in version 3 */
	n = 33;
	plain[n++] = 9;
	memcpy(plain + n, "\0\0\0\x44", 4);
	n += 4;
	memcpy(plain + n, "\0\0\0\x07", 4);
	memset(plain + n + 4, 0x44, 32);
	memcpy(plain + n + 36, pk, 32);
	n += 68;
	CHECK_EQ_INT(seal_by_hand(old, 2, plain, n), 0);
	CHECK_EQ_INT(load_rc(old, PASS), OFR_E_PASSPHRASE);
	CHECK_EQ_INT(seal_by_hand(old, 3, plain, n), 0);
	CHECK_EQ_INT(keyfile_load(&k, old, PASS, strlen(PASS)), 0);
	if (k != NULL) {
		uint8_t ek[32];

		memset(ek, 0x44, sizeof(ek));
		CHECK(keyfile_seen_find(k, 7, ek) != NULL);
		CHECK_EQ_INT(keyfile_state(k)->n_seen, 1);
	}
	keyfile_free(k);
	/* a SEEN record of the wrong length, and a version 10 file */
	plain[33 + 4] = 0x43;
	CHECK_EQ_INT(seal_by_hand(old, 3, plain, n - 1), 0);
	CHECK_EQ_INT(load_rc(old, PASS), OFR_E_PASSPHRASE);
	CHECK_EQ_INT(seal_by_hand(old, 10, plain, 33), 0);
	CHECK_EQ_INT(load_rc(old, PASS), OFR_E_PASSPHRASE);
	/* an ANCHOR (key, how 1, name "P", no list): refused in version 3,
	 * loaded in version 4; a name over OFR_NAME_MAX is refused */
	n = 33;
	plain[n++] = 10;
	memcpy(plain + n, "\0\0\0\x23", 4);
	n += 4;
	memset(plain + n, 0x55, 32);
	plain[n + 32] = 1;
	plain[n + 33] = 1;
	plain[n + 34] = 'P';
	n += 35;
	CHECK_EQ_INT(seal_by_hand(old, 3, plain, n), 0);
	CHECK_EQ_INT(load_rc(old, PASS), OFR_E_PASSPHRASE);
	CHECK_EQ_INT(seal_by_hand(old, 4, plain, n), 0);
	CHECK_EQ_INT(keyfile_load(&k, old, PASS, strlen(PASS)), 0);
	if (k != NULL) {
		struct ks_state *s = keyfile_state(k);

		CHECK_EQ_INT(s->n_anchors, 1);
		CHECK(s->anchors[0].how == KS_ANCHOR_GIVEN &&
		    strcmp(s->anchors[0].name, "P") == 0 &&
		    s->anchors[0].revoked_len == 0);
	}
	keyfile_free(k);
	k = NULL;
	plain[33 + 4] = 0x23 + 64;
	plain[33 + 5 + 33] = 65;
	memset(plain + n, 'x', 64);
	CHECK_EQ_INT(seal_by_hand(old, 4, plain, n + 64), 0);
	CHECK_EQ_INT(load_rc(old, PASS), OFR_E_PASSPHRASE);
	/* a SHOWN record (case 77, a colleague's key): refused in version
	 * 6, loaded in version 7 */
	n = 33;
	plain[n++] = 16;
	memcpy(plain + n, "\0\0\0\x28", 4);
	n += 4;
	memcpy(plain + n, "\0\0\0\0\0\0\0\x4d", 8);
	memset(plain + n + 8, 0x66, 32);
	n += 40;
	CHECK_EQ_INT(seal_by_hand(old, 6, plain, n), 0);
	CHECK_EQ_INT(load_rc(old, PASS), OFR_E_PASSPHRASE);
	CHECK_EQ_INT(seal_by_hand(old, 7, plain, n), 0);
	CHECK_EQ_INT(keyfile_load(&k, old, PASS, strlen(PASS)), 0);
	if (k != NULL) {
		uint8_t key[32];

		memset(key, 0x66, sizeof(key));
		CHECK_EQ_INT(keyfile_shown_has(k, 77, key), 1);
		CHECK_EQ_INT(keyfile_shown_has(k, 78, key), 0);
		/* replaced by what a confirmation showed; gone with the case */
		keyfile_shown_set(k, 77, NULL, 0, 1);
		CHECK_EQ_INT(keyfile_shown_has(k, 77, key), 0);
		keyfile_shown_set(k, 77, (const uint8_t (*)[32])key, 1, 0);
		CHECK_EQ_INT(keyfile_shown_has(k, 77, key), 1);
		/* kept while in the case: one gone from it goes, in its
		 * case alone */
		{
			uint8_t two[2][32];

			memset(two[0], 0x67, 32);
			memset(two[1], 0x68, 32);
			keyfile_shown_set(k, 77, (const uint8_t (*)[32])two[0],
			    1, 0);
			keyfile_shown_set(k, 78, (const uint8_t (*)[32])two[1],
			    1, 0);
			CHECK_EQ_INT((int)keyfile_shown_keep(k, 77, not_67,
			    NULL), 1);
			CHECK_EQ_INT(keyfile_shown_has(k, 77, two[0]), 0);
			CHECK_EQ_INT(keyfile_shown_has(k, 77, key), 1);
			CHECK_EQ_INT((int)keyfile_shown_keep(k, 77, not_67,
			    NULL), 0);
			CHECK_EQ_INT(keyfile_shown_has(k, 78, two[1]), 1);
		}
		{
			struct ks_forgot f;

			keyfile_forget_case(k, 77, &f);
		}
		CHECK_EQ_INT(keyfile_shown_has(k, 77, key), 0);
	}
	keyfile_free(k);
	k = NULL;
	/* ASKED records (case 5: programmes 1 and 2; case 6: 3): in a
	 * version 7 file each yes to a referral (a case's record but its
	 * first) is taken as one a handover used (-programme); versions 8
	 * and 9 keep them as they are */
	n = 33;
	for (int i = 0; i < 3; i++) {
		static const uint8_t asked[3][2] = { { 5, 1 }, { 5, 2 },
		    { 6, 3 } };

		plain[n++] = 12;
		memcpy(plain + n, "\0\0\0\x10", 4);
		n += 4;
		memset(plain + n, 0, 16);
		plain[n + 7] = asked[i][0];
		plain[n + 15] = asked[i][1];
		n += 16;
	}
	for (uint8_t v = 7; v <= 9; v++) {
		CHECK_EQ_INT(seal_by_hand(old, v, plain, n), 0);
		CHECK_EQ_INT(keyfile_load(&k, old, PASS, strlen(PASS)), 0);
		if (k != NULL) {
			struct ks_state *s = keyfile_state(k);

			CHECK_EQ_INT((int)s->n_asked, v == 7 ? 4 : 3);
			CHECK(s->asked[1].case_id == 5 &&
			    s->asked[1].programme == 2);
			if (v == 7)
				CHECK(s->asked[3].case_id == 5 &&
				    s->asked[3].programme == -2);
		}
		keyfile_free(k);
		k = NULL;
	}
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(seed, sizeof(seed));
	unlink(old);
}

/*
 * history-keep: with keep_days set, the entries older than that many days
 * before the time given go, the rest (of that age or younger, and of every
 * case) stay; off (0) nothing goes. The setting survives save and load
 * (a KEEP record, version 5), a save drops what is past it by the clock,
 * and a KEEP record is refused in version 4, as 0, over the maximum, or
 * twice.
 */
static void
test_history_expire(void)
{
	const int64_t now = (int64_t)time(NULL), day = 86400;
	char exp_path[320];
	struct keyfile *k = NULL;
	struct ks_state *s;
	uint8_t plain[33 + 2 * 7], seed[32], pk[32], sk[64];
	size_t n;

	snprintf(exp_path, sizeof(exp_path), "%s/expire", dir);
	CHECK_EQ_INT(keyfile_create(&k, exp_path, PASS, strlen(PASS),
	    KEY_KDF_MIN), 0);
	if (k == NULL)
		return;
	s = keyfile_state(k);
	CHECK_EQ_INT(s->keep_days, 0);
	CHECK_EQ_INT(keyfile_history_add(k, 1, now - 40 * day, 0, "C",
	    "forty days", 10), 0);
	CHECK_EQ_INT(keyfile_history_add(k, 2, now - 8 * day, 1, "me",
	    "eight days", 10), 0);
	CHECK_EQ_INT(keyfile_history_add(k, 1, now - 7 * day, 1, "me",
	    "seven days", 10), 0);
	CHECK_EQ_INT(keyfile_history_add(k, 1, now - 60, 0, "C",
	    "a minute", 8), 0);
	/* off: nothing goes, however old */
	CHECK_EQ_INT(keyfile_history_expire(k, now), 0);
	CHECK_EQ_INT(s->n_msgs, 4);
	s->keep_days = 7;
	CHECK_EQ_INT(keyfile_history_expire(k, now), 2);
	CHECK_EQ_INT(s->n_msgs, 2);
	CHECK(strcmp(s->msgs[0].text, "seven days") == 0 &&
	    s->msgs[0].case_id == 1 && s->msgs[0].sent == 1);
	CHECK(strcmp(s->msgs[1].text, "a minute") == 0);
	CHECK_EQ_INT(keyfile_history_expire(k, now), 0);
	/* a day later the seven-day one goes too */
	CHECK_EQ_INT(keyfile_history_expire(k, now + day), 1);
	CHECK_EQ_INT(s->n_msgs, 1);

	/* saved and loaded, the setting stays; the save expires by the
	 * clock: an entry of today stays, one of last year goes */
	CHECK_EQ_INT(keyfile_history_add(k, 3, now - 365 * day, 0, "C",
	    "last year", 9), 0);
	CHECK_EQ_INT(keyfile_history_add(k, 3, now, 1, "me", "today", 5), 0);
	CHECK_EQ_INT(keyfile_save(k, exp_path), 0);
	keyfile_free(k);
	k = NULL;
	CHECK_EQ_INT(keyfile_load(&k, exp_path, PASS, strlen(PASS)), 0);
	if (k != NULL) {
		s = keyfile_state(k);
		CHECK_EQ_INT(s->keep_days, 7);
		CHECK_EQ_INT(s->n_msgs, 2);
		CHECK(strcmp(s->msgs[s->n_msgs - 1].text, "today") == 0);
		for (size_t i = 0; i < s->n_msgs; i++)
			CHECK(strcmp(s->msgs[i].text, "last year") != 0);
		/* off again: no KEEP record is written, nothing goes */
		s->keep_days = 0;
		CHECK_EQ_INT(keyfile_history_add(k, 3, 1, 0, "C", "1970", 4),
		    0);
		CHECK_EQ_INT(keyfile_save(k, exp_path), 0);
		keyfile_free(k);
		k = NULL;
		CHECK_EQ_INT(keyfile_load(&k, exp_path, PASS, strlen(PASS)),
		    0);
		CHECK(k != NULL && keyfile_state(k)->keep_days == 0 &&
		    keyfile_state(k)->n_msgs == 3);
	}
	keyfile_free(k);
	unlink(exp_path);

	/* KEEP by hand: 30 days loads in version 5 only; 0, 3651 and two
	 * records are refused */
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	plain[0] = KEY_ROLE_CLIENT;
	memcpy(plain + 1, seed, 32);
	n = 33;
	memcpy(plain + n, "\x0d\0\0\0\x02\0\x1e", 7);
	n += 7;
	CHECK_EQ_INT(seal_by_hand(exp_path, 4, plain, n), 0);
	CHECK_EQ_INT(load_rc(exp_path, PASS), OFR_E_PASSPHRASE);
	CHECK_EQ_INT(seal_by_hand(exp_path, 5, plain, n), 0);
	k = NULL;
	CHECK_EQ_INT(keyfile_load(&k, exp_path, PASS, strlen(PASS)), 0);
	CHECK(k != NULL && keyfile_state(k)->keep_days == 30);
	keyfile_free(k);
	memcpy(plain + n, "\x0d\0\0\0\x02\0\x1e", 7);
	CHECK_EQ_INT(seal_by_hand(exp_path, 5, plain, n + 7), 0);
	CHECK_EQ_INT(load_rc(exp_path, PASS), OFR_E_PASSPHRASE);
	plain[n - 2] = 0x0e;		/* 3614: fits */
	plain[n - 1] = 0x1e;
	CHECK_EQ_INT(seal_by_hand(exp_path, 5, plain, n), 0);
	CHECK_EQ_INT(load_rc(exp_path, PASS), 0);
	plain[n - 1] = 0x43;		/* 3651 */
	CHECK_EQ_INT(seal_by_hand(exp_path, 5, plain, n), 0);
	CHECK_EQ_INT(load_rc(exp_path, PASS), OFR_E_PASSPHRASE);
	plain[n - 2] = 0;
	plain[n - 1] = 0;
	CHECK_EQ_INT(seal_by_hand(exp_path, 5, plain, n), 0);
	CHECK_EQ_INT(load_rc(exp_path, PASS), OFR_E_PASSPHRASE);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(seed, sizeof(seed));
	unlink(exp_path);
}

static void
test_lock(void)
{
	int fd1 = -1, fd2 = -1;
	char lp[320];
	struct stat st;

	CHECK_EQ_INT(keyfile_lock(path, 100, &fd1), 0);
	CHECK(fd1 >= 0);
	CHECK_EQ_INT(keyfile_lock(path, 200, &fd2), OFR_E_TIMEOUT);
	CHECK_EQ_INT(fd2, -1);
	keyfile_unlock(fd1);
	CHECK_EQ_INT(keyfile_lock(path, 100, &fd2), 0);
	keyfile_unlock(fd2);
	keyfile_unlock(-1);
	snprintf(lp, sizeof(lp), "%s.lock", path);
	CHECK_EQ_INT(stat(lp, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	CHECK_EQ_INT(st.st_size, 0);
	unlink(lp);
}

/*
 * The ASKED records' room (keyfile_asked_room); then forget CASE takes
 * the sessions with the case's people met in no other
 * case: its participants pinned by role, its colleagues confirmed, and a
 * former counsellor that wrote there (a sender's place kept); not one met
 * in another case too, however it was met there.
 */
static void
test_forget(void)
{
	struct keyfile *k = NULL;
	struct ks_state *s;
	struct ks_forgot f;
	uint8_t peer[6][32];
	size_t i;

	CHECK_EQ_INT(keyfile_load(&k, path, PASS, strlen(PASS)), 0);
	if (k == NULL)
		return;
	s = keyfile_state(k);
	for (i = 0; i < s->n_sessions; i++)
		ratchet_free(s->sessions[i].r);
	s->n_sessions = 0;
	for (i = 0; i < 6; i++) {
		memset(peer[i], 0x71 + (int)i, 32);
		s->sessions[i].r = ratchet_new();
		CHECK(s->sessions[i].r != NULL);
		memcpy(s->sessions[i].peer, peer[i], 32);
		s->sessions[i].used = i + 1;
		s->n_sessions++;
	}
	/* case 77: 0 its counsellor, 1 a colleague, 2 a former counsellor
	 * that wrote, 3 a colleague who is case 78's counsellor; case 78:
	 * 4 a colleague, 5 a sender; 3 and 4 also wrote in 77 and 78 */
	CHECK_EQ_INT(keyfile_contact_add(k, 77, KEY_ROLE_COUNSELLOR, peer[0]),
	    0);
	keyfile_shown_set(k, 77, (const uint8_t (*)[32])peer[1], 1, 0);
	CHECK_EQ_INT(keyfile_bind_set(k, 77, peer[2], 3, 30), 0);
	keyfile_shown_set(k, 77, (const uint8_t (*)[32])peer[3], 1, 0);
	CHECK_EQ_INT(keyfile_contact_add(k, 78, KEY_ROLE_COUNSELLOR, peer[3]),
	    0);
	keyfile_shown_set(k, 78, (const uint8_t (*)[32])peer[4], 1, 0);
	CHECK_EQ_INT(keyfile_bind_set(k, 77, peer[4], 1, 10), 0);
	CHECK_EQ_INT(keyfile_bind_set(k, 78, peer[5], 1, 10), 0);
	/* ASKED records full: the oldest that is not its case's first goes
	 * (case 1 began at 10, its yes to 20 goes, then its mark), never
	 * the record of where a case began while another is there */
	s->n_asked = 0;
	s->asked[s->n_asked++] = (struct ks_asked){ 1, 10 };
	s->asked[s->n_asked++] = (struct ks_asked){ 1, 20 };
	s->asked[s->n_asked++] = (struct ks_asked){ 1, -20 };
	for (i = s->n_asked; i < KS_ASKED_MAX; i++)
		s->asked[i] = (struct ks_asked){ (int64_t)(1000 + i), 5 };
	s->n_asked = KS_ASKED_MAX;
	CHECK_EQ_INT(keyfile_asked_for(s, 1, 20), 1);
	keyfile_asked_room(s);
	CHECK_EQ_INT((int)s->n_asked, KS_ASKED_MAX - 1);
	CHECK(s->asked[0].case_id == 1 && s->asked[0].programme == 10);
	CHECK(s->asked[1].case_id == 1 && s->asked[1].programme == -20);
	/* the yes went, its mark says 20 was asked for: the counsellor the
	 * case was handed over to is not refused (review) */
	CHECK_EQ_INT(keyfile_asked_for(s, 1, 20), 1);
	CHECK_EQ_INT(keyfile_asked_for(s, 1, 10), 1);
	CHECK_EQ_INT(keyfile_asked_for(s, 1, 30), 0);
	CHECK_EQ_INT(keyfile_asked_for(s, 999, 30), -1);
	s->asked[s->n_asked++] = (struct ks_asked){ 2000, 6 };
	keyfile_asked_room(s);
	CHECK(s->asked[0].case_id == 1 && s->asked[0].programme == 10);
	CHECK(s->asked[1].case_id == 1003 && s->asked[1].programme == 5);
	s->asked[s->n_asked++] = (struct ks_asked){ 2001, 6 };
	keyfile_asked_room(s);	/* all firsts: the oldest */
	CHECK(s->asked[0].case_id == 1003);
	CHECK_EQ_INT((int)s->n_asked, KS_ASKED_MAX - 1);
	s->n_asked = 0;
	keyfile_forget_case(k, 77, &f);
	CHECK_EQ_INT((int)f.sessions, 3);
	CHECK_EQ_INT((int)s->n_sessions, 3);
	for (i = 0; i < s->n_sessions && i < 3; i++)
		CHECK(memcmp(s->sessions[i].peer, peer[3 + i], 32) == 0);
	keyfile_free(k);
}

int
main(void)
{
	char base[] = "/tmp/test_cli_store.XXXXXX";

	if (ocrypto_init() != 0 || mkdtemp(base) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s", base);
	snprintf(path, sizeof(path), "%s/identity", dir);

	test_roundtrip();
	test_damaged();
	test_history_bound();
	test_seen();
	test_forget();
	test_old_versions();
	test_history_expire();
	test_lock();

	unlink(path);
	rmdir(dir);
	return check_done();
}
