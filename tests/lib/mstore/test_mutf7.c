/*
 * test_mutf7.c - modified UTF-7 (RFC 3501 5.1.3): the RFC's and
 * Dovecot's examples, every plane, round trips, and the strict refusals
 * (printable ASCII encoded, adjacent runs, bad bits, broken surrogates).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mstore/mutf7.h"
#include "util.h"

static void enc_is(const char *utf8, const char *want)
{
	struct buf b = BUF_INIT;

	assert_int_equal(mutf7_encode(utf8, strlen(utf8), &b), 0);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

static void dec_is(const char *m7, const char *want)
{
	struct buf b = BUF_INIT;

	assert_int_equal(mutf7_decode(m7, strlen(m7), &b), 0);
	assert_string_equal(buf_cstr(&b), want);
	assert_true(mutf7_valid(m7, strlen(m7)));
	buf_free(&b);
}

static void dec_bad(const char *m7)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "keep");
	assert_int_equal(mutf7_decode(m7, strlen(m7), &b), -1);
	assert_string_equal(buf_cstr(&b), "keep"); /* untouched on failure */
	assert_false(mutf7_valid(m7, strlen(m7)));
	buf_free(&b);
}

static void test_examples(void **state)
{
	(void)state;
	/* RFC 3501 5.1.3 */
	enc_is("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	    "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
	dec_is("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
	    "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	/* what Dovecot wrote on disk in our interoperability run */
	enc_is("Caf\xc3\xa9", "Caf&AOk-");
	enc_is("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "&ZeVnLIqe-");
	enc_is("A&B", "A&-B");
	dec_is("A&-B", "A&B");
	enc_is("", "");
	enc_is("plain.ASCII name", "plain.ASCII name");
	/* above the BMP: a surrogate pair */
	enc_is("\xf0\x9f\x98\x80", "&2D3eAA-");
	dec_is("&2D3eAA-", "\xf0\x9f\x98\x80");
	/* a run ends at printable ASCII and starts again after it */
	enc_is("\xc3\xa9.\xc3\xa9", "&AOk-.&AOk-");
	dec_is("&AOk-.&AOk-", "\xc3\xa9.\xc3\xa9");
	/* control characters are encoded too */
	enc_is("a\tb", "a&AAk-b");
}

static void test_refusals(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	dec_bad("&AOk");       /* no closing '-' */
	dec_bad("&AOk-&AOk-"); /* two adjacent runs: one name, one encoding */
	dec_bad("&AEE-");      /* encodes 'A', printable ASCII */
	dec_bad("&2D3e-");     /* a high surrogate alone */
	dec_bad("&3gA-");      /* a low surrogate alone */
	dec_bad("&AOl-");      /* leftover bits not zero */
	dec_bad("&AOkA-");     /* 8 leftover bits: more than a run needs */
	dec_bad("&AOkAAA-");   /* encodes a NUL */
	dec_bad("&A*k-");      /* not base64 */
	dec_bad("a\x80"
		"b");	 /* 8-bit bytes are never literal */
	dec_bad("a\tb"); /* nor control characters */
	dec_bad("&-&");	 /* a lone '&' at the end */
	/* encoding refuses what is not UTF-8 */
	assert_int_equal(mutf7_encode("\xc3", 1, &b), -1);
	assert_int_equal(mutf7_encode("\xc0\xaf", 2, &b), -1);	       /* overlong */
	assert_int_equal(mutf7_encode("\xed\xa0\x80", 3, &b), -1);     /* a surrogate */
	assert_int_equal(mutf7_encode("\xf4\x90\x80\x80", 4, &b), -1); /* > U+10FFFF */
	assert_int_equal(mutf7_encode("a\0b", 3, &b), -1);
	assert_int_equal(b.len, 0);
	assert_false(mutf7_utf8_valid("\xff", 1));
	assert_true(mutf7_utf8_valid("\xc3\xa9", 2));
	buf_free(&b);
}

/* Every BMP character and a sample above it survive a round trip. */
static void test_round_trip(void **state)
{
	struct buf u = BUF_INIT, m = BUF_INIT, back = BUF_INIT;

	(void)state;
	for (uint32_t c = 1; c < 0x110000; c += (c < 0x10000 ? 1 : 97)) {
		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		buf_reset(&u);
		buf_reset(&m);
		buf_reset(&back);
		if (c < 0x80) {
			buf_putc(&u, (int)c);
		} else if (c < 0x800) {
			buf_putc(&u, (int)(0xc0 | (c >> 6)));
			buf_putc(&u, (int)(0x80 | (c & 0x3f)));
		} else if (c < 0x10000) {
			buf_putc(&u, (int)(0xe0 | (c >> 12)));
			buf_putc(&u, (int)(0x80 | ((c >> 6) & 0x3f)));
			buf_putc(&u, (int)(0x80 | (c & 0x3f)));
		} else {
			buf_putc(&u, (int)(0xf0 | (c >> 18)));
			buf_putc(&u, (int)(0x80 | ((c >> 12) & 0x3f)));
			buf_putc(&u, (int)(0x80 | ((c >> 6) & 0x3f)));
			buf_putc(&u, (int)(0x80 | (c & 0x3f)));
		}
		buf_puts(&u, "x");
		assert_int_equal(mutf7_encode(u.data, u.len, &m), 0);
		assert_int_equal(mutf7_decode(m.data, m.len, &back), 0);
		assert_int_equal(back.len, u.len);
		assert_memory_equal(back.data, u.data, u.len);
	}
	buf_free(&u);
	buf_free(&m);
	buf_free(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examples),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
