/*
 * test_buf.c - unit tests for lib/buf.c's writers: the quoted string
 * shared by addresses, IMAP and ManageSieve, UTF-8 code points, and the
 * decimal writer FETCH uses per message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>

#include "buf.h"

static void test_quoted(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_put_quoted(&b, "plain", 5);
	assert_string_equal(buf_cstr(&b), "\"plain\"");
	buf_reset(&b);
	buf_put_quoted(&b, "a\"b\\c d", 7);
	assert_string_equal(buf_cstr(&b), "\"a\\\"b\\\\c d\"");
	buf_reset(&b);
	buf_put_quoted(&b, "", 0);
	assert_string_equal(buf_cstr(&b), "\"\"");
	buf_reset(&b);
	/* The length counts, not a NUL. */
	buf_put_quoted(&b, "xy\"z", 3);
	assert_string_equal(buf_cstr(&b), "\"xy\\\"\"");
	buf_free(&b);
}

static void test_html(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_put_html(&b, "<a href=\"x\">Tom & 'Jerry'</a>\t\n\x01\xc3\xa9", 34);
	assert_string_equal(buf_cstr(&b), "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;"
					  "&lt;/a&gt;\t\n\xc3\xa9");
	buf_free(&b);
}

static void test_utf8(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_put_utf8(&b, 0x41);
	buf_put_utf8(&b, 0xe9);
	buf_put_utf8(&b, 0x20ac);
	buf_put_utf8(&b, 0x1f600);
	assert_string_equal(buf_cstr(&b), "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	buf_free(&b);
}

static void test_put_uint(void **state)
{
	static const unsigned long long v[] = {
	    0, 7, 10, 99, 100, 4294967295ull, 4294967296ull, ULLONG_MAX};
	struct buf b = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		char want[32];

		buf_reset(&b);
		buf_puts(&b, "* ");
		buf_put_uint(&b, v[i]);
		snprintf(want, sizeof(want), "* %llu", v[i]);
		assert_string_equal(buf_cstr(&b), want);
	}
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quoted),
	    cmocka_unit_test(test_html),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_put_uint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
