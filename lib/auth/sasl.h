/*
 * auth/sasl.h - the SASL decoders: base64 and SASL PLAIN (RFC 4616).
 *
 * Pure functions over buffers, fuzzed (tests/fuzz/fuzz_sasl_decode.c):
 * everything a client sends in a SASL exchange passes through here in the
 * auth daemon before a mechanism looks at it (SCRAM's messages have their
 * own parser, auth/scram.h).  Base64 is strict (RFC 4648 section 3.3: no
 * white space, no characters outside the alphabet, padding required and
 * only at the end), since a lenient decoder would accept inputs that
 * different software reads differently.
 *
 * Not here: the lenient base64 of message bodies (MIME), SASL LOGIN (its
 * two messages are plain strings).
 */
#ifndef TERN_AUTH_SASL_H
#define TERN_AUTH_SASL_H

#include <stddef.h>

#include "buf.h"

/* Decodes in[0..len) into out (reset first); -1 on malformed input. */
int sasl_base64_decode(const char *in, size_t len, struct buf *out);
/* Appends the base64 form of in[0..len) to out. */
void sasl_base64_encode(const char *in, size_t len, struct buf *out);

/* "authzid NUL authcid NUL passwd", pointing into the decoded message. */
struct sasl_plain {
	const char *authzid, *authcid, *passwd;
	size_t authzid_len, authcid_len, passwd_len;
};

/*
 * Splits a decoded PLAIN message.  -1 unless it has exactly two NULs, a
 * non-empty authcid and a non-empty password.
 */
int sasl_plain_parse(const char *p, size_t len, struct sasl_plain *out);

#endif
