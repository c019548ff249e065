/*
 * test_esmtp.c - unit tests for lib/smtp/esmtp.c: splitting parameter
 * lists, then every MAIL and RCPT parameter with good and bad values, the
 * extensions offered, repeats, and the replies smtpd and sendmail -bs give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/esmtp.h"

#define ALL                                                                                        \
	(ESMTP_OFFER_SIZE | ESMTP_OFFER_8BITMIME | ESMTP_OFFER_DSN | ESMTP_OFFER_SMTPUTF8 |        \
	    ESMTP_OFFER_AUTH | ESMTP_OFFER_REQUIRETLS)

/* Parses params and checks the count. */
static size_t params_ok(const char *s, struct esmtp_param *p, size_t max)
{
	const char *err = NULL;
	size_t n = 99;

	if (esmtp_params_split(s, strlen(s), p, max, &n, &err) != 0)
		fail_msg("'%s' refused: %s", s, err);
	return n;
}

static void params_bad(const char *s, const char *want)
{
	struct esmtp_param p[4];
	const char *err = NULL;
	size_t n;

	assert_int_equal(esmtp_params_split(s, strlen(s), p, 4, &n, &err), -1);
	assert_non_null(err);
	assert_string_equal(err, want);
}

static void test_params(void **state)
{
	struct esmtp_param p[ESMTP_PARAMS_MAX];

	(void)state;
	assert_int_equal(params_ok("", p, 4), 0);
	assert_int_equal(params_ok("   ", p, 4), 0);
	assert_int_equal(params_ok(" SIZE=1000 BODY=8BITMIME  SMTPUTF8", p, 4), 3);
	assert_int_equal(p[0].key_len, 4);
	assert_memory_equal(p[0].key, "SIZE", 4);
	assert_int_equal(p[0].value_len, 4);
	assert_memory_equal(p[0].value, "1000", 4);
	assert_true(esmtp_param_is(&p[0], "size"));
	assert_true(esmtp_param_is(&p[0], "SIZE"));
	assert_false(esmtp_param_is(&p[0], "SIZ"));
	assert_false(esmtp_param_is(&p[0], "SIZES"));
	assert_true(esmtp_param_is(&p[1], "Body"));
	assert_memory_equal(p[1].value, "8BITMIME", 8);
	assert_true(esmtp_param_is(&p[2], "smtputf8"));
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
		struct esmtp_param p[1];
		const char *err;
		size_t n;

		assert_int_equal(esmtp_params_split("A=\0", 3, p, 1, &n, &err), -1);
	}
}

/* MAIL parameters s are accepted (offered: everything, limit 1000). */
static void mail_ok(const char *s, struct esmtp_mail *m)
{
	char *reply = esmtp_mail_parse(s, strlen(s), ALL, 1000, m);

	if (reply)
		fail_msg("'%s' refused: %s", s, reply);
}

/* MAIL parameters s get the reply want. */
static void mail_bad(const char *s, unsigned offered, const char *want)
{
	struct esmtp_mail m;
	char *reply = esmtp_mail_parse(s, strlen(s), offered, 1000, &m);

	if (reply == NULL)
		fail_msg("'%s' accepted", s);
	assert_string_equal(reply, want);
	free(reply);
	esmtp_mail_free(&m);
}

