/*
 * replay.c: the main() of the fuzz targets in the normal (gcc) builds.
 * Runs the empty input and every file of each directory given (the
 * target's corpus and regressions; a missing directory is empty) through
 * LLVMFuzzerTestOneInput, in name order, so that ctest replays them
 * deterministically, under ASan and UBSan in ./build-asan. A crash or a
 * failed FUZZ_CHECK aborts; an unreadable file fails.
 *
 * usage: fuzz_<name> DIR...
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Reads path into *buf (malloc'd), *len its size; 0 or -1. */
static int
slurp(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0, got;
	uint8_t *b = malloc(cap), *nb;

	if (f == NULL || b == NULL) {
		if (f != NULL)
			fclose(f);
		free(b);
		return -1;
	}
	while ((got = fread(b + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			if ((nb = realloc(b, cap * 2)) == NULL) {
				free(b);
				fclose(f);
				return -1;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		free(b);
		fclose(f);
		return -1;
	}
	fclose(f);
	*buf = b;
	*len = n;
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Runs every regular file of dir; the count, or -1. */
static int
replay_dir(const char *dir)
{
	struct dirent **names;
	char path[4096];
	struct stat st;
	int n, ran = 0;

	if ((n = scandir(dir, &names, NULL, by_name)) < 0)
		return errno == ENOENT ? 0 : -1;
	for (int i = 0; i < n; i++) {
		uint8_t *buf;
		size_t len;

		if (names[i]->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]->d_name) >= (int)sizeof(path) ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(names[i]);
			continue;
		}
		if (slurp(path, &buf, &len) != 0) {
			fprintf(stderr, "replay: cannot read %s\n", path);
			ran = -1;
		} else {
			LLVMFuzzerTestOneInput(buf, len);
			free(buf);
			if (ran >= 0)
				ran++;
		}
		free(names[i]);
	}
	free(names);
	return ran;
}

int
main(int argc, char **argv)
{
	static const uint8_t none[1];
	int total = 0, n;

	LLVMFuzzerTestOneInput(none, 0);
	for (int i = 1; i < argc; i++) {
		if ((n = replay_dir(argv[i])) < 0) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			return 1;
		}
		printf("%s: %d inputs\n", argv[i], n);
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "replay: no input at all: no corpus?\n");
		return 1;
	}
	printf("replayed %d inputs\n", total);
	return 0;
}
