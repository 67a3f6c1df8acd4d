/*
 * fuzz.h: what the fuzz targets of tests/fuzz/ share. Each fuzz_<name>.c
 * defines LLVMFuzzerTestOneInput; built with clang and -DOFFRAMP_FUZZ=ON
 * it is a libFuzzer binary (tests/fuzz/run.sh), in the normal builds it
 * is linked with replay.c, which runs the committed corpus and
 * regressions through it (ctest fuzz/<name>).
 */
#ifndef OFFRAMP_TESTS_FUZZ_H
#define OFFRAMP_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property every input must keep: a crash, for the fuzzer and ctest
 * alike (assert() would vanish under NDEBUG). */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
