/*
 * main.c: the offramp command line: global options and their defaults,
 * the table of commands, usage, and the exit status, made here alone from
 * the code a command returns. Everything a command does is in its own
 * file (account.c, cases.c, caseload.c, messages.c, trust.c, e2e.c,
 * pool.c, raw.c); main.c never talks to the server.
 */
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "proto/err.h"
#include "proto/ocrypto.h"
#include "cli.h"
#include "daemon.h"
#include "keyfile.h"
#include "offramp_main.h"

#define DEFAULT_SERVER		"wss://127.0.0.1:7443"
#define DEFAULT_TIMEOUT_MS	10000

static const char usage_text[] =
"usage: offramp [--version] [--json] [--server URL] [--ca FILE] [--key FILE]\n"
"               [--passphrase-file FILE] [--timeout SEC]\n"
"               [--programme-key B64] [--trust-file FILE] COMMAND [ARGS]\n"
"\n"
"commands:\n"
"  keygen [--kdf interactive|moderate]       make a key file\n"
"  whoami                                    your key and its fingerprint\n"
"  login                                     log in; print role and name\n"
"  redeem TOKEN --name NAME [PROFILE]        become a counsellor or admin\n"
"  programmes                                list the programmes:\n"
"                                            ID NAME LANGUAGES FORMATS\n"
"\n"
"clients:\n"
"  request --language L [--topic T] [--programme ID] [--gender G]\n"
"          [--age-band 18-29|30-44|45-59|60-plus]\n"
"          [--background peer|professional]\n"
"          [--format chat|in-person|phone-video] [--region R]\n"
"          [--urgency low|normal|high] [--intake-code CODE]\n"
"                                            open a case; preferences never\n"
"                                            block; prints case:, status:,\n"
"                                            counsellor:, met:, unmet:\n"
"  reassign CASE                             ask for another counsellor\n"
"  feedback CASE [--helpful yes|no] [--recommend yes|no] [--text TEXT]\n"
"                                            anonymous feedback on a closed\n"
"                                            case, once; the text is sealed\n"
"                                            to the programme's certified\n"
"                                            admins (asked when no option)\n"
"  erase [--yes]                             delete your account, your cases\n"
"                                            and all the server holds about\n"
"                                            you (counsellors are told the\n"
"                                            case closed, not why), then\n"
"                                            destroy this key file: zeros,\n"
"                                            fsync, unlink; asks you to type\n"
"                                            ERASE unless --yes; not while\n"
"                                            offramp daemon runs\n"
"\n"
"clients and counsellors:\n"
"  cases                                     list your cases (counsellors:\n"
"                                            also unread=N updated=TIME)\n"
"  send CASE TEXT...                         send a message (TEXT - : stdin)\n"
"  recv [--count N] [--wait SEC]             print and ack received messages\n"
"                                            until none came for SEC (1); with\n"
"                                            --count, N within SEC (--timeout)\n"
"  chat CASE                                 talk in a case (stdin lines)\n"
"  inbox                                     all your cases in one terminal:\n"
"                                            unread counts, new cases and\n"
"                                            who joins or leaves, live; open\n"
"                                            a case, read and send, with\n"
"                                            times (UTC) and marks: \u2713 the\n"
"                                            server has it, \u2713\u2713 delivered;\n"
"                                            /help inside; /quit or Ctrl-D\n"
"  close CASE                                close a case\n"
"  members CASE                              who is in the case (joining or\n"
"                                            in it) and who left, and why;\n"
"                                            confirms to the server you were\n"
"                                            told (a newcomer reads nothing\n"
"                                            before every participant did);\n"
"                                            send writes to no colleague it\n"
"                                            has not shown you\n"
"  remove CASE WHO                           take a colleague out of a case\n"
"                                            (WHO: its name, as members\n"
"                                            shows it); a colleague: itself\n"
"\n"
"counsellors:\n"
"  profile [PROFILE]                         set your profile\n"
"  queue                                     waiting cases you could take:\n"
"                                            ID LANG TOPIC URGENCY waiting=Ns\n"
"                                            [referred by partner programme\n"
"                                            ID NAME]\n"
"  take CASE                                 take a waiting case (a referral:\n"
"                                            you join it as its counsellor)\n"
"  pause CASE | resume CASE | reopen CASE    change a case's status\n"
"  note CASE TEXT...                         add a case note, encrypted to\n"
"                                            yourself (the server sees\n"
"                                            ciphertext only)\n"
"  notes CASE                                print your notes: TIME TEXT\n"
"  bring CASE KEY --as supervisor|co-counsellor|language-helper\n"
"                                            bring a colleague of your\n"
"                                            programme into your case\n"
"\n"
"admins (own programme):\n"
"  invite [--role counsellor|admin] [--ttl SEC]  make an invite:\n"
"                                            expires: TIME, then the token\n"
"  counsellors                               KEY NAME open= capacity=\n"
"                                            presence= certified= disabled=\n"
"  counsellor-update WHO [PROFILE] [--capacity N]\n"
"                                            edit a counsellor's profile\n"
"  disable WHO | enable WHO                  disable a counsellor (its open\n"
"                                            cases go back to matching), or\n"
"                                            enable it again\n"
"  counsellor-delete WHO                     delete a counsellor: its open\n"
"                                            cases go back to matching, its\n"
"                                            profile and account go\n"
"  admin-disable KEY | admin-enable KEY      disable another admin of your\n"
"                                            programme (it cannot log in,\n"
"                                            feedback is no longer sealed\n"
"                                            to it), or enable it again\n"
"  waiting                                   cases waiting for your\n"
"                                            programme or any: ID LANG\n"
"                                            TOPIC URGENCY waiting=Ns\n"
"                                            [referred by partner programme\n"
"                                            ID NAME]\n"
"  assign CASE WHO                           give a waiting case to a\n"
"                                            counsellor, with room or not\n"
"  stats                                     queue:, first-response:, and a\n"
"                                            line per counsellor; a count\n"
"                                            under 5: fewer than 5\n"
"  feedback                                  totals:, then week= helpful=\n"
"                                            recommend= text: per entry,\n"
"                                            from 5 entries on\n"
"  audit [--limit N] [--before ID]           ID TIME ACTOR ACTION TARGET\n"
"                                            DETAIL, newest first\n"
"  programme-set [--name N] [--description D] [--languages a,b]\n"
"          [--topics a,b] [--regions a,b] [--formats a,b]\n"
"          [--intake-code CODE|\"\"]\n"
"                                            the programme's public profile;\n"
"                                            a code asked of direct requests\n"
"  WHO: a counsellor's display name, key fingerprint, key, or a key\n"
"  prefix of 4 or more characters (several matches: an error that lists\n"
"  them)\n"
"\n"
"PROFILE options: [--name N] [--languages a,b] [--topics a,b]\n"
"  [--gender G] [--age-band B] [--background peer|professional]\n"
"  [--formats chat,in-person,phone-video] [--region R]\n"
"  [--presence online|away|offline] [--available yes|no]\n"
"  [--hours \"0:9-17,1:9-17\"] (working hours in UTC, day 0 = Monday;\n"
"  \"\" means any time). The capacity is the admin's to set.\n"
"  NAME, N: shown to clients and admins; a pseudonym, never a real name.\n"
"\n"
"others:\n"
"  safety CASE                               print safety numbers of the\n"
"                                            case's other participants\n"
"  verify CASE NUMBER [--name NAME]          mark verified the key that gives\n"
"                                            the safety NUMBER you compared\n"
"                                            (accepts a changed key)\n"
"  trust add KEY NAME | import FILE | list | remove KEY\n"
"                                            the programme keys you trust,\n"
"                                            given out of band (FILE: lines\n"
"                                            KEY NAME)\n"
"  trust server [--accept]                   the server's key, pinned at the\n"
"                                            first login (accept a new one)\n"
"  history CASE                              print the case's stored messages\n"
"  meeting propose CASE WHEN PLACE [RECOGNISE]\n"
"                                            propose an in-person meeting\n"
"                                            (WHEN: YYYY-MM-DD HH:MM in UTC,\n"
"                                            or @SECONDS); prints its ID\n"
"  meeting reschedule CASE ID WHEN PLACE [RECOGNISE]\n"
"                                            a new time and place for it\n"
"  meeting accept|decline|cancel CASE ID     answer or call off a meeting\n"
"  meetings CASE                             ID WHEN STATUS PLACE RECOGNISE\n"
"                                            of the case's meetings, from\n"
"                                            the key file\n"
"  agreement propose|revise CASE OBJECTIVES FORMATS HOW-OFTEN CRISIS\n"
"                                            the counselling agreement\n"
"  agreement accept CASE                     accept its latest version\n"
"  agreement show CASE                       the agreement and who accepted\n"
"  forget CASE                               remove the case's history, keys\n"
"                                            and sessions from the key file\n"
"  history-keep [DAYS|off]                   keep history DAYS days (1-3650):\n"
"                                            older messages are removed from\n"
"                                            the key file whenever it is\n"
"                                            opened or saved; off (the\n"
"                                            default): kept until forgotten;\n"
"                                            no argument: show the setting\n"
"\n"
"programme signing key (admins; SIGN: --signing-key FILE\n"
"  [--signing-passphrase-file F], the key's own file and passphrase):\n"
"  programme-key new --out FILE              make it (once), in its own file\n"
"  programme-key export SIGN --out FILE      a copy under a new passphrase\n"
"  programme-key rotate SIGN --out FILE      a new key, signed by the old;\n"
"                                            counsellors certified again\n"
"  programme-key admin-cert SIGN [--days N]  certify your own admin key, so\n"
"                                            clients can seal feedback to it\n"
"                                            (default 365 days)\n"
"  certify                                   list the pending counsellors:\n"
"                                            name, fingerprint, profile\n"
"  certify SIGN [--days N] NAME-or-FPR...    certify those (default 90 days)\n"
"  certify SIGN --renew [NAME-or-FPR...]     renew certified ones\n"
"  revoke SIGN NAME-or-FPR...                add to the revocation list\n"
"  partner SIGN PROGRAMME KEY [--days N]     vouch for a partner's key, on\n"
"                                            your side only\n"
"  partnership list                          proposals and partnerships of\n"
"                                            your programme\n"
"  partnership propose SIGN PROGRAMME KEY [--days N]\n"
"                                            propose a partnership, vouching\n"
"                                            for its KEY (given out of band)\n"
"  partnership accept SIGN ID KEY [--days N] accept proposal ID: its KEY\n"
"                                            (given out of band) must have\n"
"                                            signed it; you vouch for KEY\n"
"  partnership end ID                        end it (either side): neither\n"
"                                            key is vouched for any more\n"
"  (--new-passphrase-file F: the new file's passphrase)\n"
"\n"
"partner directory:\n"
"  directory                                 your programme's partners\n"
"                                            (counsellors and admins)\n"
"  external add NAME --contact C [--regions R] [--formats F] [--topics T]\n"
"                                            an external partner (admins;\n"
"                                            not on this server)\n"
"  external set ID [--name N] [--contact C] [--regions R] [--formats F]\n"
"      [--topics T]                          change it\n"
"  external remove ID                        remove it\n"
"  refer-external CASE EXTERNAL-ID [--contact C] [--expect TEXT]\n"
"      [--say TEXT]                          send the client a referral card\n"
"                                            for an external partner (its\n"
"                                            name and contact from the\n"
"                                            directory, shown and asked\n"
"                                            about; without a terminal sent\n"
"                                            only when --contact is the\n"
"                                            directory's), encrypted; then\n"
"                                            tell the server only that the\n"
"                                            case was referred (counsellors)\n"
"\n"
"referrals to a partner programme:\n"
"  referral propose CASE PARTNER [--reason TEXT] [--offer TEXT]\n"
"                                            propose (the case's counsellor);\n"
"                                            reason and offer go to the\n"
"                                            client alone, encrypted\n"
"  referral show CASE                        the referral, the partner's\n"
"                                            profile and its counsellor\n"
"  referral accept|decline CASE              the client's answer\n"
"  referral accept CASE PARTNER              only if the referral is to\n"
"                                            PARTNER (the one shown)\n"
"  referral withdraw CASE                    the client takes it back, or the\n"
"                                            counsellor cancels it\n"
"  referral draft CASE TEXT...               the handover summary, to the\n"
"                                            client alone (TEXT - : stdin)\n"
"  referral approve CASE TEXT...             the client approves the summary\n"
"                                            it read (its digest)\n"
"  referral summary CASE TEXT...             the approved summary, to the\n"
"                                            partner's counsellor alone\n"
"  referral complete CASE                    hand over: you leave the case\n"
"  referral stats                            your programme's figures (admins)\n"
"\n"
"session:\n"
"  daemon [--detach]                         hold the key file (passphrase\n"
"                                            asked once) and a connection;\n"
"                                            while it runs, every command of\n"
"                                            that key file runs in it, and a\n"
"                                            counsellor is connected (new\n"
"                                            cases come only then). --detach:\n"
"                                            go on in the background once the\n"
"                                            passphrase is in; prints its pid\n"
"                                            (stop: Ctrl-C or SIGTERM). Socket:\n"
"                                            KEYFILE.d/sock (dir 0700, socket\n"
"                                            0600, yours alone). One of chat,\n"
"                                            inbox, recv --wait at a time;\n"
"                                            other commands run meanwhile.\n"
"                                            raw and keygen do not go\n"
"                                            through it; it uses its own\n"
"                                            --server and --ca.\n"
"\n"
"  raw [--login] [--binary] [--count N | --answered] [--idle SEC]\n"
"      [--no-pow]                            send stdin lines as frames,\n"
"                                            print frames received; after\n"
"                                            stdin ends, stop after N or\n"
"                                            once each frame sent with an\n"
"                                            id has its answer; a\n"
"                                            case.request with no \"pow\"\n"
"                                            gets the proof of work asked\n"
"                                            for (not with --no-pow)\n"
"  bundle --dump                             debugging aid: print the base64\n"
"                                            of a fresh signed prekey bundle\n"
"                                            of this key (nothing is kept)\n"
"\n"
"defaults: --server $OFFRAMP_SERVER or " DEFAULT_SERVER ",\n"
"  --ca $OFFRAMP_CA (else the system's CAs), --key $OFFRAMP_KEY or\n"
"  ~/.offramp/identity, passphrase from --passphrase-file, else\n"
"  $OFFRAMP_PASSPHRASE, else asked on the terminal; --timeout 10;\n"
"  --programme-key $OFFRAMP_PROGRAMME_KEY, --trust-file $OFFRAMP_TRUST_FILE:\n"
"  programme keys you were given, added to those you trust. A programme\n"
"  key you were not given is never used silently: on a terminal you are\n"
"  shown its fingerprint and asked, otherwise the command refuses.\n"
"The key file is the local store: identity, sessions, prekeys, trusted\n"
"keys and message history, all encrypted under the passphrase.\n"
"--json: instead of the lines for people, JSON lines for scripts: the\n"
"  server's answers (or the command's own results), and each error as\n"
"  {\"error\": CODE, \"type\", \"field\", \"message\"}.\n"
"exit status: 0 ok, 1 error, 2 usage error, 3 timeout.\n";

