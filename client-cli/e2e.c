/*
 * e2e.c: the CLI's end-to-end sessions: keeping the account's prekeys
 * stocked on the server, and X3DH and the Double Ratchet per peer
 * (proto/x3dh.h, proto/ratchet.h), to seal a message for a participant
 * and to open one. Secrets stay in the local store (keyfile.h); what
 * changes is marked dirty and saved by the caller before it acknowledges
 * anything. It never starts a session with a counsellor before trust.c
 * has checked its certificate, and decides nothing about whom to trust.
 * Also the debugging aid bundle --dump.
 *
 * Sessions per peer: a small list. Both sides may start a session at the
 * same time; each then also answers the other's first message as the
 * responder. Decryption tries the session the message belongs to (the
 * one started by the same X3DH fields, else every session of the peer,
 * most recently successful first); sending uses the most recently
 * successful session, so both sides settle on one.
 *
 * Replayed first messages: every responder session made is remembered by
 * its (spk_id, EKa) in the store (keyfile_seen_*) until that signed
 * prekey's secret is deleted; a first message with a remembered pair
 * whose session is gone is refused, never made into a new session.
 *
 * A message that does not open is sorted (enum e2e_why) so the caller
 * can tell a replay from a session that cannot go on; e2e_reset drops a
 * peer's sessions, so the next message to it starts a new one
 * (CRYPTO.md, "Undecryptable messages"). Skipped keys past their age go
 * before each decryption (ratchet_expire).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "proto/ratchet.h"
#include "proto/x3dh.h"
#include "cases.h"
#include "cli.h"
#include "conn.h"
#include "e2e.h"
#include "keyfile.h"
#include "text.h"
#include "trust.h"

#define OPK_TARGET	30		/* one-time prekeys kept on the server */
#define SPK_MAX_AGE	(7 * 86400)	/* rotate the signed prekey after */

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* --- prekeys --- */

/* A new current signed prekey; the oldest past KS_SPK_KEEP goes, and
 * with it the records of the first messages made to it. */
static void
spk_rotate(struct keyfile *k)
{
	struct ks_state *s = keyfile_state(k);

	if (s->n_spk == KS_SPK_KEEP) {
		sodium_memzero(&s->spk[KS_SPK_KEEP - 1], sizeof(s->spk[0]));
		s->n_spk--;
	}
	memmove(&s->spk[1], &s->spk[0], s->n_spk * sizeof(s->spk[0]));
	s->spk[0].id = ++s->next_spk_id;
	s->spk[0].created = now_s();
	x3dh_keypair(s->spk[0].pk, s->spk[0].sk);
	s->n_spk++;
	(void)keyfile_seen_prune(k);
}

/* A random one-time prekey id (PRIVACY.md: a peer given one learns
 * nothing of how many the account used), never 0 and never one of the
 * ids whose secret is kept (the server refuses an id it holds). */
static uint32_t
opk_new_id(const struct ks_state *s)
{
	for (;;) {
		uint32_t id = randombytes_random();
		size_t i = 0;

		while (i < s->n_opk && s->opk[i].id != id)
			i++;
		if (id != 0 && i == s->n_opk)
			return id;
	}
}

/*
 * Makes n new one-time prekeys (random ids: opk_new_id), puts them with
 * the current signed prekey into a bundle buf (*len), and keeps their
 * secrets in the store (the oldest go past KS_OPK_MAX). 0 or OFR_E_NOMEM.
 */
