/*
 * ws.c: the WebSocket transport, on libwebsockets 4.1 run on a libev loop
 * of its own (epoll; ws_service() is one turn of it). It owns the lws
 * context, reassembles fragmented frames under the OFR_FRAME_MAX cap, hands
 * whole frames to dispatch.c, writes the queued frames the socket takes
 * between two turns (flush) and in each writable callback, and fills the
 * transport's table (conn.h), the loop's timers included. With a web directory it also serves the built web client as
 * static files on the same port, every response with the headers below.
 * On a second vhost, plain HTTP on a loopback address, it may serve the
 * operator's GET /metrics (text from main's function) and GET /healthz
 * (answered after main's probe of the store, between turns).
 * A client's frames are checked before lws parses them (rxtap.c,
 * wsguard.c: what RFC 6455 asks, lws 4.1's checks included, so that lws
 * never closes on its own before the answers it owes); ws.c marks the
 * descriptors to follow and closes a connection that breaks a rule with
 * 1002, or 1007 for text that is not UTF-8.
 * It is the only file of the server that includes libwebsockets.h. It
 * never asks for, stores or logs a peer's address: lws's own log lines
 * pass through log_redact().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include <ev.h>
#include <libwebsockets.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "metrics.h"
#include "mono.h"
#include "proto/frame.h"
#include "rxbuf.h"
#include "rxtap.h"
#include "server.h"
#include "session.h"
#include "ws.h"
#include "wsguard.h"

/* The transport's budget of each connection (rxbuf.h), beside
 * dispatch.c's rate of requests: a frame over it drops its message with
 * rate_limited (a strike, dispatch_over_budget). */

/*
 * Deadlines of one length each, one of each kind per connection: a
 * message held past srv->message_timeout (on_receive), a cut's period of
 * srv->stall_timeout (cut_at), a silence of srv->ping_after and of
 * hangup_after (keepalive, below). lws 4.1 keeps its timers
 * (lws_set_timeout, lws_sul) in one list of every connection's, sorted
 * by time, and one set later than most walks all of it: with 5,000 idle
 * connections the timeout set and taken off as messages came in parts
 * took a fifth of the server's CPU under a relay load, and lws's own
 * keepalive, set again at each frame, 3%. Deadlines of one length,
 * listed in the order they were set, are in the order they fall due:
 * setting one appends it, on_beat takes the due ones from the head.
 * A connection's deadline is its link on the list and a time beside it
 * (tenths of a second since the start: 32 bits, as every connection
 * has three; the struct pss is no larger than before them).
 */
struct due {
	struct due *prev, *next;
};
struct dues {
	struct due *head, *tail;
	ptrdiff_t at;			/* from a link to its time */
};

struct pss {
	struct session *s;
	struct rxbuf rx;		/* the message being received */
	struct due held_due;		/* on_receive(), on held_dues */
	struct due cut_due;		/* cut_at(), on cut_dues */
	struct due alive_due;		/* heard(), on silent_ or pinged_dues */
	uint64_t cut_acked;		/* acked() when it was last armed */
	uint32_t held_at, cut_at, alive_at;	/* their times */
	int fd;				/* the socket, for rxtap.c */
	unsigned char cut;		/* CUT_NONE, CUT_STALLED, CUT_CLOSING */
	unsigned char pinged;		/* alive_due is on pinged_dues */
	unsigned char ping_owed;	/* on_writeable() writes a ping */
};
#define DUES(link, at) { NULL, NULL, \
	(ptrdiff_t)offsetof(struct pss, at) - \
	(ptrdiff_t)offsetof(struct pss, link) }
static struct dues held_dues = DUES(held_due, held_at);
static struct dues cut_dues = DUES(cut_due, cut_at);
static struct dues silent_dues = DUES(alive_due, alive_at);
static struct dues pinged_dues = DUES(alive_due, alive_at);
/* One HTTP connection of the metrics listener, for one request at a
 * time. */
struct hpss {
	struct lws *wsi;
	struct hpss *next;		/* in health_waiting */
	int waiting;			/* a /healthz before the probe */
	unsigned status;		/* the answer's, once known */
	const char *type;		/* its content type */
	unsigned char *body;		/* LWS_PRE bytes, then len bytes */
	size_t len;
	int headers_sent;
};

static struct lws_context *ctx;
/* The loop lws runs on: libev's (epoll), ours, so that each turn of it
 * ends with ours (ws_service); lws 4.1's own loop is a poll() over every
 * descriptor at every turn. */
static struct ev_loop *loop;
/*
 * lws 4.1's libev side runs its timers (lws_sul: its timeouts and
 * keepalives, ours) in two places: its ev_idle watcher, which libev runs
 * only in a pass of the loop with no other event pending, and its own
 * ev_timer, which it arms for the earliest timer when either runs, and
 * does not move when an earlier timer is set. So:
 * - tick wakes a quiet loop every WS_TICK_SECS with an event of lws's own
 *   (lws_cancel_service), after which its idle watcher runs;
 * - beat, a timer of lws's that sets itself again every WS_TICK_SECS,
 *   keeps lws's ev_timer armed that soon at the latest, so that a busy
 *   loop, whose passes all have an event and never run the idle watcher,
 *   still runs every timer within WS_TICK_SECS of its time (without it,
 *   a login deadline of 2 s came after 9.5 s under a saturating relay
 *   load: test_loop_timers).
 * What lws does in its idle watcher alone still waits for a quiet pass:
 * its "forced service" (bytes already read and held while a connection's
 * reading was paused, TLS records already decrypted).
 */
