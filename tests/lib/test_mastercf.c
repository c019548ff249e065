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
	parse_bad("a inet - - - - - x\nb fifo2 n - n - - pickup\n",
	    "master.cf:2: unsupported service type \"fifo2\"");
	parse_bad("b INET n - n - - smtpd\n", "unsupported service type");
	parse_bad("../../etc/x unix n - n - - cleanup\n", "master.cf:1: bad unix service name");
	parse_bad("a/b fifo n - n - - pickup\n", "bad fifo service name");
	parse_bad("a/b unix-dgram n - n - - postlogd\n", "bad unix-dgram service name");
}

/* Every type of Postfix's master.cf parses; what runs is the plan's call. */
static void test_postfix_types(void **state)
{
	struct master_cf cf;

	(void)state;
	parse_ok("postlog unix-dgram n - n - 1 postlogd\npickup fifo n - n 60 1 pickup\n"
		 "smtpd pass - - y - - smtpd\nsmtp inet n - y - - smtpd\n",
	    &cf);
	assert_int_equal(cf.count, 4);
	assert_int_equal(cf.services[0].type, SERVICE_UNIX_DGRAM);
	assert_int_equal(cf.services[1].type, SERVICE_FIFO);
	assert_int_equal(cf.services[2].type, SERVICE_PASS);
	assert_string_equal(mastercf_type_name(cf.services[0].type), "unix-dgram");
	assert_string_equal(mastercf_type_name(cf.services[2].type), "pass");
	mastercf_free(&cf);
	/* The same name with another type is another service. */
	parse_ok("smtp inet n - y - - smtpd\nsmtp unix - - y - - smtp\n", &cf);
	assert_int_equal(cf.count, 2);
	mastercf_free(&cf);
}

static void plan_of(const char *line, struct service_plan *plan)
{
	struct master_cf cf;

	parse_ok(line, &cf);
	mastercf_plan(&cf.services[0], plan);
	mastercf_free(&cf);
}

