/*
 * pool.h: the server's counsellor pool in memory: the matching index of
 * match.h, loaded from the store at start and kept in step with it by
 * casework.c, its only caller. The store stays the truth: every refresh
 * reads it back, and a request whose writes are undone has its
 * counsellors read back again. With several nodes on one database
 * (store_shared()) other nodes write too: casework.c then reloads the
 * whole index now and then, and reads a counsellor back under its lock
 * before it gives it a case.
 */
#ifndef OFFRAMP_POOL_H
#define OFFRAMP_POOL_H

#include <stdint.h>

#include "match.h"
#include "store.h"

struct server;

/* Builds the index from the store. 0, or a negative code. */
int pool_load(struct server *srv);
/* Reads counsellor id back from the store into the index (removing it when
 * it is no counsellor) and remembers it as touched by this request. */
int pool_refresh(struct server *srv, int64_t id);
/* Sets whether counsellor id is there (presence.h) in the index; the
 * store is not read, since being there is not stored. */
void pool_there(struct server *srv, int64_t id);
/* Starts a request: forget the touched counsellors. */
void pool_request_begin(struct server *srv);
/* The request's writes were undone: read its counsellors back. */
void pool_request_undone(struct server *srv);
/* The matching request for a case's intake. OFR_E_LIMIT when a token
 * cannot be interned (the case then matches nobody). */
int pool_case_request(struct server *srv, const struct case_info *c,
    struct match_request *rq);
/* Fills a match_profile from a counsellor of the store. */
int pool_profile(struct server *srv, const struct counsellor *c,
    struct match_profile *mp);

#endif
