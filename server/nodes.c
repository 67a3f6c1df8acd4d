/*
 * nodes.c: the notes of the other nodes (cluster.h), done for this
 * node's connections (nodes.h). cluster.c owns their transport and
 * calls nothing above the store; this module takes them in the loop and
 * calls the sessions and the relay. What it does for a note is told to
 * no other node (cluster_quiet()): the note went to each of them.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cluster.h"
#include "handlers.h"
#include "nodes.h"
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
			session_drop_account(n.a);
			break;
		case CLUSTER_NOTE_DELIVERED:
			delivered(srv, &n);
			break;
		case CLUSTER_NOTE_FRAME:
			session_push_account_text(n.a, n.text, n.len, NULL);
			break;
		}
		free(n.text);
	}
	if (lost)
		session_wake_all();
	cluster_quiet(0);
}
