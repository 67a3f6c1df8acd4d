/*
 * intake.h: what intake costs a client, and how long a waiting case lives
 * without it (PROTOCOL.md, "Proof of work", "Intake codes", "Waiting
 * cases"). Since nothing identifies a client, intake is protected by
 * cost, not identity: a proof of work for a new client account and for
 * each case request, whose difficulty rises with the number of them in
 * the last minute; a programme's intake code, kept as a hash; and the
 * time a waiting case outlives its client's last connection. It keeps
 * its counts and times in memory only; it knows no store, no session
 * and no clock of its own: callers pass the time.
 */
#ifndef OFFRAMP_INTAKE_H
#define OFFRAMP_INTAKE_H

#include <stdint.h>

#include "proto/limits.h"
#include "proto/pow.h"

#define INTAKE_CODE_MAX		OFR_INTAKE_CODE_MAX
#define INTAKE_HASH_BYTES	32
#define INTAKE_SOLVE_SECS	60	/* more login time once PoW is asked */

struct intake_config {
	int bits;		/* base difficulty; 0: no proof of work */
	int step;		/* intake events a minute for each bit more */
	int max_bits;		/* the most ever asked */
	int keep_waiting;	/* seconds a waiting case outlives its client */
};

/* Takes the settings (config.c checks their bounds). */
void intake_configure(const struct intake_config *cfg, int64_t now);
/* The difficulty now: bits + (events in the last 60 s) / step, at most
 * max_bits; 0 when bits is 0. */
int intake_bits(int64_t now);
/* Counts one intake event (a new client account, a case request). */
void intake_count(int64_t now);
/* Seconds a waiting case outlives its client's last connection. */
int intake_keep_waiting(void);

/* The hash of intake code code of programme (lowercased: codes are typed
 * from flyers) into out. 0, or -1 when code is not 4..64 of [A-Za-z0-9-]. */
int intake_code_hash(int64_t programme, const char *code,
    uint8_t out[INTAKE_HASH_BYTES]);

/* The waiting cases' keep-alive, one pass of the rematch job: call
 * intake_waiting_begin, then intake_waiting_seen for each waiting case
 * (present: its client has a connection now; since: when it began to
 * wait), which says whether it has outlived its client (1) or not (0),
 * then intake_waiting_end, which forgets cases not seen in the pass. 0,
 * or OFR_E_NOMEM (the case is then kept). */
void intake_waiting_begin(void);
/* This node runs the jobs from now on (at its start, or taken over from
 * another node): what it knew of waiting clients is forgotten, and a case
 * not seen since counts from now, as at a start. */
void intake_waiting_restart(int64_t now);
int intake_waiting_seen(int64_t case_id, int present, int64_t since,
    int64_t now);
void intake_waiting_end(void);

#endif
