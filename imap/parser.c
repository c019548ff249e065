/*
 * imap/parser.c - the incremental IMAP command parser (imap/parser.h).
 *
 * A byte-at-a-time state machine: command lines are short (max_line), so
 * the simplicity is worth more than block copies, and the only long runs
 * (literal data) are copied in blocks.  The argument tree is built on a
 * stack of lists; a list becomes an argument of its parent when it
 * closes.  Error recovery skips to the end of the line, remembering the
 * last bytes so that a non-synchronising literal announced at the end of
 * a skipped line is skipped too (RFC 7888 section 4: its data comes
 * whatever the server says).
 */
#include "parser.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

enum state {
	ST_LINE, /* before the tag */
	ST_TAG,
	ST_NAME,
	ST_UID_SP, /* after "UID": one space then the real name */
	ST_UID_NAME,
	ST_ARGS, /* between arguments */
	ST_ATOM,
	ST_QUOTED,
	ST_QUOTED_ESC,
	ST_TILDE,     /* "~" of a literal8, '{' next */
	ST_LIT_SIZE,  /* digits of "{n" */
	ST_LIT_CLOSE, /* "+" seen, '}' next */
	ST_LIT_CR,    /* after '}' */
	ST_LIT_LF,
	ST_LIT_WAIT,   /* announced; the caller decides */
	ST_LIT_DATA,   /* reading into memory */
	ST_LIT_STREAM, /* the caller is reading it */
	ST_CR,	       /* CR at the end of the line */
	ST_DONE,       /* a command is ready */
	ST_SKIP,       /* error recovery: up to the end of the line */
	ST_SKIP_LIT,   /* error recovery: data of a non-sync literal */
};

struct arglist {
	struct imap_arg *v;
	size_t n, cap;
};

struct imap_parser {
	struct imap_parser_limits lim;
	enum state st;
	struct imap_command cmd;
	struct imap_command partial; /* a view of cmd while it is parsed */
	struct arglist *stack;	     /* stack[0]: the command's arguments */
	size_t depth;		     /* lists open (stack entries - 1) */
	size_t nargs;
	struct buf tok;
	unsigned bracket; /* '[' open in the current atom */
	size_t line_size;
	struct imap_literal_info lit;
	uint64_t lit_left;
	char *error;
	char *error_tag;
	char tail[32]; /* last bytes of a skipped line */
	size_t ntail;
};

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));

	if (limits)
		p->lim = *limits;
	if (p->lim.max_line == 0)
		p->lim.max_line = IMAP_PARSER_DEFAULT_LINE;
	if (p->lim.max_literal == 0)
		p->lim.max_literal = p->lim.max_line;
	if (p->lim.max_depth == 0)
		p->lim.max_depth = IMAP_PARSER_DEFAULT_DEPTH;
	if (p->lim.max_args == 0)
		p->lim.max_args = IMAP_PARSER_DEFAULT_ARGS;
	p->stack = xcalloc(p->lim.max_depth + 1, sizeof(*p->stack));
	return p;
}

static void arg_free(struct imap_arg *a)
{
	free(a->str);
	for (size_t i = 0; i < a->count; i++)
		arg_free(&a->list[i]);
	free(a->list);
}

void imap_command_free(struct imap_command *cmd)
{
	free(cmd->tag);
	free(cmd->name);
	for (size_t i = 0; i < cmd->count; i++)
		arg_free(&cmd->args[i]);
	free(cmd->args);
	memset(cmd, 0, sizeof(*cmd));
}

/* Forgets the current command (and the partial lists). */
static void parser_reset(struct imap_parser *p)
{
	for (size_t d = 0; d <= p->depth; d++) {
		for (size_t i = 0; i < p->stack[d].n; i++)
			arg_free(&p->stack[d].v[i]);
		free(p->stack[d].v);
		memset(&p->stack[d], 0, sizeof(p->stack[d]));
	}
	imap_command_free(&p->cmd);
	p->depth = 0;
	p->nargs = 0;
	p->line_size = 0;
	p->bracket = 0;
	buf_reset(&p->tok);
	p->st = ST_LINE;
}

