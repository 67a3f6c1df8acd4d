/*
 * fuzz_keyfile.c: the key-file loader of the CLI (client-cli/keyfile.c,
 * keyfile_state.c). A fuzzed file never gets past the secretbox's MAC,
 * and Argon2id would take most of each run, so the target starts where
 * keyfile_load() goes once the box is open: keyfile_plain_read() of the
 * plaintext (role, seed, records; the sessions' ratchet states with
 * them). What it takes must write back (keyfile_plain_write) to bytes
 * that read again and write the same.
 *
 * Input: version (1; the file's, taken mod VERSION plus 1) || plaintext. The
 * seeds are plaintexts of a version 1 file and of version 5 and 6 files with
 * every kind of record, written by keyfile_plain_write.
 */
#include <string.h>

#include <sodium.h>

#include "proto/err.h"
#include "keyfile_int.h"
#include "fuzz.h"

static struct keyfile *
fresh(void)
{
	struct keyfile *k = sodium_malloc(sizeof(*k));

	FUZZ_CHECK(k != NULL);
	memset(k, 0, sizeof(*k));
	return k;
}

/* The plaintext of k, malloc'd. */
static uint8_t *
written(const struct keyfile *k, size_t *len)
{
	uint8_t *buf;

	FUZZ_CHECK(keyfile_plain_write(k, NULL, len) == 0);
	FUZZ_CHECK((buf = malloc(*len)) != NULL);
	FUZZ_CHECK(keyfile_plain_write(k, buf, len) == 0);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyfile *k, *k2;
	uint8_t *w1, *w2;
	size_t l1, l2;
	int rc;

	if (size < 1)
		return 0;
	FUZZ_CHECK(sodium_init() >= 0);
	k = fresh();
	rc = keyfile_plain_read(k, (uint8_t)(data[0] % VERSION + 1),
	    data + 1, size - 1);
	FUZZ_CHECK(rc == 0 || rc == OFR_E_PASSPHRASE);
	if (rc == 0) {
		w1 = written(k, &l1);
		k2 = fresh();
		FUZZ_CHECK(keyfile_plain_read(k2, VERSION, w1, l1) == 0);
		w2 = written(k2, &l2);
		FUZZ_CHECK(l1 == l2 && memcmp(w1, w2, l1) == 0);
		FUZZ_CHECK(memcmp(keyfile_pk(k), keyfile_pk(k2),
		    OFR_PK_BYTES) == 0);
		free(w1);
		free(w2);
		keyfile_free(k2);
	}
	keyfile_free(k);
	return 0;
}
