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
#include "cluster.h"
#include "config.h"
#include "handlers.h"
#include "intake.h"
#include "jobs.h"
#include "log.h"
#include "metrics.h"
#include "nodes.h"
#include "proto/err.h"
#include "proto/ocrypto.h"
#include "server.h"
#include "store.h"
#include "ws.h"

static struct server *metrics_srv;	/* the server metrics_text() reads */
static volatile sig_atomic_t stopping;
static volatile sig_atomic_t reload;	/* SIGHUP: the certificate again */

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

/*
 * Opens the store of dir. Beside an existing server.key the database must
 * exist and hold offramp's schema: a missing or empty one is not a first
 * start (that would silently begin again, every account gone, with a new
 * bootstrap token) unless the operator says --init. A damaged one (PRAGMA
 * quick_check) is refused. Exits 2 on either, saying why.
 */
static void
open_store(struct server *srv, const char *dir, const char *url, int init)
{
	char path[4096], safe[256];
	int rc, known;

	if ((size_t)snprintf(path, sizeof(path), "%s/server.key", dir) >=
	    sizeof(path))
		fatal("data directory path too long");
	known = access(path, F_OK) == 0;
	rc = store_open_url(&srv->st, dir, url, !known || init);
	if (url != NULL) {
		store_url_safe(url, safe, sizeof(safe));
		if (rc == OFR_E_NOT_FOUND) {
			fprintf(stderr, "offramp-server: %s has a server.key "
			    "but the database %s holds no offramp schema: "
			    "refusing to start over with no accounts. Start "
			    "once with --init to begin with an empty "
			    "database\n", dir, safe);
			exit(2);
		}
		if (rc == OFR_E_IO) {
			fprintf(stderr, "offramp-server: cannot reach the "
			    "store %s (see the log line above)\n", safe);
			exit(2);
		}
		if (rc != 0)
			fatal("cannot open the store %s: %s", safe,
			    err_str(rc));
		if (known && init)
			log_warn("--init: a new database beside the "
			    "existing server.key");
		return;
	}
	if (rc == OFR_E_NOT_FOUND) {
		fprintf(stderr, "offramp-server: %s has a server.key but its "
		    "database (offramp.db) is missing or empty: refusing to "
		    "start over with no accounts. Restore a backup "
		    "(offramp-server restore), or start once with --init to "
		    "begin with an empty database\n", dir);
		exit(2);
	}
	if (rc == OFR_E_BAD_FIELD) {
		fprintf(stderr, "offramp-server: the database %s/offramp.db "
		    "fails its integrity check (PRAGMA quick_check; see the "
		    "log line above): refusing to start. Restore a backup "
		    "(offramp-server restore)\n", dir);
		exit(2);
	}
	if (rc != 0)
		fatal("cannot open the store in %s: %s", dir, err_str(rc));
	if (known && init)
		log_warn("--init: a new database beside the existing "
		    "server.key");
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

/* store_queue_each()'s callback: one programme's queue, to metrics. */
static int
queue_one(void *arg, int64_t programme, int64_t waiting, int64_t since)
{
	metrics_queue_set(programme, waiting, *(int64_t *)arg - since);
	return 0;
}

/* Puts a waiting count of 0 for programme, until the queue says more. */
static int
programme_one(void *arg, const struct programme *p)
{
	(void)arg;
	metrics_queue_set(p->id, 0, 0);
	return 0;
}

/* The body of GET /metrics (ws_config.metrics_text): the store's
 * figures of now, then every metric. */
static char *
metrics_text(size_t pre, size_t *len)
{
	struct store *st = metrics_srv->st;
	int64_t now = time(NULL), db, wal;

	metrics_queue_clear();
	metrics_queue_set(0, 0, 0);
	if (store_programme_each(st, METRICS_PROGRAMMES_MAX - 1,
	    programme_one, NULL) != 0 ||
	    store_queue_each(st, queue_one, &now) != 0)
		log_warn("metrics: cannot read the queue");
	if (store_size(st, &db, &wal) == 0)
		metrics_db_size(db, wal);
	return metrics_render(pre, len);
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stopping = 1;
	ws_wake();
}

#define STR_(x)		#x
#define STR(x)		STR_(x)

/* /healthz's answer while the disk is full (store_full). */
static const char full_why[] = "the disk is full: msg.send is refused "
    "until " STR(STORE_FULL_ROOM_MIB) " MiB are free\n";

/* The retention settings, in one line of the log (PRIVACY.md). */
static void
log_retention(const struct settings *set)
{
	char closed[16], idle[16], unacked[16], invites[16], audit[16];
	char feedback[16];

	config_duration(set->keep_closed, closed, sizeof(closed));
	config_duration(set->keep_idle_client, idle, sizeof(idle));
	config_duration(set->keep_unacked, unacked, sizeof(unacked));
	config_duration(set->keep_invites, invites, sizeof(invites));
	config_duration(set->keep_audit, audit, sizeof(audit));
	config_duration(set->keep_feedback, feedback, sizeof(feedback));
	log_info("retention: closed cases %s after close, clients with no "
	    "case %s after their last login, unacked copies %s, used or "
	    "expired invites %s, audit entries %s, feedback %s after its "
	    "week; checked every %d s", closed, idle, unacked, invites, audit,
	    feedback, set->retention_period);
}

int
main(int argc, char **argv)
{
	static struct server srv;
	struct settings set;
	struct ws_config cfg;
	struct jobs_config jobs;
	const char *data;
	char token[OFR_INVITE_STR_MAX];
	struct sigaction sa;
	int port, rc;

	if (argc > 1 && (strcmp(argv[1], "backup") == 0 ||
	    strcmp(argv[1], "restore") == 0))
		return backup_command(argc - 1, argv + 1);
	if ((rc = config_load(&set, argc, argv)) != 0)
		return rc;
	if (set.help) {
		config_usage(stdout);
		return 0;
	}
	if (set.version) {
		puts("offramp-server " OFFRAMP_VERSION);
		return 0;
	}
	if (set.check) {
		config_print(&set);
		puts("offramp-server: the configuration is usable");
		return 0;
	}
	data = set.data;
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = set.listen;
	cfg.port = set.port;
	cfg.cert = set.cert;
	cfg.key = set.key;
	cfg.web = set.web;
	if (set.metrics != NULL) {
		cfg.metrics_listen = set.metrics_addr;
		cfg.metrics_port = set.metrics_port;
		cfg.metrics_text = metrics_text;
	}
	log_set_level(strcmp(set.log_level, "error") == 0 ? LOG_ERR :
	    strcmp(set.log_level, "warn") == 0 ? LOG_WARN :
	    strcmp(set.log_level, "debug") == 0 ? LOG_DEBUG : LOG_INFO);
	cfg.verbose = strcmp(set.log_level, "debug") == 0;
	srv.login_timeout = set.login_timeout;
	srv.message_timeout = set.message_timeout;
	srv.stall_timeout = set.stall_timeout;
	srv.ping_after = set.ping_after;
	srv.hangup_after = set.hangup_after;
	srv.idle_away = set.idle_away;
	/* A client's last login counts only for the retention of idle
	 * clients: kept to 1/720 of that period, at most an hour (30 days:
	 * an hour), so that most returning logins write nothing. */
	srv.seen_grain = set.keep_idle_client > 0 &&
	    set.keep_idle_client / 720 < 3600 ? set.keep_idle_client / 720 :
	    3600;
	srv.conns_per_account = set.connections_per_account;
	srv.queue_copies = set.queue_copies;
	srv.queue_bytes = (int64_t)set.queue_mib << 20;
	srv.prekey_fetches = set.prekey_fetches;
	intake_configure(&(struct intake_config){ set.pow_bits, set.pow_step,
	    set.pow_max_bits, set.keep_waiting }, time(NULL));
	jobs_config_init(&jobs);
	jobs.period[JOB_REMATCH] = set.rematch_period;
	jobs.period[JOB_PURGE] = set.purge_period;
	jobs.period[JOB_RETAIN] = set.retention_period;
	jobs.keep.closed = set.keep_closed;
	jobs.keep.idle_client = set.keep_idle_client;
	jobs.keep.unacked = set.keep_unacked;
	jobs.keep.invites = set.keep_invites;
	jobs.keep.audit = set.keep_audit;
	jobs.keep.feedback = set.keep_feedback;

	umask(077);
	signal(SIGPIPE, SIG_IGN);
	if (ocrypto_init() != 0)
		fatal("libsodium failed to start");
	lock_data(data);
	open_store(&srv, data, set.store, set.init);
	load_server_key(data, srv.pk);
	srv.now = time(NULL);
	if (set.new_programme != NULL) {
		if ((rc = auth_new_programme(&srv, set.new_programme,
		    token)) != 0)
			fatal("cannot make the programme: %s", err_str(rc));
		printf("offramp-server: programme \"%s\" created; "
		    "its admin invite token: %s\n", set.new_programme, token);
		sodium_memzero(token, sizeof(token));
		store_close(srv.st);
		return 0;
	}
	if ((rc = auth_bootstrap(&srv, set.programme, token)) != 0)
		fatal("cannot make the bootstrap invite: %s", err_str(rc));
	srv.conn = &ws_conn_ops;
	metrics_srv = &srv;
	srv.notify = &cases_notify;
	srv.pump = relay_pump;
	if ((rc = casework_load(&srv)) != 0)
		fatal("cannot load the counsellor pool: %s", err_str(rc));

	if ((port = ws_start(&srv, &cfg)) < 0)
		fatal("cannot listen");
	/* From here commits do not wait for the disk: the store thread
	 * wakes the loop after each sync, and session_turn_end() releases
	 * what the synced commits held. */
	store_on_durable(srv.st, ws_wake);
	/* Other nodes of the same database wake the loop too, and the one
	 * that holds the jobs' lock runs the jobs (cluster.c). */
	if ((rc = cluster_start(&srv, set.store, ws_wake)) != 0)
		fatal("cannot listen to the other nodes: %s", err_str(rc));
	if ((rc = jobs_start(&srv, &jobs)) != 0)
		fatal("cannot start the periodic jobs: %s", err_str(rc));
	nodes_start(&srv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	log_info("offramp-server started, %s", cfg.cert ? "tls" : "no tls");
	log_retention(&set);
	if (cfg.metrics_listen != NULL)
		printf("offramp-server: metrics on %s port %d (/metrics, "
		    "/healthz)\n", cfg.metrics_listen, ws_metrics_port());
	printf("offramp-server: listening on port %d%s\n", port,
	    cfg.cert ? "" : " (no tls)");
	bootstrap_token_file(data, token);
	fflush(stdout);
	sodium_memzero(token, sizeof(token));

	while (!stopping) {
		/* No read transaction held while the loop waits. */
		store_turn_end(srv.st);
		if (ws_service() < 0)
			break;
		if (reload) {
			reload = 0;
			if (cfg.cert == NULL)
				log_info("SIGHUP: no certificate to load");
			else if (ws_reload_cert(cfg.cert, cfg.key) == 0)
				log_info("SIGHUP: the TLS certificate was "
				    "loaded again");
			else
				log_err("SIGHUP: cannot load %s and %s; the "
				    "old certificate stays", cfg.cert, cfg.key);
		}
		nodes_drain(&srv);
		/* The turn's notes to other nodes go with its commit. */
		if ((rc = cluster_flush(&srv)) != 0)
			log_warn("offramp-server: the notes to other nodes "
			    "failed (%s): the turn's commit fails",
			    err_str(rc));
		session_turn_end(&srv);
		if (ws_health_wanted())
			ws_health_answer(store_probe(srv.st) != 0 ?
			    "the store cannot commit\n" : store_full(srv.st) ?
			    full_why : NULL);
	}
	log_info("offramp-server stopping");
	casework_nodes_leave(&srv);
	(void)cluster_flush(&srv);
	session_turn_end(&srv);
	cluster_stop();
	store_on_durable(srv.st, NULL);
	ws_stop();
	if (casework_commit(&srv) != 0)
		log_warn("offramp-server: the last commit failed");
	casework_unload(&srv);
	store_close(srv.st);
	return 0;
}
