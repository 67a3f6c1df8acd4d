/*
 * test_cli_keyfile.c: the CLI's key file (client-cli/keyfile*.c): create and
 * load, wrong passphrase, truncated and damaged files, file mode, refusal
 * to overwrite, role update; a golden file written by an earlier build
 * still opens, with every record type, and saved again gives the same
 * plaintext to the byte; the history's bound in bytes. Uses the "min"
 * cost level so it runs fast.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "keyfile.h"
#include "proto/bytes.h"
#include "proto/err.h"
#include "proto/ocrypto.h"
#include "proto/ratchet.h"

#define PASS	"correct horse battery staple"

static char dir[256], path[300];

static int
read_bytes(const char *p, uint8_t *buf, size_t cap, size_t *len)
{
	int fd = open(p, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	if (n < 0)
		return -1;
	*len = (size_t)n;
	return 0;
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

static int
load_rc(const char *p, const char *pass)
{
	struct keyfile *k = NULL;
	int rc = keyfile_load(&k, p, pass, strlen(pass));

	CHECK(rc == 0 ? k != NULL : k == NULL);
	keyfile_free(k);
	return rc;
}

static void
test_roundtrip(uint8_t pk[OFR_PK_BYTES])
{
	struct keyfile *k = NULL, *k2 = NULL;
	struct stat st;
	uint8_t sig[64], msg[3] = { 1, 2, 3 };

	CHECK_EQ_INT(keyfile_create(&k, path, PASS, strlen(PASS), KEY_KDF_MIN),
	    0);
	CHECK(k != NULL);
	if (k == NULL)
		return;
	CHECK_EQ_INT(keyfile_role(k), KEY_ROLE_CLIENT);
	memcpy(pk, keyfile_pk(k), OFR_PK_BYTES);

	/* the mode of the file and of the directory made for it */
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	CHECK(st.st_size > KEYFILE_BYTES);	/* version 2: records follow */
	CHECK_EQ_INT(stat(dir, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0700);

	CHECK_EQ_INT(keyfile_load(&k2, path, PASS, strlen(PASS)), 0);
	CHECK(k2 != NULL);
	if (k2 != NULL) {
		CHECK(memcmp(keyfile_pk(k2), pk, OFR_PK_BYTES) == 0);
		CHECK(memcmp(keyfile_sk(k2), keyfile_sk(k), OFR_SK_BYTES) == 0);
		CHECK_EQ_INT(keyfile_role(k2), KEY_ROLE_CLIENT);
		/* the key pair works */
		crypto_sign_detached(sig, NULL, msg, sizeof(msg),
		    keyfile_sk(k2));
		CHECK_EQ_INT(crypto_sign_verify_detached(sig, msg, sizeof(msg),
		    pk), 0);
	}
	keyfile_free(k2);

	/* no overwrite: the file stays as it was */
	keyfile_free(k);
	k = NULL;
	errno = 0;
	CHECK_EQ_INT(keyfile_create(&k, path, "other", 5, KEY_KDF_MIN),
	    OFR_E_IO);
	CHECK_EQ_INT(errno, EEXIST);
	CHECK(k == NULL);
	CHECK_EQ_INT(load_rc(path, PASS), 0);
}

/* An anchor's programme, once known, is kept with it; an anchor whose
 * programme is not known stays so (0). */
static void
test_anchor_ids(void)
{
	char p2[320];
	struct keyfile *k = NULL, *k2 = NULL;
	struct ks_state *s;

	snprintf(p2, sizeof(p2), "%s/anchors.key", dir);
	CHECK_EQ_INT(keyfile_create(&k, p2, PASS, strlen(PASS), KEY_KDF_MIN),
	    0);
	if (k == NULL)
		return;
	s = keyfile_state(k);
	for (int i = 0; i < 3; i++) {
		memset(s->anchors[i].key, 0x40 + i, OFR_PK_BYTES);
		s->anchors[i].how = KS_ANCHOR_GIVEN;
		snprintf(s->anchors[i].name, sizeof(s->anchors[i].name),
		    "programme %d", i);
	}
	s->anchors[0].programme = 7;
	s->anchors[2].programme = (int64_t)1 << 40;
	s->n_anchors = 3;
	CHECK_EQ_INT(keyfile_save(k, p2), 0);
	CHECK_EQ_INT(keyfile_load(&k2, p2, PASS, strlen(PASS)), 0);
	if (k2 != NULL) {
		s = keyfile_state(k2);
		CHECK_EQ_INT((int)s->n_anchors, 3);
		CHECK(s->anchors[0].programme == 7);
		CHECK(s->anchors[1].programme == 0);
		CHECK(s->anchors[2].programme == (int64_t)1 << 40);
		CHECK(s->anchors[2].key[0] == 0x42);
	}
	keyfile_free(k2);
	keyfile_free(k);
	unlink(p2);
}

