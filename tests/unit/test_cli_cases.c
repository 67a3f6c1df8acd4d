/*
 * test_cli_cases.c: the participant lists the CLI seals for and reads
 * from (cases_participants_ok): what PROTOCOL.md allows, and what a
 * compromised server could list to read and write in a case without a
 * certificate, or to slip a key past the changed-key check.
 */
#include <stdarg.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cases.h"
#include "check.h"
#include "keyfile.h"
#include "proto/frame.h"

static uint8_t me[OFR_PK_BYTES], other[OFR_PK_BYTES], third[OFR_PK_BYTES];

/* A participant object: key, role, and as (NULL: none). */
static json_t *
part(const uint8_t key[OFR_PK_BYTES], const char *role, const char *as)
{
	char b64[OFR_B64_LEN(OFR_PK_BYTES)];
	json_t *p;

	b64_encode(b64, sizeof(b64), key, OFR_PK_BYTES);
	p = json_pack("{s:s, s:s, s:s}", "key", b64, "role", role,
	    "name", "x");
	if (as != NULL)
		json_object_set_new(p, "as", json_string(as));
	return p;
}

/* A case of the participants given, NULL-terminated; its reference. */
static json_t *
kase(json_t *first, ...)
{
	json_t *k = json_pack("{s:i, s:[]}", "id", 77, "participants");
	json_t *list = json_object_get(k, "participants");
	va_list ap;

	va_start(ap, first);
	for (json_t *p = first; p != NULL; p = va_arg(ap, json_t *))
		json_array_append_new(list, p);
	va_end(ap);
	return k;
}

/* 1 if the list is allowed for a user of role, the key me. */
static int
ok(json_t *k, int role)
{
	int r = cases_participants_ok(k, me, role);

	json_decref(k);
	return r;
}

int
main(void)
{
	json_t *p;

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(me, sizeof(me));
	randombytes_buf(other, sizeof(other));
	randombytes_buf(third, sizeof(third));

	/* what the protocol gives */
	CHECK(ok(kase(part(me, "client", "client"), part(other, "counsellor",
	    "counsellor"), NULL), KEY_ROLE_CLIENT));
	CHECK(ok(kase(part(me, "client", NULL), NULL), KEY_ROLE_CLIENT));
	CHECK(ok(kase(part(other, "client", "client"), part(me, "counsellor",
	    "counsellor"), part(third, "counsellor", "supervisor"), NULL),
	    KEY_ROLE_COUNSELLOR));
	CHECK(ok(kase(part(me, "client", "client"), part(other, "counsellor",
	    "counsellor"), part(third, "counsellor", "referral"), NULL),
	    KEY_ROLE_CLIENT));

	/* a reader the server adds to a client's case: a second client, one
	 * of no known role, an admin */
	CHECK(!ok(kase(part(me, "client", "client"), part(other, "counsellor",
	    "counsellor"), part(third, "client", "client"), NULL),
	    KEY_ROLE_CLIENT));
	CHECK(!ok(kase(part(me, "client", "client"), part(third, "observer",
	    NULL), NULL), KEY_ROLE_CLIENT));
	CHECK(!ok(kase(part(me, "client", "client"), part(third, "admin",
	    NULL), NULL), KEY_ROLE_CLIENT));
	/* a client's case whose client is not the user */
	CHECK(!ok(kase(part(third, "client", "client"), part(other,
	    "counsellor", "counsellor"), NULL), KEY_ROLE_CLIENT));
	/* a counsellor's case with two clients */
	CHECK(!ok(kase(part(other, "client", "client"), part(third, "client",
	    "client"), part(me, "counsellor", "counsellor"), NULL),
	    KEY_ROLE_COUNSELLOR));

	/* a key past the changed-key check: an unknown "as", a client "as"
	 * a colleague, two of the case's own counsellors, one marked gone */
	CHECK(!ok(kase(part(other, "client", "zzz"), part(me, "counsellor",
	    "counsellor"), NULL), KEY_ROLE_COUNSELLOR));
	CHECK(!ok(kase(part(other, "client", "supervisor"), part(me,
	    "counsellor", "counsellor"), NULL), KEY_ROLE_COUNSELLOR));
	CHECK(!ok(kase(part(me, "client", "client"), part(other, "counsellor",
	    "helper"), NULL), KEY_ROLE_CLIENT));
	CHECK(!ok(kase(part(me, "client", "client"), part(other, "counsellor",
	    "counsellor"), part(third, "counsellor", NULL), NULL),
	    KEY_ROLE_CLIENT));
	p = part(other, "client", "client");
	json_object_set_new(p, "left", json_integer(0));
	CHECK(!ok(kase(p, part(me, "counsellor", "counsellor"), NULL),
	    KEY_ROLE_COUNSELLOR));

	/* a colleague is a counsellor there as the protocol knows */
	p = part(other, "counsellor", "supervisor");
	CHECK(cases_is_colleague(p));
	json_decref(p);
	p = part(other, "client", "supervisor");
	CHECK(!cases_is_colleague(p));
	json_decref(p);
	p = part(other, "counsellor", "helper");
	CHECK(!cases_is_colleague(p));
	json_decref(p);
	return check_done();
}
