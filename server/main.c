/*
 * main.c: offramp-server's start-up and event loop. It reads the options,
 * refuses an unsafe listener, opens the store and the server's identity
 * key, makes sure there is a way to the first admin, and then turns the
 * loop: serve events, commit once, release what the commit allows.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "casework.h"
#include "handlers.h"
#include "jobs.h"
#include "log.h"
#include "proto/err.h"
#include "proto/ocrypto.h"
#include "server.h"
#include "store.h"
#include "ws.h"

static volatile sig_atomic_t stopping;

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: offramp-server --data DIR [options]\n"
	    "  --data DIR            data directory (created 0700)\n"
	    "  --listen ADDR         IP address to listen on (127.0.0.1)\n"
	    "  --port N              port (7443; 0 picks a free one)\n"
	    "  --cert FILE --key FILE  TLS certificate and key (PEM)\n"
	    "  --insecure-no-tls     allow a non-loopback listener without "
	    "TLS\n"
	    "  --programme NAME      name of the first programme\n"
	    "  --new-programme NAME  add a programme, print an invite for its "
	    "first admin, exit\n"
	    "  --login-timeout SEC   close connections not logged in "
	    "(10)\n"
	    "  --rematch-period SEC  match the waiting queue again every SEC "
	    "(60)\n"
	    "  --purge-period SEC    delete expired message records every SEC "
	    "(600)\n"
	    "  --log-level LEVEL     error, warn, info or debug (info)\n"
	    "  --web DIR             serve the built web client in DIR on the "
	    "same port\n"
	    "  --version             print the version and exit\n"
	    "       offramp-server backup --data DIR --to FILE\n"
	    "       offramp-server restore --from FILE --data DIR\n"
	    "The bootstrap admin token (while no admin exists) is written to "
	    "DIR/bootstrap-token (0600).\n");
}

/*
 * Makes dir (0700) when missing and takes dir/offramp.lock for this
 * process, for its whole life: a second server on the same data
 * directory is refused, clearly, before it touches anything.
 */
static void
lock_data(const char *dir)
{
	char path[4096];
	int fd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		fatal("cannot make the data directory %s: %s", dir,
		    strerror(errno));
	if ((size_t)snprintf(path, sizeof(path), "%s/offramp.lock", dir) >=
	    sizeof(path))
		fatal("data directory path too long");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		fatal("cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			fatal("another offramp-server uses the data directory "
			    "%s: stop it first (one server per data directory)",
			    dir);
		fatal("cannot lock %s: %s", path, strerror(errno));
	}
	/* fd stays open: the lock lasts as long as the process */
}

/*
 * Keeps the bootstrap token in dir/bootstrap-token (0600), never in the
 * log or the journal, and says where it is; with no token (an admin
 * exists) removes a file left from before.
 */
static void
bootstrap_token_file(const char *dir, const char *token)
{
	char path[4096];
	size_t n = strlen(token);
	int fd, ok;

	if ((size_t)snprintf(path, sizeof(path), "%s/bootstrap-token",
	    dir) >= sizeof(path))
		fatal("data directory path too long");
	if (token[0] == '\0') {
		if (unlink(path) != 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", path, strerror(errno));
		return;
	}
	(void)unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0)
		fatal("cannot write %s: %s", path, strerror(errno));
	ok = write(fd, token, n) == (ssize_t)n && write(fd, "\n", 1) == 1 &&
	    fsync(fd) == 0;
	if (close(fd) != 0 || !ok)
		fatal("cannot write %s", path);
	printf("offramp-server: bootstrap admin token in %s (valid 24 hours, "
	    "replaced at the next start while no admin exists)\n", path);
}

/*
 * offramp-server backup --data DIR --to FILE: a consistent copy of the
 * database, taken while the server may run (the data directory is not
 * locked: only read).
 * offramp-server restore --from FILE --data DIR: checks the backup and
 * installs it in a data directory that has no database, with no server
 * on it (the lock). Exit 0, 1 on failure (said), 2 on usage.
 */
