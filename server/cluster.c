/*
 * cluster.c: several server nodes on one PostgreSQL database. It owns
 * the transport of what the nodes tell each other (the notes: sent,
 * received, kept for the loop) and which node runs the periodic jobs;
 * it never carries content, and never holds the loop waiting. It calls
 * the store and below only: the loop acts on the notes it takes
 * (cluster_take()) in nodes.c, which calls the sessions and the relay.
 *
 * What is shared and what is not. The store is shared: every message,
 * case and account is in PostgreSQL, and a recipient that logs in to any
 * node is sent what waits for it from there (the login's pump). Each node
 * keeps its own connections, their sessions and queues (session.c), and
 * its own in-memory pool. What one node's write means for a connection
 * held by another goes as a note, through PostgreSQL's LISTEN/NOTIFY on
 * the channel CHANNEL:
 *   m ACCOUNT			copies wait for ACCOUNT in the store (a
 *				message of the relay or a referral's
 *				summary: session_wake_account): its
 *				sessions fetch them there (relay_pump,
 *				from each connection's cursor: nothing is
 *				sent twice to one connection)
 *   d SENDER CASE RECIPIENT MID	RECIPIENT acked a copy of MID that
 *				SENDER sent in CASE: SENDER's sessions get
 *				msg.delivered (never stored: lost with a
 *				lost note, as on one node with a lost
 *				connection)
 *   x ACCOUNT			ACCOUNT was disabled or erased: its
 *				connections close
 *   f ACCOUNT CASE EVENT FRAME	a push to ACCOUNT (session_push_account: a
 *				case event, a queue place, prekeys.low;
 *				CASE and EVENT: the case and the number
 *				of the event, store_case_event, or 0 0):
 *				its connections here get FRAME, the
 *				compact JSON text its connections on the
 *				sending node got, as of the change (never
 *				built again from the store, which may
 *				since tell more: who took a case over)
 * Ids (internal account and case ids, a message id in hex) and the
 * frames of pushes, which carry no message content (a case's metadata,
 * its participants' keys and names: what the store holds in its own
 * rows, never a copy); each payload under STORE_NOTIFY_MAX bytes,
 * headed by the node's own random id (a node skips its own notes). A
 * push too long for one note (over CLUSTER_FRAME_MAX bytes) goes as an
 * m note instead: the account's connections elsewhere fetch their
 * copies, and see the change itself at their next listing (cases).
 *
 * The notes of a turn are sent inside its transaction, just before its
 * commit (cluster_flush): PostgreSQL delivers them when it commits, and
 * only then, so a note never tells of a write that was rolled back. It
 * may tell of one that was lost:
 * commits are made durable after they are seen (store_pg.c's
 * synchronous_commit off, then a sync), so a crash of PostgreSQL just
 * after a commit may undo a change another node already pushed. For an
 * f note this is accepted: it carries no message and acknowledges
 * nothing (the requester's own answer still waits for the sync, and
 * fails), its frame names only who was in the case then, and the
 * participant's next listing shows the store as it is.
 *
 * The listener is a thread with a connection of its own (the store's is
 * the loop's, inside its turns' transactions): it LISTENs, waits on the
 * socket (poll, CLUSTER_POLL_MS at most, and a pipe that stops it), keeps
 * at most CLUSTER_RING notes for the loop and wakes it (wake(): the
 * loop's cancel, thread-safe), and the loop acts on them
 * (nodes_drain(), through cluster_take()). A note that finds the ring full is dropped, and so
 * are the notes of a connection lost: either way every session of this
 * node then fetches from the store (a wake of all, which finds nothing
 * new where nothing was missed). A lost connection is made again with a
 * backoff (CLUSTER_RETRY_MIN_MS doubling to CLUSTER_RETRY_MAX_MS); each
 * connect waits 2 s at most, each query CLUSTER_DEADLINE_MS (a stalled
 * PostgreSQL: the connection is dropped; and the thread hears the stop
 * pipe meanwhile), and TCP keepalives end a connection whose network is
 * gone.
 *
 * Copies in order on every node. A connection is sent copies in seq
 * order from its cursor; seqs are given at insert, and two nodes'
 * transactions could commit in the other order, so that a copy would
 * appear behind a cursor that had passed it. A turn that stores a
 * message takes a transaction-level advisory lock first (store_lock,
 * STORE_LOCK_DELIVERIES): turns that store messages commit one at a time
 * across the nodes, their seqs in commit order. And a node never pushes
 * a copy it stored from memory (relay.c's push_fresh, cluster_enabled()):
 * another node's copy of a lower seq may be committed and its note not
 * here yet; the store, read after the commit, has both in order. The
 * lock is held until the holder's commit: a node waits for another's
 * turn, and a few seconds at most (store_pg.c's lock_timeout: the
 * request is answered unavailable), until PostgreSQL ends a holder whose
 * network is gone or that stalled inside its transaction. A referral's
 * summary (referrals.c) is stored under it too.
 *
 * Jobs once. The thread takes the session-level advisory lock
 * STORE_LOCK_JOBS on its connection when it is free (pg_try_advisory_lock,
 * at connect and then every CLUSTER_POLL_MS), and holds it for the
 * connection's life: the node that holds it runs the periodic jobs
 * (jobs.c asks cluster_leader()), the others skip them. When that node
 * stops or dies its session ends, the lock is free, and another node
 * takes it within CLUSTER_POLL_MS and runs the jobs from its next tick.
 * A node that loses its connection stops running them at once; were its
 * network cut without PostgreSQL noticing (the server's TCP keepalives),
 * the lock would stay with its dead session until PostgreSQL does. A
 * node whose process stops (SIGSTOP, a hung machine whose kernel still
 * answers) keeps its session: the listener's session ends when it has
 * sent nothing for CLUSTER_IDLE_END (PostgreSQL's idle_session_timeout),
 * and the leader sends a query every CLUSTER_POLL_MS, as the others try
 * the lock, so that only a stopped node's session ends; its lock is free
 * then, and the node, running again, finds its connection lost.
 *
 * On SQLite every note is dropped and this node runs the jobs: one node.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cluster.h"
#include "log.h"
#include "mono.h"
#include "proto/err.h"
#include "server.h"
#include "store.h"
#include "store_int.h"

#ifdef OFFRAMP_POSTGRES
#include <libpq-fe.h>
#endif

#define CHANNEL			"offramp_cluster"
#define CLUSTER_RING		4096	/* notes received, not drained yet */
#define CLUSTER_NOTES_MAX	512	/* notes of a turn sent before its
					 * next unit of work */
