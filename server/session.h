/*
 * session.h: one logged-in (or logging-in) connection, whatever carries it.
 * A session owns its queue of outgoing frames, its login state and its
 * place in the register of online accounts. Frames produced during a turn
 * of the event loop are held until that turn's commit (session_turn_end),
 * so nothing that depends on a write leaves before the write is on disk.
 * Handlers queue their answers here; dispatch.c hands them the frames.
 * A commit is on disk only once the store thread has synced it
 * (store_durable): until then what it held waits, and so does whatever
 * was queued after it, in order.
 */
#ifndef OFFRAMP_SESSION_H
#define OFFRAMP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/frame.h"
#include "server.h"
#include "store.h"

#define SESSION_INFLIGHT_MAX	256	/* msg pushes not yet acked */
#define SESSION_OUT_HIGH	(1024 * 1024)	/* pause reading above this */
#define SESSION_OUT_LOW		(256 * 1024)	/* resume below this */
#define SESSION_OUT_HARD	(4 * 1024 * 1024) /* close above this */
#define SESSION_PACE_SECS	5	/* a paced answer waits this long
					 * for its recipient's next ack */
#define SESSION_PACE_MAX_SECS	30	/* and this long in all, at most */
#define SESSION_PUMP_RETRY_SECS 1	/* a pump that failed, again after */
#define SESSION_PARK_MAX	256	/* frames behind a paced answer */
#define SESSION_PARK_BYTES	(16 * 1024 * 1024) /* of all sessions */

struct outframe;
struct park;				/* session.c */

/* What a session keeps of its account (the rest is the store's): every
 * open connection holds its session (README, "Benchmarks": an idle
 * connection costs about 5.9 kB, 5.4 kB of it libwebsockets'). */
struct session_account {
	int64_t id;			/* 0 until login */
	int64_t programme;
	uint8_t key[OFR_PK_BYTES];
	int role;
};

struct session {
	struct server *srv;
	void *conn;				/* the transport's handle */
	struct session_account acct;
	uint8_t challenge[OFR_CHALLENGE_BYTES];

	struct outframe *out_head, *out_tail;	/* ready to write */
	struct outframe *held_head, *held_tail;	/* wait for the commit */
	struct outframe *wait_head, *wait_tail;	/* committed, wait for the
						 * sync (store_durable) */
	size_t out_bytes;

	int64_t cursor;				/* last seq pushed */
	int64_t cursor_undo;			/* cursor and inflight before
						 * fresh_turn */
	unsigned inflight, inflight_undo;

	struct park *park;			/* a paced answer and what waits
						 * behind it; NULL: none */

	double tokens;				/* rate limit (dispatch.c) */
	int64_t tokens_ms;			/* 0: no frame yet */

	struct session *online_next;		/* same hash bucket */
	struct session *dirty_prev, *dirty_next;
	struct session *wait_prev, *wait_next;	/* frames wait for a sync */

	int close_code;				/* close after the queue drains */
	int64_t dropped_by;			/* the unit that dropped its account
						 * (session_drop_account), until the
						 * turn's commit; 0: none */
	unsigned char pow_bits;			/* its proof of work (intake.h:
						 * OFR_POW_BITS_MAX at most) */
	unsigned char strikes;			/* to STRIKES_MAX (dispatch.c) */
	/* flags, 0 or 1 */
	unsigned char rechallenge;		/* send a fresh challenge */
	unsigned char solve_given;		/* the login deadline was
						 * extended for a proof of
						 * work (once a connection) */
	unsigned char rx_paused;
	unsigned char want_pump;
	unsigned char caught_up;		/* nothing stored after cursor
						 * but what was pushed */
	unsigned char fresh_turn;		/* pushed from memory this turn:
						 * held, and undone with it */
	unsigned char login_turn;		/* logged in this turn */
	unsigned char dirty;
	unsigned char waiting;
};

/* A new session for a fresh connection conn of the transport srv->conn;
 * it queues the challenge and sets the login deadline. NULL on OOM. Freed
 * with session_free() when the transport closes. */
