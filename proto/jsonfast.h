/*
 * jsonfast.h: a quick read of plain JSON (jsonfast.c): the value of an
 * object, or NULL when the text is anything it does not take (escapes,
 * bytes past ASCII, reals, keys twice, deep nesting, an error): then
 * json_loadb() reads it. For frame_in_parse().
 */
#ifndef OFFRAMP_PROTO_JSONFAST_H
#define OFFRAMP_PROTO_JSONFAST_H

#include <stddef.h>

#include <jansson.h>

json_t *jsonfast_load(const char *buf, size_t len);

#endif
