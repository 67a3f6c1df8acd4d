/*
 * messages.c: the message commands (send, recv, chat) and history. A
 * message is encrypted once per other participant of its case with the
 * end-to-end session of that peer (e2e.c); the store is saved before it
 * leaves, so a message key is never used twice. Received ones are checked
 * (trust_check_message), decrypted, printed, kept in the history, saved,
 * and only then acknowledged. Text from others is printed through
 * text_put(), never raw.
 *
 * A refused message makes no session and no history entry: one from a
 * participant whose key changed stays on the server until the user runs
 * offramp verify; one from a stranger to the case, an uncertified
 * counsellor's first message, or a replay is acknowledged. A message from
 * a participant that cannot be read is told, drops the sessions with that
 * peer, and is acknowledged once a report to the peer has left in a new
 * session (at most one per peer and run: CRYPTO.md, "Undecryptable
 * messages"); a report received is told on stderr. recv and chat warn of changed keys and tell of case
 * pushes on stderr. history prints what the store kept, offline. The
 * inbox (inbox.c) opens, seals and acknowledges through messages.h, the
 * same way, and prints its own lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/envelope.h"
#include "proto/err.h"
#include "proto/frame.h"
#include "proto/ocrypto.h"
#include "proto/ratchet.h"
#include "account.h"
#include "cases.h"
#include "cli.h"
#include "conn.h"
#include "e2e.h"
#include "keyfile.h"
#include "meetings.h"
#include "messages.h"
#include "text.h"
#include "trust.h"

#define SEND_RETRIES	3
#define CHAT_WINDOW	32	/* msg.send in flight at once */


/*
 * The peers whose sessions this run (one recv or chat process) dropped
 * because a message of theirs could not be read, and the report each is
 * owed (CRYPTO.md, "Undecryptable messages"). At most one reset and one
 * report per peer per run: a server that forges or damages messages
 * cannot make the sessions start over and over.
 */
#define RESETS_MAX	64
struct reset {
	uint8_t peer[OFR_PK_BYTES];
	int64_t case_id;	/* where the report goes */
	uint32_t count;		/* unreadable messages before it left */
	uint8_t reason;		/* the first one's: enum envelope_reason */
	int sent;		/* the report left (or could not): no more */
};
static struct reset resets[RESETS_MAX];
static size_t n_resets;

/*
 * The codes recv and chat end with after a failure told on stderr when it
 * happened: a message whose sender could not be checked (MSG_FAIL), and
 * in chat a line not sent or a request refused. Plain errors, whatever
 * kept the check or the line from going through.
 */
#define E_UNCHECKED	OFR_E_CRYPTO
#define E_NOT_SENT	OFR_E_CONN

/* What is printed instead of a refused message's text. */
static const char REFUSED_CHANGED[] =
    "[refused: key changed, run offramp verify]";
static const char REFUSED_CERT[] =
    "[refused: key not certified by a programme you trust]";
static const char REFUSED_REPLAY[] = "[refused: replayed first message]";
static const char REFUSED_STRANGER[] =
    "[refused: the sender is not in the case]";
static const char REFUSED_USED[] = "[refused: replayed or repeated message]";
static const char UNREADABLE[] = "[could not be read]";
static const char MALFORMED[] = "[cannot decrypt: malformed]";
static const char BAD_ENVELOPE[] = "[unreadable: unknown message format]";
static const char REFUSED_MOVED[] = "[refused: sent in another case]";
static const char REFUSED_LIST[] =
    "[refused: the server lists someone the protocol does not allow]";
static const char KEPT_UNLISTED[] =
    "[kept on the server: its case is past the server's list of yours]";

static int
left_ms(int64_t deadline)
{
	int64_t left = deadline - cli_now_ms();

	return left > 0 ? (int)left : 0;
}

static const char *
frame_type(json_t *f)
{
	const char *t = json_string_value(json_object_get(f, "type"));

	return t != NULL ? t : "";
}

/* --- sealing and opening --- */

static int
case_sendable(struct cli *cli, json_t *kase)
{
	const char *status = json_string_value(json_object_get(kase,
	    "status"));
	int rc;

	if (kase == NULL)	/* gone from the cases held */
		return cli_fail(OFR_E_NOT_FOUND, "the case is gone: not sent");
	if ((rc = trust_before_send(cli, kase)) != 0)
		return rc;
	if (status != NULL && strcmp(status, "waiting") == 0)
		return cli_refused(OFR_E_CASE_WAITING, "msg.send");
	if (status != NULL && strcmp(status, "closed") == 0)
		return cli_refused(OFR_E_CASE_CLOSED, "msg.send");
	return 0;
}

/*
 * Binds e (its kind and body set) to case kase: the case id, my next
 * running number there and my clock (CRYPTO.md, "Plaintext envelope"),
 * and keeps the number (cli->dirty). 0 or an error code (printed).
 */
static int
bind_envelope(struct cli *cli, json_t *kase, struct envelope *e)
{
	int64_t id = json_integer_value(json_object_get(kase, "id")), last_t;
	uint32_t last;

	keyfile_bind_get(cli->key, id, keyfile_pk(cli->key), &last, &last_t);
	if (last == UINT32_MAX)
		return cli_fail(OFR_E_LIMIT, "case %lld: no running numbers "
		    "left", (long long)id);
	e->case_id = id;
	e->seq = last + 1;
	e->time = (int64_t)time(NULL);
	if (e->time < last_t)
		e->time = last_t;	/* my clock went back: not before */
	if (keyfile_bind_set(cli->key, id, keyfile_pk(cli->key), e->seq,
	    e->time) != 0)
		return cli_fail(OFR_E_NOMEM, "msg.send");
	cli->dirty = 1;
	return 0;
}

/*
 * 0 when every participant of kase that a copy would go to (to and only
 * as seal_envelope's) has a key and, a colleague, was shown to this user
 * (members) or brought in by it (bring), a referral's partner counsellor
 * too: the server's word that one joined is not the user's; and, a
 * counsellor, a certificate that holds. Else an error code (printed),
 * before anything of the send changed.
 */
static int
all_shown(struct cli *cli, json_t *kase, const uint8_t *to, int only)
{
	int64_t id = json_integer_value(json_object_get(kase, "id"));
	uint8_t pk[OFR_PK_BYTES];
	json_t *p;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (cases_participant_key(p, pk) != 0)
			return cli_fail(OFR_E_BAD_FIELD, "a participant "
			    "without a key");
		if (sodium_memcmp(pk, keyfile_pk(cli->key), sizeof(pk)) == 0 ||
		    cases_is_joining(p) || (only && to != NULL &&
		    memcmp(pk, to, sizeof(pk)) != 0))
			continue;	/* no copy */
		if (cases_is_colleague(p) &&
		    !keyfile_shown_has(cli->key, id, pk))
			return cli_fail(OFR_E_NOT_TOLD, "case %lld: a "
			    "colleague in it was never shown here: see who is "
			    "in it with offramp members %lld, then send again",
			    (long long)id, (long long)id);
		/* and each counsellor's certificate (e2e_seal leaves it
		 * to this) */
		if (cases_is_counsellor(p) &&
		    (rc = trust_check_counsellor(cli, p)) != 0)
			return rc;
	}
	return 0;
}

/*
 * A msg.send for case kase: the envelope e (kind and body set; bound here
 * to the case, my next running number and my clock) encrypted with the
 * session of each participant but me; when to is not NULL, only the
 * participant with that key gets e, the others the envelope "nothing"
 * with the same binding. 0 with *out, or an error code (printed). The
 * sessions and my running number advanced: the caller saves the store
 * before sending.
 */
