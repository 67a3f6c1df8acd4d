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

/* --- end-to-end sessions (e2e.c) --- */

/*
 * What follows a login: a ping as a barrier, so that the prekeys.low push
 * the server sends after login.ok has arrived; when it came, or the signed
 * prekey is due for rotation, new prekeys are made, saved, and uploaded.
 * Returns 0, or an error code with *what the request that failed and
 * *resp (caller owns) its error frame when there is one. Prints nothing.
 */
int e2e_after_login(struct cli *cli, json_t **resp, const char **what);
/* Answers a prekeys.low push received later: uploads more one-time
 * prekeys. 0 or an exit status (printed). */
int e2e_replenish(struct cli *cli, json_t *push);
/*
 * Encrypts text for participant p (an object of a case) with the session
 * for its key, starting one over its prekeys when there is none (after
 * checking a counsellor's certificate), and appends {"to","ct"} to
 * copies. 0 or an exit status (printed).
 */
int e2e_seal(struct cli *cli, json_t *p, const char *text, size_t len,
    json_t *copies);
/*
 * Decrypts a message from key from: with an existing session of that
 * peer, or as the responder of a new one (X3DH fields, the prekey secrets
 * named there; the one-time secret is deleted on success). Returns the
 * text (malloc'd, NUL-terminated; wipe and free) with *len, or NULL when
 * it does not decrypt. Marks the store dirty on success.
 */
char *e2e_open(struct cli *cli, const uint8_t from[OFR_PK_BYTES],
    const uint8_t *msg, size_t msglen, size_t *len);
/* --- cases (cases.c) --- */

/* case.list: 0 with *cases the array of case objects (caller owns), or an
 * exit status (printed). */
int cli_case_list(struct cli *cli, json_t **cases);
/* The case object with id in cases, or NULL; borrowed. */
json_t *cli_case_find(json_t *cases, int64_t id);
/* The name of the participant with key (base64) in case kase, or NULL;
 * borrowed. */
const char *cli_participant_name(json_t *kase, const char *key);
/* The role of a participant object (enum key_role), or -1. */
int cases_participant_role(json_t *p);
/* Decodes the "key" of a participant object; 0 or -1. */
int cases_participant_key(json_t *p, uint8_t key[OFR_PK_BYTES]);
/* The "name" of a participant object, or "?"; borrowed. */
const char *cases_participant_name(json_t *p);

/* --- trust (trust.c) --- */

/* Why a message is refused before it is opened (trust_check_message). */
enum trust_refusal {
	TRUST_OK = 0,		/* none: open it */
	TRUST_STRANGER,		/* the sender is not in the case */
	TRUST_CHANGED,		/* the sender's key changed */
	TRUST_UNCERTIFIED,	/* a counsellor's first message, its key not
				 * certified by the pinned programme key */
};

/*
 * Checks the keys of the other participants of case kase against those
 * the store saw first (recording new ones): prints "warning: the key of
 * NAME in case ID changed" for each that differs. Returns how many did.
 */
int trust_check_case(struct cli *cli, json_t *kase);
/* Forgets the keys recorded for role in case case_id: the user asked for
 * a new counsellor there (reassign), so the next one is first seen, not a
 * changed key. (Its certificate is still checked before any session.) */
void trust_forget_role(struct cli *cli, int64_t case_id, int role);
/*
 * Checks counsellor key's certificate cert_b64 (NULL: none) in programme
 * (a JSON integer) under the pinned programme key, pinning it on first
 * use (programme.get); name names it in the refusal. 0, or an exit status
 * (printed).
 */
int trust_check_cert(struct cli *cli, const char *name,
    const uint8_t key[OFR_PK_BYTES], const char *cert_b64,
    json_t *programme);
/* trust_check_cert of a counsellor participant object (key, cert,
 * programme). 0 or an exit status (printed). */
int trust_check_counsellor(struct cli *cli, json_t *participant);
/* Records the keys of kase's participants (trust_check_case) and checks
 * every counsellor's certificate. 0 or an exit status (printed). */
