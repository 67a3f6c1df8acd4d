/*
 * cli_zygote.c: runs the integration tests' one-shot offramp commands,
 * each in a process forked from this one, which has the CLI's libraries
 * loaded and relocated once: the CLI's own code (offramp_main, the
 * binary's whole command line) in a new process a command, as the binary
 * would run it, without the exec, the dynamic loader and timeout(1) of
 * each (on the 2-core VM a start of the binary under timeout cost more
 * CPU than most commands' work: tests/integration/lib.sh's cli).
 *
 *   cli_zygote PORTFILE
 *
 * Listens on 127.0.0.1, on a port of the kernel's choosing, which it
 * writes to PORTFILE (mode 0600, made aside, renamed into place) with a
 * random key, "PORT KEY", and stops when its parent (the test's shell)
 * does. A command is one connection (bash's /dev/tcp): fields, each a tag
 * byte, its value and a NUL, ended by an empty field:
 *
 *   K<key>            the key: a request without it is refused, so that
 *                     only who can read PORTFILE is served
 *   P<pid>            the shell asking, the zygote's parent or one of
 *                     its descendants (else refused): the command gets
 *                     its umask
 *   S<in>,<out>,<err> the shell's descriptors that the command gets as
 *                     its standard input, output and error: the same
 *                     open files, offsets and all (pidfd_getfd(2)); not
 *                     the shell's 0, 1 and 2, which a builtin writing
 *                     this request has redirected
 *   C<dir>            the working directory
 *   L<seconds>        its limit: killed then, answered 124 (timeout(1)'s)
 *   E<name=value>     set in its environment; X<name> unset
 *   A<arg>            its arguments, argv[0] first
 *
 * The answer is its exit status and a newline (128+N when signal N killed
 * it), or "E" and a newline when it could not start here (the shell's
 * descriptors out of reach: pidfd_getfd needs the right to ptrace it, as
 * root has; a bad request; too many at once): the shell then runs the
 * binary itself. A connection closed before the answer kills the
 * command. A request is read to its end even when refused (a shell still
 * writing it would die of SIGPIPE); no more than SLOTS are taken at once
 * (the others wait in the listen queue).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "offramp_main.h"

#define REQ_MAX		(1024 * 1024)	/* bytes of one request */
#define ARGS_MAX	4096
#define ENV_MAX		64
#define SLOTS		64		/* commands at once */

struct slot {
	int fd;			/* the connection, -1 when free */
	pid_t pid;		/* its command, 0 before it starts */
	int bad;		/* over REQ_MAX: read to its end, refused */
	char *buf;
	size_t len;
	char last[2];		/* its last two bytes, for its end */
};

static struct slot slots[SLOTS];
static int chld_pipe[2] = { -1, -1 };
static char key[33];		/* hex of 16 random bytes */
static pid_t parent;

static void
on_chld(int sig)
{
	int e = errno;
	char c = 0;

	(void)sig;
	(void)!write(chld_pipe[1], &c, 1);
	errno = e;
}

static void
answer(struct slot *s, const char *text)
{
	if (s->fd >= 0) {
		(void)!write(s->fd, text, strlen(text));
		close(s->fd);
	}
	s->fd = -1;
	s->pid = 0;
	s->bad = 0;
	free(s->buf);
	s->buf = NULL;
	s->len = 0;
}

/* The umask of process PID (its /proc status), or -1. */
static int
umask_of(const char *pid)
{
	char path[64], line[256];
	FILE *f;
	int mask = -1;

	if (snprintf(path, sizeof(path), "/proc/%s/status", pid) >=
	    (int)sizeof(path) || (f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Umask:", 6) == 0) {
			mask = (int)strtol(line + 6, NULL, 8);
			break;
		}
	}
	fclose(f);
	return mask;
}

/* Whether process PID is the zygote's parent or one of its descendants
 * (its /proc stat's parents, at most 64 up). */