static int
seal_envelope(struct cli *cli, json_t *kase, const uint8_t mid[OFR_MID_BYTES],
    struct envelope *e, const uint8_t *to, int only, json_t **out)
{
	json_t *f = json_object(), *copies = json_array(), *p;
	uint8_t pk[OFR_PK_BYTES], nothing[ENVELOPE_V2_HDR_BYTES];
	uint8_t *pt = malloc(ENVELOPE_MAX_BYTES);
	struct envelope n;
	size_t i, nlen = 0, len = 0;
	int rc;

	*out = NULL;
	if (pt == NULL) {
		rc = cli_fail(OFR_E_NOMEM, "msg.send");
		goto fail;
	}
	if ((rc = all_shown(cli, kase, to, only)) != 0 ||
	    (rc = bind_envelope(cli, kase, e)) != 0)
		goto fail;
	n = *e;
	n.kind = ENVELOPE_NOTHING;
	if ((rc = envelope_write(pt, ENVELOPE_MAX_BYTES, &len, e)) != 0 ||
	    (rc = envelope_write(nothing, sizeof(nothing), &nlen, &n)) != 0) {
		if (rc == OFR_E_TOO_BIG)
			rc = cli_fail(rc, "a message is at most %d bytes",
			    CLI_TEXT_MAX);
		else
			rc = cli_fail(rc, "not a message that can be sent");
		goto fail;
	}
	if (f == NULL || copies == NULL ||
	    json_object_set_new(f, "type", json_string("msg.send")) ||
	    json_object_set(f, "case", json_object_get(kase, "id")) ||
	    frame_set_bin(f, "mid", mid, OFR_MID_BYTES)) {
		rc = cli_fail(OFR_E_NOMEM, "msg.send");
		goto fail;
	}
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (cases_participant_key(p, pk) != 0) {
			rc = cli_fail(OFR_E_BAD_FIELD, "a participant without "
			    "a key");
			goto fail;
		}
		/* nobody is written to before everyone was told of it
		 * (and no colleague unshown: all_shown) */
		if (sodium_memcmp(pk, keyfile_pk(cli->key), sizeof(pk)) == 0 ||
		    cases_is_joining(p))
			continue;
		if (to == NULL || memcmp(pk, to, sizeof(pk)) == 0)
			rc = e2e_seal(cli, p, pt, len, copies);
		else if (only)
			continue;	/* one copy, to one participant */
		else
			rc = e2e_seal(cli, p, nothing, nlen, copies);
		if (rc != 0)
			goto fail;
	}
	if (json_object_set_new(f, "copies", copies) == 0) {
		sodium_memzero(pt, ENVELOPE_MAX_BYTES);
		free(pt);
		*out = f;
		return 0;
	}
	copies = NULL;
	rc = cli_fail(OFR_E_NOMEM, "msg.send");
fail:
	if (pt != NULL) {
		sodium_memzero(pt, ENVELOPE_MAX_BYTES);
		free(pt);
	}
	json_decref(copies);
	json_decref(f);
	return rc;
}

/* A msg.send of text (len bytes, at most CLI_TEXT_MAX) for case
 * kase; as seal_envelope. */
static int
seal_message(struct cli *cli, json_t *kase, const uint8_t mid[OFR_MID_BYTES],
    const char *text, size_t len, json_t **out)
{
	struct envelope e;

	memset(&e, 0, sizeof(e));
	e.kind = ENVELOPE_TEXT;
	e.text = (const uint8_t *)text;
	e.text_len = len;
	return seal_envelope(cli, kase, mid, &e, NULL, 0, out);
}

int
messages_seal(struct cli *cli, json_t *kase, const uint8_t mid[OFR_MID_BYTES],
    const char *text, size_t len, json_t **out)
{
	int rc;

	*out = NULL;
	if ((rc = case_sendable(cli, kase)) != 0)
		return rc;
	return seal_message(cli, kase, mid, text, len, out);
}

/* The words for a report's reason. */
static const char *
reason_str(unsigned reason)
{
	switch (reason) {
	case ENVELOPE_R_LIMIT:
		return "too many messages were missing before it";
	case ENVELOPE_R_NO_SESSION:
		return "there was no session for it";
	case ENVELOPE_R_CRYPTO:
		return "it did not decrypt: the session was out of step";
	default:
		return "another reason";
	}
}

static struct reset *
reset_find(const uint8_t peer[OFR_PK_BYTES])
{
	for (size_t i = 0; i < n_resets; i++)
		if (memcmp(resets[i].peer, peer, OFR_PK_BYTES) == 0)
			return &resets[i];
	return NULL;
}

/*
 * Forgets the running numbers seen from peer in every case: its sessions
 * start again because this store could not read it (its state is older
 * than the peer's), so what it kept of the peer's numbers is too; the
 * next message starts the sequence (CRYPTO.md, "Plaintext envelope").
 */
static void
bind_restart(struct cli *cli, const uint8_t peer[OFR_PK_BYTES])
{
	struct ks_state *s = keyfile_state(cli->key);

	for (size_t i = 0; i < s->n_binds; i++)
		if (memcmp(s->binds[i].peer, peer, OFR_PK_BYTES) == 0) {
			s->binds[i].seq = 0;
			s->binds[i].time = 0;
			cli->dirty = 1;
		}
}

/*
 * A message of case case_id from peer could not be read for reason: the
 * first time in this run its sessions are dropped and a report is owed;
 * later, while the report has not left, it is counted. 1 when the
 * sessions were reset now or before in this run and the report is still
 * to go, 0 when the bound was reached (nothing reset, nothing owed).
 */
static int
unreadable(struct cli *cli, int64_t case_id, const uint8_t peer[OFR_PK_BYTES],
    unsigned reason)
{
	struct reset *r = reset_find(peer);

	if (r != NULL) {
		if (r->sent)
			return 0;
		if (r->count < UINT32_MAX)
			r->count++;
		return 1;
	}
	if (n_resets == RESETS_MAX)
		return 0;
	r = &resets[n_resets++];
	memcpy(r->peer, peer, OFR_PK_BYTES);
	r->case_id = case_id;
	r->count = 1;
	r->reason = (uint8_t)reason;
	r->sent = 0;
	e2e_reset(cli, peer);
	bind_restart(cli, peer);
	return 1;
}

static int send_with_retries(struct cli *cli, json_t *f, int *refused);

/*
 * Sends every report owed (unreadable) in a new session with its peer,
 * in the case where its first unreadable message came; a report that
 * cannot go is told on stderr and not tried again in this run. Before
 * the unreadable messages are acknowledged.
 */
static void
reports_send(struct cli *cli, json_t *cases)
{
	uint8_t mid[OFR_MID_BYTES];
	struct envelope e;
	json_t *kase, *f;
	const char *name;
	char b64[OFR_B64_LEN(OFR_PK_BYTES)];

	for (size_t i = 0; i < n_resets; i++) {
		struct reset *r = &resets[i];

		if (r->sent)
			continue;
		r->sent = 1;
		b64_encode(b64, sizeof(b64), r->peer, OFR_PK_BYTES);
		kase = cases_find(cases, r->case_id);
		name = cases_key_name(kase, b64);
		randombytes_buf(mid, sizeof(mid));
		memset(&e, 0, sizeof(e));
		e.kind = ENVELOPE_REPORT;
		e.count = r->count;
		e.reason = r->reason;
		if (kase == NULL || name == NULL ||
		    case_sendable(cli, kase) != 0 ||
		    seal_envelope(cli, kase, mid, &e, r->peer, 0, &f) != 0) {
			fputs("warning: could not tell ", stderr);
			text_puts(stderr, name != NULL ? name : "?");
			fputs(" that their messages could not be read\n",
			    stderr);
			continue;
		}
		/* the new session is durable before anything leaves */
		if (cli_save(cli) != 0 ||
		    send_with_retries(cli, f, NULL) != 0) {
			fputs("warning: could not tell ", stderr);
			text_puts(stderr, name);
			fputs(" that their messages could not be read\n",
			    stderr);
			continue;
		}
		fputs("notice: told ", stderr);
		text_puts(stderr, name);
		fprintf(stderr, " that %lu of their messages could not be "
		    "read; a new secure session has started\n",
		    (unsigned long)r->count);
	}
}

