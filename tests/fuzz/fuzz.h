/* fuzz.h - what the libFuzzer targets share (tests/fuzz/, docs/FUZZING.md).
 * Each target feeds one parser that sees outside input; a crash, a leak or
 * sanitizer report is a finding. */
#ifndef JCSTAR_FUZZ_H
#define JCSTAR_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to a per-process scratch file (for parsers that read files)
 * and returns its path. */
static inline const char *
fuzz_file(const char *suffix, const uint8_t *data, size_t size)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/jcstar-fuzz-%ld%s",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp",
	    (long)getpid(), suffix);
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	return path;
}

/* A source-tree file ($JCSTAR_TOP, else the current directory). */
static inline const char *
fuzz_src(const char *rel)
{
	static char path[4096];
	const char *top = getenv("JCSTAR_TOP");

	snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : ".", rel);
	return path;
}

#endif
