/*
 * crashload.c: continuous relay load that outlives kills of the server
 * (issue 10, point 7), and the check of what came through. K clients send
 * to the counsellor of their case, each from a process of its own, with at
 * most W messages unanswered; the counsellor's connection (this process)
 * receives, acks and records every push. A message is numbered by its
 * sender: its ciphertext carries the sender's index and number (there is
 * no plaintext), its mid is derived from both. When a connection drops
 * (the server was killed) it logs in again, with a deadline, and a sender
 * sends what was not answered again with the SAME mid.
 *
 * On SIGUSR1 the senders stop making new messages, get every one they
 * made acknowledged and exit; the recipient then drains and checks:
 *   - every acknowledged message was delivered;
 *   - a message delivered more than once came with its own mid and the
 *     same seq each time (a redelivery, not a second stored copy);
 *   - per sender, first deliveries follow the senders' order.
 * It prints figures and exits 1 with one line per violation (at most 20
 * shown). --inject lose|dup|order makes one such violation by hand in the
 * records before the check, to see that the check can fail.
 *
 * It uses the CLI's connection (client-cli/conn.h) and key files; it
 * reads the key files the test made and talks to the server only.
 *
 * usage: crashload --url URL [--ca PEM] --dir DIR --couns KEYFILE,PASS
 *            --pair KEYFILE,PASS,CASE... [--window W] [--inject WHAT]
 * DIR gets acked-I (sender I: "A num" per acknowledged message, then
 * "E made resent reconnects refused") and progress-I (one line: how many
 * of sender I's messages are acknowledged so far, rewritten in place, for
 * a test to watch the load).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "conn.h"
#include "keyfile.h"
#include "proto/err.h"
#include "proto/frame.h"
#include "proto/ocrypto.h"

#define PAIRS_MAX	16
#define WINDOW_MAX	64
#define LOGIN_MS	30000	/* deadline to log in again after a drop */
#define REQUEST_MS	10000
#define DRAIN_MS	30000	/* after the senders are done */
#define CT_MAGIC	"CRSH"
#define CT_BYTES	24	/* magic (4), run (8), sender (4), number (8) */
#define MID_BYTES	16
#define ACK_MAX		256	/* seqs in one msg.ack */
#define SHOW_MAX	20	/* violations printed */

struct ident {
	const char	*path;
	struct keyfile	*k;
	int64_t		case_id;
};

static const char *url, *ca, *dir, *inject;
static int window = 4, npairs;
static struct ident couns, pair_id[PAIRS_MAX];
static uint8_t run_id[8];	/* first half of every mid of this run */
static volatile sig_atomic_t stopping;

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("crashload: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_usr1(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The mid of message num of sender p: the run's id, p, num. */
static void
mid_of(uint8_t mid[MID_BYTES], uint32_t p, uint32_t num)
{
	memcpy(mid, run_id, 8);
	memcpy(mid + 8, &p, 4);
	memcpy(mid + 12, &num, 4);
}

/* "FILE,PASS[,CASE]" into id (loads the key file). */
static void
parse_ident(struct ident *id, char *arg, int with_case)
{
	char *pass = strchr(arg, ','), *cs = NULL;

	if (pass == NULL)
		die("expected KEYFILE,PASS%s: %s", with_case ? ",CASE" : "", arg);
	*pass++ = '\0';
	if (with_case) {
		if ((cs = strchr(pass, ',')) == NULL)
			die("expected KEYFILE,PASS,CASE");
		*cs++ = '\0';
		id->case_id = strtoll(cs, NULL, 10);
	}
	id->path = arg;
	if (keyfile_load(&id->k, arg, pass, strlen(pass)) != 0)
		die("cannot open key file %s", arg);
}

/*
 * Connects and logs in as id (role "client" or "counsellor"), trying
 * again every 20 ms until LOGIN_MS have passed (the server is being
 * restarted: no event says when it listens again); dies then, or when the
 * server refuses the login itself.
 */
static struct conn *
login(const struct ident *id, const char *role)
{
	int64_t end = now_ms() + LOGIN_MS;
	uint8_t sig[OFR_SIG_BYTES];
	struct conn *c;
	json_t *f, *resp;
	int rc;

	for (;;) {
		c = NULL;
		if (conn_open(&c, url, ca, REQUEST_MS) == 0) {
			ocrypto_login_sign(sig, keyfile_sk(id->k),
			    conn_server_key(c), conn_nonce(c));
			f = json_pack("{s:s, s:s}", "type", "login", "role",
			    role);
			frame_set_bin(f, "key", keyfile_pk(id->k), OFR_PK_BYTES);
			frame_set_bin(f, "sig", sig, sizeof(sig));
			resp = NULL;
			rc = conn_request(c, f, &resp, REQUEST_MS);
			json_decref(resp);
			if (rc == 0)
				return c;
			if (rc != OFR_E_CONN && rc != OFR_E_TIMEOUT)
				die("%s login refused: %s", role, err_str(rc));
		}
		conn_free(c);
		if (now_ms() > end)
			die("%s could not log in again within %d ms", role,
			    LOGIN_MS);
		usleep(50000);	/* a retry interval */
	}
}

/* ------------------------------------------------------------ a sender */

struct pend {
	uint32_t	num;
	int64_t		id;	/* request id on this connection; 0: to send */
	int		tries;
};

static int
send_one(struct conn *c, uint32_t p, struct pend *m)
{
	uint8_t ct[CT_BYTES], mid[MID_BYTES];
	uint64_t num = m->num;
	json_t *f, *copy;
	int rc;

	memcpy(ct, CT_MAGIC, 4);
	memcpy(ct + 4, run_id, 8);
	memcpy(ct + 12, &p, 4);
	memcpy(ct + 16, &num, 8);
	mid_of(mid, p, m->num);
	copy = json_object();
	frame_set_bin(copy, "to", keyfile_pk(couns.k), OFR_PK_BYTES);
	frame_set_bin(copy, "ct", ct, sizeof(ct));
	f = json_pack("{s:s, s:I, s:[o]}", "type", "msg.send", "case",
	    (json_int_t)pair_id[p].case_id, "copies", copy);
	frame_set_bin(f, "mid", mid, sizeof(mid));
	if ((rc = conn_send(c, f, &m->id)) != 0)
		m->id = 0;
	else
		m->tries++;
	return rc;
}

static void
logf_line(int fd, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(fd, buf, (size_t)n) != n)
		die("cannot write the log: %s", strerror(errno));
}

