/*
 * imap/args_search.c - SEARCH keys into an AST (imap/args.h): RFC 9051
 * 6.4.4 and RFC 3501 6.4.4 "search-key" with OR/NOT/parentheses, CHARSET,
 * MODSEQ (RFC 7162), OLDER/YOUNGER (RFC 5032), RETURN (RFC 4731, 5182
 * SAVE) and "$".  Sequence-set keys are recognised by their characters.
 *
 * Keys that are only spellings of others become them: FROM/TO/CC/BCC/
 * SUBJECT are HEADER keys, ANSWERED..UNSEEN are flag keys, KEYWORD x is a
 * flag key of x.  Recursion (OR, NOT, lists) is bounded by
 * IMAP_SEARCH_MAX_DEPTH so a hostile "NOT NOT NOT ..." cannot exhaust the
 * stack here or in the evaluator.
 */
#include "args.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime/date.h"
#include "util.h"

struct sp {
	const struct imap_arg *a;
	size_t n, i;
	const char **err;
	unsigned depth;
};

static struct imap_search_node *node_new(enum imap_search_key key)
{
	struct imap_search_node *n = xcalloc(1, sizeof(*n));

	n->key = key;
	return n;
}

static void node_free(struct imap_search_node *n)
{
	while (n) {
		struct imap_search_node *next = n->next;

		node_free(n->child);
		free(n->str);
		free(n->str2);
		imap_seqset_free(&n->set);
		free(n);
		n = next;
	}
}

static const struct imap_arg *sp_next(struct sp *s)
{
	return s->i < s->n ? &s->a[s->i++] : NULL;
}

static bool sp_string(struct sp *s, char **out)
{
	const struct imap_arg *a = sp_next(s);
	const char *str;
	size_t len;

	if (a == NULL || !imap_arg_string(a, &str, &len))
		return false;
	*out = xmemdup(str, len);
	return true;
}

static bool sp_number(struct sp *s, uint64_t *v, bool nz)
{
	const struct imap_arg *a = sp_next(s);
	const char *p;

	if (a == NULL || a->type != IMAP_ARG_ATOM)
		return false;
	*v = 0;
	for (p = a->str; *p; p++) {
		if (!isdigit((unsigned char)*p) || *v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*p - '0');
	}
	return p != a->str && (!nz || *v);
}

bool imap_date_parse(const char *s, size_t len, long long *day)
{
	int d = 0, y = 0, mon, i = 0, nd = 0;

	while (i < (int)len && isdigit((unsigned char)s[i]) && nd < 2)
		d = d * 10 + (s[i++] - '0'), nd++;
	if (nd == 0 || i >= (int)len || s[i++] != '-' || len - (size_t)i < 8)
		return false;
	if ((mon = mime_date_month(s + i, 3)) == 0 || s[i + 3] != '-')
		return false;
	i += 4;
	if (len - (size_t)i != 4)
		return false;
	for (int k = 0; k < 4; k++) {
		if (!isdigit((unsigned char)s[i + k]))
			return false;
		y = y * 10 + (s[i + k] - '0');
	}
	if (d < 1 || d > 31)
		return false;
	*day = mime_date_from_civil(y, mon, d, 0, 0, 0) / 86400;
	return true;
}

static bool sp_date(struct sp *s, long long *day)
{
	const struct imap_arg *a = sp_next(s);
	const char *str;
	size_t len;

	return a && imap_arg_string(a, &str, &len) && imap_date_parse(str, len, day);
}

static struct imap_search_node *parse_key(struct sp *s);

/* Keys up to the end of a list (or of the arguments), ANDed. */
static struct imap_search_node *parse_keys(struct sp *s, struct imap_search_node *and_node)
{
	struct imap_search_node **tail = &and_node->child;

	while (s->i < s->n) {
		struct imap_search_node *k = parse_key(s);

		if (k == NULL) {
			node_free(and_node);
			return NULL;
		}
		*tail = k;
		tail = &k->next;
	}
	if (and_node->child == NULL) {
		*s->err = "Missing search key";
		node_free(and_node);
		return NULL;
	}
	return and_node;
}

static struct imap_search_node *parse_list(struct sp *s, const struct imap_arg *list)
{
	struct sp sub = {list->list, list->count, 0, s->err, s->depth};

	return parse_keys(&sub, node_new(IMAP_SK_AND));
}

