/*
 * conn.c: the CLI's transport (conn.h): a WebSocket over TLS to the
 * server, frames sent and received (a request's "v" and "id", the "re" of
 * its answer), and stdin in the same loop. It is the only file of the CLI
 * that includes libwebsockets.h. It knows no account and holds no key: of
 * the server's challenges it keeps the server key and nonce for
 * account.c to sign, and it never signs, never reads the key file, and
 * never looks into a frame past its type, id and "re".
 *
 * One lws context per connection, one
 * client wsi, and optionally stdin adopted as a raw file descriptor so that
 * one poll() waits on both. The blocking calls run lws_service() until what
 * they wait for is queued, the deadline (an lws_sul) fires, or the
 * connection closes.
 *
 * It only writes in LWS_CALLBACK_CLIENT_WRITEABLE, one lws_write() per
 * callback with LWS_PRE bytes of headroom; it reassembles incoming frames up
 * to OFR_FRAME_MAX and closes the connection on a larger one. It never
 * reads stdin unless a caller asks for a line, so memory stays bounded.
 */
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "proto/ocrypto.h"
#include "proto/pow.h"
#include "conn.h"

#define HOST_MAX	255
#define PATH_MAX_URL	1024
#define STDIN_CHUNK	65536
#define STDIN_PROTOCOL	"offramp-stdin"
#define WATCH_PROTOCOL	"offramp-watch"
#define KEPT_MAX	4096	/* frames set aside for a later wait */
#define KEPT_BYTES_MAX	(16 << 20)	/* their text's bytes, at most */

/* A queued frame (in or out) or line of stdin. */
struct item {
	struct item *next;
	size_t len;
	int binary;		/* frames: binary; lines: 1 = over the limit */
	char data[];		/* out: LWS_PRE + len; in: len + NUL */
};

struct queue {
	struct item *head, *tail;
	size_t bytes;
};

struct conn {
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t sul;
	int timer_fired;
	int established, closed, raw;
	char err[256];

	/* the url */
	int tls, port;
	char host[HOST_MAX + 1];
	char path[PATH_MAX_URL + 1];

	/* reassembly of one incoming message */
	char *rx;
	size_t rxlen;
	int rx_active, rx_binary;

	struct queue out;	/* to send */
	struct queue in;	/* received, not looked at yet */
	struct queue kept;	/* set aside by conn_wait_response, as text */
	size_t nkept;
	struct item *last;	/* next_frame's last frame, its text */
	int dropped;		/* a push was dropped: kept was full */
	int64_t next_id;

	/* other descriptors watched (conn_watch_fd) */
	struct lws *watch_wsi[CONN_WATCH_MAX];
	int watch_fd[CONN_WATCH_MAX];	/* the caller's fd, or -1 */
	int watch_ready[CONN_WATCH_MAX];

	/* the login challenge */
	uint8_t server_key[OFR_PK_BYTES];
	uint8_t nonce[OFR_CHALLENGE_BYTES];
	int pow_bits;			/* the proof of work it asks for */
	int have_challenge;
	char *challenge_text;

	/* stdin */
	struct lws *stdin_wsi;
	int stdin_fd, stdin_watched, stdin_on;
	int stdin_eof, stdin_eof_told;
	int stdin_hup;		/* lws closed it: read fd 0 directly */
	int stdin_raw;		/* hand out chunks as read, not lines */
	size_t line_max;
	char *lbuf;
	size_t llen;
	int ldrop;
	struct queue lines;
};

static char last_lws_log[256];

static void
set_err(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err[0] != '\0')
		return;		/* keep the first reason */
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* lws logs go nowhere but the last error, kept for messages; with
 * OFFRAMP_DEBUG set in the environment they go to stderr as well. */
static void
lws_log(int level, const char *line)
{
	const char *p;
	size_t n;

	if (getenv("OFFRAMP_DEBUG") != NULL)
		fputs(line, stderr);
	if (!(level & LLL_ERR))
		return;
	p = strstr(line, "E: ");
	p = p != NULL ? p + 3 : line;
	n = strcspn(p, "\r\n");
	if (n >= sizeof(last_lws_log))
		n = sizeof(last_lws_log) - 1;
	memcpy(last_lws_log, p, n);
	last_lws_log[n] = '\0';
}

/* --- queues --- */

static struct item *
item_new(size_t headroom, const char *data, size_t len)
{
	struct item *it;

	if (len > SIZE_MAX - sizeof(*it) - headroom - 1)
		return NULL;
	if ((it = malloc(sizeof(*it) + headroom + len + 1)) == NULL)
		return NULL;
	memset(it, 0, sizeof(*it));
	it->len = len;
	if (len > 0)
		memcpy(it->data + headroom, data, len);
	it->data[headroom + len] = '\0';
	return it;
}