#define CLUSTER_POLL_MS		1000
#define CLUSTER_IDLE_END	"10s"	/* a stopped node's session ends */
#define CLUSTER_DEADLINE_MS	5000	/* a query of the listener's */
#define CLUSTER_RETRY_MIN_MS	100
#define CLUSTER_RETRY_MAX_MS	5000
#define NOTE_TEXT_MAX		(4 * 21 + 2 * OFR_MID_BYTES + 8)	/* but f's */
#define CLUSTER_RING_BYTES	(4u << 20)	/* frames in the ring */
#define NOTE_HEAD		(2 + 16)	/* "N " and the node's id */
/* The longest frame of an f note: a payload of its own ("\nf ", the
 * account, the case and the event, each and a space, the frame). */
#define CLUSTER_FRAME_MAX	(STORE_NOTIFY_MAX - NOTE_HEAD - 3 - 3 * 21)

static int enabled;			/* a PostgreSQL store */
static char node[17];			/* this node's id, hex */

/* The turn's notes (the loop's alone): notes_cap of them allocated. */
static struct cluster_note *notes;
static size_t nnotes, notes_cap;
static int quiet;			/* notes of other nodes are acted on:
					 * nothing to tell again */

static struct server *server;		/* cluster_start()'s */

/* 1 when a note made now would be sent: a PostgreSQL store, and not
 * acting on another node's notes (nothing to tell again). */
