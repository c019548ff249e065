/*
 * fuzz_table.c - libFuzzer harness for the table source parser.
 *
 * The first byte chooses texthash or aliases(5) format; the rest is the
 * table text, loaded with table_from_text() and then looked up with a few
 * fixed keys and with its own first line's leading word.  The same text is
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

static void lookup(struct table *t, const char *key)
{
	bool error = true;
	const char *v = table_lookup(t, key, &error);

	/* An in-memory table can never fail to be read. */
	if (error || (v != NULL && strlen(v) > 0 && v[strlen(v) - 1] == ' '))
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
	t = table_from_text(
	    (const char *)data + 1, size - 1, (data[0] & 1) ? TABLE_ALIASES : 0, &err);
	if (t == NULL) {
		if (err.len == 0)
			abort();
		buf_free(&err);
		free(text);
		return 0;
	}
	first = xstrndup(text, strcspn(text, " \t:\n"));
	lookup(t, first);
	lookup(t, "postmaster");
	lookup(t, "");
	lookup(t, "a");
	free(first);
	free(text);
	table_close(t);
	buf_free(&err);
	return 0;
}
