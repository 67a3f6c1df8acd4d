/*
 * words.h: what an error code means to a person, in one line: what
 * happened and what to do. The CLI prints it under the machine-readable
 * "offramp: CODE: TYPE" line of every refused request (cli.c).
 */
#ifndef OFFRAMP_CLI_WORDS_H
#define OFFRAMP_CLI_WORDS_H

/* The plain-words line for error code (a stable name, as err_str gives)
 * of request type (may be NULL): never NULL; a general line when the
 * code is unknown. */
const char *words_for(const char *code, const char *type);

#endif
