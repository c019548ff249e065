/*
 * sieve/lex.c - the Sieve tokenizer (RFC 5228 section 8.1).
 *
 * White space, "#" comments to the end of the line and bracketed
 * comments are skipped.  Strings come quoted (a backslash takes the next
 * character literally, RFC 5228 2.4.2: "\a" is "a") or as "text:"
 * multi-line literals ending with a line holding only "."; a line of a
 * multi-line literal starting with ".." loses one dot.  Numbers take a
 * K, M or G quantifier; one that does not fit 63 bits is an error.
 * Every token remembers the line it starts on, for error messages.
 */
#include <ctype.h>
#include <string.h>

#include "sieve/sieve_int.h"

void sv_lex_init(struct sv_lexer *lx, const char *text, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->p = text;
	lx->end = text + len;
	lx->line = 1;
}

void sv_lex_free(struct sv_lexer *lx)
{
	buf_free(&lx->text);
}

static void sv_lex_error(struct sv_lexer *lx, const char *msg)
{
	lx->tok = SV_TOK_ERROR;
	lx->err = msg;
	/* where the lexer stopped, as Pigeonhole reports an unterminated
	 * string or comment at the end of the script */
	lx->tok_line = lx->line;
}

/* Skips white space and comments; false on an unterminated comment. */
static bool sv_lex_skip(struct sv_lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			lx->p++;
		} else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			lx->p += 2;
			for (;;) {
				if (lx->p + 1 >= lx->end) {
					if (lx->p < lx->end && *lx->p == '\n')
						lx->line++;
					return false;
				}
				if (lx->p[0] == '*' && lx->p[1] == '/')
					break;
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			lx->p += 2;
		} else {
			break;
		}
	}
	return true;
}

static bool sv_ident_char(int c, bool first)
{
	return isalpha(c) || c == '_' || (!first && isdigit(c));
}

static void sv_lex_quoted(struct sv_lexer *lx)
{
	lx->p++;
	while (lx->p < lx->end && *lx->p != '"') {
		if (*lx->p == '\\') {
			lx->p++;
			if (lx->p >= lx->end)
				break;
		}
		if (*lx->p == '\n')
			lx->line++;
		buf_putc(&lx->text, *lx->p);
		lx->p++;
	}
	if (lx->p >= lx->end) {
		sv_lex_error(lx, "unterminated string");
		return;
	}
	lx->p++;
	lx->tok = SV_TOK_STRING;
}

/* "text:" already consumed: the rest of the line, then the lines. */
static void sv_lex_multiline(struct sv_lexer *lx)
{
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
		lx->p++;
	if (lx->p < lx->end && *lx->p == '#') {
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
	}
	if (lx->p < lx->end && *lx->p == '\r')
		lx->p++;
	if (lx->p >= lx->end || *lx->p != '\n') {
		sv_lex_error(lx, "invalid character after 'text:'");
		return;
	}
	lx->p++;
	lx->line++;
	for (;;) {
		const char *nl, *eol;
		size_t n;

		if (lx->p >= lx->end) {
			sv_lex_error(lx, "unterminated multi-line string");
			return;
		}
		nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
		eol = nl ? nl : lx->end;
		n = (size_t)(eol - lx->p);
		if (n && lx->p[n - 1] == '\r')
			n--;
		if (n == 1 && lx->p[0] == '.') {
			lx->p = nl ? nl + 1 : lx->end;
			lx->line++;
			break;
		}
		if (n >= 2 && lx->p[0] == '.' && lx->p[1] == '.')
			buf_append(&lx->text, lx->p + 1, n - 1);
		else
			buf_append(&lx->text, lx->p, n);
		if (!nl) {
			sv_lex_error(lx, "unterminated multi-line string");
			return;
		}
		buf_append(&lx->text, "\r\n", 2);
		lx->p = nl + 1;
		lx->line++;
	}
	lx->tok = SV_TOK_STRING;
}

static void sv_lex_number(struct sv_lexer *lx)
{
	unsigned long long v = 0;

	while (lx->p < lx->end && isdigit((unsigned char)*lx->p)) {
		if (v > (0x7fffffffffffffffULL - 9) / 10) {
			sv_lex_error(lx, "number too large");
			return;
		}
		v = v * 10 + (unsigned)(*lx->p++ - '0');
	}
	if (lx->p < lx->end) {
		unsigned shift = 0;

		switch (*lx->p) {
		case 'K':
		case 'k': shift = 10; break;
		case 'M':
		case 'm': shift = 20; break;
		case 'G':
		case 'g': shift = 30; break;
		default: break;
		}
		if (shift) {
			lx->p++;
			if (v > (0x7fffffffffffffffULL >> shift)) {
				sv_lex_error(lx, "number too large");
				return;
			}
			v <<= shift;
		}
	}
	lx->num = v;
	lx->tok = SV_TOK_NUMBER;
}

void sv_lex_next(struct sv_lexer *lx)
{
	buf_reset(&lx->text);
	if (!sv_lex_skip(lx)) {
		lx->tok_line = lx->line;
		sv_lex_error(lx, "unterminated comment");
		return;
	}
	lx->tok_line = lx->line;
	if (lx->p >= lx->end) {
		lx->tok = SV_TOK_EOF;
		return;
	}
	unsigned char c = (unsigned char)*lx->p;

	if (strchr("[](),;{}", c) && c) {
		lx->tok = SV_TOK_PUNCT;
		lx->punct = (char)c;
		lx->p++;
	} else if (c == '"') {
		sv_lex_quoted(lx);
	} else if (isdigit(c)) {
		sv_lex_number(lx);
	} else if (c == ':' || sv_ident_char(c, true)) {
		bool tag = c == ':';

		if (tag)
			lx->p++;
		if (lx->p >= lx->end || !sv_ident_char((unsigned char)*lx->p, true)) {
			sv_lex_error(lx, "unexpected character ':'");
			return;
		}
		while (lx->p < lx->end && sv_ident_char((unsigned char)*lx->p, false))
			buf_putc(&lx->text, *lx->p++);
		if (!tag && lx->p < lx->end && *lx->p == ':' &&
		    strcmp(buf_cstr(&lx->text), "text") == 0) {
			lx->p++;
			buf_reset(&lx->text);
			sv_lex_multiline(lx);
			return;
		}
		lx->tok = tag ? SV_TOK_TAG : SV_TOK_IDENT;
	} else {
		sv_lex_error(lx, "unexpected character");
	}
}
