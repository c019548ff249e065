/*
 * mime/charset.c - charset conversion to UTF-8 (mime/charset.h).
 *
 * iconv is used with its plain interface: EILSEQ skips one byte as U+FFFD,
 * EINVAL at the end of a chunk keeps the tail for the next one.  iconv
 * descriptors are not cached here; a caller converting many small strings
 * (headers) pays iconv_open each time, which glibc makes cheap enough.
 */
#include "mime/charset.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "util.h"

static const char replacement[] = "\xef\xbf\xbd";

/* Length of the UTF-8 sequence at s (1..4), or 0 if invalid/incomplete;
 * *need = bytes the sequence would need when incomplete. */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t *need)
{
	unsigned char c = s[0];
	size_t n;
	unsigned min;
	unsigned cp;

	*need = 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (i >= len) {
			*need = n;
			return 0;
		}
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t mime_utf8_append_valid(
    const char *in, size_t len, bool partial, struct buf *out, size_t *invalid)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, start = 0;

	while (i < len) {
		size_t need, n = utf8_seq(s + i, len - i, &need);

		if (n) {
			i += n;
			continue;
		}
		buf_append(out, s + start, i - start);
		if (need && partial) /* an unfinished character at the end */
			return len - i;
		buf_append(out, replacement, 3);
		if (invalid)
			(*invalid)++;
		i++;
		start = i;
	}
	buf_append(out, s + start, i - start);
	return 0;
}

bool mime_utf8_valid(const char *s, size_t len)
{
	size_t need;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq((const unsigned char *)s + i, len - i, &need);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

bool mime_charset_is_utf8(const char *cs)
{
	return cs == NULL || *cs == 0 || strcasecmp(cs, "utf-8") == 0 ||
	       strcasecmp(cs, "utf8") == 0 || strcasecmp(cs, "us-ascii") == 0 ||
	       strcasecmp(cs, "ascii") == 0 || strcasecmp(cs, "ansi_x3.4-1968") == 0;
}

bool mime_charset_open(struct mime_charset *c, const char *charset)
{
	memset(c, 0, sizeof(*c));
	if (mime_charset_is_utf8(charset))
		return true;
	if (strlen(charset) > 64)
		return false;
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return false;
	c->cd = cd;
	return true;
}

/* Runs iconv over in[0..len); returns bytes not consumed (a tail). */
static size_t charset_iconv(
    struct mime_charset *c, const char *in, size_t len, struct buf *out, bool final)
{
	char *ip = (char *)in;
	size_t il = len;

	while (il > 0) {
		char *op;
		size_t ol, r;

		buf_reserve(out, il * 4 + 16);
		op = buf_tail(out);
		ol = il * 4 + 16;
		r = iconv((iconv_t)c->cd, &ip, &il, &op, &ol);
		buf_commit(out, (size_t)(op - buf_tail(out)));
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		if (errno == EINVAL && !final && il < MIME_CHARSET_PENDING)
			return il;
		/* EILSEQ, or EINVAL at the end: one byte becomes U+FFFD. */
		buf_append(out, replacement, 3);
		c->invalid++;
		ip++;
		il--;
	}
	return 0;
}

void mime_charset_feed(struct mime_charset *c, const char *in, size_t len, struct buf *out)
{
	char *joined = NULL;
	size_t tail;

	if (c->npend) {
		/* A character split between chunks: join its start to this one. */
		joined = xmalloc(c->npend + len);
		memcpy(joined, c->pend, c->npend);
		memcpy(joined + c->npend, in, len);
		in = joined;
		len += c->npend;
		c->npend = 0;
	}
	if (c->cd) {
		/* glibc's decoders let some invalid sequences through (UTF-8
		 * aliases accept code points past U+10FFFF): check the output. */
		struct buf tmp = BUF_INIT;

		tail = charset_iconv(c, in, len, &tmp, false);
		mime_utf8_append_valid(tmp.data ? tmp.data : "", tmp.len, false, out, &c->invalid);
		buf_free(&tmp);
	} else
		tail = mime_utf8_append_valid(in, len, true, out, &c->invalid);
	memcpy(c->pend, in + len - tail, tail);
	c->npend = tail;
	free(joined);
}

void mime_charset_close(struct mime_charset *c, struct buf *out)
{
	if (c->npend) {
		buf_append(out, replacement, 3);
		c->invalid++;
		c->npend = 0;
	}
	if (c->cd) {
		iconv_close((iconv_t)c->cd);
		c->cd = NULL;
	}
}

bool mime_charset_to_utf8(const char *charset, const char *in, size_t len, struct buf *out)
{
	struct mime_charset c;

	if (!mime_charset_open(&c, charset))
		return false;
	mime_charset_feed(&c, in, len, out);
	mime_charset_close(&c, out);
	return true;
}
