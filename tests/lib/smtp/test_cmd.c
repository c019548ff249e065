/*
 * test_cmd.c - unit tests for lib/smtp/cmd.c: every verb, case and spacing
 * variants, argument rules, hostile bytes, the verb table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/cmd.h"

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

static void test_verb_names(void **state)
{
	(void)state;
	assert_string_equal(smtp_verb_name(SMTP_HELO), "HELO");
	assert_string_equal(smtp_verb_name(SMTP_STARTTLS), "STARTTLS");
	assert_string_equal(smtp_verb_name(SMTP_QUIT), "QUIT");
	assert_string_equal(smtp_verb_name(SMTP_UNKNOWN), "UNKNOWN");
	assert_string_equal(smtp_verb_name(SMTP_NVERBS), "UNKNOWN");
	/* Every verb's name parses back to it; "UNKNOWN" is not a verb. */
	for (int v = 0; v < SMTP_UNKNOWN; v++) {
		struct smtp_cmd c;
		const char *name = smtp_verb_name((enum smtp_verb)v);

		smtp_cmd_parse(name, strlen(name), &c);
		assert_int_equal(c.verb, v);
	}
	bad("UNKNOWN", SMTP_UNKNOWN, "502 5.5.2 Error: command not recognized");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verbs),
	    cmocka_unit_test(test_case_and_spacing),
	    cmocka_unit_test(test_strict),
	    cmocka_unit_test(test_arguments),
	    cmocka_unit_test(test_unknown_and_hostile),
	    cmocka_unit_test(test_verb_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
