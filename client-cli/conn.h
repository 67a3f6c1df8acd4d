/*
 * conn.h: one connection of the CLI to an offramp server, as a blocking
 * API over the libwebsockets event loop. conn.c is the only file of the
 * CLI that includes libwebsockets.h; the rest sees frames (jansson
 * objects), lines of stdin and timeouts.
 *
 * Every wait takes a timeout in milliseconds (< 0: no deadline) and
 * returns OFR_E_TIMEOUT when it passes, OFR_E_CONN when the connection is
 * gone (conn_error() says why). Frames that arrive while a wait is looking
 * for something else are kept, in order, for the next wait.
 */
#ifndef OFFRAMP_CLI_CONN_H
#define OFFRAMP_CLI_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/ocrypto.h"

#define CONN_SUBPROTOCOL	"offramp.v1"

struct conn;

enum conn_ev_kind {
	CONN_EV_FRAME = 1,	/* a frame from the server */
	CONN_EV_LINE,		/* a line of stdin, without its newline */
	CONN_EV_LINE_LONG,	/* a line of stdin over the limit: dropped */
	CONN_EV_EOF,		/* stdin ended (reported once) */
	CONN_EV_WATCH,		/* a watched descriptor (conn_watch_fd) is
				 * readable or closed: ev->watch */
};

#define CONN_WATCH_MAX	4	/* descriptors conn_watch_fd can watch */

/* What conn_wait() returns; release with conn_event_clear(). */
struct conn_event {
	int kind;
	json_t *frame;		/* FRAME, parsed mode: the frame */
	char *data;		/* FRAME, raw mode: its bytes; LINE: the line */
	size_t len;		/* of data (data is NUL-terminated too) */
	int binary;		/* FRAME, raw mode: a binary frame */
	int watch;		/* WATCH: the descriptor */
};

/* conn_wait() flags */
#define CONN_WANT_STDIN	1	/* also read stdin (see conn_watch_stdin) */
#define CONN_KEEP_FRAMES 2	/* hand out no frame: keep them all (up to
				 * a bound, see conn_dropped) for a later
				 * wait; only watched descriptors and stdin */

/*
 * Connects to url (wss://host[:port][/path], or ws:// to a loopback host
 * only), with subprotocol offramp.v1, and waits for the server's first
 * challenge. For wss://, the server certificate must chain to ca_file
 * (PEM; then no other CA is trusted) when given, else to the system's CAs,
 * and must name the host (DNS name or IP address). Returns 0 with *out set
 * (free with conn_free), or OFR_E_USAGE (a url that does not parse: *out
 * NULL; ws:// to another host), OFR_E_IO (unreadable ca_file), OFR_E_CONN,
 * OFR_E_TIMEOUT, OFR_E_NOMEM; after those *out, when not NULL, still says
 * why in conn_error() and must be freed.
 */
int conn_open(struct conn **out, const char *url, const char *ca_file,
    int timeout_ms);

/* Closes the connection and frees everything; conn_free(NULL) is
 * harmless. */
void conn_free(struct conn *c);

/* Why the connection failed or closed, for messages; "" if it did not. */
const char *conn_error(const struct conn *c);

/* The server's identity key from its challenge (OFR_PK_BYTES), owned by
 * c. */
const uint8_t *conn_server_key(const struct conn *c);

/* The nonce of the server's latest challenge (OFR_CHALLENGE_BYTES), owned
 * by c: what a login signs, with the server's key. */
const uint8_t *conn_nonce(const struct conn *c);

/* The proof of work of the latest challenge, in bits (0: none). */
int conn_pow_bits(const struct conn *c);
/* The text of the first challenge frame, as received; owned by c. */
const char *conn_challenge_text(const struct conn *c);

/*
 * Queues request req (a JSON object with "type"; this adds "v" and a fresh
 * "id") for sending. Takes ownership of req (NULL: OFR_E_NOMEM). 0 with
 * *id the request's id (> 0), or OFR_E_NOMEM, OFR_E_TOO_BIG (over
 * OFR_FRAME_MAX), OFR_E_CONN.
 */
