/*
 * fuzz_mime_downgrade.c - lib/mime/downgrade.c over arbitrary header
 * bytes (a stored message's, as the POP3 downgrade for clients without
 * UTF8 reads them): the result is ASCII, and a header that needed no
 * downgrade comes out byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime/downgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	bool needed = mime_downgrade_needed((const char *)data, size);

	mime_downgrade_header((const char *)data, size, &out);
	if (mime_downgrade_needed(out.data ? out.data : "", out.len))
		abort();
	if (!needed && (out.len != size || (size && memcmp(out.data, data, size) != 0)))
		abort();
	buf_free(&out);
	return 0;
}
