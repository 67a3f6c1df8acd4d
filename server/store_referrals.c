/*
 * store_referrals.c: referrals of cases to partner programmes (PROTOCOL.md,
 * "Referrals"): who proposed to whom, the client's answer, the partner's
 * counsellor once chosen, the digest of the summary the client approved,
 * and the figures of a programme's referrals. It must never store a
 * reason, an offer or a summary: those travel encrypted between the
 * clients, and only their absence is the server's business.
 */
#include <string.h>

#include "proto/err.h"
#include "store_int.h"

#define REFERRAL_COLS \
	"id, case_id, from_programme, to_programme, receiver_id, status," \
	" proposed, answered, completed, digest, summary_sent"

const char *const store_referrals_sql[S_COUNT] = {
	[S_REFERRAL_INSERT] =
	    "INSERT INTO referrals(case_id, from_programme, to_programme,"
	    " status, proposed) VALUES (?1, ?2, ?3, 0, ?4)"
	    " ON CONFLICT DO NOTHING RETURNING id",
	[S_REFERRAL_OPEN] =
	    "SELECT " REFERRAL_COLS " FROM referrals"
	    " WHERE case_id = ?1 AND status < 2",
	[S_REFERRAL_LAST] =
	    "SELECT " REFERRAL_COLS " FROM referrals"
	    " WHERE case_id = ?1 ORDER BY id DESC LIMIT 1",
	[S_REFERRALS_OF_CASE] =
	    "SELECT count(*) FROM referrals WHERE case_id = ?1",
	[S_REFERRAL_ANSWER] =
	    "UPDATE referrals SET status = ?2, answered = ?3"
	    " WHERE id = ?1 AND status = 0",
	[S_REFERRAL_END] =
	    "UPDATE referrals SET status = ?2, completed = ?3"
	    " WHERE id = ?1 AND status < 2",
	/* only while it has none: of two nodes that chose one at once,
	 * the second's update waits for the first's commit and then
	 * changes nothing (as S_CASE_ASSIGN's status) */
	[S_REFERRAL_RECEIVER] =
	    "UPDATE referrals SET receiver_id = ?2"
	    " WHERE id = ?1 AND status = 1 AND receiver_id IS NULL",
	[S_REFERRAL_APPROVE] =
	    "UPDATE referrals SET digest = ?2"
	    " WHERE id = ?1 AND status = 1 AND summary_sent = 0",
	[S_REFERRAL_SUMMARY_SENT] =
	    "UPDATE referrals SET summary_sent = 1"
	    " WHERE id = ?1 AND status = 1 AND digest IS NOT NULL"
	    " AND summary_sent = 0",
	/* an accepted one goes back to the partner's intake, its summary
	 * to go again (as S_REFERRAL_RELEASE) */
	[S_REFERRALS_FORGET] =
	    "UPDATE referrals SET receiver_id = NULL,"
	    " summary_sent = CASE WHEN status = 1 THEN 0 ELSE summary_sent END"
	    " WHERE receiver_id = ?1",
	/* the approval stands: the text goes again, to the next one */
	[S_REFERRAL_RELEASE] =
	    "UPDATE referrals SET receiver_id = NULL, summary_sent = 0"
	    " WHERE id = ?1 AND status = 1 AND receiver_id = ?2",
	/* only those that wait for a partner counsellor: of an active or
	 * paused case (2, 4) led by a counsellor of the proposing
	 * programme (casework_referral_waiting_at()'s rule); those of cases
	 * closed, waiting again or led by another programme's counsellor
	 * stay open (reopened, or led by one of its own again, the case
	 * waits again), and would fill the batch for good */
	[S_REFERRALS_WAITING] =
	    "SELECT r.case_id, r.proposed, r.id FROM referrals r"
	    " JOIN cases c ON c.id = r.case_id"
	    " JOIN accounts a ON a.id = c.counsellor_id"
	    " WHERE r.status = 1 AND r.receiver_id IS NULL"
	    " AND c.status IN (2, 4) AND a.programme_id = r.from_programme"
	    " AND (?2 = 0 OR r.to_programme = ?2)"
	    " AND (r.proposed > ?3 OR (r.proposed = ?3 AND r.id > ?4))"
	    " ORDER BY r.proposed, r.id LIMIT ?1",
	/* the pair either way round */
	[S_REFERRALS_OF_PAIR] =
	    "SELECT case_id FROM referrals WHERE status < 2"
	    " AND ((from_programme = ?2 AND to_programme = ?3)"
	    " OR (from_programme = ?3 AND to_programme = ?2))"
	    " ORDER BY case_id LIMIT ?1",
	/* ?2: 0 as proposer, 1 as receiver; ?3: since. */
	[S_REFERRAL_COUNTS] =
	    "SELECT count(*),"
	    " coalesce(sum(CASE WHEN answered IS NOT NULL AND status != 2"
	    "  THEN 1 ELSE 0 END), 0),"
	    " coalesce(sum(CASE WHEN status = 2 THEN 1 ELSE 0 END), 0),"
	    " coalesce(sum(CASE WHEN status = 5 THEN 1 ELSE 0 END), 0)"
	    " FROM referrals WHERE CASE ?2 WHEN 0 THEN from_programme"
	    " ELSE to_programme END = ?1 AND proposed >= ?3",
	[S_REFERRAL_DURATIONS] =
	    "SELECT completed - proposed FROM referrals"
	    " WHERE CASE ?2 WHEN 0 THEN from_programme"
	    " ELSE to_programme END = ?1 AND proposed >= ?3 AND status = 5"
	    " ORDER BY 1 LIMIT ?4",
};

