/*
 * mtasts_cache.c - the MTA-STS policy cache in LMDB (mtasts_cache.h).
 *
 * Each read and write is one short transaction; LMDB serialises writers
 * across the smtp processes, and the last policy fetched wins.  The file
 * is opened once per process, on first use, at the path given then.
 */
#include "mtasts_cache.h"

#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "lmdb_open.h"
#include "log.h"
#include "util.h"

#define MTASTS_CACHE_MAGIC "tern-sts1\n"

static struct {
	MDB_env *env;
	MDB_dbi dbi;
	bool failed;
} cache;

void mtasts_cache_encode(
    const char *id, long long fetched, const char *text, size_t len, struct buf *out)
{
	buf_puts(out, MTASTS_CACHE_MAGIC);
	buf_printf(out, "%s\n%lld\n", id, fetched);
	buf_append(out, text, len);
}

/* One LF-terminated field of at most max - 1 bytes into out. */
static bool mtasts_cache_field(const char **p, const char *end, char *out, size_t max)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n;

	if (nl == NULL || (n = (size_t)(nl - *p)) == 0 || n >= max)
		return false;
	memcpy(out, *p, n);
	out[n] = 0;
	*p = nl + 1;
	return true;
}

bool mtasts_cache_decode(const char *data, size_t len, struct mtasts_cached *c)
{
	const char *p = data, *end = data + len;
	size_t magic = sizeof(MTASTS_CACHE_MAGIC) - 1;
	char when[24], *stop;
	struct buf why = BUF_INIT;
	bool ok;

	memset(c, 0, sizeof(*c));
	if (len < magic || memcmp(data, MTASTS_CACHE_MAGIC, magic) != 0)
		return false;
	p += magic;
	if (!mtasts_cache_field(&p, end, c->id, sizeof(c->id)) ||
	    !mtasts_cache_field(&p, end, when, sizeof(when)))
		return false;
	c->fetched = strtoll(when, &stop, 10);
	if (*stop || c->fetched < 0)
		return false;
	ok = mtasts_policy_parse(p, (size_t)(end - p), &c->policy, &why);
	buf_free(&why);
	return ok;
}

bool mtasts_cached_valid(const struct mtasts_cached *c, long long now)
{
	return c->fetched + c->policy.max_age > now;
}

static bool mtasts_cache_open(const char *path)
{
	int rc;

	if (cache.env)
		return true;
	if (cache.failed)
		return false;
	rc = lmdb_open_file(path, (size_t)16 << 20, &cache.env, &cache.dbi);
	if (rc != 0) {
		log_warn("MTA-STS policy cache off: cannot open %s: %s", path, mdb_strerror(rc));
		cache.env = NULL;
		cache.failed = true;
		return false;
	}
	return true;
}

bool mtasts_cache_get(const char *path, const char *domain, struct mtasts_cached *c)
{
	MDB_txn *txn;
	MDB_val k = {strlen(domain), (void *)domain}, v;
	bool found = false;

	memset(c, 0, sizeof(*c));
	if (!mtasts_cache_open(path) || mdb_txn_begin(cache.env, NULL, MDB_RDONLY, &txn) != 0)
		return false;
	if (mdb_get(txn, cache.dbi, &k, &v) == 0)
		found = mtasts_cache_decode(v.mv_data, v.mv_size, c);
	mdb_txn_abort(txn);
	return found;
}

void mtasts_cache_put(const char *path, const char *domain, const char *id, long long fetched,
    const char *text, size_t len)
{
	struct buf val = BUF_INIT;
	MDB_txn *txn;
	MDB_val k = {strlen(domain), (void *)domain}, v;
	int rc;

	if (!mtasts_cache_open(path))
		return;
	mtasts_cache_encode(id, fetched, text, len, &val);
	v.mv_size = val.len;
	v.mv_data = val.data;
	rc = mdb_txn_begin(cache.env, NULL, 0, &txn);
	if (rc == 0 && (rc = mdb_put(txn, cache.dbi, &k, &v, 0)) != 0)
		mdb_txn_abort(txn);
	else if (rc == 0)
		rc = mdb_txn_commit(txn);
	if (rc != 0)
		log_warn("cannot store the MTA-STS policy of %s in %s: %s", domain, path,
		    mdb_strerror(rc));
	buf_free(&val);
}

void mtasts_cache_close(void)
{
	if (cache.env)
		mdb_env_close(cache.env);
	memset(&cache, 0, sizeof(cache));
}
