/*
 * ws.h: the WebSocket transport (libwebsockets). ws.c is the only file of
 * the server that includes libwebsockets.h; it turns connections into
 * sessions and frames into dispatch_frame() calls, and writes what
 * sessions queue. On a second, loopback-only port it may serve the
 * operator's /metrics and /healthz. The rest of the server reaches it
 * through its table, ws_conn_ops (conn.h); only main.c calls it by name.
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
	/* The metrics listener: plain HTTP, GET /metrics and GET /healthz
	 * only. NULL: none. */
	const char *metrics_listen;	/* a loopback address literal */
	int metrics_port;		/* 0: a free port */
	/* The body of /metrics: a new buffer (freed by ws.c) with pre
	 * bytes of headroom, then *len bytes of text; NULL on failure. */
	char *(*metrics_text)(size_t pre, size_t *len);
};

/* The transport's table of functions, for srv->conn. */
extern const struct conn_ops ws_conn_ops;

/* Creates the context and the listener (and the metrics listener, when
 * cfg asks for one). Returns the port listened on, or a negative code
 * after logging why. */
int ws_start(struct server *srv, const struct ws_config *cfg);
/* The port of the metrics listener, or -1 when there is none. */
int ws_metrics_port(void);
/* 1 when a GET /healthz waits for its answer: the loop probes the store
 * between turns (no transaction open) and calls ws_health_answer(). */
int ws_health_wanted(void);
/* Answers every waiting GET /healthz: 200 "ok" when why is NULL, else
 * 503 and why, a line. */
void ws_health_answer(const char *why);
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