static int
bundle_make(struct cli *cli, size_t n, uint8_t *buf, size_t cap,
    size_t *len)
{
	struct ks_state *s = keyfile_state(cli->key);
	struct x3dh_bundle *b = sodium_malloc(sizeof(*b));
	int rc = 0;

	*len = 0;
	if (b == NULL)
		return OFR_E_NOMEM;
	memset(b, 0, sizeof(*b));
	if (s->n_spk == 0)
		spk_rotate(cli->key);
	memcpy(b->ik, keyfile_pk(cli->key), OFR_PK_BYTES);
	b->spk_id = s->spk[0].id;
	memcpy(b->spk, s->spk[0].pk, X3DH_KEY_BYTES);
	x3dh_spk_sign(b->spk_sig, keyfile_sk(cli->key), b->spk_id, b->spk);
	for (size_t i = 0; i < n && i < X3DH_OPK_MAX; i++) {
		uint32_t id = opk_new_id(s);	/* not the one evicted next */
		struct ks_opk *o;

		if (s->n_opk == KS_OPK_MAX) {
			memmove(&s->opk[0], &s->opk[1],
			    (KS_OPK_MAX - 1) * sizeof(s->opk[0]));
			s->n_opk--;
		}
		o = &s->opk[s->n_opk++];
		o->id = id;
		x3dh_keypair(b->opk[i].pk, o->sk);
		b->opk[i].id = o->id;
		b->n_opk++;
	}
	if (x3dh_bundle_encode(buf, cap, len, b) != 0) {
		*len = 0;
		rc = OFR_E_NOMEM;
	}
	sodium_free(b);
	cli->dirty = 1;
	return rc;
}

/* Uploads a bundle with n new one-time prekeys, saved first. */
static int
upload(struct cli *cli, size_t n, json_t **resp)
{
	uint8_t *buf = malloc(X3DH_BUNDLE_MAX_BYTES);
	size_t len = 0;
	json_t *f;

	*resp = NULL;
	if (buf == NULL)
		return OFR_E_NOMEM;
	if (bundle_make(cli, n, buf, X3DH_BUNDLE_MAX_BYTES, &len) != 0) {
		free(buf);
		return OFR_E_NOMEM;
	}
	/* the secrets are durable before the server hands out a public key */
	if (keyfile_save(cli->key, cli->key_path) != 0) {
		free(buf);
		return OFR_E_IO;
	}
	cli->dirty = 0;
	if ((f = json_object()) == NULL ||
	    json_object_set_new(f, "type", json_string("prekeys.upload")) ||
	    frame_set_bin(f, "bundle", buf, len)) {
		json_decref(f);
		free(buf);
		return OFR_E_NOMEM;
	}
	free(buf);
	return conn_request(cli->conn, f, resp, cli->timeout_ms);
}

/* How many one-time prekeys a prekeys.low push asks for. */
static size_t
wanted(json_t *push)
{
	json_int_t have = json_integer_value(json_object_get(push,
	    "one_time"));

	if (have < 0)
		have = 0;
	return have >= OPK_TARGET ? 0 : (size_t)(OPK_TARGET - have);
}

int
e2e_after_login(struct cli *cli, json_t **resp, const char **what)
{
	struct ks_state *s = keyfile_state(cli->key);
	json_t *f, *push;
	int rc, rotate;

	*resp = NULL;
	*what = "ping";
	if ((f = json_object()) == NULL)
		return OFR_E_NOMEM;
	json_object_set_new(f, "type", json_string("ping"));
	if ((rc = conn_request(cli->conn, f, resp, cli->timeout_ms)) != 0)
		return rc;
	json_decref(*resp);
	*resp = NULL;
	push = conn_take_kept(cli->conn, "prekeys.low");
	rotate = s->n_spk == 0 || now_s() - s->spk[0].created > SPK_MAX_AGE ||
	    now_s() < s->spk[0].created;
	if (push == NULL && !rotate)
		return 0;
	if (rotate)
		spk_rotate(cli->key);
	*what = "prekeys.upload";
	rc = upload(cli, push != NULL ? wanted(push) : 0, resp);
	json_decref(push);
	if (rc == 0) {
		json_decref(*resp);
		*resp = NULL;
	}
	return rc;
}

int
e2e_replenish(struct cli *cli, json_t *push)
{
	json_t *resp = NULL;
	int rc = upload(cli, wanted(push), &resp);

	if (rc != 0)
		rc = cli_fail_request(cli, rc, resp, "prekeys.upload");
	json_decref(resp);
	return rc;
}

/* --- sessions --- */

static struct ks_session *
session_best(struct ks_state *s, const uint8_t peer[OFR_PK_BYTES])
{
	struct ks_session *best = NULL;

	for (size_t i = 0; i < s->n_sessions; i++)
		if (memcmp(s->sessions[i].peer, peer, OFR_PK_BYTES) == 0 &&
		    (best == NULL || s->sessions[i].used > best->used))
			best = &s->sessions[i];
	return best;
}