/* Sender p: runs until stopped and every message it made is answered. */
static void
sender(uint32_t p)
{
	struct pend pend[WINDOW_MAX];
	uint64_t resent = 0, reconnects = 0, refused = 0;
	uint32_t next = 0;
	struct conn *c = NULL;
	struct conn_event ev;
	uint64_t nacked = 0;
	char path[4096], prog[32];
	int npend = 0, fd, pfd, i, rc;

	snprintf(path, sizeof(path), "%s/acked-%u", dir, p);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600)) < 0)
		die("cannot create %s", path);
	snprintf(path, sizeof(path), "%s/progress-%u", dir, p);
	if ((pfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		die("cannot create %s", path);
	while (!stopping || npend > 0) {
		if (c == NULL) {
			if (next > 0)
				reconnects++;
			c = login(&pair_id[p], "client");
			for (i = 0; i < npend; i++)
				pend[i].id = 0;
		}
		rc = 0;
		for (i = 0; i < npend && rc == 0; i++) {
			if (pend[i].id != 0)
				continue;
			resent += pend[i].tries > 0;
			rc = send_one(c, p, &pend[i]);
		}
		while (rc == 0 && !stopping && npend < window) {
			pend[npend] = (struct pend){ .num = next++ };
			rc = send_one(c, p, &pend[npend++]);
		}
		if (rc == 0)
			rc = conn_wait(c, &ev, 0, 200);
		if (rc == OFR_E_TIMEOUT)
			continue;
		if (rc != 0) {
			if (rc != OFR_E_CONN)
				die("sender %u: %s", p, err_str(rc));
			conn_free(c);
			c = NULL;
			continue;
		}
		if (ev.frame != NULL) {
			const char *type = json_string_value(
			    json_object_get(ev.frame, "type"));
			json_int_t re = json_integer_value(
			    json_object_get(ev.frame, "re"));

			for (i = 0; i < npend && pend[i].id != re; i++)
				;
			if (i < npend && strcmp(type, "msg.send.ok") == 0) {
				logf_line(fd, "A %u\n", pend[i].num);
				/* fixed width: a reader never sees a mix */
				snprintf(prog, sizeof(prog), "%20" PRIu64 "\n",
				    ++nacked);
				if (pwrite(pfd, prog, 21, 0) != 21)
					die("cannot write %s", path);
				memmove(&pend[i], &pend[i + 1],
				    (size_t)(npend - i - 1) * sizeof(*pend));
				npend--;
			} else if (i < npend && strcmp(type, "error") == 0) {
				const char *code = json_string_value(
				    json_object_get(ev.frame, "code"));
				int e = err_from_str(code ? code : "");

				/* the answers that ask to send again */
				if (e != OFR_E_RECIPIENT_FULL &&
				    e != OFR_E_STORAGE_FULL &&
				    e != OFR_E_INTERNAL &&
				    e != OFR_E_RATE_LIMITED)
					die("sender %u: msg.send refused: %s", p,
					    code ? code : "?");
				refused++;
				pend[i].id = 0;
				usleep(10000);	/* let the queue move */
			}
		}
		conn_event_clear(&ev);
	}
	logf_line(fd, "E %u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", next,
	    resent, reconnects, refused);
	close(fd);
	close(pfd);
	conn_free(c);
}

/* ------------------------------------------------------ the recipient */

struct deliv {
	uint32_t	p, num;
	int64_t		seq;
	int		mid_ok;		/* the mid of (p, num) */
};

static struct deliv *dv;
static size_t ndv, capdv;
static uint64_t n_bad_ct, n_earlier;

/* Records a msg push; 0, 1 when it is from an earlier run (left unacked
 * when it ended: acked now, not checked), or -1 when it is not one of
 * ours. */
static int
record(json_t *f, int64_t *seq)
{
	uint8_t ct[CT_BYTES + 1], mid[MID_BYTES + 1], want[MID_BYTES];
	const char *cts = json_string_value(json_object_get(f, "ct"));
	const char *mids = json_string_value(json_object_get(f, "mid"));
	size_t ctl, midl;
	uint64_t num;
	uint32_t p;

	*seq = json_integer_value(json_object_get(f, "seq"));
	if (cts == NULL || mids == NULL ||
	    b64_decode(ct, sizeof(ct), &ctl, cts, strlen(cts)) != 0 ||
	    b64_decode(mid, sizeof(mid), &midl, mids, strlen(mids)) != 0 ||
	    ctl != CT_BYTES || memcmp(ct, CT_MAGIC, 4) != 0)
		return -1;
	if (memcmp(ct + 4, run_id, 8) != 0)
		return 1;
	memcpy(&p, ct + 12, 4);
	memcpy(&num, ct + 16, 8);
	if (p >= (uint32_t)npairs || num > UINT32_MAX)
		return -1;
	mid_of(want, p, (uint32_t)num);
	if (ndv == capdv) {
		capdv = capdv ? capdv * 2 : 4096;
		if ((dv = realloc(dv, capdv * sizeof(*dv))) == NULL)
			die("out of memory");
	}
	dv[ndv++] = (struct deliv){ p, (uint32_t)num, *seq,
	    midl == MID_BYTES && memcmp(mid, want, MID_BYTES) == 0 };
	return 0;
}

static int
ack(struct conn *c, int64_t *seqs, int n)
{
	json_t *a = json_array();
	int64_t id;
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer(seqs[i]));
	return conn_send(c, json_pack("{s:s, s:o}", "type", "msg.ack",
	    "seqs", a), &id);
}