#define WS_TICK_SECS	0.1
static ev_timer tick;
static lws_sorted_usec_list_t beat;
static struct server *srv;
static struct lws_vhost *metrics_vh;
static char *(*metrics_text)(size_t pre, size_t *len);
static struct hpss *health_waiting;
/* The loop's timers, one per function that sets one (conn.h). */
#define TIMERS_MAX	8
static struct timer_slot {
	lws_sorted_usec_list_t sul;
	void (*owner)(void *);		/* the function the slot is for */
	void (*fn)(void *);		/* NULL: not armed */
	void *arg;
} timers[TIMERS_MAX];

/*
 * Out of descriptors. At EMFILE or ENFILE lws 4.1 logs "accept: errno 24"
 * and returns, leaves the connection waiting in the listener's queue, and
 * its poll() finds the listener readable again at once: a log line per
 * turn, turn after turn. ws.c keeps one spare descriptor (/dev/null) for
 * that moment: it gives it up, accepts what waits on its listeners and
 * closes each at once (the peer sees its connection closed, not a hang),
 * and takes the spare again; the loop goes quiet until a connection comes
 * again. One line when it starts refusing, one when lws accepts again (a
 * descriptor freed), with the count refused meanwhile.
 */
#define LISTEN_MAX	2	/* the default and the metrics listeners */
#define REFUSE_BATCH	64	/* connections refused in one go, at most */
static int listen_fds[LISTEN_MAX], nlisten;
static int spare_fd = -1;
static int refusing;
static unsigned long refused;

/*
 * A peer that stops reading. lws 4.1 keeps its connection while its pongs
 * come, and its close waits for what is queued before it, so a close
 * frame behind answers the peer never takes would never go, nor the
 * connection. A connection the server has something to write to, and
 * that closes (a bad frame, an oversized message, a close code of the
 * session's) or whose reading is paused for its full queue (session.c,
 * SESSION_OUT_HIGH), is cut once its peer took less than CUT_RATE bytes
 * a second for srv->stall_timeout seconds: the bytes its TCP acked
 * (TCP_INFO: what the wire carried, TLS records and all, counted by the
 * kernel), checked once a period, the period started again while the
 * peer keeps up, or while the kernel holds nothing for it (the session's
 * answers wait for the store). To cut, the socket is shut down under
 * lws, whose next write fails and closes it; SO_LINGER 0 makes the close
 * a reset, dropping what the kernel still holds for the peer.
 */
enum { CUT_NONE, CUT_STALLED, CUT_CLOSING };
#define CUT_RATE	1024

/* The bytes p's peer acked so far; *outq, those the kernel holds for
 * it. */
static uint64_t
acked(const struct pss *p, int *outq)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	*outq = 0;
	(void)ioctl(p->fd, SIOCOUTQ, outq);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(p->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_bytes_acked;
}

/* Now in tenths of a second since the first call (32 bits: 13 years). */
static uint32_t
tenths(void)
{
	static int64_t start;
	int64_t now = mono_us();

	if (start == 0)
		start = now;
	return (uint32_t)((now - start) / 100000);
}

static uint32_t *
due_at(const struct dues *l, struct due *d)
{
	return (uint32_t *)(void *)((char *)d + l->at);
}

/* Takes d off l if it is on it. */
static void
due_cancel(struct dues *l, struct due *d)
{
	if (d->prev == NULL && l->head != d)
		return;
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		l->head = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	else
		l->tail = d->prev;
	d->prev = d->next = NULL;
}

/* Sets d to fall due in secs (the same for all of l) from now, last on l;
 * off from (if not NULL) the list it was on. */
static void
due_set(struct dues *l, struct due *d, int secs, struct dues *from)
{
	due_cancel(from != NULL ? from : l, d);
	*due_at(l, d) = tenths() + (uint32_t)secs * 10;
	d->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = d;
	else
		l->head = d;
	l->tail = d;
}

/* The first of l's deadlines that is past at now, taken off l, or NULL. */
static struct due *
due_take(struct dues *l, uint32_t now)
{
	struct due *d = l->head;

	if (d == NULL || (int32_t)(now - *due_at(l, d)) < 0)
		return NULL;
	due_cancel(l, d);
	return d;
}

static void
on_cut(struct pss *p)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	int outq;
	uint64_t now = acked(p, &outq);

	if (outq == 0 || now - p->cut_acked >=
	    (uint64_t)srv->stall_timeout * CUT_RATE) {
		p->cut_acked = now;
		due_set(&cut_dues, &p->cut_due, srv->stall_timeout, NULL);
		return;
	}
	log_info("ws: the peer took less than %d bytes a second for %d s: "
	    "the connection is cut", CUT_RATE, srv->stall_timeout);
	p->cut = CUT_NONE;
	(void)setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	(void)shutdown(p->fd, SHUT_RDWR);
}

/* p's connection is cut as above, for why (CUT_NONE: no more); a closing
 * one stays so. */