static void
session_drop(struct ks_state *s, size_t i)
{
	ratchet_free(s->sessions[i].r);
	s->sessions[i] = s->sessions[--s->n_sessions];
	memset(&s->sessions[s->n_sessions], 0, sizeof(s->sessions[0]));
}

/* Adds session r (taking it) for peer as the most recently successful;
 * the least recently used go past the limits. */
static void
session_add(struct ks_state *s, const uint8_t peer[OFR_PK_BYTES],
    struct ratchet *r)
{
	size_t i, count = 0, victim = 0;
	uint64_t low = UINT64_MAX;

	for (i = 0; i < s->n_sessions; i++) {
		if (memcmp(s->sessions[i].peer, peer, OFR_PK_BYTES) != 0)
			continue;
		count++;
		if (s->sessions[i].used < low) {
			low = s->sessions[i].used;
			victim = i;
		}
	}
	if (count >= KS_SESSIONS_PEER) {
		session_drop(s, victim);
	} else if (s->n_sessions == KS_SESSIONS_MAX) {
		for (i = 0, low = UINT64_MAX; i < s->n_sessions; i++)
			if (s->sessions[i].used < low) {
				low = s->sessions[i].used;
				victim = i;
			}
		session_drop(s, victim);
	}
	memcpy(s->sessions[s->n_sessions].peer, peer, OFR_PK_BYTES);
	s->sessions[s->n_sessions].r = r;
	s->sessions[s->n_sessions].used = ++s->use_counter;
	s->n_sessions++;
}

/* Starts a session with peer over its prekeys (prekeys.get). */
static int
session_start(struct cli *cli, json_t *p, const uint8_t peer[OFR_PK_BYTES],
    int counsellor)
{
	struct ks_state *s = keyfile_state(cli->key);
	uint8_t sk[X3DH_SK_BYTES], ad[X3DH_AD_BYTES];
	uint8_t *buf = NULL;
	struct x3dh_bundle *b = NULL;
	struct x3dh_init init;
	struct ratchet *r = NULL;
	json_t *f, *resp = NULL;
	const char *bs;
	size_t len;
	int rc;

	if ((rc = cli_new_request("prekeys.get", &f)) != 0)
		return rc;
	json_object_set(f, "key", json_object_get(p, "key"));
	if ((rc = cli_request(cli, f, &resp)) != 0)
		return rc;
	if (counsellor && (rc = trust_check_cert(cli,
	    cases_participant_name(p), peer, json_string_value(
	    json_object_get(resp, "cert")), json_object_get(resp,
	    "programme"))) != 0)
		goto out;
	bs = json_string_value(json_object_get(resp, "bundle"));
	if ((buf = malloc(X3DH_BUNDLE_MAX_BYTES)) == NULL ||
	    (b = sodium_malloc(sizeof(*b))) == NULL ||
	    (r = ratchet_new()) == NULL) {
		rc = cli_fail(OFR_E_NOMEM, "prekeys.get");
		goto out;
	}
	if (bs == NULL || b64_decode(buf, X3DH_BUNDLE_MAX_BYTES, &len, bs,
	    strlen(bs)) != 0 || x3dh_bundle_verify(b, buf, len, peer) != 0) {
		fputs("offramp: crypto: the prekey bundle of ", stderr);
		text_puts(stderr, cases_participant_name(p));
		fputs(" does not verify\n", stderr);
		rc = OFR_E_CRYPTO;
		goto out;
	}
	if (x3dh_initiate(sk, ad, &init, keyfile_sk(cli->key), b) != 0 ||
	    ratchet_init_initiator(r, sk, ad, b->spk, &init) != 0) {
		rc = cli_fail(OFR_E_CRYPTO, "cannot start a session");
		goto out;
	}
	session_add(s, peer, r);
	r = NULL;
	cli->dirty = 1;
	rc = 0;
out:
	sodium_memzero(sk, sizeof(sk));
	ratchet_free(r);
	if (b != NULL)
		sodium_free(b);
	free(buf);
	json_decref(resp);
	return rc;
}

