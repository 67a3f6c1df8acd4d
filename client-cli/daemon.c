/*
 * daemon.c: offramp daemon (daemon.h): one process that holds the
 * unlocked key file (and its lock) and one connection, logged in, and
 * runs the other commands of that key file for them, in its own process:
 * the passphrase is asked once, and "in use" never happens.
 *
 * Commands run one at a time, each bounded by its own --timeout, with the
 * caller's stdin, stdout, stderr and working directory. The long ones
 * (chat, inbox, recv --wait) let others run meanwhile: while they wait
 * for the server or their input, they call cli->serve, which runs the
 * commands waiting on the socket to their end, and stops the long command
 * when its caller went away. One long command at a time; another is
 * refused with a message. Between commands the daemon keeps the pushes
 * it gets for the next recv, chat or inbox (a bounded number: past it,
 * it logs in again and the server sends the unacknowledged messages
 * again), answers prekeys.low itself, and when the connection is lost
 * connects again with a growing pause (DAEMON_RETRY_MIN_MS doubling up to
 * DAEMON_RETRY_MAX_MS). Every DAEMON_EXPIRE_MS it drops the history past
 * history-keep (every save does too). It never forks and never writes the
 * key file but through cli_save.
 */
#define _GNU_SOURCE	/* SO_PEERCRED, struct ucred, accept4 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "proto/err.h"
#include "account.h"
#include "cli.h"
#include "conn.h"
#include "daemon.h"
#include "e2e.h"
#include "keyfile.h"

#define DAEMON_RETRY_MIN_MS	500
#define DAEMON_RETRY_MAX_MS	30000
#define DAEMON_IDLE_MS		1000
#define DAEMON_EXPIRE_MS	(60 * 60 * 1000)	/* history-keep */

struct daemon {
	struct cli *cli;
	int lfd;			/* the listening socket */
	int log_fd;			/* the daemon's own stderr */
	char real[PATH_MAX];		/* realpath of the key file */
	char dir[PATH_MAX], sock[PATH_MAX];
	const char *long_name;		/* the long command running, or NULL */
	int long_client;		/* its caller's socket, or -1 */
	int retry_ms;
	int64_t next_try;		/* when to connect again (ms) */
	int64_t next_expire;		/* when to expire history (ms) */
};

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
logf_(struct daemon *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line on the daemon's own stderr, whatever fd 2 is now. */
static void
logf_(struct daemon *d, const char *fmt, ...)
{
	va_list ap;

	dprintf(d->log_fd, "offramp daemon: ");
	va_start(ap, fmt);
	vdprintf(d->log_fd, fmt, ap);
	va_end(ap);
	dprintf(d->log_fd, "\n");
}

/* Answers the request on fd: {"rc":rc} and, when why is not NULL,
 * "error": why. */
static void
reply(int fd, int rc, const char *why)
{
	json_t *j = json_pack("{si}", "rc", rc);
	char *text;

	if (j != NULL && why != NULL)
		json_object_set_new(j, "error", json_string(why));
	if (j != NULL && (text = json_dumps(j, JSON_COMPACT)) != NULL) {
		(void)daemon_write_frame(fd, text, strlen(text), NULL, 0);
		free(text);
	}
	json_decref(j);
}

/* The listening socket and, during a long command, its caller's socket,
 * watched on the connection of now. */
static void
ensure_watch(struct daemon *d)
{
	struct conn *c = d->cli->conn;

	if (c == NULL)
		return;
	if (!conn_watching(c, d->lfd))
		(void)conn_watch_fd(c, d->lfd);
	if (d->long_client >= 0 && !conn_watching(c, d->long_client))
		(void)conn_watch_fd(c, d->long_client);
}

/* 1 when the caller of the long command closed its socket (or sent
 * something, which it never does while it waits). */
static int
caller_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static int
key_guard(struct cli *cli, const char *path)
{
	struct daemon *d = cli->daemon;
	char real[PATH_MAX];

	if (realpath(path, real) != NULL && strcmp(real, d->real) == 0)
		return 0;
	return cli_fail(OFR_E_USAGE, "this command runs in the daemon of "
	    "%s; --key %s names another key file (run it where no daemon "
	    "serves that file, or stop the daemon)", d->real, path);
}

/* 1 when argv is a command that waits for long: chat, inbox, recv
 * --wait. */
static int
is_long(int argc, char **argv)
{
	if (strcmp(argv[0], "chat") == 0 || strcmp(argv[0], "inbox") == 0)
		return 1;
	if (strcmp(argv[0], "recv") != 0)
		return 0;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--wait") == 0 ||
		    strncmp(argv[i], "--wait=", 7) == 0)
			return 1;
	return 0;
}

