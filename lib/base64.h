/*
 * base64.h - the base64 alphabet (RFC 4648) for every encoder and decoder
 * in tern: SASL and DKIM (lib/auth/sasl), MIME bodies (lib/mime/decode)
 * and IMAP's modified base64 for mailbox names (lib/mstore/mutf7, whose
 * 63rd digit is ',' instead of '/') and ACME's JWS (lib/acme_jws, RFC 7515's
 * unpadded base64url, '-' and '_' for '+' and '/').  The callers keep their own rules
 * about padding, white space and canonical trailing bits.
 */
#ifndef TERN_BASE64_H
#define TERN_BASE64_H

#include <stddef.h>

#include "buf.h"

/* The 64 digits with '/' as the last; modified base64 swaps it for ','. */
extern const char base64_digits[65];

/* The value 0..63 of digit c, where c63 is the last digit ('/' or ','),
 * or -1 when c is not a digit. */
int base64_value(unsigned char c, unsigned char c63);

/* Appends in as padded base64 (no line breaks). */
void base64_encode(const void *in, size_t len, struct buf *out);

/* Appends in as base64url without padding (RFC 4648 section 5). */
void base64url_encode(const void *in, size_t len, struct buf *out);

#endif
