/*
 * ws.h: the WebSocket transport (libwebsockets). ws.c is the only file of
 * the server that includes libwebsockets.h; it turns connections into
 * sessions and frames into session_on_frame() calls, and writes what
 * sessions queue.
 */
#ifndef OFFRAMP_WS_H
#define OFFRAMP_WS_H

#include <stddef.h>

struct server;

struct ws_config {
	const char *listen;		/* an IP address literal */
	int port;			/* 0: a free port */
	const char *cert, *key;		/* both NULL: no TLS */
	int verbose;			/* lws warnings to the log */
	const char *web;		/* NULL, or the directory of the
					 * built web client, served at / */
};

/* Bytes of headroom that a queued frame keeps before its payload. */
extern const size_t ws_pre;

/* Creates the context and the listener. Returns the port listened on, or a
 * negative code after logging why. */
int ws_start(struct server *srv, const struct ws_config *cfg);
/* One turn of the event loop: waits for and handles events. 0, or < 0 when
 * the loop is broken. */
int ws_service(void);
/* Wakes ws_service() from a signal handler. */
void ws_wake(void);
/* Closes every connection and destroys the context. */
void ws_stop(void);

/* Asks for a writable callback on conn. */
void ws_want_write(void *conn);
/* Pauses (1) or resumes (0) reading from conn. */
void ws_pause_rx(void *conn, int pause);
/* Sets (secs > 0) or cancels (0) the deadline by which conn must log in. */
void ws_deadline(void *conn, int secs);

#endif
