/*
 * cli.c: what every command shares (cli.h): option parsing, error
 * reports, loading, locking and saving the key file, the connection and
 * requests. It knows no command, no frame type but the ones it is given,
 * and no exit status (main.c has them); it never prints a secret.
 */
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "cli.h"
#include "conn.h"
#include "keyfile.h"
#include "passphrase.h"
#include "text.h"
#include "words.h"

#define LOCK_WAIT_MS	5000	/* for another process to release the store;
				   --timeout when shorter */

/* --- options --- */

int
cli_parse_secs(const char *s, int *ms)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(d >= 0) ||
	    d > 86400)
		return OFR_E_USAGE;
	*ms = (int)(d * 1000 + 0.5);
	return 0;
}

int
cli_parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return OFR_E_USAGE;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > OFR_ID_MAX)
		return OFR_E_USAGE;
	*id = v;
	return 0;
}

int
cli_global_opt(struct cli *cli, const char *name, const char *value,
    int *taken)
{
	int ms, rc;

	*taken = 1;
	if (strcmp(name, "--server") == 0)
		cli->server = value;
	else if (strcmp(name, "--ca") == 0)
		cli->ca = value;
	else if (strcmp(name, "--key") == 0) {
		if (cli->key_guard != NULL &&
		    (rc = cli->key_guard(cli, value)) != 0)
			return rc;
		cli->key_path = value;
	}
	else if (strcmp(name, "--passphrase-file") == 0)
		cli->pass_file = value;
	else if (strcmp(name, "--programme-key") == 0)
		cli->programme_key = value;
	else if (strcmp(name, "--trust-file") == 0)
		cli->trust_file = value;
	else if (strcmp(name, "--timeout") == 0) {
		if (cli_parse_secs(value, &ms) != 0 || ms <= 0)
			return cli_usage("bad --timeout: %s", value);
		cli->timeout_ms = ms;
	} else
		*taken = 0;
	return 0;
}

static int
is_global(const char *name)
{
	static const char *names[] = { "--server", "--ca", "--key",
	    "--passphrase-file", "--timeout", "--programme-key",
	    "--trust-file" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* Splits "--name=value" into name (in buf) and value. */
static const char *
split_eq(const char *arg, char *buf, size_t bufsz, const char **value)
{
	const char *eq = strchr(arg, '=');
	size_t n;

	*value = NULL;
	if (eq == NULL)
		return arg;
	n = (size_t)(eq - arg);
	if (n >= bufsz)
		n = bufsz - 1;
	memcpy(buf, arg, n);
	buf[n] = '\0';
	*value = eq + 1;
	return buf;
}

int
cli_parse(struct cli *cli, int argc, char **argv, const struct cli_opt *opts,
    char **pos, int maxpos, int *npos)
{
	char namebuf[64];
	const char *name, *value;
	const struct cli_opt *o;
	int i, options = 1, taken, rc;

	*npos = 0;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!options || a[0] != '-' || a[1] != '-' || a[2] == '\0') {
			if (options && strcmp(a, "--") == 0) {
				options = 0;
				continue;
			}
			if (*npos >= maxpos)
				return cli_usage("unexpected argument: %s", a);
			pos[(*npos)++] = argv[i];
			continue;
		}
		name = split_eq(a, namebuf, sizeof(namebuf), &value);
		for (o = opts; o != NULL && o->name != NULL; o++)
			if (strcmp(o->name, name) == 0)
				break;
		if (o == NULL || o->name == NULL) {
			if (!is_global(name))
				return cli_usage("unknown option %s", name);
		} else if (o->val == NULL) {
			if (value != NULL)
				return cli_usage("%s takes no value", name);
			*o->flag = 1;
			continue;
		}
		if (value == NULL) {
			if (i + 1 >= argc)
				return cli_usage("%s needs a value", name);
			value = argv[++i];
		}
		if (o == NULL || o->name == NULL) {
			if ((rc = cli_global_opt(cli, name, value,
			    &taken)) != 0)
				return rc;
		} else {
			*o->val = value;
		}
	}
	return 0;
}

/* --- errors --- */

/* --- time --- */

int64_t
cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- JSON lines --- */

static FILE *json_out;		/* the real stdout while JSON mode is on */

void
cli_json_begin(void)
{
	FILE *null;

	if (json_out != NULL || (null = fopen("/dev/null", "w")) == NULL)
		return;
	fflush(stdout);
	json_out = stdout;
	stdout = null;
}

void
cli_json_end(void)
{
	if (json_out == NULL)
		return;
	fclose(stdout);
	stdout = json_out;
	json_out = NULL;
	fflush(stdout);
}

int
cli_json_on(void)
{
	return json_out != NULL;
}

void
cli_json(json_t *v)
{
	if (json_out != NULL && v != NULL &&
	    json_dumpf(v, json_out, JSON_COMPACT | JSON_ENSURE_ASCII) == 0) {
		fputc('\n', json_out);
		fflush(json_out);
	}
	json_decref(v);
}