/* The options a command may set, kept around it. */
struct opts {
	const char *server, *ca, *key_path, *pass_file, *programme_key;
	const char *trust_file;
	int timeout_ms;
};

static void
opts_save(struct cli *cli, struct opts *o)
{
	o->server = cli->server;
	o->ca = cli->ca;
	o->key_path = cli->key_path;
	o->pass_file = cli->pass_file;
	o->programme_key = cli->programme_key;
	o->trust_file = cli->trust_file;
	o->timeout_ms = cli->timeout_ms;
}

static void
opts_restore(struct cli *cli, const struct opts *o)
{
	cli->server = o->server;
	cli->ca = o->ca;
	cli->key_path = o->key_path;
	cli->pass_file = o->pass_file;
	cli->programme_key = o->programme_key;
	cli->trust_file = o->trust_file;
	cli->timeout_ms = o->timeout_ms;
}

/*
 * Runs the command line argv[0..argc) (main_dispatch) with the caller's
 * descriptors fds as stdin, stdout, stderr and working directory, the
 * options of request req. Returns the command's code.
 */
static int
run_command(struct daemon *d, int client, const int fds[DAEMON_FDS],
    json_t *req, int argc, char **argv)
{
	struct cli *cli = d->cli;
	struct opts saved;
	int keep[3], cwd, rc, lng = is_long(argc, argv);
	json_t *v;

	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < 3; i++)
		keep[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; i < 3; i++)
		(void)dup2(fds[i], i);
	if (fchdir(fds[3]) != 0)
		logf_(d, "cannot enter the caller's directory: %s",
		    strerror(errno));
	clearerr(stdin);
	opts_save(cli, &saved);
	v = json_object_get(req, "timeout_ms");
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= 86400000)
		cli->timeout_ms = (int)json_integer_value(v);
	v = json_object_get(req, "programme_key");
	cli->programme_key = json_is_string(v) ? json_string_value(v) : NULL;
	v = json_object_get(req, "trust_file");
	cli->trust_file = json_is_string(v) ? json_string_value(v) : NULL;
	if (lng) {
		d->long_name = argv[0];
		d->long_client = client;
		ensure_watch(d);
	}

	rc = main_dispatch(cli, 0, argc, argv);

	if (lng) {
		conn_unwatch_fd(cli->conn, client);
		conn_unwatch_stdin(cli->conn);
		d->long_name = NULL;
		d->long_client = -1;
	}
	(void)cli_save(cli);
	opts_restore(cli, &saved);
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < 3; i++) {
		if (keep[i] >= 0) {
			(void)dup2(keep[i], i);
			close(keep[i]);
		}
	}
	if (cwd >= 0) {
		if (fchdir(cwd) != 0)
			logf_(d, "cannot return to the daemon's directory");
		close(cwd);
	}
	clearerr(stdin);
	ensure_watch(d);
	return rc;
}

/* Checks request text and runs it: the code to answer with, and why when
 * it was refused (*why, static or in buf). */