int trust_check_counsellors(struct cli *cli, json_t *kase);
/* Refuses to send in case kase when a participant's key changed. 0 or an
 * exit status (printed). */
int trust_before_send(struct cli *cli, json_t *kase);
/*
 * The checks before a message ct (ctlen bytes) from key from in case kase
 * (may be NULL) is opened: its sender must be in the case, with the key
 * first seen (or last verified); a counsellor's first message needs a
 * certified key. 0 with *refusal (TRUST_OK: open it), or an exit status
 * (printed) when the certificate could not be checked at all.
 */
int trust_check_message(struct cli *cli, json_t *kase,
    const uint8_t from[OFR_PK_BYTES], const uint8_t *ct, size_t ctlen,
    enum trust_refusal *refusal);

/* --- the account (account.c) --- */

/*
 * Loads the key, connects, and logs in: signs the server's challenge with
 * the identity key and sends login with the key's role hint; keeps the
 * account in cli->account; then the prekey upkeep (e2e_after_login). 0
 * or an exit status (printed).
 */
int account_login(struct cli *cli);

/* The profile options of profile, redeem and counsellor-update, as given
 * (NULL: not given). */
struct cli_profile {
	const char *name, *languages, *topics, *available, *gender;
	const char *age_band, *background, *formats, *region, *presence;
	const char *hours;
	const char *capacity;	/* counsellor-update only */
};

/* The cli_opt entries of struct cli_profile p, but --capacity. */
#define CLI_PROFILE_OPTS(p) \
	{ "--name", &(p).name, NULL }, \
	{ "--languages", &(p).languages, NULL }, \
	{ "--topics", &(p).topics, NULL }, \
	{ "--available", &(p).available, NULL }, \
	{ "--gender", &(p).gender, NULL }, \
	{ "--age-band", &(p).age_band, NULL }, \
	{ "--background", &(p).background, NULL }, \
	{ "--formats", &(p).formats, NULL }, \
	{ "--region", &(p).region, NULL }, \
	{ "--presence", &(p).presence, NULL }, \
	{ "--hours", &(p).hours, NULL }

#define CLI_HOURS_MAX	28	/* ranges of --hours */
#define CLI_CAPACITY_IS_ADMINS "--capacity is set by the programme's " \
	"admin: offramp counsellor-update KEY --capacity N"

/* Checks the options of p and adds them to req as profile fields.
 * 0 or EXIT_USAGE (printed). */
int cli_profile_fields(json_t *req, const struct cli_profile *p);
/* Prints the "profile" of answer resp (and its "key" when there is one)
 * as "field: value" lines; type names the request in errors. */
int cli_print_profile(json_t *resp, const char *type);
/* Adds p's fields to req (owned), logs in, sends it and prints the profile
 * of the answer. 0 or an exit status (printed). */
int cli_send_profile(struct cli *cli, json_t *req,
    const struct cli_profile *p, const char *type);
/* 1 if name is a display name the server takes, else 0. */
int cli_name_ok(const char *name);

/* --- time --- */

/* Writes t (seconds since the epoch) as "2026-01-31T12:00:00Z". */
void cli_put_time(FILE *f, int64_t t);

/* --- text --- */

/* 1 if s[0..len) is valid UTF-8, else 0. */
int text_utf8_ok(const char *s, size_t len);
/* Writes s[0..len) to f with invalid UTF-8 and control characters
 * (C0, DEL, C1, bidi overrides) replaced by '?'; tab, newline and
 * carriage return become spaces. */
void text_put(FILE *f, const char *s, size_t len);
/* text_put of a NUL-terminated string; NULL prints "?". */
void text_puts(FILE *f, const char *s);

/* Joins the strings of a JSON array with sep into f (text_put each). */
void text_put_list(FILE *f, json_t *arr, const char *sep);

/* Splits "a,b,c" into a new JSON array of tokens; "" gives [].
 * Returns NULL (printed) when a token is not valid. */
json_t *cli_token_list(const char *s, const char *what);

#endif
