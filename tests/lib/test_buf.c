/*
 * test_buf.c - lib/buf.c: the decimal writer FETCH uses per message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>

#include "buf.h"

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
	    cmocka_unit_test(test_put_uint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
