/*
 * metrics.h: the server's figures for an operator, as plain counters and
 * gauges in memory, and their text in the Prometheus exposition format
 * (version 0.0.4). The modules that see an event count it with one call
 * (dispatch, auth, relay, the store's commit, the transport's
 * connections); the caller of metrics_render() samples the store's
 * figures (queue, database size) just before. Every function runs on the
 * loop's thread. No label ever holds an account, a case, a key or a name:
 * labels are roles, request types and error codes of fixed tables, and
 * programme ids (a programme is an organisation, not a person).
 */
#ifndef OFFRAMP_METRICS_H
#define OFFRAMP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_PROGRAMMES_MAX	1000	/* programmes in one sample */

/* Connections: one more (delta 1) or one less (-1) of a role (enum
 * role; ROLE_NONE before login). */
void metrics_connection(int role, int delta);
/* A login (or a redeemed invite) as role: counted, and the connection
 * moves from ROLE_NONE to role. */
void metrics_login(int role);
/* A frame received, whatever becomes of it. */
void metrics_frame(void);
/* A request of type (a string of the dispatch table, which outlives the
 * process) reached its checks. */
void metrics_request(const char *type);
/* An error frame with code err (proto/err.h) was queued. */
void metrics_error(int err);
/* A message was stored with copies copies. */
void metrics_stored(size_t copies);
/* copies copies were acknowledged by their recipient (and deleted). */
void metrics_delivered(size_t copies);
/* A msg.send answer was held for a slow recipient (late 0), or sent at
 * its deadline with the recipient still behind (late 1). */
void metrics_paced(int late);
/* A periodic job ran on this node: ok, or it failed. */
void metrics_job_run(int ok);
/* A commit took usec microseconds; ok 0 when it failed. */
void metrics_commit(int64_t usec, int ok);

/* Samples of the store, taken by the caller of metrics_render(). */
/* Forgets the last sample of the queue. */
void metrics_queue_clear(void);
/* Cases waiting for programme (0: those that chose none), and how long
 * the one waiting longest has waited (seconds; 0 when none waits). A
 * second call for a programme replaces the first; past
 * METRICS_PROGRAMMES_MAX programmes, calls are ignored. */
void metrics_queue_set(int64_t programme, int64_t waiting,
    int64_t oldest_secs);
/* The database's size and its write-ahead log's, in bytes. */
void metrics_db_size(int64_t db_bytes, int64_t wal_bytes);

/*
 * The text of every metric, in a new buffer (the caller frees it) that
 * holds pre bytes of headroom first (for the transport), then the text,
 * *len bytes, not NUL-terminated. NULL when out of memory.
 */
char *metrics_render(size_t pre, size_t *len);

#endif
