/*
 * keyfile_state.c: the plaintext of the key file (keyfile_int.h): the
 * role, the identity seed and the records of the state, and the state's
 * bounded lists (history and its expiry, first messages answered). Every record's
 * layout is stated once, in the table records[], which the writer and the
 * parser both walk; the table is the format, so a row never changes
 * within a file version (test_cli_keyfile holds a golden file). Nothing
 * here touches a file or the passphrase: keyfile.c seals and opens.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/bytes.h"
#include "proto/cert.h"
#include "proto/err.h"
#include "proto/ratchet.h"
#include "keyfile.h"
#include "keyfile_int.h"

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
	REC_ANCHOR = 10,
	REC_SERVER = 11,
	REC_ASKED = 12,
	REC_KEEP = 13,
	REC_BIND = 14,
	REC_ITEM = 15,
	REC_SHOWN = 16,
	REC_ANCHOR_ID = 17,
};
#define REC_HDR		(1 + 4)	/* type, length */

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

static void
item_clear(struct ks_item *m)
{
	if (m->body != NULL) {
		sodium_memzero(m->body, m->len);
		free(m->body);
	}
	if (m->name != NULL) {
		sodium_memzero(m->name, strlen(m->name));
		free(m->name);
	}
	memset(m, 0, sizeof(*m));
}

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
	uint8_t since;			/* the first version with it */
	struct field f[FIELDS_MAX + 1];	/* ended by F_END */
};

#define U8(name, max)	{ name, F_UINT, 1, max }
#define U16(name, max)	{ name, F_UINT, 2, max }
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
	{ REC_SEEN, VERSION_3,		/* oldest first */
	    { U32("spk_id"), BYTES("ek", X3DH_KEY_BYTES),
	    BYTES("peer", OFR_PK_BYTES) } },
	{ REC_PROGSK, VERSION_2,
	    { U64("programme"), BYTES("seed", SEED_BYTES) } },
	{ REC_ANCHOR, VERSION_4,	/* its newest revocation list, or
					 * none (0 bytes) */
	    { BYTES("key", OFR_PK_BYTES), U8("how", KS_ANCHOR_RETIRED),
	    NAME("name"), TEXT("revoked") } },
	{ REC_SERVER, VERSION_4,
	    { BYTES("key", OFR_PK_BYTES) } },
	{ REC_ASKED, VERSION_4,		/* oldest first */
	    { U64("case"), U64("programme") } },
	{ REC_KEEP, VERSION_5,		/* only when history-keep is set */
	    { U16("days", KS_KEEP_DAYS_MAX) } },
	{ REC_BIND, VERSION_6,		/* oldest first */
	    { U64("case"), BYTES("peer", OFR_PK_BYTES), U32("seq"),
	    U64("time") } },
	{ REC_ITEM, VERSION_6,		/* oldest first */
	    { U64("case"), U64("ts"), U8("sent", KS_ITEM_NO_SIDE),
	    NAME("name"), TEXT("body") } },
	{ REC_SHOWN, VERSION_7,		/* oldest first */
	    { U64("case"), BYTES("key", OFR_PK_BYTES) } },
	{ REC_ANCHOR_ID, VERSION,	/* an anchor's programme, when known
					 * (after the anchors) */
	    { BYTES("key", OFR_PK_BYTES), U64("programme") } },
};

/* The i-th anchor of s whose programme is known. */
static const struct ks_anchor *
anchor_with_id(const struct ks_state *s, size_t i)
{
	for (size_t k = 0; k < s->n_anchors; k++)
		if (s->anchors[k].programme != 0 && i-- == 0)
			return &s->anchors[k];
	return NULL;
}

