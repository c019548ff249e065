/*
 * test_missing.c - cleanup/missing.c: the Date:, Message-ID: and From:
 * headers added to local submissions, and only when missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../cleanup/header.h"
#include "buf.h"

static const char *build(const char *hdr, const char *from, const char *fullname, struct buf *b)
{
	struct missing_info mi = {"Sun, 22 Nov 2026 09:20:01 +0000", "<id@h>", from, fullname};

	buf_reset(b);
	hdr_missing_build(b, hdr, strlen(hdr), &mi);
	return buf_cstr(b);
}

static void test_all_missing(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(build("Subject: x\n", "u@h", NULL, &b),
	    "From: u@h\nDate: Sun, 22 Nov 2026 09:20:01 +0000\nMessage-ID: <id@h>\n");
	assert_string_equal(build("", "", "", &b),
	    "From: MAILER-DAEMON\nDate: Sun, 22 Nov 2026 09:20:01 +0000\nMessage-ID: <id@h>\n");
	buf_free(&b);
}

static void test_present_ones_kept(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(build("from: a\nDATE: x\nMessage-Id: <y>\n", "u@h", NULL, &b), "");
	/* Resent-From does not stand in for From. */
	assert_string_equal(
	    build("Resent-From: a\nDate: x\nMessage-ID: <y>\n", "u@h", NULL, &b), "From: u@h\n");
	/* Remote clients (from_addr NULL) never get a From:. */
	assert_string_equal(build("Date: x\nMessage-ID: <y>\n", NULL, "N", &b), "");
	buf_free(&b);
}

static void test_full_names(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(
	    build("Date: x\nMessage-ID: <y>\n", "u@h", "Jane Doe", &b), "From: Jane Doe <u@h>\n");
	assert_string_equal(build("Date: x\nMessage-ID: <y>\n", "u@h", "Jane Q. \"JQ\" Doe", &b),
	    "From: \"Jane Q. \\\"JQ\\\" Doe\" <u@h>\n");
	assert_string_equal(build("Date: x\nMessage-ID: <y>\n", "u@h", "Evil\nBcc: x", &b),
	    "From: \"Evil?Bcc: x\" <u@h>\n");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_missing),
	    cmocka_unit_test(test_present_ones_kept),
	    cmocka_unit_test(test_full_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
