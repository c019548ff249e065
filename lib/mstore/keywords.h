/*
 * keywords.h - Dovecot's dovecot-keywords file: which IMAP keyword each
 * lowercase flag letter of a folder's file names stands for.
 *
 *   <index> <name>\n     index 0..25 is letter 'a' + index
 *
 * Lines that do not fit (no space, index out of range, empty or repeated
 * name) are skipped, as Dovecot skips them.  The file is replaced whole
 * (written to dovecot-keywords.lock, renamed over) while the writer holds
 * the folder's dovecot-uidlist.lock; an index once given keeps its name.
 */
#ifndef TERN_MSTORE_KEYWORDS_H
#define TERN_MSTORE_KEYWORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "mstore/mdname.h"

#define KEYWORDS_NAME "dovecot-keywords"

struct keywords {
	char *name[MD_KEYWORDS_MAX]; /* NULL: unused */
};

void keywords_free(struct keywords *kw);
/* Parses the file's text into kw (which must be empty). */
void keywords_parse(const char *data, size_t len, struct keywords *kw);
/* Appends the file's text. */
void keywords_format(const struct keywords *kw, struct buf *out);
/* Index of name (exact, case-sensitive as Dovecot compares), or -1. */
int keywords_find(const struct keywords *kw, const char *name);
/* Index of name, adding it at the first free index; -1 when all 26 are
 * taken.  *added tells whether the file must be written. */
int keywords_add(struct keywords *kw, const char *name, bool *added);
/* True when name may be a keyword: an IMAP atom (RFC 3501 flag-keyword)
 * without '\\', 1..255 bytes. */
bool keywords_name_valid(const char *name);

#endif
