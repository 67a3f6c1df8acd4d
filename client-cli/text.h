/*
 * text.h: safe printing of text that came from other people or from the
 * server, and of times. Every string the CLI did not make goes to the
 * terminal through text_put or text_puts.
 */
#ifndef OFFRAMP_CLI_TEXT_H
#define OFFRAMP_CLI_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Writes t (seconds since the epoch) as "2026-01-31T12:00:00Z". */
void text_put_time(FILE *f, int64_t t);

/* 1 if s[0..len) is valid UTF-8, else 0. */
int text_utf8_ok(const char *s, size_t len);
/* Writes s[0..len) to f with invalid UTF-8 and control characters
 * (C0, DEL, C1, bidi overrides) replaced by '?'; tab, newline and
 * carriage return become spaces. */
void text_put(FILE *f, const char *s, size_t len);
/* text_put of a NUL-terminated string; NULL prints "?". */
void text_puts(FILE *f, const char *s);

/* Joins the strings of a JSON array with sep into f (text_put each). */
void text_put_list(FILE *f, json_t *arr, const char *sep);

#endif
