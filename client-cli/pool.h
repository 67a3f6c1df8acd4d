/*
 * pool.h: naming a counsellor of the admin's programme as a person would
 * (pool.c): by display name, key fingerprint, a key prefix, or the key.
 */
#ifndef OFFRAMP_CLI_POOL_H
#define OFFRAMP_CLI_POOL_H

#include <jansson.h>

#include "proto/frame.h"
#include "proto/ocrypto.h"

struct cli;

/* The display name of counsellor entry e ("name", or its profile's). */
const char *pool_entry_name(json_t *e);
/*
 * The one entry of list ({"key", "name" or "profile"}) that word names:
 * its display name, its key fingerprint (spaces or not), its base64 key
 * or a prefix of it of at least POOL_PREFIX_MIN characters. 0 with *e;
 * OFR_E_NOT_FOUND or OFR_E_USAGE (several: each listed), printed.
 */
#define POOL_PREFIX_MIN	4
int pool_find_named(json_t *list, const char *word, json_t **e);
/* The base64 key of the counsellor of the admin's programme that word
 * names (a full key is taken as it is; anything else is looked up with
 * counsellor.list, after logging in). 0 or an error code (printed). */
int pool_key_of(struct cli *cli, const char *word,
    char key[OFR_B64_LEN(OFR_PK_BYTES)]);

/* Prints a programme figure: the count, or "fewer than 5" for null (a
 * count the server withholds, PROTOCOL.md "Figures"). */
void pool_put_count(json_t *v);

#endif
