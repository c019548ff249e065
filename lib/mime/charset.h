/*
 * mime/charset.h - text in a declared charset to UTF-8, with glibc's iconv.
 *
 * For SEARCH (RFC 9051 6.4.4: matching is done on the decoded text), RFC
 * 2047 words, RFC 2231 parameters, Sieve and JMAP.  A converter is fed in
 * chunks of any size (a multi-byte character split between chunks is
 * held back, at most MIME_CHARSET_PENDING bytes) and appends UTF-8.
 * Bytes the charset cannot decode become U+FFFD and are counted, never
 * dropped silently; UTF-8 and US-ASCII input is validated the same way
 * without iconv.  An unknown charset makes mime_charset_open() fail, and
 * the caller chooses (SEARCH: [BADCHARSET]; body text: treat as UTF-8).
 *
 * Charset names are matched as iconv matches them, plus the aliases mail
 * uses that glibc lacks (e.g. "utf8", "x-unknown" as UTF-8 is not one).
 */
#ifndef TERN_MIME_CHARSET_H
#define TERN_MIME_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define MIME_CHARSET_PENDING 16

struct mime_charset {
	void *cd; /* iconv_t, NULL for UTF-8 */
	unsigned char pend[MIME_CHARSET_PENDING];
	size_t npend;
	size_t invalid; /* bytes replaced by U+FFFD */
};

/* False for an unknown charset. */
bool mime_charset_open(struct mime_charset *c, const char *charset);
void mime_charset_feed(struct mime_charset *c, const char *in, size_t len, struct buf *out);
/* Flushes a truncated trailing character (as U+FFFD) and frees. */
void mime_charset_close(struct mime_charset *c, struct buf *out);

/* True when charset names UTF-8 or US-ASCII (no conversion needed). */
bool mime_charset_is_utf8(const char *charset);
/* Whole-buffer convenience: false for an unknown charset (out untouched). */
bool mime_charset_to_utf8(const char *charset, const char *in, size_t len, struct buf *out);
/* Appends in[0..len) to out with invalid UTF-8 replaced by U+FFFD; returns
 * the number of bytes at the end that may start an unfinished character
 * (not appended) when partial is true, else 0. */
size_t mime_utf8_append_valid(
    const char *in, size_t len, bool partial, struct buf *out, size_t *invalid);
/* True when s[0..len) is valid UTF-8. */
bool mime_utf8_valid(const char *s, size_t len);

#endif
