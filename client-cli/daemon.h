/*
 * daemon.h: offramp daemon, one session process per key file, and how
 * the other commands reach it (daemon.c serves, daemon_client.c asks).
 *
 * Where: the socket is KEYFILE.d/sock, in a directory of mode 0700, the
 * socket itself 0600, both owned by the user; a socket or directory of
 * another owner or with a wider mode is refused on both sides, and the
 * peer's uid (SO_PEERCRED) must be the user's.
 *
 * The exchange, one per command: the client sends one frame, a 4-byte
 * big-endian length and that many bytes of JSON (at most
 * DAEMON_FRAME_MAX): {"v":1,"key":REALPATH,"argv":[COMMAND,ARGS...],
 * "timeout_ms":N,"programme_key":S|null,"trust_file":S|null}, with its
 * stdin, stdout, stderr and working directory passed as descriptors
 * (SCM_RIGHTS). The daemon checks that REALPATH is its key file, runs the
 * command in its own process with those descriptors as 0, 1, 2 and that
 * directory, and answers one frame {"rc":CODE} (CODE as a command
 * returns it), or {"rc":CODE,"error":TEXT} when it refused the request,
 * which the client prints.
 */
#ifndef OFFRAMP_CLI_DAEMON_H
#define OFFRAMP_CLI_DAEMON_H

#include <stddef.h>

struct cli;

#define DAEMON_FRAME_MAX	65536	/* bytes of one frame's JSON */
#define DAEMON_ARGS_MAX		256	/* words of a command line */
#define DAEMON_FDS		4	/* stdin, stdout, stderr, cwd */
#define DAEMON_IO_MS		5000	/* to read or write one frame */

/* The socket's directory and path for key file key_path into dir and
 * sock (each PATH_MAX). 0, or OFR_E_USAGE when the path is too long for
 * a Unix socket. */
int daemon_paths(const char *key_path, char *dir, char *sock);

/* Checks that path (lstat) is owned by the user, is a directory (want_dir)
 * or a socket, and has no group or other permission bits. 0, or OFR_E_IO
 * with why (whysz) set. */
int daemon_check_private(const char *path, int want_dir, char *why,
    size_t whysz);

/* Writes one frame of len bytes, with fds (nfds, may be 0) passed along.
 * 0 or OFR_E_IO. */
int daemon_write_frame(int sock, const char *buf, size_t len,
    const int *fds, int nfds);

/* Reads one frame into *buf (malloc'd, NUL-terminated; caller frees) and
 * *len, with up to DAEMON_FDS descriptors into fds (*nfds; -1 when not
 * given), waiting at most DAEMON_IO_MS. 0, OFR_E_TOO_BIG (a length over
 * DAEMON_FRAME_MAX: nothing more read), OFR_E_IO (closed, or too slow),
 * OFR_E_NOMEM. */
int daemon_read_frame(int sock, char **buf, size_t *len, int *fds,
    int *nfds);

/*
 * When a daemon serves cli->key_path, runs the command argv[0..argc)
 * through it: 0 with *handled 1 and *rc the command's code (printed, as a
 * command prints), or an error code (printed) with *handled 1 when the
 * daemon or its socket was refused; 0 with *handled 0 when no daemon
 * runs (no socket, or nobody listens on it).
 */
int daemon_client_run(struct cli *cli, int argc, char **argv, int *handled,
    int *rc);

/* The offramp daemon command (daemon.c). */
int cmd_daemon(struct cli *cli, int argc, char **argv);

/* The command of that name in main.c's table, or NULL. */
typedef int daemon_cmd_fn(struct cli *cli, int argc, char **argv);
daemon_cmd_fn *main_command(const char *name);
/*
 * Runs command argv[0] with its arguments (main.c): a "--json" among
 * them (before "--"), or json non-zero, turns JSON mode on for it. The
 * one way in for the command line and for the daemon. Returns the
 * command's code.
 */
#define DISPATCH_ARGS_MAX	256
int main_dispatch(struct cli *cli, int json, int argc, char **argv);

#endif
