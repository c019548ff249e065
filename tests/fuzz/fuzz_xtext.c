/*
 * fuzz_xtext.c - libFuzzer harness for lib/smtp/xtext.c.
 *
 * Whatever decodes must encode to an xtext that decodes to the same bytes
 * (the encoding is canonical: upper-case hex, every xchar as itself), and
 * any bytes at all must survive encode then decode unchanged.  A decoded
 * result never holds a NUL, and its length never exceeds the input's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtp/xtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct buf dec = BUF_INIT, enc = BUF_INIT, again = BUF_INIT;

	if (xtext_decode(in, size, &dec) == 0) {
		if (dec.len > size || memchr(buf_cstr(&dec), 0, dec.len))
			abort();
		xtext_encode(dec.data, dec.len, &enc);
		if (xtext_decode(enc.data, enc.len, &again) != 0 || again.len != dec.len ||
		    memcmp(buf_cstr(&again), buf_cstr(&dec), dec.len) != 0)
			abort();
	}
	buf_reset(&enc);
	xtext_encode(in, size, &enc);
	if (memchr(in, 0, size) == NULL &&
	    (xtext_decode(enc.data, enc.len, &again) != 0 || again.len != size ||
		memcmp(buf_cstr(&again), in, size) != 0))
		abort();
	buf_free(&dec);
	buf_free(&enc);
	buf_free(&again);
	return 0;
}
