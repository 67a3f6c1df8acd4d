/*
 * keyfile.c: sealing and opening the local store (keyfile.h). Secrets
 * (the seed, the secret key, the derived key, prekey secrets) live only in
 * the sodium_malloc'd struct keyfile, in sodium_malloc'd buffers, or in
 * stack buffers wiped before return. Every value read from the file is
 * bounded before it is used; a file that does not open is reported the
 * same way whether the passphrase is wrong or a byte is damaged.
 *
 * Records of a version 2 plaintext (type: payload; integers big-endian):
 *   1 META:    next_spk_id u32 | next_opk_id u32 | use_counter u64
 *   2 SPK:     id u32 | created i64 | secret (32)       (newest first)
 *   3 OPK:     id u32 | secret (32)
 *   4 SESSION: peer key (32) | used u64 | ratchet_state_save bytes
 *   5 PIN:     programme i64 | programme key (32)
 *   6 CONTACT: case i64 | role u8 | verified u8 | key (32)
 *   7 MSG:     case i64 | ts i64 | sent u8 | name length u8 | name | text
 *   8 PROGSK:  programme i64 | Ed25519 seed (32)
 *   9 SEEN:    spk_id u32 | EKa (32) | peer key (32)     (oldest first;
 *              version 3 on: a version 2 file with one is refused)
 * Unknown types, and records of the wrong length, are refused.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/bytes.h"
#include "proto/err.h"
#include "proto/ratchet.h"
#include "keyfile.h"

#define MAGIC		"OFRKEY"
#define MAGIC_BYTES	6
#define VERSION_1	1
#define VERSION_2	2	/* records 1..8 */
#define VERSION		3	/* and SEEN */
#define KDF_ARGON2ID13	1
#define SALT_BYTES	crypto_pwhash_SALTBYTES
#define NONCE_BYTES	crypto_secretbox_NONCEBYTES
#define KEY_BYTES	crypto_secretbox_KEYBYTES
#define MAC_BYTES	crypto_secretbox_MACBYTES
#define SEED_BYTES	crypto_sign_SEEDBYTES
#define PLAIN_V1_BYTES	(1 + SEED_BYTES)

/* Offsets into the file. */
#define OFF_VERSION	MAGIC_BYTES
#define OFF_KDF		(OFF_VERSION + 1)
#define OFF_SALT	(OFF_KDF + 1)
#define OFF_OPS		(OFF_SALT + SALT_BYTES)
#define OFF_MEM		(OFF_OPS + 8)
#define OFF_NONCE	(OFF_MEM + 8)
#define OFF_BOX		(OFF_NONCE + NONCE_BYTES)
#define FILE_V1_BYTES	(OFF_BOX + MAC_BYTES + PLAIN_V1_BYTES)

/* The costs a file may ask for: what we write, and nothing wild. */
#define OPS_MAX		16
#define MEM_MAX		crypto_pwhash_MEMLIMIT_SENSITIVE

enum rec_type {
	REC_META = 1,
	REC_SPK = 2,
	REC_OPK = 3,
	REC_SESSION = 4,
	REC_PIN = 5,
	REC_CONTACT = 6,
	REC_MSG = 7,
	REC_PROGSK = 8,
	REC_SEEN = 9,
};
#define REC_HDR		5

struct keyfile {
	uint8_t pw[KEY_BYTES];		/* Argon2id of the passphrase */
	uint8_t salt[SALT_BYTES];
	uint64_t ops, mem;
	uint8_t pk[OFR_PK_BYTES];
	uint8_t sk[OFR_SK_BYTES];
	int role;
	struct ks_state st;
};

_Static_assert(FILE_V1_BYTES == KEYFILE_BYTES, "key file size");

int
keyfile_kdf_parse(const char *s)
{
	if (strcmp(s, "interactive") == 0)
		return KEY_KDF_INTERACTIVE;
	if (strcmp(s, "moderate") == 0)
		return KEY_KDF_MODERATE;
	if (strcmp(s, "min") == 0)
		return KEY_KDF_MIN;
	return -1;
}

