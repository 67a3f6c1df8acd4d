/*
 * daemon_client.c: the socket of offramp daemon as both sides see it
 * (daemon.h): where it is, its checks, its frames; and the client side:
 * a command that finds a daemon for its key file hands its command line,
 * descriptors and working directory to it and waits for the code, and
 * gives the terminal its settings back when the command ends (or this
 * process ends on a signal). It never reads the key file and asks no
 * passphrase.
 */
#define _GNU_SOURCE	/* SO_PEERCRED, struct ucred, accept4 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "proto/err.h"
#include "cli.h"
#include "daemon.h"
#include "term.h"

int
daemon_paths(const char *key_path, char *dir, char *sock)
{
	struct sockaddr_un sa;

	if (snprintf(dir, PATH_MAX, "%s.d", key_path) >= PATH_MAX ||
	    snprintf(sock, PATH_MAX, "%s/sock", dir) >= PATH_MAX ||
	    strlen(sock) >= sizeof(sa.sun_path))
		return OFR_E_USAGE;
	return 0;
}

int
daemon_check_private(const char *path, int want_dir, char *why,
    size_t whysz)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return OFR_E_IO;
	}
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISSOCK(st.st_mode)) {
		snprintf(why, whysz, "%s is not a %s", path, want_dir ?
		    "directory" : "socket");
		return OFR_E_IO;
	}
	if (st.st_uid != getuid()) {
		snprintf(why, whysz, "%s belongs to uid %u, not to you (uid "
		    "%u): not used", path, (unsigned)st.st_uid,
		    (unsigned)getuid());
		return OFR_E_IO;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(why, whysz, "%s has mode %03o; it must be %s (chmod "
		    "%s %s)", path, (unsigned)(st.st_mode & 0777), want_dir ?
		    "700" : "600", want_dir ? "700" : "600", path);
		return OFR_E_IO;
	}
	return 0;
}

/* Waits until sock is readable (or closed): 0, or OFR_E_IO after
 * ms (< 0: no deadline). */
static int
wait_readable(int sock, int ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : OFR_E_IO;
}

int
daemon_write_frame(int sock, const char *buf, size_t len, const int *fds,
    int nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * DAEMON_FDS)];
	} cm;
	uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
	    (uint8_t)(len >> 8), (uint8_t)len };
	struct iovec iov[2] = { { hdr, 4 }, { (void *)buf, len } };
	struct msghdr m;
	size_t sent = 0, total = len + 4;
	ssize_t n;

	if (len > DAEMON_FRAME_MAX || nfds > DAEMON_FDS)
		return OFR_E_TOO_BIG;
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		m.msg_control = cm.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(&cm.h), fds, sizeof(int) * (size_t)nfds);
	}
	while (sent < total) {
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return OFR_E_IO;
		sent += (size_t)n;
		/* the rest, without the descriptors */
		m.msg_control = NULL;
		m.msg_controllen = 0;
		while (m.msg_iovlen > 0 && (size_t)n >= m.msg_iov->iov_len) {
			n -= (ssize_t)m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen > 0) {
			m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + n;
			m.msg_iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Reads exactly len bytes (the descriptors of the first read into fds):
 * 0 or OFR_E_IO. */
static int
read_full(int sock, uint8_t *p, size_t len, int *fds, int *nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * DAEMON_FDS)];
	} cm;
	struct msghdr m;
	struct iovec iov;
	struct cmsghdr *h;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (wait_readable(sock, DAEMON_IO_MS) != 0)
			return OFR_E_IO;
		memset(&m, 0, sizeof(m));
		iov.iov_base = p + got;
		iov.iov_len = len - got;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		if (fds != NULL) {
			m.msg_control = cm.buf;
			m.msg_controllen = sizeof(cm.buf);
		}
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return OFR_E_IO;
		for (h = fds != NULL ? CMSG_FIRSTHDR(&m) : NULL; h != NULL;
		    h = CMSG_NXTHDR(&m, h)) {
			size_t k;
			int tmp[DAEMON_FDS * 2];

			if (h->cmsg_level != SOL_SOCKET ||
			    h->cmsg_type != SCM_RIGHTS)
				continue;
			k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (k > DAEMON_FDS * 2)
				k = DAEMON_FDS * 2;
			memcpy(tmp, CMSG_DATA(h), k * sizeof(int));
			for (size_t i = 0; i < k; i++) {
				if (*nfds < DAEMON_FDS)
					fds[(*nfds)++] = tmp[i];
				else
					close(tmp[i]);	/* too many */
			}
		}
		fds = NULL;	/* descriptors come with the first bytes */
		got += (size_t)n;
	}
	return 0;
}

int
daemon_read_frame(int sock, char **buf, size_t *len, int *fds, int *nfds)
{
	uint8_t hdr[4];
	size_t n;
	int rc;

	*buf = NULL;
	*len = 0;
	if (nfds != NULL)
		*nfds = 0;
	if ((rc = read_full(sock, hdr, 4, fds, nfds)) != 0)
		return rc;
	n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	    (size_t)hdr[2] << 8 | hdr[3];
	if (n > DAEMON_FRAME_MAX)
		return OFR_E_TOO_BIG;
	if ((*buf = malloc(n + 1)) == NULL)
		return OFR_E_NOMEM;
	if ((rc = read_full(sock, (uint8_t *)*buf, n, NULL, NULL)) != 0) {
		free(*buf);
		*buf = NULL;
		return rc;
	}
	(*buf)[n] = '\0';
	*len = n;
	return 0;
}

