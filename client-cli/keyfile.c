/*
 * keyfile.c: sealing and opening the local store (keyfile.h). Secrets
 * (the seed, the secret key, the derived key, prekey secrets) live only in
 * the sodium_malloc'd struct keyfile, in sodium_malloc'd buffers, or in
 * stack buffers wiped before return. Every value read from the file is
 * bounded before it is used; a file that does not open is reported the
 * same way whether the passphrase is wrong or a byte is damaged.
 *
 * The records that follow role and seed in the plaintext (version 2 on)
 * are described once, field by field, in the table records[]: the writer
 * and the parser both walk it, so no record's layout or length is written
 * down twice. The table states the format: changing a row changes the
 * files, so it never happens within a version (test_cli_keyfile holds a
 * golden file).
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
#define REC_HDR		(1 + 4)	/* type, length */

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

/* --- the records of the plaintext --- */

/* The kinds of field of a record. */
enum field_kind {
	F_END = 0,
	F_UINT,		/* size bytes, big-endian, at most max (int64_t
			 * values as two's complement) */
	F_BYTES,	/* size bytes */
	F_NAME,		/* a length byte, then that many bytes */
	F_TEXT,		/* the rest of the record: bytes */
	F_RATCHET,	/* the rest of the record: a ratchet_state_save */
};

struct field {
	const char *name;
	enum field_kind kind;
	size_t size;		/* F_UINT, F_BYTES */
	uint64_t max;		/* F_UINT */
};

#define FIELDS_MAX	5

/* A record type: its fields, in order. */
struct record {
	uint8_t type;
	uint8_t since;			/* the first file version with it */
	struct field f[FIELDS_MAX + 1];	/* ended by F_END */
};

#define U8(name, max)	{ name, F_UINT, 1, max }
#define U32(name)	{ name, F_UINT, 4, UINT32_MAX }
#define U64(name)	{ name, F_UINT, 8, UINT64_MAX }
#define BYTES(name, n)	{ name, F_BYTES, n, 0 }
#define NAME(name)	{ name, F_NAME, 0, 0 }
#define TEXT(name)	{ name, F_TEXT, 0, 0 }
#define RATCHET(name)	{ name, F_RATCHET, 0, 0 }

/*
 * Every record of the plaintext after role and seed, in the order they
 * are written, each as type (1) || length (u32) || its fields. The
 * writer and the parser both walk this table: it is the one statement of
 * the records' layout. Unknown types, records of another length and
 * values over their max are refused.
 */
static const struct record records[] = {
	{ REC_META, VERSION_2,
	    { U32("next_spk_id"), U32("next_opk_id"), U64("use_counter") } },
	{ REC_SPK, VERSION_2,		/* newest first */
	    { U32("id"), U64("created"), BYTES("secret", X3DH_KEY_BYTES) } },
	{ REC_OPK, VERSION_2,
	    { U32("id"), BYTES("secret", X3DH_KEY_BYTES) } },
	{ REC_SESSION, VERSION_2,
	    { BYTES("peer", OFR_PK_BYTES), U64("used"), RATCHET("state") } },
	{ REC_PIN, VERSION_2,
	    { U64("programme"), BYTES("key", OFR_PK_BYTES) } },
	{ REC_CONTACT, VERSION_2,
	    { U64("case"), U8("role", KEY_ROLE_ADMIN), U8("verified", 1),
	    BYTES("key", OFR_PK_BYTES) } },
	{ REC_MSG, VERSION_2,
	    { U64("case"), U64("ts"), U8("sent", 1), NAME("name"),
	    TEXT("text") } },
	{ REC_SEEN, VERSION,		/* oldest first */
	    { U32("spk_id"), BYTES("ek", X3DH_KEY_BYTES),
	    BYTES("peer", OFR_PK_BYTES) } },
	{ REC_PROGSK, VERSION_2,
	    { U64("programme"), BYTES("seed", SEED_BYTES) } },
};

