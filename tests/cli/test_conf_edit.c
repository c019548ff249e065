/*
 * test_conf_edit.c - unit tests for cli/conf_edit.c (tern conf -e and -X).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../cli/conf_edit.h"

static void edit(const char *in, const struct conf_change *ch, size_t n, const char *want)
{
	struct buf out = BUF_INIT;

	conf_edit_text(in, strlen(in), ch, n, &out);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void test_replace_in_place(void **state)
{
	const struct conf_change ch[] = {{"b", "new"}};

	(void)state;
	edit("# head\na = 1\n\n# about b\nb = old\nc = 3\n", ch, 1,
	    "# head\na = 1\n\n# about b\nb = new\nc = 3\n");
	/* Continuation lines go with it, comments inside too; the comment
	 * after the last continuation line stays with what follows. */
	edit("b = x,\n  y\n# inner\n\ty2\n# next\nc = 3\n", ch, 1, "b = new\n# next\nc = 3\n");
	/* Only whole names: "bb" and a "b" inside a value are not b. */
	edit("bb = 1\nc = $b b\n", ch, 1, "bb = 1\nc = $b b\nb = new\n");
	/* Blanks around '=' and none. */
	edit("b=1\n", ch, 1, "b = new\n");
	edit("b   =   1\n", ch, 1, "b = new\n");
}

static void test_append_and_newline(void **state)
{
	const struct conf_change ch[] = {{"z", "26"}, {"y", ""}};

	(void)state;
	edit("a = 1", ch, 2, "a = 1\nz = 26\ny =\n");
	edit("", ch, 1, "z = 26\n");
}

static void test_duplicates(void **state)
{
	const struct conf_change twice[] = {{"a", "1"}, {"a", "2"}};
	const struct conf_change one[] = {{"a", "9"}};

	(void)state;
	/* The last change wins, as "-e a=1 -e a=2" means. */
	edit("x = 0\n", twice, 2, "x = 0\na = 2\n");
	edit("a = 0\n", twice, 2, "a = 2\n");
	/* A name set twice: the first replaced, the later removed. */
	edit("a = 0\nb = 1\na = 5\n  more\n", one, 1, "a = 9\nb = 1\n");
}

static void test_remove(void **state)
{
	const struct conf_change ch[] = {{"b", NULL}, {"nothere", NULL}};

	(void)state;
	edit("a = 1\nb = 2\n  cont\n\nc = 3\n", ch, 2, "a = 1\n\nc = 3\n");
	edit("a = 1\n", ch, 2, "a = 1\n");
}

static void test_assignment(void **state)
{
	struct conf_change c;
	char *store;

	(void)state;
	assert_true(conf_parse_assignment("  name =  a b  ", &c, &store));
	assert_string_equal(c.name, "name");
	assert_string_equal(c.value, "a b");
	free(store);
	assert_true(conf_parse_assignment("x=", &c, &store));
	assert_string_equal(c.value, "");
	free(store);
	assert_false(conf_parse_assignment("novalue", &c, &store));
	free(store);
	assert_false(conf_parse_assignment("bad name=1", &c, &store));
	free(store);
	assert_false(conf_parse_assignment("a=1\nb=2", &c, &store));
	free(store);
	assert_false(conf_parse_assignment("=1", &c, &store));
	free(store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replace_in_place),
	    cmocka_unit_test(test_append_and_newline),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_remove),
	    cmocka_unit_test(test_assignment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