int
e2e_seal(struct cli *cli, json_t *p, const uint8_t *pt, size_t len,
    json_t *copies)
{
	struct ks_state *s = keyfile_state(cli->key);
	uint8_t peer[OFR_PK_BYTES], *ct;
	struct ks_session *ss;
	size_t ctlen = 0;
	json_t *copy;
	int rc, counsellor;

	if (cases_participant_key(p, peer) != 0)
		return cli_fail(OFR_E_BAD_FIELD, "a participant without a "
		    "key");
	counsellor = cases_is_counsellor(p);
	if ((ss = session_best(s, peer)) == NULL) {
		if ((rc = session_start(cli, p, peer, counsellor)) != 0)
			return rc;
		ss = session_best(s, peer);
	}
	if ((ct = malloc(RATCHET_MSG_MAX)) == NULL)
		return cli_fail(OFR_E_NOMEM, "encrypt");
	if ((rc = ratchet_encrypt(ss->r, ct, RATCHET_MSG_MAX, &ctlen,
	    pt, len)) != 0) {
		free(ct);
		return cli_fail(rc, "cannot encrypt for the session");
	}
	cli->dirty = 1;
	if ((copy = json_object()) == NULL ||
	    json_object_set(copy, "to", json_object_get(p, "key")) ||
	    frame_set_bin(copy, "ct", ct, ctlen) ||
	    json_array_append_new(copies, copy)) {
		free(ct);
		return cli_fail(OFR_E_NOMEM, "encrypt");
	}
	free(ct);
	return 0;
}

/* Decrypts with r, after its skipped keys past their age are gone; 0
 * with the plaintext in pt. */
static int
try_session(struct cli *cli, struct ratchet *r, const uint8_t *msg,
    size_t msglen, uint8_t *pt, size_t *ptlen)
{
	if (ratchet_expire(r, now_s()) > 0)
		cli->dirty = 1;
	return ratchet_decrypt(r, pt, RATCHET_PT_MAX, ptlen, msg, msglen,
	    now_s());
}

static struct ks_spk *
spk_find(struct ks_state *s, uint32_t id)
{
	for (size_t i = 0; i < s->n_spk; i++)
		if (s->spk[i].id == id)
			return &s->spk[i];
	return NULL;
}

static struct ks_opk *
opk_find(struct ks_state *s, uint32_t id)
{
	for (size_t i = 0; i < s->n_opk; i++)
		if (s->opk[i].id == id)
			return &s->opk[i];
	return NULL;
}

/*
 * A new responder session from the X3DH fields of m; 0 with pt. A first
 * message already answered once (its (spk_id, EKa) remembered) is a
 * replay: OFR_E_CRYPTO with *why E2E_REPLAY, nothing made; prekey secrets
 * that are gone: OFR_E_CRYPTO with *why E2E_NO_SESSION; else what the
 * decryption returned, with *why E2E_CRYPTO or E2E_LIMIT.
 */
static int
respond(struct cli *cli, const struct ratchet_msg *m,
    const uint8_t from[OFR_PK_BYTES], const uint8_t *msg, size_t msglen,
    uint8_t *pt, size_t *ptlen, enum e2e_why *why)
{
	struct ks_state *s = keyfile_state(cli->key);
	uint8_t sk[X3DH_SK_BYTES], ad[X3DH_AD_BYTES];
	struct ks_spk *spk = spk_find(s, m->init.spk_id);
	struct ks_opk *opk = NULL;
	struct ratchet *r;
	int rc = OFR_E_CRYPTO;

	*why = E2E_REPLAY;
	if (keyfile_seen_find(cli->key, m->init.spk_id, m->init.ek) != NULL)
		return OFR_E_CRYPTO;	/* its session is gone: a replay */
	*why = E2E_NO_SESSION;
	if (spk == NULL || (m->init.has_opk &&
	    (opk = opk_find(s, m->init.opk_id)) == NULL))
		return OFR_E_CRYPTO;
	*why = E2E_CRYPTO;
	if ((r = ratchet_new()) == NULL)
		return OFR_E_NOMEM;
	if (x3dh_respond(sk, ad, &m->init, keyfile_sk(cli->key), spk->sk,
	    opk != NULL ? opk->sk : NULL) == 0 &&
	    ratchet_init_responder(r, sk, ad, &m->init, spk->pk,
	    spk->sk) == 0)
		rc = try_session(cli, r, msg, msglen, pt, ptlen);
	sodium_memzero(sk, sizeof(sk));
	/* remembered before the session exists: never one without the other */
	if (rc == 0 && keyfile_seen_add(cli->key, m->init.spk_id, m->init.ek,
	    from) != 0)
		rc = OFR_E_NOMEM;
	if (rc != 0) {
		if (rc == OFR_E_LIMIT)
			*why = E2E_LIMIT;
		sodium_memzero(pt, RATCHET_PT_MAX);
		ratchet_free(r);
		return rc;
	}
	session_add(s, from, r);
	if (opk != NULL) {	/* used once: gone for good */
		size_t i = (size_t)(opk - s->opk);

		sodium_memzero(opk, sizeof(*opk));
		memmove(&s->opk[i], &s->opk[i + 1],
		    (s->n_opk - i - 1) * sizeof(s->opk[0]));
		s->n_opk--;
		sodium_memzero(&s->opk[s->n_opk], sizeof(s->opk[0]));
	}
	return 0;
}

