/*
 * mutf7.h - IMAP's modified UTF-7 (RFC 3501 5.1.3), the encoding of
 * mailbox names on the wire for IMAP4rev1 clients and, as Dovecot keeps
 * Maildir++ by default, of folder names on disk (".Caf&AOk-").
 *
 * Printable US-ASCII (0x20-0x7e) stands for itself except '&', which is
 * "&-"; every other character is UTF-16 (surrogate pairs for the planes
 * above the BMP) in modified base64 (',' for '/', no '=' padding) between
 * '&' and '-'.  Both directions are pure functions over buffers.
 *
 * Decoding is strict, so that one name has exactly one encoding and two
 * different byte strings never name the same folder: a shifted run must
 * not encode printable ASCII, must not follow another shifted run
 * directly ("&AOk-&AOk-" is "&AOkA6Q-"), must end with '-', must use no
 * more than the 0-5 leftover bits a run needs, all of them zero, and must
 * hold whole, correctly paired UTF-16 units.  Encoding refuses input that
 * is not valid UTF-8 (overlong forms, surrogates, above U+10FFFF).
 */
#ifndef TERN_MSTORE_MUTF7_H
#define TERN_MSTORE_MUTF7_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Appends the modified UTF-7 form of the UTF-8 text s[0..len) to out.
 * 0, or -1 (out unchanged) when s is not valid UTF-8 or holds a NUL. */
int mutf7_encode(const char *s, size_t len, struct buf *out);

/* Appends the UTF-8 form of the modified UTF-7 text s[0..len) to out.
 * 0, or -1 (out unchanged) when s is not strictly valid modified UTF-7. */
int mutf7_decode(const char *s, size_t len, struct buf *out);

/* True when s[0..len) is strictly valid modified UTF-7. */
bool mutf7_valid(const char *s, size_t len);

/* True when s[0..len) is valid UTF-8 without NULs (the check names taken
 * as UTF-8 get; lib/mime has the same check for message text). */
bool mutf7_utf8_valid(const char *s, size_t len);

#endif