/* A field's value on its way between the state and the bytes. */
struct value {
	uint64_t u;			/* F_UINT */
	const uint8_t *p;		/* F_BYTES, F_NAME, F_TEXT; F_RATCHET
					 * when parsed */
	size_t n;			/* F_NAME, F_TEXT, F_RATCHET: bytes */
	const struct ratchet *r;	/* F_RATCHET to write */
	uint8_t tmp[SEED_BYTES];	/* a value made to be written */
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

static int
bind_append(struct ks_state *s, const struct ks_bind *b)
{
	if (s->n_binds == s->cap_binds) {
		size_t ncap = s->cap_binds ? 2 * s->cap_binds : 16;
		struct ks_bind *n;

		if (ncap > KS_BINDS_MAX)
			ncap = KS_BINDS_MAX;
		if (s->n_binds >= ncap)
			return OFR_E_PASSPHRASE;
		if ((n = realloc(s->binds, ncap * sizeof(*n))) == NULL)
			return OFR_E_NOMEM;
		s->binds = n;
		s->cap_binds = ncap;
	}
	s->binds[s->n_binds++] = *b;
	return 0;
}

static int
item_append(struct ks_state *s, int64_t case_id, int64_t ts, int sent,
    const char *name, size_t nlen, const uint8_t *body, size_t len)
{
	struct ks_item *m;

	if (s->n_items == s->cap_items) {
		size_t ncap = s->cap_items ? 2 * s->cap_items : 16;
		struct ks_item *n = realloc(s->items, ncap * sizeof(*n));

		if (n == NULL)
			return OFR_E_NOMEM;
		s->items = n;
		s->cap_items = ncap;
	}
	m = &s->items[s->n_items];
	memset(m, 0, sizeof(*m));
	if (len == 0 || (m->name = malloc(nlen + 1)) == NULL ||
	    (m->body = malloc(len)) == NULL) {
		free(m->name);
		m->name = NULL;
		return len == 0 ? OFR_E_PASSPHRASE : OFR_E_NOMEM;
	}
	memcpy(m->name, name, nlen);
	m->name[nlen] = '\0';
	memcpy(m->body, body, len);
	m->len = len;
	m->case_id = case_id;
	m->ts = ts;
	m->sent = (uint8_t)sent;
	s->n_items++;
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
	case REC_ANCHOR:
		return s->n_anchors;
	case REC_SERVER:
		return s->has_server_key ? 1 : 0;
	case REC_ASKED:
		return s->n_asked;
	case REC_KEEP:
		return s->keep_days != 0 ? 1 : 0;
	case REC_BIND:
		return s->n_binds;
	case REC_ITEM:
		return s->n_items;
	case REC_SHOWN:
		return s->n_shown;
	case REC_ANCHOR_ID: {
		size_t n = 0;

		for (size_t k = 0; k < s->n_anchors; k++)
			n += s->anchors[k].programme != 0;
		return n;
	}
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
	case REC_ANCHOR:
		v[0].p = s->anchors[i].key;
		v[1].u = s->anchors[i].how;
		v[2].p = (const uint8_t *)s->anchors[i].name;
		v[2].n = strlen(s->anchors[i].name);
		v[3].p = s->anchors[i].revoked;
		v[3].n = s->anchors[i].revoked_len;
		break;
	case REC_SERVER:
		v[0].p = s->server_key;
		break;
	case REC_ASKED:
		v[0].u = (uint64_t)s->asked[i].case_id;
		v[1].u = (uint64_t)s->asked[i].programme;
		break;
	case REC_KEEP:
		v[0].u = s->keep_days;
		break;
	case REC_BIND:
		v[0].u = (uint64_t)s->binds[i].case_id;
		v[1].p = s->binds[i].peer;
		v[2].u = s->binds[i].seq;
		v[3].u = (uint64_t)s->binds[i].time;
		break;
	case REC_ITEM:
		v[0].u = (uint64_t)s->items[i].case_id;
		v[1].u = (uint64_t)s->items[i].ts;
		v[2].u = s->items[i].sent;
		v[3].p = (const uint8_t *)s->items[i].name;
		v[3].n = strlen(s->items[i].name);
		v[4].p = s->items[i].body;
		v[4].n = s->items[i].len;
		break;
	case REC_SHOWN:
		v[0].u = (uint64_t)s->shown[i].case_id;
		v[1].p = s->shown[i].key;
		break;
	case REC_ANCHOR_ID: {
		const struct ks_anchor *a = anchor_with_id(s, i);

		v[0].p = a->key;
		v[1].u = (uint64_t)a->programme;
		break;
	}
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
	struct ks_anchor *a;
	struct ks_bind b;
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
		if (ratchet_state_load(ss->r, v[2].p, v[2].n,
		    (int64_t)time(NULL)) != 0) {
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
	case REC_ANCHOR:
		if (s->n_anchors >= KS_ANCHORS_MAX || v[2].n > OFR_NAME_MAX ||
		    v[3].n > REVOCATION_BYTES_MAX)
			return OFR_E_PASSPHRASE;
		a = &s->anchors[s->n_anchors++];
		memcpy(a->key, v[0].p, OFR_PK_BYTES);
		a->how = (uint8_t)v[1].u;
		memcpy(a->name, v[2].p, v[2].n);
		a->name[v[2].n] = '\0';
		memcpy(a->revoked, v[3].p, v[3].n);
		a->revoked_len = v[3].n;
		return 0;
	case REC_SERVER:
		if (s->has_server_key)
			return OFR_E_PASSPHRASE;
		memcpy(s->server_key, v[0].p, OFR_PK_BYTES);
		s->has_server_key = 1;
		return 0;
	case REC_ASKED:
		if (s->n_asked >= KS_ASKED_MAX)
			return OFR_E_PASSPHRASE;
		s->asked[s->n_asked].case_id = (int64_t)v[0].u;
		s->asked[s->n_asked].programme = (int64_t)v[1].u;
		s->n_asked++;
		return 0;
	case REC_KEEP:			/* once, never 0 (not written) */
		if (s->keep_days != 0 || v[0].u == 0)
			return OFR_E_PASSPHRASE;
		s->keep_days = (uint32_t)v[0].u;
		return 0;
	case REC_BIND:
		b.case_id = (int64_t)v[0].u;
		memcpy(b.peer, v[1].p, OFR_PK_BYTES);
		b.seq = (uint32_t)v[2].u;
		b.time = (int64_t)v[3].u;
		return bind_append(s, &b);
	case REC_ITEM:
		return item_append(s, (int64_t)v[0].u, (int64_t)v[1].u,
		    (int)v[2].u, (const char *)v[3].p, v[3].n, v[4].p, v[4].n);
	case REC_SHOWN:
		if (s->n_shown >= KS_SHOWN_MAX)
			return OFR_E_PASSPHRASE;
		s->shown[s->n_shown].case_id = (int64_t)v[0].u;
		memcpy(s->shown[s->n_shown].key, v[1].p, OFR_PK_BYTES);
		s->n_shown++;
		return 0;
	case REC_ANCHOR_ID:
		/* of an anchor read before, not told of before; an id */
		for (size_t k = 0; k < s->n_anchors; k++) {
			a = &s->anchors[k];
			if (memcmp(a->key, v[0].p, OFR_PK_BYTES) != 0)
				continue;
			if (a->programme != 0 || v[1].u == 0 ||
			    v[1].u > INT64_MAX)
				return OFR_E_PASSPHRASE;
			a->programme = (int64_t)v[1].u;
			return 0;
		}
		return OFR_E_PASSPHRASE;
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

int
keyfile_plain_write(const struct keyfile *k, uint8_t *buf, size_t *len)
{
	struct wr w = { buf, 0 };
	struct value v[FIELDS_MAX];
	uint8_t seed[SEED_BYTES];
	size_t r, i;
	int rc = 0;

	w_uint(&w, (uint8_t)k->role, 1);
	crypto_sign_ed25519_sk_to_seed(seed, k->sk);
	w_bytes(&w, seed, sizeof(seed));
	sodium_memzero(seed, sizeof(seed));
	for (r = 0; rc == 0 && r < sizeof(records) / sizeof(records[0]); r++) {
		for (i = 0; rc == 0 && i < count_of(k, records[r].type); i++) {
			memset(v, 0, sizeof(v));
			values_of(k, records[r].type, i, v);
			rc = put_record(&w, &records[r], v);
			sodium_memzero(v, sizeof(v));
		}
	}
	*len = w.len;
	return rc;
}

int
keyfile_asked_for(const struct ks_state *s, int64_t case_id,
    int64_t programme)
{
	int any = 0;

	for (size_t i = 0; i < s->n_asked; i++) {
		if (s->asked[i].case_id != case_id)
			continue;
		/* a mark of a yes used (-programme) says it was asked for
		 * too: its yes may have gone at the cap */
		if (programme > 0 && (s->asked[i].programme == programme ||
		    s->asked[i].programme == -programme))
			return 1;
		any = 1;
	}
	return any ? 0 : -1;
}

/* 1 when ASKED record i is its case's first (where the case began). */
static int
asked_first(const struct ks_state *s, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (s->asked[j].case_id == s->asked[i].case_id)
			return 0;
	return 1;
}

void
keyfile_asked_room(struct ks_state *s)
{
	size_t i, drop = 0;

	if (s->n_asked < KS_ASKED_MAX)
		return;
	/* the oldest record that is not its case's first (where the case
	 * began, which says what its counsellors are checked against): a
	 * yes, or the mark of one used. A yes is older than its mark, so it
	 * goes first; a mark left alone leaves no yes to use, and still
	 * says the programme was asked for (keyfile_asked_for). Where
	 * every record is a case's first, the oldest case's goes. */
	for (i = 0; i < s->n_asked; i++)
		if (!asked_first(s, i)) {
			drop = i;
			break;
		}
	memmove(&s->asked[drop], &s->asked[drop + 1],
	    (s->n_asked - drop - 1) * sizeof(s->asked[0]));
	s->n_asked--;
}

/* A file before VERSION_8 kept no yes a handover used: every yes to a
 * referral in it (each case's ASKED record but its first) is taken as
 * used, so a handover to it is a changed key (a yes still to use is lost:
 * the user confirms the new key), never a server's swap; past
 * KS_ASKED_MAX records go as trust_asked drops them (keyfile_asked_room). */
static void
asked_used(struct ks_state *s)
{
	struct ks_asked add[KS_ASKED_MAX];
	size_t i, n_add = 0;

	for (i = 0; i < s->n_asked; i++) {
		if (asked_first(s, i) || s->asked[i].programme <= 0)
			continue;	/* a case's first, or a mark */
		add[n_add].case_id = s->asked[i].case_id;
		add[n_add++].programme = -s->asked[i].programme;
	}
	for (i = 0; i < n_add; i++) {
		keyfile_asked_room(s);
		s->asked[s->n_asked++] = add[i];
	}
	sodium_memzero(add, sizeof(add));
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

int
keyfile_plain_read(struct keyfile *k, uint8_t version, const uint8_t *plain,
    size_t plen)
{
	size_t off, n;
	int rc = 0;

	if (plen < PLAIN_V1_BYTES || plain[0] > KEY_ROLE_ADMIN)
		return OFR_E_PASSPHRASE;
	k->role = plain[0];
	crypto_sign_seed_keypair(k->pk, k->sk, plain + 1);
	for (off = PLAIN_V1_BYTES; rc == 0 && off < plen; off += n) {
		if (plen - off < REC_HDR)
			return OFR_E_PASSPHRASE;
		n = be32_get(plain + off + 1);
		if (n > plen - off - REC_HDR)
			return OFR_E_PASSPHRASE;
		rc = parse_record(k, version, plain[off], plain + off +
		    REC_HDR, n);
		off += REC_HDR;
	}
	if (rc == 0 && version < VERSION_8)
		asked_used(&k->st);
	return rc;
}

void
keyfile_state_clear(struct ks_state *s)
{
	for (size_t i = 0; i < s->n_sessions; i++)
		ratchet_free(s->sessions[i].r);
	for (size_t i = 0; i < s->n_msgs; i++)
		msg_clear(&s->msgs[i]);
	free(s->msgs);
	for (size_t i = 0; i < s->n_items; i++)
		item_clear(&s->items[i]);
	free(s->items);
	free(s->binds);
	free(s->seen);
	if (s->contacts != NULL) {
		sodium_memzero(s->contacts, s->cap_contacts *
		    sizeof(*s->contacts));
		free(s->contacts);
	}
}

int
keyfile_contact_add(struct keyfile *k, int64_t case_id, int role,
    const uint8_t key[OFR_PK_BYTES])
{
	struct ks_contact c;

	memset(&c, 0, sizeof(c));
	c.case_id = case_id;
	c.role = (uint8_t)role;
	memcpy(c.key, key, OFR_PK_BYTES);
	return contact_append(&k->st, &c);
}

int
keyfile_history_add(struct keyfile *k, int64_t case_id, int64_t ts,
    int sent, const char *name, const char *text, size_t len)
{
	struct ks_state *s = &k->st;
	size_t nlen = strlen(name), count = 0, first = 0, bytes = 0;
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
	/* the oldest of all (the array is in the order they came) */
	for (size_t i = 0; i < s->n_msgs; i++)
		bytes += s->msgs[i].len + strlen(s->msgs[i].name);
	for (first = 0; bytes > KS_HISTORY_BYTES && first + 1 < s->n_msgs;
	    first++) {
		bytes -= s->msgs[first].len + strlen(s->msgs[first].name);
		msg_clear(&s->msgs[first]);
	}
	if (first > 0) {
		memmove(&s->msgs[0], &s->msgs[first],
		    (s->n_msgs - first) * sizeof(*s->msgs));
		s->n_msgs -= first;
	}
	return 0;
}

size_t
keyfile_history_expire(struct keyfile *k, int64_t now)
{
	struct ks_state *s = &k->st;
	int64_t oldest;
	size_t i, j;

	if (s->keep_days == 0)
		return 0;
	oldest = now - (int64_t)s->keep_days * 86400;
	for (i = 0, j = 0; i < s->n_msgs; i++) {
		if (s->msgs[i].ts < oldest) {
			msg_clear(&s->msgs[i]);
			continue;
		}
		s->msgs[j++] = s->msgs[i];
	}
	i = s->n_msgs - j;
	s->n_msgs = j;
	for (j = 0; j < s->n_items;) {
		if (s->items[j].ts >= oldest) {
			j++;
			continue;
		}
		item_clear(&s->items[j]);
		memmove(&s->items[j], &s->items[j + 1],
		    (s->n_items - j - 1) * sizeof(*s->items));
		s->n_items--;
		i++;
	}
	return i;
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


/*
 * 1 when key is met in case_id (other: 0), or in another case than
 * case_id (other: 1), as this file knows the cases' people: a key pinned
 * by role (contacts), a colleague confirmed (shown), or a sender whose
 * place is kept (binds: a former counsellor that wrote, too).
 */
static int
key_in_case(const struct ks_state *s, int64_t case_id, int other,
    const uint8_t key[OFR_PK_BYTES])
{
	size_t i;

	for (i = 0; i < s->n_contacts; i++)
		if ((s->contacts[i].case_id != case_id) == other &&
		    sodium_memcmp(s->contacts[i].key, key, OFR_PK_BYTES) == 0)
			return 1;
	for (i = 0; i < s->n_shown; i++)
		if ((s->shown[i].case_id != case_id) == other &&
		    sodium_memcmp(s->shown[i].key, key, OFR_PK_BYTES) == 0)
			return 1;
	for (i = 0; i < s->n_binds; i++)
		if ((s->binds[i].case_id != case_id) == other &&
		    sodium_memcmp(s->binds[i].peer, key, OFR_PK_BYTES) == 0)
			return 1;
	return 0;
}

void
keyfile_shown_set(struct keyfile *k, int64_t case_id,
    const uint8_t (*keys)[OFR_PK_BYTES], size_t n, int replace)
{
	struct ks_state *s = &k->st;
	size_t i, j;

	for (i = 0, j = 0; i < s->n_shown; i++) {
		int again = 0;

		for (size_t x = 0; x < n; x++)
			again |= sodium_memcmp(s->shown[i].key, keys[x],
			    OFR_PK_BYTES) == 0;
		if (s->shown[i].case_id != case_id || (!replace && !again))
			s->shown[j++] = s->shown[i];
	}
	if (j < s->n_shown)
		sodium_memzero(&s->shown[j], (s->n_shown - j) *
		    sizeof(s->shown[0]));
	s->n_shown = j;
	for (i = 0; i < n; i++) {
		if (s->n_shown == KS_SHOWN_MAX) {
			memmove(&s->shown[0], &s->shown[1],
			    (KS_SHOWN_MAX - 1) * sizeof(s->shown[0]));
			s->n_shown--;
		}
		s->shown[s->n_shown].case_id = case_id;
		memcpy(s->shown[s->n_shown].key, keys[i], OFR_PK_BYTES);
		s->n_shown++;
	}
}

int
keyfile_shown_has(struct keyfile *k, int64_t case_id,
    const uint8_t key[OFR_PK_BYTES])
{
	const struct ks_state *s = &k->st;

	for (size_t i = 0; i < s->n_shown; i++)
		if (s->shown[i].case_id == case_id &&
		    sodium_memcmp(s->shown[i].key, key, OFR_PK_BYTES) == 0)
			return 1;
	return 0;
}

size_t
keyfile_shown_keep(struct keyfile *k, int64_t case_id,
    int (*keep)(const uint8_t key[OFR_PK_BYTES], void *arg), void *arg)
{
	struct ks_state *s = &k->st;
	size_t i, j;

	for (i = 0, j = 0; i < s->n_shown; i++)
		if (s->shown[i].case_id != case_id || keep(s->shown[i].key, arg))
			s->shown[j++] = s->shown[i];
	if (j == s->n_shown)
		return 0;
	sodium_memzero(&s->shown[j], (s->n_shown - j) * sizeof(s->shown[0]));
	i = s->n_shown - j;
	s->n_shown = j;
	return i;
}

void
keyfile_forget_case(struct keyfile *k, int64_t case_id,
    struct ks_forgot *out)
{
	struct ks_state *s = &k->st;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	/* Sessions with the case's people (its participants, colleagues
	 * and former counsellors that wrote) met in no other case. */
	for (i = 0, j = 0; i < s->n_sessions; i++) {
		if (key_in_case(s, case_id, 0, s->sessions[i].peer) &&
		    !key_in_case(s, case_id, 1, s->sessions[i].peer)) {
			ratchet_free(s->sessions[i].r);
			out->sessions++;
			continue;
		}
		s->sessions[j++] = s->sessions[i];
	}
	if (j < s->n_sessions)
		sodium_memzero(&s->sessions[j],
		    (s->n_sessions - j) * sizeof(*s->sessions));
	s->n_sessions = j;
	for (i = 0, j = 0; i < s->n_msgs; i++) {
		if (s->msgs[i].case_id == case_id) {
			msg_clear(&s->msgs[i]);
			out->messages++;
			continue;
		}
		s->msgs[j++] = s->msgs[i];
	}
	s->n_msgs = j;
	for (i = 0, j = 0; i < s->n_contacts; i++) {
		if (s->contacts[i].case_id == case_id) {
			out->contacts++;
			continue;
		}
		s->contacts[j++] = s->contacts[i];
	}
	if (j < s->n_contacts)
		sodium_memzero(&s->contacts[j],
		    (s->n_contacts - j) * sizeof(*s->contacts));
	s->n_contacts = j;
	for (i = 0, j = 0; i < s->n_asked; i++)
		if (s->asked[i].case_id != case_id)
			s->asked[j++] = s->asked[i];
	s->n_asked = j;
	keyfile_shown_set(k, case_id, NULL, 0, 1);
	for (i = 0, j = 0; i < s->n_items; i++) {
		if (s->items[i].case_id == case_id) {
			item_clear(&s->items[i]);
			out->messages++;
			continue;
		}
		s->items[j++] = s->items[i];
	}
	s->n_items = j;
	for (i = 0, j = 0; i < s->n_binds; i++)
		if (s->binds[i].case_id != case_id)
			s->binds[j++] = s->binds[i];
	s->n_binds = j;
}

void
keyfile_bind_get(struct keyfile *k, int64_t case_id,
    const uint8_t peer[OFR_PK_BYTES], uint32_t *seq, int64_t *time)
{
	const struct ks_state *s = &k->st;

	*seq = 0;
	*time = 0;
	for (size_t i = 0; i < s->n_binds; i++)
		if (s->binds[i].case_id == case_id &&
		    memcmp(s->binds[i].peer, peer, OFR_PK_BYTES) == 0) {
			*seq = s->binds[i].seq;
			*time = s->binds[i].time;
			return;
		}
}

int
keyfile_bind_set(struct keyfile *k, int64_t case_id,
    const uint8_t peer[OFR_PK_BYTES], uint32_t seq, int64_t time)
{
	struct ks_state *s = &k->st;
	struct ks_bind b;
	size_t i;

	for (i = 0; i < s->n_binds; i++)
		if (s->binds[i].case_id == case_id &&
		    memcmp(s->binds[i].peer, peer, OFR_PK_BYTES) == 0)
			break;
	/* the newest last: the oldest goes first when full */
	if (i < s->n_binds) {
		memmove(&s->binds[i], &s->binds[i + 1],
		    (s->n_binds - i - 1) * sizeof(*s->binds));
		s->n_binds--;
	} else if (s->n_binds == KS_BINDS_MAX) {
		memmove(&s->binds[0], &s->binds[1],
		    (s->n_binds - 1) * sizeof(*s->binds));
		s->n_binds--;
	}
	memset(&b, 0, sizeof(b));
	b.case_id = case_id;
	memcpy(b.peer, peer, OFR_PK_BYTES);
	b.seq = seq;
	b.time = time;
	return bind_append(s, &b);
}

int
keyfile_item_add(struct keyfile *k, int64_t case_id, int64_t ts, int sent,
    const char *name, const uint8_t *body, size_t len)
{
	struct ks_state *s = &k->st;
	size_t nlen = strlen(name), count = 0, first = 0, bytes = 0;
	int rc;

	if (nlen > 255)
		nlen = 255;
	if ((rc = item_append(s, case_id, ts, sent, name, nlen, body,
	    len)) != 0)
		return rc;
	for (size_t i = s->n_items; i-- > 0;) {
		if (s->items[i].case_id != case_id)
			continue;
		count++;
		first = i;
	}
	if (count > KS_ITEMS_CASE) {
		item_clear(&s->items[first]);
		memmove(&s->items[first], &s->items[first + 1],
		    (s->n_items - first - 1) * sizeof(*s->items));
		s->n_items--;
	}
	/* the oldest of all (the array is in the order they came) */
	for (size_t i = 0; i < s->n_items; i++)
		bytes += s->items[i].len + strlen(s->items[i].name);
	for (first = 0; bytes > KS_ITEMS_BYTES && first + 1 < s->n_items;
	    first++) {
		bytes -= s->items[first].len + strlen(s->items[first].name);
		item_clear(&s->items[first]);
	}
	if (first > 0) {
		memmove(&s->items[0], &s->items[first],
		    (s->n_items - first) * sizeof(*s->items));
		s->n_items -= first;
	}
	return 0;
}
