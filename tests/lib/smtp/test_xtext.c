/*
 * test_xtext.c - unit tests for lib/smtp/xtext.c, the one RFC 3461 xtext
 * codec: good and bad input, the copies' disagreements settled, round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/xtext.h"

static void xtext_ok(const char *in, const char *want, size_t want_len)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "junk");
	assert_int_equal(xtext_decode(in, strlen(in), &b), 0);
	assert_int_equal(b.len, want_len);
	assert_memory_equal(b.data, want, want_len);
	buf_free(&b);
}

static void xtext_bad(const char *in)
{
	struct buf b = BUF_INIT;

	assert_int_equal(xtext_decode(in, strlen(in), &b), -1);
	buf_free(&b);
}

static void test_xtext(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	xtext_ok("", "", 0);
	xtext_ok("rfc822;user@example.com", "rfc822;user@example.com", 23);
	xtext_ok("a+2Bb", "a+b", 3);
	xtext_ok("a+2bb", "a+b", 3);
	xtext_ok("+3D+20+FF", "= \xff", 3);
	xtext_bad("a+");
	xtext_bad("a+2");
	xtext_bad("a+G0");
	xtext_bad("a+0G");
	xtext_bad("a+00");
	xtext_bad("a=b");
	xtext_bad("a b");
	xtext_bad("a\x7f");
	xtext_bad("a\xc3\xa9");
	xtext_encode("a+b= c\xff", 7, &b);
	assert_string_equal(b.data, "a+2Bb+3D+20c+FF");
	{
		struct buf d = BUF_INIT;

		assert_int_equal(xtext_decode(b.data, b.len, &d), 0);
		assert_string_equal(d.data, "a+b= c\xff");
		buf_free(&d);
	}
	buf_free(&b);
}

/* What the old decoders let through and the one codec refuses. */
static void test_xtext_strict(void **state)
{
	(void)state;
	/* sendmail -bs read "+\t41" and "+ 41" as "A" (scanf skips space). */
	xtext_bad("+\t41");
	xtext_bad("+ 41");
	xtext_bad("+\t4");
	xtext_bad("+-1");
	xtext_bad("+0x");
	/* A raw space, tab, "=" or 8-bit byte is no xchar. */
	xtext_bad("a\tb");
	xtext_bad("=");
	xtext_bad("\x80");
	xtext_bad("+");
	/* Every xchar stands for itself. */
	for (int c = 33; c <= 126; c++) {
		char in[2] = {(char)c, 0};

		if (c == '+' || c == '=')
			xtext_bad(in);
		else
			xtext_ok(in, in, 1);
	}
}

static void test_xtext_round_trip(void **state)
{
	char all[255];
	struct buf e = BUF_INIT, d = BUF_INIT;

	(void)state;
	for (int i = 0; i < 255; i++)
		all[i] = (char)(i + 1);
	xtext_encode(all, sizeof(all), &e);
	assert_int_equal(xtext_decode(e.data, e.len, &d), 0);
	assert_int_equal(d.len, sizeof(all));
	assert_memory_equal(d.data, all, sizeof(all));
	/* Encoding appends; upper-case hex. */
	buf_reset(&e);
	buf_puts(&e, "x=");
	xtext_encode("\xab", 1, &e);
	assert_string_equal(e.data, "x=+AB");
	buf_free(&e);
	buf_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xtext),
	    cmocka_unit_test(test_xtext_strict),
	    cmocka_unit_test(test_xtext_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
