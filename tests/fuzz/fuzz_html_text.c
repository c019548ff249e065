/*
 * fuzz_html_text.c - libFuzzer harness for mime_html_text
 * (lib/mime/html_text.c), which reads the HTML of mail (untrusted) as
 * text for JMAP previews, search snippets and Sieve's body :text.
 *
 * The text is never longer than the HTML (a tag or a reference is never
 * shorter than what it leaves), and valid UTF-8 in gives valid UTF-8 out
 * (only ASCII-delimited runs are removed; references decode to valid
 * characters).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime/charset.h"
#include "mime/html_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;

	mime_html_text((const char *)data, size, &out);
	if (out.len > size)
		abort();
	if (mime_utf8_valid((const char *)data, size) && out.len &&
	    !mime_utf8_valid(out.data, out.len))
		abort();
	buf_free(&out);
	return 0;
}
