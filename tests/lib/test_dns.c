/*
 * test_dns.c - unit tests for lib/dns.c's answer handling (MX order,
 * random order among equal preferences, null MX, NODATA, TTLs, CNAME
 * chains, malformed answers), the DNS layer against a tiny DNS server on
 * loopback run by a child process (blocking queries and the cache,
 * the answer cache itself on a fake clock: hits, expiry, TTL 0, denials
 * with and without SOA, the bound and its least recently used victim,
 * requests in an event loop, cancelling, polling and domain existence,
 * time-outs, the dns_servers parameter and its deprecated names), and
 * lib/resolve.c's transport_maps and relayhost, from hand-built DNS
 * messages and main.cf texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <cmocka.h>
#include <signal.h>

#include "buf.h"
#include "config.h"
#include "dns.h"
#include "dns_resolver.h"
#include "event.h"
#include "resolve.h"
#include "util.h"

/* ------------------------------------------------------------ a tiny DNS writer */

static void put16(struct buf *b, unsigned v)
{
	buf_putc(b, (int)(v >> 8) & 0xff);
	buf_putc(b, (int)v & 0xff);
}

static void put32(struct buf *b, unsigned v)
{
	put16(b, v >> 16);
	put16(b, v & 0xffff);
}

static void put_name(struct buf *b, const char *name)
{
	while (*name) {
		size_t n = strcspn(name, ".");

		buf_putc(b, (int)n);
		buf_append(b, name, n);
		name += n;
		if (*name == '.')
			name++;
	}
	buf_putc(b, 0);
}

/* Header + question for name/type with ancount answers to follow. */
static void msg_start(struct buf *b, const char *name, unsigned type, unsigned ancount)
{
	buf_reset(b);
	put16(b, 0x1234);
	put16(b, 0x8180);
	put16(b, 1);
	put16(b, ancount);
	put16(b, 0);
	put16(b, 0);
	put_name(b, name);
	put16(b, type);
	put16(b, 1);
}

static void rr_mx(struct buf *b, const char *owner, unsigned ttl, unsigned pref, const char *host)
{
	struct buf rd = BUF_INIT;

	put16(&rd, pref);
	put_name(&rd, host);
	put_name(b, owner);
	put16(b, 15);
	put16(b, 1);
	put32(b, ttl);
	put16(b, (unsigned)rd.len);
	buf_append(b, rd.data, rd.len);
	buf_free(&rd);
}

static void rr_a(struct buf *b, const char *owner, unsigned ttl, const char *ip)
{
	unsigned char a[4];

	inet_pton(AF_INET, ip, a);
	put_name(b, owner);
	put16(b, 1);
	put16(b, 1);
	put32(b, ttl);
	put16(b, 4);
	buf_append(b, a, 4);
}

static void rr_cname(struct buf *b, const char *owner, unsigned ttl, const char *target)
{
	struct buf rd = BUF_INIT;

	put_name(&rd, target);
	put_name(b, owner);
	put16(b, 5);
	put16(b, 1);
	put32(b, ttl);
	put16(b, (unsigned)rd.len);
	buf_append(b, rd.data, rd.len);
	buf_free(&rd);
}

static void rr_ptr(struct buf *b, const char *owner, const char *target)
{
	struct buf rd = BUF_INIT;

	put_name(&rd, target);
	put_name(b, owner);
	put16(b, 12);
	put16(b, 1);
	put32(b, 60);
	put16(b, (unsigned)rd.len);
	buf_append(b, rd.data, rd.len);
	buf_free(&rd);
}

/* An SOA record for the authority section (RFC 2308: a denial's TTL is
 * the smaller of its TTL and MINIMUM); counts it in the header. */
static void rr_soa(struct buf *b, const char *owner, unsigned ttl, unsigned minimum)
{
	struct buf rd = BUF_INIT;
	unsigned ns;

	put_name(&rd, "ns.test");
	put_name(&rd, "hostmaster.test");
	put32(&rd, 1);
	put32(&rd, 3600);
	put32(&rd, 600);
	put32(&rd, 86400);
	put32(&rd, minimum);
	put_name(b, owner);
	put16(b, 6);
	put16(b, 1);
	put32(b, ttl);
	put16(b, (unsigned)rd.len);
	buf_append(b, rd.data, rd.len);
	buf_free(&rd);
	ns = ((unsigned char)b->data[8] << 8 | (unsigned char)b->data[9]) + 1;
	b->data[8] = (char)(ns >> 8);
	b->data[9] = (char)ns;
}

/* ------------------------------------------------------------ tests */

