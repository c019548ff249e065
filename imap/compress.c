/*
 * compress.c - COMPRESS=DEFLATE (RFC 4978): raw deflate (no zlib or
 * gzip header) both ways.  Every write ends with a sync flush, so the
 * client can decode each response as it arrives.  The inflater's output
 * per call is bounded by what the input can expand to; the client reads
 * no more while its input buffer is not drained, and a zlib bomb runs
 * into the parser's line limit like any other long line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "imap.h"
#include "log.h"
#include "util.h"

struct imap_zlib {
	z_stream def, inf;
};

struct imap_zlib *imap_zlib_new(void)
{
	struct imap_zlib *z = xcalloc(1, sizeof(*z));

	if (deflateInit2(&z->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
		Z_OK ||
	    inflateInit2(&z->inf, -15) != Z_OK)
		log_fatal("imap: zlib cannot be initialised");
	return z;
}

void imap_zlib_free(struct imap_zlib *z)
{
	deflateEnd(&z->def);
	inflateEnd(&z->inf);
	free(z);
}

int imap_zlib_deflate(struct imap_zlib *z, const char *in, size_t len, struct buf *out)
{
	z->def.next_in = (Bytef *)(uintptr_t)in;
	z->def.avail_in = (uInt)len;
	do {
		buf_reserve(out, 16384);
		z->def.next_out = (Bytef *)buf_tail(out);
		z->def.avail_out = 16384;
		if (deflate(&z->def, Z_SYNC_FLUSH) == Z_STREAM_ERROR)
			return -1;
		buf_commit(out, 16384 - z->def.avail_out);
	} while (z->def.avail_out == 0 || z->def.avail_in > 0);
	return 0;
}

int imap_zlib_inflate(struct imap_zlib *z, const char *in, size_t len, struct buf *out)
{
	z->inf.next_in = (Bytef *)(uintptr_t)in;
	z->inf.avail_in = (uInt)len;
	while (z->inf.avail_in > 0) {
		int r;

		buf_reserve(out, 16384);
		z->inf.next_out = (Bytef *)buf_tail(out);
		z->inf.avail_out = 16384;
		r = inflate(&z->inf, Z_SYNC_FLUSH);
		if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END)
			return -1;
		buf_commit(out, 16384 - z->inf.avail_out);
		if (r == Z_STREAM_END || (r == Z_BUF_ERROR && z->inf.avail_out != 0))
			break;
	}
	return 0;
}
