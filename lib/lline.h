/*
 * lline.h - logical lines of Postfix-style text files: main.cf, master.cf
 * and table sources.
 *
 * A logical line starts with a line whose first character is not white
 * space; each following line that starts with white space continues it,
 * joined with one space in place of its leading white space.  Blank lines
 * and lines whose first non-blank character is '#' are skipped and do not
 * end a logical line (Postfix lets continuation lines run across them).
 * Trailing white space (including the '\r' of CRLF files) is dropped from
 * every line.  White space is ' ', '\t', '\r', '\f' and '\v'.
 *
 * The reader is a pure function over a buffer; its callers give the
 * lines their meaning and their error messages.
 */
#ifndef TERN_LLINE_H
#define TERN_LLINE_H

#include <stddef.h>

#include "buf.h"

struct lline {
	const char *p, *end;
	int lineno;	 /* physical lines consumed so far */
	int start;	 /* line number of the logical line returned (or of the
			    bad line) */
	struct buf line; /* the logical line, NUL-terminated */
};

enum {
	LLINE_NUL = -2,	   /* a NUL byte in line start */
	LLINE_ORPHAN = -1, /* line start continues nothing */
	LLINE_END = 0,
	LLINE_OK = 1, /* a logical line in line */
};

void lline_init(struct lline *r, const char *text, size_t len);
/* The next logical line, or LLINE_END, or an error (then stop reading). */
int lline_next(struct lline *r);
void lline_free(struct lline *r);

#endif
