/*
 * term.h: the terminal of an interactive command (term.c): keystroke by
 * keystroke without echo, and the settings it had given back at the end,
 * on the signals that end a process, and by the caller's side of offramp
 * daemon, whose command runs in another process. One terminal at a time;
 * nothing else of the CLI changes terminal settings.
 */
#ifndef OFFRAMP_CLI_TERM_H
#define OFFRAMP_CLI_TERM_H

/*
 * Remembers the settings of terminal fd; with signals non-zero, SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT then give them back before the process
 * ends as the signal says. 0, or OFR_E_IO when fd is no terminal.
 */
int term_save(int fd, int signals);

/* Puts the saved terminal (term_save) in non-canonical mode without echo
 * and without the suspend key; signals stay on. 0 or OFR_E_IO. */
int term_keys(void);

/* Gives the terminal its saved settings back and forgets them (the
 * signal handlers too). Harmless when nothing is saved. */
void term_restore(void);

/* Forgets the saved settings without giving them back (someone else
 * does: the caller of offramp daemon went away). */
void term_forget(void);

/* The width of terminal fd in columns; 80 when it says none. */
int term_columns(int fd);

#endif
