/*
 * test_sasl.c - unit tests for lib/auth/sasl.c: strict base64 (every
 * malformed shape refused, round trips) and SASL PLAIN splitting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/sasl.h"
#include "buf.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_base64_round_trip),
	    cmocka_unit_test(test_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
