/*
 * passphrase.h: where the CLI gets the key file's passphrase: a file, the
 * environment, or the terminal with echo off. The passphrase is only ever
 * held in sodium_malloc'd memory.
 */
#ifndef OFFRAMP_CLI_PASSPHRASE_H
#define OFFRAMP_CLI_PASSPHRASE_H

#include <stddef.h>

/*
 * Gets the passphrase: the first line of file when file is not NULL, else
 * $OFFRAMP_PASSPHRASE when set, else asked on /dev/tty without echo
 * (asked twice, and must match, when confirm). Returns 0 with *out (NUL-
 * terminated, sodium_malloc'd: free with passphrase_free) and *len, or
 * OFR_E_IO / OFR_E_PASSPHRASE / OFR_E_NOMEM with why (capacity whysz) set.
 */
int passphrase_get(const char *file, int confirm, char **out, size_t *len,
    char *why, size_t whysz);

/* The strength a new passphrase must have, in words. */
#define PASSPHRASE_RULE	"at least 12 characters, with at least 6 " \
	"different ones (a few words work well)"
/* 1 if the passphrase of len bytes meets PASSPHRASE_RULE, else 0. */
int passphrase_strong(const char *pass, size_t len);

/* Wipes and frees p; passphrase_free(NULL) is harmless. */
void passphrase_free(char *p);

#endif
