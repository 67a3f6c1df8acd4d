/*
 * keygen_batch.c: a test tool that makes the key files of many test
 * identities in one process, as `offramp keygen --kdf min` makes each
 * (the CLI's own keyfile_create: the same file, mode and format), with
 * the integration tests' passphrase for identity NAME, "pass-NAME".
 *
 *   keygen_batch DIR NAME...
 *
 * Writes DIR/NAME.key for each NAME and prints "NAME KEY_B64" a line.
 * Exit status: 0 when every file was made, 1 when one was not (the
 * error is printed; the names before it are made), 2 on a usage error.
 * One process instead of one CLI start a name: under the sanitizers a
 * start costs more than the key.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/err.h"
#include "proto/frame.h"
#include "proto/ocrypto.h"
#include "keyfile.h"

#define PATH_MAX_LEN	4096
#define PASS_MAX_LEN	256

int
main(int argc, char **argv)
{
	char path[PATH_MAX_LEN], pass[PASS_MAX_LEN];
	char b64[OFR_B64_LEN(OFR_PK_BYTES)];
	struct keyfile *k;
	int i, n, rc;

	if (argc < 3) {
		fputs("usage: keygen_batch DIR NAME...\n", stderr);
		return 2;
	}
	if (ocrypto_init() != 0) {
		fputs("keygen_batch: cannot start libsodium\n", stderr);
		return 1;
	}
	for (i = 2; i < argc; i++) {
		if (argv[i][0] == '\0' || strchr(argv[i], '/') != NULL) {
			fprintf(stderr, "keygen_batch: bad name \"%s\"\n",
			    argv[i]);
			return 2;
		}
		n = snprintf(path, sizeof(path), "%s/%s.key", argv[1], argv[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			fprintf(stderr, "keygen_batch: %s: path too long\n",
			    argv[i]);
			return 2;
		}
		n = snprintf(pass, sizeof(pass), "pass-%s", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(pass)) {
			fprintf(stderr, "keygen_batch: %s: name too long\n",
			    argv[i]);
			return 2;
		}
		rc = keyfile_create(&k, path, pass, (size_t)n, KEY_KDF_MIN);
		if (rc != 0) {
			fprintf(stderr, "keygen_batch: cannot make %s: %s\n",
			    path, rc == OFR_E_IO ? strerror(errno) :
			    "no key");
			return 1;
		}
		b64_encode(b64, sizeof(b64), keyfile_pk(k), OFR_PK_BYTES);
		keyfile_free(k);
		printf("%s %s\n", argv[i], b64);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
