/*
 * jobs.h: the server's periodic work, in one table of jobs, each with a
 * name, a function and a period from the configuration. jobs.c runs each
 * job when it is due, from a timer of the loop (srv->conn->timer), as one
 * unit of work of casework (all its writes, or none); the turn's commit
 * (session_turn_end) makes those writes durable and releases the frames
 * they queued, as it does for any request. A job must never commit, wait,
 * or reach the transport other than through the table of conn.h; a new
 * kind of periodic work (retention) is a new row and a new flag.
 */
#ifndef OFFRAMP_JOBS_H
#define OFFRAMP_JOBS_H

struct server;

enum job {
	JOB_REMATCH,	/* match the waiting queue: hours begin, presence ages */
	JOB_PURGE,	/* delete message records past their day of dedup */
	JOB_RETAIN,	/* delete what is past its retention time */
	JOB_CHECKPOINT,	/* empty the -wal (one a reader deferred, or any) */
	JOB_COUNT
};

#define JOBS_PERIOD_MAX	86400	/* seconds */

#define JOBS_KEEP_MAX	(3650 * 86400)	/* seconds: ten years */

/* How long each kind of data is kept (PRIVACY.md, "Retention"), in
 * seconds, 1..JOBS_KEEP_MAX. */
struct retention {
	int closed;		/* a closed case and all of it, after close */
	int idle_client;	/* a client with no case, after its login */
	int unacked;		/* a copy never acked, after it was sent */
	int invites;		/* an invite, after its use or expiry */
	int audit;		/* an audit entry, after it was written */
	int feedback;		/* feedback, after the end of its week */
};

/* Seconds between two runs of each job, 1..JOBS_PERIOD_MAX, and what the
 * retention job keeps. */
struct jobs_config {
	int period[JOB_COUNT];
	struct retention keep;
};

/* Sets every period to its default (rematch 60, purge 600, retain 600,
 * checkpoint 30) and the retention to its defaults (closed cases, idle
 * clients and unacked copies 30 days, invites 7 days, audit 365 days). */
void jobs_config_init(struct jobs_config *cfg);
/* Starts the jobs on the loop's timer, after the transport has started:
 * the rematch at the first turn and then every period, the others first
 * one period from now. 0, or OFR_E_USAGE for a period or a retention
 * out of range. */
int jobs_start(struct server *srv, const struct jobs_config *cfg);

#endif
