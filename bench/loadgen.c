/*
 * loadgen.c: the load generator of bench/load.sh (issue 16). One thread,
 * one epoll loop, many non-blocking connections, and its own RFC 6455
 * client (handshake, masked frames), over TCP or, with --tls, over TLS
 * with OpenSSL (wss://; the certificate is not checked: loopback, a
 * benchmark). It speaks offramp's protocol (text frames of JSON,
 * login by a signed challenge) or MQTT 3.1.1 over WebSocket (binary
 * frames, QoS 1), so that the same work runs against offramp-server and
 * Mosquitto. It owns the sockets it opens and nothing else: it never
 * reads a server's files, except /proc for the RSS and CPU time of the
 * servers it is told about (--pid; two nodes of one store with --port2)
 * and of PostgreSQL's processes (--pg-pid).
 *
 * Each measurement prints one line "result key=value ..." (load.sh reads
 * it), with gen_cpu, the generator's own CPU time over the measured
 * seconds as a share of one core, so a reader sees it is not the limit,
 * and (given --pid) the server's: server_cpu, a share of one core, and
 * server_us_per_msg, its CPU microseconds per copy delivered, which a
 * busy machine disturbs less than the rates (server_us_per_ack: per
 * message acked); given --pg-pid, the same of PostgreSQL's processes
 * (pg_cpu, pg_us_per_ack).
 * Figures only: nothing here asserts anything about time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "proto/cert.h"
#include "proto/ocrypto.h"

#define CT_BYTES	1024	/* one message copy, as a client pads it */
#define CT_B64		(((CT_BYTES + 2) / 3) * 4)
#define STAMP_BYTES	12	/* send time (8) and pair (4), first in ct */
#define STAMP_B64	16
#define WIN_SLOTS	1024	/* send times by request id; window < this */
#define WIN_MAX		256
#define KEY_B64		45	/* 32 bytes in base64, NUL */

enum target { T_OFR, T_MQTT };
enum state { S_CONNECTING, S_HANDSHAKE, S_OPEN, S_CLOSED };
enum role { R_NONE, R_ADMIN, R_COUNS, R_CLIENT, R_IDLE, R_LOGIN };

struct conn {
	int		fd;
	SSL		*ssl;		/* --tls: NULL until connected */
	int		tls_up;		/* its handshake is done */
	enum state	state;
	enum role	role;
	int		idx;		/* pair, or slot */
	int		ready;		/* logged in (offramp), CONNACK/SUBACK */
	int		failed;
	uint8_t		*rx, *tx, *msg, *mq;
	size_t		rxlen, rxcap, txoff, txlen, txcap;
	size_t		msglen, msgcap, mqlen, mqcap;
	int		msgop;
	uint64_t	next_id;	/* offramp request id, MQTT packet id */
	int		inflight;
	uint64_t	*times;		/* WIN_SLOTS send times, or NULL */
	/* offramp */
	uint8_t		pk[32], sk[64];
	char		key[KEY_B64], peer[KEY_B64];
	int64_t		case_id;
	const char	*invite;	/* redeem instead of login */
	json_t		*reply;		/* the last answer, for rpc() */
	uint64_t	reply_re;
	uint32_t	seqs[WIN_MAX];
	int		nseqs, ack_inflight;
	double		ack_tokens;	/* --read-rate: copies it may ack */
	uint64_t	ack_t;		/* when they were counted */
	uint64_t	t_start;	/* connect time (logins) */
};

/* ------------------------------------------------------------- options */

static enum target target = T_OFR;
static const char *host = "127.0.0.1";
static int port, pairs = 1, window = 1, secs = 3, conc = 32;
static double warm = 1.0, rate = 0;
static double read_rate;	/* copies a recipient acks a second; 0: all */
#define PIDS_MAX	8
static int server_pids[PIDS_MAX], nserver_pids;	/* --pid: the nodes */
static int pg_pid;		/* --pg-pid: PostgreSQL's postmaster */
static int port2;		/* --port2: a second node of the same store */
static const char *token, *state_path, *conns_list = "1000";
static int idle_n;		/* --idle: relay and latency */

static int ep;
static struct conn **all;
static int nall, capall;

/* counters of the whole run; snapshots mark the measured seconds */
static uint64_t n_sent, n_acked, n_deliv, n_errors, n_logins, n_receipts;
static uint64_t n_leftover, t_run0;	/* copies sent before this run */
/* copies the recipients' msg.ack deleted; the store's backlog is what was
 * committed (answered or pushed: a push leaves after the commit, so the
 * larger count) less what was deleted */
static uint64_t n_deleted;
static int measuring;
static uint32_t *lat_ack, *lat_del;	/* microseconds, while measuring */
static size_t nlat_ack, nlat_del, caplat_ack, caplat_del;
static uint8_t ct_raw[CT_BYTES];
static char ct_b64[CT_B64 + 1];
static uint8_t mid_prefix[8];
static uint64_t mid_ctr;
static int quiet_errors;
static int n_ready[R_LOGIN + 1], n_failed;
static SSL_CTX *tls_ctx;	/* --tls */

static void
set_ready(struct conn *c)
{
	if (!c->ready)
		n_ready[c->role]++;
	c->ready = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		die("out of memory");
	return p;
}

/* Grows *buf (cap *cap) to hold need bytes. */
static void
grow(uint8_t **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 4096;

	if (need <= *cap)
		return;
	while (n < need)
		n *= 2;
	*buf = xrealloc(*buf, n);
	*cap = n;
}

static void
lat_add(uint32_t **a, size_t *n, size_t *cap, uint64_t ns)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 65536;
		*a = xrealloc(*a, *cap * sizeof(**a));
	}
	(*a)[(*n)++] = (uint32_t)(ns / 1000);
}

/* CPU seconds (user + system) of this process, or of pid from /proc. */
static double
cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* From /proc/PID/stat: the CPU seconds (user + system) of pid itself in
 * *own, of its children it has waited for in *reaped, and its parent in
 * *ppid. -1 when pid is gone. */
static int
proc_stat(int pid, double *own, double *reaped, int *ppid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	long cut, cst;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
	    "%ld %ld", ppid, &ut, &st, &cut, &cst) != 5)
		return -1;
	*own = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	*reaped = (double)(cut + cst) / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

/* The CPU seconds of the servers of --pid (a list: the nodes, summed). */
static double
cpu_servers(void)
{
	double own, reaped, sum = 0;
	int i, ppid;

	for (i = 0; i < nserver_pids; i++)
		if (proc_stat(server_pids[i], &own, &reaped, &ppid) == 0)
			sum += own;
	return sum;
}

/* The CPU seconds of the PostgreSQL cluster of --pg-pid (its postmaster):
 * the postmaster's, those of its children now running (walwriter,
 * checkpointer, one backend per connection of the servers...), and those
 * of its children gone (reaped). 0 without --pg-pid. */
static double
cpu_pg(void)
{
	double own, reaped, sum;
	struct dirent *e;
	int pid, ppid;
	DIR *d;

	if (pg_pid <= 0 || proc_stat(pg_pid, &own, &reaped, &ppid) != 0)
		return 0;
	sum = own + reaped;
	if ((d = opendir("/proc")) == NULL)
		return sum;
	while ((e = readdir(d)) != NULL) {
		if ((pid = atoi(e->d_name)) <= 0 || pid == pg_pid)
			continue;
		if (proc_stat(pid, &own, &reaped, &ppid) == 0 &&
		    ppid == pg_pid)
			sum += own + reaped;
	}
	closedir(d);
	return sum;
}

