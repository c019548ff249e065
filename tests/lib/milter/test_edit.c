/*
 * test_edit.c - unit tests for lib/milter/edit.c: splitting a message into
 * fields and body (folding, a body without the empty line), writing it
 * back unchanged, and each edit: add, insert, change by occurrence,
 * delete, change of a missing field, body replacement in pieces with a
 * CRLF split across them; edits that would inject a field are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "milter/edit.h"

static void written_is(const struct milter_msg *m, const char *want)
{
	struct buf out = BUF_INIT;

	milter_msg_write(m, &out);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void test_parse_roundtrip(void **state)
{
	const char *text = "Received: from x\n\tby y\nSubject: hi\n\nbody\n";
	struct milter_msg m;

	(void)state;
	milter_msg_parse(&m, text, strlen(text));
	assert_int_equal(m.nhdr, 2);
	assert_string_equal(m.hdr[0].name, "Received");
	assert_string_equal(milter_msg_value(&m.hdr[0], false), "from x\n\tby y");
	assert_string_equal(milter_msg_value(&m.hdr[1], true), " hi");
	written_is(&m, text);
	milter_msg_free(&m);

	/* No empty line: the body starts at the first non-field line, and
	 * is written back after one. */
	milter_msg_parse(&m, "A: 1\nnot a header\nmore\n", 23);
	assert_int_equal(m.nhdr, 1);
	written_is(&m, "A: 1\n\nnot a header\nmore\n");
	milter_msg_free(&m);
}

static void test_header_edits(void **state)
{
	const char *text = "A: 1\nX: first\nB: 2\nx: second\n\nbody\n";
	struct milter_msg m;

	(void)state;
	milter_msg_parse(&m, text, strlen(text));
	assert_true(milter_msg_add(&m, "Z", "end", false));
	assert_true(milter_msg_insert(&m, 0, "Top", "t", false));
	assert_true(milter_msg_insert(&m, 99, "Late", "l", false)); /* past the end: appended */
	assert_true(milter_msg_change(&m, 2, "X", "changed\r\n\tfolded", false));
	assert_true(milter_msg_change(&m, 1, "x", "", false));	     /* delete the first X */
	assert_true(milter_msg_change(&m, 5, "Missing", "", false)); /* nothing to delete */
	assert_true(milter_msg_change(&m, 1, "New", "added", false));
	written_is(&m, "Top: t\nA: 1\nB: 2\nx: changed\n\tfolded\nZ: end\nLate: l\nNew: added\n\n"
		       "body\n");
	/* Values that would start a field or end the header are refused. */
	assert_false(milter_msg_add(&m, "Evil", "a\r\nInjected: yes", false));
	assert_false(milter_msg_add(&m, "Evil", "a\n\nbody", false));
	assert_false(milter_msg_add(&m, "Evil", "a\rb", false));
	assert_false(milter_msg_add(&m, "Bad Name", "v", false));
	assert_false(milter_msg_add(&m, "Bad:Name", "v", false));
	assert_false(milter_msg_add(&m, "", "v", false));
	assert_false(milter_msg_change(&m, 1, "A", "x\nB: y", false));
	assert_true(milter_msg_add(&m, "Lead", " kept as is", true));
	assert_string_equal(m.hdr[m.nhdr - 1].value, " kept as is");
	milter_msg_free(&m);
}

static void test_body(void **state)
{
	struct milter_msg m;

	(void)state;
	milter_msg_parse(&m, "A: 1\n\nold\n", 10);
	milter_msg_body(&m, "one\r", 4);
	milter_msg_body(&m, "\ntwo\r\nbare\rcr\r\n", 15);
	milter_msg_body_done(&m);
	written_is(&m, "A: 1\n\none\ntwo\nbare\rcr\n");
	/* A later milter's replacement starts afresh. */
	milter_msg_body(&m, "new\r\n", 5);
	written_is(&m, "A: 1\n\nnew\n");
	milter_msg_free(&m);
}

static void test_addr_unbracket(void **state)
{
	char a[] = "<bob@example.com>", b[] = "bob@example.com", c[] = "<", d[] = "<>";

	(void)state;
	milter_addr_unbracket(a);
	assert_string_equal(a, "bob@example.com");
	milter_addr_unbracket(b);
	assert_string_equal(b, "bob@example.com");
	milter_addr_unbracket(c);
	assert_string_equal(c, "<");
	milter_addr_unbracket(d);
	assert_string_equal(d, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_unbracket),
	    cmocka_unit_test(test_parse_roundtrip),
	    cmocka_unit_test(test_header_edits),
	    cmocka_unit_test(test_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