static void test_mx_order(void **state)
{
	struct buf b = BUF_INIT;
	struct dns_mx *mx;
	size_t n;
	unsigned ttl;
	int seen_b_first = 0, seen_c_first = 0;

	(void)state;
	msg_start(&b, "example.org", 15, 4);
	rr_mx(&b, "example.org", 300, 20, "c.example.org");
	rr_mx(&b, "example.org", 100, 10, "a.example.org");
	rr_mx(&b, "example.org", 300, 20, "b.example.org");
	rr_mx(&b, "example.org", 300, 30, "d.example.org");
	for (int i = 0; i < 64; i++) {
		assert_int_equal(
		    dns_mx_from_answer((unsigned char *)b.data, (int)b.len, &mx, &n, &ttl), DNS_OK);
		assert_int_equal(n, 4);
		assert_int_equal(ttl, 100);
		assert_string_equal(mx[0].host, "a.example.org");
		assert_int_equal(mx[1].pref, 20);
		assert_int_equal(mx[2].pref, 20);
		assert_string_equal(mx[3].host, "d.example.org");
		seen_b_first += strcmp(mx[1].host, "b.example.org") == 0;
		seen_c_first += strcmp(mx[1].host, "c.example.org") == 0;
		free(mx);
	}
	/* Equal preferences come in both orders (chance of failure 2^-63). */
	assert_true(seen_b_first > 0 && seen_c_first > 0);
	assert_int_equal(seen_b_first + seen_c_first, 64);
	buf_free(&b);
}

static void test_null_mx_and_nodata(void **state)
{
	struct buf b = BUF_INIT;
	struct dns_mx *mx;
	size_t n;
	unsigned ttl;

	(void)state;
	msg_start(&b, "nomail.example", 15, 1);
	rr_mx(&b, "nomail.example", 300, 0, "");
	assert_int_equal(
	    dns_mx_from_answer((unsigned char *)b.data, (int)b.len, &mx, &n, &ttl), DNS_NULLMX);
	msg_start(&b, "plain.example", 15, 0);
	assert_int_equal(
	    dns_mx_from_answer((unsigned char *)b.data, (int)b.len, &mx, &n, &ttl), DNS_NODATA);
	/* Truncated: malformed, not a crash. */
	msg_start(&b, "x.example", 15, 1);
	rr_mx(&b, "x.example", 300, 10, "mx.x.example");
	assert_int_equal(
	    dns_mx_from_answer((unsigned char *)b.data, (int)b.len - 5, &mx, &n, &ttl), DNS_FAIL);
	assert_int_equal(dns_mx_from_answer((unsigned char *)b.data, 5, &mx, &n, &ttl), DNS_FAIL);
	buf_free(&b);
}

/* A PTR answer's names in order, repeats once; none is NODATA. */
static void test_ptr_names(void **state)
{
	const char *owner = "1.2.0.192.in-addr.arpa";
	struct buf b = BUF_INIT;
	char **names;
	size_t n;

	(void)state;
	msg_start(&b, owner, 12, 3);
	rr_ptr(&b, owner, "mail.example");
	rr_ptr(&b, owner, "www.example");
	rr_ptr(&b, owner, "mail.example");
	assert_int_equal(
	    dns_ptr_from_answer((unsigned char *)b.data, (int)b.len, &names, &n), DNS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "mail.example");
	assert_string_equal(names[1], "www.example");
	assert_null(names[2]);
	strv_free(names);
	msg_start(&b, owner, 12, 0);
	assert_int_equal(
	    dns_ptr_from_answer((unsigned char *)b.data, (int)b.len, &names, &n), DNS_NODATA);
	assert_null(names);
	buf_free(&b);
}

static void test_addresses_through_cname(void **state)
{
	struct buf b = BUF_INIT;
	struct dns_addr *a;
	size_t n;
	unsigned ttl;
	char ip[64];

	(void)state;
	msg_start(&b, "www.example", 1, 3);
	rr_cname(&b, "www.example", 50, "host.example");
	rr_a(&b, "host.example", 600, "192.0.2.1");
	rr_a(&b, "host.example", 700, "192.0.2.2");
	assert_int_equal(
	    dns_addrs_from_answer((unsigned char *)b.data, (int)b.len, AF_INET, 25, &a, &n, &ttl),
	    DNS_OK);
	assert_int_equal(n, 2);
	/* The chain is only as fresh as its shortest link, the CNAME. */
	assert_int_equal(ttl, 50);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&a[1].sa)->sin_addr, ip, sizeof(ip));
	assert_string_equal(ip, "192.0.2.2");
	assert_int_equal(ntohs(((struct sockaddr_in *)&a[0].sa)->sin_port), 25);
	free(a);
	msg_start(&b, "www.example", 1, 0);
	assert_int_equal(
	    dns_addrs_from_answer((unsigned char *)b.data, (int)b.len, AF_INET, 25, &a, &n, &ttl),
	    DNS_NODATA);
	buf_free(&b);
}

