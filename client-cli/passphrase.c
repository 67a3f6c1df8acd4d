/*
 * passphrase.c: reading the passphrase (passphrase.h) from a file, the
 * environment or the terminal. It holds the passphrase only in
 * sodium_malloc'd memory, never echoes or keeps it, and puts the terminal
 * back as it was even when the user interrupts the prompt.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "proto/err.h"
#include "keyfile.h"
#include "passphrase.h"

#define CAP	(KEYFILE_PASS_MAX + 2)	/* room to see one byte too many */

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig;
}

void
passphrase_free(char *p)
{
	if (p != NULL)
		sodium_free(p);
}

/* Takes the first line of buf[0..n) as the passphrase into out. */
static int
first_line(char *out, size_t *len, const char *buf, size_t n, char *why,
    size_t whysz)
{
	size_t l = 0;

	while (l < n && buf[l] != '\n')
		l++;
	if (l > 0 && buf[l - 1] == '\r')
		l--;
	if (l > KEYFILE_PASS_MAX) {
		snprintf(why, whysz, "passphrase over %d bytes",
		    KEYFILE_PASS_MAX);
		return OFR_E_PASSPHRASE;
	}
	memcpy(out, buf, l);
	out[l] = '\0';
	*len = l;
	return 0;
}

static int
from_file(const char *file, char *out, size_t *len, char *why, size_t whysz)
{
	char *buf = sodium_malloc(CAP);
	struct stat st;
	size_t got = 0;
	int fd, rc;

	if (buf == NULL)
		return OFR_E_NOMEM;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, whysz, "cannot read passphrase file %s: %s",
		    file, strerror(errno));
		sodium_free(buf);
		return OFR_E_IO;
	}
	/* said, not refused (scripts made it so): another user may read
	 * it, or it is not this user's */
	if (fstat(fd, &st) == 0 && ((st.st_mode & 077) != 0 ||
	    st.st_uid != geteuid()))
		fprintf(stderr, "warning: the passphrase file %s is %s (mode "
		    "%03o): anyone who can read it opens the key file; "
		    "chmod 600 it\n", file, st.st_uid != geteuid() ?
		    "another user's" : "readable by others",
		    (unsigned)(st.st_mode & 0777));
	while (got < CAP) {
		ssize_t n = read(fd, buf + got, CAP - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	rc = first_line(out, len, buf, got, why, whysz);
	sodium_free(buf);
	return rc;
}

/* Reads one line from the terminal with echo off. */
static int
ask(int tty, const char *prompt, char *out, size_t *len, char *why,
    size_t whysz)
{
	struct termios old, quiet;
	struct sigaction sa, oint, oterm;
	size_t l = 0;
	int rc = 0, have_old;
	char ch;

	have_old = tcgetattr(tty, &old) == 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: read() returns */
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	if (have_old) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(tty, TCSAFLUSH, &quiet);
	}
	(void)!write(tty, prompt, strlen(prompt));
	for (;;) {
		ssize_t n = read(tty, &ch, 1);

		if (n < 0 && errno == EINTR && !interrupted)
			continue;
		if (n <= 0 || interrupted) {
			snprintf(why, whysz, "no passphrase given");
			rc = OFR_E_PASSPHRASE;
			break;
		}
		if (ch == '\n' || ch == '\r')
			break;
		if (l < KEYFILE_PASS_MAX)
			out[l] = ch;
		l++;
	}
	ch = 0;
	if (have_old)
		tcsetattr(tty, TCSAFLUSH, &old);
	(void)!write(tty, "\n", 1);
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	if (rc == 0 && l > KEYFILE_PASS_MAX) {
		snprintf(why, whysz, "passphrase over %d bytes",
		    KEYFILE_PASS_MAX);
		rc = OFR_E_PASSPHRASE;
	}
	if (rc == 0) {
		out[l] = '\0';
		*len = l;
	}
	if (interrupted)
		raise(interrupted);	/* die of it, the terminal restored */
	return rc;
}

static int
from_tty(int confirm, char *out, size_t *len, char *why, size_t whysz)
{
	char *again;
	size_t len2 = 0;
	int tty, rc;

	if ((tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(why, whysz, "no passphrase: no terminal to ask on "
		    "(use --passphrase-file or OFFRAMP_PASSPHRASE)");
		return OFR_E_PASSPHRASE;
	}
	rc = ask(tty, confirm ? "New passphrase: " : "Passphrase: ", out, len,
	    why, whysz);
	if (rc == 0 && confirm) {
		if ((again = sodium_malloc(CAP)) == NULL) {
			rc = OFR_E_NOMEM;
		} else {
			rc = ask(tty, "Repeat passphrase: ", again, &len2, why,
			    whysz);
			if (rc == 0 && (len2 != *len ||
			    sodium_memcmp(again, out, *len) != 0)) {
				snprintf(why, whysz,
				    "the passphrases do not match");
				rc = OFR_E_PASSPHRASE;
			}
			sodium_free(again);
		}
	}
	close(tty);
	return rc;
}

int
passphrase_get(const char *file, int confirm, char **out, size_t *len,
    char *why, size_t whysz)
{
	const char *env = getenv("OFFRAMP_PASSPHRASE");
	char *p;
	int rc;

	*out = NULL;
	*len = 0;
	if ((p = sodium_malloc(CAP)) == NULL)
		return OFR_E_NOMEM;
	if (file != NULL) {
		rc = from_file(file, p, len, why, whysz);
	} else if (env != NULL) {
		rc = first_line(p, len, env, strlen(env), why, whysz);
		/* read once: not left in the environment, which a process
		 * of its own (the daemon) keeps for its life, and a child
		 * inherits */
		sodium_memzero((char *)env, strlen(env));
		(void)unsetenv("OFFRAMP_PASSPHRASE");
	} else {
		rc = from_tty(confirm, p, len, why, whysz);
	}
	if (rc != 0) {
		sodium_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int
passphrase_strong(const char *pass, size_t len)
{
	unsigned char seen[256] = { 0 };
	size_t distinct = 0;

	if (len < 12)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!seen[(unsigned char)pass[i]]++)
			distinct++;
	return distinct >= 6;
}
