/*
 * fuzz_mstore_index.c - libFuzzer harness for the readers of tern's own
 * index files (lib/mstore/ix.c, cache.c): the input is taken as a
 * snapshot image, as a log tail (records checked and applied one by one,
 * as a reader does up to a commit point) and as a cache file with record
 * offsets to look up.  A reader must refuse bad bytes, never crash or
 * loop, and keep its state sorted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mstore/cache.h"
#include "mstore/ix.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_sorted(const struct ix_state *st)
{
	for (size_t i = 1; i < st->n; i++)
		if (st->msgs[i - 1].uid >= st->msgs[i].uid)
			abort();
	for (size_t i = 0; i < st->n; i++)
		(void)ix_msg_oddname(st, &st->msgs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct ix_state st;
	struct buf img = BUF_INIT;
	uint32_t seq;
	uint64_t off;
	size_t at = 0;

	/* a snapshot */
	if (ix_snap_load(p, size, &st, &seq, &off)) {
		fuzz_check_sorted(&st);
		ix_snap_build(&st, seq, off, &img);
		ix_state_free(&st);
		if (!ix_snap_load(img.data, img.len, &st, &seq, &off))
			abort(); /* what we write we read */
		ix_state_free(&st);
	}
	/* a log tail on an empty state */
	ix_state_init(&st);
	while (at < size) {
		uint32_t rsize;
		int r = ix_rec_check(p + at, size - at, &rsize);

		if (r != 1)
			break;
		/* records are applied from aligned copies, as read() gives */
		char *copy = xmemdup(p + at, rsize);

		ix_rec_apply(&st, copy, NULL);
		free(copy);
		fuzz_check_sorted(&st);
		at += rsize;
	}
	ix_state_free(&st);
	/* a cache file */
	(void)mc_hdr_valid(p, size);
	for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
		uint32_t o, uid;

		memcpy(&o, p + i, 4);
		memcpy(&uid, p + i + 4, 4);
		(void)mc_rec_valid(p, size, o, uid);
	}
	buf_free(&img);
	return 0;
}
