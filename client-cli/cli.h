/*
 * cli.h: what the commands of the CLI share: the global options, the key
 * file and passphrase, the connection and login, option parsing, error
 * reporting with the exit statuses of the CLI, and safe printing of text
 * that came from other people.
 *
 * Exit statuses: 0 ok; 1 error; 2 usage error; 3 timeout waiting for
 * something expected. Errors are printed to stderr as
 * "offramp: <code>: <detail>".
 */
#ifndef OFFRAMP_CLI_CLI_H
#define OFFRAMP_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "proto/ocrypto.h"
#include "proto/pad.h"

#define EXIT_OK		0
#define EXIT_ERR	1
#define EXIT_USAGE	2
#define EXIT_TIMEOUT	3

/* The longest message text: the longest padded plaintext (pad.h), whose
 * ratchet message still fits OFR_CT_MAX. */
#define CLI_TEXT_MAX	PAD_PLAINTEXT_MAX

struct keyfile;
struct conn;

struct cli {
	/* global options */
	const char *server;
	const char *ca;
	const char *key_path;
	const char *pass_file;
	int timeout_ms;
	const char *programme_key;	/* --programme-key: pinned explicitly */

	struct keyfile *key;	/* after cli_load_key: the local store */
	int lock_fd;		/* the store's lock, or -1 */
	int dirty;		/* the store changed since it was saved */
	struct conn *conn;	/* after cli_connect */
	json_t *account;	/* after cli_login: the "account" object */
	int created;		/* after cli_login: the account is new */
};

/* A command: returns an exit status. */
typedef int cli_cmd(struct cli *cli, int argc, char **argv);

cli_cmd cmd_keygen, cmd_login, cmd_redeem, cmd_invite, cmd_profile;
cli_cmd cmd_request, cmd_cases, cmd_close;
cli_cmd cmd_send, cmd_recv, cmd_chat;
cli_cmd cmd_raw;
cli_cmd cmd_programme_key, cmd_certify, cmd_safety, cmd_verify;
cli_cmd cmd_history, cmd_bundle;
cli_cmd cmd_reassign, cmd_programmes;
cli_cmd cmd_queue, cmd_take, cmd_pause, cmd_resume, cmd_reopen;
cli_cmd cmd_note, cmd_notes;
cli_cmd cmd_counsellors, cmd_counsellor_update, cmd_disable, cmd_enable;
cli_cmd cmd_stats, cmd_audit, cmd_programme_set;

/* --- options --- */

/* One option of a command: "--name VALUE" (or --name=VALUE) sets *val;
 * with val NULL it is a flag and sets *flag to 1. */
struct cli_opt {
	const char *name;
	const char **val;
	int *flag;
};

/*
 * Parses argv[0..argc) (the arguments after the command name) against
 * opts (ended by a NULL name) and the global options; the other words go
 * to pos[0..maxpos), their count to *npos. "--" ends the options.
 * Returns 0, or EXIT_USAGE after printing why.
 */
int cli_parse(struct cli *cli, int argc, char **argv,
    const struct cli_opt *opts, char **pos, int maxpos, int *npos);

/* Sets a global option if name is one (consuming *value); returns 1 if
 * it was, 0 if not, -1 (printed) on a bad value. */
int cli_global_opt(struct cli *cli, const char *name, const char *value);

/* Parses seconds ("2", "0.5") into milliseconds in 0..86400000; -1 when
 * bad. */
int cli_parse_secs(const char *s);
/* Parses a case id (1..2^53-1); -1 when bad. */
int64_t cli_parse_id(const char *s);
/* Splits "a,b,c" into a new JSON array of tokens; "" gives [].
 * Returns NULL (printed) when a token is not valid. */
json_t *cli_token_list(const char *s, const char *what);

/* --- errors --- */

/* Prints "offramp: <err_str(err)>: <detail>" and returns the exit status
 * for err (2 for OFR_E_USAGE, 3 for OFR_E_TIMEOUT, else 1). */
int cli_fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "offramp: usage: <detail>" and returns EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Reports a failed request of type type: for a server error frame resp,
 * "offramp: <code>: <type>[: <field>]" (exit 1); for rc OFR_E_TIMEOUT or
 * OFR_E_CONN, the connection's story (exit 3 or 1).
 */
int cli_fail_request(struct cli *cli, int rc, json_t *resp,
    const char *type);

/* --- session --- */

/* Loads the key file with the passphrase (from --passphrase-file,
 * $OFFRAMP_PASSPHRASE or the terminal). 0 or an exit status (printed). */
int cli_load_key(struct cli *cli);
/* Reads the passphrase for a new key file (asked twice on a terminal)
 * into *pass (sodium_malloc'd; free with cli_pass_free). */
int cli_new_passphrase(struct cli *cli, char **pass, size_t *len);
void cli_pass_free(char *pass);
/* Connects to the server. 0 or an exit status (printed). */
int cli_connect(struct cli *cli);
/* Sends req (owned) and waits for its answer; on failure reports it with
 * cli_fail_request. 0 with *resp (caller owns), or an exit status. */
int cli_request(struct cli *cli, json_t *req, json_t **resp);
/* Parses a command's arguments when its one positional argument is a case
 * id: the id, or -1 with *rc the exit status (usage printed). */
int64_t cli_one_case(struct cli *cli, int argc, char **argv,
    const char *usage, int *rc);
/* A new request {"type": type}, or NULL (printed). */
json_t *cli_new_request(const char *type);
/* Sends {"type": type} (with "case": case_id when case_id > 0) and waits
 * for the answer: 0 with *resp (caller owns), or an exit status. */
int cli_ask(struct cli *cli, const char *type, int64_t case_id,
    json_t **resp);
/* Closes the connection (if any); the key stays. */
void cli_disconnect(struct cli *cli);

/* Saves the local store when it changed (cli->dirty). 0 or an exit
 * status (printed). */
int cli_save(struct cli *cli);
/* Releases the lock on the local store (the store stays loaded). */
void cli_unlock(struct cli *cli);

#endif
