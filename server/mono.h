/*
 * mono.h: the monotonic clock (CLOCK_MONOTONIC), for deadlines and
 * durations: it never steps with the wall clock.
 */
#ifndef OFFRAMP_MONO_H
#define OFFRAMP_MONO_H

#include <stdint.h>

/* Now, in microseconds since an arbitrary start. */
int64_t mono_us(void);
/* The same in milliseconds. */
int64_t mono_ms(void);

#endif
