/*
 * test_passwd_file.c - unit tests for lib/auth/passwd_file.c (users lines
 * as Dovecot writes them, extra fields, whole files with duplicates and
 * bad lines, app password lines) and lib/auth/quota_rule.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/passwd_file.h"
#include "auth/quota_rule.h"
#include "buf.h"
#include "util.h"

static void test_line_full(void **state)
{
	char line[] = "alice@example.com:{SHA512-CRYPT}$6$x$y:5000:5000:Alice:/srv/mail/alice:"
		      "/bin/false:userdb_quota_rule=*:storage=1G nologin reason=moved allow_nets="
		      "192.0.2.0/24,::1";
	struct pwf_entry e;
	const char *why;

	(void)state;
	assert_int_equal(pwf_parse_line(line, &e, &why), 1);
	assert_string_equal(e.user, "alice@example.com");
	assert_string_equal(e.password, "{SHA512-CRYPT}$6$x$y");
	assert_string_equal(e.uid, "5000");
	assert_string_equal(e.gid, "5000");
	assert_string_equal(e.home, "/srv/mail/alice");
	assert_int_equal(e.nextra, 4);
	assert_string_equal(pwf_extra(&e, "quota_rule", true), "*:storage=1G");
	assert_null(pwf_extra(&e, "quota_rule", false)); /* only the userdb_ form is there */
	assert_string_equal(pwf_extra(&e, "nologin", false), "");
	assert_string_equal(pwf_extra(&e, "reason", false), "moved");
	assert_string_equal(pwf_extra(&e, "allow_nets", false), "192.0.2.0/24,::1");
	assert_null(pwf_extra(&e, "nolog", false));
}

static void test_line_short_forms(void **state)
{
	char l1[] = "bob:$2y$05$abc";
	char l2[] = "carol:secret[13]";
	char l3[] = "dave:::::::";
	char l4[] = "# comment: with colons";
	char l5[] = "   ";
	char l6[] = "erin:{PLAIN}x:::::: quota_rule=*:bytes=100  ";
	struct pwf_entry e;
	const char *why;

	(void)state;
	assert_int_equal(pwf_parse_line(l1, &e, &why), 1);
	assert_string_equal(e.password, "$2y$05$abc");
	assert_string_equal(e.uid, "");
	assert_string_equal(e.home, "");
	assert_int_equal(e.nextra, 0);
	assert_int_equal(pwf_parse_line(l2, &e, &why), 1);
	assert_string_equal(e.password, "secret"); /* libpam-pwdfile's [13] */
	assert_int_equal(pwf_parse_line(l3, &e, &why), 1);
	assert_string_equal(e.password, "");
	assert_int_equal(pwf_parse_line(l4, &e, &why), 0);
	assert_int_equal(pwf_parse_line(l5, &e, &why), 0);
	assert_int_equal(pwf_parse_line(l6, &e, &why), 1);
	assert_int_equal(e.nextra, 1);
	assert_string_equal(pwf_extra(&e, "quota_rule", true), "*:bytes=100");
}

static void test_line_bad(void **state)
{
	char l1[] = ":nouser";
	char l2[] = "with space:pw";
	char l3[] = "ctl\x01:pw";
	char l4[] = "x:pw:::::: =novalue";
	char l5[] = "x:pw:1 2";
	char l6[] = "x:{PLAIN}pass word:1:2";
	struct pwf_entry e;
	const char *why;

	(void)state;
	assert_int_equal(pwf_parse_line(l1, &e, &why), -1);
	assert_int_equal(pwf_parse_line(l2, &e, &why), -1);
	assert_int_equal(pwf_parse_line(l3, &e, &why), -1);
	assert_int_equal(pwf_parse_line(l4, &e, &why), -1);
	assert_int_equal(pwf_parse_line(l5, &e, &why), -1);
	assert_non_null(why);
	assert_int_equal(pwf_parse_line(l6, &e, &why), 1);
	assert_string_equal(e.password, "{PLAIN}pass word");
}

static void test_format_round_trip(void **state)
{
	char line[] = "u@d:{CRYPT}$y$abc:1:2::/home/u::nologin userdb_mail=maildir:~/Maildir";
	struct pwf_entry e, f;
	struct buf out = BUF_INIT;
	const char *why;
	char *copy;

	(void)state;
	assert_int_equal(pwf_parse_line(line, &e, &why), 1);
	pwf_format_line(&out, &e);
	assert_string_equal(buf_cstr(&out),
	    "u@d:{CRYPT}$y$abc:1:2::/home/u::nologin userdb_mail=maildir:~/Maildir\n");
	copy = xstrndup(out.data, out.len - 1);
	assert_int_equal(pwf_parse_line(copy, &f, &why), 1);
	assert_string_equal(pwf_extra(&f, "mail", true), "maildir:~/Maildir");
	free(copy);
	buf_free(&out);
}

