/*
 * mime/lex.h - the lexical tokens of RFC 5322 and RFC 2045 header values.
 *
 * A cursor over a header value (already unfolded or not: CR and LF count
 * as white space).  Every reader is lenient in Dovecot's way: it takes
 * what it can and never fails on 8-bit bytes (UTF-8 headers, RFC 6532).
 * Comments nest to MIME_LEX_MAX_COMMENT levels and are otherwise skipped;
 * the text of the last comment skipped is kept for callers that want it
 * (an address's "(Display Name)").
 *
 * Used by mime/address.c, mime/date.c and mime/param.c; pure functions.
 */
#ifndef TERN_MIME_LEX_H
#define TERN_MIME_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define MIME_LEX_MAX_COMMENT 32

struct mime_lex {
	const unsigned char *p, *end;
	struct buf *comment; /* when not NULL: receives the last comment */
};

void mime_lex_init(struct mime_lex *l, const char *s, size_t len);
bool mime_lex_eof(const struct mime_lex *l);
/* Skips white space (SP, HTAB, CR, LF) and comments. */
void mime_lex_cfws(struct mime_lex *l);
/* RFC 5322 atext run (8-bit bytes included); false if none. */
bool mime_lex_atom(struct mime_lex *l, struct buf *out);
/* atoms joined by '.', as dot-atom and obs-local-part; lenient about
 * empty elements ("a..b", "a.") like Dovecot. */
bool mime_lex_dot_atom(struct mime_lex *l, struct buf *out);
/* A quoted string at the cursor, its content unescaped into out; an
 * unterminated one runs to the end.  False if the cursor is not at '"'. */
bool mime_lex_quoted(struct mime_lex *l, struct buf *out);
/* A domain literal "[...]" appended as is (brackets included). */
bool mime_lex_domain_literal(struct mime_lex *l, struct buf *out);
/* A MIME token (RFC 2045 5.1: no tspecials). */
bool mime_lex_token(struct mime_lex *l, struct buf *out);
/* Consumes c if it is next. */
bool mime_lex_char(struct mime_lex *l, char c);
int mime_lex_peek(const struct mime_lex *l); /* -1 at the end */

#endif
