/*
 * mono.c: the monotonic clock (mono.h).
 */
#include <time.h>

#include "mono.h"

int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
mono_ms(void)
{
	return mono_us() / 1000;
}
