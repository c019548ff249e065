/*
 * test_local_rcpt.c - local recipients and alias target lists.
 *
 * Checked: the user/extension split with one and several delimiter
 * characters, case folding (the extension keeps its case), addresses
 * without a domain; local_recipient_maps with the passwd database
 * ("root" always exists) and an alias file, the extension
 * fall-back, and an empty list accepting everyone; alias_targets()
 * splitting with quotes, comments and line ends; alias_target_check().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alias_list.h"
#include "config.h"
#include "local_rcpt.h"
#include "util.h"

static void set(const char *assignment)
{
	assert_int_equal(config_override(assignment), 0);
}

static void test_split(void **state)
{
	struct local_rcpt r;

	(void)state;
	config_reset();
	set("recipient_delimiter=+-");
	local_rcpt_split("Joe+Lists-X@Example.ORG", &r);
	assert_string_equal(r.local, "joe+lists-x");
	assert_string_equal(r.user, "joe");
	assert_string_equal(r.ext, "Lists-X");
	assert_int_equal(r.delim, '+');
	assert_string_equal(r.domain, "example.org");
	local_rcpt_free(&r);

	local_rcpt_split("a-b", &r);
	assert_string_equal(r.user, "a");
	assert_string_equal(r.ext, "b");
	assert_string_equal(r.domain, "");
	local_rcpt_free(&r);

	/* A leading delimiter is part of the name, not an empty user. */
	local_rcpt_split("+x@h", &r);
	assert_string_equal(r.user, "+x");
	assert_null(r.ext);
	local_rcpt_free(&r);

	set("recipient_delimiter=");
	local_rcpt_split("USER+x@h", &r);
	assert_string_equal(r.user, "user+x");
	assert_null(r.ext);
	local_rcpt_free(&r);
}

static void test_known(void **state)
{
	char path[] = "/tmp/test_local_rcpt_XXXXXX";
	int fd = mkstemp(path);
	static const char aliases[] = "postmaster: root\nlist: a,\n  b\n";
	char *assignment;
	bool error;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, aliases, sizeof(aliases) - 1), sizeof(aliases) - 1);
	close(fd);
	config_reset();
	local_rcpt_reset();
	set("recipient_delimiter=+");
	assignment = xasprintf("alias_maps=texthash:%s", path);
	set(assignment);
	free(assignment);
	assert_true(local_rcpt_known("root@localhost", &error));
	assert_false(error);
	assert_true(local_rcpt_known("ROOT+anything@localhost", &error));
	assert_true(local_rcpt_known("Postmaster@localhost", &error));
	assert_true(local_rcpt_known("list+x@localhost", &error));
	assert_false(local_rcpt_known("ttnosuchuser@localhost", &error));
	assert_false(error);
	set("local_recipient_maps=");
	assert_true(local_rcpt_known("ttnosuchuser@localhost", &error));
	set("local_recipient_maps=texthash:/nonexistent/aliases");
	local_rcpt_reset();
	assert_false(local_rcpt_known("root@localhost", &error));
	assert_true(error);
	local_rcpt_reset();
	unlink(path);
}

static void check_targets(const char *text, const char *const *want)
{
	char **v = alias_targets(text);
	size_t i = 0;

	for (; want[i]; i++) {
		assert_non_null(v[i]);
		assert_string_equal(v[i], want[i]);
	}
	assert_null(v[i]);
	strv_free(v);
}

static void test_targets(void **state)
{
	const char *const a[] = {
	    "joe", "|/usr/bin/cmd a, b", "/var/log/x", ":include:/etc/l", NULL};
	const char *const b[] = {"\\me", "other@example.org", NULL};
	const char *const none[] = {NULL};

	(void)state;
	check_targets(" joe , \"|/usr/bin/cmd a, b\",/var/log/x,:include:/etc/l,", a);
	check_targets("# my forward\n\\me\n\nother@example.org\n", b);
	check_targets("", none);
	check_targets(" , ,\n", none);
	check_targets(
	    "\"unterminated, still one", (const char *const[]){"unterminated, still one", NULL});
	assert_null(alias_target_check("|cmd"));
	assert_non_null(alias_target_check("|  "));
	assert_null(alias_target_check(":include:/abs"));
	assert_non_null(alias_target_check(":include:rel"));
	assert_null(alias_target_check("\\user"));
	assert_null(alias_target_check("user@example.org"));
	assert_non_null(alias_target_check("two words"));
	assert_non_null(alias_target_check("@"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_known),
	    cmocka_unit_test(test_targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
