/*
 * cli.h: what every command of the CLI shares (cli.c): the global
 * options, option parsing, error reports, the key file and passphrase,
 * the connection, and requests; and the table of commands.
 *
 * One return convention, everywhere in the CLI: a function that can fail
 * returns 0 or a negative code of proto/err.h, and hands its results out
 * through pointers. Where it prints its failure (its contract says so),
 * it returns the code it printed, as "offramp: <code>: <detail>" on
 * stderr. Commands return the same way, and main() alone turns a code
 * into the exit status: 0 ok; 2 for OFR_E_USAGE; 3 for OFR_E_TIMEOUT
 * (waiting for something expected); 1 for any other. What cannot fail
 * returns its value: accessors, predicates (1 or 0), look-ups (a pointer,
 * or NULL for none), and constructors of a JSON object (NULL only when
 * out of memory, as jansson's own).
 */
#ifndef OFFRAMP_CLI_CLI_H
#define OFFRAMP_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/envelope.h"

/* The longest message text: the longest padded plaintext (pad.h) less
 * the 22 bytes of a version 2 envelope's header (envelope.h), whose
 * ratchet message still fits OFR_CT_MAX. */
#define CLI_TEXT_MAX	ENVELOPE_TEXT_MAX

struct keyfile;
struct conn;

struct cli {
	/* global options */
	const char *server;
	const char *ca;
	const char *key_path;
	const char *pass_file;
	int timeout_ms;
	const char *programme_key;	/* --programme-key: a trust anchor,
					 * stored when first used */
	const char *trust_file;		/* --trust-file: anchors read each
					 * run, not stored */
	int no_pow;		/* raw --no-pow: never pay a proof of work */

	struct keyfile *key;	/* after cli_load_key: the local store */
	int lock_fd;		/* the store's lock, or -1 */
	int dirty;		/* the store changed since it was saved */
	struct conn *conn;	/* after cli_connect */
	json_t *account;	/* after account_login: "account" of login.ok */
	int created;		/* after account_login: a new account */
	int uncertified;	/* after account_login: a counsellor whose
				 * key its programme has not certified */
	int cases_more;		/* the last case.list left cases out: a
				 * case not in it may be the caller's */
	const char *json_type;	/* --json: the request whose answers are
				 * the command's JSON lines (NULL: the
				 * command writes its own) */

	/* Set by offramp daemon (daemon.c) while it runs a command, else
	 * NULL. serve: called by a long command (chat, recv, inbox) when
	 * conn_wait() says a watched descriptor is ready; runs what waits
	 * for the daemon, and returns 0 to go on or an error code (printed
	 * or not: the caller went away) to stop the command with.
	 * key_guard: called for a --key given after the command's name; 0
	 * when it is the daemon's key file, else an error code (printed). */
	int (*serve)(struct cli *cli);
	int (*key_guard)(struct cli *cli, const char *path);
	void *daemon;
};

/* cli->serve when set, else 0. */
static inline int
cli_serve(struct cli *cli)
{
	return cli->serve != NULL ? cli->serve(cli) : 0;
}

/* A command, given the words after its name: 0 or an error code
 * (printed). */
typedef int cli_cmd(struct cli *cli, int argc, char **argv);

/* The commands, by the file that has them. */
cli_cmd cmd_keygen, cmd_login, cmd_redeem, cmd_invite, cmd_profile;
							/* account.c */
cli_cmd cmd_request, cmd_reassign, cmd_cases, cmd_close, cmd_programmes;
							/* cases.c */
cli_cmd cmd_queue, cmd_take, cmd_pause, cmd_resume, cmd_reopen;
cli_cmd cmd_note, cmd_notes;				/* caseload.c */
cli_cmd cmd_send, cmd_recv, cmd_chat, cmd_history;	/* messages.c */
cli_cmd cmd_inbox;					/* inbox.c */
cli_cmd cmd_meeting, cmd_meetings, cmd_agreement;	/* meetings.c */
cli_cmd cmd_refer_external;				/* referral.c */
cli_cmd cmd_trust, cmd_whoami, cmd_safety, cmd_verify;	/* trust.c */
cli_cmd cmd_programme_key, cmd_certify, cmd_revoke, cmd_partner;
cli_cmd cmd_partnership, cmd_directory, cmd_external;
							/* progkey.c */
cli_cmd cmd_bundle;					/* e2e.c */
cli_cmd cmd_bring, cmd_members, cmd_remove, cmd_waiting, cmd_assign;
							/* cocounsel.c */
cli_cmd cmd_counsellors, cmd_counsellor_update, cmd_disable, cmd_enable;
cli_cmd cmd_stats, cmd_audit, cmd_programme_set;	/* pool.c */
cli_cmd cmd_raw;					/* raw.c */
cli_cmd cmd_counsellor_delete;				/* pool.c */
cli_cmd cmd_admin_disable;				/* pool.c */
cli_cmd cmd_admin_enable;				/* pool.c */
cli_cmd cmd_erase, cmd_forget, cmd_history_keep;		/* erase.c */
cli_cmd cmd_feedback;					/* feedback.c */
cli_cmd cmd_referral;					/* referral.c */

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
 * 0, or OFR_E_USAGE (printed).
 */
