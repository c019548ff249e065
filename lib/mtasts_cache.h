/*
 * mtasts_cache.h - MTA-STS policies kept across restarts (RFC 8461
 * section 5: a policy holds for max_age seconds after it was fetched,
 * whatever happens to the DNS record or the web server meanwhile).
 *
 *   mtasts_cache_get / _put   one LMDB file (lmdb_open.h) shared by the
 *                             smtp processes; key: the policy domain
 *   mtasts_cache_encode /     the stored value (pure, unit tested):
 *   _decode                   "tern-sts1" LF id LF fetched LF text
 *   mtasts_cached_valid       fetched + max_age still in the future
 *
 * The policy is stored as the text that was fetched and parsed again when
 * read, so the cache holds nothing the parser did not accept.  A cache
 * that cannot be opened is an empty cache (with a warning, once): MTA-STS
 * then works from live look-ups only.
 */
#ifndef TERN_MTASTS_CACHE_H
#define TERN_MTASTS_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "mtasts.h"

struct mtasts_cached {
	char id[MTASTS_ID_MAX + 1]; /* the TXT record's id when it was fetched */
	long long fetched;	    /* seconds since the epoch */
	struct mtasts_policy policy;
};

void mtasts_cache_encode(
    const char *id, long long fetched, const char *text, size_t len, struct buf *out);
/* True with c filled (mtasts_policy_free(&c->policy) it); false when the
 * value is not one encode wrote or its policy does not parse. */
bool mtasts_cache_decode(const char *data, size_t len, struct mtasts_cached *c);
bool mtasts_cached_valid(const struct mtasts_cached *c, long long now);

/* The policy of domain (lower case) from the file at path; false when
 * there is none (expired ones are returned: check them). */
bool mtasts_cache_get(const char *path, const char *domain, struct mtasts_cached *c);
/* Stores a policy text that parsed; a failure is logged, not returned. */
void mtasts_cache_put(const char *path, const char *domain, const char *id, long long fetched,
    const char *text, size_t len);
/* Closes the file (tests, exit). */
void mtasts_cache_close(void);

#endif