static void test_mail(void **state)
{
	struct esmtp_mail m;

	(void)state;
	mail_ok("", &m);
	assert_int_equal(m.size, -1);
	assert_false(m.eightbit);
	assert_false(m.smtputf8);
	assert_null(m.ret);
	assert_null(m.envid);
	assert_null(m.auth);
	mail_ok(" size=1000 body=8bitmime SMTPUTF8 ret=hdrs ENVID=a+2Bb+20c AUTH=<>", &m);
	assert_int_equal(m.size, 1000);
	assert_true(m.eightbit);
	assert_true(m.smtputf8);
	assert_string_equal(m.ret, "HDRS");
	assert_string_equal(m.envid, "a+b c");
	assert_string_equal(m.auth, "<>");
	esmtp_mail_free(&m);
	assert_null(m.envid);
	mail_ok("BODY=7BIT RET=FULL AUTH=u+2Bx@example.com", &m);
	assert_false(m.eightbit);
	assert_string_equal(m.ret, "FULL");
	assert_string_equal(m.auth, "u+x@example.com");
	esmtp_mail_free(&m);
	mail_ok("SIZE=0", &m);
	assert_int_equal(m.size, 0);
	assert_false(m.requiretls);
	mail_ok("requiretls SIZE=10", &m);
	assert_true(m.requiretls);
}

static void test_mail_bad(void **state)
{
	(void)state;
	mail_bad("SIZE=1001", ALL, "552 5.3.4 Message size exceeds fixed limit");
	mail_bad("SIZE=x", ALL, "501 5.5.4 Bad message size syntax");
	mail_bad("SIZE=-1", ALL, "501 5.5.4 Bad message size syntax");
	mail_bad("SIZE=+1", ALL, "501 5.5.4 Bad message size syntax");
	mail_bad("SIZE", ALL, "501 5.5.4 Bad message size syntax");
	mail_bad("SIZE=99999999999999999999999", ALL, "501 5.5.4 Bad message size syntax");
	mail_bad("BODY=BINARYMIME", ALL, "501 5.5.4 Unsupported BODY parameter");
	mail_bad("BODY", ALL, "501 5.5.4 Unsupported BODY parameter");
	mail_bad("SMTPUTF8=yes", ALL, "501 5.5.4 SMTPUTF8 takes no value");
	mail_bad("RET=ALL", ALL, "501 5.5.4 Bad RET parameter syntax");
	mail_bad("RET", ALL, "501 5.5.4 Bad RET parameter syntax");
	mail_bad("RET=FULL RET=HDRS", ALL, "501 5.5.4 Duplicate RET parameter");
	mail_bad("ret=FULL RET=FULL", ALL, "501 5.5.4 Duplicate RET parameter");
	mail_bad("ENVID", ALL, "501 5.5.4 Bad ENVID parameter syntax");
	mail_bad("ENVID=a+2", ALL, "501 5.5.4 Bad ENVID parameter syntax");
	/* RFC 3461 4.4: printable ASCII only, at most 100 characters. */
	mail_bad("ENVID=a+0Ab", ALL, "501 5.5.4 Bad ENVID parameter syntax");
	mail_bad("ENVID=a+C3+A9", ALL, "501 5.5.4 Bad ENVID parameter syntax");
	mail_bad("ENVID=+7F", ALL, "501 5.5.4 Bad ENVID parameter syntax");
	mail_bad("AUTH=a+2", ALL, "501 5.5.4 Syntax error in AUTH parameter");
	mail_bad("FOO=bar", ALL, "555 5.5.4 Unsupported option: FOO");
	mail_bad("NOTIFY=NEVER", ALL, "555 5.5.4 Unsupported option: NOTIFY");
	mail_bad("SIZE=1 X", ALL, "555 5.5.4 Unsupported option: X");
	mail_bad("SIZE=", ALL, "501 5.5.4 Syntax error in parameters");
	/* Not offered: unsupported, whatever the value. */
	mail_bad("RET=FULL", ALL & ~ESMTP_OFFER_DSN, "555 5.5.4 Unsupported option: RET");
	mail_bad("ENVID=x", ALL & ~ESMTP_OFFER_DSN, "555 5.5.4 Unsupported option: ENVID");
	mail_bad("SMTPUTF8", ESMTP_OFFER_DSN, "555 5.5.4 Unsupported option: SMTPUTF8");
	mail_bad("AUTH=<>", ALL & ~ESMTP_OFFER_AUTH, "555 5.5.4 Unsupported option: AUTH");
	mail_bad("SIZE=1", 0, "555 5.5.4 Unsupported option: SIZE");
	/* RFC 8689 4.1: offered only over TLS, so unknown without it. */
	mail_bad("REQUIRETLS", ALL & ~ESMTP_OFFER_REQUIRETLS,
	    "555 5.5.4 Unsupported option: REQUIRETLS");
	mail_bad("REQUIRETLS=yes", ALL, "501 5.5.4 REQUIRETLS takes no value");
	mail_bad("BODY=8BITMIME", 0, "555 5.5.4 Unsupported option: BODY");
}