int cli_parse(struct cli *cli, int argc, char **argv,
    const struct cli_opt *opts, char **pos, int maxpos, int *npos);

/* Sets the global option name to value when it is one: 0 with *taken 1
 * (it was) or 0 (it is not one), or OFR_E_USAGE (printed) for a bad
 * value. */
int cli_global_opt(struct cli *cli, const char *name, const char *value,
    int *taken);

/* Parses seconds ("2", "0.5") into *ms, milliseconds in 0..86400000.
 * 0 or OFR_E_USAGE (not printed). */
int cli_parse_secs(const char *s, int *ms);
/* Parses a case id (or another id or count, 1..2^53-1) into *id. 0 or
 * OFR_E_USAGE (not printed). */
int cli_parse_id(const char *s, int64_t *id);
/* Splits "a,b,c" into *list, a new JSON array of tokens ("" gives []).
 * 0, or OFR_E_USAGE (printed) when a token is not valid, OFR_E_NOMEM. */
int cli_token_list(const char *s, const char *what, json_t **list);
/* Parses a command's arguments when its one positional argument is a case
 * id, into *id. 0 or OFR_E_USAGE (printed with usage). */
int cli_one_case(struct cli *cli, int argc, char **argv, const char *usage,
    int64_t *id);

/* Milliseconds of the monotonic clock, for deadlines. */
int64_t cli_now_ms(void);

/* --- JSON lines (--json) --- */

/*
 * Starts JSON mode for one command: from now on what the command prints
 * on stdout for people is dropped, and JSON lines go to the real stdout.
 * cli_json_end() ends it. Both are harmless when JSON mode is off.
 */
void cli_json_begin(void);
void cli_json_end(void);
/* 1 while JSON mode is on. */
int cli_json_on(void);
/* Writes v as one JSON line when JSON mode is on; takes v's reference. */
void cli_json(json_t *v);

/* --- errors --- */

/* Prints "offramp: <err_str(err)>: <detail>" and returns err. */
int cli_fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "offramp: usage: <detail> (see offramp --help)" and returns
 * OFR_E_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Says on stderr "(what)" when list is empty, so that an empty answer
 * reads as one (stdout, which scripts read, stays empty). */
void cli_none(const json_t *list, const char *what);
/* Reports a request this side refuses before sending it, as the server
 * would ("offramp: <code>: <type>" and the plain-words line); returns
 * code. */
int cli_refused(int code, const char *type);
/*
 * Reports request type that failed with rc: for a server error frame resp,
 * "offramp: <code>: <type>[: <field>]", returning rc (OFR_E_INTERNAL when
 * it names a local code, which no server sends); else, for OFR_E_TIMEOUT
 * or OFR_E_CONN, the connection's story, returning rc.
 */
int cli_fail_request(struct cli *cli, int rc, json_t *resp,
    const char *type);

/* --- the key file --- */

/* Loads and locks the key file with the passphrase (from
 * --passphrase-file, $OFFRAMP_PASSPHRASE or the terminal). 0 or an error
 * code (printed). */
int cli_load_key(struct cli *cli);
/* Reads the passphrase for a new key file (asked twice on a terminal)
 * into *pass (sodium_malloc'd; free with cli_pass_free) and *len. 0 or an
 * error code (printed). */
int cli_new_passphrase(struct cli *cli, char **pass, size_t *len);
/* Wipes and frees a passphrase; NULL is harmless. */
void cli_pass_free(char *pass);
/* Saves the local store when it changed (cli->dirty). 0 or OFR_E_IO
 * (printed). */
int cli_save(struct cli *cli);
/* Releases the lock on the local store (the store stays loaded). */
void cli_unlock(struct cli *cli);

/* --- the connection and requests --- */

/* Connects to the server (once). 0 or an error code (printed). */
int cli_connect(struct cli *cli);
/* Closes the connection (if any) and forgets the account; the key
 * stays. */
void cli_disconnect(struct cli *cli);
/* Sends req (owned) and waits for its answer: 0 with *resp (caller
 * owns), or the code of the failure, reported with cli_fail_request. */
int cli_request(struct cli *cli, json_t *req, json_t **resp);
/* A new request {"type": type} into *req (caller owns). 0 or OFR_E_NOMEM
 * (printed). */
int cli_new_request(const char *type, json_t **req);
/* Sends {"type": type} (with "case": case_id when case_id > 0) and waits
 * for the answer, as cli_request. */
int cli_ask(struct cli *cli, const char *type, int64_t case_id,
    json_t **resp);

#endif
