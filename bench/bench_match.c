/*
 * bench_match.c: the time of one counsellor match among 10k counsellors
 * carrying 100k open cases (target: under 1 ms). Prints figures; asserts
 * nothing. Profiles and requests come from a fixed seed, so runs compare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "match.h"

#define COUNSELLORS	10000
#define OPEN_CASES	100000
#define MATCHES		20000

static uint64_t seed = 0x6f666672616d70ULL;

static uint32_t
rnd(uint32_t n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)(seed % n);
}

static void
set_bit(uint64_t *set, int bit)
{
	set[bit >> 6] |= (uint64_t)1 << (bit & 63);
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(void)
{
	static double t[MATCHES];
	struct match_index *ix = match_new();
	int langs[20], topics[30], regions[40], genders[3];
	char name[16];
	long found = 0, open = 0;
	double total = 0;

	if (ix == NULL)
		return 1;
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		langs[i] = match_token(ix, name, 1);
	}
	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		topics[i] = match_token(ix, name, 1);
	}
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		regions[i] = match_token(ix, name, 1);
	}
	genders[0] = match_token(ix, "female", 1);
	genders[1] = match_token(ix, "male", 1);
	genders[2] = match_token(ix, "diverse", 1);

	for (int i = 0; i < COUNSELLORS; i++) {
		struct match_profile p;

		memset(&p, 0, sizeof(p));
		p.id = i + 1;
		p.programme = 1 + rnd(50);
		for (int k = 0; k < 2 + (int)rnd(2); k++)
			set_bit(p.languages, langs[rnd(20)]);
		for (int k = 0; k < 3 + (int)rnd(4); k++)
			set_bit(p.topics, topics[rnd(30)]);
		p.gender = (uint8_t)genders[rnd(3)];
		p.region = (uint8_t)regions[rnd(40)];
		p.age_band = (uint8_t)(1 + rnd(4));
		p.background = (uint8_t)(1 + rnd(2));
		p.formats = (uint8_t)(1 + rnd(7));
		p.presence = rnd(10) < 7 ? PRESENCE_ONLINE : PRESENCE_AWAY;
		p.there = rnd(10) < 9;
		p.eligible = 1;
		p.capacity = 12;
		/* 10 open cases each on average: 100k in all */
		p.open = (int)(OPEN_CASES / COUNSELLORS - 3 + rnd(7));
		p.last_assigned = 1795000000 - (int64_t)rnd(86400 * 30);
		open += p.open;
		if (match_put(ix, &p) != 0)
			return 1;
	}

	for (int i = 0; i < MATCHES; i++) {
		struct match_request rq;
		struct match_result r;
		double t0;

		memset(&rq, 0, sizeof(rq));
		rq.language = (uint8_t)langs[rnd(20)];
		rq.topic = (uint8_t)topics[rnd(30)];
		rq.gender = rnd(2) ? (uint8_t)genders[rnd(3)] : 0;
		rq.age_band = rnd(2) ? (uint8_t)(1 + rnd(4)) : 0;
		rq.background = rnd(2) ? (uint8_t)(1 + rnd(2)) : 0;
		rq.format = (uint8_t)(1u << rnd(3));
		rq.region = rnd(3) ? 0 : (uint8_t)regions[rnd(40)];
		t0 = now_us();
		if (match_best(ix, &rq, 1795000000, &r) == 0)
			found++;
		t[i] = now_us() - t0;
		total += t[i];
	}
	qsort(t, MATCHES, sizeof(t[0]), cmp_double);
	printf("match: %d counsellors, %ld open cases, %d matches "
	    "(%ld found a counsellor)\n", COUNSELLORS, open, MATCHES, found);
	printf("match: mean %.1f us, median %.1f us, p99 %.1f us, "
	    "max %.1f us (target: under 1000 us)\n", total / MATCHES,
	    t[MATCHES / 2], t[MATCHES * 99 / 100], t[MATCHES - 1]);
	match_free(ix);
	return 0;
}