struct session *session_new(struct server *srv, void *conn);
/* Unregisters and frees s and its queues. NULL is harmless. A
 * counsellor's last session gone, it is matched no more
 * (casework_disconnected). */
void session_free(struct session *s);
/* Queues a fresh challenge (the last one was spent), with the nonce of
 * login and of the proof of work, and the difficulty (intake_bits) that
 * a proof for this nonce must meet, kept in s->pow_bits. */
void session_challenge(struct session *s);
/* 1 if account has a logged-in connection, else 0. */
int session_account_online(int64_t account);
/* The accounts of role (0: any) with a logged-in connection here, at
 * most max into ids (an account with several connections may come more
 * than once): how many there were, which may be more than max. */
size_t session_online_ids(int role, int64_t *ids, size_t max);

/* The next frame to write, or NULL. *len is the payload length; the buffer
 * has srv->conn->pre bytes of headroom before the payload. Call
 * session_wrote() after writing it. */
unsigned char *session_peek(struct session *s, size_t *len);
/* The same for the frame after *it (the first when *it is NULL), which
 * it becomes: the frames ready to write, in order, NULL after the last. */
unsigned char *session_peek_next(struct session *s, void **it, size_t *len);
void session_wrote(struct session *s);
/* 1 when nothing of s is held or waits for a sync (or for its pace):
 * once its write queue is empty too, nothing is left to go. */
int session_settled(const struct session *s);
/* 1 when s is to be closed (with s->close_code) now that its write queue
 * is empty: nothing held or waiting for a sync is left to go first. */
int session_closing(const struct session *s);

/* Queues f (reference stolen) for s, held until the turn's commit. */
void session_reply(struct session *s, json_t *f);
/*
 * Queues text (len bytes, the answer to request re, as json_dumps() would
 * write it: the relay's answers, its most frequent), held until the
 * turn's commit like session_reply's; when it answers a msg.send whose
 * copy for recipient went over the relay's pacing bound, once committed
 * it waits, and every frame of s committed after it but msg
 * pushes waits behind it (answers stay in order), until
 * session_unpark(recipient), or recipient has no connection left, or
 * SESSION_PACE_SECS pass without session_paced_progress(recipient)
 * (SESSION_PACE_MAX_SECS in all at most), or SESSION_PARK_MAX frames
 * wait behind it; then they go as they would have. Not paced (sent at once) when
 * recipient has no connection at the commit, or when the frames waiting
 * so in all sessions take SESSION_PARK_BYTES. recipient 0: not paced.
 */
void session_reply_text(struct session *s, const char *text, size_t len,
    int64_t re, int64_t recipient);
/* 1 when a session waits for recipient (session_reply_text), else 0. */
int session_paced_on(int64_t recipient);
/* recipient acked copies, but still has too many waiting: the sessions
 * paced for it wait SESSION_PACE_SECS more from now (a slow reader
 * paces its senders, one that stopped reading does not stall them). */
void session_paced_progress(int64_t recipient);
/* Sends what waits for recipient in every session. */
void session_unpark(int64_t recipient);
/*
 * The items of a list answer, within one frame (PROTOCOL.md, "Limits"):
 * reply_list_add appends o (stolen) while the answer stays within
 * REPLY_LIST_BYTES, the frame's limit less room for the envelope and the
 * answer's other fields; past it, o and every later item are left out and
 * the list is marked "more". 0 added, 1 left out, OFR_E_NOMEM.
 */
#define REPLY_LIST_BYTES	(OFR_FRAME_MAX - 1024)
struct reply_list {
	json_t *arr;		/* NULL until the first item */
	size_t bytes;
	int more;
};
int reply_list_add(struct reply_list *l, json_t *o);
/* Answers request re with {type, key: l's items, "more": true when some
 * were left out}; l's items are taken. 0 or OFR_E_NOMEM. */
int session_reply_bounded(struct session *s, int64_t re, const char *type,
    const char *key, struct reply_list *l);
/* Answers request re with {type, key: arr} (arr stolen; NULL is
 * OFR_E_NOMEM), as many of its items as one frame holds, with "more"
 * when some were left out (reply_list_add). 0 or OFR_E_NOMEM. */
