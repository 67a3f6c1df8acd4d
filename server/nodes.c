/*
 * nodes.c: the notes of the other nodes (cluster.h), done for this
 * node's connections (nodes.h). cluster.c owns their transport and
 * calls nothing above the store; this module takes them in the loop and
 * calls the sessions and the relay. What it does for a note is told to
 * no other node (cluster_quiet()): the note went to each of them.
 *
 * A disabled or erased account's connections close on every node by an
 * x note; a note may be lost (a full ring, a listener that reconnects).
 * So when notes were lost, and every NODES_CHECK seconds besides (a
 * timer of the loop, through srv->conn), the accounts connected here
 * are read in one query of the store, and those disabled or gone are
 * dropped here as an x note drops them: within NODES_CHECK seconds,
 * whatever was lost. The store's connection made again (its reads
 * failed while it was being made, store_pg.c) counts as notes lost:
 * every session here fetches again.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cluster.h"
#include "conn.h"
#include "handlers.h"
#include "log.h"
#include "nodes.h"
#include "proto/err.h"
#include "server.h"
#include "session.h"
#include "store.h"

/* A delivery another node took: msg.delivered to the sender's sessions
 * here, with the recipient's key from the store. */
static void
delivered(struct server *srv, const struct cluster_note *n)
{
	struct account to;

	if (!session_account_online(n->a))
		return;
	if (store_account_by_id(srv->st, n->c, &to) != 0)
		return;		/* gone since: nobody to name */
	relay_tell_delivered(n->a, n->b, n->mid, to.key);
}

#define NODES_CHECK	2	/* seconds between two reads of the barred */

static int
drop_one(void *arg, int64_t id)
{
	size_t *n = arg;

	session_drop_committed(id);
	(*n)++;
	return 0;
}

/* Closes the connections here of accounts that another node disabled
 * or erased. */
static void
drop_barred(struct server *srv)
{
	int64_t *ids;
	size_t n, dropped = 0;
	int rc;

	if ((ids = malloc(STORE_PRESENCE_MAX * sizeof(*ids))) == NULL)
		return;		/* the next check, then */
	if ((n = session_online_ids(0, ids, STORE_PRESENCE_MAX)) >
	    STORE_PRESENCE_MAX)
		n = STORE_PRESENCE_MAX;	/* the others at a note */
	cluster_quiet(1);
	rc = store_accounts_barred(srv->st, ids, n, drop_one, &dropped);
	cluster_quiet(0);
	free(ids);
	if (rc != 0)
		log_debug("nodes: cannot read the accounts connected here: "
		    "%s", err_str(rc));
	else if (dropped > 0)
		log_info("nodes: %zu accounts connected here were disabled or "
		    "erased elsewhere: their connections close", dropped);
}

static void
check_tick(void *arg)
{
	struct server *srv = arg;

	drop_barred(srv);
	srv->conn->timer(NODES_CHECK, check_tick, srv);
}

void
nodes_start(struct server *srv)
{
	if (cluster_enabled())
		srv->conn->timer(NODES_CHECK, check_tick, srv);
}

void
nodes_drain(struct server *srv)
{
	struct cluster_note n;
	int lost = 0;

	if (!cluster_enabled())
		return;
	cluster_quiet(1);
	while (cluster_take(&n, &lost)) {
		switch (n.kind) {
		case CLUSTER_NOTE_MESSAGES:
			session_wake_account(n.a);
			break;
		case CLUSTER_NOTE_DROP:
			session_drop_committed(n.a);
			break;
		case CLUSTER_NOTE_DELIVERED:
			delivered(srv, &n);
			break;
		case CLUSTER_NOTE_FRAME:
			session_push_case_text(n.a, n.b, n.c, n.text, n.len);
			break;
		}
		free(n.text);
	}
	cluster_quiet(0);
	/* the store's connection made again: the reads of pushes failed
	 * while it was lost, as if notes were */
	if (store_reconnected(srv->st))
		lost = 1;
	if (lost) {
		session_wake_all();
		drop_barred(srv);
	}
}
