/*
 * test_valias.c - unit tests for lib/valias.c: virtual alias look-up
 * order and rewriting, recursive expansion and its limits, the duplicate
 * filter, and the virtual alias class of lib/resolve.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "config.h"
#include "maps.h"
#include "resolve.h"
#include "util.h"
#include "valias.h"

/* Braces around every entry: inline's "{ key = value, ... }" form. */
#define TABLE                                                                                      \
	"inline:{ { list@example.net = alice@example.com, bob@example.com }, "                     \
	"alice@example.net=alice@example.com, @example.org=@example.com, "                         \
	"{ self@example.com = self@example.com, copy@example.com }, "                              \
	"{ all@example.net = list@example.net, alice@example.net, bob@example.com }, "             \
	"root=admin@example.com, user@example.net=plain, "                                         \
	"loop1@example.net=loop2@example.net, loop2@example.net=loop1@example.net, "               \
	"example.net=domain }"

static int setup(void **state)
{
	(void)state;
	config_reset();
	maps_reset();
	config_set("myhostname", "mx.example.com");
	config_set("myorigin", "example.com");
	config_set("mydestination", "localhost");
	config_set("recipient_delimiter", "+");
	config_set("virtual_alias_maps", TABLE);
	return 0;
}

static void expand_is(const char *addr, const char *const *want)
{
	struct valias_list l = {0};
	const char *why = "x";
	size_t n = 0;

	assert_int_equal(valias_expand(&l, addr, NULL, NULL, &why), VALIAS_OK);
	assert_null(why);
	for (; want[n]; n++) {
		assert_true(n < l.n);
		assert_string_equal(l.v[n].addr, want[n]);
	}
	assert_int_equal(l.n, n);
	valias_list_free(&l);
}

static void test_lookup_forms(void **state)
{
	(void)state;
	expand_is("nobody@example.com", (const char *const[]){"nobody@example.com", NULL});
	expand_is("ALICE@example.net", (const char *const[]){"alice@example.com", NULL});
	/* user+ext@domain: user@domain, the extension propagated. */
	expand_is("alice+tag@example.net", (const char *const[]){"alice+tag@example.com", NULL});
	/* @domain -> @otherdomain keeps the local part. */
	expand_is("carol@example.org", (const char *const[]){"carol@example.com", NULL});
	/* A bare "user" key only for local domains. */
	expand_is("root@localhost", (const char *const[]){"admin@example.com", NULL});
	expand_is("root@elsewhere.example", (const char *const[]){"root@elsewhere.example", NULL});
	/* A result without a domain gets @$myorigin. */
	expand_is("user@example.net", (const char *const[]){"plain@example.com", NULL});
}

static void test_one_to_many_recursive_and_self(void **state)
{
	(void)state;
	expand_is("list@example.net",
	    (const char *const[]){"alice@example.com", "bob@example.com", NULL});
	/* all -> list -> alice, bob; alice -> alice; bob: duplicates go. */
	expand_is(
	    "all@example.net", (const char *const[]){"bob@example.com", "alice@example.com", NULL});
	expand_is("self@example.com",
	    (const char *const[]){"self@example.com", "copy@example.com", NULL});
}

static void test_limits(void **state)
{
	struct valias_list l = {0};
	const char *why = NULL;

	(void)state;
	assert_int_equal(valias_expand(&l, "loop1@example.net", NULL, NULL, &why), VALIAS_LIMIT);
	assert_non_null(why);
	assert_int_equal(l.n, 0);
	config_set("virtual_alias_expansion_limit", "1");
	assert_int_equal(valias_expand(&l, "list@example.net", NULL, NULL, &why), VALIAS_LIMIT);
	assert_non_null(strstr(why, "expansion size"));
	config_set("virtual_alias_expansion_limit", "1000");
	config_set("virtual_alias_recursion_limit", "1");
	assert_int_equal(valias_expand(&l, "all@example.net", NULL, NULL, &why), VALIAS_LIMIT);
	assert_non_null(strstr(why, "nesting"));
	assert_int_equal(l.n, 0);
	valias_list_free(&l);
}