int session_reply_list(struct session *s, int64_t re, const char *type,
    const char *key, json_t *arr);
/* Queues f (reference stolen) for s after the commits made so far are on
 * disk (at once when they are): only for frames that depend on nothing
 * uncommitted (stored messages, after the commit). */
void session_send_committed(struct session *s, json_t *f);
/* Queues a msg push, already serialised (text, len bytes: copied), for
 * s: held until the turn's commit when held, else as
 * session_send_committed() does. It passes a paced answer, as every msg
 * push does. */
void session_push_msg(struct session *s, const char *text, size_t len,
    int held);
/* Queues a copy of f (reference kept) to every session of the account but
 * except (NULL: none), held until the commit; on the other nodes too. */
void session_push_account(int64_t account, json_t *f,
    const struct session *except);
/* The same for a push of event (store_case_event) of case case_id: not
 * here if a newer event of the case was pushed to the account here. */
void session_push_case(int64_t account, int64_t case_id, int64_t event,
    json_t *f, const struct session *except);
/* A push of another node's (nodes.c): its text, to the account's
 * sessions here, unless a newer event of case_id (not 0) was pushed to
 * it here. */
void session_push_case_text(int64_t account, int64_t case_id,
    int64_t event, const char *text, size_t len);
/* The same for a push already serialised (text, len bytes: copied; not
 * a msg push). */
void session_push_account_text(int64_t account, const char *text,
    size_t len, const struct session *except);
/* Marks every session of the account to fetch its new messages after the
 * commit, from the store (none is caught up until then), on the other
 * nodes too (cluster.c). */
void session_wake_account(int64_t account);
/* session_wake_account() for every account logged in here (another
 * node's notes were lost: cluster.c). */
void session_wake_all(void);
/* The pump of s could not read the store (it was lost, a lock timed
 * out): s and every other session that still wants its pump are pumped
 * again in SESSION_PUMP_RETRY_SECS. 1 when that retry is new (none was
 * due), else 0. */
int session_pump_again(struct session *s);
/* Calls fn(s, arg) for every session of the account logged in and not
 * closing. fn must not free s. */
void session_each_account(int64_t account,
    void (*fn)(struct session *s, void *arg), void *arg);
/* Closes every connection of the account once the turn's commit is made
 * (its account was disabled or erased), on the other nodes too
 * (cluster.c); until then they run no request (each is answered
 * unavailable); a unit undone, or a commit failed, drops nothing. */
void session_drop_account(int64_t account);
/* Closes every connection here of the account now: another node
 * disabled or erased it (committed there). */
void session_drop_committed(int64_t account);
/* Marks s dirty so session_turn_end() visits it. */
void session_touch(struct session *s);
/* Registers s as logged in as *a; cancels the login deadline. A
 * counsellor is there now (casework_connected: waiting cases may be
 * matched to it), inside the login's unit of work. 0, or an error and
 * s stays logged out: OFR_E_LIMIT when the account has
 * srv->conns_per_account connections logged in already. Should the
 * turn's commit fail, s is logged out again (session_turn_end). */
int session_login(struct session *s, const struct account *a);

/*
 * Ends a turn of the event loop: commits the turn's writes, of requests and
 * jobs alike (casework_commit), pumps messages (srv->pump) to the sessions
 * that wait for them, and releases every frame whose commit the store
 * thread has synced since (it wakes the loop after each sync: a turn with
 * nothing else to do). A failed sync stops the server: what it held is
 * never sent (store_durable). If the
 * commit fails, every answer held for it is replaced by an error frame
 * for the same request (storage_full when the disk is full, else
 * internal), its pushes are dropped, logins of the turn are undone, and
 * the connections stay open: nothing uncommitted was acknowledged.
 */
void session_turn_end(struct server *srv);

/* A unit of work begins (casework_begin, through srv->notify). */
void session_unit_begin(void);
/* The unit of work ends undone (casework_end): the pushes and answers it
 * held are dropped, and cursors of copies it pushed go back. */
void session_unit_undo(void);

#endif
