/*
 * test_address.c - unit tests for lib/address.c: valid and invalid paths,
 * canonical output, the open-relay test shapes, UTF-8, limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "address.h"
#include "buf.h"

/* Parses in with flags and checks it becomes want (and rest). */
static void expect_ok(const char *in, int flags, const char *want, const char *want_rest)
{
	const char *rest = NULL, *err = NULL;
	char *out = NULL;
	int rc = addr_parse_path(in, strlen(in), flags, &out, &rest, &err);

	if (rc != 0)
		fail_msg("'%s' rejected: %s", in, err);
	assert_string_equal(out, want);
	assert_string_equal(rest, want_rest);
	free(out);
}

/* Checks that in is rejected, with the error text want (if not NULL). */
static void expect_bad(const char *in, size_t len, int flags, const char *want)
{
	const char *rest = NULL, *err = NULL;
	char *out = NULL;
	int rc = addr_parse_path(in, len, flags, &out, &rest, &err);

	if (rc == 0)
		fail_msg("'%s' accepted as '%s'", in, out);
	assert_non_null(err);
	if (want != NULL)
		assert_string_equal(err, want);
}

static void bad(const char *in, const char *want)
{
	expect_bad(in, strlen(in), 0, want);
}

static void test_simple(void **state)
{
	(void)state;
	expect_ok("<user@example.com>", 0, "user@example.com", "");
	expect_ok("<User.Name+tag@Example.COM>", 0, "User.Name+tag@example.com", "");
	expect_ok("<a@b> SIZE=10", 0, "a@b", " SIZE=10");
	expect_ok("<a@b>", 0, "a@b", "");
	/* An empty quoted local part: no bytes at all (once NULL + 0 in C). */
	expect_ok("<\"\"@x>", 0, "\"\"@x", "");
	expect_ok("<!#$%&'*+-/=?^_`{|}~@x.y>", 0, "!#$%&'*+-/=?^_`{|}~@x.y", "");
	expect_ok("<a@x-y.example>", 0, "a@x-y.example", "");
	expect_ok("<a@123.example>", 0, "a@123.example", "");
}

static void test_rest(void **state)
{
	const char *in = "<a@b.c> BODY=8BITMIME";
	const char *rest, *err;
	char *out;

	(void)state;
	assert_int_equal(addr_parse_path(in, strlen(in), 0, &out, &rest, &err), 0);
	assert_ptr_equal(rest, in + 7);
	free(out);
	/* Only the given length is looked at. */
	assert_int_equal(addr_parse_path(in, 7, 0, &out, &rest, &err), 0);
	assert_ptr_equal(rest, in + 7);
	free(out);
	expect_bad(in, 6, 0, "Missing closing bracket");
}

static void test_null(void **state)
{
	(void)state;
	expect_ok("<>", ADDR_ALLOW_NULL, "", "");
	expect_ok("<> SIZE=1", ADDR_ALLOW_NULL, "", " SIZE=1");
	bad("<>", "Null sender not allowed here");
	expect_bad("< >", 3, ADDR_ALLOW_NULL, NULL);
}

static void test_quoted(void **state)
{
	(void)state;
	/* Needless quotes go away. */
	expect_ok("<\"user\"@example.com>", 0, "user@example.com", "");
	expect_ok("<\"a.b\"@x>", 0, "a.b@x", "");
	/* Needed ones stay, with only '"' and '\' escaped. */
	expect_ok("<\"a b\"@x>", 0, "\"a b\"@x", "");
	expect_ok("<\"a\\ b\"@x>", 0, "\"a b\"@x", "");
	expect_ok("<\"a\\\"b\"@x>", 0, "\"a\\\"b\"@x", "");
	expect_ok("<\"a\\\\b\"@x>", 0, "\"a\\\\b\"@x", "");
	expect_ok("<\"a..b\"@x>", 0, "\"a..b\"@x", "");
	expect_ok("<\".a\"@x>", 0, "\".a\"@x", "");
	expect_ok("<\"\"@x>", 0, "\"\"@x", "");
	expect_ok("<\"a>b\"@x>", 0, "\"a>b\"@x", "");
	expect_ok("<\"\\a\"@x>", 0, "a@x", "");
	bad("<\"abc@x>", "Unterminated quoted string");
	bad("<\"a\"b@x>", "Syntax error in mailbox address");
	bad("<\"a\tb\"@x>", "Control character in address");
	bad("<\"a\\\tb\"@x>", "Control character in address");
	bad("<\"a\\", "Unterminated quoted string");
}

static void test_relay_shapes(void **state)
{
	(void)state;
	expect_ok("<user%outside.example@local>", 0, "user%outside.example@local", "");
	expect_ok("<\"user@outside.example\"@local>", 0, "\"user@outside.example\"@local", "");
	expect_ok("<@a,@b:user@c>", 0, "user@c", "");
	expect_ok("<@a:user@c>", 0, "user@c", "");
	expect_ok("<outside.example!user@local>", 0, "outside.example!user@local", "");
	bad("<user@outside.example@local>", "Syntax error in mailbox address");
}

