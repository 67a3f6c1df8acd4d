/*
 * ws.h: the WebSocket transport (libwebsockets). ws.c is the only file of
 * the server that includes libwebsockets.h; it turns connections into
 * sessions and frames into dispatch_frame() calls, and writes what
 * sessions queue. The rest of the server reaches it through its table,
 * ws_conn_ops (conn.h); only main.c calls it by name.
 */
#ifndef OFFRAMP_WS_H
#define OFFRAMP_WS_H

#include <stddef.h>

struct conn_ops;
struct server;

struct ws_config {
	const char *listen;		/* an IP address literal */
	int port;			/* 0: a free port */
	const char *cert, *key;		/* both NULL: no TLS */
	int verbose;			/* lws warnings to the log */
	const char *web;		/* NULL, or the directory of the
					 * built web client, served at / */
};

/* The transport's table of functions, for srv->conn. */
extern const struct conn_ops ws_conn_ops;

/* Creates the context and the listener. Returns the port listened on, or a
 * negative code after logging why. */
int ws_start(struct server *srv, const struct ws_config *cfg);
/* One turn of the event loop: waits for and handles events. 0, or < 0 when
 * the loop is broken. */
int ws_service(void);
/* Wakes ws_service() from a signal handler. */
void ws_wake(void);
/* Loads the certificate chain and key files again (after a renewal) into
 * the listener; new connections get them. 0, or -1 with the old ones
 * kept. */
int ws_reload_cert(const char *cert, const char *key);
/* Closes every connection and destroys the context. */
void ws_stop(void);

#endif
