/*
 * admin.c: the programme's own tools. Admins invite counsellors and admins
 * into their programme with expiring one-time tokens (only the token's hash
 * is stored); counsellors set their profile. Everything acts within the
 * caller's own programme.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "handlers.h"
#include "log.h"
#include "proto/err.h"
#include "proto/ocrypto.h"
#include "store.h"

#define INVITE_TTL_MIN		60
#define INVITE_TTL_MAX		(7 * 86400)
#define INVITE_TTL_DEFAULT	86400
#define INVITES_PENDING_MAX	1000
#define CAPACITY_MAX		100

int
admin_invite_create(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	uint8_t token[OFR_INVITE_BYTES], hash[32];
	char text[OFR_INVITE_STR_MAX];
	const char *role_name = "counsellor";
	int64_t ttl = INVITE_TTL_DEFAULT, pending;
	json_t *f;
	int rc, role;

	if ((rc = frame_str(in, "role", 16, 0, &role_name)) != 0 ||
	    (rc = frame_int(in, "ttl", INVITE_TTL_MIN, INVITE_TTL_MAX, 0,
	    &ttl)) != 0)
		return rc;
	if (strcmp(role_name, "counsellor") == 0)
		role = ROLE_COUNSELLOR;
	else if (strcmp(role_name, "admin") == 0)
		role = ROLE_ADMIN;
	else {
		in->bad_field = "role";
		return OFR_E_BAD_FIELD;
	}
	if ((rc = store_invite_pending(st, s->acct.programme, s->srv->now,
	    &pending)) != 0)
		return rc;
	if (pending >= INVITES_PENDING_MAX)
		return OFR_E_LIMIT;

	randombytes_buf(token, sizeof(token));
	crypto_generichash(hash, sizeof(hash), token, sizeof(token), NULL, 0);
	if ((rc = store_invite_create(st, hash, s->acct.programme, role,
	    s->srv->now + ttl, s->acct.id, s->srv->now)) != 0)
		return rc;
	ocrypto_invite_encode(text, token);
	sodium_memzero(token, sizeof(token));
	if ((f = frame_new("invite.create.ok", in->id)) == NULL)
		return OFR_E_NOMEM;
	json_object_set_new(f, "invite", json_string(text));
	json_object_set_new(f, "expires", json_integer(s->srv->now + ttl));
	sodium_memzero(text, sizeof(text));
	session_reply(s, f);
	log_info("admin: account %lld invited a %s", (long long)s->acct.id,
	    role_name);
	return 0;
}

/* ",a,b," as a JSON array of strings. */
static json_t *
list_json(const char *joined)
{
	json_t *arr = json_array();
	const char *p = joined;

	while (arr != NULL && *p == ',' && p[1] != '\0') {
		const char *end = strchr(p + 1, ',');

		if (end == NULL)
			break;
		json_array_append_new(arr, json_stringn(p + 1,
		    (size_t)(end - p - 1)));
		p = end;
	}
	return arr;
}

int
admin_profile_set(struct session *s, struct frame_in *in)
{
	struct store *st = s->srv->st;
	struct profile p;
	const char *name = NULL;
	int64_t capacity = -1;
	int available = -1, rc;
	char languages[STORE_LIST_BYTES] = "", topics[STORE_LIST_BYTES] = "";
	json_t *f, *o;

	if ((rc = frame_str(in, "name", OFR_NAME_MAX, 0, &name)) != 0 ||
	    (rc = frame_token_list(in, "languages", 0, languages,
	    sizeof(languages))) != 0 ||
	    (rc = frame_token_list(in, "topics", 0, topics,
	    sizeof(topics))) != 0 ||
	    (rc = frame_int(in, "capacity", 0, CAPACITY_MAX, 0,
	    &capacity)) != 0 ||
	    (rc = frame_bool(in, "available", 0, &available)) != 0)
		return rc;
	if ((rc = store_profile_get(st, s->acct.id, &p)) != 0)
		return rc;
	if (languages[0] != '\0')
		snprintf(p.languages, sizeof(p.languages), "%s", languages);
	if (topics[0] != '\0')
		snprintf(p.topics, sizeof(p.topics), "%s", topics);
	if (capacity >= 0)
		p.capacity = (int)capacity;
	if (available >= 0)
		p.available = available;
	if ((rc = store_profile_set(st, s->acct.id, &p)) != 0)
		return rc;
	if (name != NULL &&
	    (rc = store_account_set_name(st, s->acct.id, name)) != 0)
		return rc;
	/* Room may have opened for a waiting case. */
	if ((rc = cases_match_waiting(s->srv)) < 0)
		return rc;
	if (name != NULL)
		snprintf(s->acct.name, sizeof(s->acct.name), "%s", name);

	if ((f = frame_new("profile.set.ok", in->id)) == NULL ||
	    (o = json_object()) == NULL) {
		json_decref(f);
		return OFR_E_NOMEM;
	}
	json_object_set_new(o, "name", json_string(s->acct.name));
	json_object_set_new(o, "languages", list_json(p.languages));
	json_object_set_new(o, "topics", list_json(p.topics));
	json_object_set_new(o, "capacity", json_integer(p.capacity));
	json_object_set_new(o, "available", json_boolean(p.available));
	json_object_set_new(f, "profile", o);
	session_reply(s, f);
	return 0;
}
