/*
 * fuzz_cleanup_header.c - cleanup's header splitter and header value
 * lookup over hostile message bytes.
 *
 * The first two input bytes choose the header_size_limit and a cut point;
 * the rest is the message.  Beyond "no crash", it checks the splitter's
 * contract: the result does not depend on where the data was cut, the
 * header section never exceeds the limit, and at most one byte (the
 * empty line) lies between header and body.
 */
/* FUZZ_LINK: cleanup/header.c cleanup/received.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cleanup/header.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_split(const char *msg, size_t len, size_t limit, size_t cut, struct hdr_split *s)
{
	hdr_split_init(s, limit);
	if (!hdr_split_scan(s, msg, cut) && !hdr_split_scan(s, msg, len))
		hdr_split_finish(s, msg, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hdr_split a, b;
	struct buf v = BUF_INIT;
	const char *msg = (const char *)data + 2;
	size_t len, limit, cut;

	if (size < 2)
		return 0;
	len = size - 2;
	limit = data[0] * 4u;
	cut = len ? data[1] % (len + 1) : 0;
	fuzz_split(msg, len, limit, len, &a);
	fuzz_split(msg, len, limit, cut, &b);
	if (!a.done || a.header_len != b.header_len || a.body_off != b.body_off)
		abort();
	if (a.header_len > a.body_off || a.body_off > len || a.body_off - a.header_len > 1)
		abort();
	if (a.header_len > limit)
		abort();
	hdr_value(msg, a.header_len, "Message-ID", &v);
	buf_free(&v);
	return 0;
}