/* The JSON line of an error: {"error": code, and the other pairs}. */
static void
json_error(const char *code, const char *k1, const char *v1, const char *k2,
    const char *v2)
{
	json_t *e;

	if (json_out == NULL || (e = json_object()) == NULL)
		return;
	json_object_set_new(e, "error", json_string(code));
	if (k1 != NULL && v1 != NULL)
		json_object_set_new(e, k1, json_string(v1));
	if (k2 != NULL && v2 != NULL)
		json_object_set_new(e, k2, json_string(v2));
	cli_json(e);
}

int
cli_fail(int err, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "offramp: %s: %s\n", err_str(err), msg);
	json_error(err_str(err), "message", msg, NULL, NULL);
	return err;
}

int
cli_usage(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "offramp: usage: %s (see offramp --help)\n", msg);
	json_error("usage", "message", msg, NULL, NULL);
	return OFR_E_USAGE;
}

/*
 * Tells a refused request type: "offramp: CODE: TYPE[: FIELD][: DETAIL]"
 * and, under it, the plain-words line; in JSON mode one line
 * {"error", "type", "field", "message"} instead of the detail.
 */
static void
refusal(const char *code, const char *type, const char *field,
    const char *detail)
{
	json_t *e;

	fputs("offramp: ", stderr);
	text_puts(stderr, code);
	fputs(": ", stderr);
	text_puts(stderr, type);
	if (field != NULL) {
		fputs(": ", stderr);
		text_puts(stderr, field);
	}
	if (detail != NULL) {
		fputs(": ", stderr);
		text_puts(stderr, detail);
	}
	fprintf(stderr, "\n  %s\n", words_for(code, type));
	if (json_out == NULL || (e = json_object()) == NULL)
		return;
	json_object_set_new(e, "error", json_string(code));
	json_object_set_new(e, "type", json_string(type));
	if (field != NULL)
		json_object_set_new(e, "field", json_string(field));
	json_object_set_new(e, "message", json_string(words_for(code, type)));
	cli_json(e);
}

void
cli_none(const json_t *list, const char *what)
{
	if (json_array_size(list) == 0)
		fprintf(stderr, "(%s)\n", what);
}

int
cli_refused(int code, const char *type)
{
	refusal(err_str(code), type, NULL, NULL);
	return code;
}

int
cli_fail_request(struct cli *cli, int rc, json_t *resp, const char *type)
{
	const char *code;
	char detail[256];

	if (resp != NULL && rc != 0) {
		code = json_string_value(json_object_get(resp, "code"));
		refusal(code != NULL ? code : "internal", type,
		    json_string_value(json_object_get(resp, "field")), NULL);
		/* a code of this side only, never sent: the server failed */
		return rc <= OFR_E_NOMEM ? OFR_E_INTERNAL : rc;
	}
	if (rc == OFR_E_TIMEOUT) {
		snprintf(detail, sizeof(detail), "no answer within %d ms",
		    cli->timeout_ms);
		refusal(err_str(rc), type, NULL, detail);
		return rc;
	}
	if (rc == OFR_E_CONN) {
		refusal(err_str(rc), type, NULL, conn_error(cli->conn));
		return rc;
	}
	return cli_fail(rc, "%s", type);
}

/* --- session --- */

void
cli_pass_free(char *pass)
{
	passphrase_free(pass);
}

int
cli_new_passphrase(struct cli *cli, char **pass, size_t *len)
{
	char why[256] = "";
	int rc;

	if ((rc = passphrase_get(cli->pass_file, 1, pass, len, why,
	    sizeof(why))) != 0)
		return cli_fail(rc, "%s", why[0] ? why : "no passphrase");
	return 0;
}

int
cli_load_key(struct cli *cli)
{
	char why[256] = "", *pass;
	size_t len;
	int rc;

	if (cli->key != NULL)
		return 0;
	if ((rc = passphrase_get(cli->pass_file, 0, &pass, &len, why,
	    sizeof(why))) != 0)
		return cli_fail(rc, "%s", why[0] ? why : "no passphrase");
	if (access(cli->key_path, F_OK) == 0 &&
	    (rc = keyfile_lock(cli->key_path, cli->timeout_ms < LOCK_WAIT_MS ?
	    cli->timeout_ms : LOCK_WAIT_MS, &cli->lock_fd)) != 0) {
		passphrase_free(pass);
		if (rc == OFR_E_TIMEOUT)
			return cli_fail(OFR_E_IO, "the key file %s is in use "
			    "by another offramp process; try again when it "
			    "is done (offramp daemon lets several commands "
			    "use it at once)", cli->key_path);
		return cli_fail(rc, "cannot lock %s: %s", cli->key_path,
		    strerror(errno));
	}
	rc = keyfile_load(&cli->key, cli->key_path, pass, len);
	passphrase_free(pass);
	if (rc != 0)
		cli_unlock(cli);
	switch (rc) {
	case 0:
		/* history-keep: what is past it goes now, and from the file
		 * at the next save */
		if (keyfile_history_expire(cli->key, (int64_t)time(NULL)) > 0)
			cli->dirty = 1;
		return 0;
	case OFR_E_PASSPHRASE:
		return cli_fail(rc, "wrong passphrase or damaged key file %s",
		    cli->key_path);
	case OFR_E_IO:
		if (errno == ENOENT)
			return cli_fail(rc, "no key file %s (make one with "
			    "offramp keygen)", cli->key_path);
		return cli_fail(rc, "cannot read key file %s: %s",
		    cli->key_path, strerror(errno));
	default:
		return cli_fail(rc, "cannot load key file %s", cli->key_path);
	}
}

