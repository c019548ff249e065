/*
 * mutf7.c - modified UTF-7 (RFC 3501 5.1.3) to and from UTF-8.
 *
 * See mutf7.h for the strictness rules.  Both directions build into a
 * scratch buffer first and append it to the caller's only on success,
 * so a refused input leaves the output as it was.
 */
#include "mstore/mutf7.h"

#include <stdint.h>
#include <string.h>

#include "base64.h"

/* Modified base64: the last digit is ',' (RFC 3501 5.1.3). */
static char mutf7_digit(unsigned v)
{
	return v == 63 ? ',' : base64_digits[v];
}

/* Decodes one UTF-8 character at s (n bytes left); its length, or 0 when
 * it is malformed, overlong, a surrogate, above U+10FFFF or NUL. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c == 0)
		return 0;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

bool mutf7_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_next(p + i, len - i, &cp);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* Base64 state of one shifted run while encoding. */
struct mutf7_enc {
	uint32_t bits;
	int nbits;
};

static void mutf7_enc_unit(struct buf *out, struct mutf7_enc *e, uint32_t unit)
{
	e->bits = (e->bits << 16) | unit;
	e->nbits += 16;
	while (e->nbits >= 6) {
		e->nbits -= 6;
		buf_putc(out, mutf7_digit((e->bits >> e->nbits) & 0x3f));
	}
}

static void mutf7_enc_end(struct buf *out, struct mutf7_enc *e)
{
	if (e->nbits > 0)
		buf_putc(out, mutf7_digit((e->bits << (6 - e->nbits)) & 0x3f));
	buf_putc(out, '-');
	e->bits = 0;
	e->nbits = 0;
}

int mutf7_encode(const char *s, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	struct buf tmp = BUF_INIT;
	struct mutf7_enc e = {0, 0};
	bool shifted = false;
	int r = 0;

	for (size_t i = 0; i < len && r == 0;) {
		uint32_t cp;
		size_t n = utf8_next(p + i, len - i, &cp);

		if (n == 0) {
			r = -1;
			break;
		}
		i += n;
		if (cp >= 0x20 && cp <= 0x7e) {
			if (shifted)
				mutf7_enc_end(&tmp, &e);
			shifted = false;
			if (cp == '&')
				buf_puts(&tmp, "&-");
			else
				buf_putc(&tmp, (int)cp);
			continue;
		}
		if (!shifted)
			buf_putc(&tmp, '&');
		shifted = true;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			mutf7_enc_unit(&tmp, &e, 0xd800 | (cp >> 10));
			mutf7_enc_unit(&tmp, &e, 0xdc00 | (cp & 0x3ff));
		} else {
			mutf7_enc_unit(&tmp, &e, cp);
		}
	}
	if (r == 0 && shifted)
		mutf7_enc_end(&tmp, &e);
	if (r == 0)
		buf_append(out, tmp.data ? tmp.data : "", tmp.len);
	buf_free(&tmp);
	return r;
}

/*
 * Decodes the shifted run starting after '&' at s[*i]; *i moves past
 * its '-'.  0, or -1 when the run breaks a rule of mutf7.h.
 */
static int mutf7_dec_run(const unsigned char *s, size_t len, size_t *i, struct buf *out)
{
	uint32_t bits = 0, high = 0;
	int nbits = 0;
	size_t units = 0;

	for (;;) {
		int v;

		if (*i >= len)
			return -1; /* no closing '-' */
		if (s[*i] == '-')
			break;
		if ((v = base64_value(s[(*i)++], ',')) < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = (bits >> nbits) & 0xffff;

		units++;
		if (high) {
			if (unit < 0xdc00 || unit > 0xdfff)
				return -1;
			buf_put_utf8(out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			return -1;
		} else if ((unit >= 0x20 && unit <= 0x7e) || unit == 0) {
			return -1; /* printable ASCII stands for itself; no NUL */
		} else {
			buf_put_utf8(out, unit);
		}
	}
	(*i)++; /* the '-' */
	/* "&-" is handled by the caller; an empty or unfinished run is not
	 * allowed, nor more than 5 leftover bits or non-zero ones. */
	if (units == 0 || high || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
		return -1;
	return 0;
}

int mutf7_decode(const char *s, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	struct buf tmp = BUF_INIT;
	bool after_run = false;
	int r = 0;

	for (size_t i = 0; i < len && r == 0;) {
		unsigned char c = p[i];

		if (c < 0x20 || c > 0x7e) {
			r = -1;
		} else if (c != '&') {
			buf_putc(&tmp, c);
			i++;
			after_run = false;
		} else if (i + 1 < len && p[i + 1] == '-') {
			buf_putc(&tmp, '&');
			i += 2;
			after_run = false;
		} else if (after_run) {
			r = -1; /* two adjacent runs: one encoding per name */
		} else {
			i++;
			r = mutf7_dec_run(p, len, &i, &tmp);
			after_run = true;
		}
	}
	if (r == 0)
		buf_append(out, tmp.data ? tmp.data : "", tmp.len);
	buf_free(&tmp);
	return r;
}

bool mutf7_valid(const char *s, size_t len)
{
	struct buf tmp = BUF_INIT;
	int r = mutf7_decode(s, len, &tmp);

	buf_free(&tmp);
	return r == 0;
}
