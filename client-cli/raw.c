/*
 * raw.c: the raw command, for protocol debugging and tests of bad input:
 * each line of stdin goes out verbatim as one frame, each frame received is
 * printed as one line of compact JSON. Nothing is checked on the way out;
 * what comes in is printed through text_put() when it is not JSON, and is
 * never decrypted, acknowledged or kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "proto/err.h"
#include "account.h"
#include "cli.h"
#include "conn.h"
#include "text.h"

#define RAW_LINE_MAX	(4 * 1024 * 1024)	/* one line of stdin */
#define RAW_OUT_MAX	(4 * 1024 * 1024)	/* queued, not yet sent */
#define RAW_WAIT_MAX	256	/* --answered: ids waiting for their answer */

/* Prints one frame as one line. */
static void
print_frame(const char *data, size_t len)
{
	json_t *f = json_loadb(data, len, JSON_DECODE_ANY, NULL);
	char *s = f != NULL ? json_dumps(f, JSON_COMPACT | JSON_ENCODE_ANY) :
	    NULL;

	if (s != NULL)
		fputs(s, stdout);
	else
		text_put(stdout, data, len);
	fputc('\n', stdout);
	fflush(stdout);
	free(s);
	json_decref(f);
}

struct raw {
	int binary;
	int answered;		/* --answered */
	int64_t count;		/* 0: none */
	int idle_ms;		/* < 0: not given */
	int no_pow;		/* --no-pow */
	int64_t printed;
	size_t nwait;		/* --answered: ids sent, not yet answered */
	json_int_t wait[RAW_WAIT_MAX];
};

/* A logged-in case.request line without "pow" gets the proof of work the
 * server asks for (unless --no-pow): into *out (caller frees), or NULL
 * to send the line as it is. */
