/* fuzz.h - shared by the libFuzzer targets in tests/fuzz/: the input as a
 * NUL-terminated string (the parsers all take text). */
#ifndef VMC_FUZZ_H
#define VMC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A copy of data with a terminating NUL; never NULL (aborts on OOM). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