static void test_envid_length(void **state)
{
	char envid[200] = "ENVID=";
	struct esmtp_mail m;
	char *reply;

	(void)state;
	memset(envid + 6, 'x', 100);
	mail_ok(envid, &m);
	assert_int_equal(strlen(m.envid), 100);
	esmtp_mail_free(&m);
	envid[106] = 'x';
	reply = esmtp_mail_parse(envid, strlen(envid), ALL, 0, &m);
	assert_string_equal(reply, "501 5.5.4 Bad ENVID parameter syntax");
	free(reply);
	esmtp_mail_free(&m);
	/* No size limit: any SIZE goes. */
	reply = esmtp_mail_parse("SIZE=123456789012", 17, ALL, 0, &m);
	assert_null(reply);
	assert_int_equal(m.size, 123456789012LL);
}

static void rcpt_ok(const char *s, const char *notify, const char *orcpt)
{
	struct esmtp_rcpt r;
	char *reply = esmtp_rcpt_parse(s, strlen(s), ALL, &r);

	if (reply)
		fail_msg("'%s' refused: %s", s, reply);
	if (notify)
		assert_string_equal(r.notify, notify);
	else
		assert_null(r.notify);
	if (orcpt)
		assert_string_equal(r.orcpt, orcpt);
	else
		assert_null(r.orcpt);
	esmtp_rcpt_free(&r);
}

static void rcpt_bad(const char *s, unsigned offered, const char *want)
{
	struct esmtp_rcpt r;
	char *reply = esmtp_rcpt_parse(s, strlen(s), offered, &r);

	if (reply == NULL)
		fail_msg("'%s' accepted", s);
	assert_string_equal(reply, want);
	free(reply);
	esmtp_rcpt_free(&r);
}

static void test_rcpt(void **state)
{
	(void)state;
	rcpt_ok("", NULL, NULL);
	rcpt_ok("NOTIFY=never", "NEVER", NULL);
	rcpt_ok("NOTIFY=success,delay", "SUCCESS,DELAY", NULL);
	rcpt_ok("NOTIFY=DELAY,FAILURE,SUCCESS", "DELAY,FAILURE,SUCCESS", NULL);
	rcpt_ok(
	    "ORCPT=rfc822;a+2Bb@example.com NOTIFY=FAILURE", "FAILURE", "rfc822;a+b@example.com");
	rcpt_ok("ORCPT=RFC822;A@B", NULL, "RFC822;A@B");
	rcpt_ok("orcpt=rfc822;a+20b@x", NULL, "rfc822;a b@x");
	/* RFC 6533: a utf-8 address may hold non-ASCII. */
	rcpt_ok("ORCPT=utf-8;+C3+A9@x", NULL, "utf-8;\xc3\xa9@x");
}

