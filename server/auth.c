/*
 * auth.c: who is on the other end. Login by key (a signed challenge),
 * anonymous client accounts with random pseudonyms, one-time invites for
 * counsellors and admins, and the bootstrap invite of the first admin. It
 * asks for nothing but a public key and a signature, and keeps no token in
 * the clear: invites are stored as their hash.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "casework.h"
#include "conn.h"
#include "handlers.h"
#include "intake.h"
#include "log.h"
#include "metrics.h"
#include "proto/cert.h"
#include "proto/err.h"
#include "proto/ocrypto.h"
#include "store.h"

#define BOOTSTRAP_TTL	86400

static const char *const adjectives[] = {
	"quiet", "bright", "calm", "brave", "gentle", "steady", "clear",
	"kind", "swift", "patient", "open", "warm", "honest", "silver",
	"green", "blue", "amber", "early", "late", "northern", "southern",
	"distant", "young", "old", "careful", "hopeful", "free", "new",
	"plain", "simple", "still", "true",
};

static const char *const nouns[] = {
	"heron", "river", "willow", "harbour", "meadow", "sparrow", "birch",
	"lantern", "bridge", "valley", "otter", "falcon", "maple", "island",
	"comet", "pebble", "cedar", "fox", "wren", "orchard", "beacon",
	"compass", "garden", "lake", "path", "summit", "tide", "ember",
	"cloud", "stone", "field", "swan",
};

const char *
auth_role_name(int role)
{
	switch (role) {
	case ROLE_CLIENT:
		return "client";
	case ROLE_COUNSELLOR:
		return "counsellor";
	case ROLE_ADMIN:
		return "admin";
	default:
		return "none";
	}
}

static int
role_from_name(const char *name)
{
	if (strcmp(name, "client") == 0)
		return ROLE_CLIENT;
	if (strcmp(name, "counsellor") == 0)
		return ROLE_COUNSELLOR;
	if (strcmp(name, "admin") == 0)
		return ROLE_ADMIN;
	return ROLE_NONE;
}

json_t *
auth_account_json(const struct account *a)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (frame_set_bin(o, "key", a->key, OFR_PK_BYTES) != 0 ||
	    json_object_set_new(o, "role",
	    json_string(auth_role_name(a->role))) ||
	    json_object_set_new(o, "name", json_string(a->name)) ||
	    json_object_set_new(o, "programme", a->programme ?
	    json_integer(a->programme) : json_null())) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* One random draw (one getrandom call, not three): both lists hold 32
 * words, so 5 bits pick each without bias; the number's bias over 90 is
 * below 1e-7 (a pseudonym is a name to tell clients apart, not a
 * secret). */
static void
pseudonym(char *out, size_t outsz)
{
	uint32_t r[2];

	_Static_assert(sizeof(adjectives) / sizeof(adjectives[0]) == 32 &&
	    sizeof(nouns) / sizeof(nouns[0]) == 32, "32 words a list");
	randombytes_buf(r, sizeof(r));
	snprintf(out, outsz, "%s-%s-%u", adjectives[r[0] & 31],
	    nouns[(r[0] >> 5) & 31], 10 + r[1] % 90);
}

/* Reads key and sig and checks the signature of this session's challenge.
 * A failed signature spends the challenge. */
static int
read_proof(struct session *s, struct frame_in *in, uint8_t key[OFR_PK_BYTES])
{
	uint8_t sig[OFR_SIG_BYTES];
	size_t n;
	int rc;

	if ((rc = frame_bin(in, "key", OFR_PK_BYTES, OFR_PK_BYTES, 1, key,
	    &n)) != 0 ||
	    (rc = frame_bin(in, "sig", OFR_SIG_BYTES, OFR_SIG_BYTES, 1, sig,
	    &n)) != 0)
		return rc;
	if (ocrypto_login_verify(sig, s->srv->pk, s->challenge, key) != 0) {
		s->rechallenge = 1;
		return OFR_E_BAD_SIGNATURE;
	}
	return 0;
}

