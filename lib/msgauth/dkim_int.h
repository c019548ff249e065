/*
 * dkim_int.h - DKIM's internals shared by dkim_verify.c and dkim_sign.c:
 * the message as header fields and body, and the header data a signature
 * covers (the same code for both sides, so they cannot disagree).
 */
#ifndef TERN_MSGAUTH_DKIM_INT_H
#define TERN_MSGAUTH_DKIM_INT_H

#include "msgauth/dkim.h"

struct dkim_field {
	const char *p; /* name:value with folding, no final CRLF */
	size_t len;
};

/* The message with CRLF line ends. */
void dkim_crlf(const char *msg, size_t len, struct buf *out);
/* Splits m's header into fields (*out: free it); the body's offset. */
size_t dkim_fields(const struct buf *m, struct dkim_field **out, size_t *n);
/* Is f a field of this name (any case)? */
bool dkim_field_is(const struct dkim_field *f, const char *name);
/* The header data s covers, sigf being the signature field itself. */
void dkim_header_data(const struct dkim_sig *s, const struct dkim_field *fields, size_t n,
    const struct dkim_field *sigf, struct buf *out);

#endif
