/*
 * bench_pages.c: the pages the relay's hot path writes to the -wal per
 * message (issue 16, point 3), through the store itself (its schema, its
 * statements, secure_delete on): msg.send's insert (the record of the
 * send, the message, one 1 KiB copy, the case touched) and msg.ack's
 * delete of the copy, BATCH messages per commit, for batches of 1, 100
 * and 1000. Pages are SQLite's count of what the connection wrote
 * (SQLITE_DBSTATUS_CACHE_WRITE), divided by the messages. Prints
 * figures; asserts nothing.
 *
 *   bench_pages [DIR]	(a fresh data directory: default a temporary one)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "model.h"
#include "store.h"
#include "store_int.h"

#define MESSAGES	3000
#define CT_BYTES	1024

static int64_t seqs[MESSAGES];
static size_t nseqs;

static int
keep_seq(void *arg, const struct delivery *d)
{
	(void)arg;
	if (nseqs < MESSAGES)
		seqs[nseqs++] = d->seq;
	return 0;
}

/* Pages written by st's connection since the last call. */
static long
pages(struct store *st)
{
	int cur = 0, hi = 0;

	sqlite3_db_status(st->db, SQLITE_DBSTATUS_CACHE_WRITE, &cur, &hi, 1);
	return cur;
}

static int64_t
account(struct store *st, int n, int role, int64_t programme)
{
	struct account a;

	memset(&a, 0, sizeof(a));
	randombytes_buf(a.key, sizeof(a.key));
	a.role = role;
	a.programme = programme;
	a.created = 1000 + n;
	snprintf(a.name, sizeof(a.name), "bench-%d", n);
	return store_account_create(st, &a) == 0 ? a.id : -1;
}

/* One run: MESSAGES messages, batch of them per commit, sent, then
 * acked in the order they came. */
static int
run(struct store *st, int64_t case_id, int64_t from, int64_t to,
    size_t batch)
{
	static uint8_t ct[CT_BYTES];
	const uint8_t *cts[1] = { ct };
	size_t len[1] = { CT_BYTES };
	long in = 0, out = 0;
	int dup, deleted;

	randombytes_buf(ct, sizeof(ct));
	store_checkpoint(st);
	if (store_sync(st) != 0)
		return -1;
	(void)pages(st);
	for (size_t i = 0; i < MESSAGES; i++) {
		uint8_t mid[OFR_MID_BYTES];

		randombytes_buf(mid, sizeof(mid));
		if (store_message_insert(st, case_id, from, mid, 2000, &to,
		    cts, len, 1, &dup, NULL) != 0)
			return -1;
		if ((i + 1) % batch == 0 && store_commit(st) != 0)
			return -1;
	}
	if (store_commit(st) != 0)
		return -1;
	in = pages(st);
	nseqs = 0;
	if (store_deliveries_each(st, to, 0, MESSAGES, keep_seq, NULL) != 0 ||
	    nseqs != MESSAGES)
		return -1;
	(void)pages(st);
	for (size_t i = 0; i < nseqs; i++) {
		if (store_delivery_ack(st, to, seqs[i], &deleted) != 0 ||
		    !deleted)
			return -1;
		if ((i + 1) % batch == 0 && store_commit(st) != 0)
			return -1;
	}
	if (store_commit(st) != 0)
		return -1;
	out = pages(st);
	printf("pages per message, batch %4zu: insert %6.2f  ack %6.2f\n",
	    batch, (double)in / MESSAGES, (double)out / MESSAGES);
	return 0;
}

int
main(int argc, char **argv)
{
	static const size_t batches[] = { 1, 100, 1000 };
	char tmp[] = "/tmp/offramp-pages.XXXXXX";
	const char *dir = argc > 1 ? argv[1] : NULL;
	struct store *st = NULL;
	struct case_info c;
	int64_t prog, cl, co;
	int rc = 1;

	if (sodium_init() < 0)
		return 1;
	if (dir == NULL && (dir = mkdtemp(tmp)) == NULL)
		return 1;
	if (store_open(&st, dir, 1) != 0)
		goto out;
	if (store_programme_first(st, &prog) != 0 &&
	    store_programme_create(st, "bench", 1000, &prog) != 0)
		goto out;
	if ((cl = account(st, 1, ROLE_CLIENT, 0)) < 0 ||
	    (co = account(st, 2, ROLE_COUNSELLOR, prog)) < 0 ||
	    store_case_create(st, cl, "en", "", 1000, &c) != 0 ||
	    store_case_assign(st, c.id, co, 1000) != 0 ||
	    store_commit(st) != 0)
		goto out;
	printf("%d messages of one %d-byte copy per batch size\n", MESSAGES,
	    CT_BYTES);
	for (size_t b = 0; b < sizeof(batches) / sizeof(*batches); b++)
		if (run(st, c.id, cl, co, batches[b]) != 0)
			goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench_pages: a store call failed\n");
	store_close(st);
	if (dir == tmp) {
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}
