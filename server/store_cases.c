/*
 * store_cases.c: cases (intake, status, counsellor) and their
 * participants, the queue of waiting cases, counsellors' caseloads and
 * notes, and the pool figures drawn from cases. Creating, assigning and
 * unassigning a case each write several rows, all or nothing. This file
 * must never let a client have two open cases (the schema's
 * cases_one_open says so too), and never look into a note (ciphertext
 * only, given back to its author only).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "proto/err.h"
#include "store_int.h"

#define CASE_ID_MASK	((UINT64_C(1) << 53) - 1)
#define CASE_ID_TRIES	8
#define PREF_ALL	(PREF_GENDER | PREF_AGE | PREF_BACKGROUND | \
			PREF_FORMAT | PREF_REGION)

/* Whether participant p is joining: another participant has not
 * confirmed the version it joined at. */
#define JOINING		"CASE WHEN EXISTS (SELECT 1 FROM case_participants o" \
			" WHERE o.case_id = p.case_id" \
			" AND o.account_id != p.account_id" \
			" AND o.seen < p.since) THEN 1 ELSE 0 END"
/* Column list, in the order case_cols() takes it. */
#define CASE_COLS	"c.id, c.status, c.language, coalesce(c.topic, ''), " \
			"c.client_id, coalesce(c.counsellor_id, 0), " \
			"c.created, c.updated, c.urgency, " \
			"coalesce(c.programme_id, 0), " \
			"coalesce(c.pref_gender, ''), c.pref_age, " \
			"c.pref_background, c.pref_format, " \
			"coalesce(c.pref_region, ''), c.asked, c.met, " \
			"coalesce(c.first_response, 0), " \
			"coalesce(c.left_counsellor, 0), c.members"

