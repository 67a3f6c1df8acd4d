/*
 * bench_intake.c: how many fake cases one attacker can open, the way the
 * flood of issue 10 did: for each one a fresh key (a new anonymous client
 * account) and a case request, paying whatever proof of work the server
 * asks for, on WORKERS processes (2: a 2-core attacker) for SECONDS. It
 * prints figures and asserts nothing (DESIGN.md, "Targets"). Run it with
 * bench/bench_intake.sh, which starts servers with and without the proof
 * of work.
 *
 * usage: bench_intake URL SECONDS WORKERS
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "conn.h"
#include "proto/err.h"
#include "proto/frame.h"
#include "proto/ocrypto.h"
#include "proto/pow.h"

#define TIMEOUT_MS	120000

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Adds the proof of work the connection's challenge asks for. */
static void
pay(struct conn *c, enum ofr_pow_purpose purpose, const uint8_t *pk,
    json_t *f, int *bits_seen)
{
	int bits = conn_pow_bits(c);
	uint64_t pow = 0;

	if (bits <= 0)
		return;
	if (bits > *bits_seen)
		*bits_seen = bits;
	ofr_pow_search(purpose, conn_nonce(c), pk, bits, 0, UINT64_MAX, &pow);
	json_object_set_new(f, "pow", json_integer((json_int_t)pow));
}

/* One fake case: 1 if it was opened. */
static int
one(const char *url, int *bits_seen)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t sig[OFR_SIG_BYTES];
	struct conn *c = NULL;
	json_t *f, *resp = NULL;
	int ok = 0;

	crypto_sign_keypair(pk, sk);
	if (conn_open(&c, url, NULL, TIMEOUT_MS) != 0)
		goto out;
	/* an attacker knows its keys are new: it pays at once */
	ocrypto_login_sign(sig, sk, conn_server_key(c), conn_nonce(c));
	f = json_pack("{s:s, s:s}", "type", "login", "role", "client");
	frame_set_bin(f, "key", pk, sizeof(pk));
	frame_set_bin(f, "sig", sig, sizeof(sig));
	pay(c, OFR_POW_LOGIN, pk, f, bits_seen);
	if (conn_request(c, f, &resp, TIMEOUT_MS) != 0)
		goto out;
	json_decref(resp);
	resp = NULL;
	f = json_pack("{s:s, s:s, s:s}", "type", "case.request", "language",
	    "en", "urgency", "high");
	pay(c, OFR_POW_CASE, pk, f, bits_seen);
	ok = conn_request(c, f, &resp, TIMEOUT_MS) == 0;
out:
	json_decref(resp);
	conn_free(c);
	sodium_memzero(sk, sizeof(sk));
	return ok;
}

int
main(int argc, char **argv)
{
	int secs, workers, fds[2];
	long total = 0, failed = 0;
	int bits_max = 0;

	if (argc != 4 || (secs = atoi(argv[2])) < 1 ||
	    (workers = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: bench_intake URL SECONDS WORKERS\n");
		return 2;
	}
	if (sodium_init() < 0 || pipe(fds) != 0)
		return 1;
	for (int w = 0; w < workers; w++) {
		if (fork() == 0) {
			double end = now_s() + secs;
			long n = 0, bad = 0;
			int bits = 0;

			close(fds[0]);
			while (now_s() < end) {
				if (one(argv[1], &bits))
					n++;
				else
					bad++;
			}
			dprintf(fds[1], "%ld %ld %d\n", n, bad, bits);
			_exit(0);
		}
	}
	close(fds[1]);
	{
		FILE *in = fdopen(fds[0], "r");
		long n, bad;
		int bits;

		while (in != NULL && fscanf(in, "%ld %ld %d", &n, &bad,
		    &bits) == 3) {
			total += n;
			failed += bad;
			if (bits > bits_max)
				bits_max = bits;
		}
	}
	while (wait(NULL) > 0)
		;
	printf("bench_intake: %d workers, %d s: %ld fake cases opened "
	    "(%ld attempts failed), %.0f a minute; highest difficulty seen "
	    "%d bits\n", workers, secs, total, failed,
	    (double)total * 60.0 / secs, bits_max);
	return 0;
}