/* --json of a command: the answers to its request of this type are its
 * JSON lines; OWN_JSON: the command writes them; NO_JSON: none (it is
 * interactive, or prints frames already). */
#define OWN_JSON	""
#define NO_JSON		NULL

static const struct {
	const char *name;
	cli_cmd *fn;
	const char *json;
} commands[] = {
	{ "keygen", cmd_keygen, OWN_JSON },
	{ "login", cmd_login, "login" },
	{ "redeem", cmd_redeem, "redeem" },
	{ "request", cmd_request, "case.request" },
	{ "cases", cmd_cases, "case.list" },
	{ "send", cmd_send, "msg.send" },
	{ "recv", cmd_recv, OWN_JSON },
	{ "chat", cmd_chat, NO_JSON },
	{ "inbox", cmd_inbox, NO_JSON },
	{ "close", cmd_close, "case.close" },
	{ "invite", cmd_invite, "invite.create" },
	{ "profile", cmd_profile, "profile.set" },
	{ "raw", cmd_raw, NO_JSON },
	{ "programme-key", cmd_programme_key, OWN_JSON },
	{ "certify", cmd_certify, "counsellor.certify" },
	{ "revoke", cmd_revoke, "programme.revoke" },
	{ "partner", cmd_partner, "programme.partner" },
	{ "partnership", cmd_partnership, OWN_JSON },
	{ "directory", cmd_directory, "partner.directory" },
	{ "external", cmd_external, OWN_JSON },
	{ "refer-external", cmd_refer_external, "case.referred" },
	{ "trust", cmd_trust, OWN_JSON },
	{ "whoami", cmd_whoami, OWN_JSON },
	{ "safety", cmd_safety, OWN_JSON },
	{ "verify", cmd_verify, OWN_JSON },
	{ "history", cmd_history, OWN_JSON },
	{ "meeting", cmd_meeting, "msg.send" },
	{ "meetings", cmd_meetings, NO_JSON },
	{ "agreement", cmd_agreement, "msg.send" },
	{ "bundle", cmd_bundle, NO_JSON },
	{ "reassign", cmd_reassign, "case.reassign" },
	{ "programmes", cmd_programmes, "programme.list" },
	{ "queue", cmd_queue, "case.queue" },
	{ "take", cmd_take, "case.take" },
	{ "pause", cmd_pause, "case.pause" },
	{ "resume", cmd_resume, "case.resume" },
	{ "reopen", cmd_reopen, "case.reopen" },
	{ "note", cmd_note, "note.add" },
	{ "notes", cmd_notes, OWN_JSON },
	{ "counsellors", cmd_counsellors, "counsellor.list" },
	{ "counsellor-update", cmd_counsellor_update, "counsellor.update" },
	{ "disable", cmd_disable, "counsellor.disable" },
	{ "enable", cmd_enable, "counsellor.enable" },
	{ "counsellor-delete", cmd_counsellor_delete, "counsellor.delete" },
	{ "admin-disable", cmd_admin_disable, "admin.disable" },
	{ "admin-enable", cmd_admin_enable, "admin.enable" },
	{ "stats", cmd_stats, "pool.stats" },
	{ "audit", cmd_audit, "audit.list" },
	{ "programme-set", cmd_programme_set, "programme.set" },
	{ "daemon", cmd_daemon, NO_JSON },
	{ "erase", cmd_erase, OWN_JSON },
	{ "forget", cmd_forget, OWN_JSON },
	{ "feedback", cmd_feedback, NO_JSON },
	{ "history-keep", cmd_history_keep, OWN_JSON },
	{ "bring", cmd_bring, "case.invite" },
	{ "members", cmd_members, "case.seen" },
	{ "remove", cmd_remove, "case.remove" },
	{ "waiting", cmd_waiting, "case.waiting" },
	{ "assign", cmd_assign, "case.assign" },
	{ "referral", cmd_referral, NO_JSON },
};