const char *const store_cases_sql[S_COUNT] = {
	/* A taken id inserts nothing and is retried with another. */
	[S_CASE_INSERT] =
	    "INSERT INTO cases(id, client_id, counsellor_id, status, language,"
	    " topic, created, updated, queued) VALUES (?1, ?2, NULL, 1, ?3, ?4,"
	    " ?5, ?5, (SELECT coalesce(max(queued), 0) + 1 FROM cases))"
	    " ON CONFLICT DO NOTHING",
	[S_CASE_GET] =
	    "SELECT " CASE_COLS " FROM cases c WHERE c.id = ?1",
	[S_CASE_OPEN_OF_CLIENT] =
	    "SELECT " CASE_COLS " FROM cases c"
	    " WHERE c.client_id = ?1 AND c.status IN (1, 2, 4)",
	/* Same second: the later id first, for a stable order. */
	[S_CASE_EACH_OF] =
	    "SELECT " CASE_COLS " FROM case_participants p"
	    " JOIN cases c ON c.id = p.case_id WHERE p.account_id = ?1"
	    " ORDER BY c.status = 3, c.created DESC, c.id DESC LIMIT ?2",
	[S_CASE_ASSIGN] =
	    "UPDATE cases SET counsellor_id = ?2, status = 2, updated = ?3"
	    " WHERE id = ?1 AND status = 1",
	[S_PROFILE_ASSIGNED] =
	    "UPDATE counsellor_profiles SET last_assigned = ?2"
	    " WHERE account_id = ?1",
	/* The intake goes with the closing (PRIVACY.md): urgency back to
	 * normal, no stated preference; asked and met (kinds, no values)
	 * stay, for the case's view. */
	[S_CASE_CLOSE] =
	    "UPDATE cases SET status = 3, updated = ?2, urgency = 1,"
	    " pref_gender = NULL, pref_age = 0, pref_background = 0,"
	    " pref_format = 0, pref_region = NULL"
	    " WHERE id = ?1 AND status != 3",
	/* cases_queue gives this order without a sort. */
	[S_CASE_WAITING] =
	    "SELECT id FROM cases WHERE status = 1"
	    " ORDER BY urgency DESC, queued LIMIT ?1",
	[S_CASE_SET_PREFS] =
	    "UPDATE cases SET urgency = ?2, programme_id = ?3,"
	    " pref_gender = ?4, pref_age = ?5, pref_background = ?6,"
	    " pref_format = ?7, pref_region = ?8 WHERE id = ?1",
	[S_CASE_SET_MATCH] =
	    "UPDATE cases SET asked = ?2, met = ?3 WHERE id = ?1",
	/* an open status only while the client has no other open case
	 * (cases_one_open would refuse it: an error PostgreSQL logs) */
	[S_CASE_SET_STATUS] =
	    "UPDATE cases SET status = ?2, updated = ?3 WHERE id = ?1"
	    " AND (?2 NOT IN (1, 2, 4) OR NOT EXISTS (SELECT 1 FROM cases o"
	    "  WHERE o.client_id = cases.client_id AND o.id != cases.id"
	    "  AND o.status IN (1, 2, 4)))",
	/* Only an open case with a counsellor: a closed one stays closed. */
	[S_CASE_UNASSIGN] =
	    "UPDATE cases SET left_counsellor = counsellor_id,"
	    " counsellor_id = NULL, status = 1, asked = 0,"
	    " met = 0, updated = ?2 WHERE id = ?1"
	    " AND counsellor_id IS NOT NULL AND status IN (1, 2, 4)",
	[S_CASE_OPEN_OF_COUNSELLOR] =
	    "SELECT id FROM cases WHERE counsellor_id = ?1"
	    " AND status IN (1, 2, 4) ORDER BY queued LIMIT ?2",
	[S_CASE_UNREAD] =
	    "SELECT count(*) FROM deliveries"
	    " WHERE recipient_id = ?2 AND case_id = ?1",
	/* The participant's role is its account's; joined counts up; it
	 * has seen the membership it joined (since). */
	[S_PARTICIPANT_INSERT] =
	    "INSERT INTO case_participants(case_id, account_id, role, joined,"
	    " kind, since, seen)"
	    " SELECT ?1, a.id, a.role, (SELECT coalesce(max(joined), 0) + 1"
	    "  FROM case_participants WHERE case_id = ?1), ?3, ?4, ?4"
	    " FROM accounts a WHERE a.id = ?2",
	[S_PARTICIPANTS] =
	    "SELECT p.account_id, a.key, p.role, a.name,"
	    " coalesce(a.programme_id, 0), a.cert, p.kind, p.since, "
	    JOINING ","
	    " coalesce((SELECT max(m.joined_at) FROM case_members m"
	    "  WHERE m.case_id = p.case_id AND m.account_id = p.account_id"
	    "  AND m.left_at IS NULL), 0), 0, 0"
	    " FROM case_participants p JOIN accounts a ON a.id = p.account_id"
	    " WHERE p.case_id = ?1 ORDER BY p.joined",
	/* What the relay needs, in one read: the case's status with each
	 * row; no row for a case that does not exist. */
	[S_PEERS] =
	    "SELECT p.account_id, a.key, " JOINING ", c.status"
	    " FROM case_participants p JOIN accounts a ON a.id = p.account_id"
	    " JOIN cases c ON c.id = p.case_id WHERE p.case_id = ?1",
	/* Who has left, the latest first. */
	[S_FORMER] =
	    "SELECT m.account_id, a.key, a.role, a.name,"
	    " coalesce(a.programme_id, 0), a.cert, m.kind, 0, 0,"
	    " m.joined_at, m.left_at, m.why"
	    " FROM case_members m JOIN accounts a ON a.id = m.account_id"
	    " WHERE m.case_id = ?1 AND m.left_at IS NOT NULL"
	    " ORDER BY m.left_at DESC, m.id DESC LIMIT ?2",
	[S_MEMBERS_BUMP] =
	    "UPDATE cases SET members = members + 1 WHERE id = ?1"
	    " RETURNING members",
	[S_MEMBER_INSERT] =
	    "INSERT INTO case_members(case_id, account_id, kind, joined_at)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[S_MEMBER_LEAVE] =
	    "UPDATE case_members SET left_at = ?3, why = ?4"
	    " WHERE case_id = ?1 AND account_id = ?2 AND left_at IS NULL",
	/* Before S_PARTICIPANT_DROP_COUNSELLOR. */
	[S_MEMBER_LEAVE_COUNSELLOR] =
	    "UPDATE case_members SET left_at = ?2, why = ?3"
	    " WHERE case_id = ?1 AND left_at IS NULL AND account_id ="
	    " (SELECT counsellor_id FROM cases WHERE id = ?1"
	    "  AND status IN (1, 2, 4))",
	[S_PARTICIPANT_DROP] =
	    "DELETE FROM case_participants WHERE case_id = ?1"
	    " AND account_id = ?2",
	[S_PARTICIPANT_SEEN] =
	    "UPDATE case_participants"
	    " SET seen = CASE WHEN seen > ?3 THEN seen ELSE ?3 END"
	    " WHERE case_id = ?1 AND account_id = ?2",
	/* ?2: the limit, ?3: the programme */
	[S_MEMBERS_SENT_AWAY] =
	    "SELECT DISTINCT m.account_id FROM case_members m JOIN accounts a"
	    " ON a.id = m.account_id WHERE m.case_id = ?1"
	    " AND (?3 = 0 OR a.programme_id = ?3) AND m.why IN (1, 3)"
	    " ORDER BY m.account_id LIMIT ?2",
	[S_COLLEAGUES] =
	    "SELECT account_id FROM case_participants"
	    " WHERE case_id = ?1 AND kind != 0 ORDER BY joined LIMIT ?2",
	[S_MEMBERS_COUNT] =
	    "SELECT count(*) FROM case_members WHERE case_id = ?1",
	/* a stay the client ended (1, 3) before any later one: a later stay
	 * (invited back, then gone by itself) never hides it */
	[S_MEMBER_LAST_WHY] =
	    "SELECT why FROM case_members WHERE case_id = ?1"
	    " AND account_id = ?2 AND left_at IS NOT NULL"
	    " ORDER BY CASE WHEN why IN (1, 3) THEN 0 ELSE 1 END, id DESC"
	    " LIMIT 1",
	[S_COLLEAGUE_CASES] =
	    "SELECT case_id FROM case_participants"
	    " WHERE account_id = ?1 AND kind != 0 ORDER BY case_id LIMIT ?2",
	[S_PARTICIPANT_HAS] =
	    "SELECT 1 FROM case_participants"
	    " WHERE case_id = ?1 AND account_id = ?2",
	/* Before S_CASE_UNASSIGN, which forgets who the counsellor was. */
	[S_PARTICIPANT_DROP_COUNSELLOR] =
	    "DELETE FROM case_participants WHERE case_id = ?1 AND account_id ="
	    " (SELECT counsellor_id FROM cases WHERE id = ?1"
	    "  AND status IN (1, 2, 4))",
	[S_SHARE_CASE] =
	    "SELECT 1 FROM case_participants a JOIN case_participants b"
	    " ON b.case_id = a.case_id WHERE a.account_id = ?1"
	    " AND b.account_id = ?2 LIMIT 1",
	/* created: to the minute, as its author is shown it (PRIVACY.md). */
	[S_NOTE_INSERT] =
	    "INSERT INTO case_notes(case_id, author_id, ct, created)"
	    " VALUES (?1, ?2, ?3, ?4 - ?4 % 60) RETURNING id",
	[S_NOTES] =
	    "SELECT id, created, ct FROM case_notes"
	    " WHERE case_id = ?1 AND author_id = ?2 AND id > ?3"
	    " ORDER BY id LIMIT ?4",
	[S_NOTE_COUNT] =
	    "SELECT count(*) FROM case_notes WHERE case_id = ?1 AND author_id = ?2",
	/* notes only their author reads, and only while the case is its:
	 * of an author that is no longer the case's counsellor, and has
	 * been in it at no time since ?2 (a case can come back to it: a
	 * disabled counsellor enabled and assigned it again) */
	[S_NOTES_STRANDED] =
	    "DELETE FROM case_notes WHERE id IN (SELECT n.id FROM case_notes n"
	    " JOIN cases c ON c.id = n.case_id"
	    " WHERE (c.counsellor_id IS NULL OR c.counsellor_id != n.author_id)"
	    " AND NOT EXISTS (SELECT 1 FROM case_members m"
	    " WHERE m.case_id = n.case_id AND m.account_id = n.author_id"
	    " AND (m.left_at IS NULL OR m.left_at >= ?2))"
	    " LIMIT ?1)",
	[S_QUEUE_COUNT] =
	    "SELECT count(*) FROM cases WHERE status = 1"
	    " AND (programme_id IS NULL OR programme_id = ?1)",
	/* A waiting case's updated is when it began to wait (a message
	 * touches only cases that do not wait). */
	[S_QUEUE_BY_PROGRAMME] =
	    "SELECT coalesce(programme_id, 0), count(*), min(updated)"
	    " FROM cases WHERE status = 1 GROUP BY 1 ORDER BY 1",
	/* 1 + the waiting cases ahead of it in S_CASE_WAITING's order;
	 * none when the case does not wait. */
	[S_CASE_QUEUE_POSITION] =
	    "SELECT count(*) FROM cases c JOIN cases w ON w.status = 1"
	    " AND (w.urgency > c.urgency OR (w.urgency = c.urgency"
	    " AND w.queued <= c.queued))"
	    " WHERE c.id = ?1 AND c.status = 1",
	/* cases_closed gives this order. */
	[S_CASES_CLOSED_BEFORE] =
	    "SELECT id FROM cases WHERE status = 3 AND updated < ?1"
	    " ORDER BY updated, id LIMIT ?2",
	/* Every case of an account, as its client (always a participant of
	 * its own cases: case_participants_account) or its counsellor
	 * (cases_counsellor); no full scan of cases. */
	[S_CASES_OF] =
	    "SELECT c.id FROM case_participants p JOIN cases c"
	    " ON c.id = p.case_id WHERE p.account_id = ?1 AND c.client_id = ?1"
	    " UNION SELECT id FROM cases WHERE counsellor_id = ?1"
	    " ORDER BY 1 LIMIT ?2",
	/* A case's rows, children first (store_case_drop). */
	[S_CASE_DROP_DELIVERIES] =
	    "DELETE FROM deliveries WHERE case_id = ?1",
	[S_CASE_DROP_NOTES] =
	    "DELETE FROM case_notes WHERE case_id = ?1",
	[S_CASE_DROP_PARTICIPANTS] =
	    "DELETE FROM case_participants WHERE case_id = ?1",
	[S_CASE_DROP_MEMBERS] =
	    "DELETE FROM case_members WHERE case_id = ?1",
	[S_CASE_DROP_REFERRALS] =
	    "DELETE FROM referrals WHERE case_id = ?1",
	[S_CASE_DROP] =
	    "DELETE FROM cases WHERE id = ?1",
	/* A referral's handover (store_case_handover). */
	[S_CASE_HANDOVER] =
	    "UPDATE cases SET counsellor_id = ?2, programme_id = ?3,"
	    " updated = ?4 WHERE id = ?1 AND status IN (2, 4)",
	[S_PARTICIPANT_OWN] =
	    "UPDATE case_participants SET kind = 0"
	    " WHERE case_id = ?1 AND account_id = ?2 AND kind != 0",
	[S_FIRST_RESPONSES] =
	    "SELECT c.first_response - c.created FROM cases c"
	    " JOIN accounts a ON a.id = c.counsellor_id"
	    " WHERE a.programme_id = ?1 AND c.created >= ?2"
	    " AND c.first_response IS NOT NULL ORDER BY 1 LIMIT ?3",
	[S_CASE_REFERRED] =
	    "UPDATE cases SET referred_external = 1 WHERE id = ?1",
	[S_REFERRED_COUNT] =
	    "SELECT count(*) FROM cases c"
	    " JOIN accounts a ON a.id = c.counsellor_id"
	    " WHERE a.programme_id = ?1 AND c.created >= ?2"
	    " AND c.referred_external = 1",
};