int
cli_save(struct cli *cli)
{
	int rc;

	if (cli->key == NULL || !cli->dirty)
		return 0;
	if ((rc = keyfile_save(cli->key, cli->key_path)) == OFR_E_LIMIT)
		return cli_fail(OFR_E_IO, "cannot save %s: it would be larger "
		    "than %d MiB (offramp forget CASE, or history-keep, makes "
		    "room)", cli->key_path, KEYFILE_MAX >> 20);
	if (rc == OFR_E_NOMEM)
		return cli_fail(OFR_E_IO, "cannot save %s: out of memory",
		    cli->key_path);
	if (rc != 0)
		return cli_fail(OFR_E_IO, "cannot save %s: %s", cli->key_path,
		    strerror(errno));
	cli->dirty = 0;
	return 0;
}

void
cli_unlock(struct cli *cli)
{
	keyfile_unlock(cli->lock_fd);
	cli->lock_fd = -1;
}

int
cli_connect(struct cli *cli)
{
	int rc;

	if (cli->conn != NULL)
		return 0;
	rc = conn_open(&cli->conn, cli->server, cli->ca, cli->timeout_ms);
	if (rc == 0)
		return 0;
	if (rc == OFR_E_USAGE && cli->conn == NULL)
		return cli_usage("bad server url %s (wss://host[:port][/path])",
		    cli->server);
	rc = cli_fail(rc, "%s: %s", cli->server, conn_error(cli->conn));
	cli_disconnect(cli);
	return rc;
}

void
cli_disconnect(struct cli *cli)
{
	conn_free(cli->conn);
	cli->conn = NULL;
	json_decref(cli->account);
	cli->account = NULL;
}

int
cli_one_case(struct cli *cli, int argc, char **argv, const char *usage,
    int64_t *id)
{
	char *pos[1] = { NULL };
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1 || cli_parse_id(pos[0], id) != 0)
		return cli_usage("%s", usage);
	return 0;
}

int
cli_new_request(const char *type, json_t **req)
{
	if ((*req = json_object()) == NULL)
		return cli_fail(OFR_E_NOMEM, "%s", type);
	json_object_set_new(*req, "type", json_string(type));
	return 0;
}

int
cli_ask(struct cli *cli, const char *type, int64_t case_id, json_t **resp)
{
	json_t *req;
	int rc;

	*resp = NULL;
	if ((rc = cli_new_request(type, &req)) != 0)
		return rc;
	if (case_id > 0)
		json_object_set_new(req, "case", json_integer(case_id));
	return cli_request(cli, req, resp);
}

int
cli_request(struct cli *cli, json_t *req, json_t **resp)
{
	const char *t = json_string_value(json_object_get(req, "type"));
	char type[OFR_TYPE_MAX + 1];
	int rc;

	snprintf(type, sizeof(type), "%s", t != NULL ? t : "request");
	rc = conn_request(cli->conn, req, resp, cli->timeout_ms);
	if (rc == 0) {
		if (cli->json_type != NULL && strcmp(cli->json_type, type) == 0)
			cli_json(json_incref(*resp));
		return 0;
	}
	rc = cli_fail_request(cli, rc, *resp, type);
	json_decref(*resp);
	*resp = NULL;
	return rc;
}

/* --- tokens --- */

int
cli_token_list(const char *s, const char *what, json_t **list)
{
	json_t *arr = json_array();
	const char *p = s;

	*list = NULL;
	if (arr == NULL)
		return cli_fail(OFR_E_NOMEM, "%s", what);
	while (*s != '\0') {
		char tok[OFR_TOKEN_MAX + 2];
		size_t n = strcspn(p, ",");

		if (n == 0 || n > OFR_TOKEN_MAX) {
			json_decref(arr);
			return cli_usage("bad %s: %s", what, s);
		}
		memcpy(tok, p, n);
		tok[n] = '\0';
		if (!frame_is_token(tok)) {
			json_decref(arr);
			return cli_usage("bad %s %s: lowercase letters, digits "
			    "and '-'", what, tok);
		}
		for (size_t i = 0; i < json_array_size(arr); i++) {
			if (strcmp(json_string_value(json_array_get(arr, i)),
			    tok) == 0) {
				json_decref(arr);
				return cli_usage("%s %s given twice", what,
				    tok);
			}
		}
		if (json_array_append_new(arr, json_string(tok)) != 0 ||
		    json_array_size(arr) > OFR_LIST_MAX) {
			json_decref(arr);
			return cli_usage("too many %s (at most %d)", what,
			    OFR_LIST_MAX);
		}
		p += n;
		if (*p == '\0')
			break;
		p++;
		if (*p == '\0') {
			json_decref(arr);
			return cli_usage("bad %s: %s", what, s);
		}
	}
	*list = arr;
	return 0;
}
