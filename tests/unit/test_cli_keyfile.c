/*
 * test_cli_keyfile.c: the CLI's key file (client-cli/keyfile.c): create and
 * load, wrong passphrase, truncated and damaged files, file mode, refusal
 * to overwrite, role update. Uses the "min" cost level so it runs fast.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "keyfile.h"
#include "proto/err.h"
#include "proto/ocrypto.h"

#define PASS	"correct horse battery staple"

static char dir[256], path[300];

static int
read_bytes(const char *p, uint8_t *buf, size_t cap, size_t *len)
{
	int fd = open(p, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	if (n < 0)
		return -1;
	*len = (size_t)n;
	return 0;
}

static int
write_bytes(const char *p, const uint8_t *buf, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int
load_rc(const char *p, const char *pass)
{
	struct keyfile *k = NULL;
	int rc = keyfile_load(&k, p, pass, strlen(pass));

	CHECK(rc == 0 ? k != NULL : k == NULL);
	keyfile_free(k);
	return rc;
}

static void
test_roundtrip(uint8_t pk[OFR_PK_BYTES])
{
	struct keyfile *k = NULL, *k2 = NULL;
	struct stat st;
	uint8_t sig[64], msg[3] = { 1, 2, 3 };

	CHECK_EQ_INT(keyfile_create(&k, path, PASS, strlen(PASS), KEY_KDF_MIN),
	    0);
	CHECK(k != NULL);
	if (k == NULL)
		return;
	CHECK_EQ_INT(keyfile_role(k), KEY_ROLE_CLIENT);
	memcpy(pk, keyfile_pk(k), OFR_PK_BYTES);

	/* the mode of the file and of the directory made for it */
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	CHECK(st.st_size > KEYFILE_BYTES);	/* version 2: records follow */
	CHECK_EQ_INT(stat(dir, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0700);

	CHECK_EQ_INT(keyfile_load(&k2, path, PASS, strlen(PASS)), 0);
	CHECK(k2 != NULL);
	if (k2 != NULL) {
		CHECK(memcmp(keyfile_pk(k2), pk, OFR_PK_BYTES) == 0);
		CHECK(memcmp(keyfile_sk(k2), keyfile_sk(k), OFR_SK_BYTES) == 0);
		CHECK_EQ_INT(keyfile_role(k2), KEY_ROLE_CLIENT);
		/* the key pair works */
		crypto_sign_detached(sig, NULL, msg, sizeof(msg),
		    keyfile_sk(k2));
		CHECK_EQ_INT(crypto_sign_verify_detached(sig, msg, sizeof(msg),
		    pk), 0);
	}
	keyfile_free(k2);

	/* no overwrite: the file stays as it was */
	keyfile_free(k);
	k = NULL;
	errno = 0;
	CHECK_EQ_INT(keyfile_create(&k, path, "other", 5, KEY_KDF_MIN),
	    OFR_E_IO);
	CHECK_EQ_INT(errno, EEXIST);
	CHECK(k == NULL);
	CHECK_EQ_INT(load_rc(path, PASS), 0);
}

static void
test_wrong(void)
{
	CHECK_EQ_INT(load_rc(path, "wrong passphrase"), OFR_E_PASSPHRASE);
	CHECK_EQ_INT(load_rc(path, ""), OFR_E_PASSPHRASE);
	CHECK_EQ_INT(load_rc("/nonexistent/offramp/key", PASS), OFR_E_IO);
}

