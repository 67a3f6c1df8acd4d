/*
 * config.c: the server's settings (config.h). One table names each
 * setting once: its key (the configuration file's and the flag's, as
 * --key), its kind, its bounds and where it lives in struct settings.
 * The file parser and the command line both walk it; so does the
 * printer of --check-config.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "store.h"
#include "store_faults.h"
#include "jobs.h"
#include "proto/limits.h"
#include "proto/pow.h"

enum kind {
	K_STR,		/* a string */
	K_PATH,		/* a string naming a file or directory */
	K_NUM,		/* an integer in min..max */
	K_BOOL,		/* yes/no in the file; a flag without value */
	K_LEVEL,	/* error, warn, info, debug */
	K_DURATION,	/* a whole number and a unit (s, m, h, d): seconds */
};

struct opt {
	const char *key;
	enum kind kind;
	long min, max;
	size_t off;
	int file;	/* settable in the file */
	const char *help;
};

#define OFF(f)	offsetof(struct settings, f)

static const struct opt table[] = {
	{ "data", K_PATH, 0, 0, OFF(data), 1,
	    "data directory (created 0700)" },
	{ "store", K_STR, 0, 0, OFF(store), 1,
	    "the store: a postgresql:// URL (default: SQLite in the data "
	    "directory)" },
	{ "listen", K_STR, 0, 0, OFF(listen), 1,
	    "IP address to listen on (127.0.0.1)" },
	{ "port", K_NUM, 0, 65535, OFF(port), 1,
	    "port (7443; 0 picks a free one)" },
	{ "cert", K_PATH, 0, 0, OFF(cert), 1,
	    "TLS certificate (PEM), with key" },
	{ "key", K_PATH, 0, 0, OFF(key), 1, "TLS private key (PEM)" },
	{ "insecure-no-tls", K_BOOL, 0, 1, OFF(insecure_no_tls), 1,
	    "allow a non-loopback listener without TLS" },
	{ "web", K_PATH, 0, 0, OFF(web), 1,
	    "serve the built web client in this directory" },
	{ "programme", K_STR, 0, 0, OFF(programme), 1,
	    "name of the first programme" },
	{ "login-timeout", K_NUM, 1, 3600, OFF(login_timeout), 1,
	    "close connections not logged in after SEC (10)" },
	{ "stall-timeout", K_NUM, 1, 3600, OFF(stall_timeout), 1,
	    "cut a connection that takes less than 1 KiB a second of what "
	    "waits for it (its close, or past 1 MiB) for SEC (60)" },
	{ "message-timeout", K_NUM, 1, 3600, OFF(message_timeout), 1,
	    "close a logged-in connection that began a message and has not "
	    "ended it after SEC (60)" },
	{ "ping-after", K_NUM, 1, 3600, OFF(ping_after), 1,
	    "ping a connection from which nothing came for SEC (60)" },
	{ "hangup-after", K_NUM, 2, 7200, OFF(hangup_after), 1,
	    "close a connection from which nothing came for SEC, a ping's "
	    "answer included (150; more than ping-after)" },
	{ "rematch-period", K_NUM, 1, JOBS_PERIOD_MAX, OFF(rematch_period),
	    1, "match the waiting queue again every SEC (60)" },
	{ "idle-away", K_NUM, 0, JOBS_PERIOD_MAX, OFF(idle_away), 1,
	    "a connected counsellor with no request for SEC is away (1800; "
	    "0: never)" },
	{ "purge-period", K_NUM, 1, JOBS_PERIOD_MAX, OFF(purge_period), 1,
	    "delete expired message records every SEC (600)" },
	{ "retention-period", K_NUM, 1, JOBS_PERIOD_MAX,
	    OFF(retention_period), 1,
	    "delete what is past its retention every SEC (600)" },
	{ "keep-closed", K_DURATION, 1, JOBS_KEEP_MAX, OFF(keep_closed), 1,
	    "delete a closed case and all of it this long after close (30d)" },
	{ "keep-idle-client", K_DURATION, 1, JOBS_KEEP_MAX,
	    OFF(keep_idle_client), 1,
	    "delete a client account with no case this long after its last "
	    "login (30d)" },
	{ "keep-unacked", K_DURATION, 1, JOBS_KEEP_MAX, OFF(keep_unacked), 1,
	    "delete a copy never acknowledged this long after it was sent "
	    "(30d)" },
	{ "keep-invites", K_DURATION, 1, JOBS_KEEP_MAX, OFF(keep_invites), 1,
	    "delete an invite this long after its use or expiry (7d)" },
	{ "keep-audit", K_DURATION, 1, JOBS_KEEP_MAX, OFF(keep_audit), 1,
	    "delete audit entries this old (365d)" },
	{ "keep-feedback", K_DURATION, 1, JOBS_KEEP_MAX, OFF(keep_feedback),
	    1, "delete feedback of weeks this long past (365d)" },
	{ "connections-per-account", K_NUM, 1, 1000,
	    OFF(connections_per_account), 1,
	    "logged-in connections one account may have at once (8)" },
	{ "queue-copies", K_NUM, 1, 1000000, OFF(queue_copies), 1,
	    "copies stored for one recipient, not yet acked (5000)" },
	{ "queue-mib", K_NUM, 1, 65536, OFF(queue_mib), 1,
	    "MiB of copies stored for one recipient, not yet acked (64)" },
	{ "prekey-fetches", K_NUM, 1, 100000, OFF(prekey_fetches), 1,
	    "prekeys.get of one account for one key in an hour (20)" },
	/* intake (PROTOCOL.md, "Proof of work", "Waiting cases") */
	{ "pow-bits", K_NUM, 0, OFR_POW_BITS_MAX, OFF(pow_bits), 1,
	    "proof of work of a new client or a case request, in bits (20; "
	    "0: none)" },
	{ "pow-step", K_NUM, 1, 100000, OFF(pow_step), 1,
	    "one bit more for each N new clients and case requests in the "
	    "last minute (30)" },
	{ "pow-max-bits", K_NUM, 0, OFR_POW_BITS_MAX, OFF(pow_max_bits), 1,
	    "the most bits ever asked (24)" },
	{ "keep-waiting", K_DURATION, 1, JOBS_KEEP_MAX, OFF(keep_waiting),
	    1, "close a waiting case whose client has been gone this long "
	    "(30m)" },
	{ "log-level", K_LEVEL, 0, 0, OFF(log_level), 1,
	    "error, warn, info or debug (info)" },
	{ "metrics", K_STR, 0, 0, OFF(metrics), 1,
	    "serve /metrics and /healthz on loopback ADDR:PORT (off)" },
	{ "init", K_BOOL, 0, 1, OFF(init), 0,
	    "start with a new, empty database even though server.key "
	    "exists (every account is gone)" },
	{ "new-programme", K_STR, 0, 0, OFF(new_programme), 0,
	    "add a programme, print an invite for its first admin, exit" },
	{ "config", K_PATH, 0, 0, OFF(config), 0,
	    "the configuration file (" CONFIG_DEFAULT_PATH " when it exists)" },
	{ "check-config", K_BOOL, 0, 1, OFF(check), 0,
	    "print the effective configuration; exit 0, or 2 on an error" },
	{ "help", K_BOOL, 0, 1, OFF(help), 0, "this text" },
	{ "version", K_BOOL, 0, 1, OFF(version), 0,
	    "print the version and exit" },
};
#define NOPTS	(sizeof(table) / sizeof(table[0]))