static void
test_wrong(void)
{
	CHECK_EQ_INT(load_rc(path, "wrong passphrase"), OFR_E_PASSPHRASE);
	CHECK_EQ_INT(load_rc(path, ""), OFR_E_PASSPHRASE);
	CHECK_EQ_INT(load_rc("/nonexistent/offramp/key", PASS), OFR_E_IO);
}

static void
test_damaged(void)
{
	char bad[320];
	uint8_t orig[4096], buf[4096];
	size_t len = 0, failed = 0;

	snprintf(bad, sizeof(bad), "%s/bad", dir);
	CHECK_EQ_INT(read_bytes(path, orig, sizeof(orig) - 8, &len), 0);
	CHECK(len > KEYFILE_BYTES && len < sizeof(orig) - 8);

	/* truncated at every length, and one byte too long */
	for (size_t n = 0; n < len; n++) {
		CHECK_EQ_INT(write_bytes(bad, orig, n), 0);
		if (load_rc(bad, PASS) != OFR_E_PASSPHRASE)
			failed++;
	}
	memcpy(buf, orig, len);
	buf[len] = 0;
	CHECK_EQ_INT(write_bytes(bad, buf, len + 1), 0);
	CHECK_EQ_INT(load_rc(bad, PASS), OFR_E_PASSPHRASE);

	/* each byte flipped, one bit at a time */
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(buf, orig, len);
			buf[i] ^= (uint8_t)(1u << bit);
			CHECK_EQ_INT(write_bytes(bad, buf, len), 0);
			if (load_rc(bad, PASS) != OFR_E_PASSPHRASE) {
				fprintf(stderr, "byte %zu bit %d: opened\n", i,
				    bit);
				failed++;
			}
		}
	}
	CHECK_EQ_INT(failed, 0);
	/* a huge memlimit is refused before anything is allocated */
	memcpy(buf, orig, len);
	memset(buf + 32, 0xff, 8);
	CHECK_EQ_INT(write_bytes(bad, buf, len), 0);
	CHECK_EQ_INT(load_rc(bad, PASS), OFR_E_PASSPHRASE);
	unlink(bad);
}

static void
test_role(const uint8_t pk[OFR_PK_BYTES])
{
	struct keyfile *k = NULL, *k2 = NULL;
	struct stat st;

	CHECK_EQ_INT(keyfile_load(&k, path, PASS, strlen(PASS)), 0);
	if (k == NULL)
		return;
	CHECK_EQ_INT(keyfile_set_role(k, path, KEY_ROLE_COUNSELLOR), 0);
	CHECK_EQ_INT(keyfile_set_role(k, path, 7), OFR_E_USAGE);
	CHECK_EQ_INT(keyfile_role(k), KEY_ROLE_COUNSELLOR);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	CHECK_EQ_INT(keyfile_load(&k2, path, PASS, strlen(PASS)), 0);
	if (k2 != NULL) {
		CHECK_EQ_INT(keyfile_role(k2), KEY_ROLE_COUNSELLOR);
		CHECK(memcmp(keyfile_pk(k2), pk, OFR_PK_BYTES) == 0);
	}
	keyfile_free(k2);
	k2 = NULL;
	CHECK_EQ_INT(keyfile_set_role(k, path, KEY_ROLE_ADMIN), 0);
	CHECK_EQ_INT(keyfile_load(&k2, path, PASS, strlen(PASS)), 0);
	if (k2 != NULL)
		CHECK_EQ_INT(keyfile_role(k2), KEY_ROLE_ADMIN);
	CHECK_EQ_INT(load_rc(path, "wrong"), OFR_E_PASSPHRASE);
	keyfile_free(k2);
	keyfile_free(k);
	keyfile_free(NULL);
}

/*
 * A key file written by the code of commit 003ef99 (version 3, "min"
 * cost, passphrase GOLDEN_PASS): role counsellor, META, two SPK, two OPK,
 * a SESSION, a PIN, a CONTACT, two MSG (one with a negative case and ts
 * and no text), a SEEN and a PROGSK, with the values test_golden checks.
 * It must open as long as the format is version 3.
 */
