/*
 * fuzz_table.c - libFuzzer harness for the table source parser.
 *
 * The first byte chooses texthash or aliases(5) format; the rest is the
 * table text, loaded with table_from_text() and then looked up with a few
 * fixed keys and with its own first line's leading word.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	struct table *t;
	char *text, *first;

	if (size == 0)
		return 0;
	t = table_from_text(
	    (const char *)data + 1, size - 1, (data[0] & 1) ? TABLE_ALIASES : 0, &err);
	if (t == NULL) {
		if (err.len == 0)
			abort();
		buf_free(&err);
		return 0;
	}
	text = xmemdup(data + 1, size - 1);
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