static void
cut_at(struct pss *p, int why)
{
	int outq;

	if (p->cut == CUT_CLOSING || p->cut == why)
		return;
	p->cut = (unsigned char)why;
	p->cut_acked = acked(p, &outq);
	if (why != CUT_NONE)
		due_set(&cut_dues, &p->cut_due, srv->stall_timeout, NULL);
	else
		due_cancel(&cut_dues, &p->cut_due);
}

/*
 * A message announces more than OFR_FRAME_MAX (in a frame's header, or by
 * adding a frame), and that frame is read to its end when little of it
 * is left (RXBUF_DRAIN_MAX): too_big, and the connection closes with 1009
 * once that is written, at the end of this turn. Reading stops; what is
 * read all the same (session.c resumes reading as its queue drains) is
 * dropped. Should the close not go out (the peer does not read), the
 * connection is cut (cut_at).
 */
static void
refuse_oversize(struct lws *wsi, struct pss *p)
{
	dispatch_oversize(p->s);
	lws_rx_flow_control(wsi, 0);
	cut_at(p, CUT_CLOSING);
}

/*
 * The client broke a framing rule, or sent its close (wsguard.h): called
 * once, from inside lws's read of it, which hands lws only the bytes
 * before that frame (and nothing of a later read). Those are handled
 * (lws_rx_flow_control() here would keep them from lws), their answers
 * written, those that wait for their commit's sync too, then the
 * connection closes with 1002, 1007 or the client's own code
 * (on_writeable), or is cut if the peer does not read (cut_at). lws
 * never sees a client's close: it would answer it at once.
 */
static void
frame_fault(void *conn, int fault)
{
	struct lws *wsi = conn;
	struct pss *p = lws_wsi_user(wsi);

	if (fault != WSGUARD_CLOSED)
		log_info("ws: %s: closing the connection (%d)",
		    wsguard_fault_str(fault), rxtap_close_code(p->fd));
	cut_at(p, CUT_CLOSING);
	lws_callback_on_writable(wsi);
}

/* A piece of a frame, as lws hands it over (rxbuf.h). */
static int
on_piece(struct lws *wsi, struct pss *p, void *in, size_t len)
{
	switch (rxbuf_feed(&p->rx, in, len, lws_is_first_fragment(wsi),
	    lws_frame_is_binary(wsi), lws_is_final_fragment(wsi),
	    lws_remaining_packet_payload(wsi), mono_us())) {
	case RXBUF_MESSAGE:
		dispatch_frame(p->s, p->rx.buf ? p->rx.buf : "", p->rx.len,
		    p->rx.binary);
		rxbuf_reset(&p->rx);
		break;
	case RXBUF_OVERSIZE:
		refuse_oversize(wsi, p);
		break;
	case RXBUF_OVER_BUDGET:
		dispatch_over_budget(p->s);
		break;
	case RXBUF_NOMEM:
		/* the message is lost, the peer told why */
		lws_close_reason(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
		    NULL, 0);
		return -1;
	}
	return 0;
}

/*
 * on_piece(), and a message under way: rxbuf.h keeps up to OFR_FRAME_MAX
 * bytes of it until its last frame, so a logged-in connection that holds
 * part of one for srv->message_timeout is closed (held_dues, on_beat), or
 * a peer could keep 128 KiB a connection with a message it never ends,
 * and pongs. Before the login, its deadline is the bound.
 */
static int
on_receive(struct lws *wsi, struct pss *p, void *in, size_t len)
{
	int held = p->rx.buf != NULL;
	int rc = on_piece(wsi, p, in, len);

	/* taken off whenever the message ends (a login undone since it was
	 * set, by its commit's failure, leaves it logged out) */
	if (rc != 0 || p->s == NULL || held == (p->rx.buf != NULL))
		return rc;
	if (held)
		due_cancel(&held_dues, &p->held_due);
	else if (p->s->acct.id != 0)
		due_set(&held_dues, &p->held_due, srv->message_timeout, NULL);
	return rc;
}

/*
 * Two or more frames queued go out in one write: framed here (a server's
 * frames are not masked: RFC 6455, 5.1), up to WRITE_BATCH bytes, handed
 * to lws as raw bytes, which it writes as they are (TLS records and all)
 * and buffers what the socket does not take, as it does a frame's. A
 * send a frame cost a sixth of the server's CPU under a relay load, where
 * a recipient gets a push and an ack's answer in a turn, a sender its
 * answers and receipts.
 */
#define WRITE_BATCH	(64 * 1024 - 1)
static unsigned char batch[LWS_PRE + WRITE_BATCH];

/* A text frame's header for len bytes (less than 65,536: a frame in a
 * batch) at h: its length, 2 or 4 bytes. */
#define FRAME_HEADER_MAX	4
static size_t
frame_header(unsigned char *h, size_t len)
{
	h[0] = 0x81;				/* FIN, text */
	if (len < 126) {
		h[1] = (unsigned char)len;
		return 2;
	}
	h[1] = 126;
	h[2] = (unsigned char)(len >> 8);
	h[3] = (unsigned char)len;
	return 4;
}

/* Frames queued for p from the first, framed into batch while they fit:
 * the bytes, *n the frames; *n is 0 when there is one, or the second
 * does not fit (the first goes alone, framed by lws). */
