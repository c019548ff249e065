/*
 * lmdb_open.h - one LMDB file shared by the processes of an instance.
 *
 * smtpd's greylisting and screening cache each keep their data in one
 * LMDB file (MDB_NOSUBDIR) that every smtpd process opens; LMDB serialises
 * writers across processes and the file outlives restarts.  This opens
 * the environment and its unnamed database the same way for both.
 */
#ifndef TERN_LMDB_OPEN_H
#define TERN_LMDB_OPEN_H

#include <lmdb.h>

/* Opens (creating it, mode 0600) the file at path with room for mapsize
 * bytes: 0 with *env and *dbi set, else LMDB's error code and nothing
 * left open.  Writes are not synced to disk (MDB_NOSYNC): a crash may
 * lose the latest entries, never corrupt the file. */
int lmdb_open_file(const char *path, size_t mapsize, MDB_env **env, MDB_dbi *dbi);

#endif
