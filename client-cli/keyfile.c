/*
 * keyfile.c: the key file itself (keyfile.h): its clear header, the key
 * Argon2id derives from the passphrase, the box that seals the plaintext,
 * atomic saves and the lock. What is in the plaintext is keyfile_state.c's
 * (keyfile_int.h). Secrets (the seed, the secret key, the derived key,
 * prekey secrets) live only in the sodium_malloc'd struct keyfile, in
 * sodium_malloc'd buffers, or in stack buffers wiped before return. Every
 * value read from the file is bounded before it is used; a file that does
 * not open is reported the same way whether the passphrase is wrong or a
 * byte is damaged. It never writes a byte in the clear but the header.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "proto/err.h"
#include "keyfile.h"
#include "keyfile_int.h"

#define MAGIC		"OFRKEY"
#define MAGIC_BYTES	6
#define KDF_ARGON2ID13	1
#define NONCE_BYTES	crypto_secretbox_NONCEBYTES
#define MAC_BYTES	crypto_secretbox_MACBYTES

/* Offsets into the file. */
#define OFF_VERSION	MAGIC_BYTES
#define OFF_KDF		(OFF_VERSION + 1)
#define OFF_SALT	(OFF_KDF + 1)
#define OFF_OPS		(OFF_SALT + SALT_BYTES)
#define OFF_MEM		(OFF_OPS + 8)
#define OFF_NONCE	(OFF_MEM + 8)
#define OFF_BOX		(OFF_NONCE + NONCE_BYTES)
#define FILE_V1_BYTES	(OFF_BOX + MAC_BYTES + PLAIN_V1_BYTES)

/* The costs a file may ask for: what we write, and nothing wild. */
#define OPS_MAX		16
#define MEM_MAX		crypto_pwhash_MEMLIMIT_SENSITIVE

_Static_assert(FILE_V1_BYTES == KEYFILE_BYTES, "key file size");

int
keyfile_kdf_parse(const char *s, int *kdf)
{
	if (strcmp(s, "interactive") == 0)
		*kdf = KEY_KDF_INTERACTIVE;
	else if (strcmp(s, "moderate") == 0)
		*kdf = KEY_KDF_MODERATE;
	else if (strcmp(s, "min") == 0)
		*kdf = KEY_KDF_MIN;
	else
		return OFR_E_USAGE;
	return 0;
}

int
keyfile_role_parse(const char *s, int *role)
{
	if (strcmp(s, "client") == 0)
		*role = KEY_ROLE_CLIENT;
	else if (strcmp(s, "counsellor") == 0)
		*role = KEY_ROLE_COUNSELLOR;
	else if (strcmp(s, "admin") == 0)
		*role = KEY_ROLE_ADMIN;
	else
		return OFR_E_BAD_FIELD;
	return 0;
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
	if (k == NULL)
		return;
	keyfile_state_clear(&k->st);
	sodium_free(k);	/* wipes */
}

/* The clear header of k for a file of version: magic, version, kdf, salt
 * and costs. */
static void
header(const struct keyfile *k, uint8_t buf[OFF_NONCE], uint8_t version)
{
	memcpy(buf, MAGIC, MAGIC_BYTES);
	buf[OFF_VERSION] = version;
	buf[OFF_KDF] = KDF_ARGON2ID13;
	memcpy(buf + OFF_SALT, k->salt, SALT_BYTES);
	put_u64(buf + OFF_OPS, k->ops);
	put_u64(buf + OFF_MEM, k->mem);
}

/*
 * The box key of a file of version: BLAKE2b keyed with the Argon2id output
 * over the clear header, so that no header bit goes unauthenticated
 * (Argon2 itself ignores the low bits of memlimit).
 */
static void
box_key(const struct keyfile *k, uint8_t version, uint8_t key[KEY_BYTES])
{
	uint8_t hdr[OFF_NONCE];

	header(k, hdr, version);
	crypto_generichash(key, KEY_BYTES, hdr, sizeof(hdr), k->pw,
	    sizeof(k->pw));
}

