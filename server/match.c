/*
 * match.c: the counsellor index and the matching rule of match.h. Profiles
 * live in one array, found by id through an open-addressing table; a match
 * is one pass over the array with bit tests, no allocation. It never runs
 * SQL and never reads the clock.
 */
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "proto/err.h"
#include "proto/frame.h"

/* Weights of the soft preferences: what a client most often chooses by
 * first (format of the contact, then peer or professional). */
#define W_FORMAT	16
#define W_BACKGROUND	8
#define W_GENDER	4
#define W_AGE		2
#define W_REGION	1

#define SLOT_EMPTY	((size_t)-1)

struct match_index {
	struct match_profile *p;
	size_t n, cap;
	size_t *slots;			/* ids -> index in p; power of two */
	size_t nslots;
	char tokens[MATCH_TOKENS_MAX + 1][OFR_TOKEN_MAX + 1];
	int ntokens;
};

static size_t
hash_id(int64_t id, size_t nslots)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 17) &
	    (nslots - 1);
}

/* The slot holding id, or the empty slot where it would go. */
static size_t
find_slot(const struct match_index *ix, int64_t id)
{
	size_t i = hash_id(id, ix->nslots);

	while (ix->slots[i] != SLOT_EMPTY && ix->p[ix->slots[i]].id != id)
		i = (i + 1) & (ix->nslots - 1);
	return i;
}

static int
rehash(struct match_index *ix, size_t nslots)
{
	size_t *slots = malloc(nslots * sizeof(*slots));

	if (slots == NULL)
		return OFR_E_NOMEM;
	for (size_t i = 0; i < nslots; i++)
		slots[i] = SLOT_EMPTY;
	free(ix->slots);
	ix->slots = slots;
	ix->nslots = nslots;
	for (size_t k = 0; k < ix->n; k++)
		ix->slots[find_slot(ix, ix->p[k].id)] = k;
	return 0;
}

struct match_index *
match_new(void)
{
	struct match_index *ix = calloc(1, sizeof(*ix));

	if (ix == NULL)
		return NULL;
	if (rehash(ix, 64) != 0) {
		free(ix);
		return NULL;
	}
	return ix;
}

void
match_free(struct match_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->p);
	free(ix->slots);
	free(ix);
}

int
match_token(struct match_index *ix, const char *s, int add)
{
	if (!frame_is_token(s))
		return 0;
	for (int i = 1; i <= ix->ntokens; i++)
		if (strcmp(ix->tokens[i], s) == 0)
			return i;
	if (!add || ix->ntokens == MATCH_TOKENS_MAX)
		return 0;
	ix->ntokens++;
	strcpy(ix->tokens[ix->ntokens], s);	/* frame_is_token: fits */
	return ix->ntokens;
}

const char *
match_token_name(const struct match_index *ix, int id)
{
	if (id < 1 || id > ix->ntokens)
		return NULL;
	return ix->tokens[id];
}

int
match_put(struct match_index *ix, const struct match_profile *p)
{
	size_t slot;

	if ((ix->n + 1) * 2 > ix->nslots &&
	    rehash(ix, ix->nslots * 2) != 0)
		return OFR_E_NOMEM;
	slot = find_slot(ix, p->id);
	if (ix->slots[slot] != SLOT_EMPTY) {
		ix->p[ix->slots[slot]] = *p;
		return 0;
	}
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 64;
		struct match_profile *np = realloc(ix->p, cap * sizeof(*np));

		if (np == NULL)
			return OFR_E_NOMEM;
		ix->p = np;
		ix->cap = cap;
	}
	ix->p[ix->n] = *p;
	ix->slots[slot] = ix->n++;
	return 0;
}

struct match_profile *
match_get(struct match_index *ix, int64_t id)
{
	size_t slot = find_slot(ix, id);

	return ix->slots[slot] == SLOT_EMPTY ? NULL : &ix->p[ix->slots[slot]];
}

void
match_remove(struct match_index *ix, int64_t id)
{
	size_t slot = find_slot(ix, id), k;

	if (ix->slots[slot] == SLOT_EMPTY)
		return;
	k = ix->slots[slot];
	ix->p[k] = ix->p[--ix->n];	/* the last one fills the hole */
	rehash(ix, ix->nslots);		/* same size: cannot fail to fit */
}

