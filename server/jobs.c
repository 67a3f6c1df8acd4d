/*
 * jobs.c: the table of periodic jobs and the loop timer that runs them
 * (jobs.h). It owns when periodic work happens, not what it does: each job
 * calls the module that owns its data (casework.c for the queue, the store
 * for message records). It must never commit, sleep, or call the transport
 * or a handler by name; it reaches the loop through srv->conn. Of several
 * nodes on one database, only the one that holds the jobs' lock runs
 * them (cluster_leader()); the others skip each run that falls due. And
 * each run holds a lock of its job in the store (store_try_lock) until
 * its commit: a node that cannot have it skips the run, so that two
 * nodes never run one job at once, even while a leader's flag is stale.
 */
#include <stdint.h>
#include <time.h>

#include "casework.h"
#include "cluster.h"
#include "conn.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "proto/err.h"
#include "server.h"
#include "session.h"
#include "store.h"

#define DEDUP_KEEP	86400	/* a record of a send is kept a day */

/* Waiting cases whose clients are gone leave the queue; presence ages
 * (idle counsellors are matched no more) and working hours begin: look
 * at the whole queue; then tell the clients still waiting their
 * places. */
static int
rematch(struct server *srv)
{
	size_t expired = 0;
	int rc;

	if ((rc = casework_expire_waiting(srv, &expired)) != 0)
		return rc;
	if (expired > 0)
		log_info("rematch: %zu waiting cases expired (their clients "
		    "were gone)", expired);
	casework_age(srv, srv->idle_away);
	rc = casework_rematch(srv, 0);

	return rc != 0 ? rc : casework_announce_queue(srv);
}

/* The records of sends are kept a day after the send, for dedup, and
 * while a copy of the message waits. */
static int
purge(struct server *srv)
{
	return store_messages_purge(srv->st, srv->now - DEDUP_KEEP);
}

/* What one run of the retention job deletes at most, of each kind: a
 * run never holds the loop long; what is left goes at the next. */
#define RETAIN_CASES	100
#define RETAIN_ROWS	STORE_RETAIN_BATCH

static struct retention keep;

/* Deletes what is past its time (PRIVACY.md, "Retention"): closed cases
 * through casework, which keeps the pool in step; then clients left with
 * no case and idle, copies never acked, used and expired invites, the
 * oldest audit entries, feedback of weeks long past, and the notes of
 * counsellors no longer their case's for as long as a closed case is kept
 * (which nobody can read; a case can come back to its counsellor
 * meanwhile). A client deleted while it is connected (it logged in long
 * ago and stayed) is disconnected, on every node, as an erased one is:
 * its connection must not act for an account that is gone, nor for the
 * next one given its id. */
static int
retain(struct server *srv)
{
	static int64_t gone[RETAIN_ROWS];
	size_t cases = 0, clients = 0, copies = 0, invites = 0, audit = 0,
	    feedback = 0, notes = 0;
	int64_t now = srv->now;
	int rc;

	if ((rc = casework_drop_closed(srv, now - keep.closed, RETAIN_CASES,
	    &cases)) != 0 ||
	    (rc = store_clients_idle_drop(srv->st, now - keep.idle_client,
	    RETAIN_ROWS, gone, &clients)) != 0 ||
	    (rc = store_copies_expire(srv->st, now - keep.unacked,
	    RETAIN_ROWS, &copies)) != 0 ||
	    (rc = store_invites_drop(srv->st, now - keep.invites,
	    RETAIN_ROWS, &invites)) != 0 ||
	    (rc = store_audit_trim(srv->st, now - keep.audit, RETAIN_ROWS,
	    &audit)) != 0 ||
	    (rc = store_feedback_drop(srv->st, now - keep.feedback,
	    RETAIN_ROWS, &feedback)) != 0 ||
	    (rc = store_notes_stranded_drop(srv->st, now - keep.closed,
	    RETAIN_ROWS, &notes)) != 0)
		return rc;
	/* every step of the run done: the connections of the clients it
	 * deleted close (should the commit still fail, one closed for
	 * nothing logs in again) */
	for (size_t i = 0; i < clients; i++)
		session_drop_account(gone[i]);
	if (cases + clients + copies + invites + audit + feedback +
	    notes > 0)
		log_info("retention: deleted %zu closed cases, %zu idle "
		    "clients, %zu unacked copies, %zu invites, %zu audit "
		    "entries, %zu feedback entries, %zu notes of former "
		    "counsellors", cases, clients, copies, invites, audit,
		    feedback, notes);
	return 0;
}

