/*
 * mime/address.h - RFC 5322 address lists with their parts, as IMAP's
 * ENVELOPE (RFC 9051 7.5.2), SORT DISPLAYFROM, Sieve and JMAP need them.
 *
 * "Name <a@b>, c@d (Comment), Team: e@f;" yields, in order:
 *   name "Name" mailbox "a" host "b"
 *   name "Comment" mailbox "c" host "d"   (a comment stands in for a
 *                                          missing display name)
 *   group start: mailbox "Team", host NULL
 *   mailbox "e" host "f"
 *   group end:   mailbox NULL, host NULL
 * The obsolete route of "<@r1,@r2:a@b>" is kept in route ("@r1,@r2").
 * Display names are the phrase's words joined by one space, quotes and
 * backslash escapes removed, RFC 2047 encoded words left as they are
 * (mime_2047_decode() is the caller's choice).
 *
 * lib/addrlist.c is the other address reader: it keeps only the
 * address strings, leniently, for sendmail -t; this one keeps the parts.
 *
 * Malformed input still gives a list (never NULL for non-empty input):
 * with MIME_ADDR_FILL_MISSING a missing local part or domain becomes
 * "MISSING_MAILBOX" / "MISSING_DOMAIN", an empty element before a comma
 * (", ,") becomes such an address, and a group left open is closed, as
 * Dovecot prints them in ENVELOPE; without it they stay NULL / "".
 * At most max addresses are returned (the rest is dropped) so a hostile
 * header cannot make the list unbounded beyond its own size.
 */
#ifndef TERN_MIME_ADDRESS_H
#define TERN_MIME_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

struct mime_addr {
	struct mime_addr *next;
	char *name;    /* display name or NULL */
	char *route;   /* obs-route or NULL */
	char *mailbox; /* local part; group name at a group start; NULL at a group end */
	char *host;    /* domain; NULL at a group start or end */
	bool invalid;  /* the parser had to repair something */
};

#define MIME_ADDR_FILL_MISSING 0x01
#define MIME_ADDR_MAX_DEFAULT 10000

/* The list in value[0..len) (NULL when it holds no address at all). */
struct mime_addr *mime_addr_parse(const char *value, size_t len, unsigned flags, size_t max);
void mime_addr_free(struct mime_addr *list);
/* A group start / end entry (see above). */
bool mime_addr_is_group_start(const struct mime_addr *a);
bool mime_addr_is_group_end(const struct mime_addr *a);

#endif