/* Reads CASE_COLS into a struct case_info. */
static int
case_cols(struct db_stmt *s, void *row)
{
	struct case_info *out = row;

	memset(out, 0, sizeof(*out));
	out->id = db_col_int64(s, 0);
	out->status = db_col_int(s, 1);
	if (db_col_text(s, 2, out->language, sizeof(out->language)) != 0 ||
	    db_col_text(s, 3, out->topic, sizeof(out->topic)) != 0)
		return -1;
	out->client = db_col_int64(s, 4);
	out->counsellor = db_col_int64(s, 5);
	out->created = db_col_int64(s, 6);
	out->updated = db_col_int64(s, 7);
	out->prefs.urgency = db_col_int(s, 8);
	out->prefs.programme = db_col_int64(s, 9);
	if (db_col_text(s, 10, out->prefs.gender,
	    sizeof(out->prefs.gender)) != 0 ||
	    db_col_text(s, 14, out->prefs.region,
	    sizeof(out->prefs.region)) != 0)
		return -1;
	out->prefs.age_band = db_col_int(s, 11);
	out->prefs.background = db_col_int(s, 12);
	out->prefs.format = db_col_int(s, 13);
	out->asked = (unsigned)db_col_int(s, 15);
	out->met = (unsigned)db_col_int(s, 16);
	out->first_response = db_col_int64(s, 17);
	out->left = db_col_int64(s, 18);
	out->members = db_col_int64(s, 19);
	return 0;
}

/* Adds account to the case, after those already in it, as kind at
 * membership version since, and begins its stay in the history. */
