/*
 * casework_int.h: the domain layer's private header, for casework.c and
 * casework_referral.c and nothing else: what one part of the module asks
 * of the other.
 */
#ifndef OFFRAMP_CASEWORK_INT_H
#define OFFRAMP_CASEWORK_INT_H

struct server;

/* Matches every accepted referral waiting for a partner counsellor (at
 * most a batch), as the rematch does for waiting cases
 * (casework_referral.c). 0 or a negative code. */
int casework_referral_rematch(struct server *srv);

#endif
