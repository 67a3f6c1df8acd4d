/*
 * main.c: the offramp command line: global options and their defaults,
 * the table of commands, usage. Everything a command does is in its own
 * file (account.c, cases.c, messages.c, raw.c).
 */
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/err.h"
#include "proto/ocrypto.h"
#include "cli.h"
#include "keyfile.h"

#define DEFAULT_SERVER		"wss://127.0.0.1:7443"
#define DEFAULT_TIMEOUT_MS	10000

static const char usage_text[] =
"usage: offramp [--server URL] [--ca FILE] [--key FILE]\n"
"               [--passphrase-file FILE] [--timeout SEC]\n"
"               [--programme-key B64] COMMAND [ARGS]\n"
"\n"
"commands:\n"
"  keygen [--kdf interactive|moderate|min]   make a key file (min: tests only)\n"
"  login                                     log in; print role and name\n"
"  redeem TOKEN --name NAME [--languages a,b] [--topics a,b] [--capacity N]\n"
"                                            become a counsellor or admin\n"
"  request --language L [--topic T]          open a case (client)\n"
"  cases                                     list your cases\n"
"  send CASE TEXT...                         send a message (TEXT - : stdin)\n"
"  recv [--count N] [--wait SEC]             print and ack received messages\n"
"  chat CASE                                 talk in a case (stdin lines)\n"
"  close CASE                                close a case\n"
"  invite [--role counsellor|admin] [--ttl SEC]  make an invite (admin)\n"
"  profile [--name N] [--languages a,b] [--topics a,b] [--capacity N]\n"
"          [--available yes|no]              set your profile (counsellor)\n"
"  safety CASE                               print safety numbers of the\n"
"                                            case's other participants\n"
"  verify CASE [--name NAME]                 mark their current keys verified\n"
"                                            (accepts a changed key)\n"
"  history CASE                              print the case's stored messages\n"
"  programme-key                             make the programme's signing\n"
"                                            key (admin, once)\n"
"  certify [--days N]                        certify pending counsellors\n"
"                                            (admin; default 365 days)\n"
"  raw [--login] [--binary] [--count N] [--idle SEC]\n"
"                                            send stdin lines as frames,\n"
"                                            print frames received\n"
"  bundle --dump                             debugging aid: print the base64\n"
"                                            of a fresh signed prekey bundle\n"
"                                            of this key (nothing is kept)\n"
"\n"
"defaults: --server $OFFRAMP_SERVER or " DEFAULT_SERVER ",\n"
"  --ca $OFFRAMP_CA (else the system's CAs), --key $OFFRAMP_KEY or\n"
"  ~/.offramp/identity, passphrase from --passphrase-file, else\n"
"  $OFFRAMP_PASSPHRASE, else asked on the terminal; --timeout 10;\n"
"  --programme-key $OFFRAMP_PROGRAMME_KEY, else each programme's key is\n"
"  pinned the first time one of its counsellors is met.\n"
"The key file is the local store: identity, sessions, prekeys, pinned\n"
"keys and message history, all encrypted under the passphrase.\n"
"exit status: 0 ok, 1 error, 2 usage error, 3 timeout.\n";

static const struct {
	const char *name;
	cli_cmd *fn;
} commands[] = {
	{ "keygen", cmd_keygen },
	{ "login", cmd_login },
	{ "redeem", cmd_redeem },
	{ "request", cmd_request },
	{ "cases", cmd_cases },
	{ "send", cmd_send },
	{ "recv", cmd_recv },
	{ "chat", cmd_chat },
	{ "close", cmd_close },
	{ "invite", cmd_invite },
	{ "profile", cmd_profile },
	{ "raw", cmd_raw },
	{ "programme-key", cmd_programme_key },
	{ "certify", cmd_certify },
	{ "safety", cmd_safety },
	{ "verify", cmd_verify },
	{ "history", cmd_history },
	{ "bundle", cmd_bundle },
};

/* ~/.offramp/identity, in buf. */
static const char *
default_key_path(char *buf, size_t bufsz)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home == NULL || home[0] == '\0') {
		pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : "/";
	}
	if (snprintf(buf, bufsz, "%s/.offramp/identity", home) >= (int)bufsz)
		return NULL;
	return buf;
}

static void
defaults(struct cli *cli, char *keybuf, size_t keybufsz)
{
	const char *s;

	memset(cli, 0, sizeof(*cli));
	s = getenv("OFFRAMP_SERVER");
	cli->server = s != NULL && s[0] != '\0' ? s : DEFAULT_SERVER;
	s = getenv("OFFRAMP_CA");
	cli->ca = s != NULL && s[0] != '\0' ? s : NULL;
	s = getenv("OFFRAMP_PROGRAMME_KEY");
	cli->programme_key = s != NULL && s[0] != '\0' ? s : NULL;
	cli->lock_fd = -1;
	s = getenv("OFFRAMP_KEY");
	cli->key_path = s != NULL && s[0] != '\0' ? s :
	    default_key_path(keybuf, keybufsz);
	cli->timeout_ms = DEFAULT_TIMEOUT_MS;
}

static void
cleanup(struct cli *cli)
{
	cli_disconnect(cli);
	(void)cli_save(cli);	/* keys first seen in cases, pins */
	keyfile_free(cli->key);
	cli->key = NULL;
	cli_unlock(cli);
}

int
main(int argc, char **argv)
{
	char keybuf[PATH_MAX];
	struct cli cli;
	const char *name, *value;
	int i, rc;

	signal(SIGPIPE, SIG_IGN);
	defaults(&cli, keybuf, sizeof(keybuf));
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		name = argv[i];
		value = strchr(name, '=');
		if (value != NULL) {
			char opt[32];
			size_t n = (size_t)(value - name);

			if (n >= sizeof(opt))
				return cli_usage("unknown option %s", name);
			memcpy(opt, name, n);
			opt[n] = '\0';
			rc = cli_global_opt(&cli, opt, value + 1);
		} else {
			if (i + 1 >= argc)
				return cli_usage("%s needs a value", name);
			rc = cli_global_opt(&cli, name, argv[i + 1]);
			if (rc > 0)
				i++;
		}
		if (rc < 0)
			return EXIT_USAGE;
		if (rc == 0)
			return cli_usage("unknown option %s", name);
	}
	if (i >= argc)
		return cli_usage("no command");
	if (strcmp(argv[i], "help") == 0) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (cli.key_path == NULL)
		return cli_fail(OFR_E_USAGE, "no key file path; use --key");
	if (ocrypto_init() != 0)
		return cli_fail(OFR_E_CRYPTO, "libsodium failed to start");
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(commands[c].name, argv[i]) != 0)
			continue;
		rc = commands[c].fn(&cli, argc - i - 1, argv + i + 1);
		cleanup(&cli);
		fflush(stdout);
		return rc;
	}
	return cli_usage("unknown command %s", argv[i]);
}