static int
reply_account(struct session *s, struct frame_in *in, const char *type,
    const struct account *a, int created)
{
	json_t *f = frame_new(type, in->id);
	json_t *acct = auth_account_json(a);
	int rc;

	if (f == NULL || acct == NULL) {
		json_decref(f);
		json_decref(acct);
		return OFR_E_NOMEM;
	}
	json_object_set_new(f, "account", acct);
	if (created >= 0)
		json_object_set_new(f, "created", json_boolean(created));
	if (a->role == ROLE_COUNSELLOR) {
		uint8_t cert[CERT_BYTES];
		int has = 0;

		if ((rc = store_account_cert(s->srv->st, a->id, cert,
		    &has)) != 0) {
			json_decref(f);
			return rc;
		}
		json_object_set_new(f, "certified", json_boolean(has));
	}
	if ((rc = session_login(s, a)) != 0) {
		json_decref(f);
		return rc;
	}
	metrics_login(a->role);
	session_reply(s, f);
	keys_after_login(s, created == 1);
	return 0;
}

int
auth_pow(struct session *s, struct frame_in *in,
    enum ofr_pow_purpose purpose, const uint8_t key[OFR_PK_BYTES])
{
	int64_t pow = -1;
	int bits = intake_bits(s->srv->now) - 1, rc;

	/* what was announced with the nonce, unless the load has risen
	 * by more than a bit since */
	if (bits < s->pow_bits)
		bits = s->pow_bits;
	if (bits <= 0)
		return 0;
	if ((rc = frame_int(in, "pow", 0, OFR_POW_MAX, 0, &pow)) != 0)
		return rc;
	if (pow >= 0 && ofr_pow_check(purpose, s->challenge, key,
	    (uint64_t)pow, bits))
		return 0;
	s->rechallenge = 1;
	/* once: a login refused for its proof again and again, each time
	 * with the time to solve one more, kept a connection that never
	 * paid open for ever */
	if (s->acct.id == 0 && !s->solve_given) {
		s->solve_given = 1;
		s->srv->conn->deadline(s->conn, s->srv->login_timeout +
		    INTAKE_SOLVE_SECS);
	}
	return OFR_E_POW_REQUIRED;
}

int
auth_ping(struct session *s, struct frame_in *in)
{
	session_reply(s, frame_new("ping.ok", in->id));
	return 0;
}

/*
 * A client erases itself: it names no account (it always means its own),
 * so any field beyond the envelope's (but a null, which is absent) is
 * refused before anything changes.
 * The answer is queued, then the connection (and any other of the same
 * account) closes once it is written, after the commit.
 */
int
auth_account_delete(struct session *s, struct frame_in *in)
{
	const char *k;
	json_t *v;
	int rc;

	json_object_foreach(in->root, k, v) {
		if (strcmp(k, "v") != 0 && strcmp(k, "type") != 0 &&
		    strcmp(k, "id") != 0 && !json_is_null(v)) {
			in->bad_field = k;
			return OFR_E_BAD_FIELD;
		}
	}
	if ((rc = casework_client_erase(s->srv, s->acct.id)) != 0)
		return rc;
	log_info("auth: a client erased its account");
	session_reply(s, frame_new("account.delete.ok", in->id));
	session_drop_account(s->acct.id);
	return 0;
}

int
auth_login(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	uint8_t key[OFR_PK_BYTES];
	struct account a;
	const char *role_name;
	int64_t seen = 0;
	int role, rc, created = 0;

	if ((rc = frame_str(in, "role", 16, 1, &role_name)) != 0)
		return rc;
	if ((role = role_from_name(role_name)) == ROLE_NONE) {
		in->bad_field = "role";
		return OFR_E_BAD_FIELD;
	}
	if ((rc = read_proof(s, in, key)) != 0)
		return rc;

	rc = store_account_login(st, key, &a, &seen);
	if (rc == OFR_E_NOT_FOUND) {
		if (role != ROLE_CLIENT)
			return OFR_E_UNKNOWN_KEY;
		/* A new account costs a proof of work; a known one nothing. */
		if ((rc = auth_pow(s, in, OFR_POW_LOGIN, key)) != 0)
			return rc;
		memset(&a, 0, sizeof(a));
		memcpy(a.key, key, OFR_PK_BYTES);
		a.role = ROLE_CLIENT;
		a.created = s->srv->now;
		pseudonym(a.name, sizeof(a.name));
		if ((rc = store_account_create(st, &a)) != 0)
			return rc;
		intake_count(s->srv->now);
		created = 1;
	} else if (rc != 0) {
		return rc;
	} else if (a.role != role) {
		return OFR_E_WRONG_ROLE;
	} else if (a.disabled) {
		return OFR_E_DISABLED;
	} else if (role == ROLE_CLIENT &&
	    (rc = store_account_seen_since(st, a.id, seen, s->srv->now,
	    s->srv->seen_grain)) != 0) {
		return rc;	/* the retention of idle clients counts from it */
	}
	return reply_account(s, in, "login.ok", &a, created);
}