static int
ours(pid_t pid)
{
	char path[64], line[512], *p;
	FILE *f;
	int depth;

	for (depth = 0; depth < 64 && pid > 1; depth++) {
		if (pid == parent)
			return 1;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if ((f = fopen(path, "re")) == NULL)
			return 0;
		p = fgets(line, sizeof(line), f);
		fclose(f);
		/* pid (comm) state ppid: comm may hold spaces and parens */
		if (p == NULL || (p = strrchr(line, ')')) == NULL ||
		    sscanf(p + 1, " %*c %d", &pid) != 1)
			return 0;
	}
	return 0;
}

/* Whether DIR is a directory to run in (the shell's may be gone: the
 * binary then runs there, as it would have). */
static int
is_dir(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Starts the command of slot S's complete request; 0, or -1 when it
 * cannot start here. */
static int
start(struct slot *s)
{
	char *argv[ARGS_MAX + 1], *set[ENV_MAX], *unset[ENV_MAX];
	const char *dir = NULL, *pid = NULL, *std = NULL, *k = NULL;
	int fds[3] = { -1, -1, -1 }, argc = 0, nset = 0, nunset = 0, i, mask;
	int pfd, want[3];
	pid_t zygote;
	unsigned limit = 0;
	char *p = s->buf, *end = s->buf + s->len;
	pid_t child;

	while (p < end && *p != '\0') {
		char tag = *p, *v = p + 1;

		p += strlen(p) + 1;
		switch (tag) {
		case 'K': k = v; break;
		case 'P': pid = v; break;
		case 'C': dir = v; break;
		case 'S': std = v; break;
		case 'L': limit = (unsigned)strtoul(v, NULL, 10); break;
		case 'E':
			if (nset == ENV_MAX || strchr(v, '=') == NULL)
				return -1;
			set[nset++] = v;
			break;
		case 'X':
			if (nunset == ENV_MAX)
				return -1;
			unset[nunset++] = v;
			break;
		case 'A':
			if (argc == ARGS_MAX)
				return -1;
			argv[argc++] = v;
			break;
		default:
			return -1;
		}
	}
	argv[argc] = NULL;
	if (k == NULL || strcmp(k, key) != 0 || argc == 0 || dir == NULL ||
	    pid == NULL || std == NULL ||
	    sscanf(std, "%d,%d,%d", &want[0], &want[1], &want[2]) != 3 ||
	    !ours((pid_t)strtol(pid, NULL, 10)) ||
	    (mask = umask_of(pid)) < 0 || !is_dir(dir) ||
	    (pfd = pidfd_open((pid_t)strtol(pid, NULL, 10), 0)) < 0)
		return -1;
	for (i = 0; i < 3; i++) {
		if ((fds[i] = pidfd_getfd(pfd, want[i], 0)) < 0) {
			while (i-- > 0)
				close(fds[i]);
			close(pfd);
			return -1;
		}
	}
	close(pfd);
	zygote = getpid();
	child = fork();
	if (child == 0) {
		sigset_t none;
		int sig;

		/* gone with the zygote, also if it went before the prctl */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != zygote)
			_exit(127);
		/* every signal as exec leaves it in a new process (the
		 * zygote, an async job of the shell, began with SIGINT and
		 * SIGQUIT ignored) */
		for (sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (i = 0; i < 3; i++) {
			if (dup2(fds[i], i) < 0)
				_exit(127);
		}
		close_range(3, ~0U, 0);
		umask((mode_t)mask);
		if (chdir(dir) != 0)
			_exit(127);
		for (i = 0; i < nunset; i++)
			unsetenv(unset[i]);
		for (i = 0; i < nset; i++) {
			char *eq = strchr(set[i], '=');

			*eq = '\0';
			setenv(set[i], eq + 1, 1);
		}
		if (limit > 0)
			alarm(limit);
		exit(offramp_main(argc, argv));
	}
	for (i = 0; i < 3; i++)
		close(fds[i]);
	if (child < 0)
		return -1;
	s->pid = child;
	return 0;
}

/* Reads from slot S's connection: more of its request, or the end of it
 * (a command then started), or the shell gone (its command killed). */
static void
readable(struct slot *s)
{
	char tmp[65536];
	ssize_t n = read(s->fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (s->pid > 0) {
		if (n <= 0) {
			/* the shell went away: its command goes too, and
			 * is answered (to nobody) once reaped */
			kill(s->pid, SIGKILL);
			close(s->fd);
			s->fd = -1;
		}
		return;
	}
	if (n <= 0) {
		answer(s, "E\n");
		return;
	}
	if (!s->bad && s->len + (size_t)n > REQ_MAX)
		s->bad = 1;
	if (!s->bad) {
		char *nb = realloc(s->buf, s->len + (size_t)n);

		if (nb == NULL) {
			s->bad = 1;
		} else {
			s->buf = nb;
			memcpy(s->buf + s->len, tmp, (size_t)n);
		}
	}
	/* complete: an empty field, at the start or after a NUL */
	for (ssize_t i = 0; i < n; i++) {
		int end = tmp[i] == '\0' && (s->len == 0 ||
		    s->last[1] == '\0');

		s->last[0] = s->last[1];
		s->last[1] = tmp[i];
		s->len++;
		if (!end)
			continue;
		if (s->bad || (size_t)(i + 1) != (size_t)n || start(s) != 0)
			answer(s, "E\n");
		return;
	}
}

static void
reap(void)
{
	char text[16];
	pid_t pid;
	int st, i, code;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (WIFSIGNALED(st))
			code = WTERMSIG(st) == SIGALRM ? 124 :
			    128 + WTERMSIG(st);
		else
			code = WEXITSTATUS(st);
		snprintf(text, sizeof(text), "%d\n", code);
		for (i = 0; i < SLOTS; i++) {
			if (slots[i].pid == pid) {
				if (slots[i].fd < 0) {
					slots[i].pid = 0;
					slots[i].bad = 0;
					free(slots[i].buf);
					slots[i].buf = NULL;
					slots[i].len = 0;
				} else {
					answer(&slots[i], text);
				}
				break;
			}
		}
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	struct pollfd pfd[SLOTS + 2];
	struct sigaction sa;
	char tmp[4096];
	unsigned char rnd[16];
	FILE *f;
	int lfd, i, n, one = 1, ffd;

	parent = getppid();

	if (argc != 2) {
		fputs("usage: cli_zygote PORTFILE\n", stderr);
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		return 0;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return 1;
	for (i = 0; i < (int)sizeof(rnd); i++)
		snprintf(key + 2 * i, 3, "%02x", rnd[i]);
	if (pipe2(chld_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < SLOTS; i++)
		slots[i].fd = -1;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(lfd, SLOTS) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
		perror("cli_zygote: listen");
		return 1;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.new", argv[1]) >= (int)sizeof(tmp) ||
	    (ffd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0 || (f = fdopen(ffd, "w")) == NULL ||
	    fprintf(f, "%u %s\n", (unsigned)ntohs(a.sin_port), key) < 0 ||
	    fclose(f) != 0 || rename(tmp, argv[1]) != 0) {
		perror("cli_zygote: port file");
		return 1;
	}

	for (;;) {
		int slot_of[SLOTS];

		/* the listener only while a slot is free */
		for (i = 0; i < SLOTS; i++) {
			if (slots[i].fd < 0 && slots[i].pid == 0)
				break;
		}
		n = 0;
		pfd[n].fd = i < SLOTS ? lfd : -1;
		pfd[n++].events = POLLIN;
		pfd[n].fd = chld_pipe[0];
		pfd[n++].events = POLLIN;
		for (i = 0; i < SLOTS; i++) {
			if (slots[i].fd < 0)
				continue;
			slot_of[n - 2] = i;
			pfd[n].fd = slots[i].fd;
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[1].revents) {
			while (read(chld_pipe[0], tmp, sizeof(tmp)) > 0)
				;
			reap();
		}
		for (i = 2; i < n; i++) {
			if (pfd[i].revents && slots[slot_of[i - 2]].fd ==
			    pfd[i].fd)
				readable(&slots[slot_of[i - 2]]);
		}
		if (pfd[0].revents) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0)
				continue;
			for (i = 0; i < SLOTS; i++) {
				if (slots[i].fd < 0 && slots[i].pid == 0)
					break;
			}
			if (i == SLOTS) {	/* (not polled then) */
				close(c);
				continue;
			}
			slots[i].fd = c;
		}
	}
}