static void
test_damaged(void)
{
	char bad[320];
	uint8_t orig[4096], buf[4096];
	size_t len = 0, failed = 0;

	snprintf(bad, sizeof(bad), "%s/bad", dir);
	CHECK_EQ_INT(read_bytes(path, orig, sizeof(orig) - 8, &len), 0);
	CHECK(len > KEYFILE_BYTES && len < sizeof(orig) - 8);

	/* truncated at every length, and one byte too long */
	for (size_t n = 0; n < len; n++) {
		CHECK_EQ_INT(write_bytes(bad, orig, n), 0);
		if (load_rc(bad, PASS) != OFR_E_PASSPHRASE)
			failed++;
	}
	memcpy(buf, orig, len);
	buf[len] = 0;
	CHECK_EQ_INT(write_bytes(bad, buf, len + 1), 0);
	CHECK_EQ_INT(load_rc(bad, PASS), OFR_E_PASSPHRASE);

	/* each byte flipped, one bit at a time */
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(buf, orig, len);
			buf[i] ^= (uint8_t)(1u << bit);
			CHECK_EQ_INT(write_bytes(bad, buf, len), 0);
			if (load_rc(bad, PASS) != OFR_E_PASSPHRASE) {
				fprintf(stderr, "byte %zu bit %d: opened\n", i,
				    bit);
				failed++;
			}
		}
	}
	CHECK_EQ_INT(failed, 0);
	/* a huge memlimit is refused before anything is allocated */
	memcpy(buf, orig, len);
	memset(buf + 32, 0xff, 8);
	CHECK_EQ_INT(write_bytes(bad, buf, len), 0);
	CHECK_EQ_INT(load_rc(bad, PASS), OFR_E_PASSPHRASE);
	unlink(bad);
}

static void
test_role(const uint8_t pk[OFR_PK_BYTES])
{
	struct keyfile *k = NULL, *k2 = NULL;
	struct stat st;

	CHECK_EQ_INT(keyfile_load(&k, path, PASS, strlen(PASS)), 0);
	if (k == NULL)
		return;
	CHECK_EQ_INT(keyfile_set_role(k, path, KEY_ROLE_COUNSELLOR), 0);
	CHECK_EQ_INT(keyfile_set_role(k, path, 7), OFR_E_USAGE);
	CHECK_EQ_INT(keyfile_role(k), KEY_ROLE_COUNSELLOR);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	CHECK_EQ_INT(keyfile_load(&k2, path, PASS, strlen(PASS)), 0);
	if (k2 != NULL) {
		CHECK_EQ_INT(keyfile_role(k2), KEY_ROLE_COUNSELLOR);
		CHECK(memcmp(keyfile_pk(k2), pk, OFR_PK_BYTES) == 0);
	}
	keyfile_free(k2);
	k2 = NULL;
	CHECK_EQ_INT(keyfile_set_role(k, path, KEY_ROLE_ADMIN), 0);
	CHECK_EQ_INT(keyfile_load(&k2, path, PASS, strlen(PASS)), 0);
	if (k2 != NULL)
		CHECK_EQ_INT(keyfile_role(k2), KEY_ROLE_ADMIN);
	CHECK_EQ_INT(load_rc(path, "wrong"), OFR_E_PASSPHRASE);
	keyfile_free(k2);
	keyfile_free(k);
	keyfile_free(NULL);
}

static void
test_names(void)
{
	CHECK_EQ_INT(keyfile_kdf_parse("interactive"), KEY_KDF_INTERACTIVE);
	CHECK_EQ_INT(keyfile_kdf_parse("moderate"), KEY_KDF_MODERATE);
	CHECK_EQ_INT(keyfile_kdf_parse("min"), KEY_KDF_MIN);
	CHECK_EQ_INT(keyfile_kdf_parse("max"), -1);
	CHECK_EQ_INT(keyfile_role_parse("admin"), KEY_ROLE_ADMIN);
	CHECK_EQ_INT(keyfile_role_parse("root"), -1);
	CHECK(strcmp(keyfile_role_name(KEY_ROLE_COUNSELLOR), "counsellor") == 0);
}

int
main(void)
{
	char base[] = "/tmp/test_cli_keyfile.XXXXXX";
	uint8_t pk[OFR_PK_BYTES];

	if (ocrypto_init() != 0 || mkdtemp(base) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s/sub", base);
	snprintf(path, sizeof(path), "%s/identity", dir);

	test_names();
	test_roundtrip(pk);
	test_wrong();
	test_damaged();
	test_role(pk);

	unlink(path);
	rmdir(dir);
	rmdir(base);
	return check_done();
}