static int
participant_add(struct store *st, int64_t case_id, int64_t account,
    int kind, int64_t since, int64_t now, const char *what)
{
	struct db_stmt *s = st->s[S_PARTICIPANT_INSERT];
	int rc;

	if (db_bind_int64(s, 1, case_id) != DB_OK ||
	    db_bind_int64(s, 2, account) != DB_OK ||
	    db_bind_int(s, 3, kind) != DB_OK ||
	    db_bind_int64(s, 4, since) != DB_OK)
		return db_fail(st, s, what);
	if ((rc = db_exec_one(st, s, OFR_E_NOT_FOUND, what)) != 0)
		return rc;
	s = st->s[S_MEMBER_INSERT];
	if (db_bind_int64(s, 1, case_id) != DB_OK ||
	    db_bind_int64(s, 2, account) != DB_OK ||
	    db_bind_int(s, 3, kind) != DB_OK ||
	    db_bind_int64(s, 4, now) != DB_OK)
		return db_fail(st, s, what);
	return db_exec(st, s, what);
}

/* One up the case's membership version, into *version. */
static int
members_bump(struct store *st, int64_t case_id, int64_t *version,
    const char *what)
{
	struct db_stmt *s = st->s[S_MEMBERS_BUMP];
	int rc;

	if (db_bind_int64(s, 1, case_id) != DB_OK)
		return db_fail(st, s, what);
	if ((rc = db_row(st, s, what)) < 0)
		return rc;
	if (rc == 0)
		return OFR_E_NOT_FOUND;
	*version = db_col_int64(s, 0);
	db_done(s);		/* the update is done with the first step */
	return 0;
}

/* A random case id in 1..2^53-1. */
static int64_t
random_case_id(void)
{
	uint64_t u;

	do {
		randombytes_buf(&u, sizeof(u));
		u &= CASE_ID_MASK;
	} while (u == 0);
	return (int64_t)u;
}

/*
 * Beyond store.h: OFR_E_BAD_FIELD when language or topic is not a token,
 * OFR_E_CASE_OPEN when the client has an open case already (the schema
 * allows one), OFR_E_INTERNAL (and nothing written) when no client has
 * this id. The intake is the default: urgency normal, nothing else.
 */
int
store_case_create(struct store *st, int64_t client, const char *language,
    const char *topic, int64_t now, struct case_info *out)
{
	struct db_stmt *s = st->s[S_CASE_INSERT];
	int64_t id = 0;
	int rc, tries, open = 0;

	if (topic == NULL)
		topic = "";
	if (!frame_is_token(language) ||
	    (topic[0] != '\0' && !frame_is_token(topic)))
		return OFR_E_BAD_FIELD;
	if ((rc = db_call_begin(st)) != 0)
		return rc;
	for (tries = 0; tries < CASE_ID_TRIES; tries++) {
		id = random_case_id();
		if (db_bind_int64(s, 1, id) != DB_OK ||
		    db_bind_int64(s, 2, client) != DB_OK ||
		    db_bind_text(s, 3, language) != DB_OK ||
		    db_bind_text_or_null(s, 4, topic) != DB_OK ||
		    db_bind_int64(s, 5, now) != DB_OK) {
			rc = db_fail(st, s, __func__);
			goto out;
		}
		/* A refusal by a unique index inserts nothing, and is
		 * no error (PostgreSQL would log one, with the client's
		 * id: PRIVACY.md): the id taken, the client's open case
		 * (cases_one_open), or the next place in the queue taken
		 * by another node's new case (queued; its insert
		 * committed): again, unless the client has an open case. */
		if ((rc = db_exec(st, s, __func__)) != 0)
			goto out;
		if (db_changes(st) == 1)
			break;
		if ((rc = db_exists(st, S_CASE_OPEN_OF_CLIENT, &client, 1,
		    &open, __func__)) != 0)
			goto out;
		if (open) {
			rc = OFR_E_CASE_OPEN;
			goto out;
		}
	}
	if (tries == CASE_ID_TRIES) {
		log_err("store: %s: no free case id in %d tries", __func__,
		    CASE_ID_TRIES);
		rc = OFR_E_INTERNAL;
		goto out;
	}
	if ((rc = participant_add(st, id, client, MEMBER_OWN, 0, now,
	    __func__)) != 0)
		goto out;
	memset(out, 0, sizeof(*out));
	out->id = id;
	out->status = CASE_WAITING;
	memcpy(out->language, language, strlen(language) + 1);
	memcpy(out->topic, topic, strlen(topic) + 1);
	out->client = client;
	out->created = out->updated = now;
	out->prefs.urgency = 1;
out:
	return db_call_end(st, rc);
}

int
store_case_get(struct store *st, int64_t id, struct case_info *out)
{
	return db_get_row(st, S_CASE_GET, &id, 1, case_cols, out, __func__);
}

int
store_case_open_of_client(struct store *st, int64_t client,
    struct case_info *out)
{
	return db_get_row(st, S_CASE_OPEN_OF_CLIENT, &client, 1, case_cols, out,
	    __func__);
}

/* The cases store_case_each_of() reads before it calls back. */
struct case_list {
	struct case_info *cases;
	size_t n;
	int more;		/* a row past STORE_CASES_MAX */
};

static int
case_list_add(struct db_stmt *s, void *ctx, int *rc)
{
	struct case_list *l = ctx;

	if (l->n == STORE_CASES_MAX) {
		l->more = 1;	/* full, and one more: step no further */
		*rc = 1;
		return 0;
	}
	if (case_cols(s, &l->cases[l->n]) != 0)
		return -1;
	l->n++;
	return 0;
}

/* The cases are read in full before fn sees the first, so fn may call any
 * store function. */
int
store_case_each_of(struct store *st, int64_t account,
    int (*fn)(void *arg, const struct case_info *c), void *arg, int *more)
{
	const int64_t key[] = { account, STORE_CASES_MAX + 1 };
	struct case_list l = { NULL, 0, 0 };
	int rc;

	if ((l.cases = calloc(STORE_CASES_MAX, sizeof(*l.cases))) == NULL)
		return OFR_E_NOMEM;
	rc = db_each_row(st, S_CASE_EACH_OF, key, nitems(key), case_list_add,
	    &l, __func__);
	if (rc > 0)
		rc = 0;
	for (size_t i = 0; i < l.n && rc == 0; i++)
		rc = fn(arg, &l.cases[i]);
	free(l.cases);
	if (more != NULL)
		*more = l.more;
	return rc;
}

