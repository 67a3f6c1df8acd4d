/*
 * ratchet.c: the Double Ratchet of ratchet.h. Decryption works on a copy of
 * the session's keys and stages new skipped keys past the stored ones; only
 * an authenticated message commits them. Every key copy is wiped. Every
 * message's AEAD nonce is fresh from csprng_buf, never derived from the
 * message key: a session state reloaded from an older copy re-derives the
 * same message keys, and must not re-use a key/nonce pair with them.
 */
#include <string.h>

#include <sodium.h>

#include "proto/bytes.h"
#include "proto/csprng.h"
#include "proto/err.h"
#include "proto/hkdf.h"
#include "proto/pad.h"
#include "proto/ratchet.h"

#define F_HAS_DHR	0x01
#define F_HAS_CKS	0x02
#define F_HAS_CKR	0x04
#define F_SEND_INIT	0x08
#define F_INITIATOR	0x10
#define F_INIT_OPK	0x20
#define F_ALL		0x3f

#define AEAD_KEY_BYTES	crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define AEAD_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define AD_MAX		(X3DH_AD_BYTES + RATCHET_HDR_BYTES + RATCHET_INIT_BYTES)

_Static_assert(AEAD_NONCE_BYTES == RATCHET_NONCE_BYTES, "nonce size");
_Static_assert(AEAD_KEY_BYTES == RATCHET_KEY_BYTES, "key size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == RATCHET_TAG_BYTES,
    "tag size");

/* Everything of a session but its skipped keys: small, copied per message. */
struct core {
	uint8_t		rk[RATCHET_KEY_BYTES];
	uint8_t		cks[RATCHET_KEY_BYTES];
	uint8_t		ckr[RATCHET_KEY_BYTES];
	uint8_t		dhs_sk[X3DH_KEY_BYTES];
	uint8_t		dhs_pk[X3DH_KEY_BYTES];
	uint8_t		dhr[X3DH_KEY_BYTES];
	uint8_t		ad[X3DH_AD_BYTES];
	struct x3dh_init init;
	uint32_t	ns, nr, pn;
	uint32_t	steps;	/* receiving DH ratchet steps made (mod 2^32) */
	uint8_t		flags;
};

struct skipped {
	uint8_t		dh[X3DH_KEY_BYTES];
	uint32_t	n;
	uint32_t	step;	/* c.steps when it was stored */
	int64_t		at;	/* the caller's time when it was stored */
	uint8_t		mk[RATCHET_KEY_BYTES];
};

struct ratchet {
	struct core	c;
	size_t		n_skipped;
	/* [0, n_skipped) stored; past it, keys staged by a decrypt. */
	struct skipped	sk[RATCHET_SKIPPED_MAX];
};

struct ratchet *
ratchet_new(void)
{
	struct ratchet *r;

	if ((r = sodium_malloc(sizeof(*r))) == NULL)
		return NULL;
	sodium_memzero(r, sizeof(*r));
	return r;
}

void
ratchet_free(struct ratchet *r)
{
	if (r != NULL)
		sodium_free(r);	/* sodium_free wipes */
}

/* KDF_RK: (rk, ck) = HKDF(salt rk, ikm DH(dhs_sk, dhr)). */
static int
kdf_rk(uint8_t rk[RATCHET_KEY_BYTES], uint8_t ck[RATCHET_KEY_BYTES],
    const uint8_t dhs_sk[X3DH_KEY_BYTES], const uint8_t dhr[X3DH_KEY_BYTES])
{
	uint8_t dh[32], out[2 * RATCHET_KEY_BYTES];
	int rc = OFR_E_CRYPTO;

	if (crypto_scalarmult(dh, dhs_sk, dhr) == 0 &&
	    hkdf(out, sizeof(out), rk, RATCHET_KEY_BYTES, dh, sizeof(dh),
	    (const uint8_t *)RATCHET_RK_INFO, RATCHET_RK_INFO_BYTES) == 0) {
		memcpy(rk, out, RATCHET_KEY_BYTES);
		memcpy(ck, out + RATCHET_KEY_BYTES, RATCHET_KEY_BYTES);
		rc = 0;
	}
	sodium_memzero(dh, sizeof(dh));
	sodium_memzero(out, sizeof(out));
	return rc;
}

