/*
 * mime/header.h - header fields of a message or MIME part header section.
 *
 * The header section is a buffer of lines ending in LF or CRLF (both are
 * accepted; Maildir keeps LF, IMAP presents CRLF).  RFC 5322 section 2.2:
 * a field is "Name:" then its value, continued on lines that start with a
 * space or a tab.  Lines that are neither (no colon, or a bad name) are
 * skipped, as Dovecot does, so a broken header never hides the next field.
 *
 *   mime_hdr_iter_*: walks the fields in order, giving each raw value
 *                    (still folded, without the final line end).
 *   mime_hdr_unfold: RFC 5322 2.2.3 unfolding (CR and LF removed, the
 *                    white space kept), plus trimming at both ends.
 *   mime_hdr_find:   the unfolded value of the first field of a name.
 *
 * Pure functions over the caller's buffer; nothing is copied except into
 * the caller's struct buf.  This is the one header reader of the tree:
 * cleanup's hdr_value() is built on mime_hdr_find().
 */
#ifndef TERN_MIME_HEADER_H
#define TERN_MIME_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct mime_hdr_field {
	const char *name; /* not NUL-terminated */
	size_t name_len;
	const char *value; /* raw, after the colon, folds included */
	size_t value_len;  /* without the field's final line end */
};

struct mime_hdr_iter {
	const char *p, *end;
};

void mime_hdr_iter_init(struct mime_hdr_iter *it, const char *hdr, size_t len);
/* The next field; false at the end of the section (or at an empty line). */
bool mime_hdr_iter_next(struct mime_hdr_iter *it, struct mime_hdr_field *f);

/* True when the field's name is name (ASCII, any case). */
bool mime_hdr_name_is(const struct mime_hdr_field *f, const char *name);

/* Appends value[0..len) unfolded and trimmed of white space to out. */
void mime_hdr_unfold(const char *value, size_t len, struct buf *out);

/* out = the first field called name, unfolded and trimmed; false if none. */
bool mime_hdr_find(const char *hdr, size_t len, const char *name, struct buf *out);

#endif