/* OFR_E_NOT_FOUND when there is no waiting case case_id, or counsellor
 * has no counsellor profile. */
int
store_case_assign(struct store *st, int64_t case_id, int64_t counsellor,
    int64_t now)
{
	struct db_stmt *s = st->s[S_CASE_ASSIGN];
	int rc;

	if ((rc = db_call_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, case_id) != DB_OK ||
	    db_bind_int64(s, 2, counsellor) != DB_OK ||
	    db_bind_int64(s, 3, now) != DB_OK) {
		rc = db_fail(st, s, __func__);
		goto out;
	}
	if ((rc = db_exec(st, s, __func__)) != 0)
		goto out;
	if (db_changes(st) != 1) {
		rc = OFR_E_NOT_FOUND;
		goto out;
	}
	s = st->s[S_PROFILE_ASSIGNED];
	if (db_bind_int64(s, 1, counsellor) != DB_OK ||
	    db_bind_int64(s, 2, now) != DB_OK) {
		rc = db_fail(st, s, __func__);
		goto out;
	}
	if ((rc = db_exec(st, s, __func__)) != 0)
		goto out;
	if (db_changes(st) != 1) {
		rc = OFR_E_NOT_FOUND;
		goto out;
	}
	rc = participant_add(st, case_id, counsellor, MEMBER_OWN, 0, now,
	    __func__);
out:
	return db_call_end(st, rc);
}

/* Closes the case and clears its intake (urgency normal, no stated
 * preference). OFR_E_NOT_FOUND when no case has this id,
 * OFR_E_CASE_CLOSED when it is closed already (then nothing changes). */
int
store_case_close(struct store *st, int64_t case_id, int64_t now)
{
	struct db_stmt *s = st->s[S_CASE_CLOSE];
	struct case_info c;
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, case_id) != DB_OK ||
	    db_bind_int64(s, 2, now) != DB_OK)
		return db_fail(st, s, __func__);
	if ((rc = db_exec(st, s, __func__)) != 0)
		return rc;
	if (db_changes(st) == 1)
		return 0;
	if ((rc = store_case_get(st, case_id, &c)) != 0)
		return rc;
	return OFR_E_CASE_CLOSED;
}

/* OFR_E_BAD_FIELD (nothing written) when a field is out of its range
 * (urgency 0..2, programme >= 0, gender and region "" or a token, age band
 * 0..4, background 0..2, format 0 or one format bit); OFR_E_NOT_FOUND when
 * no case has this id or no programme has p->programme. */
int
store_case_set_prefs(struct store *st, int64_t case_id,
    const struct case_prefs *p)
{
	struct db_stmt *s = st->s[S_CASE_SET_PREFS];
	int rc;

	if (p->urgency < 0 || p->urgency > 2 || p->programme < 0 ||
	    !db_token_or_empty(p->gender, sizeof(p->gender)) ||
	    p->age_band < 0 || p->age_band > 4 ||
	    p->background < BACKGROUND_NONE ||
	    p->background > BACKGROUND_PROFESSIONAL ||
	    (p->format != 0 && p->format != FORMAT_CHAT &&
	    p->format != FORMAT_IN_PERSON &&
	    p->format != FORMAT_PHONE_VIDEO) ||
	    !db_token_or_empty(p->region, sizeof(p->region)))
		return OFR_E_BAD_FIELD;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, case_id) != DB_OK ||
	    db_bind_int(s, 2, p->urgency) != DB_OK ||
	    db_bind_ref(s, 3, p->programme) != DB_OK ||
	    db_bind_text_or_null(s, 4, p->gender) != DB_OK ||
	    db_bind_int(s, 5, p->age_band) != DB_OK ||
	    db_bind_int(s, 6, p->background) != DB_OK ||
	    db_bind_int(s, 7, p->format) != DB_OK ||
	    db_bind_text_or_null(s, 8, p->region) != DB_OK)
		return db_fail(st, s, __func__);
	if ((rc = db_exec_or(st, s, DB_FOREIGN_KEY,
	    OFR_E_NOT_FOUND, __func__)) != 0)
		return rc;
	return db_changes(st) == 1 ? 0 : OFR_E_NOT_FOUND;
}

/* OFR_E_BAD_FIELD when a bit is not a PREF_ bit or met is not a part of
 * asked; OFR_E_NOT_FOUND when no case has this id. */
int
store_case_set_match(struct store *st, int64_t case_id, unsigned asked,
    unsigned met)
{
	struct db_stmt *s = st->s[S_CASE_SET_MATCH];
	int rc;

	if ((asked & ~(unsigned)PREF_ALL) != 0 || (met & ~asked) != 0)
		return OFR_E_BAD_FIELD;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, case_id) != DB_OK ||
	    db_bind_int(s, 2, (int)asked) != DB_OK ||
	    db_bind_int(s, 3, (int)met) != DB_OK)
		return db_fail(st, s, __func__);
	return db_exec_one(st, s, OFR_E_NOT_FOUND, __func__);
}

/* Sets updated to now too. OFR_E_BAD_FIELD when status is not a case
 * status; OFR_E_NOT_FOUND when no case has this id; OFR_E_CASE_OPEN (and
 * nothing changes) when the case would open while its client has another
 * open case. */
int
store_case_set_status(struct store *st, int64_t case_id, int status,
    int64_t now)
{
	struct db_stmt *s = st->s[S_CASE_SET_STATUS];
	int rc;

	if (status < CASE_WAITING || status > CASE_PAUSED)
		return OFR_E_BAD_FIELD;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, case_id) != DB_OK ||
	    db_bind_int(s, 2, status) != DB_OK ||
	    db_bind_int64(s, 3, now) != DB_OK)
		return db_fail(st, s, __func__);
	/* cases_one_open: another node's open case of the client, not
	 * yet committed when the guard read */
	if ((rc = db_exec_or(st, s, DB_UNIQUE, OFR_E_CASE_OPEN,
	    __func__)) != 0)
		return rc;
	if (db_changes(st) == 1)
		return 0;
	/* the guard's refusal, or no such case */
	rc = db_get_row(st, S_CASE_GET, &case_id, 1, NULL, NULL, __func__);
	return rc == 0 ? OFR_E_CASE_OPEN : rc;
}