daemon_cmd_fn *
main_command(const char *name)
{
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(commands[c].name, name) == 0)
			return commands[c].fn;
	return NULL;
}

int
main_dispatch(struct cli *cli, int json, int argc, char **argv)
{
	char *args[DISPATCH_ARGS_MAX];
	int n = 0, taken = 0, rc, plain = 0;

	/* "--json" among the words before "--" is taken out */
	for (int i = 0; i < argc && n < DISPATCH_ARGS_MAX; i++) {
		if (!plain && strcmp(argv[i], "--") == 0)
			plain = 1;
		if (!plain && i > 0 && strcmp(argv[i], "--json") == 0) {
			json = 1;
			taken++;
		} else {
			args[n++] = argv[i];
		}
	}
	if (n + taken < argc)
		return cli_usage("too many arguments");
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(commands[c].name, args[0]) != 0)
			continue;
		if (json && commands[c].json == NO_JSON)
			return cli_usage("%s has no --json output (chat, inbox "
			    "and daemon are interactive: use send and recv; raw "
			    "and bundle print frames already)", args[0]);
		cli->json_type = json && commands[c].json[0] != '\0' ?
		    commands[c].json : NULL;
		if (json)
			cli_json_begin();
		rc = commands[c].fn(cli, n - 1, args + 1);
		cli_json_end();
		cli->json_type = NULL;
		return rc;
	}
	return cli_usage("unknown command %s", args[0]);
}