static const struct {
	const char *name;
	const char *flag; /* NULL: not a flag key */
	bool negate;
	enum imap_search_key key;
} simple_keys[] = {
    {"ALL", NULL, false, IMAP_SK_ALL},
    {"ANSWERED", "\\Answered", false, IMAP_SK_FLAG},
    {"DELETED", "\\Deleted", false, IMAP_SK_FLAG},
    {"DRAFT", "\\Draft", false, IMAP_SK_FLAG},
    {"FLAGGED", "\\Flagged", false, IMAP_SK_FLAG},
    {"RECENT", "\\Recent", false, IMAP_SK_FLAG},
    {"SEEN", "\\Seen", false, IMAP_SK_FLAG},
    {"UNANSWERED", "\\Answered", true, IMAP_SK_FLAG},
    {"UNDELETED", "\\Deleted", true, IMAP_SK_FLAG},
    {"UNDRAFT", "\\Draft", true, IMAP_SK_FLAG},
    {"UNFLAGGED", "\\Flagged", true, IMAP_SK_FLAG},
    {"UNSEEN", "\\Seen", true, IMAP_SK_FLAG},
    {"NEW", NULL, false, IMAP_SK_NEW},
    {"OLD", NULL, false, IMAP_SK_OLD},
};

static const struct {
	const char *name;
	enum imap_search_key key;
} date_keys[] = {
    {"BEFORE", IMAP_SK_BEFORE},
    {"ON", IMAP_SK_ON},
    {"SINCE", IMAP_SK_SINCE},
    {"SENTBEFORE", IMAP_SK_SENTBEFORE},
    {"SENTON", IMAP_SK_SENTON},
    {"SENTSINCE", IMAP_SK_SENTSINCE},
};

static const char *const header_keys[] = {"FROM", "TO", "CC", "BCC", "SUBJECT"};

/* MODSEQ [entry-name entry-type] n */
static bool parse_modseq(struct sp *s, struct imap_search_node *k)
{
	if (s->i + 2 < s->n && s->a[s->i].type == IMAP_ARG_STRING) {
		const struct imap_arg *type;

		if (!sp_string(s, &k->str))
			return false;
		type = sp_next(s);
		if (!type ||
		    (!imap_arg_is_atom(type, "priv") && !imap_arg_is_atom(type, "shared") &&
			!imap_arg_is_atom(type, "all")))
			return false;
	}
	return sp_number(s, &k->num, false);
}

static bool is_seqset_atom(const struct imap_arg *a)
{
	if (a->type != IMAP_ARG_ATOM || a->len == 0)
		return false;
	for (size_t i = 0; i < a->len; i++)
		if (!strchr("0123456789:,*$", a->str[i]))
			return false;
	return true;
}

/* A key whose name is a word. */
static struct imap_search_node *parse_word_key(struct sp *s, const char *w)
{
	struct imap_search_node *k = NULL;

	for (size_t i = 0; i < sizeof(simple_keys) / sizeof(simple_keys[0]); i++) {
		if (strcasecmp(w, simple_keys[i].name) == 0) {
			k = node_new(simple_keys[i].key);
			k->negate = simple_keys[i].negate;
			if (simple_keys[i].flag)
				k->str = xstrdup(simple_keys[i].flag);
			return k;
		}
	}
	for (size_t i = 0; i < sizeof(date_keys) / sizeof(date_keys[0]); i++) {
		if (strcasecmp(w, date_keys[i].name) == 0) {
			k = node_new(date_keys[i].key);
			if (!sp_date(s, &k->day))
				goto bad;
			return k;
		}
	}
	for (size_t i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]); i++) {
		if (strcasecmp(w, header_keys[i]) == 0) {
			k = node_new(IMAP_SK_HEADER);
			k->str = xstrdup(header_keys[i]);
			if (!sp_string(s, &k->str2))
				goto bad;
			return k;
		}
	}
	if (strcasecmp(w, "KEYWORD") == 0 || strcasecmp(w, "UNKEYWORD") == 0) {
		const struct imap_arg *a = sp_next(s);

		k = node_new(IMAP_SK_FLAG);
		k->negate = w[0] == 'U' || w[0] == 'u';
		if (a == NULL || a->type != IMAP_ARG_ATOM || !imap_flag_valid(a->str) ||
		    a->str[0] == '\\')
			goto bad;
		k->str = xstrdup(a->str);
	} else if (strcasecmp(w, "HEADER") == 0) {
		k = node_new(IMAP_SK_HEADER);
		if (!sp_string(s, &k->str) || !sp_string(s, &k->str2))
			goto bad;
	} else if (strcasecmp(w, "BODY") == 0 || strcasecmp(w, "TEXT") == 0) {
		k = node_new(w[0] == 'B' || w[0] == 'b' ? IMAP_SK_BODY : IMAP_SK_TEXT);
		if (!sp_string(s, &k->str))
			goto bad;
	} else if (strcasecmp(w, "LARGER") == 0 || strcasecmp(w, "SMALLER") == 0) {
		k = node_new(w[0] == 'L' || w[0] == 'l' ? IMAP_SK_LARGER : IMAP_SK_SMALLER);
		if (!sp_number(s, &k->num, false))
			goto bad;
	} else if (strcasecmp(w, "OLDER") == 0 || strcasecmp(w, "YOUNGER") == 0) {
		k = node_new(w[0] == 'O' || w[0] == 'o' ? IMAP_SK_OLDER : IMAP_SK_YOUNGER);
		if (!sp_number(s, &k->num, true))
			goto bad;
	} else if (strcasecmp(w, "MODSEQ") == 0) {
		k = node_new(IMAP_SK_MODSEQ);
		if (!parse_modseq(s, k))
			goto bad;
	} else if (strcasecmp(w, "UID") == 0) {
		const struct imap_arg *a = sp_next(s);

		k = node_new(IMAP_SK_UID);
		if (!a || a->type != IMAP_ARG_ATOM ||
		    !imap_seqset_parse(a->str, true, &k->set, s->err))
			goto bad;
	} else if (strcasecmp(w, "NOT") == 0) {
		k = node_new(IMAP_SK_NOT);
		if ((k->child = parse_key(s)) == NULL)
			goto bad_quiet;
	} else if (strcasecmp(w, "OR") == 0) {
		k = node_new(IMAP_SK_OR);
		if ((k->child = parse_key(s)) == NULL || (k->child->next = parse_key(s)) == NULL)
			goto bad_quiet;
	} else {
		*s->err = "Unknown search key";
		return NULL;
	}
	return k;
