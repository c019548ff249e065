/*
 * fuzz_table.c - libFuzzer harness for the table source parser.
 *
 * The first byte's low two bits choose texthash, aliases(5) format, a
 * pcre: or a regexp: table (rules with if/endif blocks and $1 results);
 * the rest is the table text, loaded with table_from_text_as() and then
 * looked up with a few fixed keys and with its own first line's leading
 * word (for rule tables: the line itself, which a /literal/ rule may
 * match).  The same text is
 * also split as a *_maps list (maps_split): every spec is non-empty and
 * starts with neither a separator nor white space.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "maps.h"
#include "table.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const types[] = {"texthash", "texthash", "pcre", "regexp"};
static bool rules; /* the table is pcre: or regexp: */

static void lookup(struct table *t, const char *key)
{
	bool error = true;
	const char *v = table_lookup(t, key, &error);

	/* An in-memory table can never fail to be read; a rule table's
	 * failed match or substitution is not found, never an error. */
	if (error || (v != NULL && strlen(v) > 0 && v[strlen(v) - 1] == ' ' && !rules))
		abort();
}

static void split(const char *text)
{
	char **v = maps_split(text);

	for (size_t i = 0; v[i]; i++)
		if (v[i][0] == 0 || strchr(" \t\r\n,", v[i][0]) != NULL)
			abort();
	strv_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	struct table *t;
	char *text, *first;

	if (size == 0)
		return 0;
	text = xmemdup(data + 1, size - 1);
	split(text);
	rules = (data[0] & 2) != 0;
	t = table_from_text_as(types[data[0] & 3], (const char *)data + 1, size - 1,
	    (data[0] & 3) == 1 ? TABLE_ALIASES : 0, &err);
	if (t == NULL) {
		if (err.len == 0)
			abort();
		buf_free(&err);
		free(text);
		return 0;
	}
	first = xstrndup(text, strcspn(text, rules ? "\n" : " \t:\n"));
	lookup(t, first);
	lookup(t, "postmaster");
	lookup(t, "");
	lookup(t, "a");
	lookup(t, "user@example.com");
	lookup(t, "Subject: hello world");
	free(first);
	free(text);
	table_close(t);
	buf_free(&err);
	return 0;
}
