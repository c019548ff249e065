/*
 * gzip.h - a buffer compressed whole into the gzip format (RFC 1952) with
 * zlib: http's static files, DMARC aggregate reports.
 */
#ifndef TERN_GZIP_H
#define TERN_GZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Appends the gzip of p[0..n) to out; false when zlib fails. */
bool gzip_buf(const char *p, size_t n, struct buf *out);

#endif
