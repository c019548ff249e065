/*
 * mailbox_path.h - where a user's mailbox (Maildir) is: the one resolver
 * shared by imap, "tern mailbox" and whatever else opens a mailbox by
 * its owner's name.
 *
 * A name is resolved as local delivery would deliver to it:
 *   - a path (it holds a '/'): itself;
 *   - an address "user@domain": virtual_mailbox_maps (the address, then
 *     "@domain"), the value taken relative to virtual_mailbox_base; a
 *     value that is absolute or holds ".." is refused, so that a table
 *     cannot point a login outside the base;
 *   - a system user: home_mailbox in the user's home directory.
 * A trailing '/' (Postfix's Maildir marker) is removed.
 */
#ifndef TERN_MAILBOX_PATH_H
#define TERN_MAILBOX_PATH_H

#include "buf.h"

/* The Maildir of who (caller frees), or NULL with the reason in err:
 * unknown user, a table that cannot be read, a refused value. */
char *mailbox_resolve(const char *who, struct buf *err);

#endif