/* KDF_CK: mk = HMAC(ck, 0x01); ck = HMAC(ck, 0x02). */
static void
kdf_ck(uint8_t ck[RATCHET_KEY_BYTES], uint8_t mk[RATCHET_KEY_BYTES])
{
	static const uint8_t one = 0x01, two = 0x02;

	crypto_auth_hmacsha256(mk, &one, 1, ck);
	crypto_auth_hmacsha256(ck, &two, 1, ck);
}

int
ratchet_init_initiator(struct ratchet *r, const uint8_t sk[X3DH_SK_BYTES],
    const uint8_t ad[X3DH_AD_BYTES], const uint8_t their_spk[X3DH_KEY_BYTES],
    const struct x3dh_init *init)
{
	struct core *c = &r->c;

	sodium_memzero(r, sizeof(*r));
	memcpy(c->rk, sk, RATCHET_KEY_BYTES);
	memcpy(c->ad, ad, X3DH_AD_BYTES);
	c->init = *init;
	x3dh_keypair(c->dhs_pk, c->dhs_sk);
	memcpy(c->dhr, their_spk, X3DH_KEY_BYTES);
	if (kdf_rk(c->rk, c->cks, c->dhs_sk, c->dhr) != 0) {
		sodium_memzero(r, sizeof(*r));
		return OFR_E_CRYPTO;
	}
	c->flags = F_HAS_DHR | F_HAS_CKS | F_SEND_INIT | F_INITIATOR;
	return 0;
}

int
ratchet_init_responder(struct ratchet *r, const uint8_t sk[X3DH_SK_BYTES],
    const uint8_t ad[X3DH_AD_BYTES], const struct x3dh_init *init,
    const uint8_t spk_pk[X3DH_KEY_BYTES], const uint8_t spk_sk[X3DH_KEY_BYTES])
{
	uint8_t pk[X3DH_KEY_BYTES];

	crypto_scalarmult_base(pk, spk_sk);
	if (sodium_memcmp(pk, spk_pk, sizeof(pk)) != 0)
		return OFR_E_CRYPTO;
	sodium_memzero(r, sizeof(*r));
	memcpy(r->c.rk, sk, RATCHET_KEY_BYTES);
	memcpy(r->c.ad, ad, X3DH_AD_BYTES);
	r->c.init = *init;
	memcpy(r->c.dhs_pk, spk_pk, X3DH_KEY_BYTES);
	memcpy(r->c.dhs_sk, spk_sk, X3DH_KEY_BYTES);
	return 0;
}

void
ratchet_x3dh_init(const struct ratchet *r, struct x3dh_init *init)
{
	*init = r->c.init;
}

int
ratchet_sends_init(const struct ratchet *r)
{
	return (r->c.flags & F_SEND_INIT) != 0;
}

size_t
ratchet_skipped_count(const struct ratchet *r)
{
	return r->n_skipped;
}

uint32_t
ratchet_steps(const struct ratchet *r)
{
	return r->c.steps;
}

/* The header of the next message of c into out; its length. */
static size_t
header_write(uint8_t *out, const struct core *c)
{
	uint8_t *p = out;

	*p++ = RATCHET_VERSION;
	*p = 0;
	if (c->flags & F_SEND_INIT)
		*p |= RATCHET_FLAG_INIT | (c->init.has_opk ? RATCHET_FLAG_OPK : 0);
	p++;
	memcpy(p, c->dhs_pk, X3DH_KEY_BYTES);
	p += X3DH_KEY_BYTES;
	be32_put(p, c->pn);
	be32_put(p + 4, c->ns);
	p += 8;
	if (c->flags & F_SEND_INIT) {
		memcpy(p, c->init.ik, OFR_PK_BYTES);
		memcpy(p + OFR_PK_BYTES, c->init.ek, X3DH_KEY_BYTES);
		p += OFR_PK_BYTES + X3DH_KEY_BYTES;
		be32_put(p, c->init.spk_id);
		be32_put(p + 4, c->init.has_opk ? c->init.opk_id : 0);
		p += 8;
	}
	return (size_t)(p - out);
}