/* What open_message found besides a text. */
struct opened {
	char *text;		/* a text (malloc'd, NUL-terminated), or NULL */
	size_t len;
	const char *mark;	/* what to print instead of a text */
	unsigned reason;	/* UNREADABLE: enum envelope_reason */
	int reset;		/* UNREADABLE: sessions dropped, report owed */
	uint8_t from[OFR_PK_BYTES];
	uint8_t kind;		/* a text: enum envelope_kind */
	uint8_t *item;		/* a meeting or agreement: kind || body
				 * (malloc'd), to keep */
	size_t item_len;
	int64_t time;		/* version 2: the sender's time */
	int64_t bound_case;	/* REFUSED_MOVED: the case it named */
	int replayed;		/* not past the sender's last number */
	int new_session;	/* it made a new session */
};

/* The binding warnings of envelope e from name in case case_id (found:
 * envelope_check's bits; last: the sender's last running number), on
 * stderr. */
static void
bind_warn(const char *name, int64_t case_id, const struct envelope *e,
    unsigned found, uint32_t last)
{
	if (found == 0)
		return;
	fprintf(stderr, "warning: a message in case %lld from ",
	    (long long)case_id);
	text_puts(stderr, name);
	fputs(":", stderr);
	if (found & ENVELOPE_REPLAYED)
		fprintf(stderr, " replayed or repeated (its number %lu, %lu "
		    "seen before)", (unsigned long)e->seq,
		    (unsigned long)last);
	if (found & ENVELOPE_HELD_BACK)
		fprintf(stderr, " %lu message(s) before it held back or lost",
		    (unsigned long)(e->seq - last - 1));
	if (found & ENVELOPE_FUTURE)
		fputs(" dated in the future", stderr);
	if (found & ENVELOPE_EARLIER)
		fputs(" dated before the sender's previous message", stderr);
	fputc('\n', stderr);
}

/*
 * Checks the binding of the version 2 envelope e from o->from, come in
 * the case of f (CRYPTO.md, "Plaintext envelope"): moved to another case
 * is refused (o->mark, 1 returned); replayed, held back and misdated
 * ones are told on stderr and go on (0), the sender's running number
 * kept unless it was replayed.
 */
static int
check_binding(struct cli *cli, json_t *f, const char *name,
    const struct envelope *e, struct opened *o)
{
	int64_t case_id = json_integer_value(json_object_get(f, "case"));
	int64_t last_t;
	uint32_t last;
	unsigned found;

	if (e->version < ENVELOPE_VERSION)
		return 0;
	keyfile_bind_get(cli->key, case_id, o->from, &last, &last_t);
	/* a report, or any message that makes a new session: the sender's
	 * state may have been lost or rolled back, its numbers start again
	 * from here */
	if (e->kind == ENVELOPE_REPORT || o->new_session)
		last = 0, last_t = 0;
	found = envelope_check(e, case_id, last, last_t, (int64_t)time(NULL));
	if (found & ENVELOPE_MOVED) {
		o->mark = REFUSED_MOVED;
		o->bound_case = e->case_id;
		return 1;
	}
	bind_warn(name, case_id, e, found, last);
	o->time = e->time;
	if (found & ENVELOPE_REPLAYED) {
		o->replayed = 1;
		return 0;
	}
	if (keyfile_bind_set(cli->key, case_id, o->from, e->seq,
	    e->time > last_t ? e->time : last_t) == 0)
		cli->dirty = 1;
	return 0;
}

/*
 * Reads the envelope pt (len bytes) from peer into o, after the checks
 * of its binding: a text, a meeting or agreement (shown as a text, kept
 * as an item), a report (told on stderr; the peer's other sessions
 * dropped), or nothing.
 */
static enum msg_fate
open_envelope(struct cli *cli, json_t *f, const char *name,
    const uint8_t *pt, size_t len, struct opened *o)
{
	struct envelope e;

	if (envelope_parse(&e, pt, len) != 0) {
		o->mark = BAD_ENVELOPE;
		return MSG_ACK;
	}
	if (check_binding(cli, f, name, &e, o) != 0)
		return MSG_ACK;
	o->kind = e.kind;
	switch (e.kind) {
	case ENVELOPE_MEETING:
	case ENVELOPE_AGREEMENT:
	case ENVELOPE_REFERRAL:
		if (meetings_render(&e, &o->text, &o->len) != 0 ||
		    (o->item = malloc(len - ENVELOPE_V2_HDR_BYTES + 1)) ==
		    NULL) {
			free(o->text);
			o->text = NULL;
			o->mark = BAD_ENVELOPE;
			return MSG_ACK;
		}
		o->item_len = len - ENVELOPE_V2_HDR_BYTES + 1;
		memcpy(o->item, pt + ENVELOPE_V2_HDR_BYTES - 1, o->item_len);
		return MSG_ACK;
	case ENVELOPE_TEXT:
		if ((o->text = malloc(e.text_len + 1)) == NULL) {
			o->mark = BAD_ENVELOPE;
			return MSG_ACK;
		}
		memcpy(o->text, e.text, e.text_len);
		o->text[e.text_len] = '\0';
		o->len = e.text_len;
		return MSG_ACK;
	case ENVELOPE_REPORT:
		/* it came in the new session: the old ones are dead */
		e2e_keep_latest(cli, o->from);
		fputs("notice: ", stderr);
		text_puts(stderr, name);
		fprintf(stderr, " could not read %lu of your messages (%s) in "
		    "case %lld; a new secure session has started\n",
		    (unsigned long)e.count, reason_str(e.reason),
		    (long long)json_integer_value(json_object_get(f, "case")));
		return MSG_NOTICE;
	default:
		return MSG_NOTICE;	/* nothing */
	}
}

/*
 * Opens the "ct" of msg push f in case kase (may be NULL), after the
 * checks of trust_check_message, into o: a text, or what to print
 * instead. A message from a participant that cannot be read resets the
 * sessions with that peer and owes it a report (unreadable). Returns what
 * to do with the message.
 */
static enum msg_fate
open_message(struct cli *cli, json_t *kase, json_t *f, const char *name,
    struct opened *o)
{
	struct frame_in in;
	struct ratchet_msg m;
	uint8_t *ct, *pt = NULL;
	enum trust_refusal refusal;
	enum e2e_why why;
	enum msg_fate fate;
	size_t n, ctlen = 0, ptlen = 0;
	int rc;