/* VmRSS of pid in kB, or 0. */
static long
rss_kb(int pid)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ------------------------------------------------------ the connection */

static void conn_writable(struct conn *c);

static struct conn *
conn_open(enum role role, int idx)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };
	uint8_t nonce[16];
	char key[32], req[512];
	static int nlogins;
	int one = 1, n, to = port;

	if (c == NULL)
		die("out of memory");
	/* --port2: the recipients on the second node, the logins on both in
	 * turn */
	if (port2 > 0 && (role == R_COUNS ||
	    (role == R_LOGIN && nlogins++ % 2 == 1)))
		to = port2;
	c->role = role;
	c->idx = idx;
	c->next_id = 1;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (role == R_LOGIN) {
		/* many short connections: a reset at close, no TIME_WAIT */
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	sa.sin_port = htons((uint16_t)to);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
	    errno != EINPROGRESS)
		die("connect: %s", strerror(errno));
	c->state = S_CONNECTING;
	randombytes_buf(nonce, sizeof(nonce));
	sodium_bin2base64(key, sizeof(key), nonce, sizeof(nonce),
	    sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Protocol: %s\r\n\r\n", host, to, key,
	    target == T_OFR ? "offramp.v1" : "mqtt");
	grow(&c->tx, &c->txcap, (size_t)n);
	memcpy(c->tx, req, (size_t)n);
	c->txlen = (size_t)n;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		die("epoll_ctl: %s", strerror(errno));
	if (nall == capall) {
		capall = capall ? capall * 2 : 1024;
		all = xrealloc(all, (size_t)capall * sizeof(*all));
	}
	all[nall++] = c;
	return c;
}

/* Closes c's socket; the struct stays (in all[]) until conn_free. */
static void
conn_close(struct conn *c)
{
	if (c->state == S_CLOSED)
		return;
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->state = S_CLOSED;
}

static void
conn_free(struct conn *c)
{
	conn_close(c);
	free(c->rx);
	free(c->tx);
	free(c->msg);
	free(c->mq);
	free(c->times);
	json_decref(c->reply);
	sodium_memzero(c->sk, sizeof(c->sk));
	free(c);
}

/* Frees the closed connections and forgets them. */
static void
reap(void)
{
	int i, j = 0;

	for (i = 0; i < nall; i++) {
		if (all[i]->state == S_CLOSED)
			conn_free(all[i]);
		else
			all[j++] = all[i];
	}
	nall = j;
}

static void
conn_fail(struct conn *c, const char *why)
{
	if (!c->failed && !quiet_errors)
		fprintf(stderr, "loadgen: connection %d: %s\n", c->idx, why);
	c->failed = 1;
	n_failed++;
	n_errors++;
	conn_close(c);
}

/* Queues one masked WebSocket frame of opcode op. */
static void
ws_send(struct conn *c, int op, const void *payload, size_t len)
{
	const uint8_t *p = payload;
	uint8_t *h, mask[4];
	uint32_t m;
	size_t i, hl = 2;

	if (c->state == S_CLOSED)
		return;
	if (c->txoff > 0 && c->txoff == c->txlen)
		c->txoff = c->txlen = 0;
	grow(&c->tx, &c->txcap, c->txlen + len + 14);
	h = c->tx + c->txlen;
	h[0] = (uint8_t)(0x80 | op);
	if (len < 126) {
		h[1] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		h[1] = 0x80 | 126;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		hl = 4;
	} else {
		h[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
		hl = 10;
	}
	m = randombytes_random();
	memcpy(mask, &m, 4);
	memcpy(h + hl, mask, 4);
	hl += 4;
	for (i = 0; i < len; i++)
		h[hl + i] = p[i] ^ mask[i & 3];
	c->txlen += hl + len;
	if (c->state == S_OPEN)
		conn_writable(c);
}

/* read(2) and write(2), or their TLS counterparts: what was moved, 0 at
 * the end of the stream, or -1 with errno (EAGAIN: try when the socket
 * says so). */
static ssize_t
tls_result(struct conn *c, int n)
{
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		ERR_clear_error();
		errno = ECONNRESET;
		return -1;
	}
}

static ssize_t
io_read(struct conn *c, void *buf, size_t n)
{
	int r;

	if (c->ssl == NULL)
		return read(c->fd, buf, n);
	r = SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
	return r > 0 ? r : tls_result(c, r);
}

static ssize_t
io_write(struct conn *c, const void *buf, size_t n)
{
	int r;

	if (c->ssl == NULL)
		return write(c->fd, buf, n);
	r = SSL_write(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
	return r > 0 ? r : tls_result(c, r);
}

/* --tls: the connection is up; starts or goes on with the handshake.
 * 1 once it is done, 0 while it goes on, -1 (c failed). */
static int
tls_step(struct conn *c)
{
	int r;

	if (c->tls_up)
		return 1;
	if (c->ssl == NULL) {
		if ((c->ssl = SSL_new(tls_ctx)) == NULL ||
		    SSL_set_fd(c->ssl, c->fd) != 1)
			die("SSL_new");
		SSL_set_connect_state(c->ssl);
	}
	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		c->tls_up = 1;
		return 1;
	}
	if (tls_result(c, r) < 0 && errno == EAGAIN)
		return 0;
	conn_fail(c, "TLS handshake failed");
	return -1;
}

static void
conn_writable(struct conn *c)
{
	ssize_t n;

	if (tls_ctx != NULL && !c->tls_up)
		return;
	while (c->txoff < c->txlen) {
		n = io_write(c, c->tx + c->txoff, c->txlen - c->txoff);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_fail(c, strerror(errno));
			return;
		}
		c->txoff += (size_t)n;
	}
	c->txoff = c->txlen = 0;
}

/* ----------------------------------------------------- offramp frames */

/* The value after "key": in a compact JSON text p of n bytes, or NULL. */
static const char *
jval(const char *p, size_t n, const char *key)
{
	char pat[40];
	int k = snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *v = memmem(p, n, pat, (size_t)k);

	return v != NULL ? v + k : NULL;
}

static int
jtype_is(const char *p, size_t n, const char *type)
{
	const char *v = jval(p, n, "type");
	size_t l = strlen(type);

	return v != NULL && v[0] == '"' && (size_t)(p + n - v) > l + 1 &&
	    memcmp(v + 1, type, l) == 0 && v[1 + l] == '"';
}

static uint64_t
jnum(const char *p, size_t n, const char *key)
{
	const char *v = jval(p, n, key);

	return v != NULL ? strtoull(v, NULL, 10) : 0;
}

static void
ofr_send(struct conn *c, const char *text, size_t len)
{
	ws_send(c, 1, text, len);
}

static void
ofr_sendf(struct conn *c, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		die("frame too long");
	ofr_send(c, buf, (size_t)n);
}

static void
b64(char *out, size_t cap, const uint8_t *in, size_t n)
{
	sodium_bin2base64(out, cap, in, n, sodium_base64_VARIANT_ORIGINAL);
}

/* The keys of account i of a role, the same in every run (bench only). */
static void
seed_keys(struct conn *c, const char *role, int i)
{
	uint8_t seed[32];
	char s[64];

	snprintf(s, sizeof(s), "offramp-bench %s %d", role, i);
	crypto_generichash(seed, sizeof(seed), (const uint8_t *)s, strlen(s),
	    NULL, 0);
	crypto_sign_seed_keypair(c->pk, c->sk, seed);
	b64(c->key, sizeof(c->key), c->pk, 32);
}

