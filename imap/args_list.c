/*
 * imap/args_list.c - LIST and LSUB (imap/args.h), with LIST-EXTENDED
 * (RFC 5258) selection and return options, LIST-STATUS (RFC 5819) and
 * SPECIAL-USE (RFC 6154); and the wildcard matcher of RFC 3501 6.3.8.
 */
#include "args.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define LIST_MAX_PATTERNS 100
#define LIST_MAX_NAME 4096

static char *list_string(const struct imap_arg *a)
{
	const char *s;
	size_t len;

	if (a->type == IMAP_ARG_NIL || !imap_arg_string(a, &s, &len))
		return NULL;
	return xmemdup(s, len);
}

static bool list_options(
    const struct imap_arg *l, const char *const *names, size_t nnames, unsigned *out)
{
	if (l->type != IMAP_ARG_LIST)
		return false;
	for (size_t i = 0; i < l->count; i++) {
		size_t k;

		for (k = 0; k < nnames; k++)
			if (imap_arg_is_atom(&l->list[i], names[k]))
				break;
		if (k == nnames)
			return false;
		*out |= 1u << k;
	}
	return true;
}

static bool list_return(const struct imap_arg *l, struct imap_list *out, const char **err)
{
	static const char *const names[] = {"SUBSCRIBED", "CHILDREN", "SPECIAL-USE"};

	if (l->type != IMAP_ARG_LIST)
		return false;
	for (size_t i = 0; i < l->count; i++) {
		size_t k;

		if (imap_arg_is_atom(&l->list[i], "STATUS") && i + 1 < l->count) {
			out->ret |= IMAP_LIST_RET_STATUS;
			if (!imap_status_items_parse(&l->list[++i], &out->status_items, err))
				return false;
			continue;
		}
		for (k = 0; k < 3; k++)
			if (imap_arg_is_atom(&l->list[i], names[k]))
				break;
		if (k == 3)
			return false;
		out->ret |= 1u << k;
	}
	return true;
}

bool imap_list_parse(const struct imap_arg *args, size_t n, struct imap_list *out, const char **err)
{
	static const char *const sel[] = {"SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"};
	size_t i = 0, np = 0;

	memset(out, 0, sizeof(*out));
	*err = "Invalid LIST arguments";
	if (n > 0 && args[0].type == IMAP_ARG_LIST) {
		if (!list_options(&args[0], sel, 4, &out->select))
			goto bad;
		/* RFC 5258 3: RECURSIVEMATCH needs another option to modify. */
		if (out->select == IMAP_LIST_SEL_RECURSIVEMATCH)
			goto bad;
		out->extended = true;
		i++;
	}
	if (i + 2 > n || (out->reference = list_string(&args[i])) == NULL)
		goto bad;
	i++;
	const struct imap_arg *pat = &args[i];
	const struct imap_arg *pats = pat;
	size_t count = 1;
	if (pat->type == IMAP_ARG_LIST) {
		pats = pat->list;
		count = pat->count;
		out->extended = true;
		if (count == 0 || count > LIST_MAX_PATTERNS)
			goto bad;
	}
	out->patterns = xcalloc(count + 1, sizeof(char *));
	for (size_t k = 0; k < count; k++)
		if ((out->patterns[np++] = list_string(&pats[k])) == NULL)
			goto bad;
	i++;
	if (i < n) {
		if (!imap_arg_is_atom(&args[i], "RETURN") || i + 2 != n ||
		    !list_return(&args[i + 1], out, err))
			goto bad;
		out->extended = true;
	}
	return true;
bad:
	imap_list_free(out);
	return false;
}

bool imap_lsub_parse(const struct imap_arg *args, size_t n, struct imap_list *out, const char **err)
{
	memset(out, 0, sizeof(*out));
	*err = "Invalid LSUB arguments";
	if (n != 2 || args[1].type == IMAP_ARG_LIST ||
	    (out->reference = list_string(&args[0])) == NULL)
		goto bad;
	out->patterns = xcalloc(2, sizeof(char *));
	if ((out->patterns[0] = list_string(&args[1])) == NULL)
		goto bad;
	return true;
bad:
	imap_list_free(out);
	return false;
}

void imap_list_free(struct imap_list *l)
{
	free(l->reference);
	if (l->patterns)
		strv_free(l->patterns);
	l->reference = NULL;
	l->patterns = NULL;
}

/*
 * Pattern matching by simulating the pattern as an automaton: state k
 * means "pattern[0..k) matched so far".  '*' and '%' are loops ('%' not
 * over the delimiter), other characters advance.  O(len(pattern) x
 * len(name)) with no backtracking, so a hostile pattern costs no more.
 */
bool imap_list_match(const char *pattern, const char *name, char delim)
{
	size_t plen = strlen(pattern), nlen = strlen(name);
	bool *cur, *next, ok;

	if (plen > LIST_MAX_NAME || nlen > LIST_MAX_NAME)
		return false;
	cur = xcalloc(plen + 1, sizeof(bool));
	next = xcalloc(plen + 1, sizeof(bool));
	cur[0] = true;
	for (size_t k = 0; k < plen && cur[k] && (pattern[k] == '*' || pattern[k] == '%'); k++)
		cur[k + 1] = true;
	for (size_t i = 0; i < nlen; i++) {
		char c = name[i];

		memset(next, 0, plen + 1);
		for (size_t k = 0; k < plen; k++) {
			if (!cur[k])
				continue;
			if (pattern[k] == '*' || (pattern[k] == '%' && c != delim))
				next[k] = true;
			else if (pattern[k] == c)
				next[k + 1] = true;
		}
		/* Wildcards may also match nothing. */
		for (size_t k = 0; k < plen; k++)
			if (next[k] && (pattern[k] == '*' || pattern[k] == '%'))
				next[k + 1] = true;
		bool *t = cur;
		cur = next;
		next = t;
	}
	ok = cur[plen];
	free(cur);
	free(next);
	return ok;
}
