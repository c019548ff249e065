/*
 * imap/write.h - the IMAP response writer's string forms (RFC 9051 4.3,
 * RFC 3501 4.3): atom, quoted string, literal, NIL, chosen the way Dovecot
 * 2.3 chooses them, appended to a struct buf.
 *
 * Rules: a quoted string when the text has no CR, LF or NUL, at most
 * IMAP_QUOTED_MAX bytes, and (unless IMAP_WRITE_UTF8: the client enabled
 * UTF8=ACCEPT or IMAP4rev2) no 8-bit byte; otherwise a literal {n}.
 * '"' and '\' are escaped inside quotes.  IMAP_WRITE_NOLF first removes
 * CR and LF (unfolded header text in ENVELOPE, as Dovecot prints it).
 * The caller picks literal8 (~{n}) itself for BINARY.
 */
#ifndef TERN_IMAP_WRITE_H
#define TERN_IMAP_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#define IMAP_QUOTED_MAX 1024

enum {
	IMAP_WRITE_UTF8 = 0x01, /* 8-bit UTF-8 may go in quoted strings */
	IMAP_WRITE_NOLF = 0x02, /* drop CR and LF from the text */
};

void imap_write_literal(struct buf *out, const char *s, size_t len);
/* Quoted or literal, per the rules above. */
void imap_write_string(struct buf *out, const char *s, size_t len, unsigned flags);
/* NIL for NULL, else imap_write_string. */
void imap_write_nstring(struct buf *out, const char *s, unsigned flags);
/* An atom when s is a non-empty atom other than NIL, else a string. */
void imap_write_astring(struct buf *out, const char *s, size_t len, unsigned flags);
/* Display text (ENVELOPE subject, address names) as Dovecot writes it:
 * white space normalised, a literal when anything had to change or
 * needs escaping; see write.c.  nhuman: NIL for NULL. */
void imap_write_human(struct buf *out, const char *s, size_t len, unsigned flags);
void imap_write_nhuman(struct buf *out, const char *s, unsigned flags);
/* True for ATOM-CHAR (RFC 9051: no specials, no CTL, no 8-bit). */
bool imap_is_atom_char(unsigned char c);
/* "dd-Mon-yyyy hh:mm:ss +zzzz" in quotes (INTERNALDATE) for t at zone
 * offset tz_min. */
void imap_write_datetime(struct buf *out, time_t t, int tz_min);

#endif
