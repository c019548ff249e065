/*
 * sieve/storage.h - a user's Sieve scripts on disk, where Pigeonhole's
 * file storage keeps them, so a user moving between Dovecot and tern
 * keeps their filters: each script is sieve_dir/NAME.sieve (default
 * ~/sieve/), and the active one is the symbolic link sieve_script
 * (default ~/.dovecot.sieve) pointing at it ("sieve/NAME.sieve",
 * relative when sieve_dir is under the link's folder, as Pigeonhole
 * writes it).  local(8) runs whatever sieve_script names; managesieve(8)
 * edits the scripts through these functions.
 *
 * Writes are atomic (a temporary file in sieve_dir, then rename), so
 * local never reads half a script.  A regular file at sieve_script (a
 * script written by hand) is moved to sieve_dir/dovecot.orig.sieve when
 * another script is activated, as Pigeonhole does.
 *
 * Limits (Pigeonhole's parameters): sieve_max_script_size,
 * sieve_quota_max_scripts, sieve_quota_max_storage (0: none).
 *
 * Errors: -1 with errno ENOENT (no such script), EEXIST (the new name is
 * taken), EBUSY (deleting the active script), EFBIG / EDQUOT (a limit;
 * sieve_storage_space says which), or a system error.
 */
#ifndef TERN_SIEVE_STORAGE_H
#define TERN_SIEVE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* "~/x" -> home + "/x"; NULL for an empty template. */
char *sieve_path(const char *tmpl, const char *home);

struct sieve_storage {
	char *dir;	       /* sieve_dir */
	char *link;	       /* sieve_script ("" when none) */
	long long max_size;    /* bytes of one script */
	long long max_scripts; /* 0: no limit */
	long long max_storage; /* bytes of all scripts, 0: no limit */
};

/* From the parameters, for the user whose home is home. */
void sieve_storage_init(struct sieve_storage *st, const char *home);
void sieve_storage_free(struct sieve_storage *st);

/* A script name ManageSieve may use (RFC 5804 1.6 and a file name):
 * 1..255 bytes of UTF-8, no control characters, no "/", not starting
 * with ".". */
bool sieve_script_name_ok(const char *name, size_t len);

/* The scripts' names, sorted (strv_free); *active gets the active one's
 * name or NULL (free). */
char **sieve_storage_list(const struct sieve_storage *st, char **active);
/* The active script's name, or NULL. */
char *sieve_storage_active(const struct sieve_storage *st);

int sieve_storage_get(const struct sieve_storage *st, const char *name, struct buf *text);
int sieve_storage_put(
    const struct sieve_storage *st, const char *name, const char *text, size_t len);
/* name "" deactivates. */
int sieve_storage_activate(const struct sieve_storage *st, const char *name);
int sieve_storage_delete(const struct sieve_storage *st, const char *name);
int sieve_storage_rename(const struct sieve_storage *st, const char *from, const char *to);

/*
 * Whether a script name of size bytes may be stored (HAVESPACE and
 * PUTSCRIPT): 0, or -1 with *code "QUOTA/MAXSIZE", "QUOTA/MAXSCRIPTS"
 * or "QUOTA/MAXSTORAGE" and *why a sentence for the client.
 */
int sieve_storage_space(const struct sieve_storage *st, const char *name, unsigned long long size,
    const char **code, const char **why);

#endif
