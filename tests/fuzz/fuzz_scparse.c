/*
 * socketcand's parser alone, at the speed of a parser: the input as a
 * peer's byte stream, cut into elements as sc/conn.c cuts it and every
 * element through sc_parse_cmd(), with sccheck.c's checks (bounds, and
 * the canonical text of a command reading back the same). fuzz_sc runs
 * the same walk in front of the real connection, a hundred times slower.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "sccheck.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *want = fuzz_alloc(size + 2);
	int closes;

	sccheck_stream((const char *)data, size, want, &closes);
	free(want);
	return 0;
}
