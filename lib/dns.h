/*
 * dns.h - DNS look-ups for mail routing, with c-ares.
 *
 * The smtp agent asks two questions: the MX hosts of a domain (RFC 5321
 * section 5.1) and the addresses of a host.  Answers are cached per
 * process for their TTL, so the deliveries of one agent process share
 * them.  Resolvers come from /etc/resolv.conf, or from smtp_dns_resolver
 * ("127.0.0.1:5353, [::1]:53") so tests can use a server on loopback.
 *
 * The answer handling (dns_mx_from_answer, dns_addrs_from_answer) is pure:
 * raw DNS message bytes in, a result out, so it is unit tested and fuzzed
 * apart from the network.  The I/O runs c-ares's non-blocking sockets in a
 * poll loop of its own, bounded by c-ares's time-out and tries: the smtp
 * agent serves one request at a time, so waiting here blocks nobody else.
 *
 * Not here: DNSSEC/DANE (TLSA), negative caching.
 */
#ifndef TERN_DNS_H
#define TERN_DNS_H

#include <stddef.h>
#include <sys/socket.h>

#include "buf.h"

enum dns_status {
	DNS_OK,
	DNS_NOTFOUND, /* NXDOMAIN: the name does not exist (bounce) */
	DNS_NODATA,   /* the name exists, no record of this type */
	DNS_NULLMX,   /* RFC 7505: the domain accepts no mail (bounce) */
	DNS_RETRY,    /* SERVFAIL, time-out, refused: try again later */
	DNS_FAIL,     /* malformed answer or a local problem (defer) */
};

struct dns_mx {
	char host[256];
	int pref;
};

struct dns_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

/*
 * MX answer bytes -> hosts sorted by preference, equal preferences in a
 * random order (RFC 5321: spread the load).  A single MX with the root
 * as exchange is a null MX.  *ttl gets the smallest TTL.  DNS_NODATA when
 * the answer holds no MX; *mx (free it) is set only on DNS_OK.
 */
enum dns_status dns_mx_from_answer(
    const unsigned char *ans, int len, struct dns_mx **mx, size_t *n, unsigned *ttl);
/* A or AAAA (family AF_INET / AF_INET6) answer bytes -> addresses with
 * port.  CNAME chains in the answer are followed by c-ares's parser. */
enum dns_status dns_addrs_from_answer(const unsigned char *ans, int len, int family, int port,
    struct dns_addr **out, size_t *n, unsigned *ttl);

/* MX look-up; why gets a Postfix-style explanation on failure. */
enum dns_status dns_lookup_mx(const char *domain, struct dns_mx **mx, size_t *n, struct buf *why);
/*
 * Addresses of host for the families of inet_protocols, IPv6 first, with
 * port; smtp_host_lookup decides between DNS and getaddrinfo ("native").
 * DNS_NOTFOUND when no family has one.
 */
enum dns_status dns_lookup_host(
    const char *host, int port, struct dns_addr **out, size_t *n, struct buf *why);

/* Forgets the cache and the resolver channel (tests, reload). */
void dns_reset(void);

#endif
