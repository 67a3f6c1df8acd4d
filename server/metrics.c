/*
 * metrics.c: the server's counters and gauges, and their text (metrics.h).
 * Plain integers, changed from the loop's thread only; no lock, no
 * allocation but the rendered text. It knows nothing of the transport or
 * the store and calls neither: the store's figures are handed to it. A
 * label value comes only from a fixed table here or of the dispatch, from
 * the error codes of proto/err.h, or is a programme id: never an account,
 * a case, a key or a name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "model.h"
#include "proto/err.h"

#define ROLES		4		/* enum role: none .. admin */
#define TYPES_MAX	64		/* request types of the dispatch table */
#define ERRS_MAX	40		/* wire codes are -1 .. -39 */

static const char *const role_names[ROLES] = {
	[ROLE_NONE] = "none",
	[ROLE_CLIENT] = "client",
	[ROLE_COUNSELLOR] = "counsellor",
	[ROLE_ADMIN] = "admin",
};

/* The commit histogram's upper bounds, in microseconds and as written. */
static const struct {
	int64_t usec;
	const char *le;
} buckets[] = {
	{ 500, "0.0005" }, { 1000, "0.001" }, { 2000, "0.002" },
	{ 5000, "0.005" }, { 10000, "0.01" }, { 20000, "0.02" },
	{ 50000, "0.05" }, { 100000, "0.1" }, { 200000, "0.2" },
	{ 500000, "0.5" }, { 1000000, "1" }, { 2000000, "2" },
	{ 5000000, "5" },
};
#define NBUCKETS	(sizeof(buckets) / sizeof(buckets[0]))

struct queue_gauge {
	int64_t programme;		/* 0: cases that chose none */
	int64_t waiting;
	int64_t oldest;			/* seconds */
};

static struct {
	int64_t connections[ROLES];
	uint64_t logins[ROLES];
	uint64_t frames;
	struct {
		const char *type;
		uint64_t n;
	} requests[TYPES_MAX];
	size_t ntypes;
	uint64_t requests_other;	/* past TYPES_MAX types: never */
	uint64_t errors[ERRS_MAX];	/* by -code */
	uint64_t messages, copies_stored, copies_delivered;
	uint64_t paced, paced_late;
	uint64_t jobs_run, jobs_failed;
	uint64_t commit_bucket[NBUCKETS];	/* not cumulative here */
	uint64_t commit_count, commit_failures;
	int64_t commit_usec;
	struct queue_gauge queue[METRICS_PROGRAMMES_MAX];
	size_t nqueue;
	int64_t db_bytes, wal_bytes;
} m;

static int
role_ok(int role)
{
	return role >= 0 && role < ROLES;
}

void
metrics_connection(int role, int delta)
{
	if (role_ok(role))
		m.connections[role] += delta;
}

void
metrics_login(int role)
{
	if (!role_ok(role))
		return;
	m.logins[role]++;
	m.connections[ROLE_NONE]--;
	m.connections[role]++;
}

void
metrics_frame(void)
{
	m.frames++;
}

void
metrics_request(const char *type)
{
	size_t i;

	for (i = 0; i < m.ntypes; i++)
		if (strcmp(m.requests[i].type, type) == 0)
			break;
	if (i == m.ntypes) {
		if (m.ntypes == TYPES_MAX) {
			m.requests_other++;
			return;
		}
		m.requests[m.ntypes++].type = type;
	}
	m.requests[i].n++;
}

void
metrics_error(int err)
{
	if (err < 0 && err > -ERRS_MAX)
		m.errors[-err]++;
}

void
metrics_stored(size_t copies)
{
	m.messages++;
	m.copies_stored += copies;
}

void
metrics_delivered(size_t copies)
{
	m.copies_delivered += copies;
}

void
metrics_paced(int late)
{
	if (late)
		m.paced_late++;
	else
		m.paced++;
}