static int
noting(void)
{
	return enabled && !quiet;
}

/* Sent: an array a big unit grew goes back to nothing (the next note
 * makes one of CLUSTER_NOTES_MAX). */
static void
notes_shrink(void)
{
	if (notes_cap > CLUSTER_NOTES_MAX) {
		free(notes);
		notes = NULL;
		notes_cap = 0;
	}
}

static void
flush_now(void)
{
	if (cluster_flush(server) != 0)
		log_warn("cluster: cannot send the turn's notes: its commit "
		    "fails");
}

/*
 * Keeps n (and its text) for the turn's commit. The notes of a unit of
 * work stay with it until it ends (a NOTIFY sent inside the unit would
 * go with its savepoint were it undone, and with it those of the units
 * before): the array grows, and the turn's notes are sent before its
 * next unit once there are CLUSTER_NOTES_MAX (cluster_unit_begin). Out of
 * memory they are sent at once.
 */
static void
note_add(const struct cluster_note *n)
{
	struct cluster_note *more;
	size_t cap;

	if (!noting()) {
		free(n->text);
		return;
	}
	if (nnotes > 0 && n->kind == 'm' && notes[nnotes - 1].kind == 'm' &&
	    notes[nnotes - 1].a == n->a)
		return;
	if (nnotes == notes_cap) {
		cap = notes_cap != 0 ? 2 * notes_cap : CLUSTER_NOTES_MAX;
		if ((more = realloc(notes, cap * sizeof(*notes))) != NULL) {
			notes = more;
			notes_cap = cap;
		} else if (notes_cap != 0) {
			flush_now();
		} else {
			log_warn("cluster: out of memory: a note is lost");
			free(n->text);
			return;
		}
	}
	notes[nnotes++] = *n;
}

/* The notes of the turn when its unit of work began, and the flushes
 * (cluster_flush) by then. */
static size_t unit_mark;
static unsigned long flushes, unit_flushes;

/* Before the unit's savepoint (casework_begin): the turn's notes so far
 * are sent there, outside it, once there are CLUSTER_NOTES_MAX. */
void
cluster_unit_begin(void)
{
	if (nnotes >= CLUSTER_NOTES_MAX)
		flush_now();
	unit_mark = nnotes;
	unit_flushes = flushes;
}

/* The unit's notes go: they told of its writes, undone. Sent inside the
 * unit (out of memory), its NOTIFYs went with its savepoint, and with
 * them those of the turn's units before it. */
void
cluster_unit_undo(void)
{
	size_t from = flushes == unit_flushes ? unit_mark : 0;

	for (size_t i = from; i < nnotes; i++)
		free(notes[i].text);
	nnotes = from;
}

#ifdef OFFRAMP_POSTGRES

/* The thread's side, under mu: what it received for the loop. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct cluster_note ring[CLUSTER_RING];
static size_t ring_head, ring_len;
static size_t ring_bytes;		/* the frames of the ring's f notes */
static unsigned long lost_frames;	/* f notes the full ring dropped */
static int wake_all;			/* notes were lost: everyone fetches */
static int leader;			/* the jobs' lock is held */

static pthread_t thread;
static int started;
static int stop_pipe[2] = { -1, -1 };
static char *url_copy;
static char url_safe[512];
static void (*wake_fn)(void);

static void
set_leader(int yes)
{
	pthread_mutex_lock(&mu);
	if (leader != yes)
		log_info("cluster: this node %s the periodic jobs", yes ?
		    "runs" : "no longer runs");
	leader = yes;
	pthread_mutex_unlock(&mu);
}

/* Parses one line of a payload (len bytes, no NUL needed) into n: 0, or
 * -1 (not ours, or no memory for its frame: skipped). */
