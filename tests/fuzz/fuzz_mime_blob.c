/*
 * fuzz_mime_blob.c - lib/mime/blob.c decoders over arbitrary bytes (the
 * index cache is a file another process wrote; it is never trusted).
 * What decodes must encode back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime/blob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT;
	struct mime_part *p = mime_blob_part_decode(data, size);
	struct mime_envelope *e = mime_blob_envelope_decode(data, size);

	if (p) {
		mime_blob_part_encode(p, &b);
		/* varints may be over-long in the input; the tree must agree. */
		struct mime_part *q = mime_blob_part_decode(b.data, b.len);
		if (q == NULL)
			abort();
		mime_part_free(q);
		mime_part_free(p);
	}
	buf_reset(&b);
	if (e) {
		mime_blob_envelope_encode(e, &b);
		struct mime_envelope *f = mime_blob_envelope_decode(b.data, b.len);
		if (f == NULL)
			abort();
		mime_envelope_free(f);
		mime_envelope_free(e);
	}
	buf_free(&b);
	return 0;
}