/* Where each setting came from: "default", "FILE:LINE" or "--key". */
static char source[NOPTS][CONFIG_SOURCE_MAX];
/* The value of each setting read from the file, for the process's life. */
#define VALUE_MAX	1024
static char value[NOPTS][VALUE_MAX];

static const char **
str_at(struct settings *s, const struct opt *o)
{
	return (const char **)(void *)((char *)s + o->off);
}

static int *
int_at(struct settings *s, const struct opt *o)
{
	return (int *)(void *)((char *)s + o->off);
}

static const struct opt *
find(const char *key)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(table[i].key, key) == 0)
			return &table[i];
	return NULL;
}

/* The seconds of duration v ("30d", "12h", "90m", "2s") into *secs when
 * it is min..max seconds: 0, or -1. A unit is required: a bare number
 * could be read as days or as seconds. */
static int
duration(const char *v, long min, long max, long *secs)
{
	static const struct {
		char unit;
		long secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char *end;
	long n;

	if (*v < '0' || *v > '9')
		return -1;	/* no sign, no space */
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || end[0] == '\0' || end[1] != '\0')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (*end != units[i].unit)
			continue;
		if (n > max / units[i].secs || n * units[i].secs < min)
			return -1;
		*secs = n * units[i].secs;
		return 0;
	}
	return -1;
}

