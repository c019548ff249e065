/*
 * test_sasl.c - unit tests for smtpd/sasl_decode.c (strict base64, PLAIN
 * splitting), the TLS protocol list parser and access table actions.
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
#include "../../smtpd/sasl_decode.h"
#include "../../smtpd/tls.h"

static void decodes(const char *in, const char *out, size_t outlen)
{
	struct buf b = BUF_INIT;

	if (sasl_base64_decode(in, strlen(in), &b) != 0)
		fail_msg("'%s' refused", in);
	assert_int_equal(b.len, outlen);
	if (outlen)
		assert_memory_equal(b.data, out, outlen);
	buf_free(&b);
}

static void refused(const char *in)
{
	struct buf b = BUF_INIT;

	if (sasl_base64_decode(in, strlen(in), &b) != -1)
		fail_msg("'%s' accepted", in);
	buf_free(&b);
}

static void test_base64(void **state)
{
	(void)state;
	decodes("", "", 0);
	decodes("Zg==", "f", 1);
	decodes("Zm8=", "fo", 2);
	decodes("Zm9v", "foo", 3);
	decodes("AGFsaWNlAHNlY3JldA==", "\0alice\0secret", 13);
	refused("Zg=");
	refused("Zg");
	refused("Z===");
	refused("Zm9v\r\n");
	refused("Zm 9v");
	refused("Zh=="); /* non-zero bits after the last byte */
	refused("Zm9=");
	refused("=Zm9");
	refused("Zg==Zg==");
	refused("Zm9v!!!!");
}

static void test_base64_round_trip(void **state)
{
	struct buf enc = BUF_INIT, dec = BUF_INIT;
	char data[256];

	(void)state;
	for (int i = 0; i < 256; i++)
		data[i] = (char)i;
	for (size_t n = 0; n <= sizeof(data); n += 37) {
		buf_reset(&enc);
		sasl_base64_encode(data, n, &enc);
		assert_int_equal(sasl_base64_decode(enc.data ? enc.data : "", enc.len, &dec), 0);
		assert_int_equal(dec.len, n);
		if (n)
			assert_memory_equal(dec.data, data, n);
	}
	buf_free(&enc);
	buf_free(&dec);
}

static void test_plain(void **state)
{
	struct sasl_plain p;

	(void)state;
	assert_int_equal(sasl_plain_parse("\0alice\0pw", 9, &p), 0);
	assert_int_equal(p.authzid_len, 0);
	assert_int_equal(p.authcid_len, 5);
	assert_memory_equal(p.authcid, "alice", 5);
	assert_int_equal(p.passwd_len, 2);
	assert_int_equal(sasl_plain_parse("bob\0alice\0pw", 12, &p), 0);
	assert_int_equal(p.authzid_len, 3);
	assert_int_equal(sasl_plain_parse("alice\0pw", 8, &p), -1);
	assert_int_equal(sasl_plain_parse("\0\0pw", 4, &p), -1);
	assert_int_equal(sasl_plain_parse("\0alice\0", 7, &p), -1);
	assert_int_equal(sasl_plain_parse("\0alice\0p\0w", 10, &p), -1);
	assert_int_equal(sasl_plain_parse("", 0, &p), -1);
}

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
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_base64_round_trip),
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_tls_protocols),
	    cmocka_unit_test(test_access_actions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