int conn_send(struct conn *c, json_t *req, int64_t *id);

/*
 * Waits for the response to request id. Returns 0 with *resp the ".ok"
 * frame, or the error code of the server's "error" frame (err_from_str of
 * its "code", OFR_E_INTERNAL for a code this build does not know) with
 * *resp the error frame, or OFR_E_TIMEOUT / OFR_E_CONN with *resp NULL.
 * The caller owns *resp. Pushes that arrive meanwhile are kept for
 * conn_wait(); challenges renew the login nonce.
 */
int conn_wait_response(struct conn *c, int64_t id, json_t **resp,
    int timeout_ms);

/* conn_send() then conn_wait_response(). Takes ownership of req. */
int conn_request(struct conn *c, json_t *req, json_t **resp, int timeout_ms);

/*
 * Raw mode: from now on conn_wait() hands out every frame as it came
 * (data, len, binary), challenges included, and frames kept from before
 * as their compact JSON.
 */
void conn_set_raw(struct conn *c, int on);

/* Queues len bytes as one text (or binary) frame, as they are. Returns 0,
 * OFR_E_NOMEM, OFR_E_CONN. */
int conn_send_raw(struct conn *c, const char *buf, size_t len, int binary);

/* Bytes queued for sending and not yet handed to the socket. */
size_t conn_pending_out(const struct conn *c);

/*
 * Watches stdin from now on, in the same loop: conn_wait() with
 * CONN_WANT_STDIN returns its lines (up to line_max bytes; longer ones are
 * dropped and reported) and, once, its end. Stdin is read only while a
 * caller asks for it, so a fast producer cannot fill memory. Returns 0 or
 * OFR_E_NOMEM / OFR_E_IO.
 */
int conn_watch_stdin(struct conn *c, size_t line_max);

/*
 * Waits for the next event: a kept push first, then stdin (when flags has
 * CONN_WANT_STDIN), then frames in order of arrival. Responses to requests
 * nobody waits for come out here too. Returns 0 with *ev filled, or
 * OFR_E_TIMEOUT, OFR_E_CONN (after every frame received was handed out).
 */
int conn_wait(struct conn *c, struct conn_event *ev, int flags,
    int timeout_ms);

/* Removes the first kept push (a frame without "re") of type type from the
 * frames set aside by conn_wait_response and returns it (caller owns), or
 * NULL when there is none. */
json_t *conn_take_kept(struct conn *c, const char *type);

/* As conn_watch_stdin, but conn_wait() hands out stdin as it is read
 * (CONN_EV_LINE events of any bytes, newlines included), for a terminal
 * in non-canonical mode. */
int conn_watch_stdin_raw(struct conn *c);

/* Stops watching stdin (what was read and not handed out is dropped), so
 * that a later conn_watch_stdin starts afresh on what fd 0 is then;
 * harmless when stdin is not watched or c is NULL. */
void conn_unwatch_stdin(struct conn *c);

/*
 * Watches descriptor fd (the caller keeps it open and owns it) in the same
 * loop: when it is readable or closed, conn_wait() returns one
 * CONN_EV_WATCH event with ev->watch = fd, before any frame, and polls it
 * again only at its next call. At most CONN_WATCH_MAX. 0, OFR_E_LIMIT,
 * OFR_E_IO.
 */
int conn_watch_fd(struct conn *c, int fd);
/* Stops watching fd; harmless when it is not watched or c is NULL. */
void conn_unwatch_fd(struct conn *c, int fd);

/* 1 when fd is watched on c, else 0. */
int conn_watching(const struct conn *c, int fd);

/* 1 when the connection is closed (or c is NULL), else 0. */
int conn_is_closed(const struct conn *c);
/* 1 when a push was dropped because too many were kept for a later
 * conn_wait(): only a new login gets it again. */
int conn_dropped(const struct conn *c);

/* 1 when frames are already received and waiting for conn_wait() (so
 * it will not block), else 0. */
int conn_has_frames(const struct conn *c);

/* Frees what ev holds and zeroes it. */
void conn_event_clear(struct conn_event *ev);

#endif
