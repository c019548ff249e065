/*
 * fuzz_ipc.c - libFuzzer harness for the IPC record decoder (lib/ipc.c).
 *
 * Feeds the input to ipc_parse, consuming one record after another until
 * the decoder asks for more or reports an error.  Every decoded record is
 * re-encoded with ipc_put/ipc_end and decoded again: the attributes must
 * come back identical and the re-encoding must be consumed exactly, or the
 * harness aborts.  A small limit is tried as well, so size checks run on
 * short inputs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const struct ipc_msg *a, const struct ipc_msg *b)
{
	if (a->count != b->count)
		abort();
	for (size_t i = 0; i < a->count; i++) {
		const struct ipc_attr *x = &a->attrs[i], *y = &b->attrs[i];
		if (strcmp(x->name, y->name) != 0 || x->len != y->len ||
		    memcmp(x->value, y->value, x->len) != 0 || y->value[y->len] != 0)
			abort();
	}
}

static void round_trip(const struct ipc_msg *m, size_t max)
{
	struct buf out = BUF_INIT;
	struct ipc_msg again;
	size_t used = 0;

	for (size_t i = 0; i < m->count; i++)
		ipc_put(&out, m->attrs[i].name, m->attrs[i].value, m->attrs[i].len);
	ipc_end(&out);
	ipc_msg_init(&again);
	/* The canonical form is never longer than what was accepted. */
	if (ipc_parse(out.data, out.len, max, &again, &used, NULL) != IPC_OK || used != out.len)
		abort();
	check_same(m, &again);
	ipc_msg_free(&again);
	buf_free(&out);
}

static void parse_all(const char *p, size_t size, size_t max)
{
	struct ipc_msg m;
	const char *why;
	size_t used;

	ipc_msg_init(&m);
	while (ipc_parse(p, size, max, &m, &used, &why) == IPC_OK) {
		if (used == 0 || used > size || used > max)
			abort();
		round_trip(&m, max);
		p += used;
		size -= used;
	}
	ipc_msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so reading one byte past the end is caught. */
	char *copy = malloc(size ? size : 1);

	if (size)
		memcpy(copy, data, size);
	parse_all(copy, size, IPC_MAX_RECORD);
	parse_all(copy, size, 64);
	free(copy);
	return 0;
}
