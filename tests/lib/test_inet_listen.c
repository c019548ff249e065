/*
 * test_inet_listen.c - unit tests for lib/inet_listen.c: inet_interfaces
 * and inet_protocols applied to a master.cf inet service.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "inet_listen.h"
#include "util.h"

static bool have_ipv6(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void load(const char *text)
{
	struct buf err = BUF_INIT;

	config_reset();
	if (config_load_text(text, strlen(text), "main.cf", &err) != 0)
		fail_msg("main.cf: %s", buf_cstr(&err));
	buf_free(&err);
}

/* The specs as one string, "a b c", and the optional ones marked '?'. */
static char *specs(const char *service, int want_n)
{
	struct inet_listen_addr *a;
	struct buf err = BUF_INIT, out = BUF_INIT;
	int n = inet_listen_addrs(service, &a, &err);

	if (n != want_n)
		fail_msg("%s: %d addresses, want %d (%s)", service, n, want_n, buf_cstr(&err));
	for (int i = 0; i < n; i++)
		buf_printf(&out, "%s%s%s", i ? " " : "", a[i].spec, a[i].optional ? "?" : "");
	inet_listen_free(a, n);
	buf_free(&err);
	return out.data ? out.data : xstrdup("");
}

static void expect(const char *service, int n, const char *want)
{
	char *got = specs(service, n);

	assert_string_equal(got, want);
	free(got);
}

static void expect_error(const char *service, const char *want)
{
	struct inet_listen_addr *a;
	struct buf err = BUF_INIT;

	assert_int_equal(inet_listen_addrs(service, &a, &err), -1);
	assert_null(a);
	if (strstr(buf_cstr(&err), want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", buf_cstr(&err), want);
	buf_free(&err);
}

static void test_own_host_wins(void **state)
{
	(void)state;
	load("inet_interfaces = loopback-only\n");
	expect("127.0.0.2:25", 1, "127.0.0.2:25");
	expect("[::1]:2525", 1, "[::1]:2525");
}

static void test_all(void **state)
{
	(void)state;
	load("inet_protocols = ipv4\n");
	expect("smtp", 1, "0.0.0.0:smtp");
	expect("*:25", 1, "0.0.0.0:25");
	load("inet_protocols = all\n");
	if (have_ipv6())
		expect("25", 2, "0.0.0.0:25 [::]:25?");
	load("inet_protocols = ipv6\n");
	if (have_ipv6())
		expect("25", 1, "[::]:25");
}

static void test_loopback_only(void **state)
{
	(void)state;
	load("inet_interfaces = loopback-only\ninet_protocols = ipv4\n");
	expect("2525", 1, "127.0.0.1:2525");
	load("inet_interfaces = loopback-only\ninet_protocols = ipv4, ipv6\n");
	if (have_ipv6())
		expect("2525", 2, "127.0.0.1:2525 [::1]:2525?");
}

static void test_lists(void **state)
{
	(void)state;
	load("inet_interfaces = 127.0.0.1, [::1] ::1 127.0.0.1, localhost\ninet_protocols = all\n");
	/* Duplicates collapse; "localhost" resolves to what it names. */
	{
		char *got = specs("25", have_ipv6() ? 2 : 2);

		assert_non_null(strstr(got, "127.0.0.1:25"));
		assert_non_null(strstr(got, "[::1]:25"));
		free(got);
	}
	load("inet_interfaces = 127.0.0.1, ::1\ninet_protocols = ipv4\n");
	expect_error("25", "::1 is not an address of inet_protocols");
}

static void test_errors(void **state)
{
	(void)state;
	load("inet_interfaces = all, 127.0.0.1\n");
	expect_error("25", "\"all\" must stand alone");
	load("inet_interfaces =\n");
	expect_error("25", "inet_interfaces is empty");
	load("inet_protocols = ipv5\n");
	expect_error("25", "unknown protocol \"ipv5\"");
	load("inet_interfaces = no-such-host.invalid\n");
	expect_error("25", "no-such-host.invalid");
	load("");
	expect_error("::1:25", "bracket IPv6");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_own_host_wins),
	    cmocka_unit_test(test_all),
	    cmocka_unit_test(test_loopback_only),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