/* RFC 7672 2.2.3: the name a CNAME chain ends at, in any order. */
static void test_cname_expand(void **state)
{
	struct buf b = BUF_INIT;
	char out[256];

	(void)state;
	msg_start(&b, "mx.example", 1, 3);
	rr_a(&b, "real.example", 60, "192.0.2.1");
	rr_cname(&b, "middle.example", 60, "real.example");
	rr_cname(&b, "MX.example", 60, "middle.example");
	assert_true(dns_cname_expand((unsigned char *)b.data, (int)b.len, "mx.example", out, 256));
	assert_string_equal(out, "real.example");
	/* Too small for the name: no answer rather than a cut one. */
	assert_false(dns_cname_expand((unsigned char *)b.data, (int)b.len, "mx.example", out, 5));
	/* No CNAME for the name asked. */
	assert_false(
	    dns_cname_expand((unsigned char *)b.data, (int)b.len, "real.example", out, 256));
	/* A loop leads back to the name: nothing to expand. */
	msg_start(&b, "a.example", 1, 2);
	rr_cname(&b, "a.example", 60, "b.example");
	rr_cname(&b, "b.example", 60, "a.example");
	assert_false(dns_cname_expand((unsigned char *)b.data, (int)b.len, "a.example", out, 256));
	/* Broken framing. */
	assert_false(dns_cname_expand((unsigned char *)b.data, 20, "a.example", out, 256));
	buf_free(&b);
}

/* ------------------------------------------------------------ the cache */

static long long fake_ms;

static long long fake_now(void)
{
	return fake_ms;
}

/* A fresh cache of size entries on the fake clock. */
static void cache_fresh(const char *size)
{
	char *set = xasprintf("dns_cache_size=%s", size);

	dns_reset();
	config_reset();
	assert_int_equal(config_override(set), 0);
	dns_cache_clock(fake_now);
	fake_ms = 1000000;
	free(set);
}

static void cache_done(void)
{
	dns_cache_clock(NULL);
	dns_reset();
	config_reset();
}

static void put_a(const char *name, unsigned ttl)
{
	struct buf b = BUF_INIT;

	msg_start(&b, name, 1, 1);
	rr_a(&b, name, ttl, "192.0.2.7");
	dns_cache_put(name, 1, DNS_OK, (unsigned char *)b.data, (int)b.len);
	buf_free(&b);
}

static bool cached(const char *name, int type, enum dns_status *st)
{
	const unsigned char *ans;
	int len;

	return dns_cache_get(name, type, st, &ans, &len);
}

/* Hits for the TTL (any case of the name, not another type), expiry, TTL
 * 0 and temporary failures never kept, a newer reply replacing one. */
static void test_cache_answers(void **state)
{
	struct buf b = BUF_INIT;
	const unsigned char *ans;
	enum dns_status st;
	int len;

	(void)state;
	cache_fresh("1000");
	msg_start(&b, "a.test", 1, 2);
	rr_a(&b, "a.test", 60, "192.0.2.1");
	rr_a(&b, "a.test", 30, "192.0.2.2");
	dns_cache_put("a.test", 1, DNS_OK, (unsigned char *)b.data, (int)b.len);
	assert_true(dns_cache_get("A.Test", 1, &st, &ans, &len));
	assert_int_equal(st, DNS_OK);
	assert_int_equal(len, (int)b.len);
	assert_memory_equal(ans, b.data, b.len);
	assert_false(cached("a.test", 28, &st));
	fake_ms += 29999; /* the smallest TTL, 30 s, counts */
	assert_true(cached("a.test", 1, &st));
	fake_ms += 1;
	assert_false(cached("a.test", 1, &st));
	assert_int_equal(dns_cache_count(), 0);
	put_a("zero.test", 0);
	assert_false(cached("zero.test", 1, &st));
	/* SERVFAIL and time-outs are never kept */
	msg_start(&b, "fail.test", 1, 0);
	dns_cache_put("fail.test", 1, DNS_RETRY, (unsigned char *)b.data, (int)b.len);
	assert_false(cached("fail.test", 1, &st));
	/* a newer reply replaces the one kept, even one not kept (TTL 0) */
	put_a("b.test", 60);
	assert_true(cached("b.test", 1, &st));
	put_a("b.test", 0);
	assert_false(cached("b.test", 1, &st));
	assert_int_equal(dns_cache_count(), 0);
	buf_free(&b);
	cache_done();
}

/* Denials with an SOA for min(TTL, MINIMUM), capped at 15 minutes;
 * without SOA not at all (RFC 2308 5). */
