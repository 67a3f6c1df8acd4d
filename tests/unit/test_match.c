/*
 * test_match.c: the matching rule of server/match.c, one rule at a time:
 * each hard constraint filters, each preference scores, ties go to the
 * lighter caseload, then the least recently assigned, then the lowest id.
 */
#include <string.h>

#include "check.h"
#include "match.h"
#include "proto/err.h"

static struct match_index *ix;
static int en, de, leaving, family, female, male, berlin, hamburg;

/* An eligible, online counsellor speaking en, taking "leaving", 0 of 5. */
static struct match_profile
base(int64_t id)
{
	struct match_profile p;

	memset(&p, 0, sizeof(p));
	p.id = id;
	p.programme = 1;
	p.languages[en >> 6] |= (uint64_t)1 << (en & 63);
	p.topics[leaving >> 6] |= (uint64_t)1 << (leaving & 63);
	p.presence = PRESENCE_ONLINE;
	p.there = 1;
	p.eligible = 1;
	p.capacity = 5;
	p.formats = FORMAT_CHAT;
	return p;
}

static struct match_request
request(void)
{
	struct match_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.language = (uint8_t)en;
	return rq;
}

static int64_t
best(const struct match_request *rq, int64_t now)
{
	struct match_result r;
	int rc = match_best(ix, rq, now, &r);

	return rc == 0 ? r.counsellor : rc;
}

static void
test_tokens(void)
{
	CHECK(en > 0 && de > 0 && en != de);
	CHECK_EQ_INT(match_token(ix, "en", 0), en);
	CHECK_EQ_INT(match_token(ix, "xx", 0), 0);	/* unknown, not added */
	CHECK_EQ_INT(match_token(ix, "Bad Token", 1), 0);
	CHECK(strcmp(match_token_name(ix, leaving), "leaving") == 0);
	CHECK(match_token_name(ix, 0) == NULL);
}