static int
parse_note(const char *line, size_t len, struct cluster_note *n)
{
	char head[NOTE_TEXT_MAX + 1], hex[2 * OFR_MID_BYTES + 1];
	int used = 0;

	memset(n, 0, sizeof(*n));
	/* An f note's frame follows its head: only the head is copied. */
	memcpy(head, line, len < sizeof(head) ? len : sizeof(head) - 1);
	head[len < sizeof(head) ? len : sizeof(head) - 1] = '\0';
	switch (head[0]) {
	case 'm':
	case 'x':
		if (len >= sizeof(head) ||
		    sscanf(head + 1, " %" SCNd64, &n->a) != 1)
			return -1;
		break;
	case 'd':
		if (len >= sizeof(head) ||
		    sscanf(head + 1, " %" SCNd64 " %" SCNd64 " %" SCNd64
		    " %32[0-9a-f]", &n->a, &n->b, &n->c, hex) != 4 ||
		    sodium_hex2bin(n->mid, sizeof(n->mid), hex, strlen(hex),
		    NULL, NULL, NULL) != 0)
			return -1;
		break;
	case 'f':
		if (sscanf(head + 1, " %" SCNd64 " %" SCNd64 " %" SCNd64 " %n",
		    &n->a, &n->b, &n->c, &used) != 3 ||
		    used == 0 || (size_t)used + 1 >= len)
			return -1;
		n->len = len - 1 - (size_t)used;
		if ((n->text = malloc(n->len + 1)) == NULL)
			return -1;
		memcpy(n->text, line + 1 + used, n->len);
		n->text[n->len] = '\0';
		break;
	default:
		return -1;
	}
	n->kind = head[0];
	return 0;
}

/* A payload received: its notes into the ring, unless it is this
 * node's own. 1 when something is there for the loop. */
static int
receive(const char *payload)
{
	const char *p = payload, *end;
	struct cluster_note n;
	int got = 0;

	if (strncmp(p, "N ", 2) != 0 || strncmp(p + 2, node, 16) == 0)
		return 0;
	while ((p = strchr(p, '\n')) != NULL) {
		p++;
		end = strchr(p, '\n');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len == 0 || parse_note(p, len, &n) != 0)
			continue;
		pthread_mutex_lock(&mu);
		if (ring_len == CLUSTER_RING ||
		    ring_bytes + n.len > CLUSTER_RING_BYTES) {
			wake_all = 1;
			lost_frames += n.kind == 'f';
			free(n.text);
		} else {
			ring[(ring_head + ring_len) % CLUSTER_RING] = n;
			ring_len++;
			ring_bytes += n.len;
		}
		pthread_mutex_unlock(&mu);
		got = 1;
	}
	return got;
}

/* Waits up to ms on the stop pipe (and fd, when >= 0): 1 when told to
 * stop, else 0. */
static int
wait_on(int fd, int ms)
{
	struct pollfd p[2] = {
		{ .fd = stop_pipe[0], .events = POLLIN },
		{ .fd = fd, .events = POLLIN },
	};

	if (poll(p, fd >= 0 ? 2 : 1, ms) < 0 && errno != EINTR)
		return 0;
	return (p[0].revents & (POLLIN | POLLHUP)) != 0;
}

/* Runs sql on conn, waiting CLUSTER_DEADLINE_MS at most, and for the
 * stop pipe: its last result, or NULL when the connection failed, gave
 * no answer in time (a stalled PostgreSQL: the caller drops the
 * connection) or the thread was told to stop (then *stop is 1). Notes
 * that come meanwhile wait in libpq for PQnotifies(). */
static PGresult *
ask(PGconn *conn, const char *sql, int *stop)
{
	int64_t deadline = mono_ms() + CLUSTER_DEADLINE_MS, left;
	PGresult *res = NULL, *r;

	if (!PQsendQuery(conn, sql))
		return NULL;
	for (;;) {
		while (!PQisBusy(conn)) {
			if ((r = PQgetResult(conn)) == NULL)
				return res;
			PQclear(res);
			res = r;
		}
		if ((left = deadline - mono_ms()) <= 0) {
			log_warn("cluster: PostgreSQL gave no answer within %d "
			    "ms: the listening connection is closed",
			    CLUSTER_DEADLINE_MS);
			break;
		}
		if (wait_on(PQsocket(conn), (int)left)) {
			*stop = 1;
			break;
		}
		if (!PQconsumeInput(conn))
			break;
	}
	PQclear(res);
	return NULL;
}

