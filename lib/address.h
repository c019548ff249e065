/*
 * address.h - RFC 5321 paths and mailbox addresses.
 *
 * addr_parse_path() takes the argument of MAIL FROM: or RCPT TO: (starting
 * at the '<') and returns the mailbox in a canonical form: a quoted local
 * part is kept quoted only when it needs to be (RFC 5321 4.1.2), the domain
 * is lower-cased, a source route ("@a,@b:") is accepted and dropped
 * (RFC 5321 appendix C).  It is a pure function: no allocation outside
 * *out, no global state.
 */
#ifndef TERN_ADDRESS_H
#define TERN_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#define ADDR_MAX 512 /* longer paths are rejected */

#define ADDR_ALLOW_NULL 0x1  /* "<>" is accepted (MAIL FROM) */
#define ADDR_ALLOW_UTF8 0x2  /* UTF-8 in local part and domain (SMTPUTF8) */
#define ADDR_ALLOW_LOCAL 0x4 /* a bare local part without @domain */

/*
 * Parses "<path>" at in[0..len).  On success returns 0, *out is a new
 * string with the address ("" for <>), and *rest points just past the '>'
 * (the ESMTP parameters, maybe preceded by spaces).  On failure returns
 * -1 and *errmsg describes the problem in words fit for an SMTP reply.
 */
int addr_parse_path(
    const char *in, size_t len, int flags, char **out, const char **rest, const char **errmsg);

/* Checks a domain (dot-atom of LDH labels, or an address literal). */
bool addr_valid_domain(const char *domain, bool utf8);

/*
 * Splits a canonical address at its last '@' into newly allocated local
 * part and domain ("" when there is none); the domain is lower-cased.
 */
void addr_split(const char *addr, char **local, char **domain);

/* Whether an address holds UTF-8 (any byte above 127): RFC 6531 wants
 * SMTPUTF8 for it on the wire. */
bool addr_is_utf8(const char *addr);

/* Whether a local part must be quoted, and quoting it when it must. */
char *addr_quote_local(const char *local);

#endif
