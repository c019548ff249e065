/*
 * test_dns.c - unit tests for lib/dns.c's answer handling (MX order,
 * random order among equal preferences, null MX, NODATA, TTLs, CNAME
 * chains, malformed answers) and lib/resolve.c's transport_maps and
 * relayhost, from hand-built DNS messages and main.cf texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "dns.h"
#include "resolve.h"

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
	    cmocka_unit_test(test_routing),
	    cmocka_unit_test(test_routing_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