int
ratchet_msg_parse(struct ratchet_msg *m, const uint8_t *msg, size_t len)
{
	const uint8_t *p = msg;

	memset(m, 0, sizeof(*m));
	if (len < RATCHET_HDR_BYTES || msg[0] != RATCHET_VERSION)
		return OFR_E_BAD_FIELD;
	m->flags = msg[1];
	if ((m->flags & ~(RATCHET_FLAG_INIT | RATCHET_FLAG_OPK)) != 0 ||
	    (m->flags & (RATCHET_FLAG_INIT | RATCHET_FLAG_OPK)) ==
	    RATCHET_FLAG_OPK)
		return OFR_E_BAD_FIELD;
	p += 2;
	memcpy(m->dh, p, X3DH_KEY_BYTES);
	p += X3DH_KEY_BYTES;
	m->pn = be32_get(p);
	m->n = be32_get(p + 4);
	p += 8;
	m->hdr_len = RATCHET_HDR_BYTES;
	if (m->flags & RATCHET_FLAG_INIT) {
		if (len < RATCHET_HDR_BYTES + RATCHET_INIT_BYTES)
			return OFR_E_BAD_FIELD;
		m->has_init = 1;
		memcpy(m->init.ik, p, OFR_PK_BYTES);
		memcpy(m->init.ek, p + OFR_PK_BYTES, X3DH_KEY_BYTES);
		p += OFR_PK_BYTES + X3DH_KEY_BYTES;
		m->init.spk_id = be32_get(p);
		m->init.opk_id = be32_get(p + 4);
		m->init.has_opk = (m->flags & RATCHET_FLAG_OPK) != 0;
		if (!m->init.has_opk && m->init.opk_id != 0)
			return OFR_E_BAD_FIELD;
		p += 8;
		m->hdr_len += RATCHET_INIT_BYTES;
	}
	if (len - m->hdr_len < RATCHET_NONCE_BYTES)
		return OFR_E_BAD_FIELD;
	m->ct = p + RATCHET_NONCE_BYTES;
	m->ct_len = len - m->hdr_len - RATCHET_NONCE_BYTES;
	/* The ciphertext is a padded plaintext plus the tag: at least the
	 * smallest old bucket, at most a long message in all (unpad checks
	 * the exact size). */
	if (m->ct_len < RATCHET_TAG_BYTES ||
	    m->ct_len - RATCHET_TAG_BYTES < PAD_OLD_MIN_BYTES ||
	    len > RATCHET_MSG_MAX)
		return OFR_E_BAD_FIELD;
	return 0;
}

int
ratchet_msg_used(const struct ratchet *r, const uint8_t *msg, size_t len)
{
	struct ratchet_msg m;
	int known = 0;

	if (ratchet_msg_parse(&m, msg, len) != 0)
		return 0;
	for (size_t i = 0; i < r->n_skipped; i++) {
		if (sodium_memcmp(r->sk[i].dh, m.dh, X3DH_KEY_BYTES) != 0)
			continue;
		if (r->sk[i].n == m.n)
			return 0;	/* its key is stored */
		known = 1;
	}
	if ((r->c.flags & F_HAS_CKR) &&
	    sodium_memcmp(r->c.dhr, m.dh, X3DH_KEY_BYTES) == 0)
		return m.n < r->c.nr;	/* the current chain */
	return known;	/* an older chain: its key is not stored */
}

/* The AEAD key of message key mk (the nonce is random and sent). */
static void
message_key(uint8_t key[AEAD_KEY_BYTES], const uint8_t mk[RATCHET_KEY_BYTES])
{
	/* Cannot fail: the length is fixed and in range. */
	(void)hkdf(key, AEAD_KEY_BYTES, NULL, 0, mk, RATCHET_KEY_BYTES,
	    (const uint8_t *)RATCHET_MSG_INFO, RATCHET_MSG_INFO_BYTES);
}

/* The bytes a message adds around its padded plaintext: header, X3DH
 * fields when init, nonce, tag. */