static int
request(struct daemon *d, int client, const int fds[DAEMON_FDS],
    const char *text, char *buf, size_t bufsz, const char **why)
{
	json_t *req = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	json_t *args = json_object_get(req, "argv"), *w;
	const char *key = json_string_value(json_object_get(req, "key"));
	char *argv[DAEMON_ARGS_MAX + 1];
	size_t i, argc = json_array_size(args);
	int rc = OFR_E_USAGE;

	*why = NULL;
	if (!json_is_object(req) || key == NULL || argc == 0 ||
	    argc > DAEMON_ARGS_MAX) {
		*why = "the daemon got a request it cannot read";
		goto out;
	}
	json_array_foreach(args, i, w) {
		if (!json_is_string(w)) {
			*why = "the daemon got a request it cannot read";
			goto out;
		}
		argv[i] = (char *)json_string_value(w);
	}
	argv[argc] = NULL;
	if (strcmp(key, d->real) != 0) {
		snprintf(buf, bufsz, "the daemon at %s serves the key file "
		    "%s, not %s", d->sock, d->real, key);
		*why = buf;
		rc = OFR_E_IO;
		goto out;
	}
	if (strcmp(argv[0], "daemon") == 0) {
		snprintf(buf, bufsz, "a daemon already serves %s (socket "
		    "%s); stop it before starting another", d->real, d->sock);
		*why = buf;
		rc = OFR_E_IO;
		goto out;
	}
	if (strcmp(argv[0], "raw") == 0 || strcmp(argv[0], "keygen") == 0) {
		snprintf(buf, bufsz, "%s does not run through the daemon of "
		    "%s; stop the daemon to use it", argv[0], d->real);
		*why = buf;
		goto out;
	}
	if (main_command(argv[0]) == NULL) {
		snprintf(buf, bufsz, "unknown command %.64s (see offramp "
		    "--help)", argv[0]);
		*why = buf;
		goto out;
	}
	if (is_long((int)argc, argv) && d->long_name != NULL) {
		snprintf(buf, bufsz, "the daemon of %s is running %s for "
		    "another command; one of chat, inbox and recv --wait at a "
		    "time (the inbox shows every case)", d->real, d->long_name);
		*why = buf;
		rc = OFR_E_LIMIT;
		goto out;
	}
	rc = run_command(d, client, fds, req, (int)argc, argv);
out:
	json_decref(req);
	return rc;
}

/* Serves one caller on socket fd, to the end of its command. */
static void
serve_client(struct daemon *d, int fd)
{
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	int fds[DAEMON_FDS], nfds = 0, rc;
	char *text = NULL, buf[PATH_MAX * 2 + 128];
	const char *why = NULL;
	size_t len;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0 ||
	    cr.uid != getuid()) {
		logf_(d, "refused a caller of another user");
		return;
	}
	rc = daemon_read_frame(fd, &text, &len, fds, &nfds);
	if (rc == OFR_E_TOO_BIG) {
		snprintf(buf, sizeof(buf), "the daemon refuses a request over "
		    "%d bytes", DAEMON_FRAME_MAX);
		logf_(d, "%s", buf);
		reply(fd, rc, buf);
	} else if (rc != 0) {
		logf_(d, "a caller sent no whole request");
	} else if (nfds != DAEMON_FDS) {
		reply(fd, OFR_E_USAGE, "the daemon got a request without its "
		    "stdin, stdout, stderr and directory");
	} else {
		rc = request(d, fd, fds, text, buf, sizeof(buf), &why);
		reply(fd, rc, why);
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	free(text);
}

