/*
 * test_addrlist.c - lib/addrlist.c: address lists as sendmail -t sees them
 * in To:, Cc: and Bcc: headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addrlist.h"
#include "util.h"

/* expected: addresses separated by '|', "" for none. */
static void check(const char *in, const char *expected)
{
	char **v = addrlist_parse(in, strlen(in));
	char **want = strv_split(expected, "|");
	size_t i;

	for (i = 0; want[i]; i++) {
		assert_non_null(v[i]);
		assert_string_equal(v[i], want[i]);
	}
	assert_null(v[i]);
	strv_free(v);
	strv_free(want);
}

static void test_simple(void **state)
{
	(void)state;
	check("a@b", "a@b");
	check("  a@b ,c@d,,", "a@b|c@d");
	check("", "");
	check("user", "user");
}

static void test_names_and_comments(void **state)
{
	(void)state;
	check("Alice Example <alice@example.com>, bob@example.com (Bob, \"B\")",
	    "alice@example.com|bob@example.com");
	check("\"Doe, John\" <jd@x.org>", "jd@x.org");
	check("(nested (comment) here) x@y", "x@y");
	check("<@relay.example,@r2:u@d>", "u@d");
}

static void test_quoted_and_groups(void **state)
{
	(void)state;
	check("\"q x\"@e", "\"q x\"@e");
	check("team: f@g, h@i;, j@k", "f@g|h@i|j@k");
	check("undisclosed-recipients:;", "");
	check("a@b\r\n\t,\r\n c@d", "a@b|c@d");
}

static void test_garbage(void **state)
{
	(void)state;
	check("<<<a@b", "a@b");
	check("\"unterminated", "\"unterminated");
	check("(unterminated a@b", "");
	check(">>,<>,", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_names_and_comments),
	    cmocka_unit_test(test_quoted_and_groups),
	    cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
