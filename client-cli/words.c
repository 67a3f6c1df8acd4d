/*
 * words.c: the plain-words line of each error code a request can meet
 * (words.h): first the lines for a code of one request type, then the
 * line for the code, then a line for anything else. Every code of
 * proto/err.c has one (test_cli_words checks).
 */
#include <string.h>

#include "words.h"

struct words {
	const char *code;
	const char *type;	/* NULL: any request */
	const char *line;
};

static const struct words table[] = {
	/* a code of one request */
	{ "case_open", "case.request", "You already have an open "
	    "conversation: continue it (offramp cases shows it, offramp chat "
	    "ID), or close it first (offramp close ID)." },
	{ "case_waiting", "msg.send", "Nobody has joined this conversation "
	    "yet, so there is nobody to send to: wait until a counsellor "
	    "joins (offramp cases shows the status), then send again." },
	{ "forbidden", "case.take", "Only a counsellor of the programme the "
	    "case chose, who fits it and has room, can take it: see offramp "
	    "queue for the cases you can take." },
	{ "forbidden", "counsellor.certify", "Your programme has no signing "
	    "key yet: make it with offramp programme-key new --out FILE." },
	{ "forbidden", "programme.key.set", "Your programme has a signing key "
	    "already; it changes only by offramp programme-key rotate." },
	{ "limit", "case.take", "You have as many open cases as your capacity "
	    "allows: close or pause one, or ask your admin for more room." },
	{ "not_found", "login", "The server knows no account with this key." },
	{ "bad_invite", "redeem", "This invite is unknown, used or expired: "
	    "ask your programme's admin for a new one." },
	{ "wrong_role", "login", "This key file belongs to an account of "
	    "another role; use the key file made for this account." },
	/* any request */
	{ "bad_json", NULL, "The server could not read the request; this is "
	    "a bug in this program: please report it." },
	{ "too_big", NULL, "The request is larger than the server takes: "
	    "send a shorter text." },
	{ "bad_version", NULL, "This program speaks another protocol version "
	    "than the server: update it." },
	{ "unknown_type", NULL, "The server does not know this request: "
	    "this program and the server are of different versions." },
	{ "bad_field", NULL, "A value of the request was refused (the field "
	    "is named above): check what you typed (offramp --help)." },
	{ "not_logged_in", NULL, "The connection was not logged in: try "
	    "again." },
	{ "already_logged_in", NULL, "The connection was logged in already: "
	    "try again." },
	{ "bad_signature", NULL, "A signature did not verify: the key file "
	    "or the signing key does not match what the server holds." },
	{ "unknown_key", NULL, "The server knows no account with this key: "
	    "a counsellor or admin first redeems an invite (offramp redeem)." },
	{ "bad_invite", NULL, "This invite is unknown, used or expired: ask "
	    "your programme's admin for a new one." },
	{ "wrong_role", NULL, "This key file belongs to an account of "
	    "another role." },
	{ "forbidden", NULL, "Your account may not do this (its role or "
	    "programme does not allow it)." },
	{ "not_found", NULL, "There is no such thing among what you may see: "
	    "check the id or name (offramp cases, offramp counsellors)." },
	{ "case_open", NULL, "The conversation is still open." },
	{ "case_closed", NULL, "This conversation is closed: a counsellor can "
	    "reopen it (offramp reopen ID); a client starts a new one "
	    "(offramp request)." },
	{ "case_waiting", NULL, "Nobody has joined this conversation yet: "
	    "wait for a counsellor (offramp cases shows the status)." },
	{ "bad_recipients", NULL, "The people in this conversation changed "
	    "while the message was made: send it again." },
	{ "rate_limited", NULL, "Too many requests in too short a time: wait "
	    "a moment and try again." },
	{ "account_disabled", NULL, "This account is disabled by its "
	    "programme's admin: ask them." },
	{ "limit", NULL, "A limit of the server is reached (the most it "
	    "keeps of this): remove something first, or ask the operator." },
	{ "internal", NULL, "The server failed and changed nothing: try again "
	    "later; if it goes on, tell the server's operator." },
	{ "bad_state", NULL, "The conversation is not in a state that allows "
	    "this (offramp cases shows its status)." },
	{ "storage_full", NULL, "The server's disk is full: nothing was "
	    "changed; try again later (reading and acknowledging your messages "
	    "frees room)." },
	{ "recipient_full", NULL, "The recipient has too many messages "
	    "waiting on the server: nothing was sent; try again once they "
	    "have read some." },
	{ "unavailable", NULL, "The server cannot reach its database just "
	    "now: try again in a moment (a message sent again is stored "
	    "once)." },
	{ "timeout", NULL, "The server did not answer in time: check the "
	    "connection and try again (--timeout SEC waits longer)." },
	{ "connection", NULL, "The connection to the server failed: check "
	    "the address (--server), the network, and that the server runs." },
};

const char *
words_for(const char *code, const char *type)
{
	const struct words *w;

	if (code == NULL)
		code = "internal";
	for (w = table; w < table + sizeof(table) / sizeof(table[0]); w++)
		if (w->type != NULL && type != NULL &&
		    strcmp(w->code, code) == 0 && strcmp(w->type, type) == 0)
			return w->line;
	for (w = table; w < table + sizeof(table) / sizeof(table[0]); w++)
		if (w->type == NULL && strcmp(w->code, code) == 0)
			return w->line;
	return "The request was refused; the code above says why.";
}
