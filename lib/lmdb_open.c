/*
 * lmdb_open.c - opens an instance's shared LMDB file (lmdb_open.h).
 */
#include "lmdb_open.h"

#include <stddef.h>

int lmdb_open_file(const char *path, size_t mapsize, MDB_env **env, MDB_dbi *dbi)
{
	MDB_env *e = NULL;
	MDB_txn *txn = NULL;
	int rc = mdb_env_create(&e);

	if (rc == 0)
		rc = mdb_env_set_mapsize(e, mapsize);
	if (rc == 0)
		rc = mdb_env_open(e, path, MDB_NOSUBDIR | MDB_NOSYNC, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(e, NULL, 0, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, NULL, 0, dbi);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else if (txn)
		mdb_txn_abort(txn);
	if (rc != 0) {
		if (e)
			mdb_env_close(e);
		return rc;
	}
	*env = e;
	return 0;
}
