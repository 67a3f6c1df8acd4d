/*
 * keyfile.c: sealing and opening the identity key file (keyfile.h). Secrets
 * (the seed, the secret key, the derived key) live only in the
 * sodium_malloc'd struct keyfile or in stack buffers wiped before return.
 * Every value read from the file is bounded before it is used; a file that
 * does not open is reported the same way whether the passphrase is wrong or
 * a byte is damaged.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/err.h"
#include "keyfile.h"

#define MAGIC		"OFRKEY"
#define MAGIC_BYTES	6
#define VERSION		1
#define KDF_ARGON2ID13	1
#define SALT_BYTES	crypto_pwhash_SALTBYTES
#define NONCE_BYTES	crypto_secretbox_NONCEBYTES
#define KEY_BYTES	crypto_secretbox_KEYBYTES
#define SEED_BYTES	crypto_sign_SEEDBYTES
#define PLAIN_BYTES	(1 + SEED_BYTES)

/* Offsets into the file. */
#define OFF_VERSION	MAGIC_BYTES
#define OFF_KDF		(OFF_VERSION + 1)
#define OFF_SALT	(OFF_KDF + 1)
#define OFF_OPS		(OFF_SALT + SALT_BYTES)
#define OFF_MEM		(OFF_OPS + 8)
#define OFF_NONCE	(OFF_MEM + 8)
#define OFF_BOX		(OFF_NONCE + NONCE_BYTES)
#define FILE_BYTES	(OFF_BOX + crypto_secretbox_MACBYTES + PLAIN_BYTES)

/* The costs a file may ask for: what we write, and nothing wild. */
#define OPS_MAX		16
#define MEM_MAX		crypto_pwhash_MEMLIMIT_SENSITIVE

struct keyfile {
	uint8_t key[KEY_BYTES];		/* derived from the passphrase */
	uint8_t salt[SALT_BYTES];
	uint64_t ops, mem;
	uint8_t pk[OFR_PK_BYTES];
	uint8_t sk[OFR_SK_BYTES];
	int role;
};

_Static_assert(FILE_BYTES == KEYFILE_BYTES, "key file size");

int
keyfile_kdf_parse(const char *s)
{
	if (strcmp(s, "interactive") == 0)
		return KEY_KDF_INTERACTIVE;
	if (strcmp(s, "moderate") == 0)
		return KEY_KDF_MODERATE;
	if (strcmp(s, "min") == 0)
		return KEY_KDF_MIN;
	return -1;
}

int
keyfile_role_parse(const char *s)
{
	if (strcmp(s, "client") == 0)
		return KEY_ROLE_CLIENT;
	if (strcmp(s, "counsellor") == 0)
		return KEY_ROLE_COUNSELLOR;
	if (strcmp(s, "admin") == 0)
		return KEY_ROLE_ADMIN;
	return -1;
}

const char *
keyfile_role_name(int role)
{
	switch (role) {
	case KEY_ROLE_COUNSELLOR:
		return "counsellor";
	case KEY_ROLE_ADMIN:
		return "admin";
	default:
		return "client";
	}
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static struct keyfile *
key_new(void)
{
	struct keyfile *k = sodium_malloc(sizeof(*k));

	if (k != NULL)
		memset(k, 0, sizeof(*k));
	return k;
}

void
keyfile_free(struct keyfile *k)
{
	if (k != NULL)
		sodium_free(k);	/* wipes */
}

/* The clear header of k: magic, version, kdf, salt and costs. */
static void
header(const struct keyfile *k, uint8_t buf[OFF_NONCE])
{
	memcpy(buf, MAGIC, MAGIC_BYTES);
	buf[OFF_VERSION] = VERSION;
	buf[OFF_KDF] = KDF_ARGON2ID13;
	memcpy(buf + OFF_SALT, k->salt, SALT_BYTES);
	put_u64(buf + OFF_OPS, k->ops);
	put_u64(buf + OFF_MEM, k->mem);
}

/*
 * The box key: Argon2id over the passphrase, then BLAKE2b keyed with that
 * over the clear header, so that no header bit goes unauthenticated
 * (Argon2 itself ignores the low bits of memlimit).
 */
static int
derive(struct keyfile *k, const char *pass, size_t passlen)
{
	uint8_t hdr[OFF_NONCE], pw[KEY_BYTES];
	int rc = 0;

	header(k, hdr);
	if (crypto_pwhash(pw, sizeof(pw), pass, passlen, k->salt, k->ops,
	    (size_t)k->mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		rc = OFR_E_NOMEM;
	else
		crypto_generichash(k->key, sizeof(k->key), hdr, sizeof(hdr),
		    pw, sizeof(pw));
	sodium_memzero(pw, sizeof(pw));
	return rc;
}

/* Creates the missing directories above path, mode 0700. */
static int
make_parents(const char *path)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return OFR_E_IO;
	}
	memcpy(dir, path, n + 1);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return OFR_E_IO;
		*p = '/';
	}
	return 0;
}