static void test_cache_denials(void **state)
{
	struct buf b = BUF_INIT;
	enum dns_status st;

	(void)state;
	cache_fresh("1000");
	msg_start(&b, "gone.test", 16, 0);
	rr_soa(&b, "test", 300, 120);
	assert_int_equal(dns_denial_ttl((unsigned char *)b.data, (int)b.len), 120);
	dns_cache_put("gone.test", 16, DNS_NOTFOUND, (unsigned char *)b.data, (int)b.len);
	msg_start(&b, "empty.test", 16, 0);
	rr_soa(&b, "test", 60, 3600);
	dns_cache_put("empty.test", 16, DNS_NODATA, (unsigned char *)b.data, (int)b.len);
	msg_start(&b, "bare.test", 16, 0);
	assert_int_equal(dns_denial_ttl((unsigned char *)b.data, (int)b.len), 0);
	dns_cache_put("bare.test", 16, DNS_NOTFOUND, (unsigned char *)b.data, (int)b.len);
	msg_start(&b, "long.test", 16, 0);
	rr_soa(&b, "test", 86400, 86400);
	dns_cache_put("long.test", 16, DNS_NOTFOUND, (unsigned char *)b.data, (int)b.len);
	assert_true(cached("gone.test", 16, &st));
	assert_int_equal(st, DNS_NOTFOUND);
	assert_true(cached("empty.test", 16, &st));
	assert_int_equal(st, DNS_NODATA);
	assert_false(cached("bare.test", 16, &st));
	fake_ms += 60000;
	assert_false(cached("empty.test", 16, &st)); /* its SOA's TTL */
	assert_true(cached("gone.test", 16, &st));
	fake_ms += 60000;
	assert_false(cached("gone.test", 16, &st)); /* MINIMUM */
	assert_true(cached("long.test", 16, &st));
	fake_ms += 900000 - 120000;
	assert_false(cached("long.test", 16, &st)); /* the cap */
	/* broken framing: nothing */
	assert_int_equal(dns_denial_ttl((unsigned char *)b.data, 20), 0);
	buf_free(&b);
	cache_done();
}

/* dns_cache_size entries at most, the least recently used going first;
 * 0 keeps nothing. */
static void test_cache_bound(void **state)
{
	enum dns_status st;

	(void)state;
	cache_fresh("2");
	put_a("one.test", 60);
	put_a("two.test", 60);
	assert_true(cached("one.test", 1, &st)); /* now the latest used */
	put_a("three.test", 60);
	assert_int_equal(dns_cache_count(), 2);
	assert_false(cached("two.test", 1, &st));
	assert_true(cached("one.test", 1, &st));
	assert_true(cached("three.test", 1, &st));
	cache_fresh("0");
	put_a("one.test", 60);
	assert_false(cached("one.test", 1, &st));
	assert_int_equal(dns_cache_count(), 0);
	/* many names through a small table, then the reset frees them */
	cache_fresh("50");
	for (int i = 0; i < 500; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n%d.test", i);
		put_a(name, 60);
	}
	assert_int_equal(dns_cache_count(), 50);
	assert_true(cached("n499.test", 1, &st));
	assert_false(cached("n449.test", 1, &st));
	cache_done();
}

/* ------------------------------------------------------------ a tiny DNS server */

/*
 * Answers as a child process on 127.0.0.1 (UDP):
 *   mx.test        MX 10 mail.mx.test (TTL 60); A: NODATA
 *   a.test         A 192.0.2.1; MX: NODATA
 *   six.test       AAAA only
 *   null.test      MX "." (RFC 7505)
 *   count.test     A 192.0.2.N, N counting the queries (TTL 60)
 *   zero.test      A with TTL 0 (not cached)
 *   flip.test      A: NXDOMAIN with an SOA (60 s) first, then 192.0.2.8
 *   fail.test      SERVFAIL
 *   silent.test    no answer at all
 *   anything else  NXDOMAIN
 */
static pid_t dns_child = -1;
static int dns_port;

/* The wait for one answer: generous, as the machine may be busy; only
 * test_timeout, which expects no answer, waits less. */
#define TRY_MS 3000

static void rr_aaaa(struct buf *b, const char *owner, unsigned ttl)
{
	unsigned char a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

	put_name(b, owner);
	put16(b, 28);
	put16(b, 1);
	put32(b, ttl);
	put16(b, 16);
	buf_append(b, a, 16);
}

