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
 * writes to PORTFILE (made aside, renamed into place), and stops when
 * its parent (the test's shell) does. A command is one connection (bash's
 * /dev/tcp): fields, each a tag byte, its value and a NUL, ended by an
 * empty field:
 *
 *   P<pid>            the shell asking: the command gets its umask
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
 * command.
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
	char *buf;
	size_t len;
};

static struct slot slots[SLOTS];
static int chld_pipe[2] = { -1, -1 };

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

/* Starts the command of slot S's complete request; 0, or -1 when it
 * cannot start here. */
static int
start(struct slot *s)
{
	char *argv[ARGS_MAX + 1], *set[ENV_MAX], *unset[ENV_MAX];
	const char *dir = NULL, *pid = NULL, *std = NULL;
	int fds[3] = { -1, -1, -1 }, argc = 0, nset = 0, nunset = 0, i, mask;
	int pfd, want[3];
	unsigned limit = 0;
	char *p = s->buf, *end = s->buf + s->len;
	pid_t child;

	while (p < end && *p != '\0') {
		char tag = *p, *v = p + 1;

		p += strlen(p) + 1;
		switch (tag) {
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
	if (argc == 0 || dir == NULL || pid == NULL || std == NULL ||
	    sscanf(std, "%d,%d,%d", &want[0], &want[1], &want[2]) != 3 ||
	    (mask = umask_of(pid)) < 0 ||
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
	child = fork();
	if (child == 0) {
		sigset_t none;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
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
	if (n <= 0 || s->len + (size_t)n > REQ_MAX) {
		answer(s, "E\n");
		return;
	}
	{
		char *nb = realloc(s->buf, s->len + (size_t)n);

		if (nb == NULL) {
			answer(s, "E\n");
			return;
		}
		s->buf = nb;
	}
	memcpy(s->buf + s->len, tmp, (size_t)n);
	s->len += (size_t)n;
	/* complete: an empty field, at the start or after a NUL */
	if ((s->len >= 1 && s->buf[0] == '\0') ||
	    (s->len >= 2 && s->buf[s->len - 1] == '\0' &&
	    s->buf[s->len - 2] == '\0')) {
		if (start(s) != 0)
			answer(s, "E\n");
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
	FILE *f;
	int lfd, i, n, one = 1;
	pid_t parent = getppid();

	if (argc != 2) {
		fputs("usage: cli_zygote PORTFILE\n", stderr);
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		return 0;
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
	    (f = fopen(tmp, "we")) == NULL ||
	    fprintf(f, "%u\n", (unsigned)ntohs(a.sin_port)) < 0 ||
	    fclose(f) != 0 || rename(tmp, argv[1]) != 0) {
		perror("cli_zygote: port file");
		return 1;
	}

	for (;;) {
		int slot_of[SLOTS];

		n = 0;
		pfd[n].fd = lfd;
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
			if (i == SLOTS) {
				(void)!write(c, "E\n", 2);
				close(c);
				continue;
			}
			slots[i].fd = c;
		}
	}
}