static size_t
batch_frames(struct pss *p, size_t *n)
{
	unsigned char *buf;
	void *it = NULL;
	size_t len, used = 0;

	*n = 0;
	if (session_peek_next(p->s, &it, &len) == NULL ||
	    session_peek_next(p->s, &it, &len) == NULL)
		return 0;
	it = NULL;
	while ((buf = session_peek_next(p->s, &it, &len)) != NULL &&
	    FRAME_HEADER_MAX + len <= WRITE_BATCH - used) {
		used += frame_header(batch + LWS_PRE + used, len);
		memcpy(batch + LWS_PRE + used, buf + LWS_PRE, len);
		used += len;
		(*n)++;
	}
	if (*n < 2)
		*n = 0;
	return used;
}

/* Writes p's queued frames until the socket takes one only in part (lws
 * buffers the rest, asks for POLLOUT itself, and says so:
 * lws_partial_buffered()). 0, or -1 when a write failed.
 * lws_send_pipe_choked() would cost a poll() a frame in lws 4.1. */
static int
write_frames(struct lws *wsi, struct pss *p)
{
	unsigned char *buf;
	size_t len, used, n;

	while ((buf = session_peek(p->s, &len)) != NULL) {
		if ((used = batch_frames(p, &n)) > 0 && n > 0) {
			if (lws_write(wsi, batch + LWS_PRE, used,
			    LWS_WRITE_RAW) < (int)used)
				return -1;
			while (n-- > 0)
				session_wrote(p->s);
		} else {
			if (lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) <
			    (int)len)
				return -1;
			session_wrote(p->s);
		}
		if (lws_partial_buffered(wsi))
			break;
	}
	return 0;
}

/*
 * Keepalive: a connection from which nothing came for srv->ping_after
 * seconds is sent a ping, one from which nothing came for hangup_after
 * (a ping's answer included) is closed: a phone that lost its network
 * sends no FIN. lws 4.1 does this itself (its "validity"), but sets its
 * timer again at each frame that comes, in its sorted list (above): its
 * own is off (quiet), these lists do it.
 */
static const lws_retry_bo_t quiet = { .secs_since_valid_hangup = 0 };

/* Something came from p's peer. Frames that come in the same tenth of a
 * second leave the deadline where the first set it. */
static void
heard(struct pss *p)
{
	if (!p->pinged && p->alive_at == tenths() +
	    (uint32_t)srv->ping_after * 10 && (p->alive_due.prev != NULL ||
	    silent_dues.head == &p->alive_due))
		return;
	due_set(&silent_dues, &p->alive_due, srv->ping_after,
	    p->pinged ? &pinged_dues : NULL);
	p->pinged = 0;
}

/* lws's writable callback (lws_partial_buffered() is never set here):
 * a ping if one is owed, write_frames, then asks again if frames are
 * left; closes once nothing is left and nothing waits for a commit's
 * sync (session_closing). */
