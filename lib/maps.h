/*
 * maps.h - lists of lookup tables, the value of every "*_maps" parameter.
 *
 * A list is written as Postfix writes it: table specs (table.h) separated by
 * commas or white space, "texthash:/etc/tern/a, pcre:/etc/tern/b.pcre,
 * inline:{ k1=v1, { k2 = v 2 } }" (a spec's braces may hold both).  A key is
 * looked up in each table in turn; the first table that knows it answers.
 *
 * One cache per process: every table is opened once, at its first use,
 * keyed by its spec, and shared by every list that names it; table.c
 * reloads a file that changed (checked at most once a second per table).
 * Lists are cached by their text, so calling maps_open() for every look-up
 * costs a few string comparisons, not a file read.  Nothing is closed
 * before the process exits (daemons restart to pick up a new main.cf),
 * except by maps_reset().
 *
 * One failure policy, everywhere: a table that cannot be used - a file that
 * cannot be read or has a syntax error when first loaded, an unknown table
 * type, a regex match error - makes maps_find() return MAPS_TEMPFAIL, never
 * "not found", so that the caller defers (4xx, retry) instead of rejecting
 * or bouncing mail.  The search stops at that table, as Postfix's does: a
 * later table's answer need not be the one the broken table would have
 * given.  A table that could not be opened is tried again at its next use;
 * the warning is logged once until it opens.
 *
 * Format: a table that alias_maps lists is read in aliases(5) format
 * wherever it is used (local_recipient_maps names it too), as Postfix's
 * postalias-built files are; every other table as "key value" lines.
 */
#ifndef TERN_MAPS_H
#define TERN_MAPS_H

#include <stdbool.h>

#include "buf.h"

enum maps_status {
	MAPS_TEMPFAIL = -1, /* a table could not be used: defer */
	MAPS_NOTFOUND = 0,
	MAPS_FOUND = 1,
};

/* maps_find() flags. */
#define MAPS_ADDR_DOMAIN 0x1 /* key is an address: when not found, try "@domain" */

struct maps;

/*
 * The list named by a parameter ("virtual_mailbox_maps": its current value)
 * or given as text (a restriction's "check_client_access texthash:/x").
 * Never fails: a bad spec shows when it is looked up (MAPS_TEMPFAIL).  The
 * result belongs to the cache and stays valid until maps_reset().
 */
struct maps *maps_open(const char *param_or_list);

/*
 * The first answer for key, in table order.  With MAPS_ADDR_DOMAIN and a key
 * "user@domain", every table is asked for the whole key first, then (when
 * the local part has an extension after a recipient_delimiter character)
 * for "user@domain" without it, then for "@domain" (Postfix's order for
 * virtual and login tables).  MAPS_FOUND sets
 * *value (owned by the table: valid until the next look-up in it).
 */
enum maps_status maps_find(struct maps *m, const char *key, int flags, const char **value);

/* True when the list names no table (an empty parameter). */
bool maps_empty(const struct maps *m);

/* What log lines call the list: the parameter name, or the list's text. */
const char *maps_title(const struct maps *m);

/*
 * Splits list text into table specs: strv_split_list() (util.h), commas and
 * white space outside braces.  NULL-terminated; free with strv_free().  An
 * unbalanced '{' keeps the rest of the text in its spec (table_open then
 * refuses it).
 */
char **maps_split(const char *text);

/*
 * Opens one table spec as maps_find() would (aliases(5) format for a table
 * alias_maps lists) and closes it again: table_check()'s answer (0,
 * TABLE_UNREADABLE, or -1 for a line table.c refuses, an unknown type...)
 * with err saying why.  For tern check, which reports at start what would
 * otherwise defer mail.
 */
int maps_check(const char *spec, struct buf *err);

/* Closes every table and forgets every list (tests, reload). */
void maps_reset(void);

#endif
