/*
 * mime/rfc2047.c - encoded-word decoding (mime/rfc2047.h).
 */
#include "mime/rfc2047.h"

#include <string.h>

#include "mime/charset.h"
#include "mime/decode.h"
#include "util.h"

/* Longest charset name accepted in a word (RFC 2047 allows 75 per word). */
#define WORD_CHARSET_MAX 64

struct word {
	const char *charset;
	size_t charset_len;
	char enc;
	const char *text;
	size_t text_len;
	size_t total; /* bytes from "=?" to "?=" inclusive */
};

/* Is there an encoded word at s[0..len)? */
static bool word_find(const char *s, size_t len, struct word *w)
{
	const char *p = s + 2, *end = s + len, *q;

	if (len < 8 || s[0] != '=' || s[1] != '?')
		return false;
	q = memchr(p, '?', (size_t)(end - p));
	if (!q || q == p || (size_t)(q - p) > WORD_CHARSET_MAX || q + 3 > end || q[2] != '?')
		return false;
	w->charset = p;
	w->charset_len = (size_t)(q - p);
	/* RFC 2231 section 5: "charset*language". */
	const char *star = memchr(p, '*', w->charset_len);
	if (star)
		w->charset_len = (size_t)(star - p);
	w->enc = q[1];
	if (w->enc != 'B' && w->enc != 'b' && w->enc != 'Q' && w->enc != 'q')
		return false;
	w->text = q + 3;
	for (q = w->text; q + 1 < end; q++) {
		if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			return false;
		if (q[0] == '?' && q[1] == '=') {
			w->text_len = (size_t)(q - w->text);
			w->total = (size_t)(q + 2 - s);
			return true;
		}
	}
	return false;
}

static void word_decode_q(const char *t, size_t n, struct buf *raw)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '_') {
			buf_putc(raw, ' ');
		} else if (t[i] == '=' && i + 2 < n && hex_value(t[i + 1]) >= 0 &&
			   hex_value(t[i + 2]) >= 0) {
			buf_putc(raw, hex_value(t[i + 1]) * 16 + hex_value(t[i + 2]));
			i += 2;
		} else {
			buf_putc(raw, t[i]);
		}
	}
}

static void word_decode(const struct word *w, struct buf *out)
{
	struct buf raw = BUF_INIT;
	char cs[WORD_CHARSET_MAX + 1];

	if (w->enc == 'B' || w->enc == 'b') {
		struct mime_b64 d;

		mime_b64_init(&d);
		mime_b64_feed(&d, w->text, w->text_len, &raw);
		mime_b64_finish(&d, &raw);
	} else {
		word_decode_q(w->text, w->text_len, &raw);
	}
	memcpy(cs, w->charset, w->charset_len);
	cs[w->charset_len] = 0;
	if (!mime_charset_to_utf8(cs, raw.data ? raw.data : "", raw.len, out))
		mime_utf8_append_valid(raw.data ? raw.data : "", raw.len, false, out, NULL);
	buf_free(&raw);
}

static bool is_lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void mime_2047_decode(const char *in, size_t len, struct buf *out)
{
	size_t i = 0, plain = 0;
	bool last_was_word = false;

	while (i < len) {
		struct word w;

		if (in[i] == '=' && word_find(in + i, len - i, &w)) {
			/* Copy the plain text before; drop it if it is only white
			 * space between two words. */
			bool only_ws = true;

			for (size_t k = plain; k < i; k++)
				only_ws &= is_lwsp(in[k]);
			if (!(last_was_word && only_ws)) {
				struct buf tmp = BUF_INIT;

				for (size_t k = plain; k < i; k++)
					if (in[k] != '\r' && in[k] != '\n')
						buf_putc(&tmp, in[k]);
				mime_utf8_append_valid(
				    tmp.data ? tmp.data : "", tmp.len, false, out, NULL);
				buf_free(&tmp);
			}
			word_decode(&w, out);
			i += w.total;
			plain = i;
			last_was_word = true;
			continue;
		}
		if (!is_lwsp(in[i]))
			last_was_word = false;
		i++;
	}
	struct buf tmp = BUF_INIT;
	for (size_t k = plain; k < len; k++)
		if (in[k] != '\r' && in[k] != '\n')
			buf_putc(&tmp, in[k]);
	mime_utf8_append_valid(tmp.data ? tmp.data : "", tmp.len, false, out, NULL);
	buf_free(&tmp);
}
