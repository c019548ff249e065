/*
 * test_sasl.c - unit tests for smtpd's TLS protocol list parser and access
 * table actions.  (The SASL decoders moved to lib/auth: they are tested
 * in tests/lib/auth/test_sasl.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "../../smtpd/restrictions.h"
#include "tls_server.h"

static void protocols(const char *spec, int min, int max)
{
	int lo = -1, hi = -1;

	if (tls_protocols_parse(spec, &lo, &hi) != 0)
		fail_msg("'%s' refused", spec);
	assert_int_equal(lo, min);
	assert_int_equal(hi, max);
}

static void test_tls_protocols(void **state)
{
	int lo, hi;

	(void)state;
	protocols(">=TLSv1.2", TLS1_2_VERSION, 0);
	protocols(">=TLSv1.3", TLS1_3_VERSION, 0);
	protocols("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", TLS1_2_VERSION, 0);
	protocols("!SSLv2 !SSLv3", TLS1_VERSION, 0);
	protocols("TLSv1.2", TLS1_2_VERSION, TLS1_2_VERSION);
	protocols(">=TLSv1.2 <=TLSv1.2", TLS1_2_VERSION, TLS1_2_VERSION);
	protocols("TLSv1.2:TLSv1.3", TLS1_2_VERSION, 0);
	assert_int_equal(tls_protocols_parse(">=TLSv9", &lo, &hi), -1);
	assert_int_equal(
	    tls_protocols_parse("!TLSv1.2 !TLSv1.3 !TLSv1.1 !TLSv1 !SSLv3", &lo, &hi), -1);
}

static void test_access_actions(void **state)
{
	struct buf r = BUF_INIT;

	(void)state;
	assert_int_equal(restr_access_action("OK", "Sender address rejected", "a@b.c", &r), 1);
	assert_int_equal(restr_access_action("DUNNO", "x", "a@b.c", &r), 0);
	assert_int_equal(restr_access_action("REJECT", "Sender address rejected", "a@b.c", &r), -1);
	assert_string_equal(
	    buf_cstr(&r), "554 5.7.1 <a@b.c>: Sender address rejected: Access denied");
	assert_int_equal(
	    restr_access_action("REJECT go away", "Sender address rejected", "a@b.c", &r), -1);
	assert_string_equal(buf_cstr(&r), "554 5.7.1 <a@b.c>: Sender address rejected: go away");
	assert_int_equal(restr_access_action("DEFER later", "Client host rejected", "h", &r), -1);
	assert_string_equal(buf_cstr(&r), "450 4.7.1 <h>: Client host rejected: later");
	assert_int_equal(
	    restr_access_action("521 no mail here", "Client host rejected", "h", &r), -1);
	assert_string_equal(buf_cstr(&r), "521 5.7.1 <h>: Client host rejected: no mail here");
	buf_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_protocols),
	    cmocka_unit_test(test_access_actions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