/* All or nothing: the counsellor leaves the participants, the case has no
 * counsellor, waits (keeping its place in the queue), asked and met are
 * cleared, updated is now. OFR_E_NOT_FOUND (nothing changes) when no open
 * case with a counsellor has this id. */
int
store_case_unassign(struct store *st, int64_t case_id, int why,
    int64_t now)
{
	const int64_t leave[] = { case_id, now, why };
	struct db_stmt *s = st->s[S_PARTICIPANT_DROP_COUNSELLOR];
	int64_t version;
	int rc;

	if (why < LEFT_REASSIGNED || why > LEFT_WHY_MAX)
		return OFR_E_BAD_FIELD;
	if ((rc = db_call_begin(st)) != 0)
		return rc;
	if ((rc = db_write(st, S_MEMBER_LEAVE_COUNSELLOR, leave,
	    nitems(leave), NULL, __func__)) != 0 ||
	    (rc = members_bump(st, case_id, &version, __func__)) != 0)
		goto out;
	if (db_bind_int64(s, 1, case_id) != DB_OK) {
		rc = db_fail(st, s, __func__);
		goto out;
	}
	if ((rc = db_exec(st, s, __func__)) != 0)
		goto out;
	s = st->s[S_CASE_UNASSIGN];
	if (db_bind_int64(s, 1, case_id) != DB_OK ||
	    db_bind_int64(s, 2, now) != DB_OK) {
		rc = db_fail(st, s, __func__);
		goto out;
	}
	if ((rc = db_exec(st, s, __func__)) != 0)
		goto out;
	if (db_changes(st) != 1)
		rc = OFR_E_NOT_FOUND;
out:
	return db_call_end(st, rc);
}

/* Participants. */

/* account joins the case as kind (not MEMBER_OWN), at a new membership
 * version, which it has seen, and which inviter has seen too (it asked).
 * OFR_E_BAD_STATE when account is in the case already. */
int
store_member_add(struct store *st, int64_t case_id, int64_t inviter,
    int64_t account, int kind, int64_t now, int64_t *version)
{
	int rc, yes = 0;

	if (kind <= MEMBER_OWN || kind > MEMBER_LANGUAGE_HELPER)
		return OFR_E_BAD_FIELD;
	if ((rc = store_case_has_participant(st, case_id, account,
	    &yes)) != 0)
		return rc;
	if (yes)
		return OFR_E_BAD_STATE;
	if ((rc = db_call_begin(st)) != 0)
		return rc;
	if ((rc = members_bump(st, case_id, version, __func__)) != 0 ||
	    (rc = participant_add(st, case_id, account, kind, *version, now,
	    __func__)) != 0)
		goto out;
	rc = store_case_seen(st, case_id, inviter, *version);
out:
	return db_call_end(st, rc);
}

int
store_case_handover(struct store *st, int64_t case_id, int64_t receiver,
    int64_t programme, int64_t now)
{
	const int64_t leave[] = { case_id, now, LEFT_REFERRAL };
	const int64_t take[] = { case_id, receiver, programme, now };
	int64_t version, changed = 0;
	int rc;

	if ((rc = db_call_begin(st)) != 0)
		return rc;
	if ((rc = db_write(st, S_MEMBER_LEAVE_COUNSELLOR, leave,
	    nitems(leave), NULL, __func__)) != 0 ||
	    (rc = db_write(st, S_PARTICIPANT_DROP_COUNSELLOR, &case_id, 1,
	    &changed, __func__)) != 0)
		goto out;
	if (changed != 1) {
		rc = OFR_E_BAD_STATE;
		goto out;
	}
	if ((rc = db_write(st, S_CASE_HANDOVER, take, nitems(take), &changed,
	    __func__)) != 0)
		goto out;
	if (changed != 1) {
		rc = OFR_E_BAD_STATE;
		goto out;
	}
	if ((rc = db_write(st, S_PARTICIPANT_OWN, take, 2, &changed,
	    __func__)) != 0)
		goto out;
	if (changed != 1) {
		rc = OFR_E_BAD_STATE;
		goto out;
	}
	rc = members_bump(st, case_id, &version, __func__);
out:
	return db_call_end(st, rc);
}

/* account leaves the case for why, at a new membership version; its stay
 * ends in the history. OFR_E_NOT_FOUND when it is not in the case. */
int
store_member_drop(struct store *st, int64_t case_id, int64_t account,
    int why, int64_t now)
{
	const int64_t key[] = { case_id, account, now, why };
	int64_t version, changed = 0;
	int rc;

	if (why < LEFT_REASSIGNED || why > LEFT_WHY_MAX)
		return OFR_E_BAD_FIELD;
	if ((rc = db_call_begin(st)) != 0)
		return rc;
	if ((rc = db_write(st, S_PARTICIPANT_DROP, key, 2, &changed,
	    __func__)) != 0)
		goto out;
	if (changed != 1) {
		rc = OFR_E_NOT_FOUND;
		goto out;
	}
	if ((rc = db_write(st, S_MEMBER_LEAVE, key, nitems(key), NULL,
	    __func__)) != 0)
		goto out;
	rc = members_bump(st, case_id, &version, __func__);
out:
	return db_call_end(st, rc);
}

int
store_case_seen(struct store *st, int64_t case_id, int64_t account,
    int64_t version)
{
	const int64_t key[] = { case_id, account, version };
	int rc;

	if ((rc = db_write_begin(st)) != 0)
		return rc;
	return db_write(st, S_PARTICIPANT_SEEN, key, nitems(key), NULL,
	    __func__);
}

int
store_case_colleagues(struct store *st, int64_t case_id, int64_t *ids,
    size_t max, size_t *n)
{
	const int64_t key[] = { case_id, db_limit(max) };

	return db_ints(st, S_COLLEAGUES, key, nitems(key), ids, max, n,
	    __func__);
}