/* fsyncs the directory holding path, so a rename or link survives. */
static void
sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd;

	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		n = (size_t)(slash - path);
		if (n == 0)
			n = 1;
		if (n >= sizeof(dir))
			return;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Seals k into buf (FILE_BYTES). */
static void
seal(const struct keyfile *k, uint8_t buf[FILE_BYTES])
{
	uint8_t plain[PLAIN_BYTES];

	header(k, buf);
	randombytes_buf(buf + OFF_NONCE, NONCE_BYTES);
	plain[0] = (uint8_t)k->role;
	crypto_sign_ed25519_sk_to_seed(plain + 1, k->sk);
	crypto_secretbox_easy(buf + OFF_BOX, plain, sizeof(plain),
	    buf + OFF_NONCE, k->key);
	sodium_memzero(plain, sizeof(plain));
}

static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return OFR_E_IO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Writes k to path through a temporary file in the same directory: with
 * replace, renamed over path; without, linked to path, which fails with
 * EEXIST when path exists.
 */
static int
store(const struct keyfile *k, const char *path, int replace)
{
	char tmp[PATH_MAX];
	uint8_t buf[FILE_BYTES];
	int fd, rc, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return OFR_E_IO;
	}
	if ((rc = make_parents(path)) != 0)
		return rc;
	if ((fd = mkstemp(tmp)) < 0)
		return OFR_E_IO;
	seal(k, buf);
	rc = OFR_E_IO;
	if (fchmod(fd, 0600) == 0 && write_all(fd, buf, sizeof(buf)) == 0 &&
	    fsync(fd) == 0)
		rc = 0;
	saved = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = OFR_E_IO;
		saved = errno;
	}
	if (rc == 0) {
		if (replace ? rename(tmp, path) : link(tmp, path))
			rc = OFR_E_IO;
		saved = errno;
	}
	if (rc != 0 || !replace)
		(void)unlink(tmp);
	if (rc == 0)
		sync_parent(path);
	errno = saved;
	return rc;
}

static int
kdf_costs(int kdf, uint64_t *ops, uint64_t *mem)
{
	switch (kdf) {
	case KEY_KDF_INTERACTIVE:
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		return 0;
	case KEY_KDF_MODERATE:
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
		return 0;
	case KEY_KDF_MIN:
		*ops = crypto_pwhash_OPSLIMIT_MIN;
		*mem = crypto_pwhash_MEMLIMIT_MIN;
		return 0;
	default:
		return OFR_E_USAGE;
	}
}

int
keyfile_create(struct keyfile **out, const char *path, const char *pass,
    size_t passlen, int kdf)
{
	struct keyfile *k;
	struct stat st;
	int rc, saved;

	*out = NULL;
	if (passlen > KEYFILE_PASS_MAX)
		return OFR_E_USAGE;
	if (lstat(path, &st) == 0) {
		errno = EEXIST;
		return OFR_E_IO;
	}
	if ((k = key_new()) == NULL)
		return OFR_E_NOMEM;
	if ((rc = kdf_costs(kdf, &k->ops, &k->mem)) != 0) {
		keyfile_free(k);
		return rc;
	}
	k->role = KEY_ROLE_CLIENT;
	randombytes_buf(k->salt, sizeof(k->salt));
	crypto_sign_keypair(k->pk, k->sk);
	if ((rc = derive(k, pass, passlen)) == 0 &&
	    (rc = store(k, path, 0)) == 0) {
		*out = k;
		return 0;
	}
	saved = errno;
	keyfile_free(k);
	errno = saved;
	return rc;
}