static int
backup_command(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "to", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	const char *data = NULL, *to = NULL, *from = NULL;
	int backup = strcmp(argv[0], "backup") == 0, c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 't': to = optarg; break;
		case 'f': from = optarg; break;
		default: data = NULL; optind = argc + 1; break;
		}
	}
	if (data == NULL || optind != argc || (backup ? to == NULL ||
	    from != NULL : from == NULL || to != NULL)) {
		fputs("usage: offramp-server backup --data DIR --to FILE\n"
		    "       offramp-server restore --from FILE --data DIR\n",
		    stderr);
		return 2;
	}
	umask(077);
	if (ocrypto_init() != 0)
		fatal("libsodium failed to start");
	if (!backup)
		lock_data(data);
	rc = backup ? store_backup(data, to) : store_restore(from, data);
	if (rc != 0) {
		fprintf(stderr, "offramp-server: %s failed (%s): %s\n",
		    argv[0], err_str(rc), rc == OFR_E_IO ? "the disk is full "
		    "or cannot be written; nothing was left behind" :
		    rc == OFR_E_USAGE ? "the target exists already" :
		    rc == OFR_E_BAD_FIELD ? "the database fails its checks" :
		    "see the log line above");
		return 1;
	}
	printf("offramp-server: %s %s\n", backup ? "backed up to" :
	    "restored into", backup ? to : data);
	if (!backup)
		printf("offramp-server: copy the server's key (server.key) "
		    "from the old data directory too, or clients will see a "
		    "new server\n");
	return 0;
}

/* Reads a number of min..max into *out; -1 when it is out of range. */
static int
read_number(const char *s, long min, long max, int *out)
{
	long v = strtol(s, NULL, 10);

	if (v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static int
is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

static int
is_address(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	return inet_pton(AF_INET, addr, &a4) == 1 ||
	    inet_pton(AF_INET6, addr, &a6) == 1;
}

/* Loads dir/server.key, or makes it (0600) on first start. */
static void
load_server_key(const char *dir, uint8_t pk[OFR_PK_BYTES])
{
	char path[4096];
	uint8_t *sk = sodium_malloc(OFR_SK_BYTES);
	ssize_t n;
	int fd;

	if (sk == NULL)
		fatal("out of memory");
	snprintf(path, sizeof(path), "%s/server.key", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, sk, OFR_SK_BYTES);
		close(fd);
		if (n != OFR_SK_BYTES)
			fatal("server key %s is damaged", path);
	} else if (errno == ENOENT) {
		crypto_sign_keypair(pk, sk);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, sk, OFR_SK_BYTES) != OFR_SK_BYTES ||
		    fsync(fd) != 0)
			fatal("cannot write server key %s", path);
		close(fd);
	} else {
		fatal("cannot read server key %s", path);
	}
	/* The server signs nothing yet: it publishes its key in challenges,
	 * to which clients bind their login signatures. */
	memcpy(pk, sk + 32, OFR_PK_BYTES);
	sodium_free(sk);
}

