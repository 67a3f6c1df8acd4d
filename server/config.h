/*
 * config.h: the server's settings (config.c), from one configuration file
 * (key = value lines, documented in deploy/offramp.conf) and the command
 * line, which overrides it. Every setting remembers where it came from,
 * so that an error names the file and line, and --check-config prints
 * the effective configuration.
 */
#ifndef OFFRAMP_CONFIG_H
#define OFFRAMP_CONFIG_H

#include <stdio.h>

#define CONFIG_DEFAULT_PATH	"/etc/offramp/offramp.conf"
#define CONFIG_SOURCE_MAX	160
#define CONFIG_ADDR_MAX		46	/* an IPv6 address literal, NUL */

struct settings {
	const char *data;		/* required */
	const char *store;		/* NULL (SQLite in data), or a
				 * postgresql:// URL */
	const char *listen;		/* an IP address literal */
	int port;
	const char *cert, *key;		/* both or neither */
	int insecure_no_tls;
	const char *web;
	const char *programme;		/* name of the first programme */
	const char *new_programme;	/* command line only: an action */
	int login_timeout;
	int message_timeout;
	int stall_timeout;
	int ping_after, hangup_after;
	int rematch_period;
	int idle_away;
	int purge_period;
	int retention_period;
	/* retention, seconds (given as durations: 30d, 12h, 90m, 2s) */
	int keep_closed;
	int keep_idle_client;
	int keep_unacked;
	int keep_invites;
	int keep_audit;
	int keep_feedback;
	/* limits of the protocol's limits table */
	int connections_per_account;	/* logged-in, at once */
	int queue_copies;		/* copies waiting for one recipient */
	int queue_mib;			/* their bytes, MiB */
	int prekey_fetches;		/* per requester and key, an hour */
	/* intake: proof of work (bits) and the life of a waiting case
	 * whose client is gone (seconds) */
	int pow_bits, pow_step, pow_max_bits;
	int keep_waiting;
	const char *log_level;		/* error, warn, info, debug */
	const char *metrics;		/* NULL (off), or ADDR:PORT */
	/* metrics parsed by config_load: a loopback address literal (""
	 * when off) and a port (0: a free one) */
	char metrics_addr[CONFIG_ADDR_MAX];
	int metrics_port;
	/* command line only */
	const char *config;		/* the file read, or NULL */
	int check;			/* --check-config */
	int init;			/* --init: a new database beside an
					 * existing server.key */
	int help, version;
};

/*
 * Fills s from the defaults, the configuration file (--config FILE, else
 * CONFIG_DEFAULT_PATH when it exists) and then the command line, and
 * checks the result (values, and the paths it names: readable files, a
 * usable data directory). 0, or 2 with the reason printed on stderr,
 * naming the file and line (or the flag) it came from.
 */
int config_load(struct settings *s, int argc, char **argv);
/* Prints the effective configuration: one "key = value  # source" a line. */
void config_print(const struct settings *s);
/* Duration secs as the configuration writes it, in its largest whole
 * unit ("30d", "12h", "90m", "2s"), into buf of cap bytes. */
void config_duration(int secs, char *buf, size_t cap);
/* The --help text. */
void config_usage(FILE *out);

#endif
