/*
 * fuzz_passwd_file.c - libFuzzer harness for the users file and app
 * password parsers (lib/auth/passwd_file.c) and quota rules
 * (lib/auth/quota_rule.c).
 *
 * The input is parsed as a whole users file; every entry found must be
 * findable by its name, and formatting it and parsing the line again
 * must give the same fields.  Each line is also parsed as an app
 * password line and as a quota rule.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/passwd_file.h"
#include "auth/quota_rule.h"
#include "buf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entry(const struct pwf *f, const struct pwf_entry *e)
{
	struct buf line = BUF_INIT;
	struct pwf_entry g;
	const char *why;
	char *copy;

	if (pwf_find(f, e->user) == NULL)
		abort();
	pwf_format_line(&line, e);
	copy = xstrndup(line.data, line.len - 1);
	if (pwf_parse_line(copy, &g, &why) != 1 || strcmp(g.user, e->user) != 0 ||
	    strcmp(g.password, e->password) != 0 || strcmp(g.uid, e->uid) != 0 ||
	    strcmp(g.gid, e->gid) != 0 || strcmp(g.home, e->home) != 0 || g.nextra != e->nextra)
		abort();
	for (size_t i = 0; i < e->nextra; i++)
		if (strcmp(g.extra[i], e->extra[i]) != 0)
			abort();
	free(copy);
	buf_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwf f;
	struct buf errs = BUF_INIT;
	char *text = xmemdup(data, size), *p, *nl;
	long long bytes, msgs;

	pwf_parse((const char *)data, size, "fuzz", &f, &errs);
	for (size_t i = 0; i < f.n; i++)
		check_entry(&f, &f.ents[i]);
	pwf_free(&f);
	for (p = text; p && (size_t)(p - text) < size; p = nl ? nl + 1 : NULL) {
		struct pwf_app a;
		const char *why;

		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		if (pwf_app_parse_line(p, &a, &why) > 0 &&
		    (!pwf_word_valid(a.label) || *a.hash == 0))
			abort();
		quota_rule_parse(p, &bytes, &msgs);
	}
	free(text);
	buf_free(&errs);
	return 0;
}
