/*
 * table.h - lookup tables: "type:name" as in Postfix.
 *
 *   texthash:/path   "key value" lines (aliases(5) format "key: v1, v2" for
 *                    alias tables), '#' comments, continuation lines start
 *                    with white space; loaded into memory and reloaded when
 *                    the file's mtime or size changes
 *   hash:, btree:, lmdb:, cdb:  the same source file as texthash:
 *   inline:{ k1=v1, { k2 = v with spaces } }
 *   static:value     every key maps to value
 *   pcre:/path       /regex/flags result  (PCRE2)
 *   unix:passwd.byname  the system's accounts (getpwnam): the value is the
 *                    passwd line "name:passwd:uid:gid:gecos:dir:shell"
 * A "proxy:" prefix (Postfix's proxymap) is accepted and ignored: tern reads
 * the table itself.
 *
 * Keys are folded to lower case, as Postfix does for these tables (not for
 * pcre: and unix:, which see the key as given).  Look-ups return a value
 * owned by the table, valid until the next look-up.
 *
 * Programs do not open tables for a *_maps parameter themselves: maps.h
 * keeps one cache of opened tables per process and one failure policy.
 */
#ifndef TERN_TABLE_H
#define TERN_TABLE_H

#include <stdbool.h>

#include "buf.h"

#define TABLE_ALIASES 0x1 /* parse the file in aliases(5) format */

struct table;

/* Opens a table; NULL with err filled on a bad spec or unreadable file. */
struct table *table_open(const char *spec, int flags, struct buf *err);
void table_close(struct table *t);

/*
 * Looks key up.  Returns the value, or NULL when not found; *error (if not
 * NULL) is set true when the table could not be read (the caller should
 * defer rather than reject).
 */
const char *table_lookup(struct table *t, const char *key, bool *error);

/* Calls fn for every key and value of a key/value table (texthash: and
 * friends, inline:), in no particular order; pcre: and static: tables
 * have none.  For newaliases, which checks every alias. */
typedef void table_walk_fn(const char *key, const char *value, void *ctx);
void table_walk(struct table *t, table_walk_fn *fn, void *ctx);
/* Every result the table can give, before $n substitution: the values of
 * a key/value table, each rule's result of a pcre: or regexp: table
 * (key NULL), a static: table's value (key NULL).  For "tern check",
 * which asks where transport_maps can route mail. */
void table_walk_values(struct table *t, table_walk_fn *fn, void *ctx);

/* Checks syntax of a table's source without keeping it (postmap): 0,
 * TABLE_UNREADABLE when its file cannot be read, -1 for anything else (a
 * bad spec, an unknown type, a line the table refuses); err says why. */
#define TABLE_UNREADABLE (-2)
int table_check(const char *spec, int flags, struct buf *err);

/* Parses table text (texthash format), for tests and fuzzing. */
struct table *table_from_text(const char *text, size_t len, int flags, struct buf *err);
/* The same for type "texthash", "pcre" or "regexp" (the rules of a pcre:
 * or regexp: file, with if/endif blocks). */
struct table *table_from_text_as(
    const char *type, const char *text, size_t len, int flags, struct buf *err);

#endif