/* Accepts and serves every caller waiting on the listening socket. */
static void
accept_all(struct daemon *d)
{
	int fd;

	while ((fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		serve_client(d, fd);
		close(fd);
	}
}

/* cli->serve: runs what waits, while a long command waits. */
static int
serve(struct cli *cli)
{
	struct daemon *d = cli->daemon;
	int client = d->long_client;

	if (client >= 0 && caller_gone(client))
		return OFR_E_CONN;	/* nobody to tell */
	if (stopping)
		return cli_fail(OFR_E_CONN, "the daemon is stopping");
	accept_all(d);
	ensure_watch(d);
	return 0;
}

/* One attempt to connect and log in, when it is time. */
static void
try_connect(struct daemon *d)
{
	struct cli *cli = d->cli;
	int64_t t = cli_now_ms();

	if (cli->conn != NULL || t < d->next_try)
		return;
	if (account_login(cli) == 0) {
		(void)cli_save(cli);
		logf_(d, "connected to %s", cli->server);
		d->retry_ms = DAEMON_RETRY_MIN_MS;
		ensure_watch(d);
		return;
	}
	cli_disconnect(cli);
	logf_(d, "not connected; trying again in %d ms", d->retry_ms);
	d->next_try = t + d->retry_ms;
	d->retry_ms = d->retry_ms * 2 > DAEMON_RETRY_MAX_MS ?
	    DAEMON_RETRY_MAX_MS : d->retry_ms * 2;
}

/* The pushes of an idle connection: prekeys.low answered, those nobody
 * will want dropped; messages and case changes kept. */
static void
idle_pushes(struct daemon *d)
{
	struct cli *cli = d->cli;
	json_t *f;

	while ((f = conn_take_kept(cli->conn, "prekeys.low")) != NULL) {
		(void)e2e_replenish(cli, f);
		(void)cli_save(cli);
		json_decref(f);
	}
	while ((f = conn_take_kept(cli->conn, "queue")) != NULL)
		json_decref(f);
	while ((f = conn_take_kept(cli->conn, "msg.delivered")) != NULL)
		json_decref(f);
}

/* A job of the loop: the history past history-keep goes, hourly, also
 * when nothing else saves the key file. */
static void
expire_history(struct daemon *d)
{
	struct cli *cli = d->cli;
	int64_t t = cli_now_ms();
	size_t n;

	if (t < d->next_expire)
		return;
	d->next_expire = t + DAEMON_EXPIRE_MS;
	if ((n = keyfile_history_expire(cli->key, (int64_t)time(NULL))) == 0)
		return;
	cli->dirty = 1;
	if (cli_save(cli) == 0)
		logf_(d, "history-keep: %zu older messages removed", n);
}

/* The daemon's loop, until SIGTERM or SIGINT. */
static void
loop(struct daemon *d)
{
	struct cli *cli = d->cli;
	struct conn_event ev;
	struct pollfd p;
	int rc, ms;

	while (!stopping) {
		expire_history(d);
		if (cli->conn != NULL && (conn_is_closed(cli->conn) ||
		    conn_dropped(cli->conn))) {
			logf_(d, "connection lost (%s); connecting again",
			    conn_dropped(cli->conn) ? "too many pushes kept" :
			    conn_error(cli->conn));
			cli_disconnect(cli);
			d->next_try = cli_now_ms() + d->retry_ms;
		}
		try_connect(d);
		if (cli->conn == NULL) {
			ms = (int)(d->next_try - cli_now_ms());
			p.fd = d->lfd;
			p.events = POLLIN;
			if (poll(&p, 1, ms < 0 ? 0 : ms > DAEMON_IDLE_MS ?
			    DAEMON_IDLE_MS : ms) == 1)
				accept_all(d);
			continue;
		}
		ensure_watch(d);
		rc = conn_wait(cli->conn, &ev, CONN_KEEP_FRAMES,
		    DAEMON_IDLE_MS);
		if (rc == 0 && ev.kind == CONN_EV_WATCH)
			accept_all(d);
		conn_event_clear(&ev);
		if (cli->conn != NULL)
			idle_pushes(d);
	}
}

/* Refuses a directory or socket that is not private, and a daemon that
 * already listens. 0 or an error code (printed). */
static int
check_place(struct daemon *d)
{
	char why[PATH_MAX + 128];
	struct sockaddr_un sa;
	int s, rc;

	if (access(d->dir, F_OK) != 0)
		return 0;
	if ((rc = daemon_check_private(d->dir, 1, why, sizeof(why))) != 0)
		return cli_fail(rc, "%s", why);
	if (access(d->sock, F_OK) != 0)
		return 0;
	if ((rc = daemon_check_private(d->sock, 0, why, sizeof(why))) != 0)
		return cli_fail(rc, "%s", why);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, d->sock, strlen(d->sock) + 1);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return cli_fail(OFR_E_IO, "socket: %s", strerror(errno));
	rc = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	close(s);
	if (rc == 0)
		return cli_fail(OFR_E_IO, "a daemon already serves %s (socket "
		    "%s); stop it before starting another", d->real, d->sock);
	return 0;
}