static void
test_hard(void)
{
	struct match_profile p;
	struct match_request rq = request();

	/* language */
	p = base(1);
	CHECK_EQ_INT(match_put(ix, &p), 0);
	CHECK_EQ_INT(best(&rq, 0), 1);
	rq.language = (uint8_t)de;
	CHECK_EQ_INT(best(&rq, 0), OFR_E_NOT_FOUND);
	rq = request();
	rq.language = 0;			/* a language is required */
	CHECK_EQ_INT(best(&rq, 0), OFR_E_NOT_FOUND);

	/* topic, when given */
	rq = request();
	rq.topic = (uint8_t)leaving;
	CHECK_EQ_INT(best(&rq, 0), 1);
	rq.topic = (uint8_t)family;
	CHECK_EQ_INT(best(&rq, 0), OFR_E_NOT_FOUND);

	/* capacity */
	rq = request();
	p.open = 5;
	match_put(ix, &p);
	CHECK_EQ_INT(best(&rq, 0), OFR_E_NOT_FOUND);
	p.open = 4;
	match_put(ix, &p);
	CHECK_EQ_INT(best(&rq, 0), 1);
	p.capacity = 0;
	p.open = 0;
	match_put(ix, &p);
	CHECK_EQ_INT(best(&rq, 0), OFR_E_NOT_FOUND);

	/* presence: away and offline take no new case */
	p = base(1);
	p.presence = PRESENCE_AWAY;
	match_put(ix, &p);
	CHECK_EQ_INT(best(&rq, 0), OFR_E_NOT_FOUND);
	p.presence = PRESENCE_OFFLINE;
	match_put(ix, &p);
	CHECK_EQ_INT(best(&rq, 0), OFR_E_NOT_FOUND);
	/* online, but not there (no connection, or idle) */
	p = base(1);
	p.there = 0;
	match_put(ix, &p);
	CHECK_EQ_INT(best(&rq, 0), OFR_E_NOT_FOUND);
	p.there = 1;
	match_put(ix, &p);
	CHECK_EQ_INT(best(&rq, 0), 1);

	/* eligibility: uncertified or disabled */
	p = base(1);
	p.eligible = 0;
	match_put(ix, &p);
	CHECK_EQ_INT(best(&rq, 0), OFR_E_NOT_FOUND);

	/* programme, when chosen */
	p = base(1);
	match_put(ix, &p);
	rq.programme = 2;
	CHECK_EQ_INT(best(&rq, 0), OFR_E_NOT_FOUND);
	rq.programme = 1;
	CHECK_EQ_INT(best(&rq, 0), 1);

	/* exclusion: the counsellor a client asked to leave */
	rq = request();
	rq.exclude = 1;
	CHECK_EQ_INT(best(&rq, 0), OFR_E_NOT_FOUND);

	/* working hours: Monday 09:00-10:00 UTC only */
	rq = request();
	match_hours_set(p.hours, 9);
	match_put(ix, &p);
	/* 1970-01-05 was a Monday: 4 days after the epoch. */
	CHECK_EQ_INT(best(&rq, 4 * 86400 + 9 * 3600 + 59), 1);
	CHECK_EQ_INT(best(&rq, 4 * 86400 + 10 * 3600), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(best(&rq, 5 * 86400 + 9 * 3600), OFR_E_NOT_FOUND);
	CHECK_EQ_INT(best(&rq, 11 * 86400 + 9 * 3600 + 1), 1);	/* a week on */
	match_remove(ix, 1);
	CHECK_EQ_INT(match_count(ix), 0);
}

static void
test_soft(void)
{
	struct match_profile a = base(10), b = base(11);
	struct match_request rq = request();
	struct match_result r;

	/* Each preference, alone, picks the counsellor that meets it. */
	a.gender = (uint8_t)female;
	b.gender = (uint8_t)male;
	a.background = BACKGROUND_PROFESSIONAL;
	b.background = BACKGROUND_PEER;
	a.age_band = 1;
	b.age_band = 3;
	a.formats = FORMAT_CHAT;
	b.formats = FORMAT_CHAT | FORMAT_IN_PERSON;
	a.region = (uint8_t)berlin;
	b.region = (uint8_t)hamburg;
	match_put(ix, &a);
	match_put(ix, &b);

	rq.gender = (uint8_t)male;
	CHECK_EQ_INT(best(&rq, 0), 11);
	rq.gender = (uint8_t)female;
	CHECK_EQ_INT(best(&rq, 0), 10);
	rq = request();
	rq.background = BACKGROUND_PEER;
	CHECK_EQ_INT(best(&rq, 0), 11);
	rq = request();
	rq.age_band = 1;
	CHECK_EQ_INT(best(&rq, 0), 10);
	rq = request();
	rq.format = FORMAT_IN_PERSON;
	CHECK_EQ_INT(best(&rq, 0), 11);
	rq = request();
	rq.region = (uint8_t)berlin;
	CHECK_EQ_INT(best(&rq, 0), 10);

	/* Weights: format outweighs all the others together. */
	rq = request();
	rq.format = FORMAT_IN_PERSON;		/* only b */
	rq.gender = (uint8_t)female;		/* only a */
	rq.age_band = 1;			/* only a */
	rq.region = (uint8_t)berlin;		/* only a */
	rq.background = BACKGROUND_PROFESSIONAL; /* only a */
	CHECK_EQ_INT(match_best(ix, &rq, 0, &r), 0);
	CHECK_EQ_INT(r.counsellor, 11);
	CHECK_EQ_INT(r.asked, PREF_FORMAT | PREF_GENDER | PREF_AGE |
	    PREF_REGION | PREF_BACKGROUND);
	CHECK_EQ_INT(r.met, PREF_FORMAT);

	/* Met and unmet are reported. */
	rq = request();
	rq.gender = (uint8_t)female;
	rq.background = BACKGROUND_PEER;	/* nobody is both */
	CHECK_EQ_INT(match_best(ix, &rq, 0, &r), 0);
	CHECK_EQ_INT(r.counsellor, 11);		/* background weighs more */
	CHECK_EQ_INT(r.met, PREF_BACKGROUND);
	CHECK_EQ_INT(r.asked & ~r.met, PREF_GENDER);

	/* A preference never turns into a constraint. */
	rq = request();
	rq.gender = (uint8_t)match_token(ix, "diverse", 1);
	CHECK_EQ_INT(match_best(ix, &rq, 0, &r), 0);
	CHECK_EQ_INT(r.met, 0);
	match_remove(ix, 10);
	match_remove(ix, 11);
}

static void
test_ties(void)
{
	struct match_profile a = base(20), b = base(21), c = base(22);
	struct match_request rq = request();

	/* Lower caseload ratio first: 1/5 beats 1/2 though a has more room. */
	a.open = 1;
	a.capacity = 2;
	b.open = 1;
	b.capacity = 5;
	match_put(ix, &a);
	match_put(ix, &b);
	CHECK_EQ_INT(best(&rq, 0), 21);
	/* Equal ratio (2/4 and 1/2): least recently assigned; never first. */
	a.open = 2;
	a.capacity = 4;
	a.last_assigned = 500;
	b.open = 1;
	b.capacity = 2;
	b.last_assigned = 100;
	match_put(ix, &a);
	match_put(ix, &b);
	CHECK_EQ_INT(best(&rq, 0), 21);
	b.last_assigned = 900;
	match_put(ix, &b);
	CHECK_EQ_INT(best(&rq, 0), 20);
	c.open = 1;
	c.capacity = 2;
	c.last_assigned = 0;
	match_put(ix, &c);
	CHECK_EQ_INT(best(&rq, 0), 22);
	/* All equal: the lowest id, whatever the order of insertion. */
	c.last_assigned = a.last_assigned;
	b.last_assigned = a.last_assigned;
	match_put(ix, &c);
	match_put(ix, &b);
	CHECK_EQ_INT(best(&rq, 0), 20);
	match_remove(ix, 20);
	CHECK_EQ_INT(best(&rq, 0), 21);
	CHECK(match_get(ix, 20) == NULL);
	CHECK(match_get(ix, 22) != NULL);
	/* A score beats any tie-break. */
	c.open = 1;
	c.capacity = 2;
	c.gender = (uint8_t)female;
	match_put(ix, &c);
	b.open = 0;
	match_put(ix, &b);
	rq.gender = (uint8_t)female;
	CHECK_EQ_INT(best(&rq, 0), 22);
}

static void
test_many(void)
{
	struct match_index *big = match_new();
	struct match_request rq = request();
	struct match_result r;
	int64_t id;

	/* Ids spread over the table: puts, gets and removes stay in step. */
	for (id = 1; id <= 5000; id++) {
		struct match_profile p = base(id * 7919);

		p.open = (int)(id % 5);
		CHECK_EQ_INT(match_put(big, &p), 0);
	}
	CHECK_EQ_INT(match_count(big), 5000);
	for (id = 1; id <= 5000; id += 2)
		match_remove(big, id * 7919);
	CHECK_EQ_INT(match_count(big), 2500);
	CHECK(match_get(big, 3 * 7919) == NULL);
	CHECK(match_get(big, 4 * 7919) != NULL);
	CHECK_EQ_INT(match_get(big, 4 * 7919)->open, 4);
	/* open 0: ids 10, 20, ...; the lowest wins */
	CHECK_EQ_INT(match_best(big, &rq, 0, &r), 0);
	CHECK_EQ_INT(r.counsellor, 10 * 7919);
	match_free(big);
	match_free(NULL);
}

int
main(void)
{
	ix = match_new();
	if (ix == NULL)
		return 1;
	en = match_token(ix, "en", 1);
	de = match_token(ix, "de", 1);
	leaving = match_token(ix, "leaving", 1);
	family = match_token(ix, "family", 1);
	female = match_token(ix, "female", 1);
	male = match_token(ix, "male", 1);
	berlin = match_token(ix, "de-be", 1);
	hamburg = match_token(ix, "de-hh", 1);
	test_tokens();
	test_hard();
	test_soft();
	test_ties();
	test_many();
	match_free(ix);
	return check_done();
}
