/*
 * addrlist.h - the addresses in an RFC 5322 address-list header value.
 *
 * "Name <a@b>, c@d (comment), \"q x\"@e, group: f@g, h@i;" yields
 * a@b, c@d, "q x"@e, f@g, h@i.  Used by sendmail -t (To:, Cc:, Bcc:) and
 * for its recipient arguments.  Lenient like a mail transport, not a
 * validator: comments are dropped, white space outside quotes is removed,
 * a source route in <...> is dropped, group names are skipped, and an
 * element that ends up empty is skipped.  Control characters never reach
 * the output.  Pure: no I/O, no global state.
 */
#ifndef TERN_ADDRLIST_H
#define TERN_ADDRLIST_H

#include <stddef.h>

/* A NULL-terminated vector of new strings (free with strv_free), possibly
 * empty, never NULL. */
char **addrlist_parse(const char *text, size_t len);

#endif
