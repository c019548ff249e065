/*
 * mime/casemap.c - i;unicode-casemap by simple case folding
 * (mime/casemap.h).  ASCII takes a fast path; other code points go
 * through towupper_l/towlower_l on a C.UTF-8 locale object made once.
 */
#include "mime/casemap.h"

#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>

#include "util.h"

static locale_t casemap_locale;
static pthread_once_t casemap_once = PTHREAD_ONCE_INIT;

static void casemap_init(void)
{
	casemap_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Decodes one UTF-8 character; returns its length, *cp = U+FFFD if bad. */
static size_t utf8_get(const unsigned char *s, size_t len, unsigned *cp)
{
	unsigned c = s[0], v, min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, v = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, v = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, v = c & 0x07, min = 0x10000;
	else
		goto bad;
	if (n > len)
		goto bad;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		goto bad;
	*cp = v;
	return n;
bad:
	*cp = 0xfffd;
	return 1;
}

static unsigned casemap_fold(unsigned cp)
{
	if (cp < 0x80)
		return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
	if (casemap_locale == (locale_t)0)
		return cp;
	return (unsigned)towlower_l(towupper_l((wint_t)cp, casemap_locale), casemap_locale);
}

void mime_casemap(const char *in, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)in;

	pthread_once(&casemap_once, casemap_init);
	buf_reserve(out, len);
	for (size_t i = 0; i < len;) {
		unsigned cp;

		if (s[i] < 0x80) {
			buf_putc(out, s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
			i++;
			continue;
		}
		i += utf8_get(s + i, len - i, &cp);
		buf_put_utf8(out, casemap_fold(cp));
	}
}

bool mime_casemap_contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0)
		return true;
	return memmem(hay, hlen, needle, nlen) != NULL;
}

int mime_casemap_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct buf fa = BUF_INIT, fb = BUF_INIT;
	int r;

	mime_casemap(a, alen, &fa);
	mime_casemap(b, blen, &fb);
	size_t n = fa.len < fb.len ? fa.len : fb.len;
	r = n ? memcmp(fa.data, fb.data, n) : 0;
	if (r == 0)
		r = fa.len < fb.len ? -1 : fa.len > fb.len;
	buf_free(&fa);
	buf_free(&fb);
	return r;
}
