/*
 * xtext.h - RFC 3461 xtext, the encoding of ENVID, ORCPT and AUTH=.
 *
 *   xtext   = *( xchar / hexchar )
 *   xchar   = any ASCII from "!" (33) to "~" (126) except "+" and "="
 *   hexchar = "+" and two upper-case hex digits
 *
 * The one codec for every program: smtpd and sendmail -bs decode what a
 * client sent, the smtp client encodes what it relays, the delivery log
 * shows it decoded.  Pure functions over buffers.
 */
#ifndef TERN_SMTP_XTEXT_H
#define TERN_SMTP_XTEXT_H

#include <stddef.h>

#include "buf.h"

/*
 * Decodes in[0..len) into out, which is reset first.  Returns 0, or -1 on
 * a byte that is not an xchar, a "+" without two hex digits, or an encoded
 * NUL (the result is a C string everywhere).  Lower-case hex digits are
 * accepted, as Postfix and Sendmail accept them.
 */
int xtext_decode(const char *in, size_t len, struct buf *out);

/* Appends in[0..len) to out as xtext ("+", "=", controls, SP, 8-bit as +HH). */
void xtext_encode(const char *in, size_t len, struct buf *out);

#endif
