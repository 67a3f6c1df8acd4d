/*
 * presence.h: which counsellors are there. A counsellor is there while at
 * least one of its connections is logged in and it has done some work of
 * its own (a request a person makes, not one a client sends by itself)
 * within the idle time. This is memory only, kept by casework.c, its only
 * caller: the store keeps what the counsellor chose (online, away or
 * offline), and matching takes a counsellor that chose online and is
 * there. At start nobody is there.
 *
 * Several nodes on one database: a counsellor is there too while another
 * node has it there (its connections are that node's): casework.c reads
 * the store's presence table once a period and tells this module
 * (presence_remote_*), and stores this node's own (presence_here_all).
 * presence_connections() and presence_idle() are of this node's
 * connections alone.
 */
#ifndef OFFRAMP_PRESENCE_H
#define OFFRAMP_PRESENCE_H

#include <stddef.h>
#include <stdint.h>

/* A connection of counsellor id logged in at now. 1 when it became there
 * (it had no connection, or was idle), 0 when it was there already, or
 * OFR_E_NOMEM. */
int presence_connect(int64_t id, int64_t now);
/* A connection of counsellor id closed. 1 when it is no longer there. */
int presence_disconnect(int64_t id);
/* Counsellor id did some work at now. 1 when it came back from idle. */
int presence_work(int64_t id, int64_t now);
/* 1 while counsellor id is there, here or on another node. */
int presence_there(int64_t id);
/* 1 while it is there by a connection to this node. */
int presence_here(int64_t id);
/* The counsellors there by a connection to this node, at most max into
 * out: their number, or max + 1 when there are more. */
size_t presence_here_all(int64_t *out, size_t max);
/* Other nodes: a pass begins; each counsellor other nodes have there is
 * seen (presence_remote_seen: 1 when it became there, 0 when it was,
 * or OFR_E_NOMEM); presence_remote_end() then forgets, for other nodes,
 * the ones the pass did not see, writing to out (at most max; the rest
 * at the next call) those no longer there at all. The number written. */
void presence_remote_begin(void);
int presence_remote_seen(int64_t id);
size_t presence_remote_end(int64_t *out, size_t max);
/* Its live connections (0 when none). */
int presence_connections(int64_t id);
/* 1 when it has a connection but has been idle too long. */
int presence_idle(int64_t id);
/* Marks idle every counsellor with no work since now - idle_after
 * (idle_after 0: nobody ever is), writing the ids that became idle to
 * out (at most max; the rest are marked at the next call). The number
 * written. */
size_t presence_age(int64_t now, int64_t idle_after, int64_t *out,
    size_t max);
/* Forgets everyone (the server stops). */
void presence_clear(void);

#endif