static void
fresh_keys(struct conn *c)
{
	crypto_sign_keypair(c->pk, c->sk);
	b64(c->key, sizeof(c->key), c->pk, 32);
}

static void
on_challenge(struct conn *c, const char *p, size_t n)
{
	const char *nv = jval(p, n, "nonce"), *kv = jval(p, n, "server_key");
	uint8_t nonce[32], spk[32], sig[64];
	char sigb[96];
	size_t l;

	if (nv == NULL || kv == NULL ||
	    sodium_base642bin(nonce, 32, nv + 1, 44, NULL, &l, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || l != 32 ||
	    sodium_base642bin(spk, 32, kv + 1, 44, NULL, &l, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || l != 32) {
		conn_fail(c, "bad challenge");
		return;
	}
	ocrypto_login_sign(sig, c->sk, spk, nonce);
	b64(sigb, sizeof(sigb), sig, 64);
	if (c->invite != NULL)
		ofr_sendf(c, "{\"v\":1,\"type\":\"redeem\",\"id\":%" PRIu64
		    ",\"invite\":\"%s\",\"key\":\"%s\",\"sig\":\"%s\","
		    "\"name\":\"bench-%d\"}", c->next_id++, c->invite, c->key,
		    sigb, c->idx);
	else
		ofr_sendf(c, "{\"v\":1,\"type\":\"login\",\"id\":%" PRIu64
		    ",\"role\":\"%s\",\"key\":\"%s\",\"sig\":\"%s\"}",
		    c->next_id++, c->role == R_COUNS ? "counsellor" :
		    c->role == R_ADMIN ? "admin" : "client", c->key, sigb);
}

static void ofr_ready(struct conn *c);
static void pump(struct conn *c);

/* Acks what c has read, one msg.ack at a time; with --read-rate, no
 * more than read_rate copies a second (a slow reader: run_for calls
 * again for the rest). */
static void
ack_flush(struct conn *c)
{
	char buf[4096];
	int i, k, n;
	uint64_t t;

	if (c->ack_inflight || c->nseqs == 0)
		return;
	k = c->nseqs;
	if (read_rate > 0) {
		t = now_ns();
		if (c->ack_t == 0)
			c->ack_t = t;
		c->ack_tokens += (double)(t - c->ack_t) * read_rate / 1e9;
		c->ack_t = t;
		if (c->ack_tokens > WIN_MAX)
			c->ack_tokens = WIN_MAX;
		if (c->ack_tokens < 1)
			return;
		if (k > (int)c->ack_tokens)
			k = (int)c->ack_tokens;
		c->ack_tokens -= k;
	}
	n = snprintf(buf, sizeof(buf), "{\"v\":1,\"type\":\"msg.ack\",\"id\":%"
	    PRIu64 ",\"seqs\":[", c->next_id++);
	for (i = 0; i < k; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s%" PRIu32,
		    i ? "," : "", c->seqs[i]);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "]}");
	memmove(c->seqs, c->seqs + k, (size_t)(c->nseqs - k) *
	    sizeof(c->seqs[0]));
	c->nseqs -= k;
	c->ack_inflight = 1;
	ofr_send(c, buf, (size_t)n);
}

/* The send time stamped into a copy's first bytes (base64 at ct). */
static uint64_t
stamp_of(const char *ct)
{
	uint8_t raw[STAMP_BYTES];
	uint64_t t;
	size_t l;

	if (sodium_base642bin(raw, sizeof(raw), ct, STAMP_B64, NULL, &l, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || l != STAMP_BYTES)
		return 0;
	memcpy(&t, raw, 8);
	return t;
}

static void
on_ofr_text(struct conn *c, const char *p, size_t n)
{
	uint64_t re, t;
	const char *v;

	if (jtype_is(p, n, "msg")) {
		if ((v = jval(p, n, "seq")) == NULL)
			return;
		if (c->nseqs < WIN_MAX)
			c->seqs[c->nseqs++] = (uint32_t)strtoul(v, NULL, 10);
		t = (v = jval(p, n, "ct")) != NULL ? stamp_of(v + 1) : 0;
		if (t < t_run0) {
			n_leftover++;	/* left unacked by an earlier run */
			return;
		}
		n_deliv++;
		if (measuring)
			lat_add(&lat_del, &nlat_del, &caplat_del, now_ns() - t);
		return;		/* acked after the whole read: ack_flush */
	}
	if (jtype_is(p, n, "msg.send.ok")) {
		re = jnum(p, n, "re");
		c->inflight--;
		n_acked++;
		if (measuring && c->times != NULL)
			lat_add(&lat_ack, &nlat_ack, &caplat_ack,
			    now_ns() - c->times[re % WIN_SLOTS]);
		pump(c);
		return;
	}
	if (jtype_is(p, n, "msg.ack.ok")) {
		n_deleted += jnum(p, n, "acked");
		c->ack_inflight = 0;
		ack_flush(c);
		return;
	}
	if (jtype_is(p, n, "msg.delivered")) {
		n_receipts++;
		return;
	}
	if (jtype_is(p, n, "challenge")) {
		on_challenge(c, p, n);
		return;
	}
	if (jtype_is(p, n, "login.ok") || jtype_is(p, n, "redeem.ok")) {
		json_decref(c->reply);
		c->reply = json_loadb(p, n, 0, NULL);
		c->reply_re = jnum(p, n, "re");
		ofr_ready(c);
		return;
	}
	if (jtype_is(p, n, "error")) {
		n_errors++;
		if (n_errors <= 5 && !quiet_errors)
			fprintf(stderr, "loadgen: %s %d: %.*s\n",
			    c->role == R_COUNS ? "counsellor" : "connection",
			    c->idx, (int)(n > 300 ? 300 : n), p);
		if (jtype_is(p, n, "error") && (v = jval(p, n, "re")) != NULL &&
		    c->inflight > 0 && c->role == R_CLIENT && c->times != NULL)
			c->inflight--;	/* a refused msg.send */
	}
	if (jval(p, n, "re") != NULL) {	/* any other answer: for rpc() */
		json_decref(c->reply);
		c->reply = json_loadb(p, n, 0, NULL);
		c->reply_re = jnum(p, n, "re");
	}
}

/* ------------------------------------------------------- MQTT packets */

static size_t
mq_varint(uint8_t *out, size_t n)
{
	size_t i = 0;

	do {
		out[i] = (uint8_t)(n & 127);
		n >>= 7;
		if (n)
			out[i] |= 128;
		i++;
	} while (n);
	return i;
}

/* One MQTT packet (type byte b0, body) in one binary frame. */
static void
mq_send(struct conn *c, uint8_t b0, const uint8_t *body, size_t len)
{
	uint8_t buf[CT_BYTES + 128];
	size_t h;

	buf[0] = b0;
	h = 1 + mq_varint(buf + 1, len);
	if (h + len > sizeof(buf))
		die("MQTT packet too long");
	memcpy(buf + h, body, len);
	ws_send(c, 2, buf, h + len);
}

static void
mq_connect(struct conn *c)
{
	uint8_t b[64];
	char id[24];
	size_t n = 0, l;

	l = (size_t)snprintf(id, sizeof(id), "b%c%d-%u",
	    c->role == R_COUNS ? 'r' : 's', c->idx, randombytes_random() % 100000);
	memcpy(b, "\0\4MQTT\4\2\0\0", 10);	/* level 4, clean, no keepalive */
	n = 10;
	b[n++] = 0;
	b[n++] = (uint8_t)l;
	memcpy(b + n, id, l);
	n += l;
	mq_send(c, 0x10, b, n);
}

static void mq_ready(struct conn *c);

static void
on_mq_packet(struct conn *c, uint8_t b0, const uint8_t *p, size_t n)
{
	size_t tl;
	uint64_t t;
	unsigned pid;

	switch (b0 >> 4) {
	case 3:		/* PUBLISH */
		if (n < 2)
			return;
		tl = (size_t)p[0] << 8 | p[1];
		if (2 + tl + 2 > n)
			return;
		pid = (unsigned)p[2 + tl] << 8 | p[3 + tl];
		n_deliv++;
		if (measuring && n >= 4 + tl + 8) {
			memcpy(&t, p + 4 + tl, 8);
			lat_add(&lat_del, &nlat_del, &caplat_del, now_ns() - t);
		}
		if ((b0 & 6) != 0) {
			/* PUBACKs of one read go out together: see mq_flush */
			if (c->nseqs < WIN_MAX)
				c->seqs[c->nseqs++] = pid;
		}
		return;
	case 4:		/* PUBACK */
		if (n < 2)
			return;
		pid = (unsigned)p[0] << 8 | p[1];
		c->inflight--;
		n_acked++;
		if (measuring && c->times != NULL)
			lat_add(&lat_ack, &nlat_ack, &caplat_ack,
			    now_ns() - c->times[pid % WIN_SLOTS]);
		pump(c);
		return;
	case 2:		/* CONNACK */
		if (n < 2 || p[1] != 0) {
			conn_fail(c, "CONNACK refused");
			return;
		}
		mq_ready(c);
		return;
	case 9:		/* SUBACK */
		set_ready(c);
		return;
	default:
		return;
	}
}

/* The PUBACKs of one read, in one frame (MQTT over WebSocket allows
 * several packets per frame), as an offramp recipient acks a read's
 * pushes in one msg.ack. */
static void
mq_flush(struct conn *c)
{
	uint8_t buf[WIN_MAX * 4];
	int i;

	for (i = 0; i < c->nseqs; i++) {
		buf[4 * i] = 0x40;
		buf[4 * i + 1] = 2;
		buf[4 * i + 2] = (uint8_t)(c->seqs[i] >> 8);
		buf[4 * i + 3] = (uint8_t)c->seqs[i];
	}
	if (c->nseqs > 0)
		ws_send(c, 2, buf, (size_t)c->nseqs * 4);
	c->nseqs = 0;
}

/* Parses the MQTT byte stream of c (WebSocket frames carry pieces). */
static void
mq_feed(struct conn *c, const uint8_t *p, size_t n)
{
	size_t off = 0, len, i, h;
	int mul;

	grow(&c->mq, &c->mqcap, c->mqlen + n);
	memcpy(c->mq + c->mqlen, p, n);
	c->mqlen += n;
	for (;;) {
		if (c->mqlen - off < 2)
			break;
		len = 0;
		mul = 1;
		for (i = 1; i < 5 && off + i < c->mqlen; i++) {
			len += (size_t)(c->mq[off + i] & 127) * (size_t)mul;
			mul *= 128;
			if (!(c->mq[off + i] & 128))
				break;
		}
		if (i == 5 || off + i >= c->mqlen)
			break;
		h = i + 1;
		if (c->mqlen - off < h + len)
			break;
		on_mq_packet(c, c->mq[off], c->mq + off + h, len);
		if (c->state == S_CLOSED)
			return;
		off += h + len;
	}
	memmove(c->mq, c->mq + off, c->mqlen - off);
	c->mqlen -= off;
}

/* ------------------------------------------------------- reading */

static void
on_message(struct conn *c, int op, const uint8_t *p, size_t n)
{
	if (target == T_OFR) {
		if (op == 1)
			on_ofr_text(c, (const char *)p, n);
	} else {
		mq_feed(c, p, n);
	}
}

static void
on_open(struct conn *c)
{
	c->state = S_OPEN;
	if (target == T_MQTT)
		mq_connect(c);
	/* offramp: the server speaks first (challenge) */
}

/* Parses what c has read: the handshake answer, then frames. */
static void
parse(struct conn *c)
{
	size_t off = 0, len, hl;
	uint8_t *f;
	int op, fin;

	if (c->state == S_HANDSHAKE) {
		uint8_t *e = memmem(c->rx, c->rxlen, "\r\n\r\n", 4);

		if (e == NULL)
			return;
		if (c->rxlen < 12 || memcmp(c->rx + 9, "101", 3) != 0) {
			conn_fail(c, "handshake refused");
			return;
		}
		off = (size_t)(e + 4 - c->rx);
		on_open(c);
	}
	while (c->state == S_OPEN && c->rxlen - off >= 2) {
		f = c->rx + off;
		fin = f[0] & 0x80;
		op = f[0] & 15;
		len = f[1] & 127;
		hl = 2;
		if (len == 126) {
			if (c->rxlen - off < 4)
				break;
			len = (size_t)f[2] << 8 | f[3];
			hl = 4;
		} else if (len == 127) {
			if (c->rxlen - off < 10)
				break;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | f[2 + i];
			hl = 10;
		}
		if (f[1] & 0x80)
			hl += 4;	/* a server does not mask; skip it */
		if (c->rxlen - off < hl + len)
			break;
		off += hl + len;
		if (op >= 8) {
			if (op == 9)
				ws_send(c, 10, f + hl, len);
			else if (op == 8)
				conn_close(c);
			continue;
		}
		if (op != 0 && fin && c->msglen == 0) {
			on_message(c, op, f + hl, len);
			continue;
		}
		if (op != 0)
			c->msgop = op;
		grow(&c->msg, &c->msgcap, c->msglen + len);
		memcpy(c->msg + c->msglen, f + hl, len);
		c->msglen += len;
		if (fin) {
			on_message(c, c->msgop, c->msg, c->msglen);
			c->msglen = 0;
		}
	}
	if (c->state == S_CLOSED)
		return;
	memmove(c->rx, c->rx + off, c->rxlen - off);
	c->rxlen -= off;
	/* what this read asked for, in one frame */
	if (target == T_OFR)
		ack_flush(c);
	else
		mq_flush(c);
}

static void
conn_readable(struct conn *c)
{
	ssize_t n;

	for (;;) {
		grow(&c->rx, &c->rxcap, c->rxlen + 65536);
		n = io_read(c, c->rx + c->rxlen, c->rxcap - c->rxlen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_fail(c, strerror(errno));
			return;
		}
		if (n == 0) {
			if (c->role == R_LOGIN && c->ready)
				conn_close(c);
			else
				conn_fail(c, "closed by the server");
			return;
		}
		c->rxlen += (size_t)n;
	}
	parse(c);
}

/* One turn of the loop: at most timeout_ms of waiting. */
static void
loop_once(int timeout_ms)
{
	struct epoll_event ev[256];
	int i, n;

	n = epoll_wait(ep, ev, 256, timeout_ms);
	for (i = 0; i < n; i++) {
		struct conn *c = ev[i].data.ptr;

		if (c->state == S_CLOSED)
			continue;
		if (c->state == S_CONNECTING && (ev[i].events & EPOLLOUT)) {
			int err = 0;
			socklen_t l = sizeof(err);

			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
			if (err != 0) {
				conn_fail(c, strerror(err));
				continue;
			}
			c->state = S_HANDSHAKE;
		}
		if (ev[i].events & (EPOLLERR | EPOLLHUP) &&
		    !(ev[i].events & EPOLLIN)) {
			conn_fail(c, "socket error");
			continue;
		}
		if (tls_ctx != NULL && c->state != S_CONNECTING &&
		    !c->tls_up) {
			if (tls_step(c) != 1)
				continue;
			conn_writable(c);	/* the upgrade request */
		}
		if (ev[i].events & EPOLLOUT)
			conn_writable(c);
		if (c->state != S_CLOSED && (ev[i].events & EPOLLIN))
			conn_readable(c);
	}
}

/* Connections of each role that became ready, and that failed. */
static int
count_ready(enum role role)
{
	return n_ready[role];
}

/* Runs the loop until want connections of role are ready, or die. */
static void
wait_ready(enum role role, int want, double limit_s)
{
	uint64_t end = now_ns() + (uint64_t)(limit_s * 1e9);

	while (count_ready(role) < want) {
		if (now_ns() > end)
			die("only %d of %d connections ready after %.0f s",
			    count_ready(role), want, limit_s);
		loop_once(50);
	}
}

/* Sends one request on c and runs the loop until its answer; returns the
 * answer (owned by c until the next rpc) or dies on an error answer. */
static json_t *
rpc(struct conn *c, const char *fmt, ...)
{
	char buf[4096], body[4000];
	uint64_t id = c->next_id++, end = now_ns() + 30000000000u;
	const char *type;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	n = snprintf(buf, sizeof(buf), "{\"v\":1,\"id\":%" PRIu64 ",%s}", id,
	    body);
	ofr_send(c, buf, (size_t)n);
	while (c->reply_re != id) {
		if (c->state == S_CLOSED || now_ns() > end)
			die("no answer to %s", body);
		loop_once(50);
	}
	type = json_string_value(json_object_get(c->reply, "type"));
	if (type == NULL || strcmp(type, "error") == 0)
		die("%s: %s", body, json_dumps(c->reply, JSON_COMPACT));
	return c->reply;
}

/* ---------------------------------------------------- relay (pairs) */

struct pair {
	struct conn	*snd, *rcv;
	int64_t		case_id;
	int		couns;		/* seed index of the counsellor */
	char		to[KEY_B64];
	char		topic[16];
};
static struct pair *pr;
static int paced;		/* latency mode: pump() sends nothing */

/* One message from pair p's sender. */
static void
send_one(struct conn *c)
{
	struct pair *p = &pr[c->idx];
	static char buf[CT_B64 + 512];
	uint8_t stamp[STAMP_BYTES], mid[16];
	uint64_t t = now_ns(), id;
	uint32_t who = (uint32_t)c->idx;
	char midb[32], sb[STAMP_B64 + 1];
	int n;

	if (c->state != S_OPEN)
		return;
	memcpy(stamp, &t, 8);
	memcpy(stamp + 8, &who, 4);
	c->inflight++;
	n_sent++;
	if (target == T_OFR) {
		id = c->next_id++;
		c->times[id % WIN_SLOTS] = t;
		memcpy(mid, mid_prefix, 8);
		mid_ctr++;
		memcpy(mid + 8, &mid_ctr, 8);
		b64(midb, sizeof(midb), mid, 16);
		b64(sb, sizeof(sb), stamp, STAMP_BYTES);
		memcpy(ct_b64, sb, STAMP_B64);
		n = snprintf(buf, sizeof(buf), "{\"v\":1,\"type\":\"msg.send\","
		    "\"id\":%" PRIu64 ",\"case\":%" PRId64 ",\"mid\":\"%s\","
		    "\"copies\":[{\"to\":\"%s\",\"ct\":\"", id, p->case_id, midb,
		    p->to);
		memcpy(buf + n, ct_b64, CT_B64);
		n += CT_B64;
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\"}]}");
		ofr_send(c, buf, (size_t)n);
	} else {
		uint8_t *b = (uint8_t *)buf;
		size_t tl = strlen(p->topic), k = 0;

		id = c->next_id++;
		if (c->next_id > 65535)
			c->next_id = 1;
		c->times[id % WIN_SLOTS] = t;
		b[k++] = 0;
		b[k++] = (uint8_t)tl;
		memcpy(b + k, p->topic, tl);
		k += tl;
		b[k++] = (uint8_t)(id >> 8);
		b[k++] = (uint8_t)id;
		memcpy(ct_raw, stamp, STAMP_BYTES);
		memcpy(b + k, ct_raw, CT_BYTES);
		k += CT_BYTES;
		mq_send(c, 0x32, b, k);
	}
}

/* Keeps c's window full (saturation mode). */
static void
pump(struct conn *c)
{
	if (paced || !c->ready)
		return;
	while (c->inflight < window && c->state == S_OPEN)
		send_one(c);
}

static void
ofr_ready(struct conn *c)
{
	set_ready(c);
}

static void
mq_ready(struct conn *c)
{
	uint8_t b[32];
	size_t tl, n = 0;

	if (c->role != R_COUNS) {
		set_ready(c);
		return;
	}
	/* a receiver subscribes to its pair's topic, QoS 1 */
	tl = strlen(pr[c->idx].topic);
	b[n++] = 0;
	b[n++] = 1;		/* packet id 1 */
	b[n++] = 0;
	b[n++] = (uint8_t)tl;
	memcpy(b + n, pr[c->idx].topic, tl);
	n += tl;
	b[n++] = 1;
	mq_send(c, 0x82, b, n);
}

/* Reads the pairs that `setup` wrote: index, case id, counsellor index. */
static void
read_state(void)
{
	FILE *f = fopen(state_path, "r");
	int i, ci;
	int64_t cid;

	if (f == NULL)
		die("cannot read %s: run setup first", state_path);
	for (i = 0; i < pairs; i++) {
		if (fscanf(f, "%*d %" SCNd64 " %d", &cid, &ci) != 2)
			die("%s has fewer than %d pairs", state_path, pairs);
		pr[i].case_id = cid;
		pr[i].couns = ci;
	}
	fclose(f);
}

static void
open_pairs(void)
{
	int i;

	pr = calloc((size_t)pairs, sizeof(*pr));
	if (pr == NULL)
		die("out of memory");
	if (target == T_OFR)
		read_state();
	for (i = 0; i < pairs; i++) {
		snprintf(pr[i].topic, sizeof(pr[i].topic), "b/%d", i);
		pr[i].rcv = conn_open(R_COUNS, i);
		pr[i].snd = conn_open(R_CLIENT, i);
		pr[i].snd->times = calloc(WIN_SLOTS, sizeof(uint64_t));
		if (target == T_OFR) {
			seed_keys(pr[i].snd, "client", i);
			seed_keys(pr[i].rcv, "counsellor", pr[i].couns);
			memcpy(pr[i].to, pr[i].rcv->key, KEY_B64);
		}
	}
	wait_ready(R_COUNS, pairs, 60);
	wait_ready(R_CLIENT, pairs, 60);
}

/* ------------------------------------------------------ measuring */

struct snap {
	uint64_t	t, sent, acked, deliv, receipts, deleted;
	double		cpu, srv, pg;
};

static void
snap(struct snap *s)
{
	s->t = now_ns();
	s->sent = n_sent;
	s->acked = n_acked;
	s->deliv = n_deliv;
	s->receipts = n_receipts;
	s->deleted = n_deleted;
	s->cpu = cpu_self();
	s->srv = cpu_servers();
	s->pg = cpu_pg();
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* " NAME_p50=MS NAME_p99=MS NAME_max=MS" of a sample (sorted here). */
static void
print_pct(const char *name, uint32_t *a, size_t n)
{
	if (n == 0) {
		printf(" %s_p50=nan %s_p99=nan %s_max=nan", name, name, name);
		return;
	}
	qsort(a, n, sizeof(*a), cmp_u32);
	printf(" %s_p50=%.2f %s_p99=%.2f %s_max=%.2f", name,
	    a[n / 2] / 1000.0, name, a[(size_t)((double)n * 0.99)] / 1000.0,
	    name, a[n - 1] / 1000.0);
}

static int open_many(int n, enum role role);

/* Runs the loop for s seconds; in latency mode sends at the fixed rate,
 * round-robin over the pairs, a message skipped (and counted) when its
 * pair has WIN_MAX unanswered. */
static uint64_t n_skipped;

static void slow_acks(void);

static void
run_for(double s)
{
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(s * 1e9), due = 0;
	static int rr;

	while (now_ns() < end) {
		if (paced) {
			uint64_t want = (uint64_t)((double)(now_ns() - t0) *
			    rate / 1e9);

			while (due < want) {
				struct conn *c = pr[rr].snd;

				rr = (rr + 1) % pairs;
				due++;
				if (c->inflight >= WIN_MAX) {
					n_skipped += measuring;
					continue;
				}
				send_one(c);
			}
		}
		loop_once(paced || read_rate > 0 ? 1 : 20);
		slow_acks();
	}
}

/* --read-rate: the slow readers ack what their rate allows by now. */
static void
slow_acks(void)
{
	if (read_rate > 0 && target == T_OFR)
		for (int i = 0; i < pairs; i++)
			if (pr[i].rcv != NULL)
				ack_flush(pr[i].rcv);
}

static void
mode_relay(void)
{
	const char *mode = rate > 0 ? "latency" : "relay";
	double r = rate, dt;
	struct snap a, b;
	uint64_t drain_end;
	int i, busy;

	t_run0 = now_ns();
	/* --idle: connections held, logged in and silent, beside the pairs */
	if (idle_n > 0 && open_many(idle_n, R_IDLE) != 0)
		die("--idle: cannot hold the idle connections");
	open_pairs();
	paced = rate > 0;
	for (i = 0; i < pairs; i++)
		pump(pr[i].snd);
	run_for(warm);
	measuring = 1;
	snap(&a);
	run_for(secs);
	snap(&b);
	measuring = 0;
	/* stop sending; give the recipients at most 3 s for the rest */
	paced = 1;
	rate = 0;
	drain_end = now_ns() + 3000000000u;
	do {
		for (i = busy = 0; i < pairs; i++)
			busy += pr[i].snd->inflight > 0;
		if (!busy && n_deliv >= n_sent)
			break;
		loop_once(read_rate > 0 ? 1 : 20);
		slow_acks();
	} while (now_ns() < drain_end);
	dt = (double)(b.t - a.t) / 1e9;
	printf("result mode=%s target=%s pairs=%d window=%d rate=%.0f "
	    "read_rate=%.0f idle=%d "
	    "secs=%.2f sent_per_s=%.0f acked_per_s=%.0f delivered_per_s=%.0f "
	    "receipts_per_s=%.0f store_backlog_end=%" PRId64 " undelivered_end=%" PRId64 " undelivered_drained=%"
	    PRId64 " leftover=%" PRIu64 " skipped=%" PRIu64 " errors=%" PRIu64
	    " gen_cpu=%.2f server_cpu=%.2f server_us_per_msg=%.0f", mode,
	    target == T_OFR ? "offramp" : "mosquitto", pairs, window, r,
	    read_rate, idle_n, dt,
	    (double)(b.sent - a.sent) / dt, (double)(b.acked - a.acked) / dt,
	    (double)(b.deliv - a.deliv) / dt,
	    (double)(b.receipts - a.receipts) / dt,
	    target == T_OFR ? (int64_t)(b.acked > b.deliv ? b.acked : b.deliv) -
	    ((int64_t)b.deleted - (int64_t)n_leftover) : 0,
	    (int64_t)b.sent - (int64_t)b.deliv,
	    (int64_t)n_sent - (int64_t)n_deliv, n_leftover, n_skipped,
	    n_errors, (b.cpu - a.cpu) / dt, (b.srv - a.srv) / dt,
	    b.deliv > a.deliv ? (b.srv - a.srv) * 1e6 /
	    (double)(b.deliv - a.deliv) : 0.0);
	/* per message acked (stored for good): with two nodes, before
	 * delivery crosses from one to the other, few are delivered */
	printf(" pg_cpu=%.2f server_us_per_ack=%.0f pg_us_per_ack=%.0f",
	    (b.pg - a.pg) / dt, b.acked > a.acked ? (b.srv - a.srv) * 1e6 /
	    (double)(b.acked - a.acked) : 0.0, b.acked > a.acked ?
	    (b.pg - a.pg) * 1e6 / (double)(b.acked - a.acked) : 0.0);
	print_pct("ack", lat_ack, nlat_ack);
	print_pct("deliv", lat_del, nlat_del);
	printf("\n");
}

/* --------------------------------------------------- idle and logins */

/* Opens connections of role until n are ready, at most conc in progress
 * at once, each logging in with a new client key (offramp) or connecting
 * (MQTT). A connection that fails is not replaced: 0 when n are ready,
 * -1 when the failures leave fewer, or when none became ready for 30 s
 * (the reason on stderr). */
static int
open_many(int n, enum role role)
{
	static int opened;		/* over the levels of the run */
	int last = count_ready(role);
	uint64_t stall = now_ns() + 30000000000u;

	while (count_ready(role) < n) {
		while (opened < n &&
		    opened - count_ready(role) - n_failed < conc) {
			struct conn *c = conn_open(role, opened++);

			if (target == T_OFR)
				fresh_keys(c);
		}
		if (opened - count_ready(role) - n_failed <= 0) {
			fprintf(stderr, "loadgen: %d failed of %d opened: %d "
			    "ready\n", n_failed, opened, count_ready(role));
			return -1;
		}
		if (count_ready(role) != last) {
			last = count_ready(role);
			stall = now_ns() + 30000000000u;
		} else if (now_ns() > stall) {
			fprintf(stderr, "loadgen: none ready for 30 s: %d of %d "
			    "ready, %d failed\n", last, n, n_failed);
			return -1;
		}
		loop_once(1);
	}
	return 0;
}

/* Idle connections, logged in (offramp: new client accounts) or
 * connected (MQTT), held open: the server's RSS over its RSS before, per
 * connection, at each level of --conns (a list, rising: 1000,5000,10000),
 * read a second after the level is reached, over the connections held
 * then (logged in and still open). Should connections fail, the level's
 * line says how many were held and failed, and no higher level is tried.
 * The connections stay open
 * from one level to the next: memory a server has freed is rarely given
 * back to the system, so only a rise from a fresh server is a fair
 * figure. */
static void
mode_idle(void)
{
	const char *p = conns_list;
	long before, after;
	double t0, t1;
	uint64_t w0, w1;
	int level, had = 0, rc, held, i;
	char *e;

	if (nserver_pids != 1)
		die("idle needs --pid (one)");
	before = rss_kb(server_pids[0]);
	while (*p != '\0') {
		level = (int)strtol(p, &e, 10);
		if (e == p || level <= had)
			die("--conns: a rising list of counts");
		p = *e == ',' ? e + 1 : e;
		w0 = now_ns();
		t0 = cpu_self();
		rc = open_many(level, R_IDLE);
		w1 = now_ns();
		t1 = cpu_self();
		run_for(1.0);		/* settle */
		after = rss_kb(server_pids[0]);
		/* logged in (or CONNACKed) and still open: what is measured */
		for (held = 0, i = 0; i < nall; i++)
			held += all[i]->ready && all[i]->state != S_CLOSED;
		printf("result mode=idle target=%s conns=%d held=%d failed=%d "
		    "rss_before_kb=%ld rss_after_kb=%ld bytes_per_conn=%.0f "
		    "connect_per_s=%.0f errors=%" PRIu64 " gen_cpu=%.2f\n",
		    target == T_OFR ? "offramp" : "mosquitto", level, held,
		    n_failed, before, after,
		    held > 0 ? (double)(after - before) * 1024.0 / held : 0.0,
		    (held - had) / ((double)(w1 - w0) / 1e9), n_errors,
		    (t1 - t0) / ((double)(w1 - w0) / 1e9));
		fflush(stdout);
		if (rc != 0 || held < level)
			break;		/* the next level would not be fair */
		had = held;
	}
	for (level = 0; level < nall; level++)
		conn_close(all[level]);
	reap();
}

static uint8_t (*keep_pk)[32], (*keep_sk)[64];
static int nkeep, capkeep, reuse, reuse_at;

/* A login (or MQTT connect) is done: count it, close, open the next. */
static void
login_done(struct conn *c)
{
	n_logins += measuring;
	if (!reuse && nkeep < capkeep) {
		memcpy(keep_pk[nkeep], c->pk, 32);
		memcpy(keep_sk[nkeep], c->sk, 64);
		nkeep++;
	}
	conn_close(c);
}

static void
mode_logins(void)
{
	struct snap a, b;
	double rate_new = 0, rate_ret = 0, cpu_new = 0, cpu_ret = 0;
	double srv_new = 0, srv_ret = 0, pg[2] = { 0, 0 };
	int phase, i;

	capkeep = 200000;
	keep_pk = calloc((size_t)capkeep, 32);
	keep_sk = calloc((size_t)capkeep, 64);
	if (keep_pk == NULL || keep_sk == NULL)
		die("out of memory");
	for (phase = 0; phase < (target == T_OFR ? 2 : 1); phase++) {
		uint64_t t0 = now_ns(), end;

		reuse = phase;
		reuse_at = 0;
		n_logins = 0;
		measuring = 0;
		for (end = t0 + (uint64_t)((warm + secs) * 1e9); now_ns() < end;) {
			if (!measuring && now_ns() > t0 + (uint64_t)(warm * 1e9)) {
				measuring = 1;
				snap(&a);
				a.sent = n_logins;
			}
			for (i = 0; i < nall; i++)
				if (all[i]->ready && all[i]->state != S_CLOSED)
					login_done(all[i]);
			reap();
			while (nall < conc) {
				struct conn *c = conn_open(R_LOGIN, nall);

				if (target == T_MQTT)
					continue;
				if (reuse && nkeep > 0) {
					memcpy(c->pk, keep_pk[reuse_at], 32);
					memcpy(c->sk, keep_sk[reuse_at], 64);
					b64(c->key, sizeof(c->key), c->pk, 32);
					reuse_at = (reuse_at + 1) % nkeep;
				} else {
					fresh_keys(c);
				}
			}
			loop_once(5);
		}
		snap(&b);
		double dt = (double)(b.t - a.t) / 1e9;

		if (phase == 0) {
			rate_new = (double)n_logins / dt;
			cpu_new = (b.cpu - a.cpu) / dt;
			srv_new = (b.srv - a.srv) / dt;
		} else {
			rate_ret = (double)n_logins / dt;
			cpu_ret = (b.cpu - a.cpu) / dt;
			srv_ret = (b.srv - a.srv) / dt;
		}
		pg[phase] = (b.pg - a.pg) / dt;
		for (i = 0; i < nall; i++)
			conn_close(all[i]);
		reap();
	}
	/* the server's CPU time per login (user + system, µs): on a busy
	 * machine a steadier figure than the rate, which follows the CPU
	 * share the server gets */
	printf("result mode=logins target=%s conc=%d new_per_s=%.0f "
	    "returning_per_s=%.0f errors=%" PRIu64 " gen_cpu=%.2f "
	    "server_cpu_new=%.2f server_cpu_returning=%.2f "
	    "server_us_new=%.0f server_us_returning=%.0f",
	    target == T_OFR ? "offramp" : "mosquitto", conc, rate_new,
	    target == T_OFR ? rate_ret : rate_new, n_errors,
	    cpu_new > cpu_ret ? cpu_new : cpu_ret, srv_new,
	    target == T_OFR ? srv_ret : srv_new,
	    rate_new > 0 ? srv_new * 1e6 / rate_new : 0,
	    target == T_OFR ? (rate_ret > 0 ? srv_ret * 1e6 / rate_ret : 0) :
	    (rate_new > 0 ? srv_new * 1e6 / rate_new : 0));
	if (pg_pid > 0)
		printf(" pg_cpu_new=%.2f pg_cpu_returning=%.2f pg_us_new=%.0f "
		    "pg_us_returning=%.0f", pg[0], pg[1],
		    rate_new > 0 ? pg[0] * 1e6 / rate_new : 0,
		    rate_ret > 0 ? pg[1] * 1e6 / rate_ret : 0);
	printf("\n");
}

/* ------------------------------------------------------------- setup */

/*
 * Makes the accounts and cases of the relay modes on a new offramp
 * server, through the protocol as its clients do: the admin redeems the
 * bootstrap token, sets the programme key (the generator holds its secret
 * half) and invites `pairs` counsellors, who redeem, say they take "en"
 * and are certified; then as many clients log in and request a case each.
 * Writes "pair case-id counsellor-index" lines to the state file.
 */
static void
mode_setup(void)
{
	struct conn *admin, tmp;
	uint8_t ppk[32], psk[64], cert[CERT_BYTES];
	char pkb[KEY_B64], certb[200], (*inv)[OFR_INVITE_STR_MAX + 1];
	struct cert_info ci;
	json_t *r, *parts, *x;
	int64_t prog;
	int i, j;
	size_t k;
	FILE *f;

	if (token == NULL || state_path == NULL)
		die("setup needs --token and --state");
	inv = calloc((size_t)pairs, sizeof(*inv));
	admin = conn_open(R_ADMIN, 0);
	seed_keys(admin, "admin", 0);
	admin->invite = token;
	wait_ready(R_ADMIN, 1, 30);
	prog = json_integer_value(json_object_get(json_object_get(admin->reply,
	    "account"), "programme"));
	crypto_sign_keypair(ppk, psk);
	b64(pkb, sizeof(pkb), ppk, 32);
	rpc(admin, "\"type\":\"programme.key.set\",\"key\":\"%s\"", pkb);
	for (i = 0; i < pairs; i++) {
		r = rpc(admin, "\"type\":\"invite.create\",\"role\":\"counsellor\"");
		snprintf(inv[i], sizeof(inv[i]), "%s",
		    json_string_value(json_object_get(r, "invite")));
	}
	for (i = 0; i < pairs; i++) {
		struct conn *c = conn_open(R_COUNS, i);

		seed_keys(c, "counsellor", i);
		c->invite = inv[i];
	}
	wait_ready(R_COUNS, pairs, 60);
	for (i = 0; i < nall; i++)
		if (all[i]->role == R_COUNS)
			rpc(all[i], "\"type\":\"profile.set\",\"languages\":[\"en\"]");
	for (i = 0; i < nall; i++) {
		if (all[i]->role != R_COUNS)
			continue;
		memset(&ci, 0, sizeof(ci));
		memcpy(ci.counsellor_pk, all[i]->pk, 32);
		ci.programme_id = prog;
		ci.not_before = time(NULL) - 3600;
		ci.not_after = time(NULL) + 30 * 86400;
		if (cert_sign(cert, psk, &ci) != 0)
			die("cert_sign");
		b64(certb, sizeof(certb), cert, CERT_BYTES);
		rpc(admin, "\"type\":\"counsellor.certify\",\"key\":\"%s\","
		    "\"cert\":\"%s\"", all[i]->key, certb);
	}
	sodium_memzero(psk, sizeof(psk));
	if ((f = fopen(state_path, "w")) == NULL)
		die("cannot write %s", state_path);
	for (i = 0; i < pairs; i++) {
		struct conn *c = conn_open(R_CLIENT, i);
		const char *ck = NULL;

		seed_keys(c, "client", i);
		wait_ready(R_CLIENT, i + 1, 30);
		r = rpc(c, "\"type\":\"case.request\",\"language\":\"en\"");
		x = json_object_get(r, "case");
		parts = json_object_get(x, "participants");
		for (k = 0; k < json_array_size(parts); k++) {
			json_t *pt = json_array_get(parts, k);

			if (strcmp(json_string_value(json_object_get(pt, "role")),
			    "counsellor") == 0)
				ck = json_string_value(json_object_get(pt, "key"));
		}
		if (ck == NULL)
			die("case of client %d has no counsellor (status %s)", i,
			    json_string_value(json_object_get(x, "status")));
		for (j = 0; j < pairs; j++) {
			seed_keys(&tmp, "counsellor", j);
			if (strcmp(tmp.key, ck) == 0)
				break;
		}
		fprintf(f, "%d %" PRId64 " %d\n", i,
		    (int64_t)json_integer_value(json_object_get(x, "id")), j);
	}
	fclose(f);
	printf("setup: %d counsellors, %d clients, %d cases (programme %"
	    PRId64 ")\n", pairs, pairs, pairs, prog);
	for (i = 0; i < nall; i++)
		conn_close(all[i]);
	reap();
	free(inv);
}

/* --------------------------------------------------------------- main */

/* --pid's list of server pids. */
static void
pid_list(const char *v)
{
	char *e;

	for (nserver_pids = 0; *v != '\0'; v = *e == ',' ? e + 1 : e) {
		if (nserver_pids == PIDS_MAX)
			die("--pid: at most %d", PIDS_MAX);
		server_pids[nserver_pids++] = (int)strtol(v, &e, 10);
		if (e == v)
			die("--pid: a list of pids");
	}
}

static void
usage(void)
{
	fputs("usage: offramp-loadgen --port P [--target offramp|mosquitto] "
	    "[--host A] MODE [options]\n"
	    "  setup   --token T --state FILE --pairs K    (offramp only)\n"
	    "  relay   --pairs K --window W --secs S [--state FILE]\n"
	    "  latency --pairs K --rate R --secs S [--state FILE]\n"
	    "  idle    --conns N[,N...] --pid PID [--conc C]\n"
	    "  logins  --conc C --secs S\n"
	    "  --pid PID[,PID...]: the server's, for its CPU share and RSS;\n"
	    "    the nodes' (summed) with --port2\n"
	    "  --port2 P: a second node of the same store: relay's recipients\n"
	    "    connect to it, logins go to both in turn\n"
	    "  --pg-pid PID: PostgreSQL's postmaster, for the CPU share of its\n"
	    "    processes (pg_cpu)\n"
	    "  --tls: wss:// (idle, logins), the certificate unchecked\n"
	    "  --warm S: seconds run before measuring (default 1)\n"
	    "  --read-rate N: (relay, offramp) each recipient acks at most N\n"
	    "    copies a second, a slow reader (default: all it reads)\n"
	    "  --idle N: (relay, latency) N more connections, logged in (new\n"
	    "    client accounts) or CONNACKed, held silent meanwhile\n",
	    stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode = NULL;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (a[0] != '-') {
			mode = a;
			continue;
		}
		if (strcmp(a, "--tls") == 0) {
			if ((tls_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
				die("SSL_CTX_new");
			SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
			/* the generator's own memory, at 20,000 connections */
			SSL_CTX_set_mode(tls_ctx, SSL_MODE_RELEASE_BUFFERS);
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--port") == 0)
			port = atoi(v);
		else if (strcmp(a, "--host") == 0)
			host = v;
		else if (strcmp(a, "--target") == 0)
			target = strcmp(v, "offramp") == 0 ? T_OFR : T_MQTT;
		else if (strcmp(a, "--pairs") == 0)
			pairs = atoi(v);
		else if (strcmp(a, "--window") == 0)
			window = atoi(v);
		else if (strcmp(a, "--secs") == 0)
			secs = atoi(v);
		else if (strcmp(a, "--warm") == 0)
			warm = atof(v);
		else if (strcmp(a, "--rate") == 0)
			rate = atof(v);
		else if (strcmp(a, "--read-rate") == 0)
			read_rate = atof(v);
		else if (strcmp(a, "--conns") == 0)
			conns_list = v;
		else if (strcmp(a, "--idle") == 0)
			idle_n = atoi(v);
		else if (strcmp(a, "--conc") == 0)
			conc = atoi(v);
		else if (strcmp(a, "--pid") == 0)
			pid_list(v);
		else if (strcmp(a, "--pg-pid") == 0)
			pg_pid = atoi(v);
		else if (strcmp(a, "--port2") == 0)
			port2 = atoi(v);
		else if (strcmp(a, "--token") == 0)
			token = v;
		else if (strcmp(a, "--state") == 0)
			state_path = v;
		else
			usage();
	}
	if (mode == NULL || port <= 0 || pairs < 1 || window < 1 ||
	    window >= WIN_MAX || conc < 1)
		usage();
	if (sodium_init() < 0)
		die("sodium_init");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	randombytes_buf(ct_raw, sizeof(ct_raw));
	b64(ct_b64, sizeof(ct_b64), ct_raw, sizeof(ct_raw));
	randombytes_buf(mid_prefix, sizeof(mid_prefix));
	if (strcmp(mode, "setup") == 0)
		mode_setup();
	else if (strcmp(mode, "relay") == 0 || strcmp(mode, "latency") == 0) {
		if (target == T_OFR && state_path == NULL)
			die("%s against offramp needs --state", mode);
		if (strcmp(mode, "latency") == 0 && rate <= 0)
			die("latency needs --rate");
		mode_relay();
	} else if (strcmp(mode, "idle") == 0) {
		quiet_errors = 0;
		mode_idle();
	} else if (strcmp(mode, "logins") == 0) {
		mode_logins();
	} else
		usage();
	return 0;
}
