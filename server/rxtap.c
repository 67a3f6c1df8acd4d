/*
 * rxtap.c: the reads of libwebsockets, tapped (rxtap.h). A marked
 * descriptor has a small entry in a table indexed by descriptor, in
 * chunks allocated once and kept to the end (the wrappers run in other
 * threads too, libpq's reads among them: a chunk never moves); an
 * unmarked descriptor costs a lookup. It never keeps a byte of what is
 * read: the HTTP head is split on by peeking, a frame's payload read in
 * place (wsguard.c). In a sanitized build (ASan's runtime linked
 * in statically), recv() here replaces ASan's interceptor, a weak
 * definition: the buffers given to recv() are no longer checked by it.
 */
#define _GNU_SOURCE		/* RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "rxtap.h"
#include "wsguard.h"

enum { TAP_NONE = 0, TAP_HEAD, TAP_FRAMES };

struct tap {
	uint8_t mode;		/* TAP_* */
	uint8_t nl;		/* the head's end so far: 1 after a LF, 2
				 * after a LF and a CR */
	uint8_t told;		/* the fault was reported */
	uint8_t behind;		/* the last read found more behind a head */
	uint8_t tls;		/* the last read was SSL_read's */
	void *conn;
	struct wsguard g;
};

#define CHUNK_FDS	1024
#define CHUNKS		1024	/* descriptors below 2^20 (Linux's nr_open) */
static _Atomic(struct tap *) chunks[CHUNKS];
static void (*fault_fn)(void *conn, int fault);

/* The entry of fd, or NULL when its chunk was never allocated. */
static struct tap *
tap_of(int fd)
{
	struct tap *c;

	if (fd < 0 || fd >= CHUNK_FDS * CHUNKS)
		return NULL;
	c = atomic_load_explicit(&chunks[fd / CHUNK_FDS],
	    memory_order_acquire);
	return c != NULL ? &c[fd % CHUNK_FDS] : NULL;
}

/* The real function name, found once (any thread may; they find the
 * same). */
static void *
real(_Atomic(void *) *slot, const char *name)
{
	void *f = atomic_load_explicit(slot, memory_order_relaxed);

	if (f == NULL) {
		f = dlsym(RTLD_NEXT, name);
		atomic_store_explicit(slot, f, memory_order_relaxed);
	}
	return f;
}

void
rxtap_on_fault(void (*fn)(void *conn, int fault))
{
	fault_fn = fn;
}

int
rxtap_accept(int fd)
{
	struct tap *t, *c;

	if (fd < 0 || fd >= CHUNK_FDS * CHUNKS)
		return -1;
	if ((t = tap_of(fd)) == NULL) {
		if ((c = calloc(CHUNK_FDS, sizeof(*c))) == NULL)
			return -1;
		atomic_store_explicit(&chunks[fd / CHUNK_FDS], c,
		    memory_order_release);
		t = &c[fd % CHUNK_FDS];
	}
	*t = (struct tap){ .mode = TAP_HEAD };
	return 0;
}

/* Reads and drops what a plain socket holds (at most DROP_BYTES), so
 * that its close, soon, sends the close frame and a FIN, not a reset
 * that may overtake them. */
#define DROP_BYTES	(64 * 1024)
static void
plain_drop(int fd)
{
	static _Atomic(void *) slot;
	ssize_t (*rd)(int, void *, size_t, int) =
	    (ssize_t (*)(int, void *, size_t, int))real(&slot, "recv");
	char buf[4096];

	for (size_t n = 0; n < DROP_BYTES; n += sizeof(buf))
		if (rd(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
}

int
rxtap_frames(int fd, void *conn)
{
	struct tap *t = tap_of(fd);
	int early, tls;

	if (t == NULL || t->mode != TAP_HEAD)
		return -1;
	early = t->behind;
	tls = t->tls;
	*t = (struct tap){ .mode = TAP_FRAMES, .conn = conn };
	if (early) {
		t->g.fault = WSGUARD_EARLY;
		t->told = 1;	/* the caller's to act on */
		if (!tls)
			plain_drop(fd);
	}
	return 0;
}

int
rxtap_fault(int fd)
{
	struct tap *t = tap_of(fd);

	return t != NULL && t->mode == TAP_FRAMES ? t->g.fault : WSGUARD_OK;
}

int
rxtap_close_code(int fd)
{
	struct tap *t = tap_of(fd);

	return t != NULL && t->mode == TAP_FRAMES ?
	    wsguard_close_code(&t->g) : 1002;
}

/* The bytes of p up to the end of an HTTP head (an empty line: LF, CR
 * optional, LF; lws's parser ends a head at no other), or n when none
 * ends in p; *nl carries the state from read to read. */
static size_t
head_cut(uint8_t *nl, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (*nl != 0) {
				*nl = 0;
				return i + 1;
			}
			*nl = 1;
		} else if (p[i] == '\r' && *nl == 1) {
			*nl = 2;
		} else {
			*nl = 0;
		}
	}
	return n;
}