/* Argon2id over the passphrase, once per process: kept in k->pw. */
static int
derive(struct keyfile *k, const char *pass, size_t passlen)
{
	if (crypto_pwhash(k->pw, sizeof(k->pw), pass, passlen, k->salt,
	    k->ops, (size_t)k->mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return OFR_E_NOMEM;
	return 0;
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

/* Seals k into a new file image *out (malloc'd), *outlen its size. */
static int
seal(const struct keyfile *k, uint8_t **out, size_t *outlen)
{
	uint8_t *plain, *buf, key[KEY_BYTES];
	size_t plen = 0;
	int rc;

	*out = NULL;
	if ((rc = keyfile_plain_write(k, NULL, &plen)) != 0)
		return rc;
	if (plen > KEYFILE_MAX - OFF_BOX - MAC_BYTES)
		return OFR_E_LIMIT;
	if ((plain = sodium_malloc(plen)) == NULL)
		return OFR_E_NOMEM;
	*outlen = OFF_BOX + MAC_BYTES + plen;
	if ((buf = malloc(*outlen)) == NULL) {
		sodium_free(plain);
		return OFR_E_NOMEM;
	}
	if ((rc = keyfile_plain_write(k, plain, &plen)) != 0) {
		sodium_free(plain);
		free(buf);
		return rc;
	}
	header(k, buf, VERSION);
	box_key(k, VERSION, key);
	randombytes_buf(buf + OFF_NONCE, NONCE_BYTES);
	crypto_secretbox_easy(buf + OFF_BOX, plain, plen, buf + OFF_NONCE,
	    key);
	sodium_memzero(key, sizeof(key));
	sodium_free(plain);	/* wipes */
	*out = buf;
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
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, rc, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return OFR_E_IO;
	}
	if ((rc = make_parents(path)) != 0)
		return rc;
	if ((rc = seal(k, &buf, &len)) != 0)
		return rc;
	if ((fd = mkstemp(tmp)) < 0) {
		free(buf);
		return OFR_E_IO;
	}
	rc = OFR_E_IO;
	if (fchmod(fd, 0600) == 0 && write_all(fd, buf, len) == 0 &&
	    fsync(fd) == 0)
		rc = 0;
	saved = errno;
	free(buf);
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

int
keyfile_save(struct keyfile *k, const char *path)
{
	(void)keyfile_history_expire(k, (int64_t)time(NULL));
	return store(k, path, 1);
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

/* Reads the whole file into *buf (malloc'd), *len its size;
 * OFR_E_PASSPHRASE when its size cannot be a key file. */
static int
read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t got = 0, cap;
	uint8_t *b;
	int fd, rc = 0;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return OFR_E_IO;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return OFR_E_IO;
	}
	if (st.st_size < (off_t)FILE_V1_BYTES || st.st_size > KEYFILE_MAX) {
		close(fd);
		return OFR_E_PASSPHRASE;
	}
	cap = (size_t)st.st_size + 1;	/* room to see one byte too many */
	if ((b = malloc(cap)) == NULL) {
		close(fd);
		return OFR_E_NOMEM;
	}
	while (got < cap) {
		ssize_t n = read(fd, b + got, cap - got);

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
	if (rc == 0 && got != (size_t)st.st_size)
		rc = OFR_E_PASSPHRASE;
	if (rc != 0) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = got;
	return 0;
}

/* Checks the clear header of buf and fills salt and costs into k. */
static int
parse_header(struct keyfile *k, const uint8_t *buf, size_t len)
{
	if (memcmp(buf, MAGIC, MAGIC_BYTES) != 0 ||
	    buf[OFF_KDF] != KDF_ARGON2ID13)
		return OFR_E_PASSPHRASE;
	if (!(buf[OFF_VERSION] == VERSION_1 && len == FILE_V1_BYTES) &&
	    !(buf[OFF_VERSION] >= VERSION_2 && buf[OFF_VERSION] <= VERSION &&
	    len >= FILE_V1_BYTES))
		return OFR_E_PASSPHRASE;
	memcpy(k->salt, buf + OFF_SALT, SALT_BYTES);
	k->ops = get_u64(buf + OFF_OPS);
	k->mem = get_u64(buf + OFF_MEM);
	if (k->ops < crypto_pwhash_OPSLIMIT_MIN || k->ops > OPS_MAX ||
	    k->mem < crypto_pwhash_MEMLIMIT_MIN || k->mem > MEM_MAX)
		return OFR_E_PASSPHRASE;
	return 0;
}

/* Opens the box of file image buf (len bytes) into k. */
static int
unseal(struct keyfile *k, const uint8_t *buf, size_t len)
{
	size_t plen = len - OFF_BOX - MAC_BYTES;
	uint8_t *plain, key[KEY_BYTES];
	int rc = OFR_E_PASSPHRASE;

	if ((plain = sodium_malloc(plen > 0 ? plen : 1)) == NULL)
		return OFR_E_NOMEM;
	box_key(k, buf[OFF_VERSION], key);
	if (crypto_secretbox_open_easy(plain, buf + OFF_BOX, len - OFF_BOX,
	    buf + OFF_NONCE, key) == 0)
		rc = keyfile_plain_read(k, buf[OFF_VERSION], plain, plen);
	sodium_memzero(key, sizeof(key));
	sodium_free(plain);	/* wipes */
	return rc;
}

int
keyfile_load(struct keyfile **out, const char *path, const char *pass,
    size_t passlen)
{
	uint8_t *buf = NULL;
	struct keyfile *k;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (passlen > KEYFILE_PASS_MAX)
		return OFR_E_PASSPHRASE;
	if ((rc = read_file(path, &buf, &len)) != 0)
		return rc;
	if ((k = key_new()) == NULL) {
		free(buf);
		return OFR_E_NOMEM;
	}
	if ((rc = parse_header(k, buf, len)) == 0 &&
	    (rc = derive(k, pass, passlen)) == 0 &&
	    (rc = unseal(k, buf, len)) == 0) {
		free(buf);
		*out = k;
		return 0;
	}
	free(buf);
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

/* Removes the temporary copies a save of path left when it was stopped
 * before its rename (store: the path, ".tmp." and mkstemp's six
 * characters; whole copies of the key file, which forget and erase
 * would not reach). Called with the lock held: no save of another
 * process is under way. */
static void
sweep_tmp(const char *path)
{
	char dir[PATH_MAX], name[PATH_MAX], full[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base;
	struct dirent *e;
	size_t n;
	DIR *d;

	if (slash == NULL) {
		strcpy(dir, ".");
		base = path;
	} else {
		if ((size_t)(slash - path) >= sizeof(dir))
			return;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash == path ? 1 : slash - path] = '\0';
		if (slash == path)
			dir[0] = '/';
		base = slash + 1;
	}
	if (snprintf(name, sizeof(name), "%s.tmp.", base) >=
	    (int)sizeof(name) || (d = opendir(dir)) == NULL)
		return;
	n = strlen(name);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, name, n) == 0 &&
		    strlen(e->d_name) == n + 6 &&
		    snprintf(full, sizeof(full), "%s/%s", dir, e->d_name) <
		    (int)sizeof(full))
			(void)unlink(full);
	closedir(d);
}

int
keyfile_lock(const char *path, int timeout_ms, int *fd)
{
	char lp[PATH_MAX];
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int f, waited = 0;

	*fd = -1;
	if (snprintf(lp, sizeof(lp), "%s.lock", path) >= (int)sizeof(lp)) {
		errno = ENAMETOOLONG;
		return OFR_E_IO;
	}
	if ((f = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return OFR_E_IO;
	(void)fchmod(f, 0600);
	while (flock(f, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int saved = errno;

			close(f);
			errno = saved;
			return OFR_E_IO;
		}
		if (waited >= timeout_ms) {
			close(f);
			return OFR_E_TIMEOUT;
		}
		nanosleep(&ts, NULL);
		waited += 50;
	}
	*fd = f;
	sweep_tmp(path);
	return 0;
}

void
keyfile_unlock(int fd)
{
	if (fd >= 0) {
		(void)flock(fd, LOCK_UN);
		close(fd);
	}
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

struct ks_state *
keyfile_state(struct keyfile *k)
{
	return &k->st;
}