static void test_source_route_bad(void **state)
{
	(void)state;
	bad("<@a,user@c>", "Syntax error in source route");
	bad("<@:user@c>", "Syntax error in domain name");
	bad("<@a;@b:user@c>", "Syntax error in source route");
	bad("<@a,b:user@c>", "Syntax error in source route");
	bad("<@a:>", "Syntax error in mailbox address");
}

static void test_bad_syntax(void **state)
{
	(void)state;
	bad("user@example.com", "Missing opening bracket");
	bad("", "Missing opening bracket");
	bad("<user@example.com", "Missing closing bracket");
	bad("<", "Missing closing bracket");
	bad("< user@example.com>", "Syntax error in mailbox address");
	bad("<user@example.com >", "Syntax error in mailbox address");
	bad("<user@example.com>x", "Syntax error in mailbox address");
	bad("<user>", "Domain name required");
	bad("<.user@x>", "Syntax error in mailbox address");
	bad("<user.@x>", "Syntax error in mailbox address");
	bad("<us..er@x>", "Syntax error in mailbox address");
	bad("<us er@x>", "Syntax error in mailbox address");
	bad("<user@>", "Syntax error in domain name");
	bad("<@x>", "Syntax error in source route");
	bad("<user@-x.com>", "Syntax error in domain name");
	bad("<user@x-.com>", "Syntax error in domain name");
	bad("<user@x..com>", "Syntax error in domain name");
	bad("<user@x.com.>", "Syntax error in domain name");
	bad("<user@.x.com>", "Syntax error in domain name");
	bad("<user@x_y.com>", "Syntax error in mailbox address");
	bad("<a@b<c>", "Syntax error in mailbox address");
	bad("<a\r@b>", "Control character in address");
	bad("<a@b\x7f>", "Control character in address");
	expect_bad("<a\0@b>", 6, 0, "Control character in address");
}

static void test_local_only(void **state)
{
	(void)state;
	expect_ok("<postmaster>", ADDR_ALLOW_LOCAL, "postmaster", "");
	expect_ok("<Postmaster@Example.ORG>", ADDR_ALLOW_LOCAL, "Postmaster@example.org", "");
	expect_ok("<\"a b\">", ADDR_ALLOW_LOCAL, "\"a b\"", "");
	bad("<postmaster>", "Domain name required");
}

static void test_literals(void **state)
{
	(void)state;
	expect_ok("<a@[192.0.2.1]>", 0, "a@[192.0.2.1]", "");
	expect_ok("<a@[IPv6:2001:DB8::1]>", 0, "a@[IPv6:2001:db8::1]", "");
	expect_ok("<a@[ipv6:::1]>", 0, "a@[IPv6:::1]", "");
	bad("<a@[192.0.2.256]>", "Invalid address literal");
	bad("<a@[192.0.2]>", "Invalid address literal");
	bad("<a@[2001:db8::1]>", "Invalid address literal");
	bad("<a@[IPv6:1.2.3.4]>", "Invalid address literal");
	bad("<a@[]>", "Invalid address literal");
	bad("<a@[IPv6:]>", "Invalid address literal");
	bad("<a@[x:1]>", "Invalid address literal");
	bad("<a@[1.2.3.4>", "Invalid address literal");
	expect_bad("<a@[1.2.3.4\0x]>", 15, 0, "Invalid address literal");
	bad("<a@[1.2.3.4]x>", "Syntax error in mailbox address");
}

static void test_lengths(void **state)
{
	char label[80], dom[400], in[1200];

	(void)state;
	memset(label, 'a', 63);
	label[63] = 0;
	snprintf(in, sizeof(in), "<u@%s.com>", label);
	snprintf(dom, sizeof(dom), "u@%s.com", label);
	expect_ok(in, 0, dom, "");
	memset(label, 'a', 64);
	label[64] = 0;
	snprintf(in, sizeof(in), "<u@%s.com>", label);
	bad(in, "Domain label too long");

	/* 4 x 63 + 3 dots = 255: the limit itself is fine, one more is not. */
	memset(label, 'b', 63);
	label[63] = 0;
	snprintf(dom, sizeof(dom), "%s.%s.%s.%s", label, label, label, label);
	snprintf(in, sizeof(in), "<u@%s>", dom);
	{
		const char *rest, *err;
		char *out;

		assert_int_equal(addr_parse_path(in, strlen(in), 0, &out, &rest, &err), 0);
		free(out);
	}
	snprintf(in, sizeof(in), "<u@%s.c>", dom);
	bad(in, "Domain name too long");

	/* A long local part is fine until the whole path passes ADDR_MAX. */
	memset(in, 'x', sizeof(in));
	in[0] = '<';
	memcpy(in + ADDR_MAX - 3, "@b>", 4);
	{
		const char *rest, *err;
		char *out;

		assert_int_equal(addr_parse_path(in, strlen(in), 0, &out, &rest, &err), 0);
		assert_int_equal(strlen(out), ADDR_MAX - 2);
		free(out);
	}
	in[ADDR_MAX - 3] = 'x';
	memcpy(in + ADDR_MAX - 2, "@b>", 4);
	bad(in, "Address too long");
}