static void test_rcpt_bad(void **state)
{
	char orcpt[600] = "ORCPT=rfc822;";

	(void)state;
	rcpt_bad("NOTIFY=NEVER,SUCCESS", ALL, "501 5.5.4 Bad NOTIFY parameter syntax");
	rcpt_bad("NOTIFY=bogus", ALL, "501 5.5.4 Bad NOTIFY parameter syntax");
	rcpt_bad("NOTIFY=SUCCESS,SUCCESS", ALL, "501 5.5.4 Bad NOTIFY parameter syntax");
	rcpt_bad("NOTIFY=SUCCESS,", ALL, "501 5.5.4 Bad NOTIFY parameter syntax");
	rcpt_bad("NOTIFY=,SUCCESS", ALL, "501 5.5.4 Bad NOTIFY parameter syntax");
	rcpt_bad("NOTIFY=SUCCESS,,DELAY", ALL, "501 5.5.4 Bad NOTIFY parameter syntax");
	rcpt_bad("NOTIFY", ALL, "501 5.5.4 Bad NOTIFY parameter syntax");
	rcpt_bad("NOTIFY=", ALL, "501 5.5.4 Syntax error in parameters");
	rcpt_bad("ORCPT=rfc822", ALL, "501 5.5.4 Bad ORCPT parameter syntax");
	rcpt_bad("ORCPT=rfc822;", ALL, "501 5.5.4 Bad ORCPT parameter syntax");
	rcpt_bad("ORCPT=;a@b", ALL, "501 5.5.4 Bad ORCPT parameter syntax");
	rcpt_bad("ORCPT=rf_c;a@b", ALL, "501 5.5.4 Bad ORCPT parameter syntax");
	rcpt_bad("ORCPT=rfc822;a+2", ALL, "501 5.5.4 Bad ORCPT parameter syntax");
	rcpt_bad("ORCPT", ALL, "501 5.5.4 Bad ORCPT parameter syntax");
	/* RFC 3461 4.2: an rfc822 address decodes to printable ASCII. */
	rcpt_bad("ORCPT=rfc822;a+0D+0Ab@x", ALL, "501 5.5.4 Bad ORCPT parameter syntax");
	rcpt_bad("ORCPT=rfc822;+C3+A9@x", ALL, "501 5.5.4 Bad ORCPT parameter syntax");
	rcpt_bad("ORCPT=utf-8;a+0Ab@x", ALL, "501 5.5.4 Bad ORCPT parameter syntax");
	rcpt_bad("ORCPT=rfc822;a@b ORCPT=rfc822;c@d", ALL, "501 5.5.4 Duplicate ORCPT parameter");
	rcpt_bad("SIZE=1", ALL, "555 5.5.4 Unsupported option: SIZE");
	rcpt_bad("NOTIFY=NEVER", ALL & ~ESMTP_OFFER_DSN, "555 5.5.4 Unsupported option: NOTIFY");
	rcpt_bad("ORCPT=rfc822;a@b", 0, "555 5.5.4 Unsupported option: ORCPT");
	/* At most 500 characters (RFC 3461 4.2). */
	memset(orcpt + 13, 'a', 493); /* a value of 500 */
	rcpt_ok(orcpt, NULL, orcpt + 6);
	orcpt[506] = 'a';
	rcpt_bad(orcpt, ALL, "501 5.5.4 Bad ORCPT parameter syntax");
}

static void split(const char *orcpt, const char *type, const char *addr)
{
	const char *t;
	size_t tlen;

	assert_string_equal(esmtp_orcpt_split(orcpt, &t, &tlen), addr);
	assert_int_equal(tlen, strlen(type));
	assert_memory_equal(t, type, tlen);
}

static void test_orcpt_split(void **state)
{
	(void)state;
	split("rfc822;a@b", "rfc822", "a@b");
	split("utf-8;a+b@c", "utf-8", "a+b@c");
	split("a@b", "rfc822", "a@b");
	split("a@b;c", "rfc822", "a@b;c");
	split(";a@b", "rfc822", ";a@b");
	split("x y;a@b", "rfc822", "x y;a@b");
	split("\"a;b\"@c", "rfc822", "\"a;b\"@c");
	split("rfc822;", "rfc822", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_params_bad),
	    cmocka_unit_test(test_mail),
	    cmocka_unit_test(test_mail_bad),
	    cmocka_unit_test(test_envid_length),
	    cmocka_unit_test(test_rcpt),
	    cmocka_unit_test(test_rcpt_bad),
	    cmocka_unit_test(test_orcpt_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
