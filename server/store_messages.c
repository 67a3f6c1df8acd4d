/*
 * store_messages.c: messages in transit: one copy per recipient, with its
 * message's case, sender, mid and time, until the recipient acks it, and a
 * record of each send, (sender, mid) with no case, for dedup, until
 * store_messages_purge() drops it a day on. A message is stored with all
 * its copies or not at all. This file must never keep message content (a
 * copy's ciphertext is opaque bytes, deleted on ack with its row), and
 * never give a recipient a copy meant for another.
 */
#include <string.h>

#include "proto/err.h"
#include "store_int.h"

const char *const store_messages_sql[S_COUNT] = {
	/* The record of the send first: none made means sent before. */
	[S_SENT_INSERT] =
	    "INSERT INTO sent(sender_id, mid, created)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT(sender_id, mid) DO NOTHING",
	[S_DELIVERY_INSERT] =
	    "INSERT INTO deliveries(case_id, sender_id, mid, created,"
	    " recipient_id, ct) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq",
	/* A message: the case changed; the counsellor's first answers.
	 * A row whose updated is this second already is written again only
	 * for its first response (the rest of a busy second's messages
	 * change nothing). */
	[S_CASE_TOUCH] =
	    "UPDATE cases SET updated = ?2, first_response = CASE"
	    " WHEN first_response IS NULL AND counsellor_id = ?3 THEN ?2"
	    " ELSE first_response END WHERE id = ?1 AND (updated != ?2 OR"
	    " (first_response IS NULL AND counsellor_id = ?3))",
	[S_MESSAGE_SEEN] =
	    "SELECT 1 FROM sent WHERE sender_id = ?1 AND mid = ?2",
	[S_DELIVERIES] =
	    "SELECT d.seq, d.case_id, d.mid, a.key, d.created, d.ct"
	    " FROM deliveries d JOIN accounts a ON a.id = d.sender_id"
	    " WHERE d.recipient_id = ?1 AND d.seq > ?2"
	    " ORDER BY d.seq LIMIT ?3",
	[S_DELIVERY_ACK] =
	    "DELETE FROM deliveries WHERE seq = ?1 AND recipient_id = ?2",
	/* What waits for a recipient (deliveries_recipient finds it;
	 * length() reads a blob's size from its row, not its pages). */
	[S_RECIPIENT_QUEUE] =
	    "SELECT count(*), coalesce(sum(length(ct)), 0) FROM deliveries"
	    " WHERE recipient_id = ?1",
	/* The copies alone: deliveries_recipient covers it, no row is
	 * read (some 30 times faster at 5,000 copies of 1 KiB). */
	[S_RECIPIENT_COPIES] =
	    "SELECT count(*) FROM deliveries WHERE recipient_id = ?1",
	[S_DELIVERIES_UPTO] =
	    "SELECT count(*) FROM deliveries"
	    " WHERE recipient_id = ?1 AND seq <= ?2",
	[S_DELIVERY_SOURCE] =
	    "SELECT d.sender_id, d.case_id, d.mid, EXISTS (SELECT 1"
	    " FROM case_participants p WHERE p.case_id = d.case_id"
	    " AND p.account_id = d.sender_id)"
	    " FROM deliveries d"
	    " WHERE d.seq = ?1 AND d.recipient_id = ?2",
	/* A record stays while its message has copies (deliveries_sender
	 * finds them; PostgreSQL planned the NOT IN of a subquery this was
	 * as a scan of it for each record). */
	[S_MESSAGES_PURGE] =
	    "DELETE FROM sent WHERE created < ?1 AND NOT EXISTS (SELECT 1"
	    " FROM deliveries d WHERE d.sender_id = sent.sender_id"
	    " AND d.mid = sent.mid)",
	/* deliveries_created finds the old ones. */
	[S_COPIES_EXPIRE] =
	    "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries"
	    " WHERE created < ?1 LIMIT ?2)",
};

