/*
 * test_codec.c - unit tests for lib/milter/codec.c: the bytes of each
 * command packet as libmilter expects them, packet splitting over partial
 * input, the OPTNEG reply with a SETSYMLIST tail, string replies that
 * must be exactly NUL-terminated, indexed header replies, reply codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "milter/codec.h"

static void bytes_are(const struct buf *b, const char *want, size_t len)
{
	assert_int_equal(b->len, len);
	assert_memory_equal(b->data, want, len);
}

static void test_build(void **state)
{
	struct buf b = BUF_INIT;
	const char *names[] = {"j", "{daemon_name}"};
	const char *values[] = {"mx.example", "tern"};
	const char *args[] = {"<a@b.example>", "SIZE=10"};

	(void)state;
	milter_put_optneg(&b, 6, SMFIF_ADDHDRS, SMFIP_NOHELO);
	bytes_are(&b, "\0\0\0\15O\0\0\0\6\0\0\0\1\0\0\0\2", 17);
	buf_reset(&b);
	milter_put_macros(&b, SMFIC_CONNECT, names, values, 2);
	bytes_are(&b, "\0\0\0\42DCj\0mx.example\0{daemon_name}\0tern\0", 38);
	buf_reset(&b);
	milter_put_connect(&b, "host.example", '4', 2525, "192.0.2.1");
	bytes_are(&b, "\0\0\0\33Chost.example\0004\11\335192.0.2.1\0", 31);
	buf_reset(&b);
	milter_put_connect(&b, "unknown", 'U', 0, "");
	bytes_are(&b, "\0\0\0\12Cunknown\0U", 14);
	buf_reset(&b);
	milter_put_args(&b, SMFIC_MAIL, args, 2);
	bytes_are(&b, "\0\0\0\27M<a@b.example>\0SIZE=10\0", 27);
	buf_reset(&b);
	milter_put_header(&b, "Subject", "hi");
	bytes_are(&b, "\0\0\0\14LSubject\0hi\0", 16);
	buf_reset(&b);
	milter_put(&b, SMFIC_EOH, NULL, 0);
	bytes_are(&b, "\0\0\0\1N", 5);
	buf_free(&b);
}

static void test_parse_split(void **state)
{
	const char in[] = "\0\0\0\1c\0\0\0\4y550";
	struct milter_packet p;
	size_t used = 0;

	(void)state;
	for (size_t n = 0; n < 5; n++)
		assert_int_equal(milter_parse(in, n, 100, &p, &used), MILTER_PARSE_MORE);
	assert_int_equal(milter_parse(in, sizeof(in) - 1, 100, &p, &used), MILTER_PARSE_OK);
	assert_int_equal(used, 5);
	assert_int_equal(p.cmd, 'c');
	assert_int_equal(p.len, 0);
	assert_int_equal(milter_parse(in + 5, 7, 100, &p, &used), MILTER_PARSE_MORE);
	assert_int_equal(milter_parse(in + 5, 8, 100, &p, &used), MILTER_PARSE_OK);
	assert_int_equal(p.cmd, 'y');
	assert_int_equal(p.len, 3);
	/* A zero length has no command; a length past the limit is refused
	 * before its bytes arrive. */
	assert_int_equal(milter_parse("\0\0\0\0", 4, 100, &p, &used), MILTER_PARSE_ERROR);
	assert_int_equal(milter_parse("\0\0\1\0", 4, 100, &p, &used), MILTER_PARSE_ERROR);
	assert_int_equal(
	    milter_parse("\xff\xff\xff\xff", 4, MILTER_MAX_PACKET, &p, &used), MILTER_PARSE_ERROR);
}

static void test_optneg_symlist(void **state)
{
	const char data[] = "O\0\0\0\6\0\0\1\1\0\0\0\3"
			    "\0\0\0\2{mail_addr} i\0"
			    "\0\0\0\5{x}\0";
	struct milter_packet p = {'O', data + 1, sizeof(data) - 2};
	uint32_t v, a, pr, stage;
	const char *sym, *list;
	size_t n;
	bool bad;

	(void)state;
	assert_true(milter_parse_optneg(&p, &v, &a, &pr, &sym, &n));
	assert_int_equal(v, 6);
	assert_int_equal(a, 0x101);
	assert_int_equal(pr, 3);
	assert_true(milter_next_symlist(&sym, &n, &stage, &list, &bad));
	assert_int_equal(stage, MILTER_STAGE_MAIL);
	assert_string_equal(list, "{mail_addr} i");
	assert_true(milter_next_symlist(&sym, &n, &stage, &list, &bad));
	assert_int_equal(stage, MILTER_STAGE_EOM);
	assert_string_equal(list, "{x}");
	assert_false(milter_next_symlist(&sym, &n, &stage, &list, &bad));
	assert_false(bad);
	/* A list without its NUL is malformed. */
	sym = "\0\0\0\1abc";
	n = 7;
	assert_false(milter_next_symlist(&sym, &n, &stage, &list, &bad));
	assert_true(bad);
	p.len = 11;
	assert_false(milter_parse_optneg(&p, &v, &a, &pr, &sym, &n));
}

static void test_strings(void **state)
{
	struct milter_packet p = {'h', "X-A\0v\0", 6};
	struct milter_packet q = {'h', "X-A\0v", 5};
	struct milter_packet r = {'e', "<a@b>\0", 6};
	struct milter_packet ih = {'m', "\0\0\0\2Subject\0new\0", 16};
	struct milter_packet ih_bad = {'m', "\0\0\0\2\0new\0", 9};
	const char *s[2];
	const char *name, *value;
	uint32_t idx;

	(void)state;
	assert_int_equal(milter_parse_strings(&p, s, 2, 2), 2);
	assert_string_equal(s[0], "X-A");
	assert_string_equal(s[1], "v");
	assert_int_equal(milter_parse_strings(&q, s, 2, 2), -1); /* no final NUL */
	assert_int_equal(milter_parse_strings(&r, s, 1, 2), 1);
	assert_int_equal(milter_parse_strings(&r, s, 2, 2), -1);
	assert_int_equal(milter_parse_strings(&p, s, 1, 1), -1); /* one too many */
	assert_true(milter_parse_indexed_header(&ih, &idx, &name, &value));
	assert_int_equal(idx, 2);
	assert_string_equal(name, "Subject");
	assert_string_equal(value, "new");
	assert_false(milter_parse_indexed_header(&ih_bad, &idx, &name, &value));
}

static void test_reply_valid(void **state)
{
	(void)state;
	assert_true(milter_reply_valid("550 5.7.1 no"));
	assert_true(milter_reply_valid("451"));
	assert_true(milter_reply_valid("550-5.7.1 one\r\n550 5.7.1 two"));
	assert_false(milter_reply_valid("250 ok"));
	assert_false(milter_reply_valid("550-5.7.1 one\r\n551 5.7.1 two"));
	assert_false(milter_reply_valid("550 a\nb"));
	assert_false(milter_reply_valid("550-dangling"));
	assert_false(milter_reply_valid("55"));
	assert_false(milter_reply_valid("550x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_parse_split),
	    cmocka_unit_test(test_optneg_symlist),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_reply_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