void
config_duration(int secs, char *buf, size_t cap)
{
	if (secs % 86400 == 0)
		snprintf(buf, cap, "%dd", secs / 86400);
	else if (secs % 3600 == 0)
		snprintf(buf, cap, "%dh", secs / 3600);
	else if (secs % 60 == 0)
		snprintf(buf, cap, "%dm", secs / 60);
	else
		snprintf(buf, cap, "%ds", secs);
}

/* Sets o from text v, coming from where: 0, or 2 (printed). */
static int
set(struct settings *s, const struct opt *o, const char *v,
    const char *where)
{
	char *end;
	long n;

	switch (o->kind) {
	case K_NUM:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < o->min ||
		    n > o->max) {
			fprintf(stderr, "offramp-server: %s: %s must be a "
			    "number from %ld to %ld, not \"%s\"\n", where,
			    o->key, o->min, o->max, v);
			return 2;
		}
		*int_at(s, o) = (int)n;
		break;
	case K_DURATION:
		if (duration(v, o->min, o->max, &n) != 0) {
			fprintf(stderr, "offramp-server: %s: %s must be a "
			    "duration from 1s to %ldd: a whole number and a "
			    "unit (s, m, h or d), e.g. 30d; not \"%s\"\n",
			    where, o->key, o->max / 86400, v);
			return 2;
		}
		*int_at(s, o) = (int)n;
		break;
	case K_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
			*int_at(s, o) = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
			*int_at(s, o) = 0;
		else {
			fprintf(stderr, "offramp-server: %s: %s is yes or no, "
			    "not \"%s\"\n", where, o->key, v);
			return 2;
		}
		break;
	case K_LEVEL:
		if (strcmp(v, "error") != 0 && strcmp(v, "warn") != 0 &&
		    strcmp(v, "info") != 0 && strcmp(v, "debug") != 0) {
			fprintf(stderr, "offramp-server: %s: log-level is "
			    "error, warn, info or debug, not \"%s\"\n", where, v);
			return 2;
		}
		*str_at(s, o) = v;
		break;
	default:
		if (v[0] == '\0') {
			fprintf(stderr, "offramp-server: %s: %s is empty\n",
			    where, o->key);
			return 2;
		}
		*str_at(s, o) = v;
		break;
	}
	snprintf(source[o - table], CONFIG_SOURCE_MAX, "%s", where);
	return 0;
}

/* Reads the configuration file path: 0, or 2 (printed). Each value is
 * kept in value[] (a line is at most VALUE_MAX bytes; 200 lines). */
static int
read_file(struct settings *s, const char *path)
{
	char line[1024], where[CONFIG_SOURCE_MAX], *k, *v, *e;
	const struct opt *o;
	int lineno = 0, rc = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "offramp-server: cannot read the configuration "
		    "file %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		snprintf(where, sizeof(where), "%s:%d", path, ++lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "offramp-server: %s: line too long\n",
			    where);
			rc = 2;
			break;
		}
		if (lineno > 200) {
			fprintf(stderr, "offramp-server: %s: more than 200 "
			    "lines\n", where);
			rc = 2;
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		if (*k == '\0' || *k == '#')
			continue;
		if ((v = strchr(k, '=')) == NULL) {
			fprintf(stderr, "offramp-server: %s: not \"key = "
			    "value\"\n", where);
			rc = 2;
			break;
		}
		for (e = v; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' ||
		    e[-1] == '\t'); e--)
			;
		*e = '\0';
		if ((o = find(k)) == NULL || !o->file) {
			fprintf(stderr, "offramp-server: %s: unknown key "
			    "\"%s\" (see deploy/offramp.conf)\n", where, k);
			rc = 2;
			break;
		}
		snprintf(value[o - table], VALUE_MAX, "%s", v);
		rc = set(s, o, value[o - table], where);
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "offramp-server: cannot read %s\n", path);
		rc = 2;
	}
	fclose(f);
	return rc;
}