/* Runs sql, a command of the listener's set-up, on conn: 0, or -1
 * (failed: logged; or told to stop). */
static int
set_up(PGconn *conn, const char *sql)
{
	int stop = 0;
	PGresult *res = ask(conn, sql, &stop);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok && !stop)
		log_warn("cluster: %s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
	return ok && !stop ? 0 : -1;
}

/* Connects, LISTENs, and tries the jobs' lock: the connection, or NULL
 * (logged at debug but the first time). */
static PGconn *
listen_connect(int loud)
{
	PGconn *conn = pg_connect(url_copy, "offramp-cluster");

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		char why[512];

		log_msg(loud ? LOG_WARN : LOG_DEBUG, "cluster: cannot "
		    "connect to PostgreSQL at %s: %s", url_safe,
		    pg_conn_why(conn, url_copy, why, sizeof(why)));
		PQfinish(conn);
		return NULL;
	}
	if (set_up(conn, "SET idle_session_timeout = '" CLUSTER_IDLE_END
	    "'") != 0 || set_up(conn, "LISTEN " CHANNEL) != 0) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Tries the jobs' lock on conn, or, held, sends a query that keeps
 * the session from ending idle (CLUSTER_IDLE_END): 0, or -1 (the
 * connection failed or stalled: ask()). */
static int
try_lock(PGconn *conn)
{
	char sql[96];
	PGresult *res;
	int ok, stop = 0;

	if (cluster_leader())
		snprintf(sql, sizeof(sql), "SELECT false");
	else
		snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%d, "
		    "%d)", STORE_LOCK_CLASS, STORE_LOCK_JOBS);
	res = ask(conn, sql, &stop);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (ok && strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		set_leader(1);
	PQclear(res);
	return ok || stop ? 0 : -1;	/* told to stop: the loop stops */
}

/* Hands the notes libpq holds to the loop, and wakes it. */
static void
take_notes(PGconn *conn)
{
	PGnotify *n;
	int got = 0;

	while ((n = PQnotifies(conn)) != NULL) {
		got |= receive(n->extra);
		PQfreemem(n);
	}
	if (got)
		wake_fn();
}

/* The listener: connected, it waits for notes (and for the jobs' lock
 * while another node holds it); lost, or not connected at the start, it
 * connects after a backoff, and then every session fetches from the store
 * (the notes sent while nobody listened are lost: sessions that logged in
 * meanwhile would wait for them). */
static void *
listener(void *arg)
{
	PGconn *conn = arg;
	int backoff = CLUSTER_RETRY_MIN_MS, was_lost = conn == NULL;
	int64_t tried = mono_ms();	/* the lock: cluster_start() tried */

	for (;;) {
		if (conn == NULL) {
			if (wait_on(-1, backoff))
				break;
			backoff = backoff >= CLUSTER_RETRY_MAX_MS / 2 ?
			    CLUSTER_RETRY_MAX_MS : backoff * 2;
			if ((conn = listen_connect(0)) == NULL)
				continue;
			log_info("cluster: listening again at %s", url_safe);
			backoff = CLUSTER_RETRY_MIN_MS;
			if (was_lost) {
				pthread_mutex_lock(&mu);
				wake_all = 1;
				pthread_mutex_unlock(&mu);
				wake_fn();
			}
		}
		if (mono_ms() - tried >= CLUSTER_POLL_MS) {
			tried = mono_ms();
			if (try_lock(conn) != 0)
				goto lost;
		}
		/* notes read with a query's answer (set-up, the lock) wait
		 * in libpq, not on the socket */
		take_notes(conn);
		if (wait_on(PQsocket(conn), CLUSTER_POLL_MS))
			break;
		if (!PQconsumeInput(conn))
			goto lost;
		take_notes(conn);
		if (PQstatus(conn) == CONNECTION_OK)
			continue;
lost:
		log_warn("cluster: the listening connection to PostgreSQL "
		    "was lost: %.*s", (int)strcspn(PQerrorMessage(conn), "\n"),
		    PQerrorMessage(conn));
		set_leader(0);
		PQfinish(conn);
		conn = NULL;
		was_lost = 1;
	}
	set_leader(0);
	PQfinish(conn);
	return NULL;
}

