/*
 * fuzz_msg_hdr.c - lib/mstore/msg_hdr.c's cache form of header fields
 * over arbitrary bytes: as a blob read back from tern.index.cache (a file
 * on disk, never trusted) and as header text to encode.  What decodes
 * must write back as header text that reads as fields of that name; what
 * encodes must decode again to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime/header.h"
#include "mstore/msg_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"from", "subject", "received", "x", "to"};

/* Every field of text is called name; returns how many. */
static size_t all_named(const struct buf *text, const char *name)
{
	struct mime_hdr_iter it;
	struct mime_hdr_field f;
	size_t n = 0;

	mime_hdr_iter_init(&it, text->data ? text->data : "", text->len);
	while (mime_hdr_iter_next(&it, &f)) {
		if (!mime_hdr_name_is(&f, name))
			abort();
		n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *name;
	struct msg_hdr_lines l = {0}, m = {0};
	struct buf text = BUF_INIT, blob = BUF_INIT, again = BUF_INIT;

	if (size < 1)
		return 0;
	name = names[data[0] % 5];
	data++, size--;
	if (msg_hdr_blob_decode(data, size, name, &l)) {
		size_t n = l.n;

		if (msg_hdr_lines_write(&l, &text) && all_named(&text, name) != n)
			abort();
	}
	if (msg_hdr_blob_encode((const char *)data, size, name, &blob)) {
		if (!msg_hdr_blob_decode(blob.data ? blob.data : "", blob.len, name, &m) ||
		    !msg_hdr_lines_write(&m, &again))
			abort();
		if (all_named(&again, name) != m.n)
			abort();
	}
	msg_hdr_lines_free(&l);
	msg_hdr_lines_free(&m);
	buf_free(&text);
	buf_free(&blob);
	buf_free(&again);
	return 0;
}