static int
tried_any(const int *tried, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tried[i])
			return 1;
	return 0;
}

/* Why a message that failed in the sessions tried did: a used key in
 * any of them is a replay; else too many skipped, else out of step. */
static enum e2e_why
failed_why(struct ks_state *s, const int *tried, const int *limit,
    const uint8_t *msg, size_t msglen)
{
	enum e2e_why why = E2E_CRYPTO;

	for (size_t i = 0; i < s->n_sessions; i++) {
		if (!tried[i])
			continue;
		if (ratchet_msg_used(s->sessions[i].r, msg, msglen))
			return E2E_REPLAY;
		if (limit[i])
			why = E2E_LIMIT;
	}
	return why;
}

int
e2e_open(struct cli *cli, const uint8_t from[OFR_PK_BYTES],
    const uint8_t *msg, size_t msglen, uint8_t **out, size_t *len,
    enum e2e_why *why)
{
	struct ks_state *s = keyfile_state(cli->key);
	struct ratchet_msg m;
	struct x3dh_init in;
	uint8_t *pt;
	size_t ptlen = 0;
	int rc = OFR_E_CRYPTO, tried[KS_SESSIONS_MAX], limit[KS_SESSIONS_MAX];

	*out = NULL;
	*why = E2E_MALFORMED;
	if (ratchet_msg_parse(&m, msg, msglen) != 0)
		return OFR_E_CRYPTO;
	if (m.has_init && memcmp(m.init.ik, from, OFR_PK_BYTES) != 0)
		return OFR_E_CRYPTO;	/* X3DH fields of another sender */
	if ((pt = sodium_malloc(RATCHET_PT_MAX)) == NULL)
		return OFR_E_NOMEM;
	memset(tried, 0, sizeof(tried));
	memset(limit, 0, sizeof(limit));
	/* the session begun by the same first message, if any */
	for (size_t i = 0; m.has_init && rc != 0 && i < s->n_sessions; i++) {
		struct ks_session *ss = &s->sessions[i];

		if (memcmp(ss->peer, from, OFR_PK_BYTES) != 0)
			continue;
		ratchet_x3dh_init(ss->r, &in);
		if (memcmp(in.ik, from, OFR_PK_BYTES) != 0 ||
		    memcmp(in.ek, m.init.ek, X3DH_KEY_BYTES) != 0)
			continue;
		tried[i] = 1;
		rc = try_session(cli, ss->r, msg, msglen, pt, &ptlen);
		limit[i] = rc == OFR_E_LIMIT;
		if (rc == 0)
			ss->used = ++s->use_counter;
	}
	/* else a first message makes a new session; others try them all,
	 * most recently successful first */
	if (rc != 0 && m.has_init && !tried_any(tried, s->n_sessions)) {
		rc = respond(cli, &m, from, msg, msglen, pt, &ptlen, why);
		if (rc == 0)
			*why = E2E_NEW_SESSION;
	} else if (rc != 0 && !m.has_init) {
		for (;;) {
			struct ks_session *best = NULL;
			size_t bi = 0;

			for (size_t i = 0; i < s->n_sessions; i++)
				if (!tried[i] && memcmp(s->sessions[i].peer,
				    from, OFR_PK_BYTES) == 0 && (best == NULL ||
				    s->sessions[i].used > best->used)) {
					best = &s->sessions[i];
					bi = i;
				}
			if (best == NULL)
				break;
			tried[bi] = 1;
			rc = try_session(cli, best->r, msg, msglen, pt,
			    &ptlen);
			limit[bi] = rc == OFR_E_LIMIT;
			if (rc == 0) {
				best->used = ++s->use_counter;
				break;
			}
		}
	}
	if (rc != 0 && (m.has_init ? tried_any(tried, s->n_sessions) : 1))
		*why = tried_any(tried, s->n_sessions) ? failed_why(s, tried,
		    limit, msg, msglen) : E2E_NO_SESSION;
	if (rc == 0 && (*out = malloc(ptlen + 1)) == NULL)
		rc = OFR_E_NOMEM;
	if (rc != 0) {
		sodium_free(pt);
		return rc == OFR_E_NOMEM ? rc : OFR_E_CRYPTO;
	}
	memcpy(*out, pt, ptlen);
	(*out)[ptlen] = '\0';
	*len = ptlen;
	sodium_free(pt);	/* wipes */
	cli->dirty = 1;
	return 0;
}

