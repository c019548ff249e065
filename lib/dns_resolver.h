/*
 * dns_resolver.h - the DNS layer's own internals, shared by dns.c,
 * dns_resolver.c and dns_event.c.  Programs include dns.h only.
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

/* The answer cache: positive answers for their TTL, at most a day. */
const unsigned char *dns_cache_get(const char *name, int type, int *len);
void dns_cache_put(const char *name, int type, const unsigned char *ans, int len);

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