static void test_whole_file(void **state)
{
	const char *text = "# users\n"
			   "Zed@Example.com:{PLAIN}z\n"
			   "alice:{PLAIN}a\r\n"
			   "bad line:x\n"
			   "ALICE:{PLAIN}second\n"
			   "bob:{PLAIN}b";
	struct pwf f;
	struct buf errs = BUF_INIT;
	const struct pwf_entry *e;

	(void)state;
	pwf_parse(text, strlen(text), "users", &f, &errs);
	assert_int_equal(f.n, 3);
	assert_non_null(strstr(buf_cstr(&errs), "users:4: bad user name"));
	assert_non_null(strstr(buf_cstr(&errs), "users:5: user ALICE already on line 3"));
	e = pwf_find(&f, "Alice");
	assert_non_null(e);
	assert_string_equal(e->password, "{PLAIN}a"); /* the first wins; CR dropped */
	assert_int_equal(e->lineno, 3);
	assert_non_null(pwf_find(&f, "zed@example.COM"));
	assert_non_null(pwf_find(&f, "bob"));
	assert_null(pwf_find(&f, "carol"));
	pwf_free(&f);
	buf_free(&errs);
	pwf_parse("", 0, "empty", &f, &errs);
	assert_int_equal(f.n, 0);
	assert_null(pwf_find(&f, "x"));
	pwf_free(&f);
	pwf_parse("a:b\0c\nd:e\n", 10, "nul", &f, &errs);
	assert_int_equal(f.n, 1);
	pwf_free(&f);
	buf_free(&errs);
}

static void test_app_lines(void **state)
{
	char l1[] = "alice@example.com:phone:imap,smtp:{SSHA256}abc:1700000000";
	char l2[] = "alice@example.com:laptop::{SSHA256}def:1";
	char l3[] = "alice:bad label:imap:{X}y:1";
	char l4[] = "alice:l:imap:{X}y";
	char l5[] = "alice:l:im ap:{X}y:1";
	struct pwf_app a;
	const char *why;

	(void)state;
	assert_int_equal(pwf_app_parse_line(l1, &a, &why), 1);
	assert_string_equal(a.label, "phone");
	assert_string_equal(a.services, "imap,smtp");
	assert_true(a.created == 1700000000);
	assert_true(pwf_app_allows(a.services, "SMTP"));
	assert_false(pwf_app_allows(a.services, "pop3"));
	assert_false(pwf_app_allows(a.services, "ima"));
	assert_int_equal(pwf_app_parse_line(l2, &a, &why), 1);
	assert_true(pwf_app_allows(a.services, "pop3"));
	assert_int_equal(pwf_app_parse_line(l3, &a, &why), -1);
	assert_int_equal(pwf_app_parse_line(l4, &a, &why), -1);
	assert_int_equal(pwf_app_parse_line(l5, &a, &why), -1);
	assert_true(pwf_word_valid("my-phone_2.0"));
	assert_false(pwf_word_valid(""));
	assert_false(pwf_word_valid("a:b"));
}

static void test_quota_rule(void **state)
{
	long long bytes, msgs;
	char out[32];

	(void)state;
	assert_int_equal(quota_rule_parse("*:storage=1G", &bytes, &msgs), 0);
	assert_true(bytes == 1LL << 30);
	assert_true(msgs == -1);
	assert_int_equal(quota_rule_parse("*:storage=1024:messages=500", &bytes, &msgs), 0);
	assert_true(bytes == 1 << 20); /* kilobytes without a unit, as in Dovecot */
	assert_true(msgs == 500);
	assert_int_equal(quota_rule_parse("*:bytes=100", &bytes, &msgs), 0);
	assert_true(bytes == 100);
	assert_int_equal(quota_rule_parse("*:storage=0", &bytes, &msgs), 0);
	assert_true(bytes == -1);
	assert_int_equal(quota_rule_parse("Trash:storage=1G", &bytes, &msgs), -1);
	assert_int_equal(quota_rule_parse("*:storage=1X", &bytes, &msgs), -1);
	assert_int_equal(quota_rule_parse("*:storage", &bytes, &msgs), -1);
	assert_int_equal(quota_rule_parse("*:colour=red", &bytes, &msgs), -1);
	assert_true(quota_size_parse("512MB", 1) == 512LL << 20);
	assert_true(quota_size_parse("2t", 1) == 2LL << 40);
	assert_true(quota_size_parse("-1", 1) == -1);
	assert_true(quota_size_parse("99999999999999999999", 1) == -1);
	quota_size_format(1LL << 30, out, sizeof(out));
	assert_string_equal(out, "1G");
	quota_size_format(1536 * 1024, out, sizeof(out));
	assert_string_equal(out, "1.5M");
	quota_size_format(100, out, sizeof(out));
	assert_string_equal(out, "100");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line_full),
	    cmocka_unit_test(test_line_short_forms),
	    cmocka_unit_test(test_line_bad),
	    cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_whole_file),
	    cmocka_unit_test(test_app_lines),
	    cmocka_unit_test(test_quota_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
