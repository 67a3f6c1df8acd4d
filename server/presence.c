/*
 * presence.c: the counsellors that are there (presence.h), in a hash of
 * the counsellors with at least one logged-in connection here or there on
 * another node. An entry lives while either holds, so the table holds no
 * more entries than there are connections and counsellors of other
 * nodes. It knows no store, no session and no clock of its own: callers
 * pass the time, and what other nodes have.
 */
#include <stdlib.h>

#include "presence.h"
#include "proto/err.h"

#define BUCKETS	1024

struct here {
	int64_t id;
	int conns;			/* logged-in connections */
	int64_t last_work;		/* seconds */
	int idle;			/* no work for the idle time */
	int remote;			/* there on another node */
	unsigned seen;			/* the remote pass that saw it */
	struct here *next;
};

static struct here *table[BUCKETS];
static unsigned pass;			/* presence_remote_begin()'s */

static struct here **
slot(int64_t id)
{
	struct here **pp = &table[(uint64_t)id % BUCKETS];

	while (*pp != NULL && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

static struct here *
find(int64_t id)
{
	return *slot(id);
}

/* There: a connection here, not idle, or another node's. */
static int
there(const struct here *h)
{
	return h != NULL && ((h->conns > 0 && !h->idle) || h->remote);
}

int
presence_connect(int64_t id, int64_t now)
{
	struct here **pp = slot(id), *h = *pp;
	int was_there;

	if (h == NULL) {
		if ((h = calloc(1, sizeof(*h))) == NULL)
			return OFR_E_NOMEM;
		h->id = id;
		*pp = h;
	}
	was_there = there(h);
	h->conns++;
	h->last_work = now;
	h->idle = 0;
	return !was_there;
}

int
presence_disconnect(int64_t id)
{
	struct here **pp = slot(id), *h = *pp;

	if (h == NULL || h->conns == 0)
		return 0;
	if (--h->conns > 0)
		return 0;
	if (h->remote) {
		h->idle = 0;		/* there still, on another node */
		return 0;
	}
	*pp = h->next;
	free(h);
	return 1;
}

int
presence_work(int64_t id, int64_t now)
{
	struct here *h = find(id);
	int back;

	if (h == NULL || h->conns == 0)
		return 0;
	back = h->idle;
	h->idle = 0;
	h->last_work = now;
	return back;
}

int
presence_there(int64_t id)
{
	return there(find(id));
}

int
presence_here(int64_t id)
{
	const struct here *h = find(id);

	return h != NULL && h->conns > 0 && !h->idle;
}

size_t
presence_here_all(int64_t *out, size_t max)
{
	size_t n = 0;

	for (size_t b = 0; b < BUCKETS; b++)
		for (struct here *h = table[b]; h != NULL; h = h->next)
			if (h->conns > 0 && !h->idle) {
				if (n == max)
					return max + 1;
				out[n++] = h->id;
			}
	return n;
}

void
presence_remote_begin(void)
{
	pass++;
}

int
presence_remote_seen(int64_t id)
{
	struct here **pp = slot(id), *h = *pp;
	int was_there;

	if (h == NULL) {
		if ((h = calloc(1, sizeof(*h))) == NULL)
			return OFR_E_NOMEM;
		h->id = id;
		*pp = h;
	}
	was_there = there(h);
	h->remote = 1;
	h->seen = pass;
	return !was_there;
}

size_t
presence_remote_end(int64_t *out, size_t max)
{
	size_t n = 0;

	for (size_t b = 0; b < BUCKETS && n < max; b++) {
		struct here **pp = &table[b];

		while (*pp != NULL && n < max) {
			struct here *h = *pp;

			if (!h->remote || h->seen == pass) {
				pp = &h->next;
				continue;
			}
			h->remote = 0;
			if (!there(h))
				out[n++] = h->id;
			if (h->conns == 0) {
				*pp = h->next;
				free(h);
			} else {
				pp = &h->next;
			}
		}
	}
	return n;
}

int
presence_connections(int64_t id)
{
	const struct here *h = find(id);

	return h != NULL ? h->conns : 0;
}

int
presence_idle(int64_t id)
{
	const struct here *h = find(id);

	return h != NULL && h->idle;
}

size_t
presence_age(int64_t now, int64_t idle_after, int64_t *out, size_t max)
{
	size_t n = 0;

	if (idle_after <= 0)
		return 0;
	for (size_t b = 0; b < BUCKETS && n < max; b++)
		for (struct here *h = table[b]; h != NULL && n < max;
		    h = h->next)
			if (h->conns > 0 && !h->idle &&
			    now - h->last_work >= idle_after) {
				h->idle = 1;
				out[n++] = h->id;
			}
	return n;
}

void
presence_clear(void)
{
	for (size_t b = 0; b < BUCKETS; b++)
		while (table[b] != NULL) {
			struct here *h = table[b];

			table[b] = h->next;
			free(h);
		}
}