/* A field's value on its way between the state and the bytes. */
struct value {
	uint64_t u;			/* F_UINT */
	const uint8_t *p;		/* F_BYTES, F_NAME, F_TEXT; F_RATCHET
					 * when parsed */
	size_t n;			/* F_NAME, F_TEXT, F_RATCHET: bytes */
	const struct ratchet *r;	/* F_RATCHET to write */
	uint8_t tmp[SEED_BYTES];	/* room for a value made to be written */
};

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

/* How many records of type the state of k holds, to be written. */
static size_t
count_of(const struct keyfile *k, uint8_t type)
{
	const struct ks_state *s = &k->st;

	switch (type) {
	case REC_META:
		return 1;
	case REC_SPK:
		return s->n_spk;
	case REC_OPK:
		return s->n_opk;
	case REC_SESSION:
		return s->n_sessions;
	case REC_PIN:
		return s->n_pins;
	case REC_CONTACT:
		return s->n_contacts;
	case REC_MSG:
		return s->n_msgs;
	case REC_SEEN:
		return s->n_seen;
	case REC_PROGSK:
		return s->has_progsk ? 1 : 0;
	default:
		return 0;
	}
}

/* The values of the i-th record of type in the state of k, in the order
 * of its fields. */
static void
values_of(const struct keyfile *k, uint8_t type, size_t i, struct value *v)
{
	const struct ks_state *s = &k->st;

	switch (type) {
	case REC_META:
		v[0].u = s->next_spk_id;
		v[1].u = s->next_opk_id;
		v[2].u = s->use_counter;
		break;
	case REC_SPK:
		v[0].u = s->spk[i].id;
		v[1].u = (uint64_t)s->spk[i].created;
		v[2].p = s->spk[i].sk;
		break;
	case REC_OPK:
		v[0].u = s->opk[i].id;
		v[1].p = s->opk[i].sk;
		break;
	case REC_SESSION:
		v[0].p = s->sessions[i].peer;
		v[1].u = s->sessions[i].used;
		v[2].r = s->sessions[i].r;
		break;
	case REC_PIN:
		v[0].u = (uint64_t)s->pins[i].programme;
		v[1].p = s->pins[i].key;
		break;
	case REC_CONTACT:
		v[0].u = (uint64_t)s->contacts[i].case_id;
		v[1].u = s->contacts[i].role;
		v[2].u = s->contacts[i].verified;
		v[3].p = s->contacts[i].key;
		break;
	case REC_MSG:
		v[0].u = (uint64_t)s->msgs[i].case_id;
		v[1].u = (uint64_t)s->msgs[i].ts;
		v[2].u = s->msgs[i].sent;
		v[3].p = (const uint8_t *)s->msgs[i].name;
		v[3].n = strlen(s->msgs[i].name);
		v[4].p = (const uint8_t *)s->msgs[i].text;
		v[4].n = s->msgs[i].len;
		break;
	case REC_SEEN:
		v[0].u = s->seen[i].spk_id;
		v[1].p = s->seen[i].ek;
		v[2].p = s->seen[i].peer;
		break;
	case REC_PROGSK:
		v[0].u = (uint64_t)s->prog_id;
		crypto_sign_ed25519_sk_to_seed(v[1].tmp, s->prog_sk);
		v[1].p = v[1].tmp;
		break;
	}
}

/*
 * Adds a record of type with values v (parsed, so of the right sizes) to
 * the state of k. 0, OFR_E_PASSPHRASE when the state holds no more of
 * them, OFR_E_NOMEM.
 */
