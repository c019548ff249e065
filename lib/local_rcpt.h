/*
 * local_rcpt.h - local recipients (class "local"): how an address splits
 * into user and extension, and whether it names a known local recipient.
 *
 * Shared by local (which delivers) and smtpd (which rejects unknown local
 * users at RCPT, Postfix's local_recipient_maps).  Postfix semantics:
 * every decision uses the local part folded to lower case; with
 * recipient_delimiter set, "user+ext" is tried whole first, then as
 * "user" (the extension is the text after the first delimiter character).
 */
#ifndef TERN_LOCAL_RCPT_H
#define TERN_LOCAL_RCPT_H

#include <stdbool.h>

struct local_rcpt {
	char *local;  /* the whole local part, lower-cased */
	char *domain; /* "" when the address has none */
	char *user;   /* local part without the extension, lower-cased */
	char *ext;    /* the extension (case kept), NULL when none */
	char delim;   /* the delimiter character that split them, or 0 */
};

/* Splits addr as described above; free the parts with local_rcpt_free. */
void local_rcpt_split(const char *addr, struct local_rcpt *out);
void local_rcpt_free(struct local_rcpt *r);

/*
 * True when addr is a known local recipient according to
 * local_recipient_maps (maps.h): "unix:passwd.byname" (or with the
 * "proxy:" prefix) is the passwd database, the tables of alias_maps are
 * read in aliases(5) format.  An empty local_recipient_maps accepts
 * everyone, as in Postfix.  *error is set when a table could not be read
 * (the caller then defers).
 */
bool local_rcpt_known(const char *addr, bool *error);

/* Drops the process's cached tables (maps_reset()). */
void local_rcpt_reset(void);

#endif
