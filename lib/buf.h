/*
 * buf.h - growable byte buffers.
 *
 * A struct buf holds len bytes at data, always followed by a NUL that is not
 * counted, so text can be used as a C string.  Growth never fails (see
 * util.h).  A zeroed struct buf is a valid empty buffer.
 */
#ifndef TERN_BUF_H
#define TERN_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);		       /* len = 0, keeps memory */
void buf_reserve(struct buf *b, size_t extra); /* room for extra more bytes */
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, int c);
/* Appends s between double quotes, '"' and '\\' escaped with '\\' (the
 * quoted string of RFC 5321, IMAP and ManageSieve; the caller checks
 * that the protocol allows the other bytes). */
void buf_put_quoted(struct buf *b, const char *s, size_t len);
/* Appends s as HTML/XML text: < > & " ' as entities, other control
 * characters than tab and newline dropped. */
void buf_put_html(struct buf *b, const char *s, size_t len);
/* Appends code point cp (at most 0x10ffff) encoded as UTF-8. */
void buf_put_utf8(struct buf *b, unsigned long cp);
/* Appends n in decimal (no printf: FETCH writes one per message). */
void buf_put_uint(struct buf *b, unsigned long long n);
/* Appends the byte c as mark and two upper-case hex digits: "%2F" of URLs
 * and RFC 2231, "+2B" of xtext, "=3D" of quoted-printable. */
void buf_put_hexbyte(struct buf *b, char mark, unsigned char c);
/* Appends n bytes as 2n lower-case hex digits (digests, random ids). */
void buf_put_hex(struct buf *b, const void *p, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_consume(struct buf *b, size_t n); /* drops n bytes from the front */
void buf_truncate(struct buf *b, size_t len);
const char *buf_cstr(struct buf *b); /* never NULL */
/* Marks n bytes, written by the caller after buf_reserve(), as used. */
void buf_commit(struct buf *b, size_t n);
/* Returns a pointer to the free space (at least buf_reserve'd bytes). */
char *buf_tail(struct buf *b);

#endif