static void test_utf8(void **state)
{
	(void)state;
	bad("<j\xc3\xbcrgen@example.com>", "8-bit address requires SMTPUTF8");
	bad("<a@b\xc3\xbc.com>", "8-bit address requires SMTPUTF8");
	expect_ok(
	    "<j\xc3\xbcrgen@B\xc3\xbc.com>", ADDR_ALLOW_UTF8, "j\xc3\xbcrgen@b\xc3\xbc.com", "");
	expect_ok("<\"\xe2\x82\xac x\"@b>", ADDR_ALLOW_UTF8, "\"\xe2\x82\xac x\"@b", "");
	expect_ok("<\xf0\x9f\x98\x80@b>", ADDR_ALLOW_UTF8, "\xf0\x9f\x98\x80@b", "");
	/* Truncated, overlong, surrogate, above U+10FFFF, stray continuation. */
	expect_bad("<a\xc3@b>", 7, ADDR_ALLOW_UTF8, "Invalid UTF-8 in address");
	expect_bad("<a\xc0\xaf@b>", 8, ADDR_ALLOW_UTF8, "Invalid UTF-8 in address");
	expect_bad("<a\xe0\x80\xaf@b>", 9, ADDR_ALLOW_UTF8, "Invalid UTF-8 in address");
	expect_bad("<a\xed\xa0\x80@b>", 9, ADDR_ALLOW_UTF8, "Invalid UTF-8 in address");
	expect_bad("<a\xf4\x90\x80\x80@b>", 10, ADDR_ALLOW_UTF8, "Invalid UTF-8 in address");
	expect_bad("<a\x80@b>", 7, ADDR_ALLOW_UTF8, "Invalid UTF-8 in address");
	expect_bad("<a@b\xff>", 7, ADDR_ALLOW_UTF8, "Invalid UTF-8 in address");
	expect_bad("<\"a\xc3\"@b>", 9, ADDR_ALLOW_UTF8, "Invalid UTF-8 in address");
	expect_bad("<a@b\xc3", 6, ADDR_ALLOW_UTF8, NULL);
}

static void test_valid_domain(void **state)
{
	(void)state;
	assert_true(addr_valid_domain("example.com", false));
	assert_true(addr_valid_domain("localhost", false));
	assert_true(addr_valid_domain("[10.0.0.1]", false));
	assert_true(addr_valid_domain("[IPv6:::1]", false));
	assert_true(addr_valid_domain("b\xc3\xbc.de", true));
	assert_false(addr_valid_domain("b\xc3\xbc.de", false));
	assert_false(addr_valid_domain("", false));
	assert_false(addr_valid_domain("a..b", false));
	assert_false(addr_valid_domain("a.b.", false));
	assert_false(addr_valid_domain("-a.b", false));
	assert_false(addr_valid_domain("a b", false));
	assert_false(addr_valid_domain("[10.0.0.1]x", false));
	assert_false(addr_valid_domain("[10.0.0]", false));
}

static void test_split(void **state)
{
	char *l, *d;

	(void)state;
	addr_split("User@Example.COM", &l, &d);
	assert_string_equal(l, "User");
	assert_string_equal(d, "example.com");
	free(l), free(d);
	addr_split("\"a@b\"@C", &l, &d);
	assert_string_equal(l, "\"a@b\"");
	assert_string_equal(d, "c");
	free(l), free(d);
	addr_split("postmaster", &l, &d);
	assert_string_equal(l, "postmaster");
	assert_string_equal(d, "");
	free(l), free(d);
	addr_split("", &l, &d);
	assert_string_equal(l, "");
	assert_string_equal(d, "");
	free(l), free(d);
}

static void test_quote_local(void **state)
{
	char *q;

	(void)state;
	q = addr_quote_local("john.doe");
	assert_string_equal(q, "john.doe");
	free(q);
	q = addr_quote_local("john doe");
	assert_string_equal(q, "\"john doe\"");
	free(q);
	q = addr_quote_local("a\"b\\c");
	assert_string_equal(q, "\"a\\\"b\\\\c\"");
	free(q);
	q = addr_quote_local("");
	assert_string_equal(q, "\"\"");
	free(q);
	q = addr_quote_local("a@b");
	assert_string_equal(q, "\"a@b\"");
	free(q);
}

static void test_is_utf8(void **state)
{
	(void)state;
	assert_false(addr_is_utf8("user@example.com"));
	assert_false(addr_is_utf8(""));
	assert_true(addr_is_utf8("us\xc3\xa9r@example.com"));
	assert_true(addr_is_utf8("user@\xe4\xbe\x8b.example"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_rest),
	    cmocka_unit_test(test_null),
	    cmocka_unit_test(test_quoted),
	    cmocka_unit_test(test_relay_shapes),
	    cmocka_unit_test(test_source_route_bad),
	    cmocka_unit_test(test_bad_syntax),
	    cmocka_unit_test(test_local_only),
	    cmocka_unit_test(test_literals),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_valid_domain),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_quote_local),
	    cmocka_unit_test(test_is_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