static size_t
overhead(int init)
{
	return init ? RATCHET_OVERHEAD_MAX : RATCHET_OVERHEAD_MIN;
}

size_t
ratchet_encrypt_size(const struct ratchet *r, size_t len)
{
	size_t over = overhead(r->c.flags & F_SEND_INIT), n;

	if ((n = pad_size(len, over)) == 0)
		return 0;
	return over + n;
}

int
ratchet_encrypt(struct ratchet *r, uint8_t *out, size_t cap, size_t *out_len,
    const uint8_t *pt, size_t len)
{
	struct core *c = &r->c;
	uint8_t ad[AD_MAX], mk[RATCHET_KEY_BYTES], key[AEAD_KEY_BYTES];
	uint8_t *nonce, *body;
	unsigned long long clen;
	size_t hlen, plen, need;
	int rc = 0;

	if (len > PAD_PLAINTEXT_MAX)
		return OFR_E_TOO_BIG;
	if (!(c->flags & F_HAS_CKS))
		return OFR_E_USAGE;
	if (c->ns == UINT32_MAX)
		return OFR_E_LIMIT;
	need = ratchet_encrypt_size(r, len);
	if (cap < need)
		return OFR_E_USAGE;
	/* header [|| X3DH fields] || nonce || padded plaintext, sealed in
	 * place. */
	hlen = header_write(out, c);
	nonce = out + hlen;
	body = nonce + RATCHET_NONCE_BYTES;
	if (pad(body, cap - hlen - RATCHET_NONCE_BYTES, &plen, pt, len,
	    hlen + RATCHET_NONCE_BYTES + RATCHET_TAG_BYTES) != 0)
		return OFR_E_USAGE;
	memcpy(ad, c->ad, X3DH_AD_BYTES);
	memcpy(ad + X3DH_AD_BYTES, out, hlen);
	/*
	 * A fresh random nonce per message, drawn only once nothing can
	 * fail, so that the test hook sees one draw per message sent.
	 * Not in the AD: a changed nonce changes the keystream and the
	 * Poly1305 key, so the tag fails anyway.
	 */
	csprng_buf(nonce, RATCHET_NONCE_BYTES);
	kdf_ck(c->cks, mk);
	message_key(key, mk);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(body, &clen, body, plen,
	    ad, X3DH_AD_BYTES + hlen, NULL, nonce, key) != 0)
		rc = OFR_E_CRYPTO;	/* not reached with libsodium */
	c->ns++;
	*out_len = hlen + RATCHET_NONCE_BYTES + (size_t)clen;
	sodium_memzero(mk, sizeof(mk));
	sodium_memzero(key, sizeof(key));
	return rc;
}

/* Stages the receiving chain's keys from c->nr up to until (exclusive). */
static int
skip_keys(struct ratchet *r, struct core *c, size_t *staged, uint32_t until,
    int64_t now)
{
	struct skipped *e;

	if (!(c->flags & F_HAS_CKR) || until <= c->nr)
		return 0;
	if (until - c->nr > RATCHET_MAX_SKIP ||
	    r->n_skipped + *staged + (until - c->nr) > RATCHET_SKIPPED_MAX)
		return OFR_E_LIMIT;
	while (c->nr < until) {
		e = &r->sk[r->n_skipped + *staged];
		memcpy(e->dh, c->dhr, X3DH_KEY_BYTES);
		e->n = c->nr;
		e->step = c->steps;
		e->at = now;
		kdf_ck(c->ckr, e->mk);
		c->nr++;
		(*staged)++;
	}
	return 0;
}