static int
on_writeable(struct lws *wsi, struct pss *p)
{
	/* lws 4.1 tells of a pong only if it has a body */
	unsigned char ping[LWS_PRE + 1] = { [LWS_PRE] = 'k' };
	size_t len;

	/* not after a close lws began (a protocol error it found: it waits
	 * for the peer's close a while), whose frame may be out */
	if (p->ping_owed && lws_get_close_length(wsi) == 0) {
		p->ping_owed = 0;
		if (lws_write(wsi, ping + LWS_PRE, 1, LWS_WRITE_PING) < 0)
			return -1;
		if (lws_partial_buffered(wsi)) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	if (write_frames(wsi, p) != 0)
		return -1;
	/* a close waits for what lws holds too: lws 4.1 closing with
	 * output buffered sends it and no close frame, and takes what is
	 * written meanwhile for sent */
	if (session_peek(p->s, &len) != NULL || lws_partial_buffered(wsi)) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	/* the answers of the frames before the bad one go first, those
	 * that wait for their commit's sync too (session_turn_end asks
	 * for this callback again when they are released) */
	if (rxtap_fault(p->fd) != WSGUARD_OK && session_settled(p->s)) {
		lws_close_reason(wsi, (enum lws_close_status)
		    rxtap_close_code(p->fd), NULL, 0);
		return -1;
	}
	if (session_closing(p->s)) {
		lws_close_reason(wsi, (enum lws_close_status)p->s->close_code,
		    NULL, 0);
		return -1;
	}
	return 0;
}

/* Takes the spare descriptor, if it is not held. */
static void
spare_take(void)
{
	if (spare_fd < 0)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* lws could not accept for want of descriptors (err): refuses what waits
 * on the listeners with the spare descriptor. */
static void
out_of_fds(int err)
{
	int i, n, fd;

	if (!refusing) {
		refusing = 1;
		refused = 0;
		log_warn("ws: out of file descriptors (%s): new connections "
		    "are closed at once until one frees", strerror(err));
	}
	if (spare_fd < 0)
		return;		/* lost: lws tries again, quietly */
	close(spare_fd);
	spare_fd = -1;
	for (i = 0; i < nlisten; i++) {
		for (n = 0; n < REFUSE_BATCH; n++) {
			fd = accept(listen_fds[i], NULL, NULL);
			if (fd < 0)
				break;
			close(fd);
			refused++;
		}
	}
	spare_take();
}

/* lws accepted a connection: descriptors are there again. */
static void
accepting(void)
{
	if (refusing) {
		refusing = 0;
		log_warn("ws: accepting connections again (%lu refused "
		    "meanwhile)", refused);
	}
	spare_take();
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct pss *p = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		accepting();
		/* user: the descriptor's lws_filter_network_conn_args */
		return rxtap_accept(((struct lws_filter_network_conn_args *)
		    user)->accept_fd);
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		/* the listener's SSL_CTX (user), once: OpenSSL may free a
		 * connection's record buffers (about 34 kB) while they are
		 * empty, as most are. With OpenSSL 3.0 and lws 4.1, idle
		 * logged-in connections measured the same with it and
		 * without (bench/load.sh --tls): kept for other versions. */
		SSL_CTX_set_mode((SSL_CTX *)user, SSL_MODE_RELEASE_BUFFERS);
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		memset(p, 0, sizeof(*p));
		/* its frames checked from here on (rxtap.h); lws 4.1 as
		 * Debian builds it has no HTTP/2, the socket is this
		 * connection's own */
		p->fd = lws_get_socket_fd(wsi);
		if (lws_get_network_wsi(wsi) != wsi ||
		    rxtap_frames(p->fd, wsi) != 0) {
			log_err("ws: an upgraded connection not seen accepted: "
			    "closed");
			return -1;
		}
		if ((p->s = session_new(srv, wsi)) == NULL)
			return -1;
		metrics_connection(ROLE_NONE, 1);
		heard(p);
		session_touch(p->s);
		if (rxtap_fault(p->fd) != WSGUARD_OK)
			frame_fault(wsi, rxtap_fault(p->fd));
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (p->s == NULL)
			return 0;
		heard(p);
		return on_receive(wsi, p, in, len);
	case LWS_CALLBACK_RECEIVE_PONG:
		if (p->s != NULL)
			heard(p);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return p->s != NULL ? on_writeable(wsi, p) : 0;
	case LWS_CALLBACK_CLOSED:
		due_cancel(&held_dues, &p->held_due);
		due_cancel(&cut_dues, &p->cut_due);
		due_cancel(p->pinged ? &pinged_dues : &silent_dues,
		    &p->alive_due);
		if (p->s != NULL)
			metrics_connection(p->s->acct.role, -1);
		session_free(p->s);
		p->s = NULL;
		rxbuf_reset(&p->rx);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	/* tx_packet_size: lws 4.1 writes at most this (else the receive
	 * buffer's 4,096 bytes) at a time, and buffers the rest of a
	 * batch; a peer's close that comes while it holds output, it
	 * answers with none */
	{ "offramp.v1", callback, sizeof(struct pss), 4096, 0, NULL,
	    WRITE_BATCH },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* The metrics listener. */

static void
http_reset(struct hpss *h)
{
	free(h->body);
	h->body = NULL;
	h->len = 0;
	h->status = 0;
	h->type = NULL;
	h->headers_sent = 0;
}

/* Sets a short plain-text answer. 0, or -1 when out of memory. */
static int
http_answer(struct hpss *h, unsigned status, const char *text)
{
	size_t n = strlen(text);

	http_reset(h);
	if ((h->body = malloc(LWS_PRE + n)) == NULL)
		return -1;
	memcpy(h->body + LWS_PRE, text, n);
	h->len = n;
	h->status = status;
	h->type = "text/plain; charset=utf-8";
	return 0;
}

static void
health_unlink(struct hpss *h)
{
	struct hpss **pp = &health_waiting;

	while (*pp != NULL && *pp != h)
		pp = &(*pp)->next;
	if (*pp == h)
		*pp = h->next;
	h->next = NULL;
	h->waiting = 0;
}

/* A request: GET /metrics and GET /healthz; 404 for the rest. */
static int
on_http(struct lws *wsi, struct hpss *h, const char *path)
{
	int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;

	h->wsi = wsi;
	http_reset(h);
	if (get && strcmp(path, "/metrics") == 0) {
		h->body = (unsigned char *)metrics_text(LWS_PRE, &h->len);
		if (h->body != NULL) {
			h->status = HTTP_STATUS_OK;
			h->type = "text/plain; version=0.0.4; charset=utf-8";
		} else if (http_answer(h, HTTP_STATUS_INTERNAL_SERVER_ERROR,
		    "cannot render the metrics\n") != 0) {
			return -1;
		}
	} else if (get && strcmp(path, "/healthz") == 0) {
		if (!h->waiting) {
			h->waiting = 1;
			h->next = health_waiting;
			health_waiting = h;
		}
		return 0;	/* ws_health_answer() asks to write */
	} else if (http_answer(h, HTTP_STATUS_NOT_FOUND, "not found\n") != 0) {
		return -1;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

/* Writes the answer: its headers, then (at the next call) its body. */
static int
on_http_writeable(struct lws *wsi, struct hpss *h)
{
	unsigned char hdr[LWS_PRE + 512], *p = hdr + LWS_PRE;
	unsigned char *end = hdr + sizeof(hdr);

	if (h->waiting || h->body == NULL)
		return 0;
	if (!h->headers_sent) {
		if (lws_add_http_common_headers(wsi, h->status, h->type,
		    (lws_filepos_t)h->len, &p, end) != 0 ||
		    lws_add_http_header_by_name(wsi, (const unsigned char *)
		    "cache-control:", (const unsigned char *)"no-store", 8,
		    &p, end) != 0 ||
		    lws_finalize_write_http_header(wsi, hdr + LWS_PRE, &p,
		    end) != 0)
			return -1;
		h->headers_sent = 1;
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (lws_write(wsi, h->body + LWS_PRE, h->len, LWS_WRITE_HTTP_FINAL) <
	    (int)h->len)
		return -1;
	http_reset(h);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int
http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct hpss *h = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		accepting();
		return 0;
	case LWS_CALLBACK_HTTP:
		return h != NULL ? on_http(wsi, h, in) : -1;
	case LWS_CALLBACK_HTTP_BODY:
		return 0;		/* no request here has a body: dropped */
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		/* the answer (a 404) was waiting for the body's end; lws's
		 * default would end the transaction without it */
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return h != NULL ? on_http_writeable(wsi, h) : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (h != NULL) {
			health_unlink(h);
			http_reset(h);
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols metrics_protocols[] = {
	{ "offramp-metrics", http_callback, sizeof(struct hpss), 0, 0, NULL,
	    0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

int
ws_health_wanted(void)
{
	return health_waiting != NULL;
}

void
ws_health_answer(const char *why)
{
	struct hpss *h;

	while ((h = health_waiting) != NULL) {
		health_unlink(h);
		if (http_answer(h, why == NULL ? HTTP_STATUS_OK :
		    HTTP_STATUS_SERVICE_UNAVAILABLE, why == NULL ? "ok\n" :
		    why) != 0)
			continue;	/* no answer: the timeout closes it */
		lws_callback_on_writable(h->wsi);
	}
}

int
ws_metrics_port(void)
{
	return metrics_vh != NULL ? lws_get_vhost_listen_port(metrics_vh) : -1;
}

/*
 * The web client's files. Nothing but this origin may run, style, frame or
 * be fetched by the page; libsodium's WebAssembly needs 'wasm-unsafe-eval'
 * and nothing else. lws itself adds "cache-control: no-store" to a mount
 * not marked reusable: the files stay out of the browser's disk cache, so
 * a visit leaves less behind on a shared device.
 */
#define HDR(next, name, value) { next, NULL, name, value }
static const struct lws_protocol_vhost_options web_hdr[] = {
	HDR(&web_hdr[1], "content-security-policy:",
	    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
	    "style-src 'self'; img-src 'self'; connect-src 'self'; "
	    "font-src 'none'; object-src 'none'; media-src 'none'; "
	    "frame-src 'none'; worker-src 'none'; manifest-src 'self'; "
	    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
	HDR(&web_hdr[2], "referrer-policy:", "no-referrer"),
	HDR(&web_hdr[3], "x-content-type-options:", "nosniff"),
	HDR(&web_hdr[4], "x-frame-options:", "DENY"),
	HDR(&web_hdr[5], "cross-origin-opener-policy:", "same-origin"),
	HDR(&web_hdr[6], "cross-origin-resource-policy:", "same-origin"),
	HDR(NULL, "permissions-policy:",
	    "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
};

static const struct lws_protocol_vhost_options web_mime[] = {
	HDR(&web_mime[1], ".wasm", "application/wasm"),
	HDR(&web_mime[2], ".mjs", "text/javascript"),
	HDR(&web_mime[3], ".json", "application/json"),
	HDR(&web_mime[4], ".svg", "image/svg+xml"),
	HDR(NULL, ".webmanifest", "application/manifest+json"),
};

static struct lws_http_mount web_mount = {
	.mountpoint = "/",
	.mountpoint_len = 1,
	.def = "index.html",
	.origin_protocol = LWSMPRO_FILE,
	.extra_mimetypes = web_mime,
};

/*
 * The context holds no vhost of its own (LWS_SERVER_OPTION_EXPLICIT_VHOSTS):
 * each listener is a vhost with its own options, so that one may take
 * IPv6 and the other not. lws takes IPv6 on a vhost only when neither the
 * context nor the vhost disables it; a vhost that disables it cannot bind
 * an IPv6 address (lws then binds every IPv4 address instead).
 */
static uint64_t
ip_option(const char *addr)
{
	return strchr(addr, ':') != NULL ? 0 :
	    LWS_SERVER_OPTION_DISABLE_IPV6;
}

/* The metrics listener's vhost: 0, or -1 after logging why. */
static int
metrics_start(const struct ws_config *cfg)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.vhost_name = "metrics";
	info.port = cfg->metrics_port;
	info.iface = cfg->metrics_listen;
	info.protocols = metrics_protocols;
	info.options = ip_option(cfg->metrics_listen);	/* no TLS */
	info.timeout_secs = 10;
	metrics_text = cfg->metrics_text;
	if ((metrics_vh = lws_create_vhost(ctx, &info)) == NULL) {
		log_err("ws: cannot create the metrics listener on %s port %d",
		    cfg->metrics_listen, cfg->metrics_port);
		return -1;
	}
	return 0;
}

/* The listening socket on port: made non-blocking and remembered for
 * out_of_fds() (lws 4.1 does not hand it out). 0, or -1. */
static int
listen_fd_remember(int port)
{
	DIR *d;
	struct dirent *e;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, on, found = -1;
	socklen_t ol;

	if (nlisten == LISTEN_MAX || (d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while (found < 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		fd = atoi(e->d_name);
		on = 0;
		ol = sizeof(on);
		sl = sizeof(ss);
		if (fd == dirfd(d) ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) != 0 ||
		    !on || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
			continue;
		if ((ss.ss_family == AF_INET && ntohs(((struct sockaddr_in *)
		    &ss)->sin_port) == port) || (ss.ss_family == AF_INET6 &&
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == port))
			found = fd;
	}
	closedir(d);
	if (found < 0)
		return -1;
	fcntl(found, F_SETFL, fcntl(found, F_GETFL) | O_NONBLOCK);
	listen_fds[nlisten++] = found;
	return 0;
}

static void
lws_log_emit(int level, const char *line)
{
	char buf[1024];
	size_t n;
	int err;

	/* lws's line at each failed accept (above) */
	if (sscanf(line, "accept: errno %d", &err) == 1 &&
	    (err == EMFILE || err == ENFILE)) {
		out_of_fds(err);
		return;
	}
	snprintf(buf, sizeof(buf), "lws: %s", line);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_msg(level == LLL_ERR ? LOG_ERR : LOG_WARN, "%s", buf);
}

static void
on_beat(lws_sorted_usec_list_t *sul)
{
	uint32_t now = tenths();
	struct pss *p;
	struct due *d;

	/* a connection's own (the session's): the dues are off all lists
	 * before its session goes (LWS_CALLBACK_CLOSED) */
	while ((d = due_take(&held_dues, now)) != NULL) {
		log_info("ws: a message held past %d s: the connection is "
		    "closed", srv->message_timeout);
		lws_set_timeout(lws_container_of(d, struct pss,
		    held_due)->s->conn, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
	}
	while ((d = due_take(&cut_dues, now)) != NULL)
		on_cut(lws_container_of(d, struct pss, cut_due));
	while ((d = due_take(&silent_dues, now)) != NULL) {
		p = lws_container_of(d, struct pss, alive_due);
		due_set(&pinged_dues, d, srv->hangup_after - srv->ping_after,
		    NULL);
		p->pinged = 1;
		p->ping_owed = 1;
		lws_callback_on_writable(p->s->conn);
	}
	while ((d = due_take(&pinged_dues, now)) != NULL) {
		p = lws_container_of(d, struct pss, alive_due);
		/* its reading paused (its queue full) or its close under
		 * way: its pongs are not read, and the stall's cut (cut_at)
		 * is the rule for a peer that takes too little */
		if (p->cut != CUT_NONE) {
			heard(p);
			continue;
		}
		log_info("ws: nothing came in %d s, a ping's answer included: "
		    "the connection is closed", srv->hangup_after);
		lws_set_timeout(p->s->conn, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
	}
	lws_sul_schedule(ctx, 0, sul, on_beat,
	    (lws_usec_t)(WS_TICK_SECS * LWS_US_PER_SEC));
}

static void
on_tick(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	lws_cancel_service(ctx);
}

int
ws_start(struct server *server, const struct ws_config *cfg)
{
	struct lws_context_creation_info info;
	struct lws_vhost *vh;
	static void *foreign[1];
	uint64_t tls = cfg->cert != NULL ?
	    LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;

	srv = server;
	rxtap_on_fault(frame_fault);
	lws_set_log_level(cfg->verbose ? (LLL_ERR | LLL_WARN) : LLL_ERR,
	    lws_log_emit);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
	    LWS_SERVER_OPTION_LIBEV | tls;
	info.max_http_header_data = 2048;
	if ((loop = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		log_err("ws: cannot create the event loop");
		return -1;
	}
	foreign[0] = loop;
	info.foreign_loops = foreign;
	if ((ctx = lws_create_context(&info)) == NULL) {
		log_err("ws: cannot create the context (lws's libev plugin is "
		    "in the package libwebsockets-evlib-ev)");
		return -1;
	}
	ev_timer_init(&tick, on_tick, WS_TICK_SECS, WS_TICK_SECS);
	ev_timer_start(loop, &tick);
	on_beat(&beat);
	memset(&info, 0, sizeof(info));
	info.vhost_name = "default";
	info.port = cfg->port;
	info.iface = cfg->listen;
	info.protocols = protocols;
	info.retry_and_idle_policy = &quiet;
	/* Text that is not UTF-8 is closed with 1007 (RFC 6455, 8.1), by
	 * wsguard.c, not lws: lws closes at once, before the answers it
	 * owes (frame_fault) */
	info.options = ip_option(cfg->listen) | tls;
	if (cfg->cert != NULL) {
		info.ssl_cert_filepath = cfg->cert;
		info.ssl_private_key_filepath = cfg->key;
	}
	if (cfg->web != NULL) {
		web_mount.origin = cfg->web;
		info.mounts = &web_mount;
		info.headers = web_hdr;
	}
	info.timeout_secs = 10;
	if ((vh = lws_create_vhost(ctx, &info)) == NULL) {
		log_err("ws: cannot create the listener (address, port or "
		    "certificate)");
		return -1;
	}
	if (cfg->metrics_listen != NULL && metrics_start(cfg) != 0)
		return -1;
	spare_take();
	if (spare_fd < 0 ||
	    listen_fd_remember(lws_get_vhost_listen_port(vh)) != 0 ||
	    (metrics_vh != NULL && listen_fd_remember(ws_metrics_port()) != 0))
		log_warn("ws: no spare descriptor: at the limit of open "
		    "files, waiting connections are left to wait");
	return lws_get_vhost_listen_port(vh);
}

/* Reads a PEM file of at most CERT_FILE_MAX bytes into a new buffer
 * (NUL-terminated): 0 with *buf, *len, or -1. */
#define CERT_FILE_MAX	(64 * 1024)
static int
read_pem(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	*buf = NULL;
	if (f == NULL)
		return -1;
	if ((*buf = malloc(CERT_FILE_MAX + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(*buf, 1, CERT_FILE_MAX + 1, f);
	fclose(f);
	if (n == 0 || n > CERT_FILE_MAX) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	(*buf)[n] = '\0';
	*len = n;
	return 0;
}

int
ws_reload_cert(const char *cert, const char *key)
{
	char *c = NULL, *k = NULL;
	size_t cl = 0, kl = 0;
	int rc = -1;

	if (read_pem(cert, &c, &cl) == 0 && read_pem(key, &k, &kl) == 0 &&
	    lws_tls_cert_updated(ctx, cert, key, c, cl, k, kl) == 0)
		rc = 0;
	if (k != NULL) {
		explicit_bzero(k, kl);
		free(k);
	}
	free(c);
	return rc;
}

int
ws_service(void)
{
	ev_run(loop, EVRUN_ONCE);
	return 0;
}

void
ws_wake(void)
{
	if (ctx != NULL)
		lws_cancel_service(ctx);
}

void
ws_stop(void)
{
	if (ctx != NULL) {
		lws_sul_cancel(&beat);
		lws_context_destroy(ctx);
	}
	ctx = NULL;
	if (loop != NULL) {
		ev_timer_stop(loop, &tick);
		ev_loop_destroy(loop);
	}
	loop = NULL;
	metrics_vh = NULL;
	health_waiting = NULL;
	if (spare_fd >= 0)
		close(spare_fd);
	spare_fd = -1;
	nlisten = 0;
	refusing = 0;
}

static void
want_write(void *conn)
{
	struct pss *p = lws_wsi_user(conn);

	/* a session that closes: its close goes out in time, or it is cut */
	if (p->s != NULL && p->s->close_code != 0)
		cut_at(p, CUT_CLOSING);
	lws_callback_on_writable(conn);
}

/*
 * Between two turns, outside lws's service of any connection: the frames
 * a turn's commit released are written at once, not after lws asked for
 * POLLOUT and the loop turned again (two epoll_ctl calls and a wakeup a
 * frame, as many system calls as the writes themselves). What the socket
 * does not take waits as before (lws buffers a frame it took in part and
 * asks for POLLOUT itself); a session that closes, or a connection whose
 * peer sent its close or broke a framing rule, goes the callback's way,
 * which closes it. A write that fails closes the connection at lws's
 * next service, as the callback's -1 would.
 */
static void
flush(void *conn)
{
	struct lws *wsi = conn;
	struct pss *p = lws_wsi_user(wsi);
	size_t len;

	if (p->s == NULL || p->s->close_code != 0 ||
	    rxtap_fault(p->fd) != WSGUARD_OK || lws_partial_buffered(wsi)) {
		want_write(conn);
		return;
	}
	if (write_frames(wsi, p) != 0) {
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
		return;
	}
	if (session_peek(p->s, &len) != NULL)
		lws_callback_on_writable(wsi);
}

static void
pause_rx(void *conn, int pause)
{
	struct pss *p = lws_wsi_user(conn);

	cut_at(p, pause ? CUT_STALLED : CUT_NONE);
	lws_rx_flow_control(conn, pause ? 0 : 1);
}

static void
deadline(void *conn, int secs)
{
	lws_set_timeout(conn, secs > 0 ? PENDING_TIMEOUT_USER_OK :
	    NO_PENDING_TIMEOUT, secs);
}

/* A timer is due: runs its function, then wakes the loop (lws runs a
 * timer before it polls), so that the turn ends and commits what the
 * function wrote. */
static void
on_timer(lws_sorted_usec_list_t *sul)
{
	struct timer_slot *t = lws_container_of(sul, struct timer_slot, sul);
	void (*fn)(void *) = t->fn;

	t->fn = NULL;
	if (fn != NULL)
		fn(t->arg);
	lws_cancel_service(ctx);
}

static void
timer(int secs, void (*fn)(void *arg), void *arg)
{
	struct timer_slot *t = NULL;

	for (size_t i = 0; i < TIMERS_MAX && t == NULL; i++)
		if (timers[i].owner == fn || timers[i].owner == NULL)
			t = &timers[i];
	if (t == NULL)
		fatal("ws: more than %d timer functions", TIMERS_MAX);
	t->owner = fn;
	t->fn = fn;
	t->arg = arg;
	lws_sul_schedule(ctx, 0, &t->sul, on_timer,
	    (lws_usec_t)secs * LWS_US_PER_SEC);
}

const struct conn_ops ws_conn_ops = {
	.pre = LWS_PRE,
	.want_write = want_write,
	.flush = flush,
	.wake = ws_wake,
	.pause_rx = pause_rx,
	.deadline = deadline,
	.timer = timer,
};