static int
referral_cols(struct db_stmt *s, void *row)
{
	struct referral *r = row;

	memset(r, 0, sizeof(*r));
	r->id = db_col_int64(s, 0);
	r->case_id = db_col_int64(s, 1);
	r->from = db_col_int64(s, 2);
	r->to = db_col_int64(s, 3);
	r->receiver = db_col_int64(s, 4);	/* NULL: 0 */
	r->status = db_col_int(s, 5);
	r->proposed = db_col_int64(s, 6);
	r->answered = db_col_int64(s, 7);
	r->completed = db_col_int64(s, 8);
	if (!db_col_is_null(s, 9)) {
		if (db_col_blob(s, 9, r->digest, sizeof(r->digest)) != 0)
			return -1;
		r->approved = 1;
	}
	r->summary_sent = db_col_int(s, 10);
	return r->status < REFERRAL_PROPOSED ||
	    r->status > REFERRAL_COMPLETED ? -1 : 0;
}

int
store_referral_propose(struct store *st, int64_t case_id, int64_t from,
    int64_t to, int64_t now, int64_t *id)
{
	struct db_stmt *s = st->s[S_REFERRAL_INSERT];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, case_id) != DB_OK ||
	    db_bind_int64(s, 2, from) != DB_OK ||
	    db_bind_int64(s, 3, to) != DB_OK ||
	    db_bind_int64(s, 4, now) != DB_OK)
		return db_fail(st, s, __func__);
	/* referrals_open refuses a second open one of the case: no row,
	 * and no error (PostgreSQL would log one, with the case's id) */
	if ((rc = db_insert(st, s, DB_NONE, 0, id, __func__)) != 0)
		return rc;
	return *id != 0 ? 0 : OFR_E_BAD_STATE;
}

int
store_referral_open(struct store *st, int64_t case_id, struct referral *out)
{
	return db_get_row(st, S_REFERRAL_OPEN, &case_id, 1, referral_cols,
	    out, __func__);
}

int
store_referral_last(struct store *st, int64_t case_id, struct referral *out)
{
	return db_get_row(st, S_REFERRAL_LAST, &case_id, 1, referral_cols,
	    out, __func__);
}

int
store_referrals_of_case(struct store *st, int64_t case_id, int64_t *n)
{
	return db_count(st, S_REFERRALS_OF_CASE, &case_id, 1, n, __func__);
}

/* A write of statement id that must change the one row: else
 * OFR_E_BAD_STATE. */
static int
write_one(struct store *st, enum stmt_id id, const int64_t *params,
    size_t n, const char *what)
{
	int64_t changed = 0;
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if ((rc = db_write(st, id, params, n, &changed, what)) != 0)
		return rc;
	return changed == 1 ? 0 : OFR_E_BAD_STATE;
}

int
store_referral_answer(struct store *st, int64_t id, int status, int64_t now)
{
	const int64_t p[] = { id, status, now };

	if (status != REFERRAL_ACCEPTED && status != REFERRAL_DECLINED)
		return OFR_E_BAD_FIELD;
	return write_one(st, S_REFERRAL_ANSWER, p, nitems(p), __func__);
}

