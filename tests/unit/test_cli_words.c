/*
 * test_cli_words.c: every error code a request can meet (proto/err.c:
 * the server's codes and the connection's) has its own plain-words line,
 * and a code of one request has the line written for it.
 */
#include <string.h>

#include "check.h"
#include "proto/err.h"
#include "words.h"

int
main(void)
{
	const char *fallback = words_for("no-such-code", NULL);

	for (int c = OFR_E_BAD_JSON; c >= OFR_E_BAD_STATE; c--)
		CHECK(words_for(err_str(c), "x.y") != fallback);
	CHECK(words_for(err_str(OFR_E_TIMEOUT), NULL) != fallback);
	CHECK(words_for(err_str(OFR_E_CONN), NULL) != fallback);
	CHECK(strstr(words_for("case_open", "case.request"),
	    "You already have an open conversation") != NULL);
	CHECK(words_for("case_open", "case.request") !=
	    words_for("case_open", "case.close"));
	CHECK(strstr(words_for("case_waiting", "msg.send"),
	    "Nobody has joined") != NULL);
	CHECK(words_for(NULL, NULL) == words_for("internal", NULL));
	return check_done();
}
