/*
 * gzip.c - see gzip.h.  One deflate call with Z_FINISH into a buffer of
 * deflateBound's size, so it never needs a second round.
 */
#include "gzip.h"

#include <string.h>
#include <zlib.h>

bool gzip_buf(const char *p, size_t n, struct buf *out)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	buf_reserve(out, deflateBound(&z, n));
	z.next_in = (unsigned char *)p;
	z.avail_in = (unsigned)n;
	z.next_out = (unsigned char *)buf_tail(out);
	z.avail_out = (unsigned)(out->cap - out->len);
	rc = deflate(&z, Z_FINISH);
	if (rc == Z_STREAM_END)
		buf_commit(out, z.total_out);
	deflateEnd(&z);
	return rc == Z_STREAM_END;
}