int
store_referral_end(struct store *st, int64_t id, int status, int64_t now)
{
	const int64_t p[] = { id, status, now };

	if (status < REFERRAL_WITHDRAWN || status > REFERRAL_COMPLETED)
		return OFR_E_BAD_FIELD;
	return write_one(st, S_REFERRAL_END, p, nitems(p), __func__);
}

int
store_referral_receiver(struct store *st, int64_t id, int64_t receiver)
{
	const int64_t p[] = { id, receiver };

	return write_one(st, S_REFERRAL_RECEIVER, p, nitems(p), __func__);
}

int
store_referral_release(struct store *st, int64_t id, int64_t receiver)
{
	const int64_t p[] = { id, receiver };

	return write_one(st, S_REFERRAL_RELEASE, p, nitems(p), __func__);
}

int
store_referral_approve(struct store *st, int64_t id,
    const uint8_t digest[REFERRAL_DIGEST_BYTES])
{
	struct db_stmt *s = st->s[S_REFERRAL_APPROVE];
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, id) != DB_OK ||
	    db_bind_blob(s, 2, digest, REFERRAL_DIGEST_BYTES) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec_one(st, s, OFR_E_BAD_STATE, __func__);
}

int
store_referral_summary_sent(struct store *st, int64_t id)
{
	return write_one(st, S_REFERRAL_SUMMARY_SENT, &id, 1, __func__);
}

static int
counts_cols(struct db_stmt *s, void *row)
{
	struct referral_figures *f = row;

	f->proposed = db_col_int64(s, 0);
	f->accepted = db_col_int64(s, 1);
	f->declined = db_col_int64(s, 2);
	f->completed = db_col_int64(s, 3);
	return 0;
}

#define DURATIONS_MAX	4096	/* completed referrals the median reads */

int
store_referral_figures(struct store *st, int64_t programme, int receiver,
    int64_t since, struct referral_figures *out)
{
	const int64_t key[] = { programme, receiver ? 1 : 0, since,
	    DURATIONS_MAX };
	static int64_t secs[DURATIONS_MAX];
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	out->median = -1;
	if ((rc = db_get_row(st, S_REFERRAL_COUNTS, key, 3, counts_cols, out,
	    __func__)) != 0)
		return rc;
	if ((rc = db_ints(st, S_REFERRAL_DURATIONS, key, nitems(key), secs,
	    DURATIONS_MAX, &n, __func__)) != 0)
		return rc;
	if (n >= 5)
		out->median = secs[n / 2];
	return 0;
}

struct waiting_list {
	int64_t *ids, (*keys)[2];
	size_t max, *n;
};

static int
waiting_add(struct db_stmt *s, void *ctx, int *rc)
{
	struct waiting_list *l = ctx;

	if (*l->n < l->max) {
		l->ids[*l->n] = db_col_int64(s, 0);
		if (l->keys != NULL) {
			l->keys[*l->n][0] = db_col_int64(s, 1);
			l->keys[*l->n][1] = db_col_int64(s, 2);
		}
		(*l->n)++;
	}
	*rc = *l->n == l->max;	/* full: step no further */
	return 0;
}

int
store_referrals_waiting(struct store *st, int64_t programme,
    const int64_t after[2], int64_t *ids, int64_t (*keys)[2], size_t max,
    size_t *n)
{
	const int64_t key[] = { db_limit(max), programme, after[0],
	    after[1] };
	struct waiting_list l = { ids, keys, max, n };
	int rc;

	*n = 0;
	rc = db_each_row(st, S_REFERRALS_WAITING, key, nitems(key),
	    waiting_add, &l, __func__);
	return rc > 0 ? 0 : rc;
}

int
store_referrals_of_pair(struct store *st, int64_t a, int64_t b, int64_t *ids,
    size_t max, size_t *n)
{
	const int64_t key[] = { db_limit(max), a, b };

	return db_ints(st, S_REFERRALS_OF_PAIR, key, nitems(key), ids, max, n,
	    __func__);
}

int
store_referrals_forget(struct store *st, int64_t account)
{
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	return db_write(st, S_REFERRALS_FORGET, &account, 1, NULL, __func__);
}