/* 1 when dir holds a readable index.html (a built client-web). */
static int
web_dir_ok(const char *dir)
{
	char path[4096];
	int n;

	n = snprintf(path, sizeof(path), "%s/index.html", dir);
	return n > 0 && (size_t)n < sizeof(path) && access(path, R_OK) == 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	ws_wake();
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "insecure-no-tls", no_argument, NULL, 'I' },
		{ "programme", required_argument, NULL, 'P' },
		{ "new-programme", required_argument, NULL, 'N' },
		{ "login-timeout", required_argument, NULL, 't' },
		{ "rematch-period", required_argument, NULL, 'R' },
		{ "purge-period", required_argument, NULL, 'G' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "web", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static struct server srv;
	struct ws_config cfg = { .listen = "127.0.0.1", .port = 7443 };
	struct jobs_config jobs;
	const char *data = NULL, *programme = "First programme";
	const char *new_programme = NULL;
	char token[OFR_INVITE_STR_MAX];
	struct sigaction sa;
	int c, insecure = 0, port, rc, bad = 0;

	if (argc > 1 && (strcmp(argv[1], "backup") == 0 ||
	    strcmp(argv[1], "restore") == 0))
		return backup_command(argc - 1, argv + 1);
	srv.login_timeout = 10;
	jobs_config_init(&jobs);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'l': cfg.listen = optarg; break;
		case 'p': bad |= read_number(optarg, 0, 65535, &cfg.port); break;
		case 'c': cfg.cert = optarg; break;
		case 'k': cfg.key = optarg; break;
		case 'I': insecure = 1; break;
		case 'W': cfg.web = optarg; break;
		case 'P': programme = optarg; break;
		case 'N': new_programme = optarg; break;
		case 't':
			bad |= read_number(optarg, 1, 3600, &srv.login_timeout);
			break;
		case 'R':
			bad |= read_number(optarg, 1, JOBS_PERIOD_MAX,
			    &jobs.period[JOB_REMATCH]);
			break;
		case 'G':
			bad |= read_number(optarg, 1, JOBS_PERIOD_MAX,
			    &jobs.period[JOB_PURGE]);
			break;
		case 'L':
			if (strcmp(optarg, "error") == 0)
				log_set_level(LOG_ERR);
			else if (strcmp(optarg, "warn") == 0)
				log_set_level(LOG_WARN);
			else if (strcmp(optarg, "info") == 0)
				log_set_level(LOG_INFO);
			else if (strcmp(optarg, "debug") == 0) {
				log_set_level(LOG_DEBUG);
				cfg.verbose = 1;
			} else {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("offramp-server " OFFRAMP_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad) {
			usage(stderr);
			return 2;
		}
	}
	if (data == NULL || optind != argc || (cfg.cert == NULL) !=
	    (cfg.key == NULL) || strlen(programme) > OFR_NAME_MAX) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cfg.listen, "localhost") == 0)
		cfg.listen = "127.0.0.1";
	if (cfg.web != NULL && !web_dir_ok(cfg.web)) {
		fprintf(stderr, "offramp-server: --web %s: no index.html in "
		    "that directory (build client-web first)\n", cfg.web);
		return 2;
	}
	if (!is_address(cfg.listen)) {
		fprintf(stderr, "offramp-server: --listen takes an IP address\n");
		return 2;
	}
	if (cfg.cert == NULL && !is_loopback(cfg.listen) && !insecure) {
		fprintf(stderr, "offramp-server: refusing to listen on a "
		    "non-loopback address without TLS: give --cert and --key "
		    "(or --insecure-no-tls, if something else encrypts)\n");
		return 2;
	}

	umask(077);
	signal(SIGPIPE, SIG_IGN);
	if (ocrypto_init() != 0)
		fatal("libsodium failed to start");
	lock_data(data);
	if ((rc = store_open(&srv.st, data)) != 0)
		fatal("cannot open the store in %s: %s", data, err_str(rc));
	load_server_key(data, srv.pk);
	srv.now = time(NULL);
	if (new_programme != NULL) {
		if ((rc = auth_new_programme(&srv, new_programme, token)) != 0)
			fatal("cannot make the programme: %s", err_str(rc));
		printf("offramp-server: programme \"%s\" created; "
		    "its admin invite token: %s\n", new_programme, token);
		sodium_memzero(token, sizeof(token));
		store_close(srv.st);
		return 0;
	}
	if ((rc = auth_bootstrap(&srv, programme, token)) != 0)
		fatal("cannot make the bootstrap invite: %s", err_str(rc));
	srv.conn = &ws_conn_ops;
	srv.notify = &cases_notify;
	srv.pump = relay_pump;
	if ((rc = casework_load(&srv)) != 0)
		fatal("cannot load the counsellor pool: %s", err_str(rc));

	if ((port = ws_start(&srv, &cfg)) < 0)
		fatal("cannot listen");
	if ((rc = jobs_start(&srv, &jobs)) != 0)
		fatal("cannot start the periodic jobs: %s", err_str(rc));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	log_info("offramp-server started, %s", cfg.cert ? "tls" : "no tls");
	printf("offramp-server: listening on port %d%s\n", port,
	    cfg.cert ? "" : " (no tls)");
	bootstrap_token_file(data, token);
	fflush(stdout);
	sodium_memzero(token, sizeof(token));

	while (!stopping) {
		if (ws_service() < 0)
			break;
		session_turn_end(&srv);
	}
	log_info("offramp-server stopping");
	session_turn_end(&srv);
	ws_stop();
	/* The stop closed every connection: keep what that changed (the
	 * presence of counsellors whose presence follows them). */
	if (casework_commit(&srv) != 0)
		log_warn("offramp-server: the last commit failed");
	casework_unload(&srv);
	store_close(srv.st);
	return 0;
}