static char *
with_pow(struct cli *cli, const struct raw *r, const char *data, size_t len)
{
	json_t *f;
	const char *t;
	char *out = NULL;

	if (r->no_pow || cli->account == NULL ||
	    conn_pow_bits(cli->conn) <= 0)
		return NULL;
	if ((f = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return NULL;
	t = json_string_value(json_object_get(f, "type"));
	if (json_is_object(f) && t != NULL &&
	    strcmp(t, "case.request") == 0 &&
	    json_object_get(f, "pow") == NULL &&
	    account_pow(cli, OFR_POW_CASE, f) == 0)
		out = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	return out;
}

/* The integer "id" (or "re", by name) of the JSON object in data, into
 * *v: 1, or 0 when there is none. */
static int
int_field(const char *data, size_t len, const char *name, json_int_t *v)
{
	json_t *f = json_loadb(data, len, 0, NULL);
	json_t *x = json_is_object(f) ? json_object_get(f, name) : NULL;
	int found = json_is_integer(x);

	if (found)
		*v = json_integer_value(x);
	json_decref(f);
	return found;
}

/* --answered: a frame sent with an integer id waits for its answer. */
static int
wait_sent(struct raw *r, const char *data, size_t len)
{
	json_int_t id;

	if (!r->answered || !int_field(data, len, "id", &id))
		return 0;
	if (r->nwait == RAW_WAIT_MAX)
		return cli_usage("--answered waits for at most %d answers",
		    RAW_WAIT_MAX);
	r->wait[r->nwait++] = id;
	return 0;
}

/* --answered: a frame received with "re" answers one frame sent. */
static void
wait_answered(struct raw *r, const char *data, size_t len)
{
	json_int_t re;

	if (!r->answered || !int_field(data, len, "re", &re))
		return;
	for (size_t i = 0; i < r->nwait; i++)
		if (r->wait[i] == re) {
			r->wait[i] = r->wait[--r->nwait];
			return;
		}
}

/*
 * The loop: stdin lines out, frames in. Before stdin ends it waits without
 * a deadline; after, for --count frames or, with --answered, for an answer
 * (a frame whose "re" is its id) to every frame sent with an integer id
 * (both bounded by --timeout), or until --idle passes with no frame.
 */
static int
raw_loop(struct cli *cli, struct raw *r)
{
	struct conn_event ev;
	int64_t deadline = 0;
	int eof = 0, rc, flags, wait;
	char *paid = NULL;
	int idle = r->idle_ms >= 0 ? r->idle_ms : 2000;
	int by_count = (r->count > 0 || r->answered) && r->idle_ms < 0;

	for (;;) {
		if (eof && r->count > 0 && r->printed >= r->count)
			return 0;
		if (eof && r->answered && r->nwait == 0)
			return 0;
		flags = !eof && conn_pending_out(cli->conn) < RAW_OUT_MAX ?
		    CONN_WANT_STDIN : 0;
		wait = -1;
		if (eof) {
			wait = (int)(deadline - cli_now_ms());
			wait = wait > 0 ? wait : 0;
		}
		rc = conn_wait(cli->conn, &ev, flags, wait);
		if (rc == OFR_E_CONN) {
			fputs("closed\n", stdout);
			fflush(stdout);
			return 0;
		}
		if (rc == OFR_E_TIMEOUT && !by_count)
			return 0;
		if (rc != 0)
			return r->answered ? cli_fail(rc, "%zu answers "
			    "missing after %d ms", r->nwait, cli->timeout_ms) :
			    cli_fail(rc, "%lld of %lld frames in %d ms",
			    (long long)r->printed, (long long)r->count,
			    cli->timeout_ms);
		switch (ev.kind) {
		case CONN_EV_FRAME:
			print_frame(ev.data, ev.len);
			r->printed++;
			wait_answered(r, ev.data, ev.len);
			if (eof && !by_count)
				deadline = cli_now_ms() + idle;
			break;
		case CONN_EV_LINE:
			if ((rc = wait_sent(r, ev.data, ev.len)) != 0) {
				conn_event_clear(&ev);
				return rc;
			}
			paid = r->binary ? NULL : with_pow(cli, r, ev.data,
			    ev.len);
			rc = paid != NULL ? conn_send_raw(cli->conn, paid,
			    strlen(paid), 0) : conn_send_raw(cli->conn, ev.data,
			    ev.len, r->binary);
			free(paid);
			paid = NULL;
			if (rc != 0) {
				conn_event_clear(&ev);
				if (rc == OFR_E_CONN)
					continue;	/* report "closed" */
				return cli_fail(rc, "cannot send");
			}
			break;
		case CONN_EV_LINE_LONG:
			conn_event_clear(&ev);
			return cli_fail(OFR_E_TOO_BIG, "a line over %d bytes",
			    RAW_LINE_MAX);
		case CONN_EV_EOF:
			eof = 1;
			deadline = cli_now_ms() + (by_count ? cli->timeout_ms :
			    idle);
			break;
		}
		conn_event_clear(&ev);
	}
}

int
cmd_raw(struct cli *cli, int argc, char **argv)
{
	const char *count_s = NULL, *idle_s = NULL;
	int login = 0, binary = 0, answered = 0, no_pow = 0, npos, rc;
	const struct cli_opt opts[] = {
		{ "--login", NULL, &login },
		{ "--no-pow", NULL, &no_pow },
		{ "--binary", NULL, &binary },
		{ "--answered", NULL, &answered },
		{ "--count", &count_s, NULL },
		{ "--idle", &idle_s, NULL },
		{ NULL, NULL, NULL }
	};
	struct raw r;

	memset(&r, 0, sizeof(r));
	r.idle_ms = -1;
	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (count_s != NULL && cli_parse_id(count_s, &r.count) != 0)
		return cli_usage("--count is a number above 0");
	if (idle_s != NULL && cli_parse_secs(idle_s, &r.idle_ms) != 0)
		return cli_usage("--idle is a number of seconds");
	if (answered && count_s != NULL)
		return cli_usage("--answered and --count do not go together");
	r.binary = binary;
	r.answered = answered;
	r.no_pow = no_pow;
	cli->no_pow = no_pow;
	if (login)
		rc = account_login(cli);
	else
		rc = cli_connect(cli);
	if (rc != 0)
		return rc;
	/* the store is done with (the prekeys are up): another command of
	 * this identity may run while this connection stays open */
	if ((rc = cli_save(cli)) != 0)
		return rc;
	cli_unlock(cli);
	conn_set_raw(cli->conn, 1);
	if (!login) {
		const char *ch = conn_challenge_text(cli->conn);

		print_frame(ch, strlen(ch));
	}
	if ((rc = conn_watch_stdin(cli->conn, RAW_LINE_MAX)) != 0)
		return cli_fail(rc, "cannot watch stdin");
	return raw_loop(cli, &r);
}
