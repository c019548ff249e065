/*
 * base64.c - the base64 alphabet and encoder (base64.h).
 */
#include "base64.h"

const char base64_digits[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(unsigned char c, unsigned char c63)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == c63)
		return 63;
	return -1;
}

void base64_encode(const void *in, size_t len, struct buf *out)
{
	const unsigned char *p = in;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t n = len - i;

		if (n > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		buf_putc(out, base64_digits[(v >> 18) & 63]);
		buf_putc(out, base64_digits[(v >> 12) & 63]);
		buf_putc(out, n > 1 ? base64_digits[(v >> 6) & 63] : '=');
		buf_putc(out, n > 2 ? base64_digits[v & 63] : '=');
	}
}

void base64url_encode(const void *in, size_t len, struct buf *out)
{
	size_t start = out->len, end;

	base64_encode(in, len, out);
	end = out->len;
	while (end > start && out->data[end - 1] == '=')
		end--;
	buf_truncate(out, end);
	for (size_t i = start; i < end; i++)
		if (out->data[i] == '+')
			out->data[i] = '-';
		else if (out->data[i] == '/')
			out->data[i] = '_';
}