/* What a sender's log says. */
struct slog {
	uint32_t	made;
	uint64_t	resent, reconnects, refused, nacked;
	uint8_t		*acked;		/* [made] */
	int64_t		*seq;		/* [made]: first seq delivered, or 0 */
};
static struct slog sl[PAIRS_MAX];

static void
read_log(uint32_t p)
{
	char path[4096], line[128];
	FILE *f;
	unsigned num;
	int ended = 0;

	snprintf(path, sizeof(path), "%s/acked-%u", dir, p);
	if ((f = fopen(path, "r")) == NULL)
		die("cannot read %s", path);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "E %u %" SCNu64 " %" SCNu64 " %" SCNu64,
		    &sl[p].made, &sl[p].resent, &sl[p].reconnects,
		    &sl[p].refused) == 4)
			ended = 1;
	if (!ended)
		die("sender %u did not finish its log", p);
	sl[p].acked = calloc(sl[p].made + 1, 1);
	sl[p].seq = calloc(sl[p].made + 1, sizeof(int64_t));
	if (sl[p].acked == NULL || sl[p].seq == NULL)
		die("out of memory");
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "A %u", &num) == 1) {
			if (num >= sl[p].made)
				die("sender %u acked %u, made %u", p, num,
				    sl[p].made);
			sl[p].nacked += !sl[p].acked[num];
			sl[p].acked[num] = 1;
		}
	fclose(f);
}

/* 1 when every acknowledged message has a delivery. */
static int
all_in(void)
{
	static uint8_t *seen[PAIRS_MAX];
	uint64_t want = 0, got = 0;
	size_t i;
	int p;

	for (p = 0; p < npairs; p++) {
		want += sl[p].nacked;
		free(seen[p]);
		seen[p] = calloc(sl[p].made + 1, 1);
	}
	for (i = 0; i < ndv; i++) {
		struct deliv *d = &dv[i];

		if (d->num < sl[d->p].made && sl[d->p].acked[d->num] &&
		    !seen[d->p][d->num]) {
			seen[d->p][d->num] = 1;
			got++;
		}
	}
	return got >= want;
}