/* Opens m with message key mk into pt; 0 or OFR_E_CRYPTO/OFR_E_USAGE. */
static int
open_msg(uint8_t *pt, size_t cap, size_t *pt_len, const struct ratchet_msg *m,
    const uint8_t *msg, const uint8_t ad_x3dh[X3DH_AD_BYTES],
    const uint8_t mk[RATCHET_KEY_BYTES])
{
	uint8_t ad[AD_MAX], key[AEAD_KEY_BYTES];
	unsigned long long plen;
	size_t n;
	int rc = OFR_E_CRYPTO;

	if (cap < m->ct_len - RATCHET_TAG_BYTES)
		return OFR_E_USAGE;
	memcpy(ad, ad_x3dh, X3DH_AD_BYTES);
	memcpy(ad + X3DH_AD_BYTES, msg, m->hdr_len);
	message_key(key, mk);
	/* The nonce sits between the header and the ciphertext. */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL, m->ct,
	    m->ct_len, ad, X3DH_AD_BYTES + m->hdr_len, msg + m->hdr_len,
	    key) == 0 &&
	    unpad(&n, pt, (size_t)plen, m->hdr_len + RATCHET_NONCE_BYTES +
	    RATCHET_TAG_BYTES) == 0) {
		*pt_len = n;
		rc = 0;
	}
	sodium_memzero(key, sizeof(key));
	if (rc != 0)
		sodium_memzero(pt, m->ct_len - RATCHET_TAG_BYTES);
	return rc;
}

/* Deletes the stored skipped keys for which keep() is 0, in order. */
static size_t
skipped_filter(struct ratchet *r, int (*keep)(const struct skipped *,
    const void *), const void *arg)
{
	size_t i, j, gone;

	for (i = j = 0; i < r->n_skipped; i++) {
		if (!keep(&r->sk[i], arg))
			continue;
		if (i != j)
			r->sk[j] = r->sk[i];
		j++;
	}
	gone = r->n_skipped - j;
	sodium_memzero(&r->sk[j], gone * sizeof(r->sk[0]));
	r->n_skipped = j;
	return gone;
}

/* A key stored fewer than RATCHET_SKIPPED_STEPS DH ratchet steps ago. */
static int
keep_step(const struct skipped *e, const void *arg)
{
	const struct core *c = arg;

	return (uint32_t)(c->steps - e->step) <= RATCHET_SKIPPED_STEPS;
}

/* A key stored less than RATCHET_SKIPPED_TTL seconds before *now. */
static int
keep_time(const struct skipped *e, const void *arg)
{
	int64_t now = *(const int64_t *)arg;

	return e->at > now || now - e->at < RATCHET_SKIPPED_TTL;
}

size_t
ratchet_expire(struct ratchet *r, int64_t now)
{
	/* a key from the future (the clock went back) ages from now on */
	for (size_t i = 0; i < r->n_skipped; i++)
		if (r->sk[i].at > now)
			r->sk[i].at = now;
	return skipped_filter(r, keep_time, &now);
}