/* The response to one query, or nothing (silent.test, junk). */
static void serve_one(const unsigned char *q, size_t n, struct buf *b, unsigned *count)
{
	char name[256];
	size_t off = 12, nl = 0;
	unsigned type, id, flags = 0x8180;
	char ip[32];

	buf_reset(b);
	if (n < 17)
		return;
	while (off < n && q[off] && nl + q[off] + 1 < sizeof(name)) {
		memcpy(name + nl, q + off + 1, q[off]);
		nl += q[off];
		name[nl++] = '.';
		off += q[off] + 1;
	}
	name[nl ? nl - 1 : 0] = 0;
	if (off + 5 > n)
		return;
	type = (unsigned)q[off + 1] << 8 | q[off + 2];
	id = (unsigned)q[0] << 8 | q[1];
	if (strcmp(name, "silent.test") == 0)
		return;
	if (strcmp(name, "mx.test") == 0 && type == 15) {
		msg_start(b, name, type, 1);
		rr_mx(b, name, 60, 10, "mail.mx.test");
	} else if (strcmp(name, "null.test") == 0 && type == 15) {
		msg_start(b, name, type, 1);
		rr_mx(b, name, 60, 0, "");
	} else if (strcmp(name, "a.test") == 0 && type == 1) {
		msg_start(b, name, type, 1);
		rr_a(b, name, 60, "192.0.2.1");
	} else if (strcmp(name, "count.test") == 0 && type == 1) {
		snprintf(ip, sizeof(ip), "192.0.2.%u", ++*count);
		msg_start(b, name, type, 1);
		rr_a(b, name, 60, ip);
	} else if (strcmp(name, "zero.test") == 0 && type == 1) {
		msg_start(b, name, type, 1);
		rr_a(b, name, 0, "192.0.2.9");
	} else if (strcmp(name, "six.test") == 0 && type == 28) {
		msg_start(b, name, type, 1);
		rr_aaaa(b, name, 60);
	} else if (strcmp(name, "flip.test") == 0 && type == 1) {
		static unsigned flips;

		/* NXDOMAIN with an SOA first, an address afterwards: a cache
		 * keeping the denial never sees the address */
		msg_start(b, name, type, flips > 0);
		if (flips++ > 0)
			rr_a(b, name, 60, "192.0.2.8");
		else
			rr_soa(b, "test", 60, 60), flags = 0x8183;
	} else if (strcmp(name, "fail.test") == 0) {
		msg_start(b, name, type, 0);
		flags = 0x8182;
	} else if (strstr(",mx.test,a.test,six.test,null.test,count.test,zero.test,", name) !=
		       NULL &&
		   *name) {
		msg_start(b, name, type, 0); /* the name exists: NODATA */
	} else {
		msg_start(b, name, type, 0);
		flags = 0x8183;
	}
	b->data[0] = (char)(id >> 8);
	b->data[1] = (char)id;
	b->data[2] = (char)(flags >> 8);
	b->data[3] = (char)flags;
}

static void serve(int fd)
{
	unsigned char q[512];
	struct buf b = BUF_INIT;
	unsigned count = 0;

	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);

		if (n <= 0)
			continue;
		serve_one(q, (size_t)n, &b, &count);
		if (b.len)
			sendto(fd, b.data, b.len, 0, (struct sockaddr *)&from, fl);
	}
}

static int server_up(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	dns_port = ntohs(sin.sin_port);
	if ((dns_child = fork()) == 0)
		serve(fd);
	close(fd);
	return dns_child < 0 ? -1 : 0;
}

static int server_down(void **state)
{
	(void)state;
	if (dns_child > 0) {
		kill(dns_child, SIGKILL);
		waitpid(dns_child, NULL, 0);
	}
	return 0;
}

/* A fresh resolver asking our server through parameter param. */
static void use_server(const char *param, long try_ms)
{
	char *set = xasprintf("%s=127.0.0.1:%d", param, dns_port);
	struct buf why = BUF_INIT;

	dns_reset();
	config_reset();
	assert_int_equal(config_override(set), 0);
	if (!dns_init(try_ms, &why))
		fail_msg("dns_init: %s", buf_cstr(&why));
	buf_free(&why);
	free(set);
}

/* The last byte of an A answer's first address. */
static int a_last_byte(const unsigned char *ans, int len)
{
	struct dns_addr *a;
	size_t n;
	unsigned ttl;
	int v;

	assert_int_equal(dns_addrs_from_answer(ans, len, AF_INET, 25, &a, &n, &ttl), DNS_OK);
	v = ntohl(((struct sockaddr_in *)&a[0].sa)->sin_addr.s_addr) & 0xff;
	free(a);
	return v;
}