static int
is_pg_url(const char *url)
{
	return url != NULL && (strncmp(url, "postgresql://", 13) == 0 ||
	    strncmp(url, "postgres://", 11) == 0);
}

int
cluster_start(struct server *srv, const char *url, void (*wake)(void))
{
	uint8_t id[8];
	PGconn *conn;
	int listening;

	if (!is_pg_url(url))
		return 0;
	server = srv;
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(node, sizeof(node), id, sizeof(id));
	store_url_safe(url, url_safe, sizeof(url_safe));
	if ((url_copy = strdup(url)) == NULL)
		return OFR_E_NOMEM;
	if (pipe(stop_pipe) != 0)
		return OFR_E_INTERNAL;
	wake_fn = wake;
	enabled = 1;
	/* The first connection now, so that the jobs' first tick knows
	 * whether it is this node's; the thread makes it again if not. */
	conn = listen_connect(1);
	if (conn != NULL && try_lock(conn) != 0) {
		PQfinish(conn);
		conn = NULL;
	}
	listening = conn != NULL;	/* conn is the thread's from here */
	if (pthread_create(&thread, NULL, listener, conn) != 0) {
		PQfinish(conn);
		enabled = 0;
		return OFR_E_INTERNAL;
	}
	started = 1;
	if (listening)
		log_info("cluster: node %s listening for the other nodes' "
		    "notes at %s", node, url_safe);
	else
		log_warn("cluster: node %s not yet listening for the other "
		    "nodes' notes at %s: tries again", node, url_safe);
	return 0;
}

void
cluster_stop(void)
{
	if (!started)
		return;
	if (write(stop_pipe[1], "x", 1) != 1)
		log_warn("cluster: cannot tell the listener to stop");
	pthread_join(thread, NULL);
	started = 0;
	enabled = 0;
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	stop_pipe[0] = stop_pipe[1] = -1;
	sodium_memzero(url_copy, strlen(url_copy));
	free(url_copy);
	url_copy = NULL;
}

int
cluster_leader(void)
{
	int yes;

	if (!enabled)
		return 1;
	pthread_mutex_lock(&mu);
	yes = leader;
	pthread_mutex_unlock(&mu);
	return yes;
}

/* Writes note n as a line of text into buf (cap bytes): its length (0:
 * it does not fit). */
static size_t
note_text(const struct cluster_note *n, char *buf, size_t cap)
{
	char hex[2 * OFR_MID_BYTES + 1];
	int k;

	if (n->kind == 'd') {
		sodium_bin2hex(hex, sizeof(hex), n->mid, sizeof(n->mid));
		k = snprintf(buf, cap, "\nd %" PRId64 " %" PRId64 " %" PRId64
		    " %s", n->a, n->b, n->c, hex);
	} else if (n->kind == 'f') {
		k = snprintf(buf, cap, "\nf %" PRId64 " %" PRId64 " %" PRId64
		    " ", n->a, n->b, n->c);
		if (k < 0 || (size_t)k + n->len >= cap)
			return 0;
		memcpy(buf + k, n->text, n->len);
		k += (int)n->len;
		buf[k] = '\0';
	} else {
		k = snprintf(buf, cap, "\n%c %" PRId64, n->kind, n->a);
	}
	return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}

