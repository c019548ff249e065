/*
 * xtext.c - RFC 3461 section 4 xtext, decoded and encoded.
 *
 * Strict on input: only xchars and "+HH" escapes, so that "+\t41" or
 * "+ 41" (which a scanf-based decoder would take for "A") is refused, and
 * every decoder in tern agrees on what a given xtext means.  What the
 * decoded bytes may be (printable only, for ENVID and ORCPT) is the
 * caller's rule, not the encoding's.
 */
#include "smtp/xtext.h"

#include <stdbool.h>

#include "util.h"

static bool xtext_is_xchar(int c)
{
	return c >= 33 && c <= 126 && c != '+' && c != '=';
}

int xtext_decode(const char *in, size_t len, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)in[i], hi, lo;

		if (c != '+') {
			if (!xtext_is_xchar(c))
				return -1;
			buf_putc(out, c);
			continue;
		}
		if (len - i < 3 || (hi = hex_value((unsigned char)in[i + 1])) < 0 ||
		    (lo = hex_value((unsigned char)in[i + 2])) < 0 || hi * 16 + lo == 0)
			return -1;
		buf_putc(out, hi * 16 + lo);
		i += 2;
	}
	return 0;
}

void xtext_encode(const char *in, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)in[i];

		if (xtext_is_xchar(c)) {
			buf_putc(out, c);
		} else {
			buf_put_hexbyte(out, '+', (unsigned char)c);
		}
	}
}