void
metrics_job_run(int ok)
{
	if (ok)
		m.jobs_run++;
	else
		m.jobs_failed++;
}

void
metrics_commit(int64_t usec, int ok)
{
	size_t b;

	if (!ok) {
		m.commit_failures++;
		return;
	}
	if (usec < 0)
		usec = 0;
	for (b = 0; b < NBUCKETS && usec > buckets[b].usec; b++)
		;
	if (b < NBUCKETS)
		m.commit_bucket[b]++;
	m.commit_count++;
	m.commit_usec += usec;
}

void
metrics_queue_clear(void)
{
	m.nqueue = 0;
}

void
metrics_queue_set(int64_t programme, int64_t waiting, int64_t oldest_secs)
{
	size_t i;

	for (i = 0; i < m.nqueue; i++)
		if (m.queue[i].programme == programme)
			break;
	if (i == METRICS_PROGRAMMES_MAX)
		return;
	if (i == m.nqueue)
		m.nqueue++;
	m.queue[i].programme = programme;
	m.queue[i].waiting = waiting;
	m.queue[i].oldest = oldest_secs > 0 ? oldest_secs : 0;
}

void
metrics_db_size(int64_t db_bytes, int64_t wal_bytes)
{
	m.db_bytes = db_bytes;
	m.wal_bytes = wal_bytes;
}

/* The # HELP and # TYPE lines of a metric. */
static void
head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A programme label's value: its id, or "any". */
static const char *
programme_label(int64_t programme, char *buf, size_t cap)
{
	if (programme == 0)
		return "any";
	snprintf(buf, cap, "%lld", (long long)programme);
	return buf;
}

