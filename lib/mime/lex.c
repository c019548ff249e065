/*
 * mime/lex.c - RFC 5322 / RFC 2045 lexical tokens (mime/lex.h).
 */
#include "mime/lex.h"

#include <string.h>

void mime_lex_init(struct mime_lex *l, const char *s, size_t len)
{
	l->p = (const unsigned char *)s;
	l->end = l->p + len;
	l->comment = NULL;
}

bool mime_lex_eof(const struct mime_lex *l)
{
	return l->p >= l->end;
}

int mime_lex_peek(const struct mime_lex *l)
{
	return l->p < l->end ? *l->p : -1;
}

bool mime_lex_char(struct mime_lex *l, char c)
{
	if (l->p < l->end && *l->p == (unsigned char)c) {
		l->p++;
		return true;
	}
	return false;
}

static bool mime_lex_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips a comment at '(' (nested, quoted-pairs), keeping its text. */
static void mime_lex_comment(struct mime_lex *l)
{
	int depth = 0;

	if (l->comment)
		buf_reset(l->comment);
	for (; l->p < l->end; l->p++) {
		unsigned char c = *l->p;

		if (c == '\\' && l->p + 1 < l->end) {
			l->p++;
			if (l->comment && depth == 1)
				buf_putc(l->comment, *l->p);
			continue;
		}
		if (c == '(') {
			depth++;
			if (depth == 1 || depth > MIME_LEX_MAX_COMMENT)
				continue;
		} else if (c == ')') {
			if (--depth == 0) {
				l->p++;
				return;
			}
		}
		if (l->comment && depth >= 1 && c != '\r' && c != '\n')
			buf_putc(l->comment, c);
	}
}

void mime_lex_cfws(struct mime_lex *l)
{
	while (l->p < l->end) {
		if (mime_lex_ws(*l->p))
			l->p++;
		else if (*l->p == '(')
			mime_lex_comment(l);
		else
			break;
	}
}

static bool mime_lex_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if (c <= 32 || c == 127)
		return false;
	return strchr("()<>[]:;@\\,.\"", c) == NULL;
}

bool mime_lex_atom(struct mime_lex *l, struct buf *out)
{
	const unsigned char *s = l->p;

	while (l->p < l->end && mime_lex_atext(*l->p))
		l->p++;
	buf_append(out, s, (size_t)(l->p - s));
	return l->p > s;
}

bool mime_lex_dot_atom(struct mime_lex *l, struct buf *out)
{
	bool any = false;

	for (;;) {
		any |= mime_lex_atom(l, out);
		mime_lex_cfws(l);
		if (!mime_lex_char(l, '.'))
			return any;
		buf_putc(out, '.');
		any = true;
		mime_lex_cfws(l);
	}
}

bool mime_lex_quoted(struct mime_lex *l, struct buf *out)
{
	if (!mime_lex_char(l, '"'))
		return false;
	while (l->p < l->end && *l->p != '"') {
		unsigned char c = *l->p++;

		if (c == '\\' && l->p < l->end)
			c = *l->p++;
		else if (c == '\r' || c == '\n')
			continue; /* folding inside a quoted string */
		buf_putc(out, c);
	}
	mime_lex_char(l, '"');
	return true;
}

bool mime_lex_domain_literal(struct mime_lex *l, struct buf *out)
{
	if (!mime_lex_char(l, '['))
		return false;
	buf_putc(out, '[');
	while (l->p < l->end && *l->p != ']') {
		unsigned char c = *l->p++;

		if (c == '\\' && l->p < l->end)
			c = *l->p++;
		if (c != '\r' && c != '\n')
			buf_putc(out, c);
	}
	if (mime_lex_char(l, ']'))
		buf_putc(out, ']');
	return true;
}

static bool mime_lex_tchar(unsigned char c)
{
	if (c <= 32 || c == 127)
		return false;
	return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

bool mime_lex_token(struct mime_lex *l, struct buf *out)
{
	const unsigned char *s = l->p;

	while (l->p < l->end && mime_lex_tchar(*l->p))
		l->p++;
	buf_append(out, s, (size_t)(l->p - s));
	return l->p > s;
}