/* OFR_E_BAD_FIELD (nothing written) when a copy is over OFR_CT_MAX bytes.
 * A stored message also sets the case's updated to now, and its
 * first_response to now when the sender is the case's counsellor and it has
 * none yet. */
int
store_message_insert(struct store *st, int64_t case_id, int64_t sender,
    const uint8_t mid[OFR_MID_BYTES], int64_t now, const int64_t *recipients,
    const uint8_t *const *ct, const size_t *ct_len, size_t n, int *dup,
    int64_t *seqs)
{
	struct db_stmt *s = st->s[S_SENT_INSERT];
	int64_t seq;
	int rc;

	*dup = 0;
	for (size_t i = 0; i < n; i++)
		if (ct_len[i] > OFR_CT_MAX)
			return OFR_E_BAD_FIELD;
	if ((rc = db_call_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, sender) != DB_OK ||
	    db_bind_blob(s, 2, mid, OFR_MID_BYTES) != DB_OK ||
	    db_bind_int64(s, 3, now) != DB_OK) {
		rc = db_fail(st, s, __func__);
		goto out;
	}
	if ((rc = db_exec(st, s, __func__)) != 0)
		goto out;
	if (db_changes(st) == 0) {
		*dup = 1;	/* sent before: its copies are stored */
		goto out;
	}
	s = st->s[S_DELIVERY_INSERT];
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (db_bind_int64(s, 1, case_id) != DB_OK ||
		    db_bind_int64(s, 2, sender) != DB_OK ||
		    db_bind_blob(s, 3, mid, OFR_MID_BYTES) != DB_OK ||
		    db_bind_int64(s, 4, now) != DB_OK ||
		    db_bind_int64(s, 5, recipients[i]) != DB_OK ||
		    db_bind_blob(s, 6, ct[i], ct_len[i]) != DB_OK)
			rc = db_fail(st, s, __func__);
		else if ((rc = db_insert(st, s, DB_NONE, 0, &seq,
		    __func__)) == 0 && seqs != NULL)
			seqs[i] = seq;
	}
	if (rc != 0)
		goto out;
	s = st->s[S_CASE_TOUCH];
	if (db_bind_int64(s, 1, case_id) != DB_OK ||
	    db_bind_int64(s, 2, now) != DB_OK ||
	    db_bind_int64(s, 3, sender) != DB_OK) {
		rc = db_fail(st, s, __func__);
		goto out;
	}
	rc = db_exec(st, s, __func__);
out:
	return db_call_end(st, rc);
}

int
store_message_seen(struct store *st, int64_t sender,
    const uint8_t mid[OFR_MID_BYTES], int *yes)
{
	struct db_stmt *s = st->s[S_MESSAGE_SEEN];

	if (db_bind_int64(s, 1, sender) != DB_OK ||
	    db_bind_blob(s, 2, mid, OFR_MID_BYTES) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exists(st, S_MESSAGE_SEEN, NULL, 0, yes, __func__);
}

/* store_deliveries_each()'s callback. */
struct delivery_fn {
	int (*fn)(void *arg, const struct delivery *d);
	void *arg;
};

static int
delivery_visit(struct db_stmt *s, void *ctx, int *rc)
{
	static const uint8_t empty[1];
	struct delivery_fn *f = ctx;
	struct delivery d;

	memset(&d, 0, sizeof(d));
	d.seq = db_col_int64(s, 0);
	d.case_id = db_col_int64(s, 1);
	d.mid = db_col_data(s, 2);
	if (d.mid == NULL || db_col_bytes(s, 2) != OFR_MID_BYTES)
		return -1;
	d.from_key = db_col_data(s, 3);
	if (d.from_key == NULL || db_col_bytes(s, 3) != OFR_PK_BYTES)
		return -1;
	d.ts = db_col_int64(s, 4);
	d.ct = db_col_data(s, 5);
	d.ct_len = (size_t)db_col_bytes(s, 5);
	if (d.ct == NULL)
		d.ct = empty;
	*rc = f->fn(f->arg, &d);
	return 0;
}

/* fn may call other store functions, but not store_deliveries_each(). */
int
store_deliveries_each(struct store *st, int64_t recipient, int64_t after,
    size_t max, int (*fn)(void *arg, const struct delivery *d), void *arg)
{
	const int64_t key[] = { recipient, after, db_limit(max) };
	struct delivery_fn f = { fn, arg };

	return db_each_row(st, S_DELIVERIES, key, nitems(key), delivery_visit,
	    &f, __func__);
}

int
store_delivery_ack(struct store *st, int64_t recipient, int64_t seq,
    int *deleted)
{
	struct db_stmt *s = st->s[S_DELIVERY_ACK];
	int rc;

	*deleted = 0;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, seq) != DB_OK ||
	    db_bind_int64(s, 2, recipient) != DB_OK)
		return db_fail(st, s, __func__);
	if ((rc = db_exec(st, s, __func__)) != 0)
		return rc;
	*deleted = db_changes(st) == 1;
	if (*deleted)
		st->scrub = 1;	/* the copy's old frames: gone after commit */
	return 0;
}

