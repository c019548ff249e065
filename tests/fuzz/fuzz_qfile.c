/*
 * fuzz_qfile.c - libFuzzer harness for the queue file reader.
 *
 * Feeds arbitrary bytes to qfile_parse().  Beyond "no crash, no leak" it
 * checks the promise callers rely on when they pread() the message: on
 * QF_LOAD_OK the header, body, end and journal offsets all lie inside the
 * input, in order, and every recipient has an address.
 */
#include <stdint.h>
#include <stdlib.h>

#include "qfile.h"

static int inside(off_t off, off_t len, size_t size)
{
	return off >= 0 && len >= 0 && (uint64_t)off <= size &&
	       (uint64_t)len <= size - (uint64_t)off;
}

static void check(const struct qfile *qf, size_t size)
{
	if (!inside(qf->header_off, qf->header_len, size) ||
	    !inside(qf->body_off, qf->body_len, size) ||
	    qf->header_off + qf->header_len > qf->body_off ||
	    qf->body_off + qf->body_len > qf->end_off || qf->end_off > qf->journal_end ||
	    qf->journal_end > qf->file_size || (uint64_t)qf->file_size != size || qf->nrcpt == 0 ||
	    qf->sender == NULL)
		abort();
	for (size_t i = 0; i < qf->nrcpt; i++)
		if (qf->rcpts[i].addr == NULL || qf->rcpts[i].addr[0] == 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qfile qf;
	struct buf err = BUF_INIT;

	if (qfile_parse((const char *)data, size, &qf, &err) == QF_LOAD_OK)
		check(&qf, size);
	qfile_free(&qf);
	buf_free(&err);
	return 0;
}