int
store_case_sent_away(struct store *st, int64_t case_id, int64_t programme,
    int64_t *ids, size_t max, size_t *n)
{
	const int64_t key[] = { case_id, db_limit(max), programme };

	return db_ints(st, S_MEMBERS_SENT_AWAY, key, nitems(key), ids, max, n,
	    __func__);
}

int
store_colleague_cases(struct store *st, int64_t account, int64_t *ids,
    size_t max, size_t *n)
{
	const int64_t key[] = { account, db_limit(max) };

	return db_ints(st, S_COLLEAGUE_CASES, key, nitems(key), ids, max, n,
	    __func__);
}

/* 1 (OFR_E_LIMIT in *rc) when a list of n participants read has no room
 * for another (max): the caller stops the read. */
static int
crowded(size_t n, size_t max, int *rc)
{
	if (n < max)
		return 0;
	log_err("store: case has more than %zu participants", max);
	*rc = OFR_E_LIMIT;
	return 1;
}

/* Where store_case_participants() puts the participants. */
struct participant_list {
	struct participant *out;
	size_t max;
	size_t *n;
};

static int
participant_list_add(struct db_stmt *s, void *ctx, int *rc)
{
	struct participant_list *l = ctx;
	struct participant *p;

	if (crowded(*l->n, l->max, rc))
		return 0;
	p = &l->out[*l->n];
	memset(p, 0, sizeof(*p));
	p->account = db_col_int64(s, 0);
	if (db_col_blob(s, 1, p->key, OFR_PK_BYTES) != 0 ||
	    db_col_text(s, 3, p->name, sizeof(p->name)) != 0)
		return -1;
	p->role = db_col_int(s, 2);
	p->programme = db_col_int64(s, 4);
	if (!db_col_is_null(s, 5)) {
		if (db_col_blob(s, 5, p->cert, CERT_BYTES) != 0)
			return -1;
		p->has_cert = 1;
	}
	p->kind = db_col_int(s, 6);
	p->since = db_col_int64(s, 7);
	p->joining = db_col_int(s, 8);
	p->joined_at = db_col_int64(s, 9);
	p->left_at = db_col_int64(s, 10);
	p->why = db_col_int(s, 11);
	(*l->n)++;
	return 0;
}

/* OFR_E_LIMIT when the case has more than max participants: then out holds
 * the first max and *n is max. A case that does not exist has none. */
int
store_case_participants(struct store *st, int64_t case_id,
    struct participant *out, size_t max, size_t *n)
{
	struct participant_list l = { out, max, n };

	*n = 0;
	return db_each_row(st, S_PARTICIPANTS, &case_id, 1,
	    participant_list_add, &l, __func__);
}

/* Where store_case_peers() puts the peers. */
struct peer_list {
	struct peer *out;
	size_t max;
	size_t *n;
	int *status;
};

static int
peer_list_add(struct db_stmt *s, void *ctx, int *rc)
{
	struct peer_list *l = ctx;
	struct peer *p;

	if (crowded(*l->n, l->max, rc))
		return 0;
	p = &l->out[*l->n];
	p->account = db_col_int64(s, 0);
	if (db_col_blob(s, 1, p->key, OFR_PK_BYTES) != 0)
		return -1;
	p->joining = db_col_int(s, 2);
	*l->status = db_col_int(s, 3);
	(*l->n)++;
	return 0;
}

int
store_case_peers(struct store *st, int64_t case_id, struct peer *out,
    size_t max, size_t *n, int *status)
{
	struct peer_list l = { out, max, n, status };

	*n = 0;
	*status = 0;
	return db_each_row(st, S_PEERS, &case_id, 1, peer_list_add, &l,
	    __func__);
}

int
store_case_stays(struct store *st, int64_t case_id, int64_t *n)
{
	return db_count(st, S_MEMBERS_COUNT, &case_id, 1, n, __func__);
}

/* 0 in *why when account never left the case. */
int
store_member_last_why(struct store *st, int64_t case_id, int64_t account,
    int *why)
{
	const int64_t key[] = { case_id, account };
	int64_t v = 0;
	int rc = db_get_row(st, S_MEMBER_LAST_WHY, key, nitems(key),
	    db_int64_col, &v, __func__);

	*why = (int)v;
	return rc == OFR_E_NOT_FOUND ? 0 : rc;
}

/* At most max: the latest stays that ended. */
int
store_case_former(struct store *st, int64_t case_id,
    struct participant *out, size_t max, size_t *n)
{
	const int64_t key[] = { case_id, db_limit(max) };
	struct participant_list l = { out, max, n };

	*n = 0;
	return db_each_row(st, S_FORMER, key, nitems(key),
	    participant_list_add, &l, __func__);
}

int
store_case_has_participant(struct store *st, int64_t case_id,
    int64_t account, int *yes)
{
	const int64_t key[] = { case_id, account };

	return db_exists(st, S_PARTICIPANT_HAS, key, nitems(key), yes,
	    __func__);
}

int
store_share_case(struct store *st, int64_t a, int64_t b, int *yes)
{
	const int64_t key[] = { a, b };

	return db_exists(st, S_SHARE_CASE, key, nitems(key), yes, __func__);
}

/* The queue and the caseloads. */

int
store_case_waiting(struct store *st, int64_t *ids, size_t max, size_t *n)
{
	const int64_t key[] = { db_limit(max) };

	return db_ints(st, S_CASE_WAITING, key, nitems(key), ids, max, n,
	    __func__);
}

int
store_case_queue_position(struct store *st, int64_t case_id, int64_t *pos)
{
	return db_count(st, S_CASE_QUEUE_POSITION, &case_id, 1, pos,
	    __func__);
}

/* In order of arrival. */
int
store_case_open_of_counsellor(struct store *st, int64_t counsellor,
    int64_t *ids, size_t max, size_t *n)
{
	const int64_t key[] = { counsellor, db_limit(max) };

	return db_ints(st, S_CASE_OPEN_OF_COUNSELLOR, key, nitems(key), ids,
	    max, n, __func__);
}