static void
render(FILE *f)
{
	uint64_t cumulative = 0;
	char id[24];
	size_t i;

	head(f, "offramp_connections", "gauge",
	    "Open connections, by the role logged in (none: not yet).");
	for (i = 0; i < ROLES; i++)
		fprintf(f, "offramp_connections{role=\"%s\"} %lld\n",
		    role_names[i], (long long)m.connections[i]);
	head(f, "offramp_logins_total", "counter",
	    "Logins, and invites redeemed, by role.");
	for (i = 1; i < ROLES; i++)
		fprintf(f, "offramp_logins_total{role=\"%s\"} %llu\n",
		    role_names[i], (unsigned long long)m.logins[i]);
	head(f, "offramp_frames_total", "counter",
	    "Frames received, whatever became of them.");
	fprintf(f, "offramp_frames_total %llu\n",
	    (unsigned long long)m.frames);
	head(f, "offramp_requests_total", "counter",
	    "Frames of a known request type, by type.");
	for (i = 0; i < m.ntypes; i++)
		fprintf(f, "offramp_requests_total{type=\"%s\"} %llu\n",
		    m.requests[i].type, (unsigned long long)m.requests[i].n);
	if (m.requests_other > 0)
		fprintf(f, "offramp_requests_total{type=\"other\"} %llu\n",
		    (unsigned long long)m.requests_other);
	head(f, "offramp_errors_total", "counter",
	    "Error frames sent, by error code.");
	for (i = 1; i < ERRS_MAX; i++)
		if (strcmp(err_str(-(int)i), "unknown") != 0)
			fprintf(f, "offramp_errors_total{code=\"%s\"} %llu\n",
			    err_str(-(int)i), (unsigned long long)m.errors[i]);
	head(f, "offramp_messages_stored_total", "counter",
	    "Messages stored (a resent one counts once).");
	fprintf(f, "offramp_messages_stored_total %llu\n",
	    (unsigned long long)m.messages);
	head(f, "offramp_copies_stored_total", "counter",
	    "Copies of messages stored, one per recipient.");
	fprintf(f, "offramp_copies_stored_total %llu\n",
	    (unsigned long long)m.copies_stored);
	head(f, "offramp_copies_delivered_total", "counter",
	    "Copies acknowledged by their recipient, and deleted.");
	fprintf(f, "offramp_copies_delivered_total %llu\n",
	    (unsigned long long)m.copies_delivered);
	head(f, "offramp_answers_paced_total", "counter",
	    "msg.send answers held while a connected recipient had more "
	    "than the pacing bound waiting.");
	fprintf(f, "offramp_answers_paced_total %llu\n",
	    (unsigned long long)m.paced);
	head(f, "offramp_answers_paced_late_total", "counter",
	    "Held msg.send answers sent at their deadline, the recipient "
	    "still behind.");
	fprintf(f, "offramp_answers_paced_late_total %llu\n",
	    (unsigned long long)m.paced_late);
	head(f, "offramp_jobs_run_total", "counter",
	    "Runs of the periodic jobs (rematch, purge, retention, "
	    "checkpoint) on this node that succeeded: of several nodes on "
	    "one database, one runs them.");
	fprintf(f, "offramp_jobs_run_total %llu\n",
	    (unsigned long long)m.jobs_run);
	head(f, "offramp_jobs_failed_total", "counter",
	    "Runs of the periodic jobs on this node that failed.");
	fprintf(f, "offramp_jobs_failed_total %llu\n",
	    (unsigned long long)m.jobs_failed);
	head(f, "offramp_queue_waiting", "gauge",
	    "Cases waiting for a counsellor, by the programme chosen "
	    "(any: none chosen).");
	for (i = 0; i < m.nqueue; i++)
		fprintf(f, "offramp_queue_waiting{programme=\"%s\"} %lld\n",
		    programme_label(m.queue[i].programme, id, sizeof(id)),
		    (long long)m.queue[i].waiting);
	head(f, "offramp_queue_oldest_wait_seconds", "gauge",
	    "How long the case waiting longest has waited, by programme "
	    "(0: none waits).");
	for (i = 0; i < m.nqueue; i++)
		fprintf(f, "offramp_queue_oldest_wait_seconds{programme=\"%s\"} "
		    "%lld\n", programme_label(m.queue[i].programme, id,
		    sizeof(id)), (long long)m.queue[i].oldest);
	head(f, "offramp_commit_duration_seconds", "histogram",
	    "Time of each commit of the store that succeeded (written to "
	    "the WAL; the store thread syncs it apart).");
	for (i = 0; i < NBUCKETS; i++) {
		cumulative += m.commit_bucket[i];
		fprintf(f, "offramp_commit_duration_seconds_bucket{le=\"%s\"} "
		    "%llu\n", buckets[i].le, (unsigned long long)cumulative);
	}
	fprintf(f, "offramp_commit_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "offramp_commit_duration_seconds_sum %lld.%06lld\n"
	    "offramp_commit_duration_seconds_count %llu\n",
	    (unsigned long long)m.commit_count,
	    (long long)(m.commit_usec / 1000000),
	    (long long)(m.commit_usec % 1000000),
	    (unsigned long long)m.commit_count);
	head(f, "offramp_commit_failures_total", "counter",
	    "Commits of the store that failed (nothing of their turn was "
	    "kept).");
	fprintf(f, "offramp_commit_failures_total %llu\n",
	    (unsigned long long)m.commit_failures);
	head(f, "offramp_db_size_bytes", "gauge",
	    "Size of the database (pages times page size).");
	fprintf(f, "offramp_db_size_bytes %lld\n", (long long)m.db_bytes);
	head(f, "offramp_db_wal_size_bytes", "gauge",
	    "Size of the database's write-ahead log file.");
	fprintf(f, "offramp_db_wal_size_bytes %lld\n", (long long)m.wal_bytes);
}

char *
metrics_render(size_t pre, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int bad;

	*len = 0;
	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < pre; i++)
		putc('\0', f);
	render(f);
	bad = ferror(f);
	if (fclose(f) != 0 || bad || size < pre) {
		free(buf);
		return NULL;
	}
	*len = size - pre;
	return buf;
}
