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
#include "util.h"

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

/* One hex writer for digests, ids and %XX / +XX escapes. */
static void test_hex(void **state)
{
	static const unsigned char raw[] = {0x00, 0x0f, 0xa5, 0xff};
	struct buf b = BUF_INIT;
	char out[2 * sizeof(raw) + 1];

	(void)state;
	hex_encode(raw, sizeof(raw), out);
	assert_string_equal(out, "000fa5ff");
	hex_encode(raw, 0, out);
	assert_string_equal(out, "");
	assert_int_equal(hex_digit(0xab, true), 'B');
	assert_int_equal(hex_digit(0xab, false), 'b');
	assert_int_equal(hex_digit(0x10, false), '0');

	buf_puts(&b, "x=");
	buf_put_hex(&b, raw, sizeof(raw));
	buf_put_hexbyte(&b, '%', 0x2f);
	buf_put_hexbyte(&b, '+', 0xe9);
	buf_put_hexbyte(&b, '=', 0x0a);
	assert_string_equal(buf_cstr(&b), "x=000fa5ff%2F+E9=0A");
	for (int c = 0; c < 256; c++) {
		buf_reset(&b);
		buf_put_hexbyte(&b, '%', (unsigned char)c);
		assert_int_equal(hex_value(b.data[1]) * 16 + hex_value(b.data[2]), c);
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
	    cmocka_unit_test(test_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
