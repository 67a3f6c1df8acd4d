/*
 * cluster.h: what one node tells the others of the same PostgreSQL
 * database (cluster.c): that an account has copies waiting in the store,
 * that a copy it sent was delivered, that it was disabled, what was
 * pushed to it (a case event: its frame as built at the change); and
 * which node runs the periodic jobs. A note names internal ids and a
 * kind, or carries a push's frame; never message content. On SQLite (one
 * node by definition) every call is a no-op and this node runs the
 * jobs.
 */
#ifndef OFFRAMP_CLUSTER_H
#define OFFRAMP_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "proto/limits.h"

struct server;

/* Starts the cluster's listener when url is a PostgreSQL store's (NULL or
 * another: nothing to do): a connection of its own, on a thread, that
 * LISTENs for the other nodes' notes and holds the jobs' lock when it is
 * free; wake() wakes the loop (thread-safe), which then acts on the
 * notes it takes (cluster_take(): nodes_drain()). 0, or OFR_E_NOMEM / OFR_E_INTERNAL (no thread); a
 * database not reached now is tried again in the background. */
int cluster_start(struct server *srv, const char *url, void (*wake)(void));
/* Stops the thread and closes its connection (the jobs' lock with it).
 * Harmless when not started. */
void cluster_stop(void);

/* Notes for the other nodes, sent inside the turn's transaction by
 * cluster_flush(): account has copies waiting in the store; account was
 * disabled (its connections go); the copy of message mid in case_id that
 * sender sent was acked by recipient (msg.delivered). */
void cluster_note_messages(int64_t account);
void cluster_note_drop(int64_t account);
void cluster_note_delivered(int64_t sender, int64_t case_id,
    const uint8_t mid[OFR_MID_BYTES], int64_t recipient);
/* The frame text (len bytes, compact JSON, no message content) pushed to
 * account's connections here goes to its connections on the other nodes
 * as it is, at the commit (copied: the caller keeps text). A frame too
 * long for a note wakes account there instead (its messages are
 * fetched; the change itself is seen at the next listing), logged.
 * case_id and event: the case and the number of the event it tells of
 * (store_case_event), 0 and 0 for a push of no case event. */
void cluster_note_frame(int64_t account, int64_t case_id, int64_t event,
    const char *text, size_t len);
/* Before the turn's commit: the turn's notes as NOTIFYs inside its
 * transaction (PostgreSQL delivers them at the commit, and only if it
 * commits). 0, or the store's error (the transaction is then aborted:
 * its commit fails, and every request of the turn is answered with an
 * error). The notes are forgotten either way. */
int cluster_flush(struct server *srv);
/* A unit of work begins (casework_begin); it ends undone (casework_end):
 * the notes it made are forgotten. */
void cluster_unit_begin(void);
void cluster_unit_undo(void);
/* A note of another node, as the loop takes it: kind CLUSTER_NOTE_*;
 * a the account (of d: the sender), b and c of d the case and the
 * recipient, mid of d the message; text of f the frame (len bytes and a
 * NUL, the taker's to free). */
enum {
	CLUSTER_NOTE_MESSAGES = 'm',	/* copies wait for a in the store */
	CLUSTER_NOTE_DELIVERED = 'd',	/* c acked b's copy of mid */
	CLUSTER_NOTE_DROP = 'x',	/* a was disabled or erased */
	CLUSTER_NOTE_FRAME = 'f',	/* a push to a */
};
struct cluster_note {
	char kind;
	int64_t a, b, c;
	uint8_t mid[OFR_MID_BYTES];
	char *text;
	size_t len;
};
/* In the loop, after a wake: the oldest note other nodes sent that is
 * not taken yet: 1 (in *n), or 0 (none left). Sets *lost to 1 (never
 * to 0) when notes were lost since the last take (a full ring, a
 * listener that reconnected): whatever they told must then be read
 * from the store. 0 always on SQLite. */
int cluster_take(struct cluster_note *n, int *lost);
/* On (1) while the loop acts on other nodes' notes: what it does then
 * is noted to nobody (nothing to tell again); off (0) after. */
void cluster_quiet(int on);
/* 1 when other nodes may share the store (a PostgreSQL store): a copy
 * goes to a connection from the store, in seq order, never from memory
 * (relay.c). */
int cluster_enabled(void);
/* 1 when this node runs the periodic jobs: it holds the jobs' lock, or
 * the store is SQLite's. */
int cluster_leader(void);

#endif
