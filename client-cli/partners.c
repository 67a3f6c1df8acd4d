/*
 * partners.c: the partner directory of a counsellor's or an admin's
 * programme (directory), and the external partners its admin keeps
 * (external add, set, remove). Partnerships themselves are signed with
 * the programme key: progkey.c.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto/bytes.h"
#include "proto/frame.h"
#include "proto/safety.h"
#include "account.h"
#include "cli.h"
#include "text.h"

#define CONTACT_MAX	256

/* Prints " NAME=a,b" for list field name of o ("-" when empty). */
static void
put_list(json_t *o, const char *name)
{
	json_t *l = json_object_get(o, name);

	printf(" %s=", name);
	if (json_array_size(l) == 0)
		fputc('-', stdout);
	text_put_list(stdout, l, ",");
}

/* One line for an external partner object. */
static void
put_external(json_t *e)
{
	printf("external %lld ", (long long)json_integer_value(
	    json_object_get(e, "id")));
	text_puts(stdout, json_string_value(json_object_get(e, "name")));
	put_list(e, "regions");
	put_list(e, "formats");
	put_list(e, "topics");
	fputs(" contact=", stdout);
	text_puts(stdout, json_string_value(json_object_get(e, "contact")));
	fputc('\n', stdout);
}

int
cmd_directory(struct cli *cli, int argc, char **argv)
{
	json_t *req, *resp = NULL, *p;
	uint8_t key[OFR_PK_BYTES];
	char fpr[FPR_STR_BYTES];
	const char *k;
	size_t i, n;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, 0, &npos)) != 0 ||
	    (rc = account_login(cli)) != 0 ||
	    (rc = cli_new_request("partner.directory", &req)) != 0 ||
	    (rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	if (json_array_size(json_object_get(resp, "partners")) == 0 &&
	    json_array_size(json_object_get(resp, "external")) == 0)
		cli_none(json_object_get(resp, "partners"), "no partners");
	json_array_foreach(json_object_get(resp, "partners"), i, p) {
		printf("partner %lld ", (long long)json_integer_value(
		    json_object_get(p, "id")));
		text_puts(stdout, json_string_value(json_object_get(p,
		    "name")));
		put_list(p, "languages");
		put_list(p, "formats");
		put_list(p, "regions");
		put_list(p, "topics");
		k = json_string_value(json_object_get(p, "key"));
		if (k != NULL && b64_decode(key, sizeof(key), &n, k,
		    strlen(k)) == 0 && n == OFR_PK_BYTES) {
			key_fingerprint(fpr, key);
			printf(" fingerprint=%s", fpr);
		}
		fputc('\n', stdout);
	}
	json_array_foreach(json_object_get(resp, "external"), i, p)
		put_external(p);
	if (json_is_true(json_object_get(resp, "more")))
		fputs("offramp: more entries than one answer holds: the "
		    "external partners of the highest ids are not listed\n",
		    stderr);
	json_decref(resp);
	return 0;
}

/* external add NAME / set ID: the fields given, into req. 0 or
 * OFR_E_USAGE (printed). */
static int
external_fields(json_t *req, const char *name, const char *contact,
    const char *const lists[3])
{
	static const char *const fields[3] = { "regions", "formats",
	    "topics" };
	json_t *list;
	int rc;

	if (name != NULL) {
		if (!account_name_ok(name))
			return cli_usage("a name is 1..%d bytes of UTF-8 "
			    "without control characters", OFR_NAME_MAX);
		json_object_set_new(req, "name", json_string(name));
	}
	if (contact != NULL) {
		if (contact[0] == '\0' || strlen(contact) > CONTACT_MAX ||
		    !text_utf8_ok(contact, strlen(contact)))
			return cli_usage("a contact is 1..%d bytes of UTF-8",
			    CONTACT_MAX);
		json_object_set_new(req, "contact", json_string(contact));
	}
	for (int i = 0; i < 3; i++) {
		if (lists[i] == NULL)
			continue;
		if ((rc = cli_token_list(lists[i], fields[i], &list)) != 0)
			return rc;
		json_object_set_new(req, fields[i], list);
	}
	return 0;
}

int
cmd_external(struct cli *cli, int argc, char **argv)
{
	const char *name = NULL, *contact = NULL, *lists[3] = { NULL };
	const struct cli_opt opts[] = {
		{ "--name", &name, NULL },
		{ "--contact", &contact, NULL },
		{ "--regions", &lists[0], NULL },
		{ "--formats", &lists[1], NULL },
		{ "--topics", &lists[2], NULL },
		{ NULL, NULL, NULL }
	};
	const char *usage = "external add NAME --contact C [--regions R] "
	    "[--formats F] [--topics T] | set ID [...] | remove ID";
	json_t *req = NULL, *resp = NULL;
	char *pos[2];
	int64_t id = 0;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 2, &npos)) != 0)
		return rc;
	if (npos != 2 || (strcmp(pos[0], "add") != 0 &&
	    strcmp(pos[0], "set") != 0 && strcmp(pos[0], "remove") != 0))
		return cli_usage("%s", usage);
	if (strcmp(pos[0], "add") == 0) {
		if (name != NULL || contact == NULL)
			return cli_usage("%s", usage);
		name = pos[1];
	} else if (cli_parse_id(pos[1], &id) != 0) {
		return cli_usage("%s: ID is an external partner's id", usage);
	}
	if ((rc = cli_new_request(strcmp(pos[0], "remove") == 0 ?
	    "partner.external.remove" : "partner.external.set", &req)) != 0)
		return rc;
	if (id > 0)
		json_object_set_new(req, "external", json_integer(id));
	if (strcmp(pos[0], "remove") != 0 &&
	    (rc = external_fields(req, name, contact, lists)) != 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = account_login(cli)) != 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = cli_request(cli, req, &resp)) != 0)
		return rc;
	if (strcmp(pos[0], "remove") == 0) {
		printf("removed: %lld\n", (long long)id);
		cli_json(json_pack("{s:I}", "removed", (json_int_t)id));
	} else {
		put_external(json_object_get(resp, "external"));
		cli_json(json_incref(json_object_get(resp, "external")));
	}
	json_decref(resp);
	return 0;
}