static void test_blocking(void **state)
{
	struct buf why = BUF_INIT;
	struct dns_mx *mx;
	struct dns_addr *addrs;
	unsigned char *ans;
	size_t n;
	int len;

	(void)state;
	use_server("dns_servers", TRY_MS);
	assert_int_equal(dns_lookup_mx("mx.test", &mx, &n, &why), DNS_OK);
	assert_int_equal(n, 1);
	assert_string_equal(mx[0].host, "mail.mx.test");
	free(mx);
	assert_int_equal(dns_lookup_mx("null.test", &mx, &n, &why), DNS_NULLMX);
	assert_int_equal(dns_lookup_mx("a.test", &mx, &n, &why), DNS_NODATA);
	buf_reset(&why);
	assert_int_equal(dns_lookup_mx("nosuch.test", &mx, &n, &why), DNS_NOTFOUND);
	assert_non_null(strstr(buf_cstr(&why), "name=nosuch.test type=MX: Host not found"));
	buf_reset(&why);
	assert_int_equal(dns_lookup_mx("fail.test", &mx, &n, &why), DNS_RETRY);
	assert_non_null(strstr(buf_cstr(&why), "try again"));
	assert_int_equal(config_override("inet_protocols=ipv4"), 0);
	assert_int_equal(dns_lookup_host("a.test", 25, &addrs, &n, &why), DNS_OK);
	assert_int_equal(n, 1);
	free(addrs);
	/* Answers are cached for their TTL: the second look-up asks nobody. */
	assert_int_equal(dns_query("count.test", ns_t_a, &ans, &len, &why), DNS_OK);
	assert_int_equal(a_last_byte(ans, len), 1);
	free(ans);
	assert_int_equal(dns_query("count.test", ns_t_a, &ans, &len, &why), DNS_OK);
	assert_int_equal(a_last_byte(ans, len), 1);
	free(ans);
	/* So are denials with an SOA: flip.test's address is not seen. */
	assert_int_equal(dns_query("flip.test", ns_t_a, &ans, &len, &why), DNS_NOTFOUND);
	buf_reset(&why);
	assert_int_equal(dns_query("flip.test", ns_t_a, &ans, &len, &why), DNS_NOTFOUND);
	assert_non_null(strstr(buf_cstr(&why), "name=flip.test type=A: Host not found"));
	/* So are answers asked with AD and DO (TLSA for DANE), apart. */
	{
		bool secure = true;

		assert_int_equal(
		    dns_query_dnssec("count.test", ns_t_a, &ans, &len, &secure, &why), DNS_OK);
		assert_int_equal(a_last_byte(ans, len), 2);
		assert_false(secure);
		free(ans);
		assert_int_equal(
		    dns_query_dnssec("count.test", ns_t_a, &ans, &len, &secure, &why), DNS_OK);
		assert_int_equal(a_last_byte(ans, len), 2);
		free(ans);
	}
	buf_free(&why);
	dns_reset();
	config_reset();
}

struct answer {
	int calls;
	enum dns_status st;
	int last; /* last byte of an A answer */
};

static void on_answer(void *ctx, enum dns_status st, const unsigned char *ans, int len)
{
	struct answer *a = ctx;

	a->calls++;
	a->st = st;
	if (st == DNS_OK && len > 0)
		a->last = a_last_byte(ans, len);
}

/* Runs the loop until done says so (bounded: a hang fails the test). */
static void run_until(struct event_loop *loop, const int *calls, int want)
{
	long long start = event_now(loop);

	event_loop_once(loop, 0);
	start = event_now(loop);
	while (*calls < want) {
		assert_true(event_now(loop) - start < 10000);
		event_loop_once(loop, 100);
	}
}

static void test_requests(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct answer a = {0}, b = {0}, c = {0}, d = {0}, e = {0};
	struct dns_request *r;

	(void)state;
	use_server("dns_servers", TRY_MS);
	dns_event_attach(loop);
	dns_request_start("a.test", ns_t_a, on_answer, &a);
	dns_request_start("nosuch.test", ns_t_a, on_answer, &b);
	dns_request_start("fail.test", ns_t_a, on_answer, &c);
	dns_request_start("mx.test", ns_t_a, on_answer, &d);
	/* Never called back from inside the starting call. */
	assert_int_equal(a.calls + b.calls + c.calls + d.calls, 0);
	run_until(loop, &a.calls, 1);
	run_until(loop, &b.calls, 1);
	run_until(loop, &c.calls, 1);
	run_until(loop, &d.calls, 1);
	assert_int_equal(a.st, DNS_OK);
	assert_int_equal(a.last, 1);
	assert_int_equal(b.st, DNS_NOTFOUND);
	assert_int_equal(c.st, DNS_RETRY);
	assert_int_equal(d.st, DNS_NODATA);
	/* From the cache: still answered later, by the loop. */
	dns_request_start("a.test", ns_t_a, on_answer, &a);
	assert_int_equal(a.calls, 1);
	run_until(loop, &a.calls, 2);
	assert_int_equal(a.st, DNS_OK);
	/* A cancelled request is never answered; the others are. */
	r = dns_request_start("count.test", ns_t_a, on_answer, &e);
	dns_request_cancel(r);
	dns_request_start("fail.test", ns_t_a, on_answer, &b);
	run_until(loop, &b.calls, 2);
	assert_int_equal(b.st, DNS_RETRY);
	assert_int_equal(e.calls, 0);
	/* Cancelled once answered, before the loop handed it over. */
	r = dns_request_start("a.test", ns_t_a, on_answer, &e);
	dns_request_cancel(r);
	event_loop_once(loop, 0);
	event_loop_once(loop, 0);
	assert_int_equal(e.calls, 0);
	dns_reset();
	event_loop_free(loop);
	config_reset();
}

