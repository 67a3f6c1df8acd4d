/*
 * meetings.h: in-person meetings and the counselling agreement of a case
 * (CRYPTO.md, "Plaintext envelope": kinds meeting and agreement), which
 * travel inside the encryption like texts. messages.c shows a received
 * one with meetings_render; the commands meeting, meetings and agreement
 * send them and show what the key file kept.
 */
#ifndef OFFRAMP_CLI_MEETINGS_H
#define OFFRAMP_CLI_MEETINGS_H

#include <stddef.h>

struct envelope;

/*
 * The readable line of the meeting, agreement or referral card e, e.g.
 * "[meeting 42 proposed: 2026-01-02 10:00 UTC; place: ...; recognise:
 * ...]" or "[referral to NAME; contact: ...; what to expect: ...; what
 * to say: ...]", into
 * *out (malloc'd, NUL-terminated; the fields as they came: print it with
 * text_put), *len its length. 0, OFR_E_NOMEM, or OFR_E_BAD_FIELD for
 * another kind.
 */
int meetings_render(const struct envelope *e, char **out, size_t *len);

#endif