int
keyfile_role_parse(const char *s)
{
	if (strcmp(s, "client") == 0)
		return KEY_ROLE_CLIENT;
	if (strcmp(s, "counsellor") == 0)
		return KEY_ROLE_COUNSELLOR;
	if (strcmp(s, "admin") == 0)
		return KEY_ROLE_ADMIN;
	return -1;
}

const char *
keyfile_role_name(int role)
{
	switch (role) {
	case KEY_ROLE_COUNSELLOR:
		return "counsellor";
	case KEY_ROLE_ADMIN:
		return "admin";
	default:
		return "client";
	}
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static struct keyfile *
key_new(void)
{
	struct keyfile *k = sodium_malloc(sizeof(*k));

	if (k != NULL)
		memset(k, 0, sizeof(*k));
	return k;
}

static void
msg_clear(struct ks_msg *m)
{
	if (m->text != NULL) {
		sodium_memzero(m->text, m->len);
		free(m->text);
	}
	free(m->name);
	memset(m, 0, sizeof(*m));
}

void
keyfile_free(struct keyfile *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->st.n_sessions; i++)
		ratchet_free(k->st.sessions[i].r);
	for (size_t i = 0; i < k->st.n_msgs; i++)
		msg_clear(&k->st.msgs[i]);
	free(k->st.msgs);
	free(k->st.seen);
	if (k->st.contacts != NULL) {
		sodium_memzero(k->st.contacts, k->st.cap_contacts *
		    sizeof(*k->st.contacts));
		free(k->st.contacts);
	}
	sodium_free(k);	/* wipes */
}

/* The clear header of k for a file of version: magic, version, kdf, salt
 * and costs. */
static void
header(const struct keyfile *k, uint8_t buf[OFF_NONCE], uint8_t version)
{
	memcpy(buf, MAGIC, MAGIC_BYTES);
	buf[OFF_VERSION] = version;
	buf[OFF_KDF] = KDF_ARGON2ID13;
	memcpy(buf + OFF_SALT, k->salt, SALT_BYTES);
	put_u64(buf + OFF_OPS, k->ops);
	put_u64(buf + OFF_MEM, k->mem);
}

/*
 * The box key of a file of version: BLAKE2b keyed with the Argon2id output
 * over the clear header, so that no header bit goes unauthenticated
 * (Argon2 itself ignores the low bits of memlimit).
 */
static void
box_key(const struct keyfile *k, uint8_t version, uint8_t key[KEY_BYTES])
{
	uint8_t hdr[OFF_NONCE];

	header(k, hdr, version);
	crypto_generichash(key, KEY_BYTES, hdr, sizeof(hdr), k->pw,
	    sizeof(k->pw));
}

/* Argon2id over the passphrase, once per process: kept in k->pw. */
static int
derive(struct keyfile *k, const char *pass, size_t passlen)
{
	if (crypto_pwhash(k->pw, sizeof(k->pw), pass, passlen, k->salt,
	    k->ops, (size_t)k->mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return OFR_E_NOMEM;
	return 0;
}

/* Creates the missing directories above path, mode 0700. */
static int
make_parents(const char *path)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return OFR_E_IO;
	}
	memcpy(dir, path, n + 1);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return OFR_E_IO;
		*p = '/';
	}
	return 0;
}

/* fsyncs the directory holding path, so a rename or link survives. */
static void
sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd;

	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		n = (size_t)(slash - path);
		if (n == 0)
			n = 1;
		if (n >= sizeof(dir))
			return;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return OFR_E_IO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* --- the plaintext of version 2 --- */

/* Writes into buf when it is not NULL; counts in any case. */
struct wr {
	uint8_t *buf;
	size_t len;
};

static void
w_bytes(struct wr *w, const void *p, size_t n)
{
	if (w->buf != NULL && n > 0)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void
w_u8(struct wr *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void
w_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4];

	be32_put(b, v);
	w_bytes(w, b, 4);
}

static void
w_u64(struct wr *w, uint64_t v)
{
	uint8_t b[8];

	be64_put(b, v);
	w_bytes(w, b, 8);
}