static int wakes;

static void on_wake(void *ctx)
{
	assert_ptr_equal(ctx, &wakes);
	wakes++;
}

/* dns_poll_domain until it stops saying DNS_PENDING. */
static enum dns_status poll_domain(struct event_loop *loop, const char *domain)
{
	enum dns_status st;
	int rounds = 0;

	while ((st = dns_poll_domain(domain)) == DNS_PENDING) {
		int before = wakes;

		assert_true(++rounds < 10);
		run_until(loop, &wakes, before + 1);
	}
	return st;
}

static void test_poll(void **state)
{
	struct event_loop *loop = event_loop_new();
	const unsigned char *ans;
	int len;

	(void)state;
	use_server("dns_servers", TRY_MS);
	dns_event_attach(loop);
	dns_poll_wake(on_wake, &wakes);
	assert_int_equal(dns_poll_domain("mx.test"), DNS_PENDING);
	assert_int_equal(poll_domain(loop, "mx.test"), DNS_OK);
	/* MX NODATA, then A. */
	assert_int_equal(poll_domain(loop, "a.test"), DNS_OK);
	/* MX and A NODATA, then AAAA. */
	assert_int_equal(poll_domain(loop, "six.test"), DNS_OK);
	assert_int_equal(poll_domain(loop, "null.test"), DNS_NULLMX);
	assert_int_equal(poll_domain(loop, "nosuch.test"), DNS_NOTFOUND);
	assert_int_equal(poll_domain(loop, "fail.test"), DNS_RETRY);
	/* The answers stay: asking again needs no round. */
	assert_int_equal(dns_poll_domain("six.test"), DNS_OK);
	assert_int_equal(dns_poll_domain("NoSuch.Test"), DNS_NOTFOUND);
	/* Even a TTL of 0 stays long enough for the run again. */
	assert_int_equal(dns_poll("zero.test", ns_t_a, &ans, &len), DNS_PENDING);
	run_until(loop, &wakes, wakes + 1);
	assert_int_equal(dns_poll("zero.test", ns_t_a, &ans, &len), DNS_OK);
	assert_int_equal(a_last_byte(ans, len), 9);
	dns_reset();
	event_loop_free(loop);
	config_reset();
}

/* A server that never answers: a temporary failure after the tries. */
static void test_timeout(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct answer a = {0};
	long long start;

	(void)state;
	use_server("dns_servers", 200);
	dns_event_attach(loop);
	dns_poll_wake(on_wake, &wakes);
	start = mono_msec();
	dns_request_start("silent.test", ns_t_a, on_answer, &a);
	run_until(loop, &a.calls, 1);
	assert_int_equal(a.st, DNS_RETRY);
	assert_true(mono_msec() - start >= 400); /* two tries */
	assert_int_equal(poll_domain(loop, "silent.test"), DNS_RETRY);
	dns_reset();
	event_loop_free(loop);
	config_reset();
}

/* smtpd_dns_servers and smtp_dns_resolver still work, for one release;
 * dns_servers wins over them; a bad list fails look-ups, never falls back
 * to another resolver. */
static void test_servers_parameter(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct buf why = BUF_INIT;
	struct dns_mx *mx;
	size_t n;
	char *set;

	(void)state;
	use_server("smtpd_dns_servers", TRY_MS);
	dns_event_attach(loop);
	dns_poll_wake(on_wake, &wakes);
	assert_int_equal(poll_domain(loop, "mx.test"), DNS_OK);
	dns_reset();
	use_server("smtp_dns_resolver", TRY_MS);
	assert_int_equal(dns_lookup_mx("mx.test", &mx, &n, &why), DNS_OK);
	free(mx);
	dns_reset();
	set = xasprintf("dns_servers=127.0.0.1:%d", dns_port);
	config_reset();
	assert_int_equal(config_override(set), 0);
	assert_int_equal(config_override("smtp_dns_resolver=127.0.0.1:1"), 0);
	assert_int_equal(dns_lookup_mx("mx.test", &mx, &n, &why), DNS_OK);
	free(mx);
	dns_reset();
	config_reset();
	assert_int_equal(config_override("smtp_dns_resolver=not an address"), 0);
	buf_reset(&why);
	assert_false(dns_init(200, &why));
	assert_non_null(strstr(buf_cstr(&why), "bad smtp_dns_resolver"));
	buf_reset(&why);
	assert_int_equal(dns_lookup_mx("mx.test", &mx, &n, &why), DNS_FAIL);
	assert_non_null(strstr(buf_cstr(&why), "bad smtp_dns_resolver"));
	dns_event_attach(loop);
	dns_poll_wake(on_wake, &wakes);
	assert_int_equal(poll_domain(loop, "mx.test"), DNS_RETRY);
	dns_reset();
	event_loop_free(loop);
	config_reset();
	buf_free(&why);
	free(set);
}