void imap_parser_free(struct imap_parser *p)
{
	if (p == NULL)
		return;
	parser_reset(p);
	free(p->stack);
	buf_free(&p->tok);
	free(p->error);
	free(p->error_tag);
	free(p);
}

const struct imap_command *imap_parser_command(const struct imap_parser *p)
{
	return &p->cmd;
}

const struct imap_command *imap_parser_partial(struct imap_parser *p)
{
	if (p->st == ST_DONE)
		return &p->cmd;
	p->partial.tag = p->cmd.tag;
	p->partial.name = p->cmd.name;
	p->partial.args = p->stack[0].v;
	p->partial.count = p->stack[0].n;
	return &p->partial;
}

const struct imap_literal_info *imap_parser_literal(const struct imap_parser *p)
{
	return &p->lit;
}

const char *imap_parser_error(const struct imap_parser *p)
{
	return p->error;
}

const char *imap_parser_error_tag(const struct imap_parser *p)
{
	return p->error_tag;
}

/* A syntax error; at_eol: the line already ended (nothing to skip). */
static enum imap_parse_result parse_fail(struct imap_parser *p, const char *text, bool at_eol)
{
	free(p->error);
	free(p->error_tag);
	p->error = xstrdup(text);
	p->error_tag = p->cmd.tag ? xstrdup(p->cmd.tag) : NULL;
	parser_reset(p);
	p->st = at_eol ? ST_LINE : ST_SKIP;
	p->ntail = 0;
	return IMAP_PARSE_BAD;
}

static enum imap_parse_result parse_fatal(struct imap_parser *p, const char *text)
{
	parse_fail(p, text, false);
	return IMAP_PARSE_FATAL;
}