static void
w_rec(struct wr *w, uint8_t type, size_t len)
{
	w_u8(w, type);
	w_u32(w, (uint32_t)len);
}

/* The plaintext of k (role, seed, records) into w; 0 or OFR_E_NOMEM. */
static int
serialize(const struct keyfile *k, struct wr *w)
{
	const struct ks_state *s = &k->st;
	uint8_t seed[SEED_BYTES], *rs;
	size_t n;

	w_u8(w, (uint8_t)k->role);
	crypto_sign_ed25519_sk_to_seed(seed, k->sk);
	w_bytes(w, seed, sizeof(seed));
	w_rec(w, REC_META, 16);
	w_u32(w, s->next_spk_id);
	w_u32(w, s->next_opk_id);
	w_u64(w, s->use_counter);
	for (size_t i = 0; i < s->n_spk; i++) {
		w_rec(w, REC_SPK, 4 + 8 + 32);
		w_u32(w, s->spk[i].id);
		w_u64(w, (uint64_t)s->spk[i].created);
		w_bytes(w, s->spk[i].sk, 32);
	}
	for (size_t i = 0; i < s->n_opk; i++) {
		w_rec(w, REC_OPK, 4 + 32);
		w_u32(w, s->opk[i].id);
		w_bytes(w, s->opk[i].sk, 32);
	}
	for (size_t i = 0; i < s->n_sessions; i++) {
		n = ratchet_state_size(s->sessions[i].r);
		w_rec(w, REC_SESSION, 32 + 8 + n);
		w_bytes(w, s->sessions[i].peer, 32);
		w_u64(w, s->sessions[i].used);
		if (w->buf != NULL) {
			rs = w->buf + w->len;
			if (ratchet_state_save(s->sessions[i].r, rs, n, &n))
				return OFR_E_NOMEM;
		}
		w->len += n;
	}
	for (size_t i = 0; i < s->n_pins; i++) {
		w_rec(w, REC_PIN, 8 + 32);
		w_u64(w, (uint64_t)s->pins[i].programme);
		w_bytes(w, s->pins[i].key, 32);
	}
	for (size_t i = 0; i < s->n_contacts; i++) {
		w_rec(w, REC_CONTACT, 8 + 1 + 1 + 32);
		w_u64(w, (uint64_t)s->contacts[i].case_id);
		w_u8(w, s->contacts[i].role);
		w_u8(w, s->contacts[i].verified);
		w_bytes(w, s->contacts[i].key, 32);
	}
	for (size_t i = 0; i < s->n_msgs; i++) {
		const struct ks_msg *m = &s->msgs[i];
		size_t nl = strlen(m->name);

		w_rec(w, REC_MSG, 8 + 8 + 1 + 1 + nl + m->len);
		w_u64(w, (uint64_t)m->case_id);
		w_u64(w, (uint64_t)m->ts);
		w_u8(w, m->sent);
		w_u8(w, (uint8_t)nl);
		w_bytes(w, m->name, nl);
		w_bytes(w, m->text, m->len);
	}
	for (size_t i = 0; i < s->n_seen; i++) {
		w_rec(w, REC_SEEN, 4 + X3DH_KEY_BYTES + OFR_PK_BYTES);
		w_u32(w, s->seen[i].spk_id);
		w_bytes(w, s->seen[i].ek, X3DH_KEY_BYTES);
		w_bytes(w, s->seen[i].peer, OFR_PK_BYTES);
	}
	if (s->has_progsk) {
		crypto_sign_ed25519_sk_to_seed(seed, s->prog_sk);
		w_rec(w, REC_PROGSK, 8 + 32);
		w_u64(w, (uint64_t)s->prog_id);
		w_bytes(w, seed, 32);
	}
	sodium_memzero(seed, sizeof(seed));
	return 0;
}