int
cluster_flush(struct server *srv)
{
	char payload[STORE_NOTIFY_MAX + 1], line[STORE_NOTIFY_MAX + 1];
	size_t len = 0, n;
	int rc = 0;

	for (size_t i = 0; i < nnotes && rc == 0; i++) {
		if (len == 0)
			len = (size_t)snprintf(payload, sizeof(payload),
			    "N %s", node);
		n = note_text(&notes[i], line, STORE_NOTIFY_MAX + 1 -
		    NOTE_HEAD);
		if (n == 0)
			continue;	/* cluster_note_frame() measured it */
		if (len + n > STORE_NOTIFY_MAX) {
			rc = store_notify(srv->st, CHANNEL, payload);
			len = (size_t)snprintf(payload, sizeof(payload),
			    "N %s", node);
		}
		memcpy(payload + len, line, n);
		len += n;
		payload[len] = '\0';
	}
	if (rc == 0 && len > 0)
		rc = store_notify(srv->st, CHANNEL, payload);
	for (size_t i = 0; i < nnotes; i++)
		free(notes[i].text);
	nnotes = 0;
	flushes++;
	notes_shrink();
	return rc;
}

int
cluster_take(struct cluster_note *n, int *lost)
{
	unsigned long frames;
	int got = 0;

	if (!enabled)
		return 0;
	pthread_mutex_lock(&mu);
	*lost |= wake_all;
	wake_all = 0;
	if (ring_len > 0) {
		*n = ring[ring_head];
		ring_head = (ring_head + 1) % CLUSTER_RING;
		ring_len--;
		ring_bytes -= n->len;
		got = 1;
	}
	frames = lost_frames;
	lost_frames = 0;
	pthread_mutex_unlock(&mu);
	if (frames > 0)
		log_warn("cluster: %lu pushes of other nodes were dropped "
		    "(too many at once): their accounts see those changes at "
		    "their next listing", frames);
	return got;
}

#else	/* a build without PostgreSQL: one node, always */

int
cluster_start(struct server *srv, const char *url, void (*wake)(void))
{
	(void)url;
	(void)wake;
	(void)node;
	server = srv;
	return 0;
}

void
cluster_stop(void)
{
}

int
cluster_leader(void)
{
	return 1;
}

int
cluster_flush(struct server *srv)
{
	(void)srv;
	for (size_t i = 0; i < nnotes; i++)
		free(notes[i].text);
	nnotes = 0;
	flushes++;
	notes_shrink();
	return 0;
}

int
cluster_take(struct cluster_note *n, int *lost)
{
	(void)n;
	(void)lost;
	return 0;
}

#endif

int
cluster_enabled(void)
{
	return enabled;
}

void
cluster_quiet(int on)
{
	quiet = on;
}

void
cluster_note_messages(int64_t account)
{
	struct cluster_note n = { .kind = 'm', .a = account };

	note_add(&n);
}

void
cluster_note_drop(int64_t account)
{
	struct cluster_note n = { .kind = 'x', .a = account };

	note_add(&n);
}

void
cluster_note_delivered(int64_t sender, int64_t case_id,
    const uint8_t mid[OFR_MID_BYTES], int64_t recipient)
{
	struct cluster_note n = { .kind = 'd', .a = sender, .b = case_id,
	    .c = recipient };

	memcpy(n.mid, mid, OFR_MID_BYTES);
	note_add(&n);
}

void
cluster_note_frame(int64_t account, int64_t case_id, int64_t event,
    const char *text, size_t len)
{
	struct cluster_note n = { .kind = 'f', .a = account, .b = case_id,
	    .c = event, .len = len };

	if (!noting())
		return;
	if (len > CLUSTER_FRAME_MAX || memchr(text, '\n', len) != NULL) {
		log_warn("cluster: a push of %zu bytes is too long for a note: "
		    "the account's connections on other nodes fetch their "
		    "messages, and see the change at their next listing", len);
		cluster_note_messages(account);
		return;
	}
	if ((n.text = malloc(len + 1)) == NULL) {
		cluster_note_messages(account);
		return;
	}
	memcpy(n.text, text, len);
	n.text[len] = '\0';
	note_add(&n);
}