	memset(o, 0, sizeof(*o));
	o->mark = MALFORMED;
	memset(&in, 0, sizeof(in));
	in.root = f;
	if (frame_bin(&in, "from", OFR_PK_BYTES, OFR_PK_BYTES, 1, o->from,
	    &n) != 0 || (ct = malloc(OFR_CT_MAX)) == NULL)
		return MSG_ACK;
	if (frame_bin(&in, "ct", 1, OFR_CT_MAX, 1, ct, &ctlen) != 0) {
		free(ct);
		return MSG_ACK;
	}
	if (kase == NULL && cli->cases_more) {
		/* the server's case.list left cases out: this may be one of
		 * ours, not a stranger's message to delete */
		o->mark = KEPT_UNLISTED;
		free(ct);
		return MSG_KEEP;
	}
	if (trust_check_message(cli, kase, o->from, &refusal) != 0) {
		free(ct);
		return MSG_FAIL;	/* not checked (printed): it stays */
	}
	if (refusal != TRUST_OK) {
		o->mark = refusal == TRUST_STRANGER ? REFUSED_STRANGER :
		    refusal == TRUST_CHANGED ? REFUSED_CHANGED :
		    refusal == TRUST_BAD_LIST ? REFUSED_LIST : REFUSED_CERT;
		free(ct);
		/* kept on the server: a key verified, a list mended */
		return refusal == TRUST_CHANGED || refusal == TRUST_BAD_LIST ?
		    MSG_KEEP : MSG_ACK;
	}
	rc = e2e_open(cli, o->from, ct, ctlen, &pt, &ptlen, &why);
	if (rc == 0) {
		o->new_session = why == E2E_NEW_SESSION;
		fate = open_envelope(cli, f, name, pt, ptlen, o);
		sodium_memzero(pt, ptlen);
		free(pt);
		free(ct);
		return fate;
	}
	if (rc == OFR_E_NOMEM || why == E2E_MALFORMED) {
		o->mark = MALFORMED;
	} else if (why == E2E_REPLAY && (ratchet_msg_parse(&m, ct, ctlen) != 0 ||
	    !m.has_init || reset_find(o->from) == NULL)) {
		o->mark = m.has_init ? REFUSED_REPLAY : REFUSED_USED;
	} else {
		/* a first message of a session this run dropped itself is no
		 * replay: one more that could not be read */
		if (why == E2E_REPLAY)
			why = E2E_NO_SESSION;
		o->mark = UNREADABLE;
		o->reason = (unsigned)why;
		o->reset = kase != NULL && unreadable(cli,
		    json_integer_value(json_object_get(f, "case")), o->from,
		    o->reason);
	}
	free(ct);
	return MSG_ACK;
}

/* 1 if the account may ask for case.list (clients and counsellors). */
static int
may_list(struct cli *cli)
{
	const char *role = json_string_value(json_object_get(cli->account,
	    "role"));

	return role == NULL || strcmp(role, "admin") != 0;
}

/* Gets the case of msg push f, fetching case.list again (once per call)
 * when it is not in *cases (then checking its keys: trust_check_case).
 * Borrowed; NULL if unknown. */
static json_t *
case_of(struct cli *cli, json_t **cases, json_t *f)
{
	int64_t id = json_integer_value(json_object_get(f, "case"));
	json_t *kase = cases_find(*cases, id), *fresh = NULL;

	if (kase != NULL || !may_list(cli))
		return kase;
	if (cases_list(cli, &fresh) != 0)
		return NULL;
	json_decref(*cases);
	*cases = fresh;
	if ((kase = cases_find(*cases, id)) != NULL)
		(void)trust_check_case(cli, kase);	/* warns */
	return kase;
}

/* Replaces or adds the case of a "case" push in *cases. */
static void
case_update(json_t *cases, json_t *push)
{
	json_t *kase = json_object_get(push, "case"), *c;
	size_t i;

	if (!json_is_object(kase))
		return;
	json_array_foreach(cases, i, c) {
		if (json_equal(json_object_get(c, "id"),
		    json_object_get(kase, "id"))) {
			json_array_set(cases, i, kase);
			return;
		}
	}
	json_array_insert(cases, 0, kase);
}

/* 1 if former participant f of a case is in the former list old (the
 * same key, left at the same time). */
static int
known_former(json_t *old, json_t *f)
{
	json_t *o;
	size_t i;

	json_array_foreach(old, i, o)
		if (json_equal(json_object_get(o, "key"),
		    json_object_get(f, "key")) &&
		    json_equal(json_object_get(o, "left"),
		    json_object_get(f, "left")))
			return 1;
	return 0;
}

/* "notice: case ID: NAME (AS) joins ..." for each participant joining,
 * and "notice: case ID: NAME (AS) left: WHY" for each who left since the
 * case as cases had it, on stderr. */
static void
member_notices(json_t *cases, json_t *kase)
{
	json_t *old = cases != NULL ? cases_find(cases, json_integer_value(
	    json_object_get(kase, "id"))) : NULL, *p;
	long long id = (long long)json_integer_value(json_object_get(kase,
	    "id"));
	size_t i;

	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		if (!cases_is_joining(p))
			continue;
		fprintf(stderr, "notice: case %lld: ", id);
		text_puts(stderr, cases_participant_name(p));
		fputs(" (", stderr);
		text_puts(stderr, json_string_value(json_object_get(p, "as")));
		fprintf(stderr, ") joins; see and confirm with offramp members "
		    "%lld\n", id);
	}
	json_array_foreach(json_object_get(kase, "former"), i, p) {
		if (known_former(json_object_get(old, "former"), p))
			continue;
		fprintf(stderr, "notice: case %lld: ", id);
		text_puts(stderr, cases_participant_name(p));
		fputs(" (", stderr);
		text_puts(stderr, json_string_value(json_object_get(p, "as")));
		fputs(") ", stderr);
		text_puts(stderr, cocounsel_reason_words(json_string_value(
		    json_object_get(p, "reason"))));
		fputc('\n', stderr);
	}
}

/*
 * A "case" push: "notice: case ID STATUS[ counsellor NAME]" on stderr,
 * the keys of its participants checked (warnings of changed ones), and
 * the case replaced or added in cases.
 */
static void
case_notice(struct cli *cli, json_t *cases, json_t *push)
{
	json_t *kase = json_object_get(push, "case"), *p;
	const char *name = NULL, *role;
	size_t i;

	if (!json_is_object(kase))
		return;
	/* one older than the case held (cases_current): left unread */
	if (!cases_current(cases_find(cases, json_integer_value(
	    json_object_get(kase, "id"))), kase))
		return;
	json_array_foreach(json_object_get(kase, "participants"), i, p) {
		role = json_string_value(json_object_get(p, "role"));
		if (role != NULL && strcmp(role, "counsellor") == 0 &&
		    !cases_is_colleague(p))
			name = json_string_value(json_object_get(p, "name"));
	}
	fprintf(stderr, "notice: case %lld ", (long long)json_integer_value(
	    json_object_get(kase, "id")));
	text_puts(stderr, json_string_value(json_object_get(kase, "status")));
	if (name != NULL) {
		fputs(" counsellor ", stderr);
		text_puts(stderr, name);
	}
	fputc('\n', stderr);
	member_notices(cases, kase);
	if (cases != NULL && may_list(cli)) {
		(void)trust_check_case(cli, kase);
		cases_keep_shown(cli, kase);
	}
	case_update(cases, push);
}

enum msg_fate
messages_take(struct cli *cli, json_t *kase, json_t *f, struct msg_in *m)
{
	const char *from = json_string_value(json_object_get(f, "from"));
	const char *name = cases_key_name(kase, from);
	struct opened o;
	enum msg_fate fate;
	int64_t now;

	memset(m, 0, sizeof(*m));
	m->case_id = (int64_t)json_integer_value(json_object_get(f, "case"));
	m->ts = (int64_t)json_integer_value(json_object_get(f, "ts"));
	m->from = from != NULL ? from : "";
	m->name = name != NULL ? name : "?";
	fate = open_message(cli, kase, f, m->name, &o);
	if (fate == MSG_FAIL || fate == MSG_NOTICE)
		return fate;
	m->text = o.text;
	m->len = o.len;
	m->mark = o.mark;
	m->refused = o.mark == REFUSED_CHANGED || o.mark == REFUSED_CERT ||
	    o.mark == REFUSED_REPLAY || o.mark == REFUSED_STRANGER ||
	    o.mark == REFUSED_USED || o.mark == REFUSED_MOVED ||
	    o.mark == REFUSED_LIST;
	m->reason = o.reason;
	m->reset = o.reset;
	m->kind = o.kind;
	m->bound_case = o.bound_case;
	m->replayed = o.replayed;
	/* a replayed message is shown (warned of), not kept again; kept
	 * under a time no later than now: one the server (its ts) or the
	 * sender (its envelope's) put in the future would never expire
	 * (history-keep) */
	now = (int64_t)time(NULL);
	if (o.text != NULL && kase != NULL && !o.replayed &&
	    keyfile_history_add(cli->key, m->case_id, m->ts < now ? m->ts :
	    now, 0, m->name, o.text, o.len) == 0)
		cli->dirty = 1;
	if (o.item != NULL && kase != NULL && !o.replayed &&
	    keyfile_item_add(cli->key, m->case_id, o.time < now ? o.time : now,
	    cases_key_side(kase, m->from), m->name, o.item,
	    o.item_len) == 0)
		cli->dirty = 1;
	if (o.item != NULL) {
		sodium_memzero(o.item, o.item_len);
		free(o.item);
	}
	return fate;
}

