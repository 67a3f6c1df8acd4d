/*
 * log.h: the server's log, to stderr. It never takes a network address: no
 * caller passes one, and log_redact() scrubs what libwebsockets says before
 * it reaches the log.
 */
#ifndef OFFRAMP_LOG_H
#define OFFRAMP_LOG_H

#include <stddef.h>

enum log_level {
	LOG_ERR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

/* Messages above level are dropped. Default LOG_INFO. */
void log_set_level(int level);
void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

/* Replaces, in place, every run that looks like an IPv4 or IPv6 address
 * in s (a string in a buffer of cap bytes) with "[addr]", truncating to
 * cap. */
void log_redact(char *s, size_t cap);

/* Logs the message and exits with status 1. For start-up and broken
 * invariants only. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
