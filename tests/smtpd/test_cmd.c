/*
 * test_cmd.c - unit tests for smtpd/cmd.c: every verb, case and spacing
 * variants, argument rules, hostile bytes, ESMTP parameters, xtext.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "../../smtpd/cmd.h"

/* Parses line and checks verb and argument (NULL: none). */
static void ok(const char *line, enum smtp_verb verb, const char *arg)
{
	struct smtp_cmd c;

	if (smtp_cmd_parse(line, strlen(line), &c) != 0)
		fail_msg("'%s' refused: %s", line, c.error);
	assert_int_equal(c.verb, verb);
	assert_null(c.error);
	if (arg == NULL) {
		assert_null(c.arg);
		assert_int_equal(c.arg_len, 0);
	} else {
		assert_non_null(c.arg);
		assert_int_equal(c.arg_len, strlen(arg));
		assert_memory_equal(c.arg, arg, c.arg_len);
		assert_true(c.arg >= line && c.arg + c.arg_len <= line + strlen(line));
	}
}

static void bad_len(const char *line, size_t len, int flags, enum smtp_verb verb, const char *error)
{
	struct smtp_cmd c;

	assert_int_equal(smtp_cmd_parse_flags(line, len, flags, &c), -1);
	assert_int_equal(c.verb, verb);
	assert_non_null(c.error);
	assert_string_equal(c.error, error);
}

static void bad(const char *line, enum smtp_verb verb, const char *error)
{
	bad_len(line, strlen(line), 0, verb, error);
}

static void test_verbs(void **state)
{
	(void)state;
	ok("HELO client.example", SMTP_HELO, "client.example");
	ok("EHLO client.example", SMTP_EHLO, "client.example");
	ok("MAIL FROM:<a@b>", SMTP_MAIL, "<a@b>");
	ok("RCPT TO:<a@b>", SMTP_RCPT, "<a@b>");
	ok("DATA", SMTP_DATA, NULL);
	ok("BDAT 100 LAST", SMTP_BDAT, "100 LAST");
	ok("RSET", SMTP_RSET, NULL);
	ok("NOOP", SMTP_NOOP, NULL);
	ok("NOOP anything at all", SMTP_NOOP, "anything at all");
	ok("QUIT", SMTP_QUIT, NULL);
	ok("VRFY user", SMTP_VRFY, "user");
	ok("EXPN list", SMTP_EXPN, "list");
	ok("HELP", SMTP_HELP, NULL);
	ok("HELP MAIL", SMTP_HELP, "MAIL");
	ok("STARTTLS", SMTP_STARTTLS, NULL);
	ok("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", SMTP_AUTH, "PLAIN dGVzdAB0ZXN0AHRlc3Q=");
}

static void test_case_and_spacing(void **state)
{
	(void)state;
	ok("ehlo x", SMTP_EHLO, "x");
	ok("eHlO x", SMTP_EHLO, "x");
	ok("EHLO   x  ", SMTP_EHLO, "x");
	ok("EHLO\tx", SMTP_EHLO, "x");
	ok("EHLO x y", SMTP_EHLO, "x y");
	ok("data", SMTP_DATA, NULL);
	ok("DATA  ", SMTP_DATA, NULL);
	ok("quit\t", SMTP_QUIT, NULL);
	ok("mail from:<a@b>", SMTP_MAIL, "<a@b>");
	ok("Mail From:<a@b> SIZE=10", SMTP_MAIL, "<a@b> SIZE=10");
	ok("MAIL FROM: <a@b>", SMTP_MAIL, "<a@b>");
	ok("MAIL  FROM:  <a@b>  BODY=8BITMIME  ", SMTP_MAIL, "<a@b>  BODY=8BITMIME");
	ok("MAIL FROM:<>", SMTP_MAIL, "<>");
	ok("rcpt to:<postmaster>", SMTP_RCPT, "<postmaster>");
	ok("RCPT TO: <a@b> NOTIFY=NEVER", SMTP_RCPT, "<a@b> NOTIFY=NEVER");
}

static void test_strict(void **state)
{
	struct smtp_cmd c;
	const char *l = "MAIL FROM:<a@b> SIZE=1";

	(void)state;
	assert_int_equal(smtp_cmd_parse_flags(l, strlen(l), SMTP_CMD_STRICT, &c), 0);
	assert_int_equal(c.verb, SMTP_MAIL);
	assert_int_equal(c.arg_len, strlen("<a@b> SIZE=1"));
	l = "MAIL FROM: <a@b>";
	bad_len(l, strlen(l), SMTP_CMD_STRICT, SMTP_MAIL, "501 5.5.4 Syntax: MAIL FROM:<address>");
	l = "MAIL  FROM:<a@b>";
	bad_len(l, strlen(l), SMTP_CMD_STRICT, SMTP_MAIL, "501 5.5.4 Syntax: MAIL FROM:<address>");
	l = "RCPT TO: <a@b>";
	bad_len(l, strlen(l), SMTP_CMD_STRICT, SMTP_RCPT, "501 5.5.4 Syntax: RCPT TO:<address>");
}