void
messages_warn(const struct msg_in *m)
{
	const char *mark = m->mark;
	long long case_id = (long long)m->case_id;

	if (m->text != NULL)
		return;
	if (m->refused) {
		fprintf(stderr, "warning: a message in case %lld from ",
		    case_id);
		text_puts(stderr, m->name);
		fprintf(stderr, " refused (%s)%s\n", mark == REFUSED_CHANGED ?
		    "its key changed" : mark == REFUSED_CERT ? "its key is "
		    "not certified by a programme you trust" :
		    mark == REFUSED_REPLAY ? "a replayed first message" :
		    mark == REFUSED_USED ? "a replayed or repeated message" :
		    mark == REFUSED_MOVED ? "it was sent in another case: "
		    "moved" : mark == REFUSED_LIST ? "the server lists "
		    "someone in the case that the protocol does not allow" :
		    "its sender is not in the case", mark == REFUSED_CHANGED ?
		    "; it stays on "
		    "the server until offramp verify" : "");
		if (mark == REFUSED_MOVED)
			fprintf(stderr, "warning:   it names case %lld, not "
			    "%lld\n", (long long)m->bound_case, case_id);
	} else if (mark == UNREADABLE) {
		fprintf(stderr, "warning: a message in case %lld from ",
		    case_id);
		text_puts(stderr, m->name);
		fprintf(stderr, " could not be read (%s)", reason_str(m->reason));
		if (m->reset) {
			fputs("; a new secure session starts and ", stderr);
			text_puts(stderr, m->name);
			fputs(" is told\n", stderr);
		} else {
			fputs("; the session was already started again in this "
			    "run\n", stderr);
		}
	} else if (mark == KEPT_UNLISTED) {
		fprintf(stderr, "warning: a message in case %lld is kept on "
		    "the server: the server's list of your cases left that "
		    "case out (it lists a hundred at most, open ones first, "
		    "and no more than one answer holds)\n", case_id);
	} else {
		fprintf(stderr, "warning: a message in case %lld from ",
		    case_id);
		text_puts(stderr, m->name);
		fprintf(stderr, " could not be read (%s)\n", mark == MALFORMED ?
		    "it is malformed" : "its content has an unknown format");
	}
}

void
messages_in_clear(struct msg_in *m)
{
	if (m->text != NULL) {
		sodium_memzero(m->text, m->len);
		free(m->text);
	}
	m->text = NULL;
	m->len = 0;
}

/*
 * Prints one message line (recv_format: "<case>\t<name>\t<text>", else
 * "<name>: <text>"), the text or why there is none, and keeps a decrypted
 * text in the history. Returns what to do with the message; MSG_FAIL
 * (printed) and MSG_NOTICE (a report, told on stderr) print no line.
 */
