/*
 * term.c: the terminal of an interactive command (term.h). It owns the
 * saved settings and the signal handlers that give them back, and does
 * nothing else: reading keys and drawing lines is the command's.
 */
#include <sys/ioctl.h>

#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "proto/err.h"
#include "term.h"

static const int signals_handled[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NSIGNALS	(sizeof(signals_handled) / sizeof(signals_handled[0]))

static struct termios saved;
static volatile sig_atomic_t saved_fd = -1;
static int handlers;
static struct sigaction old_actions[NSIGNALS];

/* Gives the settings back (async-signal-safe), then ends the process as
 * the signal would have. */
static void
on_signal(int sig)
{
	if (saved_fd >= 0)
		(void)tcsetattr(saved_fd, TCSANOW, &saved);
	saved_fd = -1;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
handlers_off(void)
{
	if (!handlers)
		return;
	for (size_t i = 0; i < NSIGNALS; i++)
		(void)sigaction(signals_handled[i], &old_actions[i], NULL);
	handlers = 0;
}

int
term_save(int fd, int signals)
{
	struct sigaction sa;

	term_forget();
	if (tcgetattr(fd, &saved) != 0)
		return OFR_E_IO;
	saved_fd = fd;
	if (!signals)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSIGNALS; i++)
		(void)sigaction(signals_handled[i], &sa, &old_actions[i]);
	handlers = 1;
	return 0;
}

int
term_keys(void)
{
	struct termios t;

	if (saved_fd < 0)
		return OFR_E_IO;
	t = saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | IEXTEN);
	t.c_lflag |= ISIG;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
#ifdef VSUSP
	t.c_cc[VSUSP] = _POSIX_VDISABLE;	/* no stopped inbox in raw mode */
#endif
	if (tcsetattr(saved_fd, TCSANOW, &t) != 0)
		return OFR_E_IO;
	return 0;
}

void
term_restore(void)
{
	int fd = saved_fd;

	saved_fd = -1;
	if (fd >= 0)
		(void)tcsetattr(fd, TCSANOW, &saved);
	handlers_off();
}

void
term_forget(void)
{
	saved_fd = -1;
	handlers_off();
}

int
term_columns(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}
