/*
 * test_maps.c - unit tests for lib/maps.c: list splitting with braces,
 * first match in table order, the "@domain" fall-back searched key by key
 * (Postfix's order), the one failure policy (a table that cannot be used
 * is MAPS_TEMPFAIL and ends the search; it is retried at its next use),
 * parameter names versus list text, aliases(5) format for the tables of
 * alias_maps, and the passwd table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "maps.h"
#include "util.h"

static char tmpdir[] = "/tmp/test_maps.XXXXXX";

static char *tmp_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void set(const char *assignment)
{
	assert_int_equal(config_override(assignment), 0);
}

static void expect(const char *list, const char *key, int flags, const char *want)
{
	const char *v = NULL;
	enum maps_status st = maps_find(maps_open(list), key, flags, &v);

	if (want == NULL) {
		assert_int_equal(st, MAPS_NOTFOUND);
		return;
	}
	assert_int_equal(st, MAPS_FOUND);
	assert_string_equal(v, want);
}

static void expect_tempfail(const char *list, const char *key, int flags)
{
	const char *v = NULL;

	assert_int_equal(maps_find(maps_open(list), key, flags, &v), MAPS_TEMPFAIL);
}

static void split_is(const char *text, const char *const *want)
{
	char **v = maps_split(text);
	size_t i = 0;

	for (; want[i]; i++) {
		assert_non_null(v[i]);
		assert_string_equal(v[i], want[i]);
	}
	assert_null(v[i]);
	strv_free(v);
}

static void test_split(void **state)
{
	(void)state;
	split_is("", (const char *const[]){NULL});
	split_is(" ,\t,\n", (const char *const[]){NULL});
	split_is("a:b, c:d\te:f,,g:h", (const char *const[]){"a:b", "c:d", "e:f", "g:h", NULL});
	split_is("inline:{ a=1, { b = two words } }, texthash:/x",
	    (const char *const[]){"inline:{ a=1, { b = two words } }", "texthash:/x", NULL});
	split_is("static:{ a b }x y:z", (const char *const[]){"static:{ a b }x", "y:z", NULL});
	split_is("inline:{ a=1, b", (const char *const[]){"inline:{ a=1, b", NULL});
	split_is("x} y", (const char *const[]){"x}", "y", NULL});
}

static void test_first_match(void **state)
{
	(void)state;
	maps_reset();
	expect("inline:{ a=1 }, inline:{ a=2, b=3 }", "a", 0, "1");
	expect("inline:{ a=1 }, inline:{ a=2, b=3 }", "B", 0, "3");
	expect("inline:{ a=1 }, inline:{ a=2, b=3 }", "c", 0, NULL);
	/* A table's braces may hold commas and blanks. */
	expect("inline:{ { k = two words }, x=y }", "k", 0, "two words");
	expect("", "a", 0, NULL);
	assert_true(maps_empty(maps_open("")));
	assert_false(maps_empty(maps_open("static:x")));
	assert_string_equal(maps_title(maps_open("static:x")), "static:x");
}

static void test_addr_domain(void **state)
{
	static const char *const list = "inline:{ @example.org=catchall, a@other.org=a1 },"
					"inline:{ b@example.org=full }";

	(void)state;
	maps_reset();
	/* The whole address in every table before "@domain" in any. */
	expect(list, "b@example.org", MAPS_ADDR_DOMAIN, "full");
	expect(list, "c@example.org", MAPS_ADDR_DOMAIN, "catchall");
	expect(list, "c@example.org", 0, NULL);
	expect(list, "a@OTHER.org", MAPS_ADDR_DOMAIN, "a1");
	expect(list, "x@other.org", MAPS_ADDR_DOMAIN, NULL);
	expect(list, "nodomain", MAPS_ADDR_DOMAIN, NULL);
	expect("inline:{ @=x }", "@", MAPS_ADDR_DOMAIN, "x");
	/* Without a recipient_delimiter an extension is part of the name. */
	expect(list, "b+news@example.org", MAPS_ADDR_DOMAIN, "catchall");
	config_set("recipient_delimiter", "+-");
	/* "user+ext@domain", "user@domain", "@domain". */
	expect(list, "b+news@example.org", MAPS_ADDR_DOMAIN, "full");
	expect(list, "b-news@example.org", MAPS_ADDR_DOMAIN, "full");
	expect(list, "a+x@other.org", MAPS_ADDR_DOMAIN, "a1");
	expect(list, "x+y@other.org", MAPS_ADDR_DOMAIN, NULL);
	expect(list, "+b@example.org", MAPS_ADDR_DOMAIN, "catchall");
	expect(list, "b+news@example.org", 0, NULL);
	expect("inline:{ b+news@example.org=ext, b@example.org=full }", "b+news@example.org",
	    MAPS_ADDR_DOMAIN, "ext");
	config_reset();
}

