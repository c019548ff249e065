/*
 * test_base64.c - the one base64 alphabet and encoder: RFC 4648's test
 * vectors, and the digit values of both alphabets ('/' and IMAP's ',').
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"
#include "buf.h"

static void test_rfc4648_vectors(void **state)
{
	static const char *const v[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf b = BUF_INIT;

		base64_encode(v[i][0], strlen(v[i][0]), &b);
		assert_string_equal(buf_cstr(&b), v[i][1]);
		buf_free(&b);
	}
}

static void test_values(void **state)
{
	(void)state;
	for (int i = 0; i < 64; i++)
		assert_int_equal(base64_value((unsigned char)base64_digits[i], '/'), i);
	assert_int_equal(base64_value(',', ','), 63);
	assert_int_equal(base64_value('/', ','), -1);
	assert_int_equal(base64_value(',', '/'), -1);
	assert_int_equal(base64_value('=', '/'), -1);
	assert_int_equal(base64_value(0x80 | 'A', '/'), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4648_vectors),
	    cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
