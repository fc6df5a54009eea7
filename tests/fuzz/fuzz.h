/* fuzz.h: what the libFuzzer harnesses in tests/fuzz/ share.  Each
 * harness is one fuzz_<name>.c built by `make fuzz-build` into
 * build/fuzz/fuzz_<name>, with ASan and UBSan, against lib/ compiled with
 * the same sanitizers and libFuzzer's coverage instrumentation. */
#ifndef MSGCMD_FUZZ_H
#define MSGCMD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* libFuzzer's entry points (no header of its own declares them). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts, which libFuzzer records as a crash with the input that caused
 * it, when an invariant of the code under test does not hold. */
#define FUZZ_ASSERT(cond) do { if (!(cond)) abort(); } while (0)

/* Returns a malloc'd NUL-terminated copy of the n bytes at s, cut at the
 * first NUL as a C string from a gateway would be.  Aborts when out of
 * memory: a harness has nothing better to do. */
static inline char *fuzz_str(const uint8_t *s, size_t n)
{
	const uint8_t *nul = memchr(s, '\0', n);
	size_t len = nul != NULL ? (size_t)(nul - s) : n;
	char *copy = malloc(len + 1);

	FUZZ_ASSERT(copy != NULL);
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

#endif