int
store_case_unread(struct store *st, int64_t case_id, int64_t recipient,
    int64_t *n)
{
	const int64_t key[] = { case_id, recipient };

	return db_count(st, S_CASE_UNREAD, key, nitems(key), n, __func__);
}

/* Notes. */

/* OFR_E_BAD_FIELD when the note is over OFR_CT_MAX bytes, OFR_E_LIMIT
 * when author has STORE_NOTES_MAX in the case. The caller has checked
 * that author is the case's counsellor. */
int
store_note_add(struct store *st, int64_t case_id, int64_t author,
    const uint8_t *ct, size_t len, int64_t now, int64_t *id)
{
	const int64_t key[] = { case_id, author };
	struct db_stmt *s = st->s[S_NOTE_INSERT];
	int64_t n;
	int rc;

	if (len > OFR_CT_MAX)
		return OFR_E_BAD_FIELD;
	if ((rc = db_count(st, S_NOTE_COUNT, key, nitems(key), &n,
	    __func__)) != 0)
		return rc;
	if (n >= STORE_NOTES_MAX)
		return OFR_E_LIMIT;
	if ((rc = db_write_begin(st)) != 0)
		return rc;
	if (db_bind_int64(s, 1, case_id) != DB_OK ||
	    db_bind_int64(s, 2, author) != DB_OK ||
	    db_bind_blob(s, 3, ct, len) != DB_OK ||
	    db_bind_int64(s, 4, now) != DB_OK)
		return db_fail(st, s, __func__);
	return db_insert(st, s, DB_NONE, 0, id, __func__);
}

/* store_note_each()'s callback. */
struct note_fn {
	int (*fn)(void *arg, const struct note *n);
	void *arg;
};

static int
note_visit(struct db_stmt *s, void *ctx, int *rc)
{
	static const uint8_t empty[1];
	struct note_fn *f = ctx;
	struct note n;

	memset(&n, 0, sizeof(n));
	n.id = db_col_int64(s, 0);
	n.ts = db_col_int64(s, 1);
	n.ct = db_col_data(s, 2);
	n.ct_len = (size_t)db_col_bytes(s, 2);
	if (n.ct == NULL)
		n.ct = empty;
	*rc = f->fn(f->arg, &n);
	return 0;
}

/* fn may call other store functions, but not store_note_each(). */
int
store_note_each(struct store *st, int64_t case_id, int64_t author,
    int64_t after, int (*fn)(void *arg, const struct note *n), void *arg)
{
	const int64_t key[] = { case_id, author, after, STORE_CASES_MAX + 1 };
	struct note_fn f = { fn, arg };

	return db_each_row(st, S_NOTES, key, nitems(key), note_visit, &f,
	    __func__);
}

int
store_notes_stranded_drop(struct store *st, int64_t before, size_t max,
    size_t *n)
{
	int64_t p[2] = { db_limit(max), before }, changed = 0;
	int rc;

	*n = 0;
	if ((rc = db_write(st, S_NOTES_STRANDED, p, nitems(p), &changed,
	    __func__)) == 0)
		*n = (size_t)changed;
	return rc;
}

/* Pool figures. */

int
store_queue_count(struct store *st, int64_t programme, int64_t *n)
{
	return db_count(st, S_QUEUE_COUNT, &programme, 1, n, __func__);
}

/* store_queue_each()'s callback. */
struct queue_fn {
	int (*fn)(void *arg, int64_t programme, int64_t waiting,
	    int64_t since);
	void *arg;
};

static int
queue_visit(struct db_stmt *s, void *ctx, int *rc)
{
	struct queue_fn *f = ctx;

	*rc = f->fn(f->arg, db_col_int64(s, 0),
	    db_col_int64(s, 1), db_col_int64(s, 2));
	return 0;
}

int
store_queue_each(struct store *st,
    int (*fn)(void *arg, int64_t programme, int64_t waiting, int64_t since),
    void *arg)
{
	struct queue_fn f = { fn, arg };

	return db_each_row(st, S_QUEUE_BY_PROGRAMME, NULL, 0, queue_visit, &f,
	    __func__);
}

int
store_first_responses(struct store *st, int64_t programme, int64_t since,
    int64_t *secs, size_t max, size_t *n)
{
	const int64_t key[] = { programme, since, db_limit(max) };

	return db_ints(st, S_FIRST_RESPONSES, key, nitems(key), secs, max, n,
	    __func__);
}

int
store_case_referred(struct store *st, int64_t case_id)
{
	return db_write(st, S_CASE_REFERRED, &case_id, 1, NULL, __func__);
}

int
store_referred_count(struct store *st, int64_t programme, int64_t since,
    int64_t *n)
{
	const int64_t key[] = { programme, since };

	return db_count(st, S_REFERRED_COUNT, key, nitems(key), n, __func__);
}

int
store_cases_closed_before(struct store *st, int64_t before, int64_t *ids,
    size_t max, size_t *n)
{
	const int64_t key[] = { before, db_limit(max) };

	return db_ints(st, S_CASES_CLOSED_BEFORE, key, nitems(key), ids, max,
	    n, __func__);
}

int
store_case_drop(struct store *st, int64_t case_id)
{
	static const enum stmt_id steps[] = {
		S_CASE_DROP_DELIVERIES,
		S_CASE_DROP_NOTES, S_CASE_DROP_PARTICIPANTS,
		S_CASE_DROP_MEMBERS, S_CASE_DROP_REFERRALS, S_CASE_DROP,
	};
	int rc;

	if ((rc = db_call_begin(st)) != 0)
		return rc;
	for (size_t i = 0; i < nitems(steps) && rc == 0; i++)
		rc = db_write(st, steps[i], &case_id, 1, NULL, __func__);
	if (rc == 0)
		st->scrub = 1;	/* its old pages: out of offramp.db soon */
	return db_call_end(st, rc);
}

int
store_cases_of(struct store *st, int64_t account, int64_t *ids, size_t max,
    size_t *n)
{
	const int64_t key[] = { account, db_limit(max) };

	return db_ints(st, S_CASES_OF, key, nitems(key), ids, max, n,
	    __func__);
}