bad:
	*s->err = "Invalid search key argument";
bad_quiet:
	node_free(k);
	return NULL;
}

static struct imap_search_node *parse_key(struct sp *s)
{
	const struct imap_arg *a = sp_next(s);
	struct imap_search_node *k;

	if (a == NULL) {
		*s->err = "Missing search key";
		return NULL;
	}
	if (++s->depth > IMAP_SEARCH_MAX_DEPTH) {
		*s->err = "Search keys nested too deep";
		return NULL;
	}
	if (a->type == IMAP_ARG_LIST) {
		k = parse_list(s, a);
	} else if (is_seqset_atom(a)) {
		k = node_new(IMAP_SK_SEQSET);
		if (!imap_seqset_parse(a->str, true, &k->set, s->err)) {
			node_free(k);
			k = NULL;
		}
	} else if (a->type == IMAP_ARG_ATOM) {
		k = parse_word_key(s, a->str);
	} else {
		*s->err = "Invalid search key";
		k = NULL;
	}
	s->depth--;
	return k;
}

/* RETURN (MIN MAX ALL COUNT SAVE) */
static bool parse_return(struct sp *s, struct imap_search *out)
{
	const struct imap_arg *l = sp_next(s);

	if (l == NULL || l->type != IMAP_ARG_LIST)
		return false;
	out->esearch = true;
	for (size_t i = 0; i < l->count; i++) {
		static const char *const names[] = {"MIN", "MAX", "ALL", "COUNT", "SAVE"};
		size_t k;

		for (k = 0; k < 5; k++)
			if (imap_arg_is_atom(&l->list[i], names[k]))
				break;
		if (k == 5)
			return false;
		out->ret |= 1u << k;
	}
	if (out->ret == 0) /* RETURN () */
		out->ret = IMAP_SEARCH_RETURN_ALL;
	return true;
}

static bool search_parse(const struct imap_arg *args, size_t n, bool allow_return,
    bool allow_charset, struct imap_search *out, const char **err)
{
	struct sp s = {args, n, 0, err, 0};

	memset(out, 0, sizeof(*out));
	*err = "Invalid search";
	if (allow_return && n > 0 && imap_arg_is_atom(&args[0], "RETURN")) {
		s.i++;
		if (!parse_return(&s, out)) {
			*err = "Invalid RETURN options";
			return false;
		}
	}
	if (allow_charset && s.i < n && imap_arg_is_atom(&args[s.i], "CHARSET")) {
		s.i++;
		if (!sp_string(&s, &out->charset)) {
			*err = "Missing charset";
			return false;
		}
	}
	out->root = parse_keys(&s, node_new(IMAP_SK_AND));
	if (out->root == NULL) {
		imap_search_free(out);
		return false;
	}
	return true;
}

bool imap_search_parse(const struct imap_arg *args, size_t n, bool allow_return,
    struct imap_search *out, const char **err)
{
	return search_parse(args, n, allow_return, true, out, err);
}

bool imap_search_parse_keys(
    const struct imap_arg *args, size_t n, struct imap_search *out, const char **err)
{
	return search_parse(args, n, false, false, out, err);
}

void imap_search_free(struct imap_search *s)
{
	free(s->charset);
	node_free(s->root);
	s->charset = NULL;
	s->root = NULL;
}

static bool node_uses_saved(const struct imap_search_node *n)
{
	for (; n; n = n->next)
		if (n->set.saved || node_uses_saved(n->child))
			return true;
	return false;
}

bool imap_search_uses_saved(const struct imap_search *s)
{
	return node_uses_saved(s->root);
}
