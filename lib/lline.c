/*
 * lline.c - logical lines of Postfix-style text files (lline.h).
 *
 * One physical line is looked at before it is consumed: a line that starts
 * a new logical line ends the current one and stays for the next call, as
 * does a line with a NUL byte (the error comes after the good line before
 * it, with the bad line's number).
 */
#include "lline.h"

#include <stdbool.h>
#include <string.h>

static bool lline_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

void lline_init(struct lline *r, const char *text, size_t len)
{
	r->p = text;
	r->end = text + len;
	r->lineno = 0;
	r->start = 0;
	buf_init(&r->line);
}

void lline_free(struct lline *r)
{
	buf_free(&r->line);
}

int lline_next(struct lline *r)
{
	bool have = false;

	buf_reset(&r->line);
	while (r->p < r->end) {
		const char *s = r->p, *e = memchr(s, '\n', (size_t)(r->end - s));
		const char *next = e ? e + 1 : r->end, *t = s;

		if (e == NULL)
			e = r->end;
		if (memchr(s, 0, (size_t)(e - s)) != NULL) {
			if (have)
				break;
			r->p = next;
			r->start = ++r->lineno;
			return LLINE_NUL;
		}
		while (t < e && lline_ws(*t))
			t++;
		while (e > t && lline_ws(e[-1]))
			e--;
		if (t < e && *t != '#' && t == s && have)
			break; /* the next logical line */
		r->p = next;
		r->lineno++;
		if (t == e || *t == '#')
			continue;
		if (t == s) {
			r->start = r->lineno;
			have = true;
		} else if (!have) {
			r->start = r->lineno;
			return LLINE_ORPHAN;
		} else {
			buf_putc(&r->line, ' ');
		}
		buf_append(&r->line, t, (size_t)(e - t));
	}
	return have ? LLINE_OK : LLINE_END;
}
