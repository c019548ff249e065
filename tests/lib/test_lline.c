/*
 * test_lline.c - unit tests for lib/lline.c, the logical-line reader of
 * main.cf, master.cf and table sources: continuation lines, comments and
 * blank lines between them, trailing white space and CRLF, line numbers,
 * a continuation with nothing before it, NUL bytes, a last line without
 * a newline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lline.h"

/* Reads text; want alternates expected lines and their start numbers. */
static void lines_are(const char *text, size_t len, const char *const *want, const int *starts)
{
	struct lline r;
	int rc;
	size_t i = 0;

	lline_init(&r, text, len);
	while ((rc = lline_next(&r)) == LLINE_OK) {
		assert_non_null(want[i]);
		assert_string_equal(r.line.data, want[i]);
		assert_int_equal(r.start, starts[i]);
		i++;
	}
	assert_int_equal(rc, LLINE_END);
	assert_null(want[i]);
	lline_free(&r);
}

static void test_lines(void **state)
{
	const char *t1 = "a = 1\n"
			 "b = two\n"
			 "  three   \n"
			 "# comment\n"
			 "\n"
			 "   # indented comment\n"
			 "\tfour\r\n"
			 "c = x\r\n"
			 "d";

	(void)state;
	lines_are(t1, strlen(t1),
	    (const char *const[]){"a = 1", "b = two three four", "c = x", "d", NULL},
	    (const int[]){1, 2, 8, 9});
	lines_are("", 0, (const char *const[]){NULL}, NULL);
	lines_are("\n\n# only\n  \n", 12, (const char *const[]){NULL}, NULL);
	/* Blanks inside a line are kept. */
	lines_are("k  v  w\n", 8, (const char *const[]){"k  v  w", NULL}, (const int[]){1});
}

static void expect_error(const char *text, size_t len, int want_rc, int want_line, int good_lines)
{
	struct lline r;
	int rc, n = 0;

	lline_init(&r, text, len);
	while ((rc = lline_next(&r)) == LLINE_OK)
		n++;
	assert_int_equal(rc, want_rc);
	assert_int_equal(r.start, want_line);
	assert_int_equal(n, good_lines);
	lline_free(&r);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("  orphan\nk v\n", 13, LLINE_ORPHAN, 1, 0);
	expect_error("# c\n\n = x\n", 10, LLINE_ORPHAN, 3, 0);
	/* The good line before a bad one comes first. */
	expect_error("a = 1\nb = x\0y\n", 14, LLINE_NUL, 2, 1);
	expect_error("a = 1\n  x\0\n", 11, LLINE_NUL, 2, 1);
	expect_error("\0", 1, LLINE_NUL, 1, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