static void test_arguments(void **state)
{
	(void)state;
	bad("EHLO", SMTP_EHLO, "501 5.5.4 Syntax: EHLO hostname");
	bad("EHLO   ", SMTP_EHLO, "501 5.5.4 Syntax: EHLO hostname");
	bad("HELO", SMTP_HELO, "501 5.5.4 Syntax: HELO hostname");
	bad("DATA x", SMTP_DATA, "501 5.5.4 Syntax: DATA");
	bad("RSET now", SMTP_RSET, "501 5.5.4 Syntax: RSET");
	bad("QUIT please", SMTP_QUIT, "501 5.5.4 Syntax: QUIT");
	bad("STARTTLS x", SMTP_STARTTLS, "501 5.5.4 Syntax: STARTTLS");
	bad("BDAT", SMTP_BDAT, "501 5.5.4 Syntax: BDAT count [LAST]");
	bad("AUTH", SMTP_AUTH, "501 5.5.4 Syntax: AUTH mechanism");
	bad("VRFY", SMTP_VRFY, "501 5.5.4 Syntax: VRFY address");
	bad("MAIL", SMTP_MAIL, "501 5.5.4 Syntax: MAIL FROM:<address>");
	bad("MAIL FROM:", SMTP_MAIL, "501 5.5.4 Syntax: MAIL FROM:<address>");
	bad("MAIL FROM", SMTP_MAIL, "501 5.5.4 Syntax: MAIL FROM:<address>");
	bad("MAIL FRO:<a@b>", SMTP_MAIL, "501 5.5.4 Syntax: MAIL FROM:<address>");
	bad("MAIL TO:<a@b>", SMTP_MAIL, "501 5.5.4 Syntax: MAIL FROM:<address>");
	bad("MAIL FROM:a@b", SMTP_MAIL, "501 5.5.4 Syntax: MAIL FROM:<address>");
	bad("MAIL FROM :<a@b>", SMTP_MAIL, "501 5.5.4 Syntax: MAIL FROM:<address>");
	bad("RCPT FROM:<a@b>", SMTP_RCPT, "501 5.5.4 Syntax: RCPT TO:<address>");
	bad("RCPT TO:", SMTP_RCPT, "501 5.5.4 Syntax: RCPT TO:<address>");
	bad("RCPT T", SMTP_RCPT, "501 5.5.4 Syntax: RCPT TO:<address>");
}

static void test_unknown_and_hostile(void **state)
{
	(void)state;
	bad("", SMTP_UNKNOWN, "500 5.5.2 Error: bad syntax");
	bad("FOO", SMTP_UNKNOWN, "502 5.5.2 Error: command not recognized");
	bad("EHLOx y", SMTP_UNKNOWN, "502 5.5.2 Error: command not recognized");
	bad("MAILFROM:<a@b>", SMTP_UNKNOWN, "502 5.5.2 Error: command not recognized");
	bad(" EHLO x", SMTP_UNKNOWN, "502 5.5.2 Error: command not recognized");
	bad("   ", SMTP_UNKNOWN, "502 5.5.2 Error: command not recognized");
	bad("GET / HTTP/1.1", SMTP_UNKNOWN, "502 5.5.2 Error: command not recognized");
	bad("DAT", SMTP_UNKNOWN, "502 5.5.2 Error: command not recognized");
	bad("DATAX", SMTP_UNKNOWN, "502 5.5.2 Error: command not recognized");
	bad_len("DATA\0", 5, 0, SMTP_UNKNOWN, "500 5.5.2 Error: bad character in command");
	bad_len("EHLO a\0b", 8, 0, SMTP_UNKNOWN, "500 5.5.2 Error: bad character in command");
	bad("DATA\r", SMTP_UNKNOWN, "500 5.5.2 Error: bad character in command");
	bad("RCPT TO:<a@b>\nDATA", SMTP_UNKNOWN, "500 5.5.2 Error: bad character in command");
	/* Only len bytes are looked at. */
	{
		struct smtp_cmd c;

		assert_int_equal(smtp_cmd_parse("DATA trailing", 4, &c), 0);
		assert_int_equal(c.verb, SMTP_DATA);
	}
}

/* Parses params and checks the count. */
static size_t params_ok(const char *s, struct smtp_param *p, size_t max)
{
	const char *err = NULL;
	size_t n = 99;

	if (smtp_params_parse(s, strlen(s), p, max, &n, &err) != 0)
		fail_msg("'%s' refused: %s", s, err);
	return n;
}