/* The source of setting key, for an error message. */
static const char *
from(const char *key)
{
	const struct opt *o = find(key);

	return source[o - table];
}

static int
is_address(const char *a)
{
	struct in_addr a4;
	struct in6_addr a6;

	return inet_pton(AF_INET, a, &a4) == 1 ||
	    inet_pton(AF_INET6, a, &a6) == 1;
}

static int
is_loopback(const char *a)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, a, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, a, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/*
 * Parses the metrics setting, "ADDR:PORT" or "[ADDR]:PORT" (an IPv6
 * address; "localhost" is 127.0.0.1), into s: 0, or 2 (printed). Only a
 * loopback address is taken: the figures are for the operator's host.
 */
static int
check_metrics(struct settings *s)
{
	char addr[CONFIG_ADDR_MAX + 2], *end;
	const char *v = s->metrics, *colon;
	size_t n;
	long port;

	colon = strrchr(v, ':');
	if (colon == NULL || (n = (size_t)(colon - v)) == 0 ||
	    n >= sizeof(addr))
		goto bad;
	memcpy(addr, v, n);
	addr[n] = '\0';
	if (addr[0] == '[') {
		if (n < 3 || addr[n - 1] != ']' || strchr(addr + 1, ':') ==
		    NULL)
			goto bad;
		memmove(addr, addr + 1, n - 2);
		addr[n - 2] = '\0';
	} else if (strchr(addr, ':') != NULL) {
		goto bad;	/* an IPv6 address goes in brackets */
	}
	if (strcmp(addr, "localhost") == 0)
		strcpy(addr, "127.0.0.1");
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!is_address(addr) || errno != 0 || end == colon + 1 ||
	    *end != '\0' || port < 0 || port > 65535)
		goto bad;
	if (!is_loopback(addr)) {
		fprintf(stderr, "offramp-server: %s: refusing to serve metrics "
		    "on a non-loopback address (%s): metrics takes an address "
		    "of 127.0.0.0/8 or ::1\n", from("metrics"), addr);
		return 2;
	}
	if (port != 0 && port == s->port && strcmp(addr, s->listen) == 0) {
		fprintf(stderr, "offramp-server: %s: metrics needs a port of "
		    "its own, not the listener's (%ld)\n", from("metrics"),
		    port);
		return 2;
	}
	if ((n = strlen(addr)) >= sizeof(s->metrics_addr))
		goto bad;	/* an address literal fits: never */
	memcpy(s->metrics_addr, addr, n + 1);
	s->metrics_port = (int)port;
	return 0;
bad:
	fprintf(stderr, "offramp-server: %s: metrics takes ADDRESS:PORT "
	    "(127.0.0.1:9464, or [::1]:9464), not \"%s\"\n", from("metrics"),
	    v);
	return 2;
}

/* A store's URL: postgresql:// (or postgres://), in a build with
 * PostgreSQL. */
static int
check_store(const struct settings *s)
{
#ifndef OFFRAMP_POSTGRES
	char safe[256];

#endif
	if (strncmp(s->store, "postgresql://", 13) != 0 &&
	    strncmp(s->store, "postgres://", 11) != 0) {
		fprintf(stderr, "offramp-server: %s: store takes a "
		    "postgresql:// URL (without it, the store is SQLite in "
		    "the data directory)\n", from("store"));
		return 2;
	}
#ifndef OFFRAMP_POSTGRES
	fprintf(stderr, "offramp-server: %s: this offramp-server is built "
	    "without PostgreSQL (cmake -DOFFRAMP_POSTGRES=ON): it cannot use "
	    "the store %s\n", from("store"),
	    store_url_safe(s->store, safe, sizeof(safe)));
	return 2;
#else
	return 0;
#endif
}