int
ratchet_decrypt(struct ratchet *r, uint8_t *pt, size_t cap, size_t *pt_len,
    const uint8_t *msg, size_t len, int64_t now)
{
	struct ratchet_msg m;
	struct core c;
	uint8_t mk[RATCHET_KEY_BYTES];
	size_t staged = 0, i;
	uint32_t m_steps;
	int rc;

	if (ratchet_msg_parse(&m, msg, len) != 0)
		return OFR_E_CRYPTO;
	/* A key skipped earlier: use it once, then delete it. */
	for (i = 0; i < r->n_skipped; i++) {
		if (r->sk[i].n != m.n ||
		    sodium_memcmp(r->sk[i].dh, m.dh, X3DH_KEY_BYTES) != 0)
			continue;
		if ((rc = open_msg(pt, cap, pt_len, &m, msg, r->c.ad,
		    r->sk[i].mk)) != 0)
			return rc;
		memmove(&r->sk[i], &r->sk[i + 1],
		    (r->n_skipped - i - 1) * sizeof(r->sk[0]));
		r->n_skipped--;
		sodium_memzero(&r->sk[r->n_skipped], sizeof(r->sk[0]));
		r->c.flags &= ~F_SEND_INIT;
		return 0;
	}
	if (m.n == UINT32_MAX)
		return OFR_E_CRYPTO;
	c = r->c;
	m_steps = c.steps;
	rc = 0;
	if (!(c.flags & F_HAS_DHR) ||
	    sodium_memcmp(m.dh, c.dhr, X3DH_KEY_BYTES) != 0) {
		/* A new ratchet key from the peer: a DH ratchet step. */
		if ((rc = skip_keys(r, &c, &staged, m.pn, now)) != 0)
			goto out;
		c.pn = c.ns;
		c.ns = 0;
		c.nr = 0;
		memcpy(c.dhr, m.dh, X3DH_KEY_BYTES);
		if (kdf_rk(c.rk, c.ckr, c.dhs_sk, c.dhr) != 0) {
			rc = OFR_E_CRYPTO;
			goto out;
		}
		x3dh_keypair(c.dhs_pk, c.dhs_sk);
		if (kdf_rk(c.rk, c.cks, c.dhs_sk, c.dhr) != 0) {
			rc = OFR_E_CRYPTO;
			goto out;
		}
		c.flags |= F_HAS_DHR | F_HAS_CKR | F_HAS_CKS;
		c.steps++;
	} else if (!(c.flags & F_HAS_CKR) || m.n < c.nr) {
		/*
		 * No receiving chain yet (an initiator before the first
		 * reply): its key would be all zeros, derivable by anyone.
		 * Or a key used already: a replay.
		 */
		rc = OFR_E_CRYPTO;
		goto out;
	}
	if ((rc = skip_keys(r, &c, &staged, m.n, now)) != 0)
		goto out;
	kdf_ck(c.ckr, mk);
	c.nr++;
	if ((rc = open_msg(pt, cap, pt_len, &m, msg, c.ad, mk)) != 0)
		goto out;
	c.flags &= ~F_SEND_INIT;
	r->c = c;
	r->n_skipped += staged;
	staged = 0;
	if (r->c.steps != m_steps)	/* a DH ratchet step: old keys go */
		(void)skipped_filter(r, keep_step, &r->c);
out:
	sodium_memzero(&r->sk[r->n_skipped], staged * sizeof(r->sk[0]));
	sodium_memzero(&c, sizeof(c));
	sodium_memzero(mk, sizeof(mk));
	return rc;
}

size_t
ratchet_state_size(const struct ratchet *r)
{
	return RATCHET_STATE_FIXED_BYTES +
	    r->n_skipped * RATCHET_SKIPPED_ENTRY_BYTES;
}

/* Appends n bytes of src at *p. */
static void
put(uint8_t **p, const void *src, size_t n)
{
	memcpy(*p, src, n);
	*p += n;
}

int
ratchet_state_save(const struct ratchet *r, uint8_t *out, size_t cap,
    size_t *len)
{
	const struct core *c = &r->c;
	uint8_t *p = out, flags;

	if (cap < ratchet_state_size(r))
		return OFR_E_USAGE;
	flags = c->flags & ~F_INIT_OPK;
	if (c->init.has_opk)
		flags |= F_INIT_OPK;
	*p++ = RATCHET_STATE_VERSION;
	*p++ = flags;
	put(&p, c->rk, RATCHET_KEY_BYTES);
	put(&p, c->cks, RATCHET_KEY_BYTES);
	put(&p, c->ckr, RATCHET_KEY_BYTES);
	put(&p, c->dhs_sk, X3DH_KEY_BYTES);
	put(&p, c->dhs_pk, X3DH_KEY_BYTES);
	put(&p, c->dhr, X3DH_KEY_BYTES);
	put(&p, c->ad, X3DH_AD_BYTES);
	put(&p, c->init.ik, OFR_PK_BYTES);
	put(&p, c->init.ek, X3DH_KEY_BYTES);
	be32_put(p, c->init.spk_id);
	be32_put(p + 4, c->init.has_opk ? c->init.opk_id : 0);
	be32_put(p + 8, c->ns);
	be32_put(p + 12, c->nr);
	be32_put(p + 16, c->pn);
	be32_put(p + 20, c->steps);
	be32_put(p + 24, (uint32_t)r->n_skipped);
	p += 28;
	for (size_t i = 0; i < r->n_skipped; i++) {
		put(&p, r->sk[i].dh, X3DH_KEY_BYTES);
		be32_put(p, r->sk[i].n);
		be32_put(p + 4, r->sk[i].step);
		be64_put(p + 8, (uint64_t)r->sk[i].at);
		p += 16;
		put(&p, r->sk[i].mk, RATCHET_KEY_BYTES);
	}
	*len = (size_t)(p - out);
	return 0;
}