static void
item_free(struct item *it)
{
	if (it == NULL)
		return;
	free(it);
}

static void
q_push(struct queue *q, struct item *it)
{
	it->next = NULL;
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->bytes += it->len;
}

static struct item *
q_pop(struct queue *q)
{
	struct item *it = q->head;

	if (it == NULL)
		return NULL;
	q->head = it->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->bytes -= it->len;
	it->next = NULL;
	return it;
}

static void
q_clear(struct queue *q)
{
	struct item *it;

	while ((it = q_pop(q)) != NULL)
		item_free(it);
}

/* --- callbacks --- */

static int
on_receive(struct conn *c, struct lws *wsi, const void *in, size_t len)
{
	struct item *it;

	if (!c->rx_active) {
		c->rx_active = 1;
		c->rxlen = 0;
		c->rx_binary = lws_frame_is_binary(wsi);
	}
	if (len > OFR_FRAME_MAX - c->rxlen) {
		set_err(c, "the server sent a frame over %d bytes",
		    OFR_FRAME_MAX);
		return -1;
	}
	if (len > 0)
		memcpy(c->rx + c->rxlen, in, len);
	c->rxlen += len;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	c->rx_active = 0;
	if ((it = item_new(0, c->rx, c->rxlen)) == NULL) {
		set_err(c, "out of memory");
		return -1;
	}
	it->binary = c->rx_binary;
	q_push(&c->in, it);
	return 0;
}

static int
on_writeable(struct conn *c, struct lws *wsi)
{
	struct item *it = q_pop(&c->out);
	int n;

	if (it == NULL)
		return 0;
	n = lws_write(wsi, (unsigned char *)it->data + LWS_PRE, it->len,
	    it->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	if (n < 0 || (size_t)n < it->len) {
		item_free(it);
		set_err(c, "write to the server failed");
		return -1;
	}
	item_free(it);
	if (c->out.head != NULL)
		lws_callback_on_writable(wsi);
	return 0;
}

static void
on_peer_close(struct conn *c, const uint8_t *in, size_t len)
{
	char reason[128];
	size_t n;

	if (len < 2) {
		set_err(c, "the server closed the connection");
		return;
	}
	n = len - 2 < sizeof(reason) - 1 ? len - 2 : sizeof(reason) - 1;
	memcpy(reason, in + 2, n);
	reason[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)reason[i] < 0x20)
			reason[i] = '?';
	set_err(c, "the server closed the connection (%u%s%s)",
	    (unsigned)in[0] << 8 | in[1], n ? " " : "", reason);
}

static void
stdin_line(struct conn *c, const char *s, size_t len, int too_long)
{
	struct item *it = item_new(0, s, len);

	if (it == NULL) {
		/* cannot keep it: report it as dropped */
		if ((it = item_new(0, "", 0)) == NULL)
			return;
		too_long = 1;
	}
	it->binary = too_long;
	q_push(&c->lines, it);
}

/* Splits n bytes of stdin into lines. */
static void
stdin_bytes(struct conn *c, const char *buf, size_t n)
{
	if (c->stdin_raw) {
		stdin_line(c, buf, n, 0);
		return;
	}
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t seg = nl != NULL ? (size_t)(nl - buf) : n;

		if (!c->ldrop && seg <= c->line_max - c->llen) {
			memcpy(c->lbuf + c->llen, buf, seg);
			c->llen += seg;
		} else {
			c->ldrop = 1;
		}
		if (nl == NULL)
			return;
		stdin_line(c, c->lbuf, c->ldrop ? 0 : c->llen, c->ldrop);
		c->llen = 0;
		c->ldrop = 0;
		buf += seg + 1;
		n -= seg + 1;
	}
}

static void
stdin_want(struct conn *c, int on)
{
	if (c->stdin_wsi == NULL || c->stdin_on == on)
		return;
	lws_rx_flow_control(c->stdin_wsi, on);
	c->stdin_on = on;
}

/* Reads one chunk of stdin from fd into lines: 0, or OFR_E_IO when stdin
 * ended (or failed): there is no more. */
static int
stdin_read(struct conn *c, int fd)
{
	char buf[STDIN_CHUNK];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		if (c->llen > 0 || c->ldrop)
			stdin_line(c, c->lbuf, c->ldrop ? 0 : c->llen,
			    c->ldrop);
		c->llen = 0;
		c->ldrop = 0;
		c->stdin_eof = 1;
		return OFR_E_IO;
	}
	stdin_bytes(c, buf, (size_t)n);
	return 0;
}