/* The checks across settings and of the paths they name. */
static int
check(struct settings *s)
{
	char path[4096];
	struct stat sb;
	char *slash;
	int rc;

	if (s->data == NULL) {
		fprintf(stderr, "offramp-server: no data directory: give "
		    "--data DIR or data = DIR in the configuration file\n");
		return 2;
	}
	if (stat(s->data, &sb) == 0 ? !S_ISDIR(sb.st_mode) ||
	    access(s->data, R_OK | W_OK | X_OK) != 0 : errno != ENOENT) {
		fprintf(stderr, "offramp-server: %s: data %s is not a "
		    "directory this user can use\n", from("data"), s->data);
		return 2;
	}
	if (stat(s->data, &sb) != 0) {	/* to be made: its parent */
		snprintf(path, sizeof(path), "%s", s->data);
		slash = strrchr(path, '/');
		if (slash == path)
			slash[1] = '\0';
		else if (slash != NULL)
			*slash = '\0';
		else
			strcpy(path, ".");
		if (access(path, W_OK | X_OK) != 0) {
			fprintf(stderr, "offramp-server: %s: data %s cannot be "
			    "made (its parent is not writable)\n",
			    from("data"), s->data);
			return 2;
		}
	}
	if (s->store != NULL && (rc = check_store(s)) != 0)
		return rc;
	if (s->hangup_after <= s->ping_after) {
		/* named by the one set, or by hangup-after if both are */
		fprintf(stderr, "offramp-server: %s: hangup-after (%d) must be "
		    "more than ping-after (%d)\n", from(strcmp(
		    from("hangup-after"), "default") != 0 ? "hangup-after" :
		    "ping-after"), s->hangup_after, s->ping_after);
		return 2;
	}
	if (strcmp(s->listen, "localhost") == 0)
		s->listen = "127.0.0.1";
	if (!is_address(s->listen)) {
		fprintf(stderr, "offramp-server: %s: listen takes an IP "
		    "address, not \"%s\"\n", from("listen"), s->listen);
		return 2;
	}
	if ((s->cert == NULL) != (s->key == NULL)) {
		fprintf(stderr, "offramp-server: %s: cert and key go "
		    "together\n", from(s->cert != NULL ? "cert" : "key"));
		return 2;
	}
	if (s->cert != NULL && access(s->cert, R_OK) != 0) {
		fprintf(stderr, "offramp-server: %s: cannot read cert %s: "
		    "%s\n", from("cert"), s->cert, strerror(errno));
		return 2;
	}
	if (s->key != NULL && access(s->key, R_OK) != 0) {
		fprintf(stderr, "offramp-server: %s: cannot read key %s: %s\n",
		    from("key"), s->key, strerror(errno));
		return 2;
	}
	if (s->cert == NULL && !is_loopback(s->listen) && !s->insecure_no_tls) {
		fprintf(stderr, "offramp-server: %s: refusing to listen on a "
		    "non-loopback address without TLS: give cert and key (or "
		    "insecure-no-tls, if something else encrypts)\n",
		    from("listen"));
		return 2;
	}
	if (s->web != NULL) {
		snprintf(path, sizeof(path), "%s/index.html", s->web);
		if (access(path, R_OK) != 0) {
			fprintf(stderr, "offramp-server: %s: web %s: no "
			    "index.html in that directory (build client-web "
			    "first)\n", from("web"), s->web);
			return 2;
		}
	}
	if (strlen(s->programme) > OFR_NAME_MAX) {
		fprintf(stderr, "offramp-server: %s: programme: at most %d "
		    "bytes\n", from("programme"), OFR_NAME_MAX);
		return 2;
	}
	if (s->metrics != NULL)
		return check_metrics(s);
	return 0;
}

void
config_usage(FILE *out)
{
	fputs("usage: offramp-server [--config FILE] --data DIR [options]\n"
	    "       offramp-server backup --data DIR --to FILE\n"
	    "       offramp-server restore --from FILE --data DIR\n", out);
	for (size_t i = 0; i < NOPTS; i++)
		fprintf(out, "  --%s%s%-*s %s\n", table[i].key,
		    table[i].kind == K_BOOL ? "" : " V",
		    (int)(22 - strlen(table[i].key) - (table[i].kind ==
		    K_BOOL ? 0 : 2)), "", table[i].help);
	fputs("Every option but config, check-config, new-programme, help "
	    "and version can be set in the configuration file as\n"
	    "\"key = value\" (flags: yes or no); the command line "
	    "overrides it. The bootstrap admin token (while no admin\n"
	    "exists) is written to DIR/bootstrap-token (0600).\n", out);
#ifdef OFFRAMP_FAULTS
	fputs(STORE_FAULTS_HELP, out);
#endif
}

