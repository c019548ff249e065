/*
 * test_dnsbl.c - unit tests for lib/dnsbl.c: query names for IPv4 and
 * IPv6 (RFC 5782 section 2.1 and 2.4), Postfix's "zone=filter" sites and
 * their filters with sets and ranges, malformed filters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnsbl.h"

static void test_query_name(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_true(dnsbl_query_name("192.0.2.99", "bl.example", &b));
	assert_string_equal(buf_cstr(&b), "99.2.0.192.bl.example");
	assert_true(dnsbl_query_name("2001:db8:1:2:3:4:567:89ab", "bl.example", &b));
	assert_string_equal(buf_cstr(&b),
	    "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example");
	assert_false(dnsbl_query_name("unknown", "bl.example", &b));
	buf_free(&b);
}

static void test_domain_query_name(void **state)
{
	struct buf b = BUF_INIT;
	char longname[300];

	(void)state;
	assert_true(dnsbl_domain_query_name("spam.example", "dbl.example", &b));
	assert_string_equal(buf_cstr(&b), "spam.example.dbl.example");
	assert_true(dnsbl_domain_query_name("spam.example.", "dbl.example", &b));
	assert_string_equal(buf_cstr(&b), "spam.example.dbl.example");
	assert_false(dnsbl_domain_query_name("", "dbl.example", &b));
	assert_false(dnsbl_domain_query_name("[192.0.2.1]", "dbl.example", &b));
	assert_false(dnsbl_domain_query_name("a..b", "dbl.example", &b));
	assert_false(dnsbl_domain_query_name("a b", "dbl.example", &b));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_false(dnsbl_domain_query_name(longname, "dbl.example", &b));
	buf_free(&b);
}

static void test_sites_and_filters(void **state)
{
	char *zone, *filter;

	(void)state;
	assert_true(dnsbl_site_parse("zen.example", &zone, &filter));
	assert_string_equal(zone, "zen.example");
	assert_null(filter);
	free(zone);
	assert_true(dnsbl_site_parse("zen.example=127.0.[0;1].[2;4..6]", &zone, &filter));
	assert_string_equal(filter, "127.0.[0;1].[2;4..6]");
	assert_true(dnsbl_filter_match(filter, "127.0.1.5"));
	assert_true(dnsbl_filter_match(filter, "127.0.0.2"));
	assert_false(dnsbl_filter_match(filter, "127.0.0.3"));
	assert_false(dnsbl_filter_match(filter, "127.0.2.2"));
	assert_false(dnsbl_filter_match(filter, "not an address"));
	assert_true(dnsbl_filter_match(NULL, "127.0.0.3"));
	free(zone);
	free(filter);
	assert_false(dnsbl_site_parse("=127.0.0.2", &zone, &filter));
	assert_false(dnsbl_site_parse("bl.example=127.0.0", &zone, &filter));
	assert_false(dnsbl_site_parse("bl.example=127.0.0.[2..]", &zone, &filter));
	assert_false(dnsbl_site_parse("bl.example=127.0.0.[5..2]", &zone, &filter));
	assert_false(dnsbl_site_parse("bl.example=127.0.0.256", &zone, &filter));
	assert_false(dnsbl_site_parse("bl.example=127.0.0.2x", &zone, &filter));
}

static void test_weighted_sites(void **state)
{
	char *zone, *filter;
	int w = 0;

	(void)state;
	assert_true(dnsbl_weighted_site_parse("zen.example*3", &zone, &filter, &w));
	assert_string_equal(zone, "zen.example");
	assert_null(filter);
	assert_int_equal(w, 3);
	free(zone);
	assert_true(dnsbl_weighted_site_parse("bl.example=127.0.0.[2..11]*2", &zone, &filter, &w));
	assert_string_equal(zone, "bl.example");
	assert_string_equal(filter, "127.0.0.[2..11]");
	assert_int_equal(w, 2);
	free(zone);
	free(filter);
	assert_true(
	    dnsbl_weighted_site_parse("wl.example=127.0.[0..255].[1..3]*-2", &zone, &filter, &w));
	assert_int_equal(w, -2);
	free(zone);
	free(filter);
	assert_true(dnsbl_weighted_site_parse("plain.example", &zone, &filter, &w));
	assert_int_equal(w, 1);
	free(zone);
	assert_false(dnsbl_weighted_site_parse("bl.example*", &zone, &filter, &w));
	assert_false(dnsbl_weighted_site_parse("bl.example*x", &zone, &filter, &w));
	assert_false(dnsbl_weighted_site_parse("*2", &zone, &filter, &w));
	assert_false(dnsbl_weighted_site_parse("bl.example=127.0.0*2", &zone, &filter, &w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_query_name),
	    cmocka_unit_test(test_domain_query_name),
	    cmocka_unit_test(test_sites_and_filters),
	    cmocka_unit_test(test_weighted_sites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