/* Reads S_RECIPIENT_QUEUE's row: two counts. */
static int
queue_cols(struct db_stmt *s, void *row)
{
	int64_t *v = row;

	v[0] = db_col_int64(s, 0);
	v[1] = db_col_int64(s, 1);
	return 0;
}

int
store_recipient_queue(struct store *st, int64_t recipient, int64_t *copies,
    int64_t *bytes)
{
	const int64_t key[] = { recipient };
	int64_t v[2] = { 0, 0 };
	int rc;

	if (bytes == NULL)
		return db_count(st, S_RECIPIENT_COPIES, key, nitems(key), copies,
		    __func__);
	rc = db_get_row(st, S_RECIPIENT_QUEUE, key, nitems(key), queue_cols,
	    v, __func__);
	*copies = v[0];
	*bytes = v[1];
	return rc == OFR_E_NOT_FOUND ? db_fail(st, NULL, __func__) : rc;
}

int
store_deliveries_upto(struct store *st, int64_t recipient, int64_t seq,
    int64_t *n)
{
	const int64_t key[] = { recipient, seq };

	return db_count(st, S_DELIVERIES_UPTO, key, nitems(key), n, __func__);
}

/* Reads S_DELIVERY_SOURCE's row into a struct copy_source. */
static int
source_cols(struct db_stmt *s, void *row)
{
	struct copy_source *out = row;

	out->sender = db_col_int64(s, 0);
	out->case_id = db_col_int64(s, 1);
	out->sender_stays = db_col_int(s, 3);
	return db_col_blob(s, 2, out->mid, OFR_MID_BYTES);
}

int
store_delivery_source(struct store *st, int64_t recipient, int64_t seq,
    struct copy_source *out)
{
	const int64_t key[] = { seq, recipient };

	return db_get_row(st, S_DELIVERY_SOURCE, key, nitems(key),
	    source_cols, out, __func__);
}

int
store_messages_purge(struct store *st, int64_t before)
{
	struct db_stmt *s = st->s[S_MESSAGES_PURGE];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, before) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec(st, s, __func__);
}

/* A bounded delete: statement id bound to (before, max). */
static int
expire(struct store *st, enum stmt_id id, int64_t before, size_t max,
    size_t *n, const char *what)
{
	const int64_t key[] = { before, db_limit(max) };
	int64_t changed = 0;
	int rc;

	*n = 0;
	if ((rc = db_write(st, id, key, nitems(key), &changed, what)) == 0)
		*n = (size_t)changed;
	return rc;
}

int
store_copies_expire(struct store *st, int64_t before, size_t max, size_t *n)
{
	return expire(st, S_COPIES_EXPIRE, before, max, n, __func__);
}
