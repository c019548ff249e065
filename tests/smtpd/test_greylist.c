/*
 * test_greylist.c - the client network greylisting keys triplets by.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../smtpd/greylist.h"

static void check(const char *addr, int v4, int v6, const char *want)
{
	char out[80];

	greylist_network(addr, v4, v6, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_network(void **state)
{
	(void)state;
	check("192.0.2.77", 24, 64, "192.0.2.0/24");
	check("192.0.2.77", 32, 64, "192.0.2.77/32");
	check("192.0.2.77", 20, 64, "192.0.0.0/20");
	check("192.0.2.77", 99, 64, "192.0.2.77/32");
	check("2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::/64");
	check("2001:db8:1:2:3:4:5:6", 24, 48, "2001:db8:1::/48");
	check("not an address", 24, 64, "not an address");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_network),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