void
e2e_reset(struct cli *cli, const uint8_t peer[OFR_PK_BYTES])
{
	struct ks_state *s = keyfile_state(cli->key);

	for (size_t i = s->n_sessions; i-- > 0;)
		if (memcmp(s->sessions[i].peer, peer, OFR_PK_BYTES) == 0) {
			session_drop(s, i);
			cli->dirty = 1;
		}
}

void
e2e_keep_latest(struct cli *cli, const uint8_t peer[OFR_PK_BYTES])
{
	struct ks_state *s = keyfile_state(cli->key);
	struct ks_session *best = session_best(s, peer);
	uint64_t keep;

	if (best == NULL)
		return;
	keep = best->used;
	for (size_t i = s->n_sessions; i-- > 0;)
		if (memcmp(s->sessions[i].peer, peer, OFR_PK_BYTES) == 0 &&
		    s->sessions[i].used != keep) {
			session_drop(s, i);
			cli->dirty = 1;
		}
}

/* --- the bundle command --- */

int
cmd_bundle(struct cli *cli, int argc, char **argv)
{
	struct x3dh_bundle *b;
	uint8_t *buf, sk[X3DH_KEY_BYTES];
	char *b64;
	size_t len = 0;
	int dump = 0, npos, rc;
	const struct cli_opt opts[] = {
		{ "--dump", NULL, &dump },
		{ NULL, NULL, NULL }
	};

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (!dump)
		return cli_usage("bundle --dump");
	if ((rc = cli_load_key(cli)) != 0)
		return rc;
	if ((b = sodium_malloc(sizeof(*b))) == NULL ||
	    (buf = malloc(X3DH_BUNDLE_MAX_BYTES)) == NULL ||
	    (b64 = malloc(OFR_B64_LEN(X3DH_BUNDLE_MAX_BYTES))) == NULL)
		return cli_fail(OFR_E_NOMEM, "bundle");
	memset(b, 0, sizeof(*b));
	/* fresh keys whose secrets are thrown away; ids far above the
	 * store's, so they never meet real ones */
	memcpy(b->ik, keyfile_pk(cli->key), OFR_PK_BYTES);
	b->spk_id = 0xf0000000u | randombytes_uniform(0x0fffffff);
	x3dh_keypair(b->spk, sk);
	x3dh_spk_sign(b->spk_sig, keyfile_sk(cli->key), b->spk_id, b->spk);
	b->n_opk = 3;
	for (size_t i = 0; i < b->n_opk; i++) {
		b->opk[i].id = b->spk_id + (uint32_t)i;
		x3dh_keypair(b->opk[i].pk, sk);
	}
	sodium_memzero(sk, sizeof(sk));
	if (x3dh_bundle_encode(buf, X3DH_BUNDLE_MAX_BYTES, &len, b) == 0) {
		b64_encode(b64, OFR_B64_LEN(X3DH_BUNDLE_MAX_BYTES), buf, len);
		printf("%s\n", b64);
	}
	sodium_free(b);
	free(buf);
	free(b64);
	return len > 0 ? 0 : cli_fail(OFR_E_NOMEM, "bundle");
}
