/*
 * fuzz_mime_parser.c - lib/mime/parser.c over hostile messages, with
 * the IMAP formatters and the blob codec on its result.
 *
 * The first input byte chooses a chunk size; the rest is the message.
 * Beyond "no crash, no leak", it checks the parser's contract: the tree
 * does not depend on how the message was cut, sizes add up (no part
 * ends past the message), and the blob of the tree decodes to a tree
 * with the same blob.
 */
/* FUZZ_LINK: imap/write.c imap/format_envelope.c imap/format_body.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imap/format.h"
#include "../../imap/write.h"
#include "buf.h"
#include "mime/blob.h"
#include "mime/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sizes(const struct mime_part *p, uint64_t len)
{
	for (; p; p = p->next) {
		if (p->hdr_offset + p->hdr.physical + p->body.physical > len)
			abort();
		if (p->hdr.virtual_size < p->hdr.physical ||
		    p->body.virtual_size < p->body.physical)
			abort();
		if (p->type == NULL || p->subtype == NULL)
			abort();
		check_sizes(p->children, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_parser_limits lim = {8, 50, 512};
	struct buf a = BUF_INIT, b = BUF_INIT, out = BUF_INIT;
	struct mime_part *whole, *cut, *back;
	struct mime_parser *p;
	const char *msg = (const char *)data + 1;
	size_t len, chunk;

	if (size < 1)
		return 0;
	len = size - 1;
	chunk = data[0] % 16 + 1;
	p = mime_parser_new(&lim, NULL, NULL);
	mime_parser_feed(p, msg, len);
	whole = mime_parser_finish(p);
	p = mime_parser_new(&lim, NULL, NULL);
	for (size_t i = 0; i < len; i += chunk)
		mime_parser_feed(p, msg + i, len - i < chunk ? len - i : chunk);
	cut = mime_parser_finish(p);
	check_sizes(whole, len);
	mime_blob_part_encode(whole, &a);
	mime_blob_part_encode(cut, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	back = mime_blob_part_decode(a.data, a.len);
	if (back == NULL)
		abort();
	buf_reset(&b);
	mime_blob_part_encode(back, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	imap_format_envelope(&out, whole->envelope, 0);
	imap_format_body(&out, whole, true, 0);
	imap_format_body(&out, back, false, IMAP_WRITE_UTF8);
	mime_part_free(whole);
	mime_part_free(cut);
	mime_part_free(back);
	buf_free(&a);
	buf_free(&b);
	buf_free(&out);
	return 0;
}