static void test_tempfail(void **state)
{
	struct valias_list l = {0};
	const char *why = NULL;

	(void)state;
	config_set("virtual_alias_maps", "texthash:/nonexistent/virtual");
	assert_int_equal(valias_expand(&l, "a@example.com", NULL, NULL, &why), VALIAS_TEMPFAIL);
	assert_int_equal(valias_known("a@example.com"), MAPS_TEMPFAIL);
	assert_int_equal(l.n, 0);
}

static void test_duplicates(void **state)
{
	struct valias_list l = {0};

	(void)state;
	assert_true(valias_list_add(&l, "a@x", NULL, NULL));
	assert_false(valias_list_add(&l, "a@x", NULL, NULL));
	assert_true(valias_list_add(&l, "a@x", "rfc822;b@x", NULL));
	assert_false(valias_list_add(&l, "a@x", "rfc822;b@x", NULL));
	assert_true(valias_list_add(&l, "a@x", "rfc822;b@x", "NEVER"));
	assert_true(valias_list_add(&l, "A@x", NULL, NULL));
	assert_int_equal(l.n, 4);
	assert_int_equal(l.dropped, 2);
	valias_list_free(&l);
	/* Past duplicate_filter_limit the filter forgets. */
	config_set("duplicate_filter_limit", "1");
	assert_true(valias_list_add(&l, "a@x", NULL, NULL));
	assert_true(valias_list_add(&l, "b@x", NULL, NULL));
	assert_false(valias_list_add(&l, "a@x", NULL, NULL));
	assert_true(valias_list_add(&l, "b@x", NULL, NULL));
	valias_list_free(&l);
}

/* A changed address keeps where it came from as ORCPT, unless the client
 * gave one; that ORCPT does not stop the duplicate filter. */
static void test_original_recipient(void **state)
{
	struct valias_list l = {0};
	const char *why = NULL;

	(void)state;
	assert_int_equal(valias_expand(&l, "list@example.net", NULL, NULL, &why), VALIAS_OK);
	assert_int_equal(valias_expand(&l, "alice@example.net", NULL, NULL, &why), VALIAS_OK);
	assert_int_equal(valias_expand(&l, "nobody@example.com", NULL, NULL, &why), VALIAS_OK);
	assert_int_equal(
	    valias_expand(&l, "root@localhost", "rfc822;given@example.org", NULL, &why), VALIAS_OK);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.dropped, 1); /* alice@example.com from the second alias */
	assert_string_equal(l.v[0].addr, "alice@example.com");
	assert_string_equal(l.v[0].orcpt, "rfc822;list@example.net");
	assert_true(l.v[0].orcpt_added);
	assert_string_equal(l.v[1].orcpt, "rfc822;list@example.net");
	assert_string_equal(l.v[2].addr, "nobody@example.com");
	assert_null(l.v[2].orcpt);
	assert_string_equal(l.v[3].addr, "admin@example.com");
	assert_string_equal(l.v[3].orcpt, "rfc822;given@example.org");
	assert_false(l.v[3].orcpt_added);
	valias_list_free(&l);
}

static void test_known_and_class(void **state)
{
	struct resolved r;

	(void)state;
	assert_int_equal(valias_known("list@example.net"), MAPS_FOUND);
	assert_int_equal(valias_known("x@example.org"), MAPS_FOUND); /* catch-all */
	assert_int_equal(valias_known("nobody@example.net"), MAPS_NOTFOUND);
	/* virtual_alias_domains = $virtual_alias_maps: "example.net" is a key. */
	assert_true(resolve_addr("nobody@example.net", &r));
	assert_int_equal(r.cls, CLASS_ALIAS);
	assert_string_equal(r.transport, "error");
	assert_string_equal(resolve_class_name(r.cls), "alias");
	assert_true(resolve_addr("x@example.org", &r));
	assert_int_equal(r.cls, CLASS_DEFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_lookup_forms, setup),
	    cmocka_unit_test_setup(test_one_to_many_recursive_and_self, setup),
	    cmocka_unit_test_setup(test_limits, setup),
	    cmocka_unit_test_setup(test_tempfail, setup),
	    cmocka_unit_test_setup(test_duplicates, setup),
	    cmocka_unit_test_setup(test_original_recipient, setup),
	    cmocka_unit_test_setup(test_known_and_class, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
