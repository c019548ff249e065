/*
 * fuzz_mutf7.c - libFuzzer harness for the modified UTF-7 codec
 * (lib/mstore/mutf7.c): decode any bytes; what decodes must encode back
 * to exactly the input (one encoding per name), and valid UTF-8 must
 * survive encode + decode.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mstore/mutf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	const char *p = (const char *)data;

	if (mutf7_decode(p, size, &a) == 0) {
		if (mutf7_encode(a.data ? a.data : "", a.len, &b) != 0 || b.len != size ||
		    memcmp(b.data ? b.data : "", p, size) != 0)
			abort();
	}
	buf_reset(&a);
	buf_reset(&b);
	if (mutf7_encode(p, size, &a) == 0) {
		if (mutf7_decode(a.data ? a.data : "", a.len, &b) != 0 || b.len != size ||
		    memcmp(b.data ? b.data : "", p, size) != 0)
			abort();
	}
	buf_free(&a);
	buf_free(&b);
	return 0;
}
