/*
 * account.h - what "tern user" and "tern passwd" share: the account
 * files (account_file.c) and reading a password from the operator.
 */
#ifndef TERN_CLI_ACCOUNT_H
#define TERN_CLI_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define ACCOUNT_PASSWORD_MAX 1024

/* An exclusive lock on "path.lock" (blocks); fd, or -1 after a message. */
int account_file_lock(const char *path);
void account_file_unlock(int fd);
/* The whole file; a missing file reads as empty.  0, or -1 with errno. */
int account_file_read(const char *path, struct buf *out);
/* Replaces the file atomically (temporary file, fsync, rename), keeping
 * its owner, group and mode; 0, or -1 after a message. */
int account_file_write(const char *path, const struct buf *text);

/* The file of the first file-based table of a *_maps parameter, or NULL. */
char *account_table_file(const char *param);
/* Sets (value != NULL) or removes key's "key value" line, under the lock. */
int account_table_edit(const char *path, const char *key, const char *value);
/* A number from a uid/gid table (virtual_uid_maps), or -1. */
long account_table_id(const char *param, const char *key);

/* base/rel with cur/ new/ tmp/, every new folder owned by uid:gid, 0700. */
int account_maildir_create(const char *base, const char *rel, uid_t uid, gid_t gid);
struct account_usage {
	long long bytes;
	long long messages;
};
/* What a Maildir (with its Maildir++ folders) holds now. */
void account_maildir_usage(const char *maildir, struct account_usage *u);
/* The names in a folder ("." and ".." included); 0, or -1 (errno). */
int account_list_dir(const char *dir, char ***names, size_t *n);
/* rm -r, without following symbolic links. */
int account_remove_tree(const char *path);

/* A password from the terminal (asked twice) or one line of standard
 * input; false (after a message) when none was given. */
bool account_read_password(bool from_stdin, char *pw, size_t size);

#endif
