/*
 * messages.h: what messages.c lends to the other long command, offramp
 * inbox (inbox.c): a msg push checked, opened and kept in the history,
 * with the warnings recv and chat give; a text sealed for a case after
 * the checks before sending; acknowledgements that go only once the
 * reports owed have left and the store is saved. Nothing here prints a
 * message line: the caller does, its own way.
 */
#ifndef OFFRAMP_CLI_MESSAGES_H
#define OFFRAMP_CLI_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/limits.h"
#include "proto/ocrypto.h"

struct cli;
struct envelope;

/* What became of a msg push (messages_take). */
enum msg_fate {
	MSG_ACK,	/* shown, or refused for good: acknowledge it */
	MSG_NOTICE,	/* not a message line (a report, filler): acknowledge */
	MSG_KEEP,	/* refused until the user decides: leave it */
	MSG_FAIL,	/* could not be checked (printed): stop */
};

/* A msg push as messages_take found it; messages_in_clear frees it. */
struct msg_in {
	int64_t case_id;
	int64_t ts;		/* the server's time of the message */
	const char *from;	/* the sender's key (base64), borrowed from
				 * the push, or "" */
	const char *name;	/* the sender's name in the case, or "?";
				 * borrowed from the case (or static) */
	char *text;		/* the text (malloc'd, NUL-terminated), or
				 * NULL: then mark says why there is none */
	size_t len;
	const char *mark;	/* static: "[refused: ...]" and the like */
	int refused;		/* mark is a refusal (the sender's key) */
	unsigned reason;	/* an unreadable one: enum envelope_reason */
	int reset;		/* an unreadable one: sessions dropped */
	uint8_t kind;		/* a text: the envelope's kind (a meeting or
				 * an agreement is shown as a text) */
	int64_t bound_case;	/* refused as moved: the case it named */
	int replayed;		/* shown, but its number was not new: not
				 * kept (warned of on stderr) */
};

/*
 * Checks and opens msg push f of case kase (may be NULL: its sender is a
 * stranger) into *m, and keeps a text in the history (cli->dirty). A
 * report is told on stderr (MSG_NOTICE); MSG_FAIL was printed. For
 * MSG_ACK and MSG_KEEP, *m holds a text or a mark: print it, then
 * messages_warn, then messages_in_clear.
 */
enum msg_fate messages_take(struct cli *cli, json_t *kase, json_t *f,
    struct msg_in *m);
/* The warning on stderr for a message shown without its text (refused,
 * unreadable), as recv and chat give it; nothing for a text. */
void messages_warn(const struct msg_in *m);
/* Wipes and frees the text of m; harmless twice. */
void messages_in_clear(struct msg_in *m);

/*
 * A msg.send of text (len bytes, at most CLI_TEXT_MAX, UTF-8) for case
 * kase, after the checks before sending (trust_before_send; not in a
 * waiting or closed case): 0 with *out (caller owns), or an error code
 * (printed). The sessions advanced: the caller saves the store before
 * sending.
 */
int messages_seal(struct cli *cli, json_t *kase,
    const uint8_t mid[OFR_MID_BYTES], const char *text, size_t len,
    json_t **out);

/*
 * Sends the envelope e (kind and body set; messages_seal binds it) in
 * case case_id after the checks before sending, as offramp send does:
 * login, the case from case.list, sealed, the store saved, sent (with
 * retries), then text (len bytes, what the history keeps) in the history
 * and, for a meeting, an agreement or a referral card, the item; prints
 * "sent: MID".
 * 0 or an error code (printed).
 */
int messages_send(struct cli *cli, int64_t case_id, struct envelope *e,
    const char *text, size_t len);

/*
 * messages_send, but the text goes to participant to alone (when not
 * NULL): the others get a "nothing" copy (a msg.send must name every
 * joined participant); with summary, to gets the only copy, sent as a
 * referral.summary (PROTOCOL.md, "Referrals").
 */
int messages_send_to(struct cli *cli, int64_t case_id, struct envelope *e,
    const char *text, size_t len, const uint8_t *to, int summary);

/* Seqs received and shown, not yet acknowledged. */
struct msg_acks {
	int64_t seqs[OFR_ACKS_MAX];
	size_t n;
};
/* Adds the seq of msg push f to a: 0, or OFR_E_BAD_FIELD when f has
 * none, OFR_E_LIMIT when a is full. */
int messages_ack_add(struct msg_acks *a, json_t *f);
/* Acknowledges what a holds (and empties it), once the reports owed
 * have left (cases: the list to find their cases in) and the store is
 * saved; waits for the answer. 0 or an error code (printed). */
int messages_ack_flush(struct cli *cli, json_t *cases, struct msg_acks *a);

#endif
