/*
 * subs.h - Dovecot's "subscriptions" file in the Maildir root: the
 * folders a user subscribed to (IMAP SUBSCRIBE, LSUB, LIST (SUBSCRIBED)).
 *
 * Version 2, what Dovecot 2.3 writes:
 *
 *   V\t2\n\n                 the version header
 *   Archive\t2026\n          one name per line, hierarchy levels
 *                            separated by TAB
 *
 * Each level is "tab-escaped": \001 becomes \0011, TAB \001t, CR \001r,
 * LF \001n.  Levels are stored as Dovecot stores folder names on disk
 * (modified UTF-7, "Caf&AOk-").  A file without the header is version 1:
 * one name per line with the hierarchy separator '.' as it is.
 *
 * Names outside this module are UTF-8 with '.' between levels, as
 * mstore.h uses them; levels that are not valid modified UTF-7 are taken
 * as they are.  Pure functions over buffers.
 */
#ifndef TERN_MSTORE_SUBS_H
#define TERN_MSTORE_SUBS_H

#include <stddef.h>

#include "buf.h"

#define SUBS_NAME "subscriptions"

/* Parses the file; returns the names (UTF-8, '.' separated), a NULL-ended
 * vector to free with strv_free().  Empty lines and duplicates are
 * dropped. */
char **subs_parse(const char *data, size_t len);

/* Appends the version 2 file holding names. */
void subs_format(char *const *names, struct buf *out);

#endif