static void test_tempfail(void **state)
{
	char *missing = xasprintf("texthash:%s/missing", tmpdir);
	char *list = xasprintf("%s, inline:{ a=1 }", missing);
	char *after = xasprintf("inline:{ a=1 }, %s", missing);
	char *path;

	(void)state;
	maps_reset();
	/* A broken table ends the search: never "not found", never a later
	 * table's answer in its place. */
	expect_tempfail(list, "a", 0);
	expect_tempfail(list, "zz", 0);
	/* Tables before it still answer what they know. */
	expect(after, "a", 0, "1");
	expect_tempfail(after, "zz", 0);
	expect_tempfail("foo:bar", "a", 0);
	expect_tempfail("inline:{ a", "a", 0);
	expect_tempfail("nocolon", "a", 0);
	/* Retried at the next use: the file appears, the list works. */
	path = tmp_file("missing", "zz found\n");
	expect(list, "zz", 0, "found");
	expect(list, "a", 0, "1");
	free(path);
	free(after);
	free(list);
	free(missing);
}

static void test_syntax_error(void **state)
{
	char *path = tmp_file("broken", "good line\nbad\n");
	char *spec = xasprintf("texthash:%s", path);

	(void)state;
	maps_reset();
	expect_tempfail(spec, "good", 0);
	free(path);
	path = tmp_file("broken", "good line\n");
	expect(spec, "good", 0, "line");
	free(spec);
	free(path);
}

static void test_param(void **state)
{
	char *path = tmp_file("vmailbox", "a@example.org example.org/a/\n");
	char *setting = xasprintf("virtual_mailbox_maps=texthash:%s", path);

	(void)state;
	config_reset();
	maps_reset();
	assert_true(maps_empty(maps_open("virtual_mailbox_maps")));
	set(setting);
	expect("virtual_mailbox_maps", "A@example.org", 0, "example.org/a/");
	assert_string_equal(maps_title(maps_open("virtual_mailbox_maps")), "virtual_mailbox_maps");
	/* A new value is seen at once; the same value gives the same list. */
	assert_ptr_equal(maps_open("virtual_mailbox_maps"), maps_open("virtual_mailbox_maps"));
	set("virtual_mailbox_maps=inline:{ b@example.org=x }");
	expect("virtual_mailbox_maps", "a@example.org", 0, NULL);
	expect("virtual_mailbox_maps", "b@example.org", 0, "x");
	config_reset();
	maps_reset();
	free(setting);
	free(path);
}

static void test_alias_format(void **state)
{
	char *path = tmp_file("aliases", "postmaster: root\nlist: a,\n  b\n");
	char *spec = xasprintf("texthash:%s", path);
	char *setting = xasprintf("alias_maps=%s", spec);
	char *plain = tmp_file("plain", "postmaster: root\n");
	char *plain_spec = xasprintf("texthash:%s", plain);

	(void)state;
	config_reset();
	maps_reset();
	set(setting);
	/* The tables of alias_maps are aliases(5) wherever they are used. */
	expect("alias_maps", "list", 0, "a, b");
	expect("local_recipient_maps", "postmaster", 0, "root");
	expect(spec, "postmaster", 0, "root");
	/* Others are "key value". */
	expect(plain_spec, "postmaster:", 0, "root");
	config_reset();
	maps_reset();
	free(plain_spec);
	free(plain);
	free(setting);
	free(spec);
	free(path);
}

static void test_passwd(void **state)
{
	const char *v = NULL;

	(void)state;
	config_reset();
	maps_reset();
	/* The default local_recipient_maps: the passwd database, then aliases. */
	set("alias_maps=");
	assert_int_equal(maps_find(maps_open("local_recipient_maps"), "root", 0, &v), MAPS_FOUND);
	assert_true(strncmp(v, "root:", 5) == 0);
	expect("local_recipient_maps", "ttnosuchuser", 0, NULL);
	config_reset();
	maps_reset();
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);

	(void)state;
	free(cmd);
	maps_reset();
	config_reset();
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_first_match),
	    cmocka_unit_test(test_addr_domain),
	    cmocka_unit_test(test_tempfail),
	    cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_param),
	    cmocka_unit_test(test_alias_format),
	    cmocka_unit_test(test_passwd),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
