/*
 * file_replace.h - replacing a configuration file atomically.
 *
 * "tern conf -e" and "tern domain" rewrite main.cf and tables that
 * running daemons read at any moment.  file_replace() writes the new
 * contents to a temporary file in the same directory, gives it the old
 * file's mode and owner (or new_mode for a file that did not exist),
 * fsyncs it, renames it over the old name and fsyncs the directory: a
 * reader sees the old file or the new one, never a mix, and a crash
 * leaves one of the two.
 */
#ifndef TERN_FILE_REPLACE_H
#define TERN_FILE_REPLACE_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* Reads a whole file into out (appended); -1 with errno on failure. */
int file_read_all(const char *path, struct buf *out);

/* Returns 0, or -1 with err set (the old file is untouched then). */
int file_replace(const char *path, const void *data, size_t len, mode_t new_mode, struct buf *err);

#endif
