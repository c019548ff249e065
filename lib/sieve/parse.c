/*
 * sieve/parse.c - the Sieve grammar (RFC 5228 section 8.2) to a tree.
 *
 *   command   = identifier arguments (";" / block)
 *   arguments = *argument [ test / test-list ]
 *   argument  = string-list / number / tag
 *   test      = identifier arguments
 *   block     = "{" *command "}"
 *
 * The parser knows no command names: check.c decides what exists.  Depth
 * of blocks and tests is bounded (SIEVE_MAX_NESTING) so a hostile script
 * cannot exhaust the stack.  The first error stops the parse.
 */
#include <string.h>

#include "sieve/sieve_int.h"
#include "util.h"

struct sv_parser {
	struct sv_lexer lx;
	struct buf *err;
	int err_line;
	bool failed;
	int depth;
};

static void sv_perr(struct sv_parser *ps, const char *fmt, const char *arg)
{
	if (ps->failed)
		return;
	ps->failed = true;
	ps->err_line = ps->lx.tok_line;
	buf_printf(ps->err, fmt, arg ? arg : "");
}

static bool sv_is_punct(const struct sv_parser *ps, char c)
{
	return ps->lx.tok == SV_TOK_PUNCT && ps->lx.punct == c;
}

static const char *sv_tok_desc(const struct sv_parser *ps)
{
	static char one[2];

	switch (ps->lx.tok) {
	case SV_TOK_EOF: return "end of script";
	case SV_TOK_IDENT: return "identifier";
	case SV_TOK_TAG: return "tag";
	case SV_TOK_NUMBER: return "number";
	case SV_TOK_STRING: return "string";
	case SV_TOK_PUNCT:
		one[0] = ps->lx.punct;
		one[1] = 0;
		return one;
	default: return "error";
	}
}

/* Advances; a lexer error fails the parse. */
static void sv_next(struct sv_parser *ps)
{
	sv_lex_next(&ps->lx);
	if (ps->lx.tok == SV_TOK_ERROR)
		sv_perr(ps, "%s", ps->lx.err);
}

static void sv_arg_free(struct sv_arg *a)
{
	free(a->tag);
	for (size_t i = 0; i < a->n; i++)
		free(a->strs[i]);
	free(a->strs);
}

void sv_nodes_free(struct sv_node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sv_node *x = &nodes[i];

		free(x->name);
		for (size_t j = 0; j < x->nargs; j++)
			sv_arg_free(&x->args[j]);
		free(x->args);
		sv_nodes_free(x->tests, x->ntests);
		sv_nodes_free(x->block, x->nblock);
		for (size_t j = 0; j < x->nrx; j++)
			regfree(&x->rx[j]);
		free(x->rx);
	}
	free(nodes);
}

static void sv_strs_add(struct sv_arg *a, struct sv_lexer *lx)
{
	a->strs = xreallocarray(a->strs, a->n + 1, sizeof(char *));
	a->strs[a->n++] = xmemdup(lx->text.data ? lx->text.data : "", lx->text.len);
}

/* "[" string *("," string) "]" after the "[". */
static void sv_parse_list(struct sv_parser *ps, struct sv_arg *a)
{
	a->type = SV_ARG_LIST;
	sv_next(ps);
	for (;;) {
		if (ps->failed)
			return;
		if (ps->lx.tok != SV_TOK_STRING) {
			sv_perr(
			    ps, "expecting string in string list, but found %s", sv_tok_desc(ps));
			return;
		}
		sv_strs_add(a, &ps->lx);
		sv_next(ps);
		if (sv_is_punct(ps, ']'))
			break;
		if (!sv_is_punct(ps, ',')) {
			sv_perr(ps, "expecting ',' or end of string list ']', but found %s",
			    sv_tok_desc(ps));
			return;
		}
		sv_next(ps);
	}
	sv_next(ps);
}

static void sv_parse_test(struct sv_parser *ps, struct sv_node *t);