/* Copies n bytes at *p into dst. */
static void
get(void *dst, const uint8_t **p, size_t n)
{
	memcpy(dst, *p, n);
	*p += n;
}

int
ratchet_state_load(struct ratchet *r, const uint8_t *buf, size_t len,
    int64_t now)
{
	const uint8_t *p = buf;
	struct core c;
	uint8_t pk[X3DH_KEY_BYTES];
	uint32_t n;
	size_t fixed, entry;
	int rc = OFR_E_BAD_FIELD, v1;

	/* version 1: no step counter, skipped keys without step and time */
	if (len < RATCHET_STATE_V1_FIXED_BYTES || (buf[0] != 1 &&
	    buf[0] != RATCHET_STATE_VERSION))
		return OFR_E_BAD_FIELD;
	v1 = buf[0] == 1;
	fixed = v1 ? RATCHET_STATE_V1_FIXED_BYTES : RATCHET_STATE_FIXED_BYTES;
	entry = v1 ? RATCHET_SKIPPED_V1_ENTRY_BYTES :
	    RATCHET_SKIPPED_ENTRY_BYTES;
	if (len < fixed)
		return OFR_E_BAD_FIELD;
	memset(&c, 0, sizeof(c));
	c.flags = buf[1];
	p += 2;
	get(c.rk, &p, RATCHET_KEY_BYTES);
	get(c.cks, &p, RATCHET_KEY_BYTES);
	get(c.ckr, &p, RATCHET_KEY_BYTES);
	get(c.dhs_sk, &p, X3DH_KEY_BYTES);
	get(c.dhs_pk, &p, X3DH_KEY_BYTES);
	get(c.dhr, &p, X3DH_KEY_BYTES);
	get(c.ad, &p, X3DH_AD_BYTES);
	get(c.init.ik, &p, OFR_PK_BYTES);
	get(c.init.ek, &p, X3DH_KEY_BYTES);
	c.init.spk_id = be32_get(p);
	c.init.opk_id = be32_get(p + 4);
	c.init.has_opk = (c.flags & F_INIT_OPK) != 0;
	c.ns = be32_get(p + 8);
	c.nr = be32_get(p + 12);
	c.pn = be32_get(p + 16);
	p += 20;
	if (!v1) {
		c.steps = be32_get(p);
		p += 4;
	}
	n = be32_get(p);
	p += 4;
	crypto_scalarmult_base(pk, c.dhs_sk);
	if ((c.flags & ~F_ALL) != 0 ||
	    ((c.flags & F_SEND_INIT) && !(c.flags & F_INITIATOR)) ||
	    (!c.init.has_opk && c.init.opk_id != 0) ||
	    ((c.flags & (F_HAS_CKS | F_HAS_CKR)) && !(c.flags & F_HAS_DHR)) ||
	    sodium_memcmp(pk, c.dhs_pk, sizeof(pk)) != 0 ||
	    n > RATCHET_SKIPPED_MAX || len != fixed + n * entry)
		goto out;
	c.flags &= ~F_INIT_OPK;
	r->c = c;
	r->n_skipped = n;
	for (uint32_t i = 0; i < n; i++) {
		get(r->sk[i].dh, &p, X3DH_KEY_BYTES);
		r->sk[i].n = be32_get(p);
		p += 4;
		if (v1) {	/* stored now, at this step */
			r->sk[i].step = c.steps;
			r->sk[i].at = now;
		} else {
			r->sk[i].step = be32_get(p);
			r->sk[i].at = (int64_t)be64_get(p + 4);
			p += 12;
		}
		get(r->sk[i].mk, &p, RATCHET_KEY_BYTES);
	}
	sodium_memzero(&r->sk[n], (RATCHET_SKIPPED_MAX - n) * sizeof(r->sk[0]));
	rc = 0;
out:
	sodium_memzero(&c, sizeof(c));
	return rc;
}