/* Seals k into a new file image *out (malloc'd), *outlen its size. */
static int
seal(const struct keyfile *k, uint8_t **out, size_t *outlen)
{
	struct wr w = { NULL, 0 };
	uint8_t *plain, *buf, key[KEY_BYTES];
	int rc;

	*out = NULL;
	if ((rc = serialize(k, &w)) != 0)
		return rc;
	if (w.len > KEYFILE_MAX - OFF_BOX - MAC_BYTES)
		return OFR_E_NOMEM;
	if ((plain = sodium_malloc(w.len)) == NULL)
		return OFR_E_NOMEM;
	*outlen = OFF_BOX + MAC_BYTES + w.len;
	if ((buf = malloc(*outlen)) == NULL) {
		sodium_free(plain);
		return OFR_E_NOMEM;
	}
	w.buf = plain;
	w.len = 0;
	if ((rc = serialize(k, &w)) != 0) {
		sodium_free(plain);
		free(buf);
		return rc;
	}
	header(k, buf, VERSION);
	box_key(k, VERSION, key);
	randombytes_buf(buf + OFF_NONCE, NONCE_BYTES);
	crypto_secretbox_easy(buf + OFF_BOX, plain, w.len, buf + OFF_NONCE,
	    key);
	sodium_memzero(key, sizeof(key));
	sodium_free(plain);	/* wipes */
	*out = buf;
	return 0;
}

/*
 * Writes k to path through a temporary file in the same directory: with
 * replace, renamed over path; without, linked to path, which fails with
 * EEXIST when path exists.
 */
static int
store(const struct keyfile *k, const char *path, int replace)
{
	char tmp[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, rc, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return OFR_E_IO;
	}
	if ((rc = make_parents(path)) != 0)
		return rc;
	if ((rc = seal(k, &buf, &len)) != 0)
		return rc;
	if ((fd = mkstemp(tmp)) < 0) {
		free(buf);
		return OFR_E_IO;
	}
	rc = OFR_E_IO;
	if (fchmod(fd, 0600) == 0 && write_all(fd, buf, len) == 0 &&
	    fsync(fd) == 0)
		rc = 0;
	saved = errno;
	free(buf);
	if (close(fd) != 0 && rc == 0) {
		rc = OFR_E_IO;
		saved = errno;
	}
	if (rc == 0) {
		if (replace ? rename(tmp, path) : link(tmp, path))
			rc = OFR_E_IO;
		saved = errno;
	}
	if (rc != 0 || !replace)
		(void)unlink(tmp);
	if (rc == 0)
		sync_parent(path);
	errno = saved;
	return rc;
}

int
keyfile_save(struct keyfile *k, const char *path)
{
	return store(k, path, 1);
}
static int
kdf_costs(int kdf, uint64_t *ops, uint64_t *mem)
{
	switch (kdf) {
	case KEY_KDF_INTERACTIVE:
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		return 0;
	case KEY_KDF_MODERATE:
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
		return 0;
	case KEY_KDF_MIN:
		*ops = crypto_pwhash_OPSLIMIT_MIN;
		*mem = crypto_pwhash_MEMLIMIT_MIN;
		return 0;
	default:
		return OFR_E_USAGE;
	}
}

int
keyfile_create(struct keyfile **out, const char *path, const char *pass,
    size_t passlen, int kdf)
{
	struct keyfile *k;
	struct stat st;
	int rc, saved;

	*out = NULL;
	if (passlen > KEYFILE_PASS_MAX)
		return OFR_E_USAGE;
	if (lstat(path, &st) == 0) {
		errno = EEXIST;
		return OFR_E_IO;
	}
	if ((k = key_new()) == NULL)
		return OFR_E_NOMEM;
	if ((rc = kdf_costs(kdf, &k->ops, &k->mem)) != 0) {
		keyfile_free(k);
		return rc;
	}
	k->role = KEY_ROLE_CLIENT;
	randombytes_buf(k->salt, sizeof(k->salt));
	crypto_sign_keypair(k->pk, k->sk);
	if ((rc = derive(k, pass, passlen)) == 0 &&
	    (rc = store(k, path, 0)) == 0) {
		*out = k;
		return 0;
	}
	saved = errno;
	keyfile_free(k);
	errno = saved;
	return rc;
}