/* arguments: *argument [test / test-list] */
static void sv_parse_args(struct sv_parser *ps, struct sv_node *x)
{
	for (;;) {
		struct sv_arg a;

		if (ps->failed)
			return;
		memset(&a, 0, sizeof(a));
		a.line = ps->lx.tok_line;
		if (ps->lx.tok == SV_TOK_STRING) {
			a.type = SV_ARG_STRING;
			sv_strs_add(&a, &ps->lx);
			sv_next(ps);
		} else if (ps->lx.tok == SV_TOK_NUMBER) {
			a.type = SV_ARG_NUMBER;
			a.num = ps->lx.num;
			sv_next(ps);
		} else if (ps->lx.tok == SV_TOK_TAG) {
			a.type = SV_ARG_TAG;
			a.tag = xstrdup(buf_cstr(&ps->lx.text));
			sv_next(ps);
		} else if (sv_is_punct(ps, '[')) {
			sv_parse_list(ps, &a);
		} else {
			break;
		}
		x->args = xreallocarray(x->args, x->nargs + 1, sizeof(*x->args));
		x->args[x->nargs++] = a;
	}
	if (ps->lx.tok == SV_TOK_IDENT) {
		x->tests = xcalloc(1, sizeof(*x->tests));
		x->ntests = 1;
		sv_parse_test(ps, &x->tests[0]);
	} else if (sv_is_punct(ps, '(')) {
		sv_next(ps);
		for (;;) {
			if (ps->failed)
				return;
			if (ps->lx.tok != SV_TOK_IDENT) {
				sv_perr(
				    ps, "expecting test identifier, but found %s", sv_tok_desc(ps));
				return;
			}
			x->tests = xreallocarray(x->tests, x->ntests + 1, sizeof(*x->tests));
			memset(&x->tests[x->ntests], 0, sizeof(*x->tests));
			sv_parse_test(ps, &x->tests[x->ntests++]);
			if (ps->failed)
				return;
			if (sv_is_punct(ps, ')'))
				break;
			if (!sv_is_punct(ps, ',')) {
				sv_perr(ps, "expecting ',' or end of test list ')', but found %s",
				    sv_tok_desc(ps));
				return;
			}
			sv_next(ps);
		}
		sv_next(ps);
	}
}

static void sv_parse_test(struct sv_parser *ps, struct sv_node *t)
{
	if (++ps->depth > SIEVE_MAX_NESTING) {
		sv_perr(ps, "nesting too deep%s", NULL);
		return;
	}
	t->name = xstrdup(buf_cstr(&ps->lx.text));
	t->line = ps->lx.tok_line;
	sv_next(ps);
	sv_parse_args(ps, t);
	ps->depth--;
}

static void sv_parse_commands(struct sv_parser *ps, struct sv_node **cmds, size_t *n, bool block);

static void sv_parse_command(struct sv_parser *ps, struct sv_node *c)
{
	c->name = xstrdup(buf_cstr(&ps->lx.text));
	c->line = ps->lx.tok_line;
	sv_next(ps);
	sv_parse_args(ps, c);
	if (ps->failed)
		return;
	if (sv_is_punct(ps, ';')) {
		sv_next(ps);
	} else if (sv_is_punct(ps, '{')) {
		if (++ps->depth > SIEVE_MAX_NESTING) {
			sv_perr(ps, "nesting too deep%s", NULL);
			return;
		}
		c->has_block = true;
		sv_next(ps);
		sv_parse_commands(ps, &c->block, &c->nblock, true);
		ps->depth--;
	} else {
		sv_perr(ps, "expected ';' or '{', but found %s", sv_tok_desc(ps));
	}
}

static void sv_parse_commands(struct sv_parser *ps, struct sv_node **cmds, size_t *n, bool block)
{
	for (;;) {
		if (ps->failed)
			return;
		if (block && sv_is_punct(ps, '}')) {
			sv_next(ps);
			return;
		}
		if (ps->lx.tok == SV_TOK_EOF) {
			if (block)
				sv_perr(ps, "unexpected end of script: expecting '}'%s", NULL);
			return;
		}
		if (ps->lx.tok != SV_TOK_IDENT) {
			sv_perr(ps, "expected identifier, but found %s", sv_tok_desc(ps));
			return;
		}
		*cmds = xreallocarray(*cmds, *n + 1, sizeof(**cmds));
		memset(&(*cmds)[*n], 0, sizeof(**cmds));
		sv_parse_command(ps, &(*cmds)[(*n)++]);
	}
}

int sv_parse(
    const char *text, size_t len, struct sv_node **cmds, size_t *n, int *line, struct buf *err)
{
	struct sv_parser ps;

	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	*cmds = NULL;
	*n = 0;
	sv_lex_init(&ps.lx, text, len);
	sv_next(&ps);
	sv_parse_commands(&ps, cmds, n, false);
	sv_lex_free(&ps.lx);
	if (ps.failed) {
		*line = ps.err_line;
		sv_nodes_free(*cmds, *n);
		*cmds = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}