static void load(const char *text)
{
	struct buf err = BUF_INIT;

	config_reset();
	resolve_reset();
	assert_int_equal(config_load_text(text, strlen(text), "main.cf", &err), 0);
	buf_free(&err);
}

static void expect(const char *addr, const char *transport, const char *nexthop)
{
	struct resolved r;

	assert_true(resolve_addr(addr, &r));
	assert_string_equal(r.transport, transport);
	assert_string_equal(r.nexthop, nexthop);
}

static void test_routing(void **state)
{
	char path[] = "/tmp/tern-test-transport-XXXXXX";
	int fd = mkstemp(path);
	const char *table = "example.net smtp:[mail.example.net]:587\n"
			    ".sub.example smtp:[sub-mx.example]\n"
			    "user@special.example local:\n"
			    "gone.example error:5.1.2 gone\n"
			    "nexthop.example :[10.0.0.1]\n";
	char *cf;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, table, strlen(table)), (ssize_t)strlen(table));
	close(fd);
	if (asprintf(&cf,
		"myhostname = host.example\nmydestination =\n"
		"relay_domains = relay.example\nrelayhost = [smarthost.example]:2525\n"
		"transport_maps = texthash:%s\n",
		path) < 0)
		fail();
	load(cf);
	expect("a@elsewhere.example", "smtp", "[smarthost.example]:2525");
	expect("a@relay.example", "relay", "[smarthost.example]:2525");
	expect("a@example.net", "smtp", "[mail.example.net]:587");
	expect("a@x.sub.example", "smtp", "[sub-mx.example]");
	expect("a@sub.example", "smtp", "[smarthost.example]:2525");
	expect("user@special.example", "local", "special.example");
	expect("other@special.example", "smtp", "[smarthost.example]:2525");
	expect("a@gone.example", "error", "5.1.2 gone");
	expect("a@nexthop.example", "smtp", "[10.0.0.1]");
	free(cf);
	load("mydestination =\nrelayhost =\n");
	expect("a@elsewhere.example", "smtp", "elsewhere.example");
	load("mydestination =\nrelayhost = [s.example]\ndefault_transport = smtp:[x.example]\n");
	expect("a@elsewhere.example", "smtp", "[x.example]");
	config_reset();
	resolve_reset();
	unlink(path);
}

/*
 * transport_maps lists: each key (address, domain, parents) is asked of
 * every table before the next key, as Postfix does; the copies of the
 * table-list code used to ask each table for every key first.  A table
 * that cannot be read makes the address unresolvable (defer), even when a
 * later table would answer.
 */
static void test_routing_lists(void **state)
{
	struct resolved r;

	(void)state;
	load("mydestination =\nrelayhost =\n"
	     "transport_maps = inline:{ example.org=smtp:[a.example] },"
	     " inline:{ { u@example.org = smtp:[b.example] }, .org=relay: }\n");
	expect("u@example.org", "smtp", "[b.example]");
	expect("v@example.org", "smtp", "[a.example]");
	expect("v@sub.example.org", "relay", "sub.example.org");
	load("mydestination =\nrelayhost =\n"
	     "transport_maps = texthash:/nonexistent/transport, inline:{ example.org=local: }\n");
	assert_false(resolve_addr("u@example.org", &r));
	load("myhostname = host.example\n"
	     "mydestination = inline:{ { here.example = x } }, texthash:/nonexistent/d\n");
	expect("u@here.example", "local", "host.example");
	assert_false(resolve_addr("u@there.example", &r));
	config_reset();
	resolve_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mx_order),
	    cmocka_unit_test(test_null_mx_and_nodata),
	    cmocka_unit_test(test_addresses_through_cname),
	    cmocka_unit_test(test_cname_expand),
	    cmocka_unit_test(test_ptr_names),
	    cmocka_unit_test(test_cache_answers),
	    cmocka_unit_test(test_cache_denials),
	    cmocka_unit_test(test_cache_bound),
	    cmocka_unit_test(test_routing),
	    cmocka_unit_test(test_routing_lists),
	    cmocka_unit_test(test_blocking),
	    cmocka_unit_test(test_requests),
	    cmocka_unit_test(test_poll),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_servers_parameter),
	};
	return cmocka_run_group_tests(tests, server_up, server_down);
}