static int
on_stdin(struct conn *c)
{
	if (stdin_read(c, c->stdin_fd) != 0)
		return -1;	/* lws closes the wsi and our dup of fd 0 */
	if (c->lines.head != NULL)
		stdin_want(c, 0);
	return 0;
}

/*
 * lws closes a raw file on POLLHUP when POLLIN is not asked for, which is
 * how stdin is paused: the writer may have left data in the pipe. There is
 * no writer any more, so reading fd 0 (the same pipe) cannot block: read
 * it directly until a line or the end.
 */
static void
stdin_after_hup(struct conn *c)
{
	while (c->lines.head == NULL && !c->stdin_eof)
		(void)stdin_read(c, 0);
}

/* A watched descriptor is readable (or closed): told once by conn_wait,
 * and not polled again until then. */
static void
on_watched(struct conn *c, struct lws *wsi, int closed)
{
	for (int i = 0; i < CONN_WATCH_MAX; i++) {
		if (c->watch_wsi[i] != wsi || wsi == NULL)
			continue;
		c->watch_ready[i] = 1;
		if (closed)
			c->watch_wsi[i] = NULL;
		else
			lws_rx_flow_control(wsi, 0);
	}
}

/* The length of lws's "SSL error: <reason> (preverify_ok=...)" reason. */
static int
tls_reason_len(const char *s)
{
	size_t n = strcspn(s, "(");

	while (n > 0 && s[n - 1] == ' ')
		n--;
	return (int)n;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct conn *c = lws_context_user(lws_get_context(wsi));

	(void)user;
	if (c == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (strncmp(last_lws_log, "SSL error: ", 11) == 0)
			set_err(c, "TLS: server certificate refused: %.*s",
			    tls_reason_len(last_lws_log + 11),
			    last_lws_log + 11);
		else
			set_err(c, "%s", in != NULL ? (const char *)in :
			    "cannot connect");
		c->wsi = NULL;
		c->closed = 1;
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->established = 1;
		if (c->out.head != NULL)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		on_peer_close(c, in, len);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		set_err(c, "the server closed the connection");
		c->wsi = NULL;
		c->closed = 1;
		break;
	case LWS_CALLBACK_RAW_RX_FILE:
		if (wsi == c->stdin_wsi)
			return on_stdin(c);
		on_watched(c, wsi, 0);
		break;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (wsi == c->stdin_wsi) {
			c->stdin_wsi = NULL;
			c->stdin_hup = !c->stdin_eof;
		}
		on_watched(c, wsi, 1);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ CONN_SUBPROTOCOL, callback, 0, 65536, 0, NULL, 0 },
	{ STDIN_PROTOCOL, callback, 0, 0, 0, NULL, 0 },
	{ WATCH_PROTOCOL, callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* --- the wait loop --- */

static void
on_timer(lws_sorted_usec_list_t *sul)
{
	struct conn *c = lws_container_of(sul, struct conn, sul);

	c->timer_fired = 1;
	/* lws runs timers before it polls: wake that poll up */
	lws_cancel_service(c->ctx);
}

static void
arm(struct conn *c, int timeout_ms)
{
	c->timer_fired = 0;
	if (timeout_ms >= 0)
		lws_sul_schedule(c->ctx, 0, &c->sul, on_timer,
		    (lws_usec_t)timeout_ms * LWS_US_PER_MS);
}

static void
disarm(struct conn *c)
{
	lws_sul_cancel(&c->sul);
}

/* One turn of the event loop. */
static int
turn(struct conn *c)
{
	if (c->timer_fired)
		return OFR_E_TIMEOUT;
	if (lws_service(c->ctx, 0) < 0) {
		set_err(c, "event loop failed");
		c->closed = 1;
		return OFR_E_CONN;
	}
	return 0;
}

/* --- frames --- */

static int
is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

static int
parse_url(struct conn *c, const char *url)
{
	const char *p, *hs, *he, *rest;
	size_t n;

	if (strncmp(url, "wss://", 6) == 0) {
		c->tls = 1;
		c->port = 443;
		p = url + 6;
	} else if (strncmp(url, "ws://", 5) == 0) {
		c->tls = 0;
		c->port = 80;
		p = url + 5;
	} else {
		return OFR_E_USAGE;
	}
	if (*p == '[') {
		hs = p + 1;
		if ((he = strchr(hs, ']')) == NULL)
			return OFR_E_USAGE;
		rest = he + 1;
	} else {
		hs = p;
		he = p + strcspn(p, ":/?#");
		rest = he;
	}
	n = (size_t)(he - hs);
	if (n == 0 || n > HOST_MAX)
		return OFR_E_USAGE;
	memcpy(c->host, hs, n);
	c->host[n] = '\0';
	if (strspn(c->host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") != n)
		return OFR_E_USAGE;
	if (*rest == ':') {
		char *end;
		long port;

		rest++;
		if (*rest < '0' || *rest > '9')
			return OFR_E_USAGE;
		port = strtol(rest, &end, 10);
		if (port < 1 || port > 65535)
			return OFR_E_USAGE;
		c->port = (int)port;
		rest = end;
	}
	if (*rest == '\0')
		rest = "/";
	if (*rest != '/' || strlen(rest) > PATH_MAX_URL)
		return OFR_E_USAGE;
	strcpy(c->path, rest);
	return 0;
}

/* Takes the first challenge or a later one; 0 if f was one. */
static int
take_challenge(struct conn *c, json_t *f)
{
	struct frame_in in;
	uint8_t key[OFR_PK_BYTES], nonce[OFR_CHALLENGE_BYTES];
	size_t n1 = 0, n2 = 0;
	int64_t bits = 0;
	int rc;

	memset(&in, 0, sizeof(in));
	in.root = f;
	rc = frame_bin(&in, "server_key", OFR_PK_BYTES, OFR_PK_BYTES, 1, key,
	    &n1);
	if (rc == 0)
		rc = frame_bin(&in, "nonce", OFR_CHALLENGE_BYTES,
		    OFR_CHALLENGE_BYTES, 1, nonce, &n2);
	if (rc == 0)
		rc = frame_int(&in, "pow", 0, OFR_POW_BITS_MAX, 0, &bits);
	if (rc != 0) {
		set_err(c, "the server sent a bad challenge (%s)",
		    in.bad_field);
		return OFR_E_CONN;
	}
	if (c->have_challenge &&
	    memcmp(key, c->server_key, sizeof(key)) != 0) {
		set_err(c, "the server changed its key mid-connection");
		return OFR_E_CONN;
	}
	memcpy(c->server_key, key, sizeof(key));
	memcpy(c->nonce, nonce, sizeof(nonce));
	c->pow_bits = (int)bits;
	c->have_challenge = 1;
	return 0;
}

static int
is_challenge(json_t *f)
{
	const char *t = json_string_value(json_object_get(f, "type"));

	return t != NULL && strcmp(t, "challenge") == 0 &&
	    json_object_get(f, "re") == NULL;
}

/* The connection is of no more use: say why and stop. */
static int
fail(struct conn *c, const char *why)
{
	set_err(c, "%s", why);
	c->closed = 1;
	if (c->wsi != NULL)
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
	return OFR_E_CONN;
}

/*
 * A frame of the server: a JSON object with "v": 1 and a string "type".
 * Not frame_in_parse(): its nesting limit is for requests, and the
 * server's own frames (case.list.ok) nest deeper. NULL when bad.
 */
static json_t *
parse_frame(const char *buf, size_t len)
{
	json_t *f, *v, *type;

	if (len > OFR_FRAME_MAX)
		return NULL;
	f = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (f == NULL)
		return NULL;
	v = json_object_get(f, "v");
	type = json_object_get(f, "type");
	if (!json_is_object(f) || !json_is_integer(v) ||
	    json_integer_value(v) != OFR_PROTO_VERSION ||
	    !json_is_string(type) || json_string_length(type) == 0 ||
	    json_string_length(type) > OFR_TYPE_MAX) {
		json_decref(f);
		return NULL;
	}
	return f;
}

/*
 * Pops the next received frame and parses it; challenges are taken here
 * and not returned (*f NULL). 0, or OFR_E_CONN for a frame that is not
 * one of protocol v1.
 */
static int
next_frame(struct conn *c, json_t **f)
{
	struct item *it = q_pop(&c->in);
	int rc;

	*f = NULL;
	if (it == NULL)
		return 0;
	if (it->binary) {
		item_free(it);
		return fail(c, "the server sent a binary frame");
	}
	*f = parse_frame(it->data, it->len);
	item_free(c->last);	/* kept (keep) or not wanted */
	c->last = it;
	if (*f == NULL)
		return fail(c, "the server sent a frame that is not "
		    "protocol v1");
	if (is_challenge(*f)) {
		rc = take_challenge(c, *f);
		json_decref(*f);
		*f = NULL;
		if (rc != 0)
			return fail(c, c->err);
	}
	return 0;
}

/* --- the API --- */

static int
wait_first_challenge(struct conn *c, int timeout_ms)
{
	struct item *it;
	json_t *f;
	int rc = 0, ok;

	arm(c, timeout_ms);
	while (c->in.head == NULL && !c->closed &&
	    (rc = turn(c)) == 0)
		;
	disarm(c);
	if (c->in.head == NULL)
		return rc != 0 ? rc : OFR_E_CONN;
	it = c->in.head;	/* kept as text for the raw command */
	if ((c->challenge_text = strdup(it->data)) == NULL)
		return OFR_E_NOMEM;
	f = it->binary ? NULL : parse_frame(it->data, it->len);
	ok = f != NULL && is_challenge(f);
	json_decref(f);
	if (!ok)
		return fail(c, "the server's first frame is not a challenge");
	if ((rc = next_frame(c, &f)) != 0)	/* takes the challenge */
		return rc;
	return c->have_challenge ? 0 : OFR_E_CONN;
}

static int
connect_ws(struct conn *c)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.context = c->ctx;
	ci.address = c->host;
	ci.port = c->port;
	ci.path = c->path;
	ci.host = c->host;
	ci.protocol = CONN_SUBPROTOCOL;
	ci.ssl_connection = c->tls ? LCCSCF_USE_SSL : 0;
	ci.alpn = "http/1.1";
	ci.pwsi = &c->wsi;
	if (lws_client_connect_via_info(&ci) == NULL) {
		set_err(c, "cannot connect to %s port %d%s%s", c->host,
		    c->port, last_lws_log[0] ? ": " : "", last_lws_log);
		c->closed = 1;
		return OFR_E_CONN;
	}
	return 0;
}

static int
make_context(struct conn *c, const char *ca_file)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.user = c;
	info.gid = -1;
	info.uid = -1;
	if (c->tls) {
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		if (ca_file != NULL) {
			/* --ca means: this CA and no other */
			info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
			info.client_ssl_ca_filepath = ca_file;
		}
	}
	if ((c->ctx = lws_create_context(&info)) == NULL) {
		set_err(c, "cannot set up the connection%s%s",
		    last_lws_log[0] ? ": " : "", last_lws_log);
		return OFR_E_CONN;
	}
	return 0;
}

int
conn_open(struct conn **out, const char *url, const char *ca_file,
    int timeout_ms)
{
	struct conn *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return OFR_E_NOMEM;
	c->stdin_fd = -1;
	for (int i = 0; i < CONN_WATCH_MAX; i++)
		c->watch_fd[i] = -1;
	if (parse_url(c, url) != 0) {
		free(c);
		return OFR_E_USAGE;
	}
	*out = c;
	lws_set_log_level(LLL_ERR | LLL_WARN |
	    (getenv("OFFRAMP_DEBUG") != NULL ? LLL_NOTICE | LLL_INFO : 0),
	    lws_log);
	last_lws_log[0] = '\0';
	if (!c->tls && !is_loopback(c->host)) {
		set_err(c, "ws:// (no TLS) is only allowed to a loopback "
		    "host; use wss://");
		return OFR_E_USAGE;
	}
	if (c->tls && strchr(c->host, ':') != NULL) {
		/* lws 4.1 cuts the name to check at the first ':' */
		set_err(c, "wss:// to an IPv6 address is not supported; "
		    "use a host name");
		return OFR_E_USAGE;
	}
	if (c->tls && ca_file != NULL && access(ca_file, R_OK) != 0) {
		set_err(c, "cannot read CA file %s: %s", ca_file,
		    strerror(errno));
		return OFR_E_IO;
	}
	if ((c->rx = malloc(OFR_FRAME_MAX)) == NULL)
		return OFR_E_NOMEM;
	if ((rc = make_context(c, ca_file)) != 0 ||
	    (rc = connect_ws(c)) != 0)
		return rc;
	if ((rc = wait_first_challenge(c, timeout_ms)) == OFR_E_TIMEOUT)
		set_err(c, "no challenge from %s port %d in time", c->host,
		    c->port);
	return rc;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->ctx != NULL) {
		lws_sul_cancel(&c->sul);
		lws_context_destroy(c->ctx);
	}
	q_clear(&c->out);
	q_clear(&c->in);
	q_clear(&c->kept);
	q_clear(&c->lines);
	item_free(c->last);
	free(c->rx);
	free(c->lbuf);
	free(c->challenge_text);
	free(c);
}

const char *
conn_error(const struct conn *c)
{
	return c != NULL ? c->err : "";
}

const uint8_t *
conn_server_key(const struct conn *c)
{
	return c->server_key;
}

const uint8_t *
conn_nonce(const struct conn *c)
{
	return c->nonce;
}

int
conn_pow_bits(const struct conn *c)
{
	return c->pow_bits;
}

const char *
conn_challenge_text(const struct conn *c)
{
	return c->challenge_text != NULL ? c->challenge_text : "";
}

static int
queue_out(struct conn *c, const char *buf, size_t len, int binary)
{
	struct item *it;

	if (c->closed || c->wsi == NULL)
		return OFR_E_CONN;
	if ((it = item_new(LWS_PRE, buf, len)) == NULL)
		return OFR_E_NOMEM;
	it->binary = binary;
	q_push(&c->out, it);
	if (c->established)
		lws_callback_on_writable(c->wsi);
	return 0;
}

int
conn_send_raw(struct conn *c, const char *buf, size_t len, int binary)
{
	return queue_out(c, buf, len, binary);
}

size_t
conn_pending_out(const struct conn *c)
{
	return c->out.bytes;
}

int
conn_send(struct conn *c, json_t *req, int64_t *idp)
{
	char *text;
	size_t len;
	int64_t id = c->next_id + 1;
	int rc;

	if (req == NULL)
		return OFR_E_NOMEM;
	if (json_object_set_new(req, "v", json_integer(OFR_PROTO_VERSION)) ||
	    json_object_set_new(req, "id", json_integer(id)) ||
	    (text = json_dumps(req, JSON_COMPACT)) == NULL) {
		json_decref(req);
		return OFR_E_NOMEM;
	}
	json_decref(req);
	len = strlen(text);
	if (len > OFR_FRAME_MAX)
		rc = OFR_E_TOO_BIG;
	else
		rc = queue_out(c, text, len, 0);
	free(text);
	if (rc != 0)
		return rc;
	c->next_id = id;
	*idp = id;
	return 0;
}

/*
 * Sets frame f, next_frame's last, aside for conn_wait(), as the text
 * the server sent (parsed again when it is handed out: parsed, a frame
 * of a server's choosing can take 80 times its bytes): at most KEPT_MAX
 * frames of KEPT_BYTES_MAX bytes in all, whatever the server sends. An
 * answer ("re") to no request of ours (its id never given; the raw
 * command's ids are the user's) or one past the bounds ends the
 * connection; a push past them is dropped.
 */
static int
keep(struct conn *c, json_t *f)
{
	json_t *re = json_object_get(f, "re");
	struct item *it = c->last;

	if (re != NULL && !c->raw && (!json_is_integer(re) ||
	    json_integer_value(re) < 1 ||
	    json_integer_value(re) > c->next_id)) {
		json_decref(f);
		return fail(c, "the server sent an answer to no request");
	}
	if (it == NULL) {	/* never: f is next_frame's last */
		json_decref(f);
		return OFR_E_INTERNAL;
	}
	if (c->nkept >= KEPT_MAX || it->len > KEPT_BYTES_MAX - c->kept.bytes) {
		json_decref(f);
		if (re != NULL)
			return fail(c, "the server sent more answers than "
			    "were waited for");
		/* a push nobody took: the server sends it again at the next
		 * login (conn_dropped) */
		c->dropped = 1;
		return 0;
	}
	json_decref(f);
	c->last = NULL;
	q_push(&c->kept, it);
	c->nkept++;
	return 0;
}

static int
response_code(json_t *f)
{
	const char *type = json_string_value(json_object_get(f, "type"));
	const char *code;

	if (type == NULL || strcmp(type, "error") != 0)
		return 0;
	code = json_string_value(json_object_get(f, "code"));
	if (code == NULL)
		return OFR_E_INTERNAL;
	return err_from_str(code);
}

int
conn_wait_response(struct conn *c, int64_t id, json_t **resp,
    int timeout_ms)
{
	json_t *f, *re;
	int rc = 0;

	*resp = NULL;
	stdin_want(c, 0);
	arm(c, timeout_ms);
	for (;;) {
		while (c->in.head != NULL) {
			if ((rc = next_frame(c, &f)) != 0)
				goto out;
			if (f == NULL)
				continue;
			re = json_object_get(f, "re");
			if (json_is_integer(re) &&
			    json_integer_value(re) == id) {
				*resp = f;
				rc = response_code(f);
				goto out;
			}
			if ((rc = keep(c, f)) != 0)
				goto out;
		}
		if (c->closed) {
			rc = OFR_E_CONN;
			break;
		}
		if ((rc = turn(c)) != 0)
			break;
	}
out:
	disarm(c);
	return rc;
}

int
conn_request(struct conn *c, json_t *req, json_t **resp, int timeout_ms)
{
	int64_t id;
	int rc;

	*resp = NULL;
	if ((rc = conn_send(c, req, &id)) != 0)
		return rc;
	return conn_wait_response(c, id, resp, timeout_ms);
}

void
conn_set_raw(struct conn *c, int on)
{
	c->raw = on;
}

int
conn_watch_stdin(struct conn *c, size_t line_max)
{
	lws_sock_file_fd_type u;

	if (c->stdin_watched)
		return 0;
	c->stdin_watched = 1;
	c->line_max = line_max;
	if ((c->lbuf = malloc(line_max + 1)) == NULL)
		return OFR_E_NOMEM;
	/* a dup, so that lws closing it at the end leaves fd 0 alone */
	if ((c->stdin_fd = fcntl(0, F_DUPFD_CLOEXEC, 3)) < 0) {
		c->stdin_eof = 1;	/* no stdin: it is at its end */
		return 0;
	}
	memset(&u, 0, sizeof(u));
	u.filefd = c->stdin_fd;
	c->stdin_wsi = lws_adopt_descriptor_vhost(lws_get_vhost_by_name(
	    c->ctx, "default"), LWS_ADOPT_RAW_FILE_DESC, u, STDIN_PROTOCOL,
	    NULL);
	if (c->stdin_wsi == NULL) {
		c->stdin_fd = -1;	/* lws closed it */
		return OFR_E_IO;
	}
	c->stdin_on = 1;
	return 0;
}

/* An item's bytes as ev->data: moved into a plain allocation. */
static int
item_to_event(struct item *it, struct conn_event *ev, int kind)
{
	ev->kind = kind;
	ev->len = it->len;
	ev->binary = it->binary;
	ev->data = malloc(it->len + 1);
	if (ev->data != NULL) {
		memcpy(ev->data, it->data, it->len + 1);
	}
	item_free(it);
	return ev->data != NULL ? 0 : OFR_E_NOMEM;
}

static int
stdin_event(struct conn *c, struct conn_event *ev)
{
	struct item *it = q_pop(&c->lines);

	if (it != NULL) {
		if (it->binary) {
			item_free(it);
			ev->kind = CONN_EV_LINE_LONG;
			return 0;
		}
		return item_to_event(it, ev, CONN_EV_LINE);
	}
	c->stdin_eof_told = 1;
	ev->kind = CONN_EV_EOF;
	return 0;
}

/* The index of a watched descriptor that is ready, or -1. */
static int
watch_ready(struct conn *c)
{
	for (int i = 0; i < CONN_WATCH_MAX; i++)
		if (c->watch_fd[i] >= 0 && c->watch_ready[i])
			return i;
	return -1;
}

/* Polls the watched descriptors not yet told ready again. */
static void
watch_want(struct conn *c)
{
	for (int i = 0; i < CONN_WATCH_MAX; i++)
		if (c->watch_wsi[i] != NULL && !c->watch_ready[i])
			lws_rx_flow_control(c->watch_wsi[i], 1);
}

/* 1 when conn_wait() has something to hand out, else 0. */
static int
ready(struct conn *c, int flags)
{
	if (watch_ready(c) >= 0 || c->in.head != NULL ||
	    (c->kept.head != NULL && !(flags & CONN_KEEP_FRAMES)))
		return 1;
	if ((flags & CONN_WANT_STDIN) && c->stdin_watched &&
	    (c->lines.head != NULL || (c->stdin_eof && !c->stdin_eof_told)))
		return 1;
	return 0;
}

int
conn_wait(struct conn *c, struct conn_event *ev, int flags, int timeout_ms)
{
	struct item *it;
	json_t *f;
	int rc = 0;

	memset(ev, 0, sizeof(*ev));
	arm(c, timeout_ms);
	watch_want(c);
	for (;;) {
		stdin_want(c, (flags & CONN_WANT_STDIN) &&
		    c->lines.head == NULL);
		if ((flags & CONN_WANT_STDIN) && c->stdin_hup)
			stdin_after_hup(c);
		if (!ready(c, flags)) {
			if (c->closed) {
				rc = OFR_E_CONN;
				break;
			}
			if ((rc = turn(c)) != 0)
				break;
			continue;
		}
		if ((ev->watch = watch_ready(c)) >= 0) {
			c->watch_ready[ev->watch] = 0;
			ev->kind = CONN_EV_WATCH;
			ev->watch = c->watch_fd[ev->watch];
			break;
		}
		if (!(flags & CONN_KEEP_FRAMES) &&
		    (it = q_pop(&c->kept)) != NULL) {
			c->nkept--;
			if (c->raw) {
				rc = item_to_event(it, ev, CONN_EV_FRAME);
				break;
			}
			ev->kind = CONN_EV_FRAME;
			ev->frame = parse_frame(it->data, it->len);
			item_free(it);
			if (ev->frame == NULL)
				rc = OFR_E_NOMEM;	/* it parsed once */
			break;
		}
		if ((flags & CONN_WANT_STDIN) && (c->lines.head != NULL ||
		    (c->stdin_eof && !c->stdin_eof_told))) {
			rc = stdin_event(c, ev);
			break;
		}
		if (c->raw) {
			rc = item_to_event(q_pop(&c->in), ev, CONN_EV_FRAME);
			break;
		}
		if ((rc = next_frame(c, &f)) != 0)
			break;
		if (f != NULL && (flags & CONN_KEEP_FRAMES)) {
			if ((rc = keep(c, f)) != 0)
				break;
			continue;
		}
		if (f != NULL) {
			ev->kind = CONN_EV_FRAME;
			ev->frame = f;
			break;
		}
	}
	disarm(c);
	stdin_want(c, 0);
	return rc;
}

json_t *
conn_take_kept(struct conn *c, const char *type)
{
	struct item *it, *prev = NULL;
	json_t *f;

	/* one frame parsed at a time */
	for (it = c->kept.head; it != NULL; prev = it, it = it->next) {
		const char *t;

		if ((f = parse_frame(it->data, it->len)) == NULL)
			continue;
		t = json_string_value(json_object_get(f, "type"));
		if (t == NULL || strcmp(t, type) != 0 ||
		    json_object_get(f, "re") != NULL) {
			json_decref(f);
			continue;
		}
		if (prev == NULL)
			c->kept.head = it->next;
		else
			prev->next = it->next;
		if (c->kept.tail == it)
			c->kept.tail = prev;
		c->kept.bytes -= it->len;
		c->nkept--;
		item_free(it);
		return f;
	}
	return NULL;
}

int
conn_watch_stdin_raw(struct conn *c)
{
	c->stdin_raw = 1;
	return conn_watch_stdin(c, STDIN_CHUNK);
}

void
conn_unwatch_stdin(struct conn *c)
{
	if (c == NULL || !c->stdin_watched)
		return;
	if (c->stdin_wsi != NULL)	/* lws closes our dup of fd 0 */
		lws_set_timeout(c->stdin_wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_SYNC);
	c->stdin_wsi = NULL;
	c->stdin_fd = -1;
	c->stdin_watched = c->stdin_on = c->stdin_raw = 0;
	c->stdin_eof = c->stdin_eof_told = c->stdin_hup = 0;
	free(c->lbuf);
	c->lbuf = NULL;
	c->llen = 0;
	c->ldrop = 0;
	q_clear(&c->lines);
}

int
conn_watch_fd(struct conn *c, int fd)
{
	lws_sock_file_fd_type u;
	int i, dup_fd;

	for (i = 0; i < CONN_WATCH_MAX && c->watch_fd[i] >= 0; i++)
		;
	if (i == CONN_WATCH_MAX)
		return OFR_E_LIMIT;
	/* a dup: lws closes it when it is done with it */
	if ((dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return OFR_E_IO;
	memset(&u, 0, sizeof(u));
	u.filefd = dup_fd;
	c->watch_wsi[i] = lws_adopt_descriptor_vhost(lws_get_vhost_by_name(
	    c->ctx, "default"), LWS_ADOPT_RAW_FILE_DESC, u, WATCH_PROTOCOL,
	    NULL);
	if (c->watch_wsi[i] == NULL)
		return OFR_E_IO;	/* lws closed dup_fd */
	c->watch_fd[i] = fd;
	c->watch_ready[i] = 0;
	return 0;
}

void
conn_unwatch_fd(struct conn *c, int fd)
{
	if (c == NULL)
		return;
	for (int i = 0; i < CONN_WATCH_MAX; i++) {
		if (c->watch_fd[i] != fd)
			continue;
		if (c->watch_wsi[i] != NULL)
			lws_set_timeout(c->watch_wsi[i],
			    PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
		c->watch_wsi[i] = NULL;
		c->watch_fd[i] = -1;
		c->watch_ready[i] = 0;
	}
}

int
conn_watching(const struct conn *c, int fd)
{
	for (int i = 0; c != NULL && i < CONN_WATCH_MAX; i++)
		if (c->watch_fd[i] == fd)
			return 1;
	return 0;
}

int
conn_is_closed(const struct conn *c)
{
	return c == NULL || c->closed;
}

int
conn_dropped(const struct conn *c)
{
	return c != NULL && c->dropped;
}

int
conn_has_frames(const struct conn *c)
{
	return c->kept.head != NULL || c->in.head != NULL;
}

void
conn_event_clear(struct conn_event *ev)
{
	json_decref(ev->frame);
	free(ev->data);
	memset(ev, 0, sizeof(*ev));
}
