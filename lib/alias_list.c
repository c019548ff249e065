/*
 * alias_list.c - splitting and checking alias target lists.
 *
 * The syntax is sendmail's, as Postfix reads it: targets separated by
 * commas (or, in .forward and :include: files, line ends), double quotes
 * around a target that contains commas or blanks ("|cmd arg, arg").
 * What each target means is local's business (local/alias.c); this file
 * only cuts the text, so it can be fuzzed alone and shared with
 * newaliases, which checks every alias before local ever reads it.
 */
#include "alias_list.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "util.h"

char **alias_targets(const char *text)
{
	struct buf t = BUF_INIT;
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;
	bool quoted = false;

	for (const char *p = text;; p++) {
		char *one;

		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		if (*p && (quoted || (*p != ',' && *p != '\n'))) {
			buf_putc(&t, *p);
			continue;
		}
		buf_cstr(&t);
		one = t.len > 0 ? str_trim(t.data) : NULL;
		if (one && *one && *one != '#') {
			v = xreallocarray(v, n + 2, sizeof(*v));
			v[n++] = xstrdup(one);
			v[n] = NULL;
		}
		buf_reset(&t);
		if (*p == 0)
			break;
	}
	buf_free(&t);
	return v;
}

const char *alias_target_check(const char *t)
{
	if (*t == '|')
		return t[1 + strspn(t + 1, " \t")] ? NULL : "empty command after '|'";
	if (strncasecmp(t, ":include:", 9) == 0) {
		t += 9;
		t += strspn(t, " \t");
		return *t == '/' ? NULL : ":include: needs an absolute path";
	}
	if (*t == '/')
		return NULL;
	if (*t == '\\')
		t++;
	if (*t == 0 || *t == '@')
		return "empty address";
	if (strpbrk(t, " \t<>()[];") != NULL)
		return "address with blanks or special characters (quote commands and files)";
	return NULL;
}
