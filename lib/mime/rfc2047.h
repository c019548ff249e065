/*
 * mime/rfc2047.h - RFC 2047 encoded words in header text, to UTF-8.
 *
 * "=?charset[*lang]?B|Q?text?=" words are decoded through mime/charset;
 * white space between two adjacent encoded words is dropped (RFC 2047
 * section 6.2); everything else is copied, with invalid UTF-8 replaced by
 * U+FFFD so the result is always valid UTF-8.  A word with an unknown
 * charset or a broken encoding is decoded as far as it goes and its bytes
 * are taken as UTF-8 (Dovecot does the same), so a search still finds the
 * ASCII parts.  Folding (CR, LF) is removed first.  Pure.
 *
 * mime_2047_encode writes text as "=?UTF-8?B?...?=" words of at most 45
 * bytes of it each, cut between UTF-8 characters, separated by a fold
 * ("\n "); used for header text that must be ASCII (Sieve's editheader,
 * POP3's downgrade for clients without UTF8).
 */
#ifndef TERN_MIME_RFC2047_H
#define TERN_MIME_RFC2047_H

#include <stddef.h>

#include "buf.h"

void mime_2047_decode(const char *in, size_t len, struct buf *out);
void mime_2047_encode(const char *in, size_t len, struct buf *out);

#endif
