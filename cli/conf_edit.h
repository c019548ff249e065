/*
 * conf_edit.h - main.cf edited in place, as postconf -e and -X do it.
 *
 * The text is changed line by line: a parameter's logical line (its
 * "name = value" line and the indented lines that continue it, with any
 * comment or blank lines among them) is replaced by one "name = value"
 * line where it stood, or removed; a parameter that was not set is
 * appended at the end.  Every other line, comments and blank lines
 * included, stays as it was.  When a name is set more than once, the
 * first setting is replaced and the later ones removed, so the new value
 * is the one in effect.
 *
 * conf_edit_text() is a pure function over a buffer (unit tested);
 * conf_edit_file() reads, edits and replaces the file atomically
 * (file_replace.h).
 */
#ifndef TERN_CONF_EDIT_H
#define TERN_CONF_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct conf_change {
	const char *name;
	const char *value; /* NULL: remove the parameter */
};

/* True when s is a parameter name: [A-Za-z0-9_]+. */
bool conf_name_ok(const char *s);

/* Parses "name=value" or "name = value" into a change (pointing into a
 * copy kept in *store, to free()); false when malformed or multi-line. */
bool conf_parse_assignment(const char *arg, struct conf_change *out, char **store);

void conf_edit_text(
    const char *text, size_t len, const struct conf_change *ch, size_t n, struct buf *out);

/* Returns 0, or -1 with err set (the file is unchanged then). */
int conf_edit_file(const char *path, const struct conf_change *ch, size_t n, struct buf *err);

#endif