static int
add_values(struct keyfile *k, uint8_t type, const struct value *v)
{
	struct ks_state *s = &k->st;
	struct ks_contact c;
	struct ks_session *ss;
	struct ks_seen e;
	uint8_t pk[OFR_PK_BYTES];

	switch (type) {
	case REC_META:
		s->next_spk_id = (uint32_t)v[0].u;
		s->next_opk_id = (uint32_t)v[1].u;
		s->use_counter = v[2].u;
		return 0;
	case REC_SPK:
		if (s->n_spk >= KS_SPK_KEEP)
			return OFR_E_PASSPHRASE;
		s->spk[s->n_spk].id = (uint32_t)v[0].u;
		s->spk[s->n_spk].created = (int64_t)v[1].u;
		memcpy(s->spk[s->n_spk].sk, v[2].p, X3DH_KEY_BYTES);
		crypto_scalarmult_base(s->spk[s->n_spk].pk, v[2].p);
		s->n_spk++;
		return 0;
	case REC_OPK:
		if (s->n_opk >= KS_OPK_MAX)
			return OFR_E_PASSPHRASE;
		s->opk[s->n_opk].id = (uint32_t)v[0].u;
		memcpy(s->opk[s->n_opk].sk, v[1].p, X3DH_KEY_BYTES);
		s->n_opk++;
		return 0;
	case REC_SESSION:
		if (s->n_sessions >= KS_SESSIONS_MAX)
			return OFR_E_PASSPHRASE;
		ss = &s->sessions[s->n_sessions];
		if ((ss->r = ratchet_new()) == NULL)
			return OFR_E_NOMEM;
		if (ratchet_state_load(ss->r, v[2].p, v[2].n) != 0) {
			ratchet_free(ss->r);
			ss->r = NULL;
			return OFR_E_PASSPHRASE;
		}
		memcpy(ss->peer, v[0].p, OFR_PK_BYTES);
		ss->used = v[1].u;
		s->n_sessions++;
		return 0;
	case REC_PIN:
		if (s->n_pins >= KS_PINS_MAX)
			return OFR_E_PASSPHRASE;
		s->pins[s->n_pins].programme = (int64_t)v[0].u;
		memcpy(s->pins[s->n_pins].key, v[1].p, OFR_PK_BYTES);
		s->n_pins++;
		return 0;
	case REC_CONTACT:
		c.case_id = (int64_t)v[0].u;
		c.role = (uint8_t)v[1].u;
		c.verified = (uint8_t)v[2].u;
		memcpy(c.key, v[3].p, OFR_PK_BYTES);
		return contact_append(s, &c);
	case REC_MSG:
		return msg_append(s, (int64_t)v[0].u, (int64_t)v[1].u,
		    (int)v[2].u, (const char *)v[3].p, v[3].n,
		    (const char *)v[4].p, v[4].n);
	case REC_SEEN:
		if (s->n_seen >= KS_SEEN_MAX)
			return OFR_E_PASSPHRASE;
		e.spk_id = (uint32_t)v[0].u;
		memcpy(e.ek, v[1].p, X3DH_KEY_BYTES);
		memcpy(e.peer, v[2].p, OFR_PK_BYTES);
		if (seen_grow(s) != 0)
			return OFR_E_NOMEM;
		s->seen[s->n_seen++] = e;
		return 0;
	case REC_PROGSK:
		if (s->has_progsk)
			return OFR_E_PASSPHRASE;
		s->prog_id = (int64_t)v[0].u;
		crypto_sign_seed_keypair(pk, s->prog_sk, v[1].p);
		s->has_progsk = 1;
		return 0;
	default:
		return OFR_E_PASSPHRASE;
	}
}

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