/* What tern does with each service of Postfix's stock master.cf. */
static void test_plan(void **state)
{
	static const char *const skipped[] = {"tlsmgr unix - - y 1000? 1 tlsmgr\n",
	    "rewrite unix - - y - - trivial-rewrite\n", "bounce unix - - y - 0 bounce\n",
	    "defer unix - - y - 0 bounce\n", "trace unix - - y - 0 bounce\n",
	    "verify unix - - y - 1 verify\n", "flush unix n - y 1000? 0 flush\n",
	    "proxymap unix - - n - - proxymap\n", "proxywrite unix - - n - 1 proxymap\n",
	    "retry unix - - y - - error\n", "anvil unix - - y - 1 anvil\n",
	    "scache unix - - y - 1 scache\n", "postlog unix-dgram n - n - 1 postlogd\n",
	    "tlsproxy unix - - y - 0 tlsproxy\n", "dnsblog unix - - y - 0 dnsblog\n", NULL};
	static const char *const unserved[] = {"smtp inet n - y - 1 postscreen\n",
	    "smtpd pass - - y - - smtpd\n",
	    "policy unix - n n - 0 spawn user=nobody argv=/bin/true\n",
	    "x unix-dgram - - n - - myprog\n", "x fifo - - n - - myprog\n", NULL};
	struct service_plan p;

	(void)state;
	for (int i = 0; skipped[i]; i++) {
		plan_of(skipped[i], &p);
		if (p.action != SERVICE_SKIP)
			fail_msg("not skipped: %s", skipped[i]);
		assert_non_null(p.note);
	}
	for (int i = 0; unserved[i]; i++) {
		plan_of(unserved[i], &p);
		if (p.action != SERVICE_UNSERVED)
			fail_msg("not unserved: %s", unserved[i]);
		assert_non_null(p.note);
	}
	plan_of("smtp inet n - y - - smtpd\n", &p);
	assert_int_equal(p.action, SERVICE_RUN);
	assert_string_equal(p.program, "smtpd");
	assert_null(p.mode);
	/* Postfix's public cleanup and qmgr stay private in tern. */
	plan_of("cleanup unix n - y - 0 cleanup\n", &p);
	assert_int_equal(p.action, SERVICE_RUN);
	assert_true(p.private_);
	assert_non_null(p.note);
	plan_of("qmgr unix n - n 300 1 qmgr\n", &p);
	assert_true(p.private_);
	plan_of("pickup unix n - y 60 1 pickup\n", &p);
	assert_false(p.private_);
	assert_null(p.note);
	plan_of("qmgr fifo n - n 300 1 oqmgr\n", &p);
	assert_int_equal(p.action, SERVICE_RUN);
	assert_string_equal(p.program, "qmgr");
	assert_int_equal(p.type, SERVICE_UNIX);
	/* showq (mailq for every user) runs in public/, on demand. */
	plan_of("showq unix n - y - - showq\n", &p);
	assert_int_equal(p.action, SERVICE_RUN);
	assert_string_equal(p.program, "showq");
	assert_false(p.private_);
	assert_true(p.on_demand);
	/* pipe runs, started by its first client only. */
	plan_of("maildrop unix - n n - - pipe flags=DRXhu user=vmail argv=/usr/bin/maildrop\n", &p);
	assert_int_equal(p.action, SERVICE_RUN);
	assert_string_equal(p.program, "pipe");
	assert_true(p.on_demand);
	assert_true(p.private_);
	/* The delivery agents start with their first client. */
	plan_of("smtp unix - - y - - smtp\n", &p);
	assert_true(p.on_demand);
	plan_of("quota-status unix - n n - 2 local quota-status\n", &p);
	assert_true(p.on_demand);
	plan_of("qmgr unix n - n 300 1 qmgr\n", &p);
	assert_false(p.on_demand);
	plan_of("cleanup unix n - n - 0 cleanup\n", &p);
	assert_false(p.on_demand);
	/* virtual is a mode of tern's local program, started on demand. */
	plan_of("virtual unix - n n - - virtual\n", &p);
	assert_int_equal(p.action, SERVICE_RUN);
	assert_string_equal(p.program, "local");
	assert_string_equal(p.mode, "virtual");
	assert_true(p.on_demand);
	/* lmtp is a mode of tern's smtp program, started on demand. */
	plan_of("lmtp unix - - y - - lmtp\n", &p);
	assert_int_equal(p.action, SERVICE_RUN);
	assert_string_equal(p.program, "smtp");
	assert_string_equal(p.mode, "lmtp");
	assert_true(p.on_demand);
	/* error and discard are modes of tern's smtp program. */
	plan_of("error unix - - y - - error\n", &p);
	assert_string_equal(p.program, "smtp");
	assert_string_equal(p.mode, "error");
	plan_of("bin unix - - y - - discard\n", &p);
	assert_string_equal(p.program, "smtp");
	assert_string_equal(p.mode, "discard");
	plan_of("relay unix - - y - - smtp -o syslog_name=postfix/$service_name\n", &p);
	assert_string_equal(p.program, "smtp");
	/* A program Postfix does not have runs as written: tern's own or a path. */
	plan_of("auth unix - - n - 1 auth\n", &p);
	assert_int_equal(p.action, SERVICE_RUN);
	assert_null(p.program);
	plan_of("x inet n - n - 1 /bin/false\n", &p);
	assert_int_equal(p.action, SERVICE_RUN);
	assert_null(p.program);
	/* Postfix's own binaries by path are not tern's. */
	plan_of("x unix - - n - 1 /usr/lib/postfix/sbin/tlsmgr\n", &p);
	assert_int_equal(p.action, SERVICE_RUN);
	assert_null(p.program);
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
	    cmocka_unit_test(test_postfix_types),
	    cmocka_unit_test(test_plan),
	    cmocka_unit_test(test_bad_columns),
	    cmocka_unit_test(test_bad_braces),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
