/*
 * nodes.h: what the other nodes of one PostgreSQL database told this
 * one, done here (nodes.c). cluster.c carries the notes; this module
 * acts on them for the connections of this node.
 */
#ifndef OFFRAMP_NODES_H
#define OFFRAMP_NODES_H

struct server;

/* In the loop, after a wake: the notes cluster.c took for the accounts
 * connected here: their sessions fetch what waits for them from the
 * store (session_wake_account), are closed (session_drop_account), are
 * told of a delivery (msg.delivered), or are pushed a frame (held, as
 * every push, until this node's turn ends). When notes were lost, every
 * session fetches from the store. Nothing on SQLite. */
void nodes_drain(struct server *srv);
/* Once the loop runs (srv->conn set), on PostgreSQL: every few seconds
 * the accounts connected here that another node disabled or erased are
 * closed (a backstop of the x notes, which may be lost); so too when
 * nodes_drain() finds that notes were lost. */
void nodes_start(struct server *srv);

#endif
