/*
 * test_mdname.c - Maildir file names: the base, ,S= and ,W=, the ":2,"
 * flags (sorted, unknown letters kept, odd names noticed), building, and
 * unique names (format, escaping, uniqueness).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mstore/mdname.h"
#include "util.h"

static void test_parse(void **state)
{
	struct mdname m;

	(void)state;
	assert_true(mdname_parse("1796531734.M170024P28912.vm,S=23,W=26:2,FSabc", &m));
	assert_int_equal(m.base_len, strlen("1796531734.M170024P28912.vm,S=23,W=26"));
	assert_true(m.has_info);
	assert_true(m.canonical);
	assert_int_equal(m.upper, MDF_FLAGGED | MDF_SEEN);
	assert_int_equal(m.lower, 0x7);
	assert_int_equal(m.size, 23);
	assert_int_equal(m.vsize, 26);

	assert_true(mdname_parse("1700000000.M1P1.plainhost", &m));
	assert_false(m.has_info);
	assert_true(m.canonical);
	assert_int_equal(m.size, MDNAME_NOSIZE);
	assert_int_equal(m.vsize, MDNAME_NOSIZE);

	assert_true(mdname_parse("x:2,", &m));
	assert_true(m.has_info && m.canonical && m.upper == 0 && m.lower == 0);
	/* unknown uppercase letters are flags too (kept across changes) */
	assert_true(mdname_parse("x:2,PS", &m));
	assert_int_equal(m.upper, MDF_PASSED | MDF_SEEN);
	/* unsorted, repeated, odd characters, a second flag set: odd names */
	assert_true(mdname_parse("x:2,SF", &m));
	assert_false(m.canonical);
	assert_true(mdname_parse("x:2,SS", &m));
	assert_false(m.canonical);
	assert_true(mdname_parse("x:2,S1", &m));
	assert_false(m.canonical);
	assert_true(mdname_parse("x:2,S,foo", &m));
	assert_false(m.canonical);
	assert_int_equal(m.upper, MDF_SEEN);
	assert_true(mdname_parse("x:1,abc", &m));
	assert_false(m.has_info);
	assert_false(m.canonical);
	/* sizes: malformed ones are no sizes */
	assert_true(mdname_parse("x,S=12a,W=5:2,", &m));
	assert_int_equal(m.size, MDNAME_NOSIZE);
	assert_int_equal(m.vsize, 5);
	assert_true(mdname_parse("x,S=99999999999999999999999", &m));
	assert_int_equal(m.size, MDNAME_NOSIZE);
	/* not messages */
	assert_false(mdname_parse("", &m));
	assert_false(mdname_parse(".hidden", &m));
	assert_false(mdname_parse("a/b", &m));
}

static void test_build(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	mdname_build(&b, "base,S=1", 8, true, MDF_TRASHED | MDF_DRAFT | MDF_PASSED, 0x5);
	assert_string_equal(buf_cstr(&b), "base,S=1:2,DPTac");
	buf_reset(&b);
	mdname_build(&b, "base", 4, false, MDF_SEEN, 0);
	assert_string_equal(buf_cstr(&b), "base");
	buf_reset(&b);
	mdname_sizes(&b, 123, 130);
	assert_string_equal(buf_cstr(&b), ",S=123,W=130");
	buf_free(&b);
}

static void test_unique(void **state)
{
	struct buf b = BUF_INIT;
	char *names[500];

	(void)state;
	mdname_format(&b, 1700000000123456LL, 4321, 7, "mx.example");
	assert_string_equal(buf_cstr(&b), "1700000000.M123456P4321Q7.mx.example");
	buf_reset(&b);
	mdname_format(&b, 1000000LL, 1, 1, "a/b:c");
	assert_string_equal(buf_cstr(&b), "1.M0P1Q1.a\\057b\\072c");
	for (int i = 0; i < 500; i++) {
		buf_reset(&b);
		mdname_unique(&b);
		assert_null(strchr(buf_cstr(&b), '/'));
		assert_null(strchr(buf_cstr(&b), ':'));
		names[i] = xstrdup(buf_cstr(&b));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(names[j], names[i]);
	}
	for (int i = 0; i < 500; i++)
		free(names[i]);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