/* n bytes were read on a connection's frames: how many lws may have. */
static size_t
frames_take(struct tap *t, const void *buf, size_t n)
{
	size_t ok = wsguard_feed(&t->g, buf, n);

	if (ok < n && !t->told) {
		t->told = 1;
		if (fault_fn != NULL)
			fault_fn(t->conn, t->g.fault);
	}
	return ok;
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	static _Atomic(void *) slot;
	ssize_t (*rd)(int, void *, size_t, int) =
	    (ssize_t (*)(int, void *, size_t, int))real(&slot, "recv");
	struct tap *t = tap_of(fd);
	uint8_t nl;
	ssize_t n;
	size_t ok;

	if (t == NULL || t->mode == TAP_NONE || (flags & MSG_PEEK))
		return rd(fd, buf, len, flags);
	if (t->mode == TAP_HEAD) {
		if ((n = rd(fd, buf, len, flags | MSG_PEEK)) <= 0)
			return n;
		nl = t->nl;
		ok = head_cut(&nl, buf, (size_t)n);
		t->behind = ok < (size_t)n;
		t->tls = 0;
		if ((n = rd(fd, buf, ok, flags)) > 0)
			(void)head_cut(&t->nl, buf, (size_t)n);
		return n;
	}
	if ((n = rd(fd, buf, len, flags)) <= 0)
		return n;
	if ((ok = frames_take(t, buf, (size_t)n)) > 0)
		return (ssize_t)ok;
	errno = EAGAIN;		/* nothing for lws; not an end (0) */
	return -1;
}

/* A bad connection's SSL with nothing for lws: what it holds is read and
 * dropped until it wants more from the socket, so that lws, given -1,
 * finds it wanting to read (SSL_get_error) and waits; a peer that keeps
 * it busy longer gets -1 as it is, an error: lws closes at once. */
#define DROP_READS	64
static int
ssl_drop(int (*rd)(SSL *, void *, int), SSL *ssl, void *buf, int num)
{
	int n = -1;

	for (int i = 0; i < DROP_READS; i++)
		if ((n = rd(ssl, buf, num)) <= 0)
			return n;
	return -1;
}

int
SSL_read(SSL *ssl, void *buf, int num)
{
	static _Atomic(void *) slot;
	int (*rd)(SSL *, void *, int) =
	    (int (*)(SSL *, void *, int))real(&slot, "SSL_read");
	struct tap *t = tap_of(SSL_get_fd(ssl));
	uint8_t nl;
	int n;
	size_t ok;

	if (t == NULL || t->mode == TAP_NONE || num <= 0)
		return rd(ssl, buf, num);
	if (t->mode == TAP_HEAD) {
		/* what SSL_read would give, from the SSL's buffer: what is
		 * left behind a head stays there, and lws reads it only
		 * when the client sends again (lws looks for more in the
		 * SSL only after a read that filled its buffer). A client
		 * waits for the answer to an upgrade request before it
		 * sends a frame (RFC 6455, 4.1): one that did not is
		 * refused (rxtap_frames); an HTTP client that pipelines
		 * requests waits. */
		if ((n = SSL_peek(ssl, buf, num)) <= 0)
			return n;
		nl = t->nl;
		ok = head_cut(&nl, buf, (size_t)n);
		t->behind = ok < (size_t)n;
		t->tls = 1;
		if ((n = rd(ssl, buf, (int)ok)) > 0)
			(void)head_cut(&t->nl, buf, (size_t)n);
		return n;
	}
	if ((n = rd(ssl, buf, num)) <= 0)
		return n;
	if ((ok = frames_take(t, buf, (size_t)n)) > 0)
		return (int)ok;
	return ssl_drop(rd, ssl, buf, num);
}

int
close(int fd)
{
	static _Atomic(void *) slot;
	int (*cl)(int) = (int (*)(int))real(&slot, "close");
	struct tap *t = tap_of(fd);

	if (t != NULL && t->mode != TAP_NONE)
		t->mode = TAP_NONE;
	return cl(fd);
}