/* Reads the whole file into *buf (malloc'd), *len its size;
 * OFR_E_PASSPHRASE when its size cannot be a key file. */
static int
read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t got = 0, cap;
	uint8_t *b;
	int fd, rc = 0;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return OFR_E_IO;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return OFR_E_IO;
	}
	if (st.st_size < (off_t)FILE_V1_BYTES || st.st_size > KEYFILE_MAX) {
		close(fd);
		return OFR_E_PASSPHRASE;
	}
	cap = (size_t)st.st_size + 1;	/* room to see one byte too many */
	if ((b = malloc(cap)) == NULL) {
		close(fd);
		return OFR_E_NOMEM;
	}
	while (got < cap) {
		ssize_t n = read(fd, b + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = OFR_E_IO;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (rc == 0 && got != (size_t)st.st_size)
		rc = OFR_E_PASSPHRASE;
	if (rc != 0) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = got;
	return 0;
}

/* Checks the clear header of buf and fills salt and costs into k. */
static int
parse_header(struct keyfile *k, const uint8_t *buf, size_t len)
{
	if (memcmp(buf, MAGIC, MAGIC_BYTES) != 0 ||
	    buf[OFF_KDF] != KDF_ARGON2ID13)
		return OFR_E_PASSPHRASE;
	if (!(buf[OFF_VERSION] == VERSION_1 && len == FILE_V1_BYTES) &&
	    !((buf[OFF_VERSION] == VERSION_2 || buf[OFF_VERSION] == VERSION) &&
	    len >= FILE_V1_BYTES))
		return OFR_E_PASSPHRASE;
	memcpy(k->salt, buf + OFF_SALT, SALT_BYTES);
	k->ops = get_u64(buf + OFF_OPS);
	k->mem = get_u64(buf + OFF_MEM);
	if (k->ops < crypto_pwhash_OPSLIMIT_MIN || k->ops > OPS_MAX ||
	    k->mem < crypto_pwhash_MEMLIMIT_MIN || k->mem > MEM_MAX)
		return OFR_E_PASSPHRASE;
	return 0;
}

static int
contact_append(struct ks_state *s, const struct ks_contact *c)
{
	if (s->n_contacts == s->cap_contacts) {
		size_t ncap = s->cap_contacts ? 2 * s->cap_contacts : 16;
		struct ks_contact *n = calloc(ncap, sizeof(*n));

		if (n == NULL)
			return OFR_E_NOMEM;
		if (s->contacts != NULL) {
			memcpy(n, s->contacts, s->n_contacts * sizeof(*n));
			sodium_memzero(s->contacts, s->cap_contacts *
			    sizeof(*n));
			free(s->contacts);
		}
		s->contacts = n;
		s->cap_contacts = ncap;
	}
	s->contacts[s->n_contacts++] = *c;
	return 0;
}

static int
msg_append(struct ks_state *s, int64_t case_id, int64_t ts, int sent,
    const char *name, size_t nlen, const char *text, size_t len)
{
	struct ks_msg *m;

	if (s->n_msgs == s->cap_msgs) {
		size_t ncap = s->cap_msgs ? 2 * s->cap_msgs : 64;
		struct ks_msg *n = realloc(s->msgs, ncap * sizeof(*n));

		if (n == NULL)
			return OFR_E_NOMEM;
		s->msgs = n;
		s->cap_msgs = ncap;
	}
	m = &s->msgs[s->n_msgs];
	memset(m, 0, sizeof(*m));
	if ((m->name = malloc(nlen + 1)) == NULL ||
	    (m->text = malloc(len + 1)) == NULL) {
		free(m->name);
		m->name = NULL;
		return OFR_E_NOMEM;
	}
	memcpy(m->name, name, nlen);
	m->name[nlen] = '\0';
	memcpy(m->text, text, len);
	m->text[len] = '\0';
	m->len = len;
	m->case_id = case_id;
	m->ts = ts;
	m->sent = sent ? 1 : 0;
	s->n_msgs++;
	return 0;
}

/* Grows s->seen to hold one more record, up to KS_SEEN_MAX in all (a
 * full array stays full). 0 or OFR_E_NOMEM. */
static int
seen_grow(struct ks_state *s)
{
	size_t ncap = s->cap_seen ? 2 * s->cap_seen : 16;
	struct ks_seen *n;

	if (s->n_seen < s->cap_seen || s->cap_seen >= KS_SEEN_MAX)
		return 0;
	if (ncap > KS_SEEN_MAX)
		ncap = KS_SEEN_MAX;
	if ((n = realloc(s->seen, ncap * sizeof(*n))) == NULL)
		return OFR_E_NOMEM;
	s->seen = n;
	s->cap_seen = ncap;
	return 0;
}

/* Parses one record of type t (payload p, n bytes) of a file of version
 * into k. */
static int
parse_record(struct keyfile *k, uint8_t version, uint8_t t, const uint8_t *p,
    size_t n)
{
	struct ks_state *s = &k->st;
	uint8_t pk[OFR_PK_BYTES];

	switch (t) {
	case REC_META:
		if (n != 16)
			return OFR_E_PASSPHRASE;
		s->next_spk_id = be32_get(p);
		s->next_opk_id = be32_get(p + 4);
		s->use_counter = be64_get(p + 8);
		return 0;
	case REC_SPK:
		if (n != 44 || s->n_spk >= KS_SPK_KEEP)
			return OFR_E_PASSPHRASE;
		s->spk[s->n_spk].id = be32_get(p);
		s->spk[s->n_spk].created = (int64_t)be64_get(p + 4);
		memcpy(s->spk[s->n_spk].sk, p + 12, 32);
		crypto_scalarmult_base(s->spk[s->n_spk].pk, p + 12);
		s->n_spk++;
		return 0;
	case REC_OPK:
		if (n != 36 || s->n_opk >= KS_OPK_MAX)
			return OFR_E_PASSPHRASE;
		s->opk[s->n_opk].id = be32_get(p);
		memcpy(s->opk[s->n_opk].sk, p + 4, 32);
		s->n_opk++;
		return 0;
	case REC_SESSION: {
		struct ks_session *ss;

		if (n < 40 || s->n_sessions >= KS_SESSIONS_MAX)
			return OFR_E_PASSPHRASE;
		ss = &s->sessions[s->n_sessions];
		if ((ss->r = ratchet_new()) == NULL)
			return OFR_E_NOMEM;
		if (ratchet_state_load(ss->r, p + 40, n - 40) != 0) {
			ratchet_free(ss->r);
			ss->r = NULL;
			return OFR_E_PASSPHRASE;
		}
		memcpy(ss->peer, p, 32);
		ss->used = be64_get(p + 32);
		s->n_sessions++;
		return 0;
	}
	case REC_PIN:
		if (n != 40 || s->n_pins >= KS_PINS_MAX)
			return OFR_E_PASSPHRASE;
		s->pins[s->n_pins].programme = (int64_t)be64_get(p);
		memcpy(s->pins[s->n_pins].key, p + 8, 32);
		s->n_pins++;
		return 0;
	case REC_CONTACT: {
		struct ks_contact c;

		if (n != 42 || p[8] > KEY_ROLE_ADMIN || p[9] > 1)
			return OFR_E_PASSPHRASE;
		c.case_id = (int64_t)be64_get(p);
		c.role = p[8];
		c.verified = p[9];
		memcpy(c.key, p + 10, 32);
		return contact_append(s, &c);
	}
	case REC_MSG:
		if (n < 18 || p[16] > 1 || (size_t)p[17] > n - 18)
			return OFR_E_PASSPHRASE;
		return msg_append(s, (int64_t)be64_get(p),
		    (int64_t)be64_get(p + 8), p[16], (const char *)p + 18,
		    p[17], (const char *)p + 18 + p[17], n - 18 - p[17]);
	case REC_PROGSK:
		if (n != 40 || s->has_progsk)
			return OFR_E_PASSPHRASE;
		s->prog_id = (int64_t)be64_get(p);
		crypto_sign_seed_keypair(pk, s->prog_sk, p + 8);
		s->has_progsk = 1;
		return 0;
	case REC_SEEN: {
		struct ks_seen e;

		if (version < VERSION || n != 4 + X3DH_KEY_BYTES +
		    OFR_PK_BYTES || s->n_seen >= KS_SEEN_MAX)
			return OFR_E_PASSPHRASE;
		e.spk_id = be32_get(p);
		memcpy(e.ek, p + 4, X3DH_KEY_BYTES);
		memcpy(e.peer, p + 4 + X3DH_KEY_BYTES, OFR_PK_BYTES);
		if (seen_grow(s) != 0)
			return OFR_E_NOMEM;
		s->seen[s->n_seen++] = e;
		return 0;
	}
	default:
		return OFR_E_PASSPHRASE;
	}
}

static int
unseal(struct keyfile *k, const uint8_t *buf, size_t len)
{
	size_t plen = len - OFF_BOX - MAC_BYTES, off;
	uint8_t *plain;
	int rc = OFR_E_PASSPHRASE;

	uint8_t key[KEY_BYTES];

	if ((plain = sodium_malloc(plen > 0 ? plen : 1)) == NULL)
		return OFR_E_NOMEM;
	box_key(k, buf[OFF_VERSION], key);
	if (crypto_secretbox_open_easy(plain, buf + OFF_BOX, len - OFF_BOX,
	    buf + OFF_NONCE, key) != 0 || plen < PLAIN_V1_BYTES ||
	    plain[0] > KEY_ROLE_ADMIN) {
		sodium_memzero(key, sizeof(key));
		goto out;
	}
	sodium_memzero(key, sizeof(key));
	k->role = plain[0];
	crypto_sign_seed_keypair(k->pk, k->sk, plain + 1);
	rc = 0;
	for (off = PLAIN_V1_BYTES; rc == 0 && off < plen;) {
		uint8_t t;
		size_t n;

		if (plen - off < REC_HDR) {
			rc = OFR_E_PASSPHRASE;
			break;
		}
		t = plain[off];
		n = be32_get(plain + off + 1);
		off += REC_HDR;
		if (n > plen - off) {
			rc = OFR_E_PASSPHRASE;
			break;
		}
		rc = parse_record(k, buf[OFF_VERSION], t, plain + off, n);
		off += n;
	}
out:
	sodium_free(plain);	/* wipes */
	return rc;
}

int
keyfile_load(struct keyfile **out, const char *path, const char *pass,
    size_t passlen)
{
	uint8_t *buf = NULL;
	struct keyfile *k;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (passlen > KEYFILE_PASS_MAX)
		return OFR_E_PASSPHRASE;
	if ((rc = read_file(path, &buf, &len)) != 0)
		return rc;
	if ((k = key_new()) == NULL) {
		free(buf);
		return OFR_E_NOMEM;
	}
	if ((rc = parse_header(k, buf, len)) == 0 &&
	    (rc = derive(k, pass, passlen)) == 0 &&
	    (rc = unseal(k, buf, len)) == 0) {
		free(buf);
		*out = k;
		return 0;
	}
	free(buf);
	keyfile_free(k);
	return rc;
}

int
keyfile_set_role(struct keyfile *k, const char *path, int role)
{
	int old = k->role, rc;

	if (role < KEY_ROLE_CLIENT || role > KEY_ROLE_ADMIN)
		return OFR_E_USAGE;
	k->role = role;
	if ((rc = store(k, path, 1)) != 0) {
		int saved = errno;

		k->role = old;
		errno = saved;
	}
	return rc;
}

int
keyfile_history_add(struct keyfile *k, int64_t case_id, int64_t ts,
    int sent, const char *name, const char *text, size_t len)
{
	struct ks_state *s = &k->st;
	size_t nlen = strlen(name), count = 0, first = 0;
	int rc;

	if (nlen > 255)
		nlen = 255;
	if ((rc = msg_append(s, case_id, ts, sent, name, nlen, text,
	    len)) != 0)
		return rc;
	for (size_t i = s->n_msgs; i-- > 0;) {
		if (s->msgs[i].case_id != case_id)
			continue;
		count++;
		first = i;
	}
	if (count > KS_HISTORY_CASE) {
		msg_clear(&s->msgs[first]);
		memmove(&s->msgs[first], &s->msgs[first + 1],
		    (s->n_msgs - first - 1) * sizeof(*s->msgs));
		s->n_msgs--;
	}
	return 0;
}

const struct ks_seen *
keyfile_seen_find(struct keyfile *k, uint32_t spk_id,
    const uint8_t ek[X3DH_KEY_BYTES])
{
	const struct ks_state *s = &k->st;

	for (size_t i = 0; i < s->n_seen; i++)
		if (s->seen[i].spk_id == spk_id &&
		    memcmp(s->seen[i].ek, ek, X3DH_KEY_BYTES) == 0)
			return &s->seen[i];
	return NULL;
}

static void
seen_remove(struct ks_state *s, size_t i)
{
	memmove(&s->seen[i], &s->seen[i + 1],
	    (s->n_seen - i - 1) * sizeof(*s->seen));
	s->n_seen--;
}

int
keyfile_seen_add(struct keyfile *k, uint32_t spk_id,
    const uint8_t ek[X3DH_KEY_BYTES], const uint8_t peer[OFR_PK_BYTES])
{
	struct ks_state *s = &k->st;
	struct ks_seen e;
	size_t i, count = 0, first = 0;

	if (keyfile_seen_find(k, spk_id, ek) != NULL)
		return 0;
	/* room first, so that a failure changes nothing */
	if (seen_grow(s) != 0)
		return OFR_E_NOMEM;
	for (i = s->n_seen; i-- > 0;) {
		if (memcmp(s->seen[i].peer, peer, OFR_PK_BYTES) != 0)
			continue;
		count++;
		first = i;
	}
	if (count >= KS_SEEN_PEER)
		seen_remove(s, first);
	else if (s->n_seen == KS_SEEN_MAX)
		seen_remove(s, 0);
	memset(&e, 0, sizeof(e));
	e.spk_id = spk_id;
	memcpy(e.ek, ek, X3DH_KEY_BYTES);
	memcpy(e.peer, peer, OFR_PK_BYTES);
	s->seen[s->n_seen++] = e;
	return 0;
}

size_t
keyfile_seen_prune(struct keyfile *k)
{
	struct ks_state *s = &k->st;
	size_t i = 0, gone = 0, j;

	while (i < s->n_seen) {
		for (j = 0; j < s->n_spk; j++)
			if (s->spk[j].id == s->seen[i].spk_id)
				break;
		if (j < s->n_spk) {
			i++;
			continue;
		}
		seen_remove(s, i);
		gone++;
	}
	return gone;
}

int
keyfile_lock(const char *path, int timeout_ms, int *fd)
{
	char lp[PATH_MAX];
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int f, waited = 0;

	*fd = -1;
	if (snprintf(lp, sizeof(lp), "%s.lock", path) >= (int)sizeof(lp)) {
		errno = ENAMETOOLONG;
		return OFR_E_IO;
	}
	if ((f = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return OFR_E_IO;
	(void)fchmod(f, 0600);
	while (flock(f, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int saved = errno;

			close(f);
			errno = saved;
			return OFR_E_IO;
		}
		if (waited >= timeout_ms) {
			close(f);
			return OFR_E_TIMEOUT;
		}
		nanosleep(&ts, NULL);
		waited += 50;
	}
	*fd = f;
	return 0;
}

void
keyfile_unlock(int fd)
{
	if (fd >= 0) {
		(void)flock(fd, LOCK_UN);
		close(fd);
	}
}
int
keyfile_role(const struct keyfile *k)
{
	return k->role;
}

const uint8_t *
keyfile_pk(const struct keyfile *k)
{
	return k->pk;
}

const uint8_t *
keyfile_sk(const struct keyfile *k)
{
	return k->sk;
}

struct ks_state *
keyfile_state(struct keyfile *k)
{
	return &k->st;
}
