/*
 * erase.c: self-erasure and forgetting (PRIVACY.md, "Erasure").
 * offramp erase asks the server to delete the client's account and
 * everything it holds about it (account.delete), then destroys the local
 * key file: overwritten with zeros, synced, unlinked, with its lock file
 * and its daemon's socket directory. offramp forget CASE removes one
 * case's history and session state from the key file; offramp
 * history-keep DAYS|off sets how long the history is kept (the key file
 * drops older entries whenever it is opened or saved). It never destroys
 * the key file unless the server said the account is gone, and never runs
 * inside offramp daemon (which would log in again, as a new account).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto/err.h"
#include "account.h"
#include "cli.h"
#include "daemon.h"
#include "keyfile.h"

#define CONFIRM_WORD	"ERASE"

/* 1 when a daemon listens on sock. */
static int
daemon_listens(const char *sock)
{
	struct sockaddr_un sa;
	int fd, up;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sa.sun_path))
		return 0;
	strcpy(sa.sun_path, sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return up;
}

/* Asks on the terminal for the confirmation word: 0 when typed, else
 * OFR_E_USAGE (printed). */
static int
confirm(void)
{
	char line[64];

	if (!isatty(STDIN_FILENO))
		return cli_usage("erase asks for confirmation on a terminal; "
		    "in a script, give --yes");
	fputs("This deletes your account, your cases and everything the "
	    "server holds about you,\nand destroys this key file with your "
	    "history. It cannot be undone.\nType " CONFIRM_WORD " to "
	    "confirm: ", stderr);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return cli_usage("not confirmed: nothing was erased");
	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, CONFIRM_WORD) != 0)
		return cli_usage("not confirmed (you did not type "
		    CONFIRM_WORD "): nothing was erased");
	return 0;
}

/* Overwrites path with zeros, syncs it and unlinks it. 0 or OFR_E_IO
 * (errno set); a missing file is 0. */