/* v as size bytes, big-endian. */
static void
w_uint(struct wr *w, uint64_t v, size_t size)
{
	uint8_t b[8];

	for (size_t i = 0; i < size; i++)
		b[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
	w_bytes(w, b, size);
}

/* The bytes field f takes before its variable part: all of it for the
 * fixed kinds, the length byte of F_NAME, none for the rest kinds. */
static size_t
field_fixed(const struct field *f)
{
	switch (f->kind) {
	case F_UINT:
	case F_BYTES:
		return f->size;
	case F_NAME:
		return 1;
	default:
		return 0;
	}
}

/* The bytes field f takes with value v. */
static size_t
field_len(const struct field *f, const struct value *v)
{
	if (f->kind == F_RATCHET)
		return ratchet_state_size(v->r);
	if (f->kind == F_NAME || f->kind == F_TEXT)
		return field_fixed(f) + v->n;
	return field_fixed(f);
}

/* Writes a record of rec with values v into w; 0 or OFR_E_NOMEM. */
static int
put_record(struct wr *w, const struct record *rec, const struct value *v)
{
	const struct field *f;
	size_t len = 0, n;

	for (f = rec->f; f->kind != F_END; f++)
		len += field_len(f, &v[f - rec->f]);
	w_uint(w, rec->type, 1);
	w_uint(w, len, 4);
	for (f = rec->f; f->kind != F_END; f++, v++) {
		if (f->kind == F_UINT) {
			w_uint(w, v->u, f->size);
		} else if (f->kind == F_BYTES) {
			w_bytes(w, v->p, f->size);
		} else if (f->kind == F_NAME || f->kind == F_TEXT) {
			if (f->kind == F_NAME)
				w_uint(w, v->n, 1);
			w_bytes(w, v->p, v->n);
		} else if (f->kind == F_RATCHET) {
			n = ratchet_state_size(v->r);
			if (w->buf != NULL && ratchet_state_save(v->r,
			    w->buf + w->len, n, &n) != 0)
				return OFR_E_NOMEM;
			w->len += n;
		}
	}
	return 0;
}

/* Reads the fields of rec from payload p (n bytes) into v; 0, or
 * OFR_E_PASSPHRASE when the length or a value does not fit. */
static int
get_record(const struct record *rec, const uint8_t *p, size_t n,
    struct value *v)
{
	const struct field *f;
	size_t off = 0;

	for (f = rec->f; f->kind != F_END; f++, v++) {
		if (n - off < field_fixed(f))
			return OFR_E_PASSPHRASE;
		if (f->kind == F_UINT) {
			for (size_t i = 0; i < f->size; i++)
				v->u = v->u << 8 | p[off + i];
			if (v->u > f->max)
				return OFR_E_PASSPHRASE;
		} else if (f->kind == F_BYTES) {
			v->p = p + off;
		} else if (f->kind == F_NAME) {
			v->n = p[off];
			v->p = p + off + 1;
			if (v->n > n - off - 1)
				return OFR_E_PASSPHRASE;
			off += v->n;
		} else {		/* F_TEXT, F_RATCHET */
			v->p = p + off;
			v->n = n - off;
			off = n;
		}
		off += field_fixed(f);
	}
	return off == n ? 0 : OFR_E_PASSPHRASE;
}

/* The plaintext of k (role, seed, records) into w; 0 or OFR_E_NOMEM. */
static int
serialize(const struct keyfile *k, struct wr *w)
{
	struct value v[FIELDS_MAX];
	uint8_t seed[SEED_BYTES];
	size_t r, i;
	int rc = 0;

	w_uint(w, (uint8_t)k->role, 1);
	crypto_sign_ed25519_sk_to_seed(seed, k->sk);
	w_bytes(w, seed, sizeof(seed));
	sodium_memzero(seed, sizeof(seed));
	for (r = 0; rc == 0 && r < sizeof(records) / sizeof(records[0]); r++) {
		for (i = 0; rc == 0 && i < count_of(k, records[r].type); i++) {
			memset(v, 0, sizeof(v));
			values_of(k, records[r].type, i, v);
			rc = put_record(w, &records[r], v);
			sodium_memzero(v, sizeof(v));
		}
	}
	return rc;
}

/* Parses one record of type t (payload p, n bytes) of a file of version
 * into k. */
static int
parse_record(struct keyfile *k, uint8_t version, uint8_t t, const uint8_t *p,
    size_t n)
{
	struct value v[FIELDS_MAX];
	int rc;

	for (size_t r = 0; r < sizeof(records) / sizeof(records[0]); r++) {
		if (records[r].type != t)
			continue;
		if (version < records[r].since)
			return OFR_E_PASSPHRASE;
		memset(v, 0, sizeof(v));
		if ((rc = get_record(&records[r], p, n, v)) == 0)
			rc = add_values(k, t, v);
		sodium_memzero(v, sizeof(v));
		return rc;
	}
	return OFR_E_PASSPHRASE;
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
