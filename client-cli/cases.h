/*
 * cases.h: the case objects the server sends (cases.c): the list of
 * one's cases, a case in it, and its participants' keys, roles and names.
 */
#ifndef OFFRAMP_CLI_CASES_H
#define OFFRAMP_CLI_CASES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/ocrypto.h"

struct cli;

/* Asks for case.list: 0 with *cases the array of case objects (caller
 * owns), or an error code (printed). Drops the colleagues' keys
 * confirmed in a listed case that are no longer in it
 * (cases_keep_shown). */
int cases_list(struct cli *cli, json_t **cases);
/* Drops the colleagues' keys confirmed in case object kase (a listing's,
 * or a current push's) that are no longer among its participants
 * (keyfile_shown_keep): one gone and listed again is shown again. */
void cases_keep_shown(struct cli *cli, json_t *kase);
/* 1 when case object kase, a push's, is no older than held, the object
 * held for that case (or NULL): its membership version not below held's.
 * A push the daemon queued may be older than a listing read since. */
int cases_current(json_t *held, json_t *kase);
/* The case object with id in cases, or NULL; borrowed. */
json_t *cases_find(json_t *cases, int64_t id);
/* Logs in and finds case id among the caller's: 0 with *cases (caller
 * owns) and *kase (borrowed), or an error code (printed; not_found for a
 * case that is not the caller's). */
int cases_load(struct cli *cli, int64_t id, json_t **cases, json_t **kase);
/* Prints a list of waiting cases (case.queue, case.waiting), a line each:
 * ID LANGUAGE TOPIC URGENCY waiting=Ns, and for a referral waiting at the
 * caller's programme "referred by partner programme ID NAME" (the names
 * asked of cli once); none: what to say when empty. */
void cases_print_waiting(struct cli *cli, json_t *list, const char *none);
/* When the caller is the partner counsellor of kase's accepted referral
 * (it took or was given a waiting referral), prints "referral: from
 * partner programme ID NAME; you join as the referral's counsellor,
 * joining until the others confirmed you" (the names asked of cli). */
void cases_print_referral_joined(struct cli *cli, json_t *kase);
/* The object of array list whose "key" equals key (a participant, a
 * counsellor entry), or NULL; borrowed. */
json_t *cases_with_key(json_t *list, json_t *key);
/* The name of the participant with key (base64) in case kase (may be
 * NULL), or NULL; borrowed. */
const char *cases_key_name(json_t *kase, const char *key);
/* The side of the case kase that key (base64) is on, for its meetings
 * and agreement (enum ks_item_from): KS_ITEM_CLIENT (the participant as
 * "client"), KS_ITEM_COUNSELLOR (as "counsellor", in participants or
 * former: the assigned one, now or before), else KS_ITEM_NO_SIDE. */
int cases_key_side(json_t *kase, const char *key);

/* The role of participant object p (enum key_role) into *role. 0 or
 * OFR_E_BAD_FIELD. */
int cases_participant_role(json_t *p, int *role);
/* 1 if participant object p is a counsellor, else 0. */
int cases_is_counsellor(json_t *p);
/* Decodes the "key" of participant object p. 0 or OFR_E_BAD_FIELD. */
int cases_participant_key(json_t *p, uint8_t key[OFR_PK_BYTES]);
/* The "name" of participant object p, or "?"; borrowed. */
const char *cases_participant_name(json_t *p);
/* 1 if participant object p is a colleague brought into the case (a
 * counsellor there as supervisor, co-counsellor, language-helper or
 * referral), else 0. */
int cases_is_colleague(json_t *p);
/* 1 if the participants of case object kase are what the protocol
 * allows: at most one client (the user itself, key me, when my_role is
 * KEY_ROLE_CLIENT), every other a counsellor there as one the protocol
 * knows (the case's own at most once), none marked as gone; else 0. A
 * list the server made otherwise gets nothing sealed, and nothing from it
 * is read (trust.c). */
int cases_participants_ok(json_t *kase, const uint8_t me[OFR_PK_BYTES],
    int my_role);
/* 1 if participant object p is still joining (PROTOCOL.md,
 * "Co-counselling"): nothing may be sent to it. */
int cases_is_joining(json_t *p);
/* The participant of kase with key, or NULL; borrowed. */
json_t *cases_participant(json_t *kase, const uint8_t key[OFR_PK_BYTES]);
/* The former participant of kase with key, or NULL; borrowed. */
json_t *cases_former(json_t *kase, const uint8_t key[OFR_PK_BYTES]);

/* cocounsel.c: why a former participant left, in words ("left: ..."),
 * from its "reason"; and case.seen of kase's membership, once it was
 * shown (0 or an error code, printed). */
const char *cocounsel_reason_words(const char *reason);
int cocounsel_confirm(struct cli *cli, json_t *kase);

#endif