/* The exit statuses (usage_text says them). */
#define EXIT_OK		0
#define EXIT_ERR	1
#define EXIT_USAGE	2
#define EXIT_TIMEOUT	3

/* The exit status of the code a command (or main) returned: the one
 * place that turns codes into statuses. */
static int
exit_status(int rc)
{
	if (rc == 0)
		return 0;
	if (rc == OFR_E_USAGE)
		return EXIT_USAGE;
	if (rc == OFR_E_TIMEOUT)
		return EXIT_TIMEOUT;
	return EXIT_ERR;
}

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
	s = getenv("OFFRAMP_TRUST_FILE");
	cli->trust_file = s != NULL && s[0] != '\0' ? s : NULL;
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

/* The command line without its exit status: 0 or an error code
 * (printed). */
static int
run(int argc, char **argv)
{
	char keybuf[PATH_MAX];
	struct cli cli;
	const char *name, *value;
	int i, rc, taken = 0, json = 0;

	defaults(&cli, keybuf, sizeof(keybuf));
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			puts("offramp " OFFRAMP_VERSION);
			return 0;
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
			rc = cli_global_opt(&cli, opt, value + 1, &taken);
		} else {
			if (i + 1 >= argc)
				return cli_usage("%s needs a value", name);
			rc = cli_global_opt(&cli, name, argv[i + 1], &taken);
			if (rc == 0 && taken)
				i++;
		}
		if (rc != 0)
			return rc;
		if (!taken)
			return cli_usage("unknown option %s", name);
	}
	if (i >= argc)
		return cli_usage("no command");
	if (strcmp(argv[i], "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (cli.key_path == NULL)
		return cli_fail(OFR_E_USAGE, "no key file path; use --key");
	if (ocrypto_init() != 0)
		return cli_fail(OFR_E_CRYPTO, "libsodium failed to start");
	if (main_command(argv[i]) == NULL)
		return cli_usage("unknown command %s", argv[i]);
	/* a daemon for this key file runs it (daemon.h); a --json given
	 * before the command goes after its name */
	if (strcmp(argv[i], "daemon") != 0 && strcmp(argv[i], "keygen") != 0 &&
	    strcmp(argv[i], "erase") != 0) {
		char *fwd[DISPATCH_ARGS_MAX];
		int n = 0, handled = 0;

		fwd[n++] = argv[i];
		if (json)
			fwd[n++] = "--json";
		for (int k = i + 1; k < argc && n < DISPATCH_ARGS_MAX; k++)
			fwd[n++] = argv[k];
		if ((rc = daemon_client_run(&cli, n, fwd, &handled,
		    &taken)) == 0 && handled)
			return taken;
		if (handled)
			return rc;
	}
	rc = main_dispatch(&cli, json, argc - i, argv + i);
	cleanup(&cli);
	fflush(stdout);
	return rc;
}

/*
 * No core file: the messages and names the CLI holds are in its heap in
 * clear (the key file's secrets are in sodium's memory, which a core
 * leaves out, but not the history), and a crash or a SIGQUIT would
 * write them to disk. Not dumpable either (no core through a pipe's
 * handler, no ptrace by the same user), but under AddressSanitizer,
 * whose leak check at exit needs ptrace.
 */
static void
no_core(void)
{
	const struct rlimit none = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &none);
#ifndef __SANITIZE_ADDRESS__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

int
offramp_main(int argc, char **argv)
{
	no_core();
	signal(SIGPIPE, SIG_IGN);
	return exit_status(run(argc, argv));
}
