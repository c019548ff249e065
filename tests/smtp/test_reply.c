/*
 * test_reply.c - unit tests for smtp/reply.c and the pure parts of
 * smtp/xfer.c: reply parsing, enhanced codes, EHLO extensions, content
 * encoding (CRLF, dot-stuffing), SMTPUTF8 detection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../smtp/smtp.h"

static int parse(const char *text, struct smtp_reply *r, size_t *used)
{
	return smtp_reply_parse(text, strlen(text), r, used);
}

static void test_single_line(void **state)
{
	struct smtp_reply r;
	size_t used = 0;

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(parse("250 2.1.5 Ok\r\nextra", &r, &used), 1);
	assert_int_equal(used, 14);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.dsn, "2.1.5");
	assert_string_equal(buf_cstr(&r.text), "2.1.5 Ok");
	assert_int_equal(parse("354\r\n", &r, &used), 1);
	assert_int_equal(r.code, 354);
	assert_string_equal(r.dsn, "3.0.0");
	smtp_reply_free(&r);
}

static void test_multi_line_and_partial(void **state)
{
	struct smtp_reply r;
	size_t used = 0;
	const char *ehlo = "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
			   "250-AUTH LOGIN PLAIN\r\n250-STARTTLS\r\n250-REQUIRETLS\r\n"
			   "250 CHUNKING\r\n";
	struct smtp_ext e;
	struct buf line = BUF_INIT;

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_parse(ehlo, strlen(ehlo) - 3, &r, &used), 0);
	assert_int_equal(parse("250-a\r\n250-b\r\n", &r, &used), 0);
	assert_int_equal(parse(ehlo, &r, &used), 1);
	assert_int_equal(used, strlen(ehlo));
	smtp_ext_parse(&r, &e);
	assert_true(e.esmtp && e.pipelining && e.starttls && e.chunking);
	assert_true(e.auth_plain && e.auth_login);
	assert_false(e.dsn || e.eightbit || e.smtputf8);
	assert_true(e.requiretls);
	assert_int_equal(e.size, 1000);
	assert_int_equal(parse("550-5.1.1 no\n550 such user\n", &r, &used), 1);
	smtp_reply_line(&r, &line);
	assert_string_equal(buf_cstr(&line), "550 5.1.1 no such user");
	buf_free(&line);
	smtp_reply_free(&r);
}

static void test_enhanced_codes(void **state)
{
	struct smtp_reply r;
	size_t used;

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(parse("550 no enhanced code\r\n", &r, &used), 1);
	assert_string_equal(r.dsn, "5.0.0");
	assert_int_equal(parse("451 4.7.1 greylisted\r\n", &r, &used), 1);
	assert_string_equal(r.dsn, "4.7.1");
	/* The class follows the reply code. */
	assert_int_equal(parse("550 4.1.1 mixed up\r\n", &r, &used), 1);
	assert_string_equal(r.dsn, "5.1.1");
	assert_int_equal(parse("250 2.1.1000 too long\r\n", &r, &used), 1);
	assert_string_equal(r.dsn, "2.0.0");
	assert_int_equal(parse("250 1.2.3 bad class\r\n", &r, &used), 1);
	assert_string_equal(r.dsn, "2.0.0");
	smtp_reply_free(&r);
}

static void test_malformed(void **state)
{
	struct smtp_reply r;
	size_t used;
	char big[SMTP_LINE_MAX + 20];

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(parse("25\r\n", &r, &used), -1);
	assert_int_equal(parse("abc def\r\n", &r, &used), -1);
	assert_int_equal(parse("250-a\r\n251 b\r\n", &r, &used), -1);
	assert_int_equal(parse("250xOk\r\n", &r, &used), -1);
	assert_int_equal(parse("650 nope\r\n", &r, &used), -1);
	memset(big, 'a', sizeof(big));
	memcpy(big, "250 ", 4);
	assert_int_equal(smtp_reply_parse(big, sizeof(big), &r, &used), -1);
	smtp_reply_free(&r);
}

static void encode(const char *in, bool stuff, const char *want)
{
	struct buf out = BUF_INIT;

	smtp_content_encode(in, strlen(in), stuff, &out);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void test_content_encode(void **state)
{
	(void)state;
	encode("a\n.b\n..c\n.\nend", true, "a\r\n..b\r\n...c\r\n..\r\nend\r\n.\r\n");
	encode(".x\n", true, "..x\r\n.\r\n");
	encode("", true, ".\r\n");
	encode("a\n.b\n", false, "a\r\n.b\r\n");
	encode("no newline", false, "no newline\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_line),
	    cmocka_unit_test(test_multi_line_and_partial),
	    cmocka_unit_test(test_enhanced_codes),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_content_encode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