#define GOLDEN_PASS	"golden passphrase"
#define GOLDEN_PK	"93dfd8705446bf6f94530d2ef62b8ca7" \
			"6bf8f5642dd41f3fdcfce0985b282bda"
static const char golden_hex[] =
	"4f46524b455903019a0970cb6d7347d9a648f49ee8f599cf0100000000000000"
	"0020000000000000c1fd50b815dec02d960174f690340b6ac6cd55e920da5738"
	"eb59a24a0863cd3ace14a6ebf719176fe68d225f1a3a22896062b31fd7c3ca84"
	"803bbe762bed5cfd88a1a7122322e0f3536597aa91d1d86ab4052abc5f84b3f7"
	"2cc4fbcc5cdfc5c4bb5303481c4b0859252d4d36ded51b60c98af69f6e8c9f62"
	"0c5155cf014e023ac21f904a94de5528d98aec02d9c5fabff4c568acd00561ab"
	"4fb154890e2879474030f028b0758f0455466dd9b2774995b8ac0b1b80232baf"
	"af0e770c1ced09dc36b04bd0b92aa01115b6d61addc8904b0e775a70351639a1"
	"61e80037127a3f2adcb6849a728fd8eee311fef085df380425f626bcfff433ba"
	"6ca65aaebd611c8973cc880d407dd547290267d24210b71dffa5adf5c73ad7ce"
	"d6cef74013a99918e1590fd7f644a1f1d91250cda9277ba28e90612a0959f2da"
	"ad24f8d6d368120ddc638be142b42a0d43393bc8b9936b0ea8d921745bb630f5"
	"4b43cdc29033c324a24799e9deea6d5b7cad54c7b70881f375a6184e88bc2077"
	"a81902a27b09d0050d758e4b6a9a048905246533e2adce9aff1063410decc001"
	"e23aecbaef752572b6b61c880074fbdc825f1909595a983a749463d0d9054d3a"
	"e312adfcbb70393e269bf5b5a6c2a5e035aa2720ca1a5162c82f44689eb5aa3e"
	"2f115e6e021b2249d9100d5c5986a0af704513a13be64fb6d12cde23696fece8"
	"cb7c5e70267703d39f52e2814e790c81a0ffba2b2420a8fa0344e370a4233240"
	"2eeeda2df4c34e763be83cb7465cc40af0b3aa264656c41024ec9e7c48c6fa47"
	"59b94a65c3d459a0341d640b82751ac8081f286c5b69f16ed3745d69421d89bd"
	"953c5c24b9f2d51dcc619f880deda6f1c2e6c32c646991d3b79d5f7fae14139e"
	"d3048899e5828c2fa587c181b1b97bf33ed039acd1d993d7c17a32d9e5e94ab8"
	"0b0c0b531d42924f7f3a54f83aae5991f393157b7de7bdc52817821939550c6b"
	"6a9b9753e44ffd42bba93050da9cbfd164264a3bc40f177817243baacb9e6503"
	"7b0e65a6dae45a295c1ae7afa12604ff3b55c6ccb0ecde3b160f36fb2d534af0"
	"b34d8d1bde3185b1009af212dd4365b8ec2ef588ff68ea2c9934b1e47ce371f1"
	"765423c9e5a4f80e7ed4153a9aa64f1e052c3626666f71cf27ddfc4fc300d8fb"
	"d320e2ae1f015416772ff8d63cd02707cc24ce93ebbd574880bb8f59420550c0"
	"50feb6bcfa650322972c785bd498cfc74c1cb21dcd253798e4d0c54602fea1b9"
	"c29baa1f6af9349e06a806cdb2c84f7773de6ac74ebcb7c6e1c96ffae858e666"
	"2dc53e29040993186530b4";

/* Opens a key file image by hand, as keyfile.h describes it, into plain
 * (*plen): Argon2id of pass, the box key BLAKE2b-keyed over the 40-byte
 * header, secretbox. 0 or -1. */