static bool add_arg(struct imap_parser *p, struct imap_arg *a)
{
	struct arglist *l = &p->stack[p->depth];

	if (++p->nargs > p->lim.max_args) {
		arg_free(a);
		return false;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = *a;
	return true;
}

static bool add_token(struct imap_parser *p, enum imap_arg_type type)
{
	struct imap_arg a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	if (type == IMAP_ARG_ATOM && p->tok.len == 3 && strncasecmp(p->tok.data, "NIL", 3) == 0)
		a.type = IMAP_ARG_NIL;
	else {
		a.str = xmemdup(p->tok.data ? p->tok.data : "", p->tok.len);
		a.len = p->tok.len;
	}
	a.literal8 = type == IMAP_ARG_LITERAL && p->lit.literal8;
	buf_reset(&p->tok);
	return add_arg(p, &a);
}

static bool is_atom_input(unsigned char c)
{
	return c > 32 && c != 127 && c != '(' && c != ')' && c != '{' && c != '"';
}

static bool is_tag_char(unsigned char c)
{
	return is_atom_input(c) && c != '+' && c != '%' && c != '*';
}

/* The command line ended (LF seen): complete unless a list is open. */
static enum imap_parse_result line_done(struct imap_parser *p)
{
	if (p->depth > 0)
		return parse_fail(p, IMAP_ERR_MISSING_PAREN, true);
	p->cmd.args = p->stack[0].v;
	p->cmd.count = p->stack[0].n;
	p->stack[0].v = NULL;
	p->stack[0].n = p->stack[0].cap = 0;
	p->st = ST_DONE;
	return IMAP_PARSE_COMMAND;
}

static void name_done(struct imap_parser *p)
{
	char *s = xmemdup(p->tok.data, p->tok.len);

	for (char *q = s; *q; q++)
		*q = (char)toupper((unsigned char)*q);
	if (p->cmd.name == NULL) {
		p->cmd.name = s;
	} else {
		char *full = xasprintf("%s %s", p->cmd.name, s);

		free(p->cmd.name);
		free(s);
		p->cmd.name = full;
	}
	buf_reset(&p->tok);
}

/* A byte between arguments (or starting one). */
static enum imap_parse_result st_args(struct imap_parser *p, unsigned char c)
{
	switch (c) {
	case ' ': return IMAP_PARSE_MORE;
	case '\r': p->st = ST_CR; return IMAP_PARSE_MORE;
	case '\n': return line_done(p);
	case '"': p->st = ST_QUOTED; return IMAP_PARSE_MORE;
	case '~': p->st = ST_TILDE; return IMAP_PARSE_MORE;
	case '{':
		p->lit.literal8 = false;
		p->lit.size = 0;
		p->st = ST_LIT_SIZE;
		buf_reset(&p->tok);
		return IMAP_PARSE_MORE;
	case '(':
		if (p->depth >= p->lim.max_depth)
			return parse_fail(p, IMAP_ERR_LIST_DEEP, false);
		p->depth++;
		return IMAP_PARSE_MORE;
	case ')': {
		struct imap_arg a;

		if (p->depth == 0)
			return parse_fail(p, IMAP_ERR_UNEXPECTED_PAREN, false);
		memset(&a, 0, sizeof(a));
		a.type = IMAP_ARG_LIST;
		a.list = p->stack[p->depth].v;
		a.count = p->stack[p->depth].n;
		memset(&p->stack[p->depth], 0, sizeof(p->stack[0]));
		p->depth--;
		if (!add_arg(p, &a))
			return parse_fail(p, IMAP_ERR_TOO_MANY_ARGS, false);
		return IMAP_PARSE_MORE;
	}
	}
	if (c == 0)
		return parse_fail(p, IMAP_ERR_NUL, false);
	if (!is_atom_input(c))
		return parse_fail(p, IMAP_ERR_CHAR, false);
	buf_putc(&p->tok, c);
	p->bracket = c == '[';
	p->st = ST_ATOM;
	return IMAP_PARSE_MORE;
}

static enum imap_parse_result st_atom(struct imap_parser *p, unsigned char c)
{
	/* Inside "[...]" a section keeps its spaces and parentheses. */
	if (p->bracket && c != '\r' && c != '\n' && c != 0) {
		if (c == ']')
			p->bracket = 0;
		buf_putc(&p->tok, c);
		return IMAP_PARSE_MORE;
	}
	if (c != 0 && is_atom_input(c)) {
		if (c == '[')
			p->bracket = 1;
		buf_putc(&p->tok, c);
		return IMAP_PARSE_MORE;
	}
	if (c == 0)
		return parse_fail(p, IMAP_ERR_NUL, false);
	if (!add_token(p, IMAP_ARG_ATOM))
		return parse_fail(p, IMAP_ERR_TOO_MANY_ARGS, false);
	p->st = ST_ARGS;
	return st_args(p, c);
}

static enum imap_parse_result st_quoted(struct imap_parser *p, unsigned char c)
{
	if (c == 0)
		return parse_fail(p, IMAP_ERR_NUL, false);
	if (c == '\r' || c == '\n')
		return parse_fail(p, IMAP_ERR_EOL_STRING, c == '\n');
	if (p->st == ST_QUOTED_ESC) {
		buf_putc(&p->tok, c);
		p->st = ST_QUOTED;
	} else if (c == '\\') {
		p->st = ST_QUOTED_ESC;
	} else if (c == '"') {
		if (!add_token(p, IMAP_ARG_STRING))
			return parse_fail(p, IMAP_ERR_TOO_MANY_ARGS, false);
		p->st = ST_ARGS;
	} else {
		buf_putc(&p->tok, c);
	}
	return IMAP_PARSE_MORE;
}

static enum imap_parse_result st_literal_header(struct imap_parser *p, unsigned char c)
{
	switch (p->st) {
	case ST_TILDE:
		if (c != '{')
			return parse_fail(p, IMAP_ERR_CHAR, c == '\n');
		p->lit.literal8 = true;
		p->lit.size = 0;
		buf_reset(&p->tok);
		p->st = ST_LIT_SIZE;
		return IMAP_PARSE_MORE;
	case ST_LIT_SIZE:
		if (isdigit(c) && p->tok.len < 19) {
			buf_putc(&p->tok, c);
			return IMAP_PARSE_MORE;
		}
		if (p->tok.len == 0 || (c != '}' && c != '+'))
			return parse_fail(p, IMAP_ERR_LITERAL_SIZE, c == '\n');
		p->lit.size = strtoull(p->tok.data, NULL, 10);
		buf_reset(&p->tok);
		p->lit.sync = c == '}';
		p->st = c == '}' ? ST_LIT_CR : ST_LIT_CLOSE;
		return IMAP_PARSE_MORE;
	case ST_LIT_CLOSE:
		if (c != '}')
			return parse_fail(p, IMAP_ERR_LITERAL_SIZE, c == '\n');
		p->st = ST_LIT_CR;
		return IMAP_PARSE_MORE;
	case ST_LIT_CR:
		if (c == '\r') {
			p->st = ST_LIT_LF;
			return IMAP_PARSE_MORE;
		}
		/* fall through */
	case ST_LIT_LF:
		if (c != '\n')
			return parse_fail(p, IMAP_ERR_LITERAL_CRLF, false);
		p->lit.depth = (unsigned)p->depth;
		p->lit.argc = p->stack[0].n;
		p->st = ST_LIT_WAIT;
		return IMAP_PARSE_LITERAL;
	default: return IMAP_PARSE_MORE;
	}
}

static enum imap_parse_result st_line(struct imap_parser *p, unsigned char c)
{
	switch (p->st) {
	case ST_LINE:
		if (c == '\r' || c == '\n')
			return IMAP_PARSE_MORE; /* an empty line */
		p->st = ST_TAG;
		/* fall through */
	case ST_TAG:
		if (c == ' ' && p->tok.len > 0) {
			p->cmd.tag = xmemdup(p->tok.data, p->tok.len);
			buf_reset(&p->tok);
			p->st = ST_NAME;
			return IMAP_PARSE_MORE;
		}
		if (!is_tag_char(c))
			return parse_fail(p, IMAP_ERR_TAG, c == '\n');
		buf_putc(&p->tok, c);
		return IMAP_PARSE_MORE;
	case ST_NAME:
	case ST_UID_NAME:
		if (isalnum(c) || c == '-' || c == '_' || c == '.') {
			buf_putc(&p->tok, c);
			return IMAP_PARSE_MORE;
		}
		if (p->tok.len == 0 || (c != ' ' && c != '\r' && c != '\n'))
			return parse_fail(p, IMAP_ERR_NAME, c == '\n');
		name_done(p);
		if (p->st == ST_NAME && strcmp(p->cmd.name, "UID") == 0 && c == ' ') {
			p->st = ST_UID_NAME;
			return IMAP_PARSE_MORE;
		}
		p->st = ST_ARGS;
		return st_args(p, c);
	default: return IMAP_PARSE_MORE;
	}
}

/* Error recovery: skip to the end of the line (and over the data of a
 * non-synchronising literal announced at its end). */
static void st_skip(struct imap_parser *p, unsigned char c)
{
	if (c != '\n') {
		if (p->ntail == sizeof(p->tail)) {
			memmove(p->tail, p->tail + 1, sizeof(p->tail) - 1);
			p->ntail--;
		}
		p->tail[p->ntail++] = (char)c;
		return;
	}
	size_t n = p->ntail;
	if (n && p->tail[n - 1] == '\r')
		n--;
	p->ntail = 0;
	p->st = ST_LINE;
	if (n < 4 || p->tail[n - 1] != '}' || p->tail[n - 2] != '+')
		return;
	size_t d = n - 2;
	while (d > 0 && isdigit((unsigned char)p->tail[d - 1]))
		d--;
	if (d == 0 || d == n - 2 || p->tail[d - 1] != '{')
		return;
	p->lit_left = strtoull(p->tail + d, NULL, 10);
	p->st = p->lit_left ? ST_SKIP_LIT : ST_SKIP;
}

static enum imap_parse_result parse_byte(struct imap_parser *p, unsigned char c)
{
	switch (p->st) {
	case ST_LINE:
	case ST_TAG:
	case ST_NAME:
	case ST_UID_NAME: return st_line(p, c);
	case ST_ARGS: return st_args(p, c);
	case ST_ATOM: return st_atom(p, c);
	case ST_QUOTED:
	case ST_QUOTED_ESC: return st_quoted(p, c);
	case ST_CR:
		if (c != '\n')
			return parse_fail(p, IMAP_ERR_CR, false);
		return line_done(p);
	case ST_SKIP: st_skip(p, c); return IMAP_PARSE_MORE;
	default: return st_literal_header(p, c);
	}
}

/* Literal data into memory; returns bytes used. */
static size_t lit_data(struct imap_parser *p, const char *data, size_t len)
{
	size_t n = len < p->lit_left ? len : (size_t)p->lit_left;

	buf_append(&p->tok, data, n);
	p->lit_left -= n;
	return n;
}

enum imap_parse_result imap_parser_feed(
    struct imap_parser *p, const char *data, size_t len, size_t *consumed)
{
	size_t i = 0;
	enum imap_parse_result r = IMAP_PARSE_MORE;

	if (p->st == ST_DONE)
		parser_reset(p);
	while (i < len && r == IMAP_PARSE_MORE) {
		if (p->st == ST_LIT_WAIT || p->st == ST_LIT_STREAM) {
			r = IMAP_PARSE_LITERAL; /* the caller has to decide first */
			break;
		}
		if (p->st == ST_SKIP_LIT) {
			size_t n = len - i < p->lit_left ? len - i : (size_t)p->lit_left;

			p->lit_left -= n;
			i += n;
			if (p->lit_left == 0)
				p->st = ST_SKIP;
			continue;
		}
		if (p->st == ST_LIT_DATA) {
			size_t n = lit_data(p, data + i, len - i);

			i += n;
			if (p->lit_left == 0) {
				if (!p->lit.literal8 && memchr(p->tok.data, 0, p->tok.len)) {
					r = parse_fail(p, IMAP_ERR_NUL, false);
					break;
				}
				if (!add_token(p, IMAP_ARG_LITERAL)) {
					r = parse_fail(p, IMAP_ERR_TOO_MANY_ARGS, false);
					break;
				}
				p->st = ST_ARGS;
			}
			continue;
		}
		if (p->st != ST_SKIP && p->st != ST_LINE && ++p->line_size > p->lim.max_line) {
			i++;
			r = parse_fatal(p, IMAP_ERR_LINE_TOO_LONG);
			break;
		}
		r = parse_byte(p, (unsigned char)data[i++]);
	}
	*consumed = i;
	return r;
}

bool imap_parser_literal_accept(struct imap_parser *p)
{
	if (p->st != ST_LIT_WAIT)
		return false;
	if (p->lit.size > p->lim.max_literal || p->lit.size > p->lim.max_line - p->line_size) {
		imap_parser_literal_reject(p, IMAP_ERR_LITERAL_TOO_BIG);
		return false;
	}
	p->line_size += (size_t)p->lit.size;
	p->lit_left = p->lit.size;
	buf_reset(&p->tok);
	p->st = ST_LIT_DATA;
	if (p->lit_left == 0) {
		/* An empty literal is complete at once. */
		struct imap_arg a;

		memset(&a, 0, sizeof(a));
		a.type = IMAP_ARG_LITERAL;
		a.str = xstrdup("");
		a.literal8 = p->lit.literal8;
		add_arg(p, &a);
		p->st = ST_ARGS;
	}
	return true;
}

void imap_parser_literal_stream(struct imap_parser *p)
{
	if (p->st == ST_LIT_WAIT)
		p->st = ST_LIT_STREAM;
}

void imap_parser_literal_streamed(struct imap_parser *p)
{
	struct imap_arg a;

	if (p->st != ST_LIT_STREAM)
		return;
	memset(&a, 0, sizeof(a));
	a.type = IMAP_ARG_LITERAL_STREAM;
	a.size = p->lit.size;
	a.literal8 = p->lit.literal8;
	add_arg(p, &a);
	p->st = ST_ARGS;
}

void imap_parser_literal_reject(struct imap_parser *p, const char *text)
{
	bool sync = p->lit.sync;
	uint64_t size = p->lit.size;

	/* A synchronising literal is not sent: its line has ended. */
	parse_fail(p, text ? text : IMAP_ERR_LITERAL_REJECTED, sync);
	if (!sync && size) {
		p->lit_left = size;
		p->st = ST_SKIP_LIT;
	}
}

bool imap_arg_is_atom(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_ARG_ATOM && strcasecmp(a->str, word) == 0;
}

bool imap_arg_string(const struct imap_arg *a, const char **s, size_t *len)
{
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_STRING && a->type != IMAP_ARG_LITERAL)
		return false;
	*s = a->str;
	*len = a->len;
	return true;
}
