/*
 * dns.h - the DNS layer: c-ares look-ups for every program, blocking or in
 * an event loop.
 *
 * One resolver per process (dns_resolver.c): name servers from dns_servers
 * ("127.0.0.1:5353, [::1]:53", so tests can use a server on loopback), else
 * /etc/resolv.conf; the old names smtp_dns_resolver and smtpd_dns_servers
 * are read too, for one release, with a warning.  Answers are cached per
 * process for their TTL (at most a day), denials for their SOA's (RFC
 * 2308), dns_cache_size of them (dns_cache.c), shared by every caller.
 * Status mapping, as Postfix does it: NXDOMAIN is permanent (the
 * name does not exist), SERVFAIL, REFUSED and time-outs are temporary.
 *
 * Three ways to ask:
 * - blocking (dns_query, dns_lookup_mx, dns_lookup_host): c-ares's sockets
 *   in a poll loop of their own, bounded by its time-out and tries, for
 *   programs that serve one request at a time (the smtp agent);
 * - asynchronous (dns_event_attach, dns_request_start): the sockets and
 *   time-outs in the caller's event loop; the answer comes to a callback,
 *   always from a zero-delay timer, never from inside c-ares or from the
 *   starting call itself;
 * - polling (dns_poll, dns_poll_domain), for code that is simply run again
 *   when answers come in (smtpd's restriction lists): DNS_PENDING until
 *   the answer is in, then the answer, kept a while (dns_event.c) so the
 *   re-run finds it; the wake function runs after answers arrive.
 *
 * The answer handling (dns_mx_from_answer, dns_addrs_from_answer) is pure:
 * raw DNS message bytes in, a result out, so it is unit tested and fuzzed
 * apart from the network.
 *
 * DNSSEC: only the resolver's word (the AD bit, dns_query_dnssec); TLSA
 * records are dane.h's.
 */
#ifndef TERN_DNS_H
#define TERN_DNS_H

#include <stdbool.h>
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
	DNS_PENDING,  /* dns_poll*: asked, the answer comes later */
};

struct dns_mx {
	char host[256];
	int pref;
};

struct dns_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

/* The smallest TTL in an answer's answer section: 0xffffffff when it has
 * none, 0 when the framing is broken. */
unsigned dns_answer_ttl(const unsigned char *ans, int len);

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

/*
 * RFC 7672 2.2.3: the name qname's answer ends at after following the
 * CNAMEs in its answer section (at most DNS_CNAME_MAX of them), into
 * out.  False when there is no CNAME for qname (or the chain leads back
 * to it), or the message is broken.
 */
#define DNS_CNAME_MAX 16
bool dns_cname_expand(const unsigned char *ans, int len, const char *qname, char *out, size_t size);

/* TXT answer bytes -> one string per record, its character-strings joined
 * (RFC 7208 3.3, RFC 6376 3.6.2.2); a NUL inside becomes 0x01, so no
 * record is cut short.  DNS_NODATA when there is none; *txt (strv_free
 * it) set on DNS_OK. */
enum dns_status dns_txt_from_answer(const unsigned char *ans, int len, char ***txt, size_t *n);

/* PTR answer bytes -> the names, in answer order, without repeats (as
 * ares_parse_ptr_reply lists them).  DNS_NODATA when there is none;
 * *names (strv_free it) set on DNS_OK. */
enum dns_status dns_ptr_from_answer(const unsigned char *ans, int len, char ***names, size_t *n);

/*
 * Sets the resolver up, once per process, before the first look-up (the
 * first look-up does it otherwise, with try_ms 5000): try_ms is the wait
 * for one answer, and each query is tried twice.  Warns about deprecated
 * parameter names.  False (why filled) when the name servers are bad:
 * every look-up then fails with DNS_FAIL and that reason.
 */
bool dns_init(long try_ms, struct buf *why);

/* Raw blocking look-up: the answer bytes for name/type (*ans: free it),
 * from the cache or the network; why explains a failure. */
enum dns_status dns_query(
    const char *name, int type, unsigned char **ans, int *len, struct buf *why);

/*
 * The same with the AD and DO bits set, for DNSSEC-dependent decisions
 * (DANE): *secure is the answer's AD bit, whatever the status.  Answers
 * (not denials) are cached for their TTL with their AD bit, apart from
 * dns_query's, so a TLSA record is asked for once per TTL and process.
 * The status comes from the answer's rcode: DNS_OK (NOERROR with answers;
 * *ans set), DNS_NODATA, DNS_NOTFOUND (NXDOMAIN), else DNS_RETRY.
 */
enum dns_status dns_query_dnssec(
    const char *name, int type, unsigned char **ans, int *len, bool *secure, struct buf *why);

/* MX look-up; why gets a Postfix-style explanation on failure. */
enum dns_status dns_lookup_mx(const char *domain, struct dns_mx **mx, size_t *n, struct buf *why);
/*
 * Addresses of host for the families of inet_protocols, IPv6 first, with
 * port; smtp_host_lookup decides between DNS and getaddrinfo ("native").
 * DNS_NOTFOUND when no family has one.
 */
enum dns_status dns_lookup_host(
    const char *host, int port, struct dns_addr **out, size_t *n, struct buf *why);

/* ------------------------------------------------------------ event loops */

struct event_loop;
struct dns_request;

/* Runs the resolver's sockets and time-outs in loop (once per process,
 * after dns_init and before dns_request_start or dns_poll*). */
void dns_event_attach(struct event_loop *loop);

/* st is DNS_OK (ans holds the answer, valid during the call), DNS_NOTFOUND,
 * DNS_NODATA, DNS_RETRY or DNS_FAIL. */
typedef void dns_answer_fn(void *ctx, enum dns_status st, const unsigned char *ans, int len);

/* Asks for name/type; fn runs exactly once, later, unless cancelled first. */
struct dns_request *dns_request_start(const char *name, int type, dns_answer_fn *fn, void *ctx);
/* fn will not run; the handle is gone. */
void dns_request_cancel(struct dns_request *r);

/* The function to run (from the loop) when answers for the poll-style
 * look-ups came in. */
void dns_poll_wake(void (*fn)(void *ctx), void *ctx);
/*
 * name/type, poll style: DNS_PENDING (asked now or before), else the result,
 * with the answer in ans and len (valid until the next dns_poll call) on
 * DNS_OK.  Answers are kept for their TTL, at least 30 s and at most 300 s;
 * "does not exist" 300 s, temporary failures 30 s.
 */
enum dns_status dns_poll(const char *name, int type, const unsigned char **ans, int *len);
/*
 * Does a mail domain exist (reject_unknown_*_domain)?  MX, then A, then
 * AAAA (RFC 5321 5.1: without MX the address records are the implicit MX):
 * DNS_OK when one holds a usable record, DNS_NULLMX for a null MX (RFC
 * 7505), DNS_NOTFOUND when nothing does, DNS_RETRY on a temporary failure,
 * or DNS_PENDING.
 */
enum dns_status dns_poll_domain(const char *domain);

/* Forgets caches, requests and the resolver channel (tests, exit). */
void dns_reset(void);

#endif
