/*
 * dns_resolver.h - the DNS layer's own internals, shared by dns.c,
 * dns_resolver.c, dns_cache.c and dns_event.c.  Programs include dns.h
 * only.
 */
#ifndef TERN_DNS_RESOLVER_H
#define TERN_DNS_RESOLVER_H

#include <ares.h>

#include "buf.h"
#include "dns.h"

/* The process's channel, set up on first use; NULL (why, if not NULL,
 * filled) when it cannot be. */
ares_channel dns_channel(struct buf *why);

/* c-ares's status of a finished query, as a dns_status. */
enum dns_status dns_status_of(int ares_status);

/*
 * The answer cache (dns_cache.c): the reply to name/type, kept when st is
 * DNS_OK (for the answer's TTL), DNS_NOTFOUND or DNS_NODATA (for the SOA's,
 * RFC 2308); nothing is kept for other statuses, TTL 0 or a denial
 * without SOA.  dns_cache_get: true with the status and the reply's bytes
 * (valid until the next put) when a fresh one is kept.  type may carry
 * DNS_CACHE_DNSSEC, for replies asked with the AD and DO bits.
 */
#define DNS_CACHE_DNSSEC 0x10000
bool dns_cache_get(
    const char *name, int type, enum dns_status *st, const unsigned char **ans, int *len);
void dns_cache_put(
    const char *name, int type, enum dns_status st, const unsigned char *ans, int len);
/* A denial's time to keep (RFC 2308 5): min(SOA TTL, SOA MINIMUM) of the
 * authority section, 0 without SOA. */
unsigned dns_denial_ttl(const unsigned char *ans, int len);
/* Entries kept (tests); the clock the cache uses (tests; NULL: mono_msec). */
size_t dns_cache_count(void);
void dns_cache_clock(long long (*now)(void));
/* Forgets every entry and dns_cache_size (read again at the next use). */
void dns_cache_reset(void);

/* c-ares's socket-state callback, installed on the channel: the event
 * loop's half (dns_event.c); does nothing until a loop is attached. */
void dns_event_sock_state(void *data, ares_socket_t fd, int readable, int writable);
/* After a query was started: (re)arms the loop's timer for c-ares's
 * time-outs, when a loop is attached. */
void dns_event_timer(void);
/* Forgets finished requests and polled answers, cancels the others (which
 * c-ares then frees when the channel goes) and the timers; the loop stays
 * attached until dns_event_attach(NULL).  For dns_reset. */
void dns_event_reset(void);

#endif