/* The request frame of argv[0..argc) for key file real. NULL on OOM. */
static char *
request_text(struct cli *cli, const char *real, int argc, char **argv)
{
	json_t *req = json_object(), *args = json_array();
	char *text = NULL;

	if (req == NULL || args == NULL)
		goto out;
	for (int i = 0; i < argc; i++)
		if (json_array_append_new(args, json_string(argv[i])) != 0)
			goto out;
	if (json_object_set_new(req, "v", json_integer(1)) == 0 &&
	    json_object_set_new(req, "key", json_string(real)) == 0 &&
	    json_object_set(req, "argv", args) == 0 &&
	    json_object_set_new(req, "timeout_ms",
	    json_integer(cli->timeout_ms)) == 0 &&
	    json_object_set_new(req, "programme_key", cli->programme_key ?
	    json_string(cli->programme_key) : json_null()) == 0 &&
	    json_object_set_new(req, "trust_file", cli->trust_file ?
	    json_string(cli->trust_file) : json_null()) == 0)
		text = json_dumps(req, JSON_COMPACT);
out:
	json_decref(args);
	json_decref(req);
	return text;
}

/* Connects to sock: 0 with *fd, 1 when nobody listens there (a socket
 * left behind), or an error code (printed). */
static int
connect_sock(const char *sock, int *fd)
{
	struct sockaddr_un sa;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	int s;

	*fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return cli_fail(OFR_E_IO, "socket: %s", strerror(errno));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(s);
		if (e == ECONNREFUSED || e == ENOENT)
			return 1;
		return cli_fail(OFR_E_IO, "cannot reach the daemon at %s: %s",
		    sock, strerror(e));
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0 ||
	    cr.uid != getuid()) {
		close(s);
		return cli_fail(OFR_E_IO, "the daemon at %s does not run as "
		    "you: not used", sock);
	}
	*fd = s;
	return 0;
}

int
daemon_client_run(struct cli *cli, int argc, char **argv, int *handled,
    int *rc)
{
	char dir[PATH_MAX], sock[PATH_MAX], real[PATH_MAX], why[PATH_MAX + 128];
	char *text = NULL, *resp = NULL;
	int fds[DAEMON_FDS] = { 0, 1, 2, -1 }, s = -1, r, tty = 0;
	json_t *j;
	size_t len;

	*handled = 0;
	*rc = 0;
	if (daemon_paths(cli->key_path, dir, sock) != 0)
		return 0;	/* no daemon can listen there */
	if (access(dir, F_OK) != 0 && errno == ENOENT)
		return 0;
	*handled = 1;
	if ((r = daemon_check_private(dir, 1, why, sizeof(why))) != 0)
		return cli_fail(r, "%s", why);
	if (access(sock, F_OK) != 0 && errno == ENOENT) {
		*handled = 0;
		return 0;
	}
	if ((r = daemon_check_private(sock, 0, why, sizeof(why))) != 0)
		return cli_fail(r, "%s", why);
	if ((r = connect_sock(sock, &s)) != 0) {
		if (r == 1)
			*handled = 0;	/* left behind: no daemon runs */
		return r == 1 ? 0 : r;
	}
	if (realpath(cli->key_path, real) == NULL) {
		close(s);
		return cli_fail(OFR_E_IO, "%s: %s", cli->key_path,
		    strerror(errno));
	}
	fflush(stdout);
	fflush(stderr);
	if ((fds[3] = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		fds[3] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((text = request_text(cli, real, argc, argv)) == NULL) {
		r = cli_fail(OFR_E_NOMEM, "daemon request");
		goto out;
	}
	if (strlen(text) > DAEMON_FRAME_MAX) {
		r = cli_fail(OFR_E_TOO_BIG, "the command line is over %d "
		    "bytes", DAEMON_FRAME_MAX);
		goto out;
	}
	/* the terminal the command may change (offramp inbox) is given
	 * back here too, also when this process ends on a signal: saved
	 * before the daemon can change it */
	tty = isatty(0) && term_save(0, 1) == 0;
	if (fds[3] < 0 || daemon_write_frame(s, text, strlen(text), fds,
	    DAEMON_FDS) != 0) {
		r = cli_fail(OFR_E_IO, "cannot hand the command to the daemon "
		    "at %s", sock);
		goto out;
	}
	/* the command runs in the daemon, for as long as it takes */
	if (wait_readable(s, -1) != 0 ||
	    daemon_read_frame(s, &resp, &len, NULL, NULL) != 0 ||
	    (j = json_loads(resp, 0, NULL)) == NULL) {
		r = cli_fail(OFR_E_CONN, "the daemon at %s ended the command "
		    "without an answer", sock);
		goto out;
	}
	*rc = (int)json_integer_value(json_object_get(j, "rc"));
	if (json_is_string(json_object_get(j, "error")))
		cli_fail(*rc, "%s", json_string_value(json_object_get(j,
		    "error")));
	json_decref(j);
	r = 0;
out:
	if (tty)
		term_restore();
	if (r != 0)
		*rc = r;
	if (fds[3] >= 0)
		close(fds[3]);
	free(text);
	free(resp);
	close(s);
	return r;
}
