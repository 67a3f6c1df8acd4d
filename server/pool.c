/*
 * pool.c: the matching index, kept in step with the store. It turns store
 * rows into match.h profiles and requests (interning tokens), loads them at
 * start, and reads back every counsellor a request changed, or undid. Only
 * casework.c calls it: the domain layer decides when the pool follows.
 */
#include <string.h>

#include "log.h"
#include "pool.h"
#include "presence.h"
#include "proto/err.h"
#include "server.h"

static void
set_bit(uint64_t *set, int bit)
{
	set[bit >> 6] |= (uint64_t)1 << (bit & 63);
}

/* Interns each token of ",a,b," into set. */
static int
intern_list(struct match_index *ix, const char *list, uint64_t *set)
{
	char tok[OFR_TOKEN_MAX + 1];
	const char *p = list;

	while (*p == ',' && p[1] != '\0') {
		const char *end = strchr(p + 1, ',');
		size_t n;
		int id;

		if (end == NULL)
			break;
		n = (size_t)(end - p - 1);
		if (n == 0 || n > OFR_TOKEN_MAX)
			return OFR_E_BAD_FIELD;
		memcpy(tok, p + 1, n);
		tok[n] = '\0';
		if ((id = match_token(ix, tok, 1)) == 0)
			return OFR_E_LIMIT;
		set_bit(set, id);
		p = end;
	}
	return 0;
}

static int
intern(struct match_index *ix, const char *tok, uint8_t *out)
{
	int id;

	*out = 0;
	if (tok[0] == '\0')
		return 0;
	if ((id = match_token(ix, tok, 1)) == 0)
		return OFR_E_LIMIT;
	*out = (uint8_t)id;
	return 0;
}

int
pool_profile(struct server *srv, const struct counsellor *c,
    struct match_profile *mp)
{
	struct match_index *ix = srv->pool;
	int rc;

	memset(mp, 0, sizeof(*mp));
	mp->id = c->acct.id;
	mp->programme = c->acct.programme;
	if ((rc = intern_list(ix, c->prof.languages, mp->languages)) != 0 ||
	    (rc = intern_list(ix, c->prof.topics, mp->topics)) != 0 ||
	    (rc = intern(ix, c->prof.gender, &mp->gender)) != 0 ||
	    (rc = intern(ix, c->prof.region, &mp->region)) != 0)
		return rc;
	for (int h = 0; h < 168; h++)
		if (c->prof.hours[h / 8] & (1u << (h % 8)))
			match_hours_set(mp->hours, h);
	mp->age_band = (uint8_t)c->prof.age_band;
	mp->background = (uint8_t)c->prof.background;
	mp->formats = (uint8_t)c->prof.formats;
	mp->presence = (uint8_t)c->prof.presence;
	mp->there = (uint8_t)presence_there(c->acct.id);
	mp->eligible = c->certified && !c->acct.disabled;
	mp->capacity = c->prof.capacity;
	mp->open = c->open;
	mp->last_assigned = c->last_assigned;
	return 0;
}

static int
load_one(void *arg, const struct counsellor *c)
{
	struct server *srv = arg;
	struct match_profile mp;
	int rc;

	if ((rc = pool_profile(srv, c, &mp)) != 0) {
		/* A profile past the token table's size matches nobody. */
		log_warn("pool: counsellor %lld not matchable: %s",
		    (long long)c->acct.id, err_str(rc));
		return 0;
	}
	return match_put(srv->pool, &mp);
}

int
pool_load(struct server *srv)
{
	struct match_index *ix = match_new();
	struct match_index *old = srv->pool;
	int rc;

	if (ix == NULL)
		return OFR_E_NOMEM;
	srv->pool = ix;
	if ((rc = store_counsellor_each(srv->st, 0, SIZE_MAX, load_one,
	    srv)) != 0) {
		srv->pool = old;
		match_free(ix);
		return rc;
	}
	match_free(old);
	srv->touched_n = 0;
	return 0;
}

static int
refresh(struct server *srv, int64_t id)
{
	struct counsellor c;
	struct match_profile mp;
	int rc;

	rc = store_counsellor_get(srv->st, id, &c);
	if (rc == OFR_E_NOT_FOUND) {
		match_remove(srv->pool, id);
		return 0;
	}
	if (rc != 0)
		return rc;
	rc = pool_profile(srv, &c, &mp);
	if (rc == OFR_E_LIMIT) {
		/* Tokens are never freed one by one: rebuild the index, which
		 * keeps only the tokens profiles still name, and try again. */
		match_remove(srv->pool, id);
		if ((rc = pool_load(srv)) != 0)
			return rc;
		/* The rebuild read this request's writes: undoing it must
		 * rebuild again (pool_request_undone: over the bound). */
		srv->touched_n = POOL_TOUCHED_MAX + 1;
		rc = pool_profile(srv, &c, &mp);
	}
	if (rc != 0) {
		match_remove(srv->pool, id);
		return rc;
	}
	return match_put(srv->pool, &mp);
}

int
pool_refresh(struct server *srv, int64_t id)
{
	if (srv->touched_n < POOL_TOUCHED_MAX)
		srv->touched[srv->touched_n] = id;
	srv->touched_n++;
	return refresh(srv, id);
}

void
pool_there(struct server *srv, int64_t id)
{
	struct match_profile *mp = match_get(srv->pool, id);

	if (mp != NULL)
		mp->there = (uint8_t)presence_there(id);
}

void
pool_request_begin(struct server *srv)
{
	srv->touched_n = 0;
}

void
pool_request_undone(struct server *srv)
{
	if (srv->touched_n > POOL_TOUCHED_MAX) {
		if (pool_load(srv) != 0)
			log_err("pool: cannot reload the index");
		return;
	}
	for (size_t i = 0; i < srv->touched_n; i++)
		refresh(srv, srv->touched[i]);
	srv->touched_n = 0;
}

int
pool_case_request(struct server *srv, const struct case_info *c,
    struct match_request *rq)
{
	struct match_index *ix = srv->pool;

	memset(rq, 0, sizeof(*rq));
	/* Clients' tokens are never added to the table (a client could fill
	 * it): one no counsellor has named matches no constraint. */
	rq->language = (uint8_t)match_token(ix, c->language, 0);
	if (c->topic[0] != '\0' &&
	    (rq->topic = (uint8_t)match_token(ix, c->topic, 0)) == 0)
		rq->language = 0;		/* a topic nobody takes */
	rq->programme = c->prefs.programme;
	rq->exclude = c->left;
	rq->gender = (uint8_t)match_token(ix, c->prefs.gender, 0);
	rq->region = (uint8_t)match_token(ix, c->prefs.region, 0);
	rq->age_band = (uint8_t)c->prefs.age_band;
	rq->background = (uint8_t)c->prefs.background;
	rq->format = (uint8_t)c->prefs.format;
	return 0;
}