static int
open_by_hand(const uint8_t *buf, size_t len, const char *pass,
    uint8_t *plain, size_t *plen)
{
	uint8_t pw[32], key[32];
	uint64_t ops = 0, mem = 0;
	int rc;

	if (len < 64 + 16)
		return -1;
	for (int i = 0; i < 8; i++) {
		ops |= (uint64_t)buf[24 + i] << (8 * i);
		mem |= (uint64_t)buf[32 + i] << (8 * i);
	}
	if (crypto_pwhash(pw, sizeof(pw), pass, strlen(pass), buf + 8, ops,
	    (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -1;
	crypto_generichash(key, sizeof(key), buf, 40, pw, sizeof(pw));
	rc = crypto_secretbox_open_easy(plain, buf + 64, len - 64, buf + 40,
	    key);
	*plen = len - 64 - 16;
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(key, sizeof(key));
	return rc;
}

/* The values the golden file holds. */
static void
check_golden_state(struct keyfile *k)
{
	struct ks_state *s = keyfile_state(k);
	uint8_t want[64], seed[32], pk[32], spk_pk[32];
	uint8_t st[RATCHET_STATE_MAX_BYTES];
	size_t n;

	CHECK_EQ_INT(keyfile_role(k), KEY_ROLE_COUNSELLOR);
	CHECK_EQ_INT(sodium_hex2bin(want, 32, GOLDEN_PK, 64, NULL, &n, NULL),
	    0);
	CHECK(memcmp(keyfile_pk(k), want, 32) == 0);
	CHECK_EQ_INT(s->next_spk_id, 0x01020304);
	CHECK_EQ_INT(s->next_opk_id, 0x0a0b0c0d);
	CHECK(s->use_counter == 0x1122334455667788ull);
	CHECK_EQ_INT(s->n_spk, 2);
	for (size_t i = 0; i < 2 && i < s->n_spk; i++) {
		memset(want, 0x20 + (int)i, 32);
		crypto_scalarmult_base(spk_pk, want);
		CHECK_EQ_INT(s->spk[i].id, 0x01020304 - i);
		CHECK_EQ_INT(s->spk[i].created, i == 0 ? 1700000000 : -2);
		CHECK(memcmp(s->spk[i].sk, want, 32) == 0);
		CHECK(memcmp(s->spk[i].pk, spk_pk, 32) == 0);
	}
	CHECK_EQ_INT(s->n_opk, 2);
	for (size_t i = 0; i < 2 && i < s->n_opk; i++) {
		memset(want, 0x30 + (int)i, 32);
		CHECK_EQ_INT(s->opk[i].id, 0x0a0b0c0d - i);
		CHECK(memcmp(s->opk[i].sk, want, 32) == 0);
	}
	memset(seed, 0x40, 32);
	crypto_sign_seed_keypair(pk, want, seed);	/* the peer */
	CHECK_EQ_INT(s->n_sessions, 1);
	if (s->n_sessions == 1) {
		CHECK(memcmp(s->sessions[0].peer, pk, 32) == 0);
		CHECK(s->sessions[0].used == 0x0102030405060708ull);
		CHECK_EQ_INT(ratchet_state_save(s->sessions[0].r, st,
		    sizeof(st), &n), 0);
	}
	CHECK_EQ_INT(s->n_pins, 1);
	CHECK_EQ_INT(s->pins[0].programme, 42);
	memset(want, 0x42, 32);
	CHECK(memcmp(s->pins[0].key, want, 32) == 0);
	CHECK_EQ_INT(s->n_contacts, 1);
	if (s->n_contacts == 1)
		CHECK(s->contacts[0].case_id == 99 &&
		    s->contacts[0].role == KEY_ROLE_ADMIN &&
		    s->contacts[0].verified == 1 &&
		    memcmp(s->contacts[0].key, pk, 32) == 0);
	CHECK_EQ_INT(s->n_msgs, 2);
	if (s->n_msgs == 2) {
		const struct ks_msg *m = s->msgs;

		CHECK(m[0].case_id == 99 && m[0].ts == 1700000001 &&
		    m[0].sent == 1 && strcmp(m[0].name, "me") == 0 &&
		    m[0].len == 5 && strcmp(m[0].text, "hello") == 0);
		CHECK(m[1].case_id == -3 && m[1].ts == -1 && m[1].sent == 0 &&
		    strcmp(m[1].name, "Sam") == 0 && m[1].len == 0 &&
		    m[1].text[0] == '\0');
	}
	CHECK_EQ_INT(s->n_seen, 1);
	memset(want, 0x60, 32);
	CHECK(s->n_seen == 1 && s->seen[0].spk_id == 0x01020303 &&
	    memcmp(s->seen[0].ek, want, 32) == 0 &&
	    memcmp(s->seen[0].peer, pk, 32) == 0);
	CHECK_EQ_INT(s->has_progsk, 1);
	CHECK_EQ_INT(s->prog_id, -42);
	memset(seed, 0x50, 32);
	crypto_sign_seed_keypair(pk, want, seed);
	CHECK(memcmp(s->prog_sk, want, 64) == 0);
}

/*
 * Compares the plaintexts of the golden file (a) and of its copy saved
 * again (b) record by record: equal to the byte, but for the sessions'
 * ratchet states, which the golden file holds in state version 1 and a
 * save writes in version 2 (CRYPTO.md, "Session state"): b's must be a's
 * loaded and saved. 1 when they agree.
 */
static int
same_records(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	static uint8_t st[RATCHET_STATE_MAX_BYTES];
	const size_t head = 1 + 32, pre = OFR_PK_BYTES + 8;	/* peer, used */
	size_t i = head, j = head, la, lb, n;
	struct ratchet *r;
	int ok;

	if (alen < head || blen < head || memcmp(a, b, head) != 0)
		return 0;
	while (i < alen && j < blen) {
		if (alen - i < 5 || blen - j < 5 || a[i] != b[j])
			return 0;
		la = be32_get(a + i + 1);
		lb = be32_get(b + j + 1);
		if (la > alen - i - 5 || lb > blen - j - 5)
			return 0;
		if (a[i] != 4) {	/* REC_SESSION */
			if (la != lb || memcmp(a + i + 5, b + j + 5, la) != 0)
				return 0;
		} else {
			if (la < pre || lb < pre ||
			    memcmp(a + i + 5, b + j + 5, pre) != 0 ||
			    (r = ratchet_new()) == NULL)
				return 0;
			ok = a[i + 5 + pre] == 1 && b[j + 5 + pre] ==
			    RATCHET_STATE_VERSION && ratchet_state_load(r,
			    a + i + 5 + pre, la - pre, 0) == 0 &&
			    ratchet_state_save(r, st, sizeof(st), &n) == 0 &&
			    n == lb - pre && memcmp(st, b + j + 5 + pre, n) == 0;
			ratchet_free(r);
			if (!ok)
				return 0;
		}
		i += 5 + la;
		j += 5 + lb;
	}
	return i == alen && j == blen;
}

/*
 * The golden file opens with the values it holds, and saved again its
 * plaintext is the same (the header too; only the nonce and so the box
 * differ), but for the sessions' states now in version 2: the writer and
 * the parser keep the format.
 */
static void
test_golden(void)
{
	char gold[320], again[320];
	uint8_t file[1024], *p1, *p2, *buf2;
	size_t len = 0, len2 = 0, l1 = 0, l2 = 0;
	struct keyfile *k = NULL;

	snprintf(gold, sizeof(gold), "%s/golden", dir);
	snprintf(again, sizeof(again), "%s/again", dir);
	CHECK(strlen(golden_hex) / 2 <= sizeof(file));
	CHECK_EQ_INT(sodium_hex2bin(file, sizeof(file), golden_hex,
	    strlen(golden_hex), NULL, &len, NULL), 0);
	CHECK_EQ_INT(write_bytes(gold, file, len), 0);
	CHECK_EQ_INT(keyfile_load(&k, gold, GOLDEN_PASS, strlen(GOLDEN_PASS)),
	    0);
	if (k == NULL)
		return;
	check_golden_state(k);
	CHECK_EQ_INT(keyfile_save(k, again), 0);
	keyfile_free(k);
	k = NULL;

	p1 = malloc(len);
	p2 = malloc(2 * len);
	buf2 = malloc(2 * len);
	CHECK(p1 != NULL && p2 != NULL && buf2 != NULL);
	if (p1 != NULL && p2 != NULL && buf2 != NULL) {
		CHECK_EQ_INT(read_bytes(again, buf2, 2 * len, &len2), 0);
		/* magic .. costs, but saved as the current version */
		CHECK(memcmp(buf2, file, 6) == 0 && buf2[6] == 9 &&
		    memcmp(buf2 + 7, file + 7, 33) == 0);
		CHECK_EQ_INT(open_by_hand(file, len, GOLDEN_PASS, p1, &l1), 0);
		CHECK_EQ_INT(open_by_hand(buf2, len2, GOLDEN_PASS, p2, &l2),
		    0);
		CHECK(l2 > l1);		/* the state grew */
		CHECK(same_records(p1, l1, p2, l2));
		/* and it opens again with the same values */
		CHECK_EQ_INT(keyfile_load(&k, again, GOLDEN_PASS,
		    strlen(GOLDEN_PASS)), 0);
		if (k != NULL)
			check_golden_state(k);
		keyfile_free(k);
		sodium_memzero(p1, len);
		sodium_memzero(p2, 2 * len);
	}
	free(p1);
	free(p2);
	free(buf2);
	unlink(gold);
	unlink(again);
}

static void
test_names(void)
{
	int v = -1;

	CHECK(keyfile_kdf_parse("interactive", &v) == 0 &&
	    v == KEY_KDF_INTERACTIVE);
	CHECK(keyfile_kdf_parse("moderate", &v) == 0 && v == KEY_KDF_MODERATE);
	CHECK(keyfile_kdf_parse("min", &v) == 0 && v == KEY_KDF_MIN);
	CHECK_EQ_INT(keyfile_kdf_parse("max", &v), OFR_E_USAGE);
	CHECK(keyfile_role_parse("admin", &v) == 0 && v == KEY_ROLE_ADMIN);
	CHECK_EQ_INT(keyfile_role_parse("root", &v), OFR_E_BAD_FIELD);
	CHECK(strcmp(keyfile_role_name(KEY_ROLE_COUNSELLOR), "counsellor") == 0);
}

/* Peers who send long messages (and meetings and agreements) in many
 * cases: the history and the items keep their byte bounds, the oldest
 * going first, and the file still saves. */
static void
test_history_bytes(void)
{
	char p2[320], *text;
	struct keyfile *k = NULL;
	struct ks_state *s;
	const size_t len = 16 * 1024;
	size_t bytes = 0, cases = KS_HISTORY_BYTES / (KS_HISTORY_CASE * len) + 2;

	snprintf(p2, sizeof(p2), "%s.history", path);
	if ((text = malloc(len)) == NULL)
		return;
	memset(text, 'x', len);
	CHECK_EQ_INT(keyfile_create(&k, p2, PASS, strlen(PASS), KEY_KDF_MIN),
	    0);
	if (k == NULL) {
		free(text);
		return;
	}
	for (size_t c = 1; c <= cases; c++)
		for (size_t i = 0; i < KS_HISTORY_CASE; i++)
			CHECK_EQ_INT(keyfile_history_add(k, (int64_t)c,
			    (int64_t)(c * KS_HISTORY_CASE + i), 0, "peer",
			    text, len), 0);
	s = keyfile_state(k);
	for (size_t i = 0; i < s->n_msgs; i++)
		bytes += s->msgs[i].len + strlen(s->msgs[i].name);
	CHECK(bytes <= KS_HISTORY_BYTES);
	CHECK(bytes > KS_HISTORY_BYTES - len - 64);
	CHECK(s->n_msgs > 0 && s->msgs[0].case_id > 1);	/* case 1 went */
	CHECK(s->n_msgs > 0 &&
	    s->msgs[s->n_msgs - 1].case_id == (int64_t)cases);
	/* meetings and agreements too, a bound of their own */
	for (size_t c = 1; c <= KS_ITEMS_BYTES / (KS_ITEMS_CASE * len) + 2;
	    c++)
		for (size_t i = 0; i < KS_ITEMS_CASE; i++)
			CHECK_EQ_INT(keyfile_item_add(k, (int64_t)c,
			    (int64_t)i, 0, "peer", (const uint8_t *)text,
			    len), 0);
	bytes = 0;
	for (size_t i = 0; i < s->n_items; i++)
		bytes += s->items[i].len + strlen(s->items[i].name);
	CHECK(bytes <= KS_ITEMS_BYTES);
	CHECK(bytes > KS_ITEMS_BYTES - len - 64);
	CHECK(s->n_items > 0 && s->items[0].case_id > 1);
	CHECK_EQ_INT(keyfile_save(k, p2), 0);
	keyfile_free(k);
	free(text);
	unlink(p2);
}

int
main(void)
{
	char base[] = "/tmp/test_cli_keyfile.XXXXXX";
	uint8_t pk[OFR_PK_BYTES];

	if (ocrypto_init() != 0 || mkdtemp(base) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s/sub", base);
	snprintf(path, sizeof(path), "%s/identity", dir);

	test_names();
	test_roundtrip(pk);
	test_anchor_ids();
	test_wrong();
	test_damaged();
	test_role(pk);
	test_golden();
	test_history_bytes();

	unlink(path);
	rmdir(dir);
	rmdir(base);
	return check_done();
}
