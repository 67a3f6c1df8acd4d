/*
 * match.h: choosing a counsellor for a client. An index in memory of every
 * counsellor's profile and caseload, kept in step with the store by the
 * domain layer (casework.c, through pool.c), so that one match among 10k
 * counsellors costs well under a millisecond. Hard constraints filter
 * (programme if chosen, language, topic, room in the caseload, presence
 * chosen and being there, working hours); soft preferences score; load and fairness break
 * ties, deterministically.
 * match.c is pure: no SQL, no I/O, no clock (callers pass the time).
 */
#ifndef OFFRAMP_MATCH_H
#define OFFRAMP_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define MATCH_TOKENS_MAX	255	/* distinct tokens, ids 1..255 */
#define MATCH_SET_WORDS		4	/* 256-bit sets of token ids */
#define MATCH_HOURS_WORDS	3	/* 168 hours of a week, in bits */

/* What the index knows of one counsellor. Token fields hold ids from
 * match_token(); 0 is "none". */
struct match_profile {
	int64_t id;
	int64_t programme;
	uint64_t languages[MATCH_SET_WORDS];
	uint64_t topics[MATCH_SET_WORDS];
	uint64_t hours[MATCH_HOURS_WORDS];	/* none set: any hour */
	uint8_t gender;
	uint8_t region;
	uint8_t age_band;		/* 1..4, 0 unknown */
	uint8_t background;		/* enum background */
	uint8_t formats;		/* enum format bits */
	uint8_t presence;		/* enum presence, as chosen */
	uint8_t there;			/* connected, not idle (presence.h) */
	uint8_t eligible;		/* certified, not disabled */
	int capacity;
	int open;			/* waiting or active cases */
	int64_t last_assigned;		/* 0: never */
};

/* A client's request: hard constraints and stated preferences (0: none). */
struct match_request {
	uint8_t language;		/* required */
	uint8_t topic;
	int64_t programme;
	int64_t exclude;		/* a counsellor not to choose */
	const int64_t *banned;		/* nbanned more, not to choose */
	size_t nbanned;
	uint8_t gender;
	uint8_t region;
	uint8_t age_band;
	uint8_t background;
	uint8_t format;			/* one enum format bit */
};

struct match_result {
	int64_t counsellor;
	unsigned asked;			/* preferences stated */
	unsigned met;			/* of those, the ones met */
	int score;
};

struct match_index;

/* A new, empty index; NULL on OOM. Free with match_free(); NULL is
 * harmless there. */
struct match_index *match_new(void);
void match_free(struct match_index *ix);

/* The id (1..255) of token s, adding it when add is 1; 0 when s is
 * unknown and add is 0, or when the table is full (then a request naming
 * it matches nobody, a profile naming it cannot be stored: OFR_E_LIMIT). */
int match_token(struct match_index *ix, const char *s, int add);
/* The token of id, or NULL. */
const char *match_token_name(const struct match_index *ix, int id);

/* Adds or replaces the profile with p->id. 0 or OFR_E_NOMEM. */
int match_put(struct match_index *ix, const struct match_profile *p);
/* The profile of counsellor id, or NULL; valid until the next put. */
struct match_profile *match_get(struct match_index *ix, int64_t id);
/* Removes counsellor id, if present. */
void match_remove(struct match_index *ix, int64_t id);
/* Number of profiles. */
size_t match_count(const struct match_index *ix);

/* 1 when p passes every hard constraint of rq at time now (seconds). */
int match_fits(const struct match_profile *p, const struct match_request *rq,
    int64_t now);
/* The score of p for rq's preferences; *met gets the preferences met. */
int match_score(const struct match_profile *p, const struct match_request *rq,
    unsigned *met);
/* The bits of the preferences rq states. */
unsigned match_asked(const struct match_request *rq);

/*
 * The best counsellor for rq at time now: among those that fit, the highest
 * score, then the lowest caseload ratio (open / capacity), then the one
 * assigned least recently (never first), then the lowest id. Fills *out and
 * returns 0, or OFR_E_NOT_FOUND when none fits.
 */
int match_best(const struct match_index *ix, const struct match_request *rq,
    int64_t now, struct match_result *out);

/* Sets the bit of hour h (0..167, Monday 00:00 UTC = 0) in hours. */
void match_hours_set(uint64_t hours[MATCH_HOURS_WORDS], int h);

#endif
