/*
 * intake.c: what intake costs (intake.h). The difficulty of the proof of
 * work follows the intake of the last minute, as Tor's onion services
 * raise their suggested effort with the load of introductions: a ring of
 * counts, one a second. The keep-alive of waiting cases is a hash of the
 * waiting cases, with the last time each one's client was seen
 * connected; an entry lives while its case waits, so the table holds no
 * more entries than the queue. Nothing here is stored.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "intake.h"
#include "proto/err.h"

#define WINDOW	60	/* seconds of intake that raise the difficulty */
#define BUCKETS	1024

static struct intake_config cfg;
static int64_t started;

static struct {
	int64_t sec;
	unsigned n;
} ring[WINDOW];

void
intake_configure(const struct intake_config *c, int64_t now)
{
	cfg = *c;
	if (cfg.max_bits < cfg.bits)
		cfg.max_bits = cfg.bits;
	if (cfg.step < 1)
		cfg.step = 1;
	started = now;
	memset(ring, 0, sizeof(ring));
}

void
intake_count(int64_t now)
{
	size_t i = (size_t)(now % WINDOW);

	if (ring[i].sec != now) {
		ring[i].sec = now;
		ring[i].n = 0;
	}
	ring[i].n++;
}

int
intake_bits(int64_t now)
{
	uint64_t events = 0;
	int64_t more;

	if (cfg.bits <= 0)
		return 0;
	for (size_t i = 0; i < WINDOW; i++)
		if (ring[i].sec > now - WINDOW && ring[i].sec <= now)
			events += ring[i].n;
	more = (int64_t)(events / (uint64_t)cfg.step);
	return more >= cfg.max_bits - cfg.bits ? cfg.max_bits :
	    cfg.bits + (int)more;
}

int
intake_keep_waiting(void)
{
	return cfg.keep_waiting;
}

int
intake_code_hash(int64_t programme, const char *code,
    uint8_t out[INTAKE_HASH_BYTES])
{
	static const uint8_t key[] = "offramp.intake-code";
	char low[INTAKE_CODE_MAX + 1];
	uint8_t id[8];
	crypto_generichash_state h;
	size_t n = strlen(code);

	if (!frame_is_intake_code(code))
		return -1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)code[i]);
	for (int i = 0; i < 8; i++)
		id[i] = (uint8_t)((uint64_t)programme >> (56 - 8 * i));
	crypto_generichash_init(&h, key, sizeof(key) - 1, INTAKE_HASH_BYTES);
	crypto_generichash_update(&h, id, sizeof(id));
	crypto_generichash_update(&h, (const uint8_t *)low, n);
	crypto_generichash_final(&h, out, INTAKE_HASH_BYTES);
	sodium_memzero(low, sizeof(low));
	return 0;
}

/* --- the keep-alive of waiting cases --- */

struct waiting {
	int64_t id;
	int64_t seen;		/* its client last seen connected */
	unsigned pass;
	struct waiting *next;
};

static struct waiting *table[BUCKETS];
static unsigned pass;

void
intake_waiting_restart(int64_t now)
{
	started = now;
	for (size_t b = 0; b < BUCKETS; b++) {
		while (table[b] != NULL) {
			struct waiting *w = table[b];

			table[b] = w->next;
			free(w);
		}
	}
}

void
intake_waiting_begin(void)
{
	pass++;
}

int
intake_waiting_seen(int64_t case_id, int present, int64_t since, int64_t now)
{
	struct waiting **pp = &table[(uint64_t)case_id % BUCKETS], *w;

	while (*pp != NULL && (*pp)->id != case_id)
		pp = &(*pp)->next;
	if ((w = *pp) == NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			return OFR_E_NOMEM;
		w->id = case_id;
		/* Not seen before: it began to wait since then, or the server
		 * started since (what came before is not known). */
		w->seen = since > started ? since : started;
		*pp = w;
	}
	w->pass = pass;
	if (present)
		w->seen = now;
	return now - w->seen >= cfg.keep_waiting;
}

void
intake_waiting_end(void)
{
	for (size_t b = 0; b < BUCKETS; b++) {
		struct waiting **pp = &table[b];

		while (*pp != NULL) {
			struct waiting *w = *pp;

			if (w->pass != pass) {
				*pp = w->next;
				free(w);
			} else {
				pp = &w->next;
			}
		}
	}
}
