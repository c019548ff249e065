/*
 * cache.c - passwords verified in the last auth_cache_ttl seconds.
 *
 * A mail client opens several connections at once and reconnects often;
 * each would cost a slow hash.  A successful verification is remembered
 * as HMAC-SHA-256(k, user NUL service NUL password) under a key k drawn
 * at start, so the cache holds no password and nothing an attacker who
 * reads the process memory could test guesses against offline without
 * k (which is also there; the point is that no cleartext is).  The
 * service is part of the key because app passwords can be limited to
 * some services.  Only successes are cached.  The whole cache is emptied
 * when the users or app password file changes (passdb.c), so a changed
 * password or a revoked app password stops working at once; for system
 * users (PAM) a changed password is noticed at the latest after the TTL.
 */
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define CACHE_MAX 20000

struct centry {
	unsigned char mac[32];
	long long expires; /* mono ms */
};

static struct {
	unsigned char key[32];
	void *root;
	size_t n;
	long ttl_ms;
} cache;

static int centry_cmp(const void *a, const void *b)
{
	return memcmp(((const struct centry *)a)->mac, ((const struct centry *)b)->mac, 32);
}

static void cache_mac(
    const char *user, const char *service, const char *password, unsigned char mac[32])
{
	struct buf b = BUF_INIT;
	unsigned len = 32;

	buf_puts(&b, user);
	str_lower(b.data);
	buf_putc(&b, 0);
	buf_puts(&b, service);
	buf_putc(&b, 0);
	buf_puts(&b, password);
	if (HMAC(EVP_sha256(), cache.key, sizeof(cache.key), (unsigned char *)b.data, b.len, mac,
		&len) == NULL)
		log_fatal("HMAC failed");
	explicit_bzero(b.data, b.len);
	buf_free(&b);
}

void cache_init(void)
{
	cache.ttl_ms = config_time("auth_cache_ttl") * 1000;
	if (RAND_bytes(cache.key, sizeof(cache.key)) != 1)
		log_fatal("cannot draw the cache key");
}

bool cache_check(const char *user, const char *service, const char *password)
{
	struct centry probe, **found;

	if (cache.ttl_ms <= 0 || cache.n == 0)
		return false;
	cache_mac(user, service, password, probe.mac);
	found = tfind(&probe, &cache.root, centry_cmp);
	if (found == NULL)
		return false;
	if ((*found)->expires > mono_msec())
		return true;
	/* Expired: forget it. */
	struct centry *e = *found;

	tdelete(e, &cache.root, centry_cmp);
	free(e);
	cache.n--;
	return false;
}

void cache_add(const char *user, const char *service, const char *password)
{
	struct centry *e, **slot;

	if (cache.ttl_ms <= 0)
		return;
	if (cache.n >= CACHE_MAX)
		cache_flush();
	e = xcalloc(1, sizeof(*e));
	cache_mac(user, service, password, e->mac);
	e->expires = mono_msec() + cache.ttl_ms;
	slot = tsearch(e, &cache.root, centry_cmp);
	if (slot == NULL)
		log_fatal("out of memory");
	if (*slot != e) {
		(*slot)->expires = e->expires;
		free(e);
	} else {
		cache.n++;
	}
}

void cache_flush(void)
{
	tdestroy(cache.root, free);
	cache.root = NULL;
	cache.n = 0;
}
