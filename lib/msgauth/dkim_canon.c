/*
 * dkim_canon.c - DKIM's canonicalisations (RFC 6376 3.4).
 *
 * Header fields: "simple" keeps the field as it is; "relaxed" lowercases
 * the name, unfolds, turns runs of white space into one space and drops
 * white space at the ends of the value and around the colon.  Bodies:
 * "simple" drops trailing empty lines (an empty body becomes one CRLF);
 * "relaxed" also turns runs of white space into one space, drops white
 * space at line ends, and leaves an empty body empty (RFC 6376 erratum
 * 3133, as dkimpy and OpenDKIM do).  The input body has CRLF line ends.
 */
#include <string.h>

#include "msgauth/dkim.h"
#include "util.h"

static bool dkim_canon_wsp(char c)
{
	return c == ' ' || c == '\t';
}

void dkim_canon_header(enum dkim_canon c, const char *field, size_t len, struct buf *out)
{
	const char *colon = memchr(field, ':', len);
	size_t name_end, i, start = out->len;
	bool space = false;

	if (c == DKIM_SIMPLE || colon == NULL) {
		buf_append(out, field, len);
		buf_puts(out, "\r\n");
		return;
	}
	for (name_end = (size_t)(colon - field);
	     name_end > 0 && dkim_canon_wsp(field[name_end - 1]); name_end--)
		;
	for (i = 0; i < name_end; i++) {
		char ch = field[i];
		buf_putc(out, ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
	}
	buf_putc(out, ':');
	start = out->len;
	for (i = (size_t)(colon - field) + 1; i < len; i++) {
		char ch = field[i];
		if (ch == '\r' || ch == '\n')
			continue;
		if (dkim_canon_wsp(ch)) {
			space = true;
			continue;
		}
		if (space && out->len > start)
			buf_putc(out, ' ');
		space = false;
		buf_putc(out, ch);
	}
	buf_puts(out, "\r\n");
}

/* One body line (without its CRLF), relaxed. */
static void dkim_canon_line(const char *p, size_t n, struct buf *out)
{
	bool space = false;

	for (size_t i = 0; i < n; i++) {
		if (dkim_canon_wsp(p[i])) {
			space = true;
			continue;
		}
		if (space)
			buf_putc(out, ' ');
		space = false;
		buf_putc(out, p[i]);
	}
}

void dkim_canon_body(enum dkim_canon c, const char *body, size_t len, struct buf *out)
{
	size_t start = out->len, i = 0;

	while (i < len) {
		const char *nl = memchr(body + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - body) : len, line_end = end;
		if (line_end > i && body[line_end - 1] == '\r')
			line_end--;
		if (c == DKIM_RELAXED)
			dkim_canon_line(body + i, line_end - i, out);
		else
			buf_append(out, body + i, line_end - i);
		buf_puts(out, "\r\n");
		i = nl ? end + 1 : len;
	}
	/* trailing empty lines go */
	while (out->len - start >= 4 && memcmp(out->data + out->len - 4, "\r\n\r\n", 4) == 0)
		buf_truncate(out, out->len - 2);
	if (out->len - start == 2 && memcmp(out->data + start, "\r\n", 2) == 0)
		buf_truncate(out, start);
	if (out->len == start && c == DKIM_SIMPLE)
		buf_puts(out, "\r\n");
}