/* Reads the whole file into buf; OFR_E_PASSPHRASE when its size is wrong. */
static int
read_file(const char *path, uint8_t buf[FILE_BYTES])
{
	uint8_t extra[FILE_BYTES + 1];
	size_t got = 0;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return OFR_E_IO;
	while (got < sizeof(extra)) {
		ssize_t n = read(fd, extra + got, sizeof(extra) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = OFR_E_IO;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (rc == 0 && got != FILE_BYTES)
		rc = OFR_E_PASSPHRASE;
	if (rc == 0)
		memcpy(buf, extra, FILE_BYTES);
	sodium_memzero(extra, sizeof(extra));
	return rc;
}

/* Checks the clear header of buf and fills salt and costs into k. */
static int
parse_header(struct keyfile *k, const uint8_t buf[FILE_BYTES])
{
	if (memcmp(buf, MAGIC, MAGIC_BYTES) != 0 ||
	    buf[OFF_VERSION] != VERSION || buf[OFF_KDF] != KDF_ARGON2ID13)
		return OFR_E_PASSPHRASE;
	memcpy(k->salt, buf + OFF_SALT, SALT_BYTES);
	k->ops = get_u64(buf + OFF_OPS);
	k->mem = get_u64(buf + OFF_MEM);
	if (k->ops < crypto_pwhash_OPSLIMIT_MIN || k->ops > OPS_MAX ||
	    k->mem < crypto_pwhash_MEMLIMIT_MIN || k->mem > MEM_MAX)
		return OFR_E_PASSPHRASE;
	return 0;
}

static int
unseal(struct keyfile *k, const uint8_t buf[FILE_BYTES])
{
	uint8_t plain[PLAIN_BYTES];
	int rc = OFR_E_PASSPHRASE;

	if (crypto_secretbox_open_easy(plain, buf + OFF_BOX,
	    FILE_BYTES - OFF_BOX, buf + OFF_NONCE, k->key) == 0 &&
	    plain[0] <= KEY_ROLE_ADMIN) {
		k->role = plain[0];
		crypto_sign_seed_keypair(k->pk, k->sk, plain + 1);
		rc = 0;
	}
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

int
keyfile_load(struct keyfile **out, const char *path, const char *pass,
    size_t passlen)
{
	uint8_t buf[FILE_BYTES];
	struct keyfile *k;
	int rc;

	*out = NULL;
	if (passlen > KEYFILE_PASS_MAX)
		return OFR_E_PASSPHRASE;
	if ((rc = read_file(path, buf)) != 0)
		return rc;
	if ((k = key_new()) == NULL)
		return OFR_E_NOMEM;
	if ((rc = parse_header(k, buf)) == 0 &&
	    (rc = derive(k, pass, passlen)) == 0 &&
	    (rc = unseal(k, buf)) == 0) {
		*out = k;
		return 0;
	}
	keyfile_free(k);
	return rc;
}

int
keyfile_set_role(struct keyfile *k, const char *path, int role)
{
	int old = k->role, rc;

	if (role < KEY_ROLE_CLIENT || role > KEY_ROLE_ADMIN)
		return OFR_E_USAGE;
	k->role = role;
	if ((rc = store(k, path, 1)) != 0) {
		int saved = errno;

		k->role = old;
		errno = saved;
	}
	return rc;
}

int
keyfile_role(const struct keyfile *k)
{
	return k->role;
}

const uint8_t *
keyfile_pk(const struct keyfile *k)
{
	return k->pk;
}

const uint8_t *
keyfile_sk(const struct keyfile *k)
{
	return k->sk;
}