static void params_bad(const char *s, const char *want)
{
	struct smtp_param p[4];
	const char *err = NULL;
	size_t n;

	assert_int_equal(smtp_params_parse(s, strlen(s), p, 4, &n, &err), -1);
	assert_non_null(err);
	assert_string_equal(err, want);
}

static void test_params(void **state)
{
	struct smtp_param p[SMTP_PARAMS_MAX];

	(void)state;
	assert_int_equal(params_ok("", p, 4), 0);
	assert_int_equal(params_ok("   ", p, 4), 0);
	assert_int_equal(params_ok(" SIZE=1000 BODY=8BITMIME  SMTPUTF8", p, 4), 3);
	assert_int_equal(p[0].key_len, 4);
	assert_memory_equal(p[0].key, "SIZE", 4);
	assert_int_equal(p[0].value_len, 4);
	assert_memory_equal(p[0].value, "1000", 4);
	assert_true(smtp_param_is(&p[0], "size"));
	assert_true(smtp_param_is(&p[0], "SIZE"));
	assert_false(smtp_param_is(&p[0], "SIZ"));
	assert_false(smtp_param_is(&p[0], "SIZES"));
	assert_true(smtp_param_is(&p[1], "Body"));
	assert_memory_equal(p[1].value, "8BITMIME", 8);
	assert_true(smtp_param_is(&p[2], "smtputf8"));
	assert_null(p[2].value);
	assert_int_equal(p[2].value_len, 0);

	assert_int_equal(
	    params_ok("ORCPT=rfc822;a+2Bb@example.com NOTIFY=SUCCESS,FAILURE", p, 4), 2);
	assert_memory_equal(p[0].value, "rfc822;a+2Bb@example.com", p[0].value_len);
	assert_int_equal(params_ok("X-9-=~!", p, 4), 1);
	assert_int_equal(p[0].key_len, 4);
	assert_int_equal(params_ok("A B C D", p, 4), 4);
}

static void test_params_bad(void **state)
{
	(void)state;
	params_bad("SIZE=", "501 5.5.4 Syntax error in parameters");
	params_bad("=1", "501 5.5.4 Syntax error in parameters");
	params_bad("-X=1", "501 5.5.4 Syntax error in parameters");
	params_bad("SIZE=1=2", "501 5.5.4 Syntax error in parameters");
	params_bad("SI_ZE=1", "501 5.5.4 Syntax error in parameters");
	params_bad("SIZE=\x7f", "501 5.5.4 Syntax error in parameters");
	params_bad("SIZE=\xc3\xa9", "501 5.5.4 Syntax error in parameters");
	params_bad("SIZE=\x01", "501 5.5.4 Syntax error in parameters");
	params_bad("A B C D E", "501 5.5.4 Too many parameters");
	{
		struct smtp_param p[1];
		const char *err;
		size_t n;

		assert_int_equal(smtp_params_parse("A=\0", 3, p, 1, &n, &err), -1);
	}
}

static void xtext_ok(const char *in, const char *want, size_t want_len)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "junk");
	assert_int_equal(smtp_xtext_decode(in, strlen(in), &b), 0);
	assert_int_equal(b.len, want_len);
	assert_memory_equal(b.data, want, want_len);
	buf_free(&b);
}

static void xtext_bad(const char *in)
{
	struct buf b = BUF_INIT;

	assert_int_equal(smtp_xtext_decode(in, strlen(in), &b), -1);
	buf_free(&b);
}

static void test_xtext(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	xtext_ok("", "", 0);
	xtext_ok("rfc822;user@example.com", "rfc822;user@example.com", 23);
	xtext_ok("a+2Bb", "a+b", 3);
	xtext_ok("a+2bb", "a+b", 3);
	xtext_ok("+3D+20+FF", "= \xff", 3);
	xtext_bad("a+");
	xtext_bad("a+2");
	xtext_bad("a+G0");
	xtext_bad("a+0G");
	xtext_bad("a+00");
	xtext_bad("a=b");
	xtext_bad("a b");
	xtext_bad("a\x7f");
	xtext_bad("a\xc3\xa9");
	smtp_xtext_encode("a+b= c\xff", 7, &b);
	assert_string_equal(b.data, "a+2Bb+3D+20c+FF");
	{
		struct buf d = BUF_INIT;

		assert_int_equal(smtp_xtext_decode(b.data, b.len, &d), 0);
		assert_string_equal(d.data, "a+b= c\xff");
		buf_free(&d);
	}
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verbs),
	    cmocka_unit_test(test_case_and_spacing),
	    cmocka_unit_test(test_strict),
	    cmocka_unit_test(test_arguments),
	    cmocka_unit_test(test_unknown_and_hostile),
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_params_bad),
	    cmocka_unit_test(test_xtext),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