static enum msg_fate
print_message(struct cli *cli, json_t *kase, json_t *f, int recv_format)
{
	struct msg_in m;
	enum msg_fate fate;

	fate = messages_take(cli, kase, f, &m);
	if (fate == MSG_FAIL || fate == MSG_NOTICE)
		return fate;
	if (recv_format)
		printf("%lld\t", (long long)m.case_id);
	text_puts(stdout, m.name);
	fputs(recv_format ? "\t" : ": ", stdout);
	if (m.text != NULL)
		text_put(stdout, m.text, m.len);
	else
		fputs(m.mark, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	if (cli_json_on()) {
		json_t *j = m.text != NULL ? json_pack("{s:I,s:s,s:s,s:s%}",
		    "case", (json_int_t)m.case_id, "from", m.from, "name",
		    m.name, "text", m.text, m.len) :
		    json_pack("{s:I,s:s,s:s,s:s}", "case",
		    (json_int_t)m.case_id, "from", m.from, "name", m.name,
		    "refused", m.mark);

		/* a meeting, an agreement or a referral card: its text is
		 * the readable line */
		if (j != NULL && (m.kind == ENVELOPE_MEETING ||
		    m.kind == ENVELOPE_AGREEMENT ||
		    m.kind == ENVELOPE_REFERRAL))
			json_object_set_new(j, "kind", json_string(m.kind ==
			    ENVELOPE_MEETING ? "meeting" : m.kind ==
			    ENVELOPE_AGREEMENT ? "agreement" : "referral"));
		if (j != NULL && m.replayed)
			json_object_set_new(j, "replayed", json_true());
		cli_json(j);
	}
	messages_warn(&m);
	messages_in_clear(&m);
	return fate;
}

int
messages_ack_add(struct msg_acks *a, json_t *f)
{
	json_t *seq = json_object_get(f, "seq");

	if (!json_is_integer(seq))
		return OFR_E_BAD_FIELD;
	if (a->n >= OFR_ACKS_MAX)
		return OFR_E_LIMIT;
	a->seqs[a->n++] = json_integer_value(seq);
	return 0;
}

/* A msg.ack of every seq in a; empties a. NULL on OOM. */
static json_t *
ack_frame(struct msg_acks *a)
{
	json_t *f = json_object(), *seqs = json_array();

	if (f == NULL || seqs == NULL) {
		json_decref(f);
		json_decref(seqs);
		return NULL;
	}
	for (size_t i = 0; i < a->n; i++)
		json_array_append_new(seqs, json_integer(a->seqs[i]));
	json_object_set_new(f, "type", json_string("msg.ack"));
	json_object_set_new(f, "seqs", seqs);
	a->n = 0;
	return f;
}

int
messages_ack_flush(struct cli *cli, json_t *cases, struct msg_acks *a)
{
	json_t *resp = NULL;
	int rc;

	if (a->n == 0)
		return 0;
	reports_send(cli, cases);
	/* only what is durable here is acknowledged, and only what was
	 * printed: output that could not be written (a full disk, a reader
	 * gone) leaves the copies on the server, and the command fails */
	if ((rc = cli_save(cli)) != 0)
		return rc;
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_fail(OFR_E_IO, "the messages could not be written "
		    "out: not acknowledged; what was read is in offramp "
		    "history");
	if ((rc = cli_request(cli, ack_frame(a), &resp)) != 0)
		return rc;
	json_decref(resp);
	return 0;
}

/* --- send --- */

/* The text of a send: the words joined, or stdin for "-". */
static int
message_text(int n, char **words, char *buf, size_t bufsz, size_t *len)
{
	size_t used = 0, w;
	ssize_t r;

	if (n == 1 && strcmp(words[0], "-") == 0) {
		while (used < bufsz) {
			r = read(0, buf + used, bufsz - used);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return cli_fail(OFR_E_IO, "reading stdin: %s",
				    strerror(errno));
			if (r == 0)
				break;
			used += (size_t)r;
		}
		while (used > 0 && (buf[used - 1] == '\n' ||
		    buf[used - 1] == '\r'))
			used--;
	} else {
		for (int i = 0; i < n; i++) {
			w = strlen(words[i]);
			if (used + (i > 0) + w > bufsz) {
				used = bufsz;
				break;
			}
			if (i > 0)
				buf[used++] = ' ';
			memcpy(buf + used, words[i], w);
			used += w;
		}
	}
	if (used >= bufsz)
		return cli_fail(OFR_E_TOO_BIG, "a message is at most %d bytes",
		    CLI_TEXT_MAX);
	if (used == 0)
		return cli_usage("the message is empty");
	if (!text_utf8_ok(buf, used))
		return cli_usage("the message is not UTF-8 text");
	*len = used;
	return 0;
}

/* Sends the msg.send f (owned) and waits for its answer, again with the
 * same mid on a new connection when no answer comes. 0 or an error code
 * (printed). */
static int
send_with_retries(struct cli *cli, json_t *f, int *refused)
{
	json_t *resp = NULL;
	int64_t rid;
	int rc = 0, tries;

	if (refused != NULL)
		*refused = 0;
	for (tries = 0;; tries++) {
		if ((rc = conn_send(cli->conn, json_deep_copy(f), &rid)) == 0)
			rc = conn_wait_response(cli->conn, rid, &resp,
			    cli->timeout_ms);
		if (rc == 0 || tries == SEND_RETRIES ||
		    (rc != OFR_E_TIMEOUT && rc != OFR_E_CONN))
			break;
		/* no ack: again, with the same mid, on a new connection */
		json_decref(resp);
		resp = NULL;
		cli_disconnect(cli);
		usleep(250000u << tries);
		if (cli_connect(cli) != 0 || account_login(cli) != 0) {
			json_decref(f);
			return OFR_E_CONN;	/* told why */
		}
	}
	json_decref(f);
	if (rc == OFR_E_TIMEOUT || rc == OFR_E_CONN) {
		rc = cli_fail(OFR_E_TIMEOUT, "msg.send: no ack after %d "
		    "attempts (last: %s)", tries + 1, rc == OFR_E_TIMEOUT ?
		    "no answer" : conn_error(cli->conn));
	} else if (rc != 0) {
		/* answered no to its only try: nothing of it is stored (but
		 * by "unavailable", a commit cut whose end is not known, and
		 * "internal", which a store that failed to undo a commit may
		 * answer) */
		if (refused != NULL && tries == 0 && rc != OFR_E_UNAVAILABLE &&
		    rc != OFR_E_INTERNAL)
			*refused = 1;
		rc = cli_fail_request(cli, rc, resp, "msg.send");
	}
	json_decref(resp);
	return rc;
}

/* After a send of running number seq in case_id that the server refused
 * for good: the number is given back when no later one was taken, so
 * that the next message takes it and the peers see no gap ("held
 * back"). */
static void
bind_give_back(struct cli *cli, int64_t case_id, uint32_t seq)
{
	uint32_t last;
	int64_t last_t;

	keyfile_bind_get(cli->key, case_id, keyfile_pk(cli->key), &last,
	    &last_t);
	if (last != seq || seq == 0 ||
	    keyfile_bind_set(cli->key, case_id, keyfile_pk(cli->key),
	    seq - 1, last_t) != 0)
		return;
	cli->dirty = 1;
	(void)cli_save(cli);
}

int
messages_send(struct cli *cli, int64_t case_id, struct envelope *e,
    const char *text, size_t len)
{
	return messages_send_to(cli, case_id, e, text, len, NULL, 0);
}

/* Makes msg.send f, of one copy, a referral.summary: its copy's to and
 * ct at the top. */
static int
as_summary(json_t *f)
{
	json_t *c = json_array_get(json_object_get(f, "copies"), 0);

	if (c == NULL || json_array_size(json_object_get(f, "copies")) != 1)
		return cli_fail(OFR_E_NOT_FOUND, "the partner's counsellor is "
		    "not in the case, or not joined yet");
	json_object_set(f, "to", json_object_get(c, "to"));
	json_object_set(f, "ct", json_object_get(c, "ct"));
	json_object_del(f, "copies");
	json_object_set_new(f, "type", json_string("referral.summary"));
	return 0;
}

int
messages_send_to(struct cli *cli, int64_t case_id, struct envelope *e,
    const char *text, size_t len, const uint8_t *to, int summary)
{
	uint8_t mid[OFR_MID_BYTES], *item = NULL;
	char b64[OFR_B64_LEN(OFR_MID_BYTES)];
	json_t *cases = NULL, *kase, *f = NULL;
	size_t ilen = 0;
	int rc, refused;

	if ((rc = account_login(cli)) != 0 ||
	    (rc = cases_list(cli, &cases)) != 0)
		goto out;
	if ((kase = cases_find(cases, case_id)) == NULL) {
		rc = cli_fail(OFR_E_NOT_FOUND, "case %lld is not one of yours",
		    (long long)case_id);
		goto out;
	}
	randombytes_buf(mid, sizeof(mid));
	if ((rc = case_sendable(cli, kase)) != 0 ||
	    (rc = seal_envelope(cli, kase, mid, e, to, summary, &f)) != 0)
		goto out;
	if (summary && (rc = as_summary(f)) != 0) {
		json_decref(f);
		goto out;
	}
	if (e->kind == ENVELOPE_MEETING || e->kind == ENVELOPE_AGREEMENT ||
	    e->kind == ENVELOPE_REFERRAL) {
		/* kind || body, as it left (the writer gives one encoding) */
		if ((item = malloc(ENVELOPE_MAX_BYTES)) == NULL ||
		    envelope_write(item, ENVELOPE_MAX_BYTES, &ilen, e) != 0) {
			json_decref(f);
			rc = cli_fail(OFR_E_NOMEM, "msg.send");
			goto out;
		}
	}
	/* the sessions moved on: durable before anything leaves */
	if ((rc = cli_save(cli)) != 0) {
		json_decref(f);
		goto out;
	}
	if ((rc = send_with_retries(cli, f, &refused)) != 0) {
		if (refused)
			bind_give_back(cli, e->case_id, e->seq);
		goto out;
	}
	if (keyfile_history_add(cli->key, case_id, (int64_t)time(NULL), 1,
	    "me", text, len) == 0)
		cli->dirty = 1;
	if (item != NULL) {
		int from = KS_ITEM_MINE;
		char me[OFR_B64_LEN(OFR_PK_BYTES)];

		/* a colleague's meeting or agreement counts for nothing, at
		 * the others' and here (meetings.c) */
		b64_encode(me, sizeof(me), keyfile_pk(cli->key), OFR_PK_BYTES);
		if ((e->kind == ENVELOPE_MEETING ||
		    e->kind == ENVELOPE_AGREEMENT) &&
		    cases_key_side(kase, me) == KS_ITEM_NO_SIDE) {
			from = KS_ITEM_NO_SIDE;
			fputs("offramp: sent, but a colleague's meetings and "
			    "agreement count for nothing: they are the client's "
			    "and its counsellor's\n", stderr);
		}
		if (keyfile_item_add(cli->key, case_id, e->time, from, "me",
		    item + ENVELOPE_V2_HDR_BYTES - 1,
		    ilen - ENVELOPE_V2_HDR_BYTES + 1) == 0)
			cli->dirty = 1;
	}
	if ((rc = cli_save(cli)) != 0)
		goto out;
	b64_encode(b64, sizeof(b64), mid, sizeof(mid));
	printf("sent: %s\n", b64);
out:
	if (item != NULL) {
		sodium_memzero(item, ENVELOPE_MAX_BYTES);
		free(item);
	}
	json_decref(cases);
	return rc;
}

int
cmd_send(struct cli *cli, int argc, char **argv)
{
	struct envelope e;
	char *text;
	size_t len = 0;
	int64_t id;
	int rc;

	if (argc < 2 || cli_parse_id(argv[0], &id) != 0)
		return cli_usage("send CASE TEXT...");
	argc--, argv++;
	if (strcmp(argv[0], "--") == 0 && argc > 1)
		argc--, argv++;
	if ((text = malloc(CLI_TEXT_MAX + 1)) == NULL)
		return cli_fail(OFR_E_NOMEM, "send");
	if ((rc = message_text(argc, argv, text, CLI_TEXT_MAX + 1,
	    &len)) == 0) {
		memset(&e, 0, sizeof(e));
		e.kind = ENVELOPE_TEXT;
		e.text = (const uint8_t *)text;
		e.text_len = len;
		rc = messages_send(cli, id, &e, text, len);
	}
	sodium_memzero(text, CLI_TEXT_MAX + 1);
	free(text);
	return rc;
}

/* --- recv --- */

int
cmd_recv(struct cli *cli, int argc, char **argv)
{
	const char *count_s = NULL, *wait_s = NULL;
	const struct cli_opt opts[] = {
		{ "--count", &count_s, NULL },
		{ "--wait", &wait_s, NULL },
		{ NULL, NULL, NULL }
	};
	struct conn_event ev;
	struct msg_acks acks = { .n = 0 };
	json_t *cases = NULL, *c;
	int64_t count = 0, printed = 0, deadline = 0;
	size_t i;
	int npos, rc, wait_ms = 1000, bound_ms;
	enum msg_fate fate;

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (count_s != NULL && cli_parse_id(count_s, &count) != 0)
		return cli_usage("--count is a number above 0");
	if (wait_s != NULL && cli_parse_secs(wait_s, &wait_ms) != 0)
		return cli_usage("--wait is a number of seconds");
	if ((rc = account_login(cli)) != 0)
		return rc;
	if (!may_list(cli))
		cases = json_array();	/* an admin is in no case */
	else if ((rc = cases_list(cli, &cases)) != 0)
		return rc;
	json_array_foreach(cases, i, c)
		(void)trust_check_case(cli, c);	/* warns */
	/* --count N: N messages within --wait, or --timeout without it;
	 * else --wait is the quiet time that ends it */
	bound_ms = count != 0 && wait_s != NULL ? wait_ms : cli->timeout_ms;
	deadline = cli_now_ms() + bound_ms;
	while (count == 0 || printed < count) {
		if (acks.n > 0 && !conn_has_frames(cli->conn) &&
		    (rc = messages_ack_flush(cli, cases, &acks)) != 0)
			goto out;
		rc = conn_wait(cli->conn, &ev, 0, count ? left_ms(deadline) :
		    wait_ms);
		if (rc == OFR_E_TIMEOUT && count == 0)
			break;
		if (rc != 0) {
			(void)messages_ack_flush(cli, cases, &acks);
			rc = rc == OFR_E_TIMEOUT ? cli_fail(rc, "%lld of %lld "
			    "messages in %d ms", (long long)printed,
			    (long long)count, bound_ms) :
			    cli_fail(rc, "%s", conn_error(cli->conn));
			goto out;
		}
		if (ev.kind == CONN_EV_WATCH) {	/* offramp daemon */
			conn_event_clear(&ev);
			if ((rc = cli_serve(cli)) != 0)
				goto out;
			continue;
		}
		if (strcmp(frame_type(ev.frame), "msg") == 0) {
			fate = print_message(cli, case_of(cli, &cases,
			    ev.frame), ev.frame, 1);
			if (fate == MSG_FAIL) {
				conn_event_clear(&ev);
				(void)messages_ack_flush(cli, cases, &acks);
				rc = E_UNCHECKED;
				goto out;
			}
			if (fate != MSG_NOTICE)
				printed++;
			/* MSG_KEEP: left on the server, not acknowledged */
			if ((fate == MSG_ACK || fate == MSG_NOTICE) &&
			    messages_ack_add(&acks, ev.frame) != 0)
				fprintf(stderr, "offramp: a message without "
				    "seq: not acknowledged\n");
			if (acks.n == OFR_ACKS_MAX &&
			    (rc = messages_ack_flush(cli, cases, &acks)) != 0) {
				conn_event_clear(&ev);
				goto out;
			}
		} else if (strcmp(frame_type(ev.frame), "case") == 0) {
			case_notice(cli, cases, ev.frame);
		} else if (strcmp(frame_type(ev.frame), "prekeys.low") == 0 &&
		    (rc = e2e_replenish(cli, ev.frame)) != 0) {
			conn_event_clear(&ev);
			goto out;
		}
		conn_event_clear(&ev);
	}
	rc = messages_ack_flush(cli, cases, &acks);
out:
	json_decref(cases);
	return rc;
}

/* --- chat --- */

struct chat {
	struct cli *cli;
	int64_t id;		/* the case */
	json_t *cases;
	struct msg_acks acks;
	int64_t pending[CHAT_WINDOW + 1];	/* request ids in flight */
	char *ptext[CHAT_WINDOW + 1];		/* and their texts */
	size_t plen[CHAT_WINDOW + 1];
	uint32_t pseq[CHAT_WINDOW + 1];		/* and running numbers */
	int npending, nsends;
	int64_t ack_id;		/* the msg.ack in flight, or 0 */
	int failed;		/* a line not sent, a request refused */
	int stop;		/* an error code to stop with, or 0 */
};

static void
chat_send(struct chat *ch, const char *line, size_t len)
{
	uint8_t mid[OFR_MID_BYTES];
	json_t *kase = cases_find(ch->cases, ch->id), *f = NULL;
	int64_t rid, t;
	uint32_t seq;

	if (len == 0)
		return;
	if (!text_utf8_ok(line, len)) {
		fprintf(stderr, "offramp: not UTF-8 text: not sent\n");
		ch->failed = 1;
		return;
	}
	randombytes_buf(mid, sizeof(mid));
	/* the case as the last push has it, checked as send checks it */
	if (messages_seal(ch->cli, kase, mid, line, len, &f) != 0 ||
	    cli_save(ch->cli) != 0) {
		json_decref(f);
		ch->failed = 1;
		return;
	}
	/* the number it took (messages_seal bound it) */
	keyfile_bind_get(ch->cli->key, ch->id, keyfile_pk(ch->cli->key), &seq,
	    &t);
	if (conn_send(ch->cli->conn, f, &rid) != 0) {
		cli_fail(OFR_E_TOO_BIG, "message not sent");
		bind_give_back(ch->cli, ch->id, seq);
		ch->failed = 1;
		return;
	}
	if ((ch->ptext[ch->npending] = malloc(len + 1)) != NULL)
		memcpy(ch->ptext[ch->npending], line, len);
	ch->plen[ch->npending] = len;
	ch->pseq[ch->npending] = seq;
	ch->pending[ch->npending++] = rid;
	ch->nsends++;
}

static void
chat_text_free(char *t, size_t len)
{
	if (t != NULL) {
		sodium_memzero(t, len);
		free(t);
	}
}

/* Takes the response to one of our requests; 0 if f is none. */
static int
chat_response(struct chat *ch, json_t *f)
{
	json_t *re = json_object_get(f, "re");
	int64_t id = json_integer_value(re);
	int is_ack, ok = strcmp(frame_type(f), "error") != 0;
	const char *code = json_string_value(json_object_get(f, "code"));

	if (!json_is_integer(re))
		return 0;
	is_ack = id == ch->ack_id;
	if (is_ack) {
		ch->ack_id = 0;
	} else {
		int i;

		for (i = 0; i < ch->npending && ch->pending[i] != id; i++)
			;
		if (i == ch->npending)
			return 1;	/* not ours: ignore */
		if (ok && ch->ptext[i] != NULL && keyfile_history_add(
		    ch->cli->key, ch->id, (int64_t)time(NULL), 1, "me",
		    ch->ptext[i], ch->plen[i]) == 0)
			ch->cli->dirty = 1;
		/* refused for good (its one try; not "unavailable" nor
		 * "internal", as send_with_retries): nothing stored */
		if (!ok && code != NULL && strcmp(code, "unavailable") != 0 &&
		    strcmp(code, "internal") != 0)
			bind_give_back(ch->cli, ch->id, ch->pseq[i]);
		chat_text_free(ch->ptext[i], ch->plen[i]);
		ch->npending--;
		ch->pending[i] = ch->pending[ch->npending];
		ch->ptext[i] = ch->ptext[ch->npending];
		ch->plen[i] = ch->plen[ch->npending];
		ch->pseq[i] = ch->pseq[ch->npending];
		ch->ptext[ch->npending] = NULL;
		ch->nsends--;
	}
	if (strcmp(frame_type(f), "error") == 0) {
		cli_fail_request(ch->cli, OFR_E_INTERNAL, f,
		    is_ack ? "msg.ack" : "msg.send");
		ch->failed = 1;
	}
	return 1;
}

static void
chat_frame(struct chat *ch, json_t *f)
{
	const char *type = frame_type(f);
	enum msg_fate fate;

	if (chat_response(ch, f))
		return;
	if (strcmp(type, "prekeys.low") == 0) {
		if (e2e_replenish(ch->cli, f) != 0)
			ch->failed = 1;
	} else if (strcmp(type, "msg") == 0) {
		if (json_integer_value(json_object_get(f, "case")) != ch->id)
			return;	/* another case's: left for later */
		fate = print_message(ch->cli, cases_find(ch->cases, ch->id),
		    f, 0);
		if (fate == MSG_ACK || fate == MSG_NOTICE)
			(void)messages_ack_add(&ch->acks, f);
		else if (fate == MSG_FAIL)
			ch->stop = E_UNCHECKED;
	} else if (strcmp(type, "case") == 0) {
		case_notice(ch->cli, ch->cases, f);
	}
}

/* Lines of stdin out, frames in, until stdin ends and every request is
 * answered. 0 or an error code (printed). */
static int
chat_loop(struct chat *ch)
{
	struct cli *cli = ch->cli;
	struct conn_event ev;
	int64_t deadline = 0;
	int eof = 0, rc, flags;

	for (;;) {
		if (ch->acks.n > 0 && ch->ack_id == 0 &&
		    !conn_has_frames(cli->conn))
			reports_send(cli, ch->cases);	/* before the acks */
		if (ch->acks.n > 0 && ch->ack_id == 0 &&
		    !conn_has_frames(cli->conn) && (rc = cli_save(cli)) != 0)
			return rc;	/* not durable: no ack */
		if (ch->acks.n > 0 && ch->ack_id == 0 &&
		    !conn_has_frames(cli->conn) && (rc = conn_send(cli->conn,
		    ack_frame(&ch->acks), &ch->ack_id)) != 0)
			return cli_fail(rc, "msg.ack: %s",
			    conn_error(cli->conn));
		if (eof && ch->npending == 0 && ch->ack_id == 0 &&
		    ch->acks.n == 0)
			return cli_save(cli);
		flags = !eof && ch->nsends < CHAT_WINDOW ? CONN_WANT_STDIN : 0;
		rc = conn_wait(cli->conn, &ev, flags, eof ? left_ms(deadline) :
		    -1);
		if (rc == OFR_E_TIMEOUT)
			return cli_fail(rc, "no answer to %d requests within "
			    "%d ms", ch->npending + (ch->ack_id != 0),
			    cli->timeout_ms);
		if (rc != 0)
			return cli_fail(rc, "%s", conn_error(cli->conn));
		switch (ev.kind) {
		case CONN_EV_LINE:
			chat_send(ch, ev.data, ev.len);
			break;
		case CONN_EV_LINE_LONG:
			fprintf(stderr, "offramp: a line over %d bytes: not "
			    "sent\n", CLI_TEXT_MAX);
			ch->failed = 1;
			break;
		case CONN_EV_EOF:
			eof = 1;
			deadline = cli_now_ms() + cli->timeout_ms;
			break;
		case CONN_EV_FRAME:
			chat_frame(ch, ev.frame);
			break;
		case CONN_EV_WATCH:	/* offramp daemon: others wait */
			if ((rc = cli_serve(cli)) != 0) {
				conn_event_clear(&ev);
				return rc;
			}
			break;
		}
		if (ev.data != NULL)
			sodium_memzero(ev.data, ev.len);
		conn_event_clear(&ev);
		if (ch->stop != 0) {
			(void)messages_ack_flush(cli, ch->cases, &ch->acks);
			return ch->stop;
		}
	}
}

int
cmd_chat(struct cli *cli, int argc, char **argv)
{
	struct chat ch;
	char *pos[1];
	int npos, rc;

	memset(&ch, 0, sizeof(ch));
	ch.cli = cli;
	if ((rc = cli_parse(cli, argc, argv, NULL, pos, 1, &npos)) != 0)
		return rc;
	if (npos != 1 || cli_parse_id(pos[0], &ch.id) != 0)
		return cli_usage("chat CASE");
	if ((rc = account_login(cli)) != 0 ||
	    (rc = cases_list(cli, &ch.cases)) != 0)
		return rc;
	if (cases_find(ch.cases, ch.id) == NULL) {
		json_decref(ch.cases);
		return cli_fail(OFR_E_NOT_FOUND, "case %lld is not one of "
		    "yours", (long long)ch.id);
	}
	if ((rc = trust_before_send(cli, cases_find(ch.cases,
	    ch.id))) != 0) {
		json_decref(ch.cases);
		return rc;
	}
	if ((rc = conn_watch_stdin(cli->conn, CLI_TEXT_MAX)) != 0) {
		json_decref(ch.cases);
		return cli_fail(rc, "cannot watch stdin");
	}
	rc = chat_loop(&ch);
	for (int i = 0; i < ch.npending; i++)
		chat_text_free(ch.ptext[i], ch.plen[i]);
	json_decref(ch.cases);
	if (rc == 0 && ch.failed)
		rc = E_NOT_SENT;
	return rc;
}

/* --- history --- */

int
cmd_history(struct cli *cli, int argc, char **argv)
{
	struct ks_state *s;
	size_t shown = 0;
	int64_t id;
	int rc;

	if ((rc = cli_one_case(cli, argc, argv, "history CASE", &id)) != 0)
		return rc;
	if ((rc = cli_load_key(cli)) != 0)
		return rc;
	s = keyfile_state(cli->key);
	for (size_t i = 0; i < s->n_msgs; i++) {
		if (s->msgs[i].case_id != id)
			continue;
		text_puts(stdout, s->msgs[i].sent ? "me" : s->msgs[i].name);
		fputs(": ", stdout);
		text_put(stdout, s->msgs[i].text, s->msgs[i].len);
		fputc('\n', stdout);
		if (cli_json_on())
			cli_json(json_pack("{s:I,s:I,s:b,s:s,s:s%}", "case",
			    (json_int_t)id, "ts", (json_int_t)s->msgs[i].ts,
			    "sent", s->msgs[i].sent, "name", s->msgs[i].name,
			    "text", s->msgs[i].text, s->msgs[i].len));
		shown++;
	}
	if (shown == 0)
		fputs("(no messages kept for this case)\n", stderr);
	return 0;
}

