/*
 * conn.h: what the server needs of its transport, as one table of
 * functions, the way Redis reaches its connections (connection.h,
 * ConnectionType). ws.c fills the table (ws_conn_ops) and main.c puts it
 * in srv->conn; session.c and jobs.c call through it and never name the
 * transport. A conn is the transport's opaque handle of one connection,
 * valid until the transport frees its session.
 */
#ifndef OFFRAMP_CONN_H
#define OFFRAMP_CONN_H

#include <stddef.h>

struct conn_ops {
	/* Bytes of headroom a queued frame keeps before its payload. */
	size_t pre;
	/* Asks to be called back (session_peek) when conn can take a
	 * frame. */
	void (*want_write)(void *conn);
	/* Writes what conn's session has queued now, from the loop between
	 * two turns (session_turn_end): as much as the socket takes, the
	 * rest as want_write. */
	void (*flush)(void *conn);
	/* Wakes the loop from its wait: a turn comes at once (for the
	 * sessions a turn left to the next). */
	void (*wake)(void);
	/* Pauses (1) or resumes (0) reading from conn. */
	void (*pause_rx)(void *conn, int pause);
	/* Sets (secs > 0) or cancels (0) the deadline by which conn must log
	 * in; past it the transport closes conn. */
	void (*deadline)(void *conn, int secs);
	/* A timer of the loop: calls fn(arg) once, from the loop, secs
	 * seconds from now (0: at the next turn), replacing any call of fn
	 * set before (each function has a timer of its own; a few
	 * functions at most). The turn in which fn runs ends as every turn
	 * does: session_turn_end() commits what fn wrote. */
	void (*timer)(int secs, void (*fn)(void *arg), void *arg);
};

#endif