size_t
match_count(const struct match_index *ix)
{
	return ix->n;
}

static int
has_bit(const uint64_t *set, int bit)
{
	return (set[bit >> 6] >> (bit & 63)) & 1;
}

void
match_hours_set(uint64_t hours[MATCH_HOURS_WORDS], int h)
{
	if (h >= 0 && h < 168)
		hours[h >> 6] |= (uint64_t)1 << (h & 63);
}

/* The hour of the week (Monday 00:00 UTC = 0) of a Unix time. */
static int
week_hour(int64_t now)
{
	int64_t days = now / 86400, hour = (now % 86400) / 3600;

	/* 1970-01-01 was a Thursday: day 3 of a week from Monday. */
	return (int)(((days + 3) % 7) * 24 + hour);
}

static int
in_hours(const struct match_profile *p, int64_t now)
{
	if ((p->hours[0] | p->hours[1] | p->hours[2]) == 0)
		return 1;
	return has_bit(p->hours, week_hour(now));
}

static int
banned(const struct match_request *rq, int64_t id)
{
	for (size_t i = 0; i < rq->nbanned; i++)
		if (rq->banned[i] == id)
			return 1;
	return 0;
}

int
match_fits(const struct match_profile *p, const struct match_request *rq,
    int64_t now)
{
	return p->eligible && p->presence == PRESENCE_ONLINE && p->there &&
	    p->open < p->capacity && p->id != rq->exclude &&
	    !banned(rq, p->id) &&
	    (rq->programme == 0 || p->programme == rq->programme) &&
	    rq->language != 0 && has_bit(p->languages, rq->language) &&
	    (rq->topic == 0 || has_bit(p->topics, rq->topic)) &&
	    in_hours(p, now);
}

unsigned
match_asked(const struct match_request *rq)
{
	return (rq->gender ? PREF_GENDER : 0) | (rq->age_band ? PREF_AGE : 0) |
	    (rq->background ? PREF_BACKGROUND : 0) |
	    (rq->format ? PREF_FORMAT : 0) | (rq->region ? PREF_REGION : 0);
}

int
match_score(const struct match_profile *p, const struct match_request *rq,
    unsigned *met)
{
	unsigned m = 0;
	int score = 0;

	if (rq->format && (p->formats & rq->format)) {
		m |= PREF_FORMAT;
		score += W_FORMAT;
	}
	if (rq->background && p->background == rq->background) {
		m |= PREF_BACKGROUND;
		score += W_BACKGROUND;
	}
	if (rq->gender && p->gender == rq->gender) {
		m |= PREF_GENDER;
		score += W_GENDER;
	}
	if (rq->age_band && p->age_band == rq->age_band) {
		m |= PREF_AGE;
		score += W_AGE;
	}
	if (rq->region && p->region == rq->region) {
		m |= PREF_REGION;
		score += W_REGION;
	}
	*met = m;
	return score;
}

/* 1 when a is a better choice than b at equal score. */
static int
better_tie(const struct match_profile *a, const struct match_profile *b)
{
	/* open/capacity, compared without division (capacity > open >= 0) */
	int64_t la = (int64_t)a->open * b->capacity;
	int64_t lb = (int64_t)b->open * a->capacity;

	if (la != lb)
		return la < lb;
	if (a->last_assigned != b->last_assigned)
		return a->last_assigned < b->last_assigned;
	return a->id < b->id;
}

int
match_best(const struct match_index *ix, const struct match_request *rq,
    int64_t now, struct match_result *out)
{
	const struct match_profile *best = NULL;
	unsigned best_met = 0;
	int best_score = -1;

	for (size_t k = 0; k < ix->n; k++) {
		const struct match_profile *p = &ix->p[k];
		unsigned met;
		int score;

		if (!match_fits(p, rq, now))
			continue;
		score = match_score(p, rq, &met);
		if (score > best_score ||
		    (score == best_score && better_tie(p, best))) {
			best = p;
			best_score = score;
			best_met = met;
		}
	}
	if (best == NULL)
		return OFR_E_NOT_FOUND;
	out->counsellor = best->id;
	out->asked = match_asked(rq);
	out->met = best_met;
	out->score = best_score;
	return 0;
}