int
config_load(struct settings *s, int argc, char **argv)
{
	struct option lopts[NOPTS + 1];
	char where[CONFIG_SOURCE_MAX];
	const char *path = NULL;
	int c, idx, rc, explicit = 0;

	memset(s, 0, sizeof(*s));
	s->listen = "127.0.0.1";
	s->port = 7443;
	s->programme = "First programme";
	s->login_timeout = 10;
	s->message_timeout = 60;
	s->stall_timeout = 60;
	s->ping_after = 60;
	s->hangup_after = 150;
	s->rematch_period = 60;
	s->idle_away = 1800;
	s->purge_period = 600;
	s->retention_period = 600;
	s->keep_closed = 30 * 86400;
	s->keep_idle_client = 30 * 86400;
	s->keep_unacked = 30 * 86400;
	s->keep_invites = 7 * 86400;
	s->keep_audit = 365 * 86400;
	s->keep_feedback = 365 * 86400;
	s->connections_per_account = 8;
	s->queue_copies = 5000;
	s->queue_mib = 64;
	s->prekey_fetches = 20;
	s->pow_bits = 20;
	s->pow_step = 30;
	s->pow_max_bits = 24;
	s->keep_waiting = 30 * 60;
	s->log_level = "info";
	for (size_t i = 0; i < NOPTS; i++) {
		snprintf(source[i], CONFIG_SOURCE_MAX, "default");
		lopts[i].name = table[i].key;
		lopts[i].has_arg = table[i].kind == K_BOOL ? no_argument :
		    required_argument;
		lopts[i].flag = NULL;
		lopts[i].val = 1000 + (int)i;
	}
	memset(&lopts[NOPTS], 0, sizeof(lopts[NOPTS]));
	/* the file first (--config, else the default path if present) */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[i + 1], explicit = 1;
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9, explicit = 1;
	}
	if (path == NULL && access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		path = CONFIG_DEFAULT_PATH;
	if (path != NULL && (rc = read_file(s, path)) != 0)
		return rc;
	(void)explicit;
	/* then the command line, which overrides it */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lopts, &idx)) != -1) {
		if (c == 'h') {
			s->help = 1;
			continue;
		}
		if (c < 1000 || c >= 1000 + (int)NOPTS) {
			fprintf(stderr, "offramp-server: unknown option or "
			    "missing value: %s (see --help)\n",
			    argv[optind - 1]);
			return 2;
		}
		snprintf(where, sizeof(where), "--%s", table[c - 1000].key);
		if ((rc = set(s, &table[c - 1000], table[c - 1000].kind ==
		    K_BOOL ? "yes" : optarg, where)) != 0)
			return rc;
	}
	if (optind != argc) {
		fprintf(stderr, "offramp-server: unexpected argument %s (see "
		    "--help)\n", argv[optind]);
		return 2;
	}
	s->config = path;
	if (s->help || s->version)
		return 0;
	return check(s);
}

void
config_print(const struct settings *s)
{
	struct settings *m = (struct settings *)s;

	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &table[i];

		if (!o->file)
			continue;
		if (o->kind == K_NUM)
			printf("%s = %d", o->key, *int_at(m, o));
		else if (o->kind == K_DURATION) {
			char d[32];

			config_duration(*int_at(m, o), d, sizeof(d));
			printf("%s = %s", o->key, d);
		}
		else if (o->kind == K_BOOL)
			printf("%s = %s", o->key, *int_at(m, o) ? "yes" : "no");
		else if (*str_at(m, o) != NULL && o->off == OFF(store)) {
			char safe[VALUE_MAX];

			printf("%s = %s", o->key, store_url_safe(*str_at(m, o),
			    safe, sizeof(safe)));
		} else if (*str_at(m, o) != NULL)
			printf("%s = %s", o->key, *str_at(m, o));
		else
			printf("# %s (not set)", o->key);
		printf("\t# %s\n", source[i]);
	}
	printf("# configuration file: %s\n", s->config != NULL ? s->config :
	    "none");
}