int
auth_redeem(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	uint8_t key[OFR_PK_BYTES], token[OFR_INVITE_BYTES], hash[32];
	const char *invite, *name;
	struct account a;
	int rc, role;

	if ((rc = frame_str(in, "invite", OFR_INVITE_STR_MAX - 1, 1,
	    &invite)) != 0 ||
	    (rc = frame_name(in, "name", 1, &name)) != 0)
		return rc;
	if ((rc = read_proof(s, in, key)) != 0)
		return rc;
	if (ocrypto_invite_decode(token, invite) != 0)
		return OFR_E_BAD_INVITE;
	rc = store_account_by_key(st, key, &a);
	if (rc == 0)
		return OFR_E_FORBIDDEN;
	if (rc != OFR_E_NOT_FOUND)
		return rc;

	crypto_generichash(hash, sizeof(hash), token, sizeof(token), NULL, 0);
	memset(&a, 0, sizeof(a));
	if ((rc = store_invite_take(st, hash, s->srv->now, &a.programme,
	    &role)) != 0)
		return rc;
	memcpy(a.key, key, OFR_PK_BYTES);
	a.role = role;
	a.created = s->srv->now;
	snprintf(a.name, sizeof(a.name), "%s", name);
	/* A counsellor joins the pool, through casework. */
	rc = role == ROLE_COUNSELLOR ? casework_counsellor_create(s->srv, &a) :
	    store_account_create(st, &a);
	if (rc != 0)
		return rc;
	log_info("auth: an invite was redeemed for a new %s",
	    auth_role_name(role));
	return reply_account(s, in, "redeem.ok", &a, -1);
}

/* A fresh admin invite of programme into token_out; commits. */
static int
admin_invite(struct server *srv, int64_t programme, int64_t created_by,
    char *token_out)
{
	uint8_t token[OFR_INVITE_BYTES], hash[32];
	int rc;

	ocrypto_invite_new(token);
	crypto_generichash(hash, sizeof(hash), token, sizeof(token), NULL, 0);
	if ((rc = store_invite_create(srv->st, hash, programme, ROLE_ADMIN,
	    srv->now + BOOTSTRAP_TTL, created_by, srv->now)) != 0 ||
	    (rc = store_commit(srv->st)) != 0) {
		store_rollback(srv->st);
		return rc;
	}
	ocrypto_invite_encode(token_out, token);
	sodium_memzero(token, sizeof(token));
	return 0;
}

int
auth_new_programme(struct server *srv, const char *name, char *token_out)
{
	int64_t programme;
	int rc;

	token_out[0] = '\0';
	if ((rc = store_programme_create(srv->st, name, srv->now,
	    &programme)) != 0) {
		store_rollback(srv->st);
		return rc;
	}
	/* created_by 0: an operator's invite, like the bootstrap one, but
	 * kept when the server restarts (only unused bootstrap invites of a
	 * server with no admin at all are replaced). */
	return admin_invite(srv, programme, 0, token_out);
}

int
auth_bootstrap(struct server *srv, const char *programme_name,
    char *token_out)
{
	int64_t admins, programme;
	int rc;

	token_out[0] = '\0';
	if ((rc = store_admin_count(srv->st, &admins)) != 0)
		return rc;
	if (admins > 0)
		return 0;
	rc = store_programme_first(srv->st, &programme);
	if (rc == OFR_E_NOT_FOUND)
		rc = store_programme_create(srv->st, programme_name, srv->now,
		    &programme);
	if (rc != 0)
		return rc;
	if ((rc = store_invite_drop_bootstrap(srv->st)) != 0) {
		store_rollback(srv->st);
		return rc;
	}
	return admin_invite(srv, programme, 0, token_out);
}