static uint64_t n_violations;

static void
violation(const char *fmt, ...)
{
	va_list ap;

	if (n_violations++ >= SHOW_MAX)
		return;
	va_start(ap, fmt);
	fputs("crashload: VIOLATION: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
}

/* A violation of each kind made by hand, to see the check fail. */
static void
make_violation(void)
{
	size_t i, j, k;

	if (strcmp(inject, "lose") == 0) {
		/* forget every delivery of the first acked message delivered
		 * (of any sender: under load one may have none acked yet) */
		for (i = 0; i < ndv && !(dv[i].num < sl[dv[i].p].made &&
		    sl[dv[i].p].acked[dv[i].num]); i++)
			;
		if (i == ndv)
			die("--inject lose: nothing acked");
		for (j = k = 0; j < ndv; j++)
			if (dv[j].p != dv[i].p || dv[j].num != dv[i].num)
				dv[k++] = dv[j];
			else if (j < i)
				die("unreachable");
		ndv = k;
	} else if (strcmp(inject, "dup") == 0) {
		if (ndv == 0)
			die("--inject dup: nothing delivered");
		dv[ndv - 1].mid_ok = 0;		/* one more copy, another mid */
		dv[ndv - 1].seq += 1000000;
	} else if (strcmp(inject, "order") == 0) {
		/* swap the first deliveries of two messages of a sender */
		for (i = 0; i < ndv; i++)
			for (j = i + 1; j < ndv; j++)
				if (dv[j].p == dv[i].p && dv[j].num > dv[i].num) {
					struct deliv t = dv[i];

					dv[i] = dv[j];
					dv[j] = t;
					return;
				}
		die("--inject order: no two deliveries of one sender");
	} else {
		die("--inject: lose, dup or order");
	}
}

static void
check(void)
{
	int64_t last[PAIRS_MAX];
	uint64_t acked = 0, made = 0, distinct = 0, redeliv = 0, resent = 0,
	    refused = 0, rc = 0;
	size_t i;
	uint32_t n;
	int p;

	for (p = 0; p < npairs; p++)
		last[p] = -1;
	for (i = 0; i < ndv; i++) {
		struct deliv *d = &dv[i];
		struct slog *s = &sl[d->p];

		if (d->num >= s->made) {
			violation("sender %u: message %u delivered, never made",
			    d->p, d->num);
			continue;
		}
		if (!d->mid_ok)
			violation("sender %u: message %u delivered with "
			    "another mid (seq %" PRId64 ")", d->p, d->num,
			    d->seq);
		if (s->seq[d->num] == 0) {
			s->seq[d->num] = d->seq;
			distinct++;
			if ((int64_t)d->num < last[d->p])
				violation("sender %u: message %u first "
				    "delivered after message %" PRId64, d->p,
				    d->num, last[d->p]);
			else
				last[d->p] = d->num;
		} else if (s->seq[d->num] != d->seq) {
			violation("sender %u: message %u stored twice (seqs %"
			    PRId64 " and %" PRId64 ")", d->p, d->num,
			    s->seq[d->num], d->seq);
		} else {
			redeliv++;
		}
	}
	if (n_bad_ct > 0)
		violation("%" PRIu64 " pushes with a ciphertext no sender made",
		    n_bad_ct);
	for (p = 0; p < npairs; p++) {
		for (n = 0; n < sl[p].made; n++)
			if (sl[p].acked[n] && sl[p].seq[n] == 0)
				violation("sender %d: message %u acknowledged, "
				    "never delivered", p, n);
		acked += sl[p].nacked;
		made += sl[p].made;
		resent += sl[p].resent;
		refused += sl[p].refused;
		rc += sl[p].reconnects;
	}
	printf("crashload: %d senders, window %d: %" PRIu64 " made, %" PRIu64
	    " acknowledged, %" PRIu64 " delivered (%" PRIu64 " copies, %"
	    PRIu64 " redelivered), %" PRIu64 " sent again after a drop, %"
	    PRIu64 " refused and sent again, %" PRIu64 " sender logins after "
	    "a drop, %" PRIu64 " pushes of an earlier run, %" PRIu64
	    " not ours\n", npairs, window, made, acked, distinct,
	    (uint64_t)ndv, redeliv, resent, refused, rc, n_earlier, n_bad_ct);
	if (n_violations > 0) {
		printf("crashload: FAILED: %" PRIu64 " violations\n",
		    n_violations);
		exit(1);
	}
	printf("crashload: every acknowledged message delivered, no message "
	    "stored twice, every sender's order kept\n");
}

/* Receives until the senders are done and everything acked came in. */
static void
recipient(pid_t *kids)
{
	int64_t seqs[ACK_MAX], seq, drain_end = 0;
	uint64_t rounds = 0;
	struct conn *c = NULL;
	struct conn_event ev;
	int nseqs = 0, running = npairs, forwarded = 0, idle = 0, acks_out = 0;
	int st, i, rc;
	pid_t pid;

	for (;;) {
		if (stopping && !forwarded) {
			for (i = 0; i < npairs; i++)
				kill(kids[i], SIGUSR1);
			forwarded = 1;
		}
		while (running > 0 && (pid = waitpid(-1, &st, WNOHANG)) > 0) {
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				die("a sender failed (status %d)", st);
			if (--running == 0) {
				for (i = 0; i < npairs; i++)
					read_log((uint32_t)i);
				drain_end = now_ms() + DRAIN_MS;
			}
		}
		/* done when every ack is answered (the server keeps no copy
		 * of this run) and all is in; all_in() reads every record:
		 * only when nothing comes */
		if (running == 0 && ((idle && acks_out == 0 && all_in()) ||
		    now_ms() > drain_end))
			break;
		if (c == NULL) {
			c = login(&couns, "counsellor");
			rounds++;
			nseqs = 0;
			acks_out = 0;	/* unanswered: delivered again */
		}
		rc = conn_wait(c, &ev, 0, 100);
		idle = rc == OFR_E_TIMEOUT;
		if (idle)
			continue;
		if (rc != 0) {
			conn_free(c);
			c = NULL;
			continue;
		}
		if (ev.frame != NULL) {
			const char *type = json_string_value(
			    json_object_get(ev.frame, "type"));

			if (strcmp(type, "msg") == 0) {
				rc = record(ev.frame, &seq);
				n_bad_ct += rc < 0;
				n_earlier += rc > 0;
				seqs[nseqs++] = seq;
			} else if (strcmp(type, "msg.ack.ok") == 0) {
				acks_out--;
			} else if (strcmp(type, "error") == 0) {
				char *s = json_dumps(ev.frame, JSON_COMPACT);

				fprintf(stderr, "crashload: recipient: %s\n", s);
				free(s);
			}
		}
		conn_event_clear(&ev);
		/* what came in together, acked in one request */
		if (nseqs > 0 && (nseqs == ACK_MAX || !conn_has_frames(c))) {
			if (ack(c, seqs, nseqs) != 0) {
				conn_free(c);
				c = NULL;
			} else {
				acks_out++;
			}
			nseqs = 0;
		}
	}
	conn_free(c);
	printf("crashload: recipient logged in %" PRIu64 " times\n", rounds);
	if (inject != NULL)
		make_violation();
	check();
}

static void
usage(void)
{
	fputs("usage: crashload --url URL [--ca PEM] --dir DIR "
	    "--couns KEYFILE,PASS --pair KEYFILE,PASS,CASE... [--window W] "
	    "[--inject lose|dup|order]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	pid_t kids[PAIRS_MAX];
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0)
		die("sodium_init");
	for (i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i];
		char *v = argv[i + 1];

		if (strcmp(a, "--url") == 0)
			url = v;
		else if (strcmp(a, "--ca") == 0)
			ca = v;
		else if (strcmp(a, "--dir") == 0)
			dir = v;
		else if (strcmp(a, "--window") == 0)
			window = atoi(v);
		else if (strcmp(a, "--inject") == 0)
			inject = v;
		else if (strcmp(a, "--couns") == 0)
			parse_ident(&couns, v, 0);
		else if (strcmp(a, "--pair") == 0 && npairs < PAIRS_MAX)
			parse_ident(&pair_id[npairs++], v, 1);
		else
			usage();
	}
	if (i != argc || url == NULL || dir == NULL || couns.k == NULL ||
	    npairs < 1 || window < 1 || window > WINDOW_MAX)
		usage();
	randombytes_buf(run_id, sizeof(run_id));
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < npairs; i++) {
		if ((kids[i] = fork()) < 0)
			die("fork: %s", strerror(errno));
		if (kids[i] == 0) {
			/* no sender outlives the check (a killed test) */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			sender((uint32_t)i);
			_exit(0);
		}
	}
	recipient(kids);
	keyfile_free(couns.k);
	for (i = 0; i < npairs; i++)
		keyfile_free(pair_id[i].k);
	return 0;
}