static int
shred(const char *path)
{
	static const char zeros[4096];
	struct stat st;
	off_t left;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 0 : OFR_E_IO;
	if (fstat(fd, &st) != 0)
		goto fail;
	for (left = st.st_size; left > 0;) {
		size_t n = left < (off_t)sizeof(zeros) ? (size_t)left :
		    sizeof(zeros);
		ssize_t w = write(fd, zeros, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		left -= w;
	}
	if (fsync(fd) != 0)
		goto fail;
	close(fd);
	return unlink(path) == 0 ? 0 : OFR_E_IO;
fail:
	close(fd);
	return OFR_E_IO;
}

int
cmd_erase(struct cli *cli, int argc, char **argv)
{
	char dir[PATH_MAX], sock[PATH_MAX], lock[PATH_MAX];
	int yes = 0, npos, rc;
	const struct cli_opt opts[] = {
		{ "--yes", NULL, &yes },
		{ NULL, NULL, NULL }
	};
	json_t *resp = NULL;

	if ((rc = cli_parse(cli, argc, argv, opts, NULL, 0, &npos)) != 0)
		return rc;
	if (cli->daemon != NULL)
		return cli_fail(OFR_E_USAGE, "erase does not run in offramp "
		    "daemon");
	if ((rc = daemon_paths(cli->key_path, dir, sock)) != 0)
		return cli_fail(rc, "the key file's path is too long");
	if (daemon_listens(sock))
		return cli_fail(OFR_E_USAGE, "offramp daemon runs for %s: "
		    "stop it first (it would log in again as a new account); "
		    "nothing was erased", cli->key_path);
	if (!yes && (rc = confirm()) != 0)
		return rc;
	if ((rc = account_login(cli)) != 0)
		return rc;
	/* Only a client erases itself; the key file is kept otherwise. */
	if (!json_is_string(json_object_get(cli->account, "role")) ||
	    strcmp(json_string_value(json_object_get(cli->account, "role")),
	    "client") != 0)
		return cli_refused(OFR_E_FORBIDDEN, "account.delete");
	if ((rc = cli_ask(cli, "account.delete", 0, &resp)) != 0)
		return rc;
	json_decref(resp);
	cli_disconnect(cli);
	printf("The server deleted your account, your cases and everything "
	    "it held about you.\n");

	/* Nothing of the store may be saved again: forget it first. */
	keyfile_free(cli->key);
	cli->key = NULL;
	cli->dirty = 0;
	if ((rc = shred(cli->key_path)) != 0)
		return cli_fail(rc, "the account is gone, but the key file "
		    "%s could not be destroyed: %s; delete it yourself",
		    cli->key_path, strerror(errno));
	printf("The key file %s was overwritten with zeros and removed, "
	    "with your message history.\n", cli->key_path);
	if (snprintf(lock, sizeof(lock), "%s.lock", cli->key_path) <
	    (int)sizeof(lock))
		(void)unlink(lock);
	cli_unlock(cli);
	(void)unlink(sock);		/* a stale socket of a daemon gone */
	if (rmdir(dir) == 0)
		printf("The daemon's socket directory %s was removed.\n", dir);
	if (cli_json_on())
		cli_json(json_pack("{s:s,s:b,s:s}", "type", "erase.ok",
		    "key_file_destroyed", 1, "key_file", cli->key_path));
	return 0;
}

int
cmd_forget(struct cli *cli, int argc, char **argv)
{
	struct ks_forgot f;
	int64_t id;
	int rc;

	if ((rc = cli_one_case(cli, argc, argv, "forget CASE", &id)) != 0 ||
	    (rc = cli_load_key(cli)) != 0)
		return rc;
	keyfile_forget_case(cli->key, id, &f);
	cli->dirty = 1;
	if ((rc = cli_save(cli)) != 0)
		return rc;
	printf("Case %lld is forgotten here: %zu messages of its history, "
	    "%zu keys seen in it and %zu sessions were removed from %s.\n",
	    (long long)id, f.messages, f.contacts, f.sessions, cli->key_path);
	if (cli_json_on())
		cli_json(json_pack("{s:s,s:I,s:I,s:I,s:I}", "type", "forget.ok",
		    "case", (json_int_t)id, "messages", (json_int_t)f.messages,
		    "contacts", (json_int_t)f.contacts, "sessions",
		    (json_int_t)f.sessions));
	return 0;
}

/* "off" or a whole number of days 1..KS_KEEP_DAYS_MAX into *days (0:
 * off). 0 or OFR_E_USAGE (not printed). */
static int
parse_keep(const char *s, uint32_t *days)
{
	unsigned long v;
	char *end;

	if (strcmp(s, "off") == 0) {
		*days = 0;
		return 0;
	}
	if (s[0] < '0' || s[0] > '9')
		return OFR_E_USAGE;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > KS_KEEP_DAYS_MAX)
		return OFR_E_USAGE;
	*days = (uint32_t)v;
	return 0;
}

int
cmd_history_keep(struct cli *cli, int argc, char **argv)
{
	const struct cli_opt opts[] = { { NULL, NULL, NULL } };
	struct ks_state *s;
	char *pos[1];
	uint32_t days = 0;
	size_t removed = 0;
	int npos, rc;

	if ((rc = cli_parse(cli, argc, argv, opts, pos, 1, &npos)) != 0)
		return rc;
	if (npos == 1 && parse_keep(pos[0], &days) != 0)
		return cli_usage("history-keep DAYS|off: DAYS a whole number "
		    "from 1 to %d", KS_KEEP_DAYS_MAX);
	if ((rc = cli_load_key(cli)) != 0)
		return rc;
	s = keyfile_state(cli->key);
	if (npos == 1) {
		s->keep_days = days;
		removed = keyfile_history_expire(cli->key,
		    (int64_t)time(NULL));
		cli->dirty = 1;
		if ((rc = cli_save(cli)) != 0)
			return rc;
	}
	if (s->keep_days == 0)
		printf("history-keep: off (messages are kept until you "
		    "forget their case)\n");
	else
		printf("history-keep: %u days (older messages are removed "
		    "from %s)\n", (unsigned)s->keep_days, cli->key_path);
	if (npos == 1)
		printf("removed: %zu\n", removed);
	if (cli_json_on())
		cli_json(json_pack("{s:s,s:I,s:I}", "type", "history-keep.ok",
		    "days", (json_int_t)s->keep_days, "removed",
		    (json_int_t)removed));
	return 0;
}