/* Deleted means gone: the -wal emptied, after a checkpoint that a reader
 * deferred too (the store never runs one inside a transaction). */
static int
checkpoint(struct server *srv)
{
	store_checkpoint(srv->st);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct server *srv);
	int period;			/* default, seconds */
	int at_start;			/* 1: runs at the first turn too */
} jobs[JOB_COUNT] = {
	[JOB_REMATCH] = { "rematch", rematch, 60, 1 },
	[JOB_PURGE] = { "purge", purge, 600, 0 },
	[JOB_RETAIN] = { "retention", retain, 600, 0 },
	[JOB_CHECKPOINT] = { "checkpoint", checkpoint, 30, 0 },
};

static int period[JOB_COUNT];
static int led;			/* this node ran them at its last tick */
static int64_t due[JOB_COUNT];

static void tick(void *arg);

void
jobs_config_init(struct jobs_config *cfg)
{
	for (int j = 0; j < JOB_COUNT; j++)
		cfg->period[j] = jobs[j].period;
	cfg->keep.closed = 30 * 86400;
	cfg->keep.idle_client = 30 * 86400;
	cfg->keep.unacked = 30 * 86400;
	cfg->keep.invites = 7 * 86400;
	cfg->keep.audit = 365 * 86400;
	cfg->keep.feedback = 365 * 86400;
}

static int
keep_ok(int secs)
{
	return secs >= 1 && secs <= JOBS_KEEP_MAX;
}

/* Arms the timer for the job due first. */
static void
arm(struct server *srv, int64_t now)
{
	int64_t next = due[0];

	for (int j = 1; j < JOB_COUNT; j++)
		if (due[j] < next)
			next = due[j];
	srv->conn->timer(next > now ? (int)(next - now) : 0, tick, srv);
}

/* The timer fired: runs every job that is due, each as one unit of work. */
static void
tick(void *arg)
{
	struct server *srv = arg;
	int64_t now = time(NULL);
	int rc, got, lead = cluster_leader();	/* one node runs them */

	if (lead && !led)
		casework_jobs_here(now);
	led = lead;
	for (int j = 0; j < JOB_COUNT; j++) {
		if (due[j] > now)
			continue;
		if (!lead) {
			due[j] = now + period[j];
			continue;
		}
		/* A leader that does not know yet that it lost the jobs'
		 * lock (its listener's session ended) may meet the new one:
		 * each run holds a lock of its job until its commit, and a
		 * node that cannot have it skips the run. */
		casework_begin(srv);
		rc = store_try_lock(srv->st, j == JOB_REMATCH ?
		    STORE_LOCK_REMATCH : STORE_LOCK_JOB + j, &got);
		if (rc == 0 && got)
			rc = jobs[j].fn(srv);
		casework_end(srv, rc == 0);
		if (rc == 0 && !got) {
			log_debug("jobs: %s skipped: another node runs it",
			    jobs[j].name);
			due[j] = now + period[j];
			continue;
		}
		if (rc != 0)
			log_warn("jobs: %s failed: %s", jobs[j].name,
			    err_str(rc));
		else
			log_debug("jobs: %s ran", jobs[j].name);
		metrics_job_run(rc == 0);
		due[j] = now + period[j];
	}
	arm(srv, now);
}

int
jobs_start(struct server *srv, const struct jobs_config *cfg)
{
	const struct retention *k = &cfg->keep;
	int64_t now = time(NULL);

	if (!keep_ok(k->closed) || !keep_ok(k->idle_client) ||
	    !keep_ok(k->unacked) || !keep_ok(k->invites) ||
	    !keep_ok(k->audit) || !keep_ok(k->feedback))
		return OFR_E_USAGE;
	keep = *k;
	for (int j = 0; j < JOB_COUNT; j++) {
		if (cfg->period[j] < 1 || cfg->period[j] > JOBS_PERIOD_MAX)
			return OFR_E_USAGE;
		period[j] = cfg->period[j];
		due[j] = jobs[j].at_start ? now : now + period[j];
	}
	arm(srv, now);
	return 0;
}
