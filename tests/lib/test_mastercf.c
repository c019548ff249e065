/*
 * test_mastercf.c - unit tests for lib/mastercf.c (master.cf parsing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mastercf.h"
#include "util.h"

static void parse_ok(const char *text, struct master_cf *cf)
{
	struct buf err = BUF_INIT;

	if (mastercf_parse_text(text, strlen(text), "master.cf", cf, &err) != 0)
		fail_msg("unexpected error: %s", buf_cstr(&err));
	buf_free(&err);
}

/* Parses text that must fail with want in the error text. */
static void parse_bad_len(const char *text, size_t len, const char *want)
{
	struct master_cf cf = {(struct master_service *)&cf, 99};
	struct buf err = BUF_INIT;

	assert_int_equal(mastercf_parse_text(text, len, "master.cf", &cf, &err), -1);
	if (strstr(buf_cstr(&err), want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", buf_cstr(&err), want);
	/* Nothing is half-parsed. */
	assert_null(cf.services);
	assert_int_equal(cf.count, 0);
	buf_free(&err);
}

#define parse_bad(text, want) parse_bad_len(text, sizeof(text) - 1, want)

static void assert_argv(const struct master_service *s, const char *const *want)
{
	int n = 0;

	while (want[n])
		n++;
	assert_int_equal(s->argc, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(s->argv[i], want[i]);
	assert_null(s->argv[n]);
}

static void test_good_lines(void **state)
{
	struct master_cf cf;
	static const char *const smtpd[] = {"smtpd", NULL};
	static const char *const sub[] = {"smtpd", "-o", "syslog_name=tern/submission", "-o",
	    "smtpd_tls_security_level=encrypt", NULL};

	(void)state;
	parse_ok("# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
		 "\n"
		 "127.0.0.1:2525 inet n - n - - smtpd\n"
		 "cleanup   unix  n       -       n       -       0       cleanup\n"
		 "qmgr      unix  n       -       n       300?    1       qmgr\n"
		 "submission inet y n y 60 5 smtpd -o syslog_name=tern/submission"
		 " -o smtpd_tls_security_level=encrypt\n"
		 "[::1]:25\tinet\t-\t-\t-\t-\t-\tsmtpd",
	    &cf);
	assert_int_equal(cf.count, 5);

	assert_string_equal(cf.services[0].name, "127.0.0.1:2525");
	assert_int_equal(cf.services[0].type, SERVICE_INET);
	assert_false(cf.services[0].private_);
	assert_true(cf.services[0].unpriv);
	assert_false(cf.services[0].chroot);
	assert_int_equal(cf.services[0].wakeup, 0);
	assert_int_equal(cf.services[0].maxproc, -1);
	assert_int_equal(cf.services[0].line, 3);
	assert_argv(&cf.services[0], smtpd);

	assert_int_equal(cf.services[1].type, SERVICE_UNIX);
	assert_int_equal(cf.services[1].maxproc, 0);
	assert_int_equal(cf.services[2].wakeup, 300);
	assert_int_equal(cf.services[2].maxproc, 1);
	assert_int_equal(cf.services[2].line, 5);

	assert_true(cf.services[3].private_);
	assert_false(cf.services[3].unpriv);
	assert_true(cf.services[3].chroot);
	assert_int_equal(cf.services[3].wakeup, 60);
	assert_int_equal(cf.services[3].maxproc, 5);
	assert_argv(&cf.services[3], sub);

	/* "-" everywhere gives the defaults. */
	assert_string_equal(cf.services[4].name, "[::1]:25");
	assert_true(cf.services[4].private_);
	assert_true(cf.services[4].unpriv);
	assert_false(cf.services[4].chroot);
	assert_int_equal(cf.services[4].wakeup, 0);
	assert_int_equal(cf.services[4].maxproc, -1);
	mastercf_free(&cf);
	assert_null(cf.services);
	assert_int_equal(cf.count, 0);
}

static void test_empty(void **state)
{
	struct master_cf cf;

	(void)state;
	parse_ok("", &cf);
	assert_int_equal(cf.count, 0);
	parse_ok("# only comments\n\n   \n  # indented comment\n", &cf);
	assert_int_equal(cf.count, 0);
	mastercf_free(&cf);
}

static void test_continuation(void **state)
{
	struct master_cf cf;
	static const char *const want[] = {"smtpd", "-o", "a=1", "-o", "b=2", "-v", NULL};

	(void)state;
	parse_ok("smtp inet n - n - - smtpd\n"
		 "  -o a=1\n"
		 "# a comment inside the entry\n"
		 "\n"
		 "\t-o b=2 -v\r\n"
		 "pickup unix n - n 60 1 pickup\n",
	    &cf);
	assert_int_equal(cf.count, 2);
	assert_argv(&cf.services[0], want);
	assert_int_equal(cf.services[0].line, 1);
	assert_int_equal(cf.services[1].line, 6);
	assert_int_equal(cf.services[1].argc, 1);
	mastercf_free(&cf);

	/* Columns may continue on the next line too. */
	parse_ok("smtp inet n -\n   n - -\n   smtpd\n", &cf);
	assert_int_equal(cf.count, 1);
	assert_false(cf.services[0].chroot);
	assert_string_equal(cf.services[0].argv[0], "smtpd");
	mastercf_free(&cf);
}

static void test_braces(void **state)
{
	struct master_cf cf;
	static const char *const want[] = {"smtpd", "-o",
	    "smtpd_recipient_restrictions=permit_mynetworks, reject", "-o", "x=", "grouped text",
	    "", "-o", "a=b", NULL};
	static const char *const nested[] = {
	    "cmd", "a {b c} d", "p={ q r }", "-o", "k={ v w }", NULL};
	static const char *const spanning[] = {"smtpd", "-o", "r=permit, reject", NULL};

	(void)state;
	parse_ok("smtp inet n - n - - smtpd"
		 " -o { smtpd_recipient_restrictions = permit_mynetworks, reject }"
		 " -o {x = }"
		 " {  grouped text  }"
		 " {} -o a=b\n",
	    &cf);
	assert_argv(&cf.services[0], want);
	mastercf_free(&cf);

	/* Outer braces only are removed; inner ones and mid-word ones stay. */
	parse_ok("s unix - - - - - cmd {a {b c} d} p={ q r } -o k={ v w }\n", &cf);
	assert_argv(&cf.services[0], nested);
	mastercf_free(&cf);

	/* A group may span continuation lines. */
	parse_ok("smtp inet n - n - - smtpd -o { r = permit,\n    reject }\n", &cf);
	assert_argv(&cf.services[0], spanning);
	mastercf_free(&cf);
}

static void test_bad_type(void **state)
{
	(void)state;
	parse_bad("a inet - - - - - x\nb fifo n - n - - pickup\n",
	    "master.cf:2: unsupported service type \"fifo\"");
	parse_bad("b pass n - n - - smtpd\n", "unsupported service type");
	parse_bad("b INET n - n - - smtpd\n", "unsupported service type");
	parse_bad("../../etc/x unix n - n - - cleanup\n", "master.cf:1: bad unix service name");
}

static void test_bad_columns(void **state)
{
	(void)state;
	parse_bad("a inet - - - - -1 x\n", "master.cf:1: bad maxproc");
	parse_bad("a inet - - - - 5x x\n", "bad maxproc");
	parse_bad("a inet - - - - 99999999999 x\n", "bad maxproc");
	parse_bad("a inet - - - - ? x\n", "bad maxproc");
	parse_bad("a inet - - - x - x\n", "bad wakeup");
	parse_bad("a inet - - - ? - x\n", "bad wakeup");
	parse_bad("a inet - - - -5 - x\n", "bad wakeup");
	parse_bad("a inet yes - - - - x\n", "bad private column");
	parse_bad("a inet - Y - - - x\n", "bad unpriv column");
	parse_bad("a inet - - 1 - - x\n", "bad chroot column");
	parse_bad("\n\nsmtp inet n - n - -\n", "master.cf:3: missing command");
	parse_bad("smtp inet n - n - -   \n  # comment\n", "master.cf:1: missing command");
	parse_bad("smtp inet n - n - - {  } -v\n", "missing command");
	parse_bad("smtp inet n - n\n", "missing wakeup column");
	parse_bad("smtp\n", "missing type column");
	parse_bad("  smtp inet n - n - - smtpd\n", "master.cf:1: continuation line");
	parse_bad("a inet - - - - - x\0y\n", "NUL byte");
}

static void test_bad_braces(void **state)
{
	(void)state;
	parse_bad("a inet - - - - - x -o { a = b\n", "missing '}'");
	parse_bad("a inet - - - - - x -o a = b }\n", "unexpected '}'");
	parse_bad("a inet - - - - - x {a}b\n", "text after '}'");
	parse_bad("a inet - - - - - x {a}{b}\n", "text after '}'");
}

static void test_duplicates(void **state)
{
	struct master_cf cf;

	(void)state;
	parse_bad("smtp inet n - n - - smtpd\n"
		  "pickup unix n - n 60 1 pickup\n"
		  "smtp inet n - n - - smtpd -v\n",
	    "master.cf:3: duplicate service \"smtp\" inet (first at line 1)");
	/* The same name with another type is a different service. */
	parse_ok("smtp inet n - n - - smtpd\nsmtp unix - - n - - smtp\n", &cf);
	assert_int_equal(cf.count, 2);
	mastercf_free(&cf);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/test_mastercf.XXXXXX";
	int fd = mkstemp(path);
	struct master_cf cf;
	struct buf err = BUF_INIT;
	static const char text[] = "smtp inet n - n - - smtpd\nbad line\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (int)sizeof(text) - 1);
	close(fd);
	assert_int_equal(mastercf_load(path, &cf, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), ":2: missing private column"));
	assert_non_null(strstr(buf_cstr(&err), path));
	assert_int_equal(cf.count, 0);
	unlink(path);
	buf_reset(&err);
	assert_int_equal(mastercf_load(path, &cf, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "No such file"));
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_lines),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_continuation),
	    cmocka_unit_test(test_braces),
	    cmocka_unit_test(test_bad_type),
	    cmocka_unit_test(test_bad_columns),
	    cmocka_unit_test(test_bad_braces),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