/* The private directory and the listening socket. 0 or an error code
 * (printed). */
static int
listen_sock(struct daemon *d)
{
	char why[PATH_MAX + 128];
	struct sockaddr_un sa;
	mode_t old;
	int rc;

	if (mkdir(d->dir, 0700) != 0 && errno != EEXIST)
		return cli_fail(OFR_E_IO, "cannot make %s: %s", d->dir,
		    strerror(errno));
	if ((rc = daemon_check_private(d->dir, 1, why, sizeof(why))) != 0)
		return cli_fail(rc, "%s", why);
	(void)unlink(d->sock);	/* left behind: check_place found none */
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, d->sock, strlen(d->sock) + 1);
	if ((d->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0)
		return cli_fail(OFR_E_IO, "socket: %s", strerror(errno));
	old = umask(077);
	rc = bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || chmod(d->sock, 0600) != 0 || listen(d->lfd, 16) != 0)
		return cli_fail(OFR_E_IO, "cannot listen on %s: %s", d->sock,
		    strerror(errno));
	return 0;
}

/* --detach: the passphrase asked and the socket made, the daemon goes on
 * in a child of its own; this process says so and ends, leaving the
 * socket and the key file's lock (held through the shared descriptor)
 * to the child. Only the child returns, with 0. */
static int
detach_now(struct daemon *d)
{
	pid_t pid;
	int null;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		return cli_fail(OFR_E_IO, "fork: %s", strerror(errno));
	if (pid > 0) {
		printf("daemon: %lld\nsocket: %s\n", (long long)pid, d->sock);
		fflush(stdout);
		_exit(0);
	}
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		(void)dup2(null, 0);
		(void)dup2(null, 1);
		if (null > 1)
			close(null);
	}
	return 0;
}

int
cmd_daemon(struct cli *cli, int argc, char **argv)
{
	struct daemon d;
	struct sigaction sa;
	int npos, rc, detach = 0;
	const struct cli_opt opts[] = {
		{ "--detach", NULL, &detach },
		{ NULL, NULL, NULL }
	};
	const char *given = cli->key_path;

	memset(&d, 0, sizeof(d));
	d.cli = cli;
	d.lfd = -1;
	d.long_client = -1;
	d.retry_ms = DAEMON_RETRY_MIN_MS;
	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (daemon_paths(cli->key_path, d.dir, d.sock) != 0)
		return cli_fail(OFR_E_USAGE, "the key file's path %s is too "
		    "long for its daemon's socket %s.d/sock", cli->key_path,
		    cli->key_path);
	if (realpath(cli->key_path, d.real) == NULL)
		return cli_fail(OFR_E_IO, "no key file %s (make one with "
		    "offramp keygen)", cli->key_path);
	/* every save by its path from the root: a command runs in its
	 * caller's directory (run_command), where a relative path would
	 * name another file */
	cli->key_path = d.real;
	if ((rc = check_place(&d)) != 0 || (rc = cli_load_key(cli)) != 0 ||
	    (rc = listen_sock(&d)) != 0)
		goto out;
	if (detach && (rc = detach_now(&d)) != 0)
		goto out;
	if ((d.log_fd = fcntl(2, F_DUPFD_CLOEXEC, 3)) < 0)
		d.log_fd = 2;
	(void)setsid();		/* away from the terminal's job control */
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	cli->daemon = &d;
	cli->serve = serve;
	cli->key_guard = key_guard;
	logf_(&d, "serving %s at %s", d.real, d.sock);
	loop(&d);
	logf_(&d, "stopping");
	rc = 0;
out:
	cli->key_path = given;
	cli->serve = NULL;
	cli->key_guard = NULL;
	cli->daemon = NULL;
	if (d.lfd >= 0) {
		close(d.lfd);
		(void)unlink(d.sock);
		(void)rmdir(d.dir);
	}
	if (d.log_fd > 2)
		close(d.log_fd);
	return rc;
}
