/*
 * test_crc32c.c - CRC-32C: known vectors (RFC 3720 B.4), chaining,
 * combining, and the SSE4.2 and table paths agreeing on random data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crc32c.h"
#include "util.h"

static void test_vectors(void **state)
{
	unsigned char b[32];

	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(crc32c_sw(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(crc32c(0, "", 0), 0);
	memset(b, 0, sizeof(b));
	assert_int_equal(crc32c(0, b, 32), 0x8A9136AAu);
	assert_int_equal(crc32c_sw(0, b, 32), 0x8A9136AAu);
	memset(b, 0xff, sizeof(b));
	assert_int_equal(crc32c(0, b, 32), 0x62A8AB43u);
	assert_int_equal(crc32c_sw(0, b, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)i;
	assert_int_equal(crc32c(0, b, 32), 0x46DD794Eu);
	assert_int_equal(crc32c_sw(0, b, 32), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)(31 - i);
	assert_int_equal(crc32c(0, b, 32), 0x113FDB5Cu);
	assert_int_equal(crc32c_sw(0, b, 32), 0x113FDB5Cu);
}

static void test_chaining(void **state)
{
	unsigned char data[300];
	uint32_t whole;

	(void)state;
	arc4random_buf(data, sizeof(data));
	whole = crc32c_sw(0, data, sizeof(data));
	for (size_t cut = 0; cut <= sizeof(data); cut++) {
		uint32_t a = crc32c(0, data, cut);

		assert_int_equal(crc32c(a, data + cut, sizeof(data) - cut), whole);
		a = crc32c_sw(0, data, cut);
		assert_int_equal(crc32c_sw(a, data + cut, sizeof(data) - cut), whole);
	}
}

static void test_combine(void **state)
{
	static const size_t lens[] = {0, 1, 3, 8, 63, 64, 65, 1000, 65536, 100003};
	size_t max = 100003;
	unsigned char *a = xmalloc(max), *b = xmalloc(max), *ab = xmalloc(2 * max);

	(void)state;
	arc4random_buf(a, max);
	arc4random_buf(b, max);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			size_t na = lens[i], nb = lens[j];
			uint32_t ca = crc32c(0, a, na), cb = crc32c(0, b, nb);

			memcpy(ab, a, na);
			memcpy(ab + na, b, nb);
			assert_int_equal(crc32c_combine(ca, cb, nb), crc32c(0, ab, na + nb));
		}
	/* Combining with the crc of zero bytes changes nothing. */
	assert_int_equal(crc32c_combine(0x12345678u, 0, 0), 0x12345678u);
	free(a);
	free(b);
	free(ab);
}

static void test_hw_equals_sw(void **state)
{
	size_t max = 1 << 20;
	unsigned char *data = xmalloc(max + 16);

	(void)state;
	arc4random_buf(data, max + 16);
	/* Every alignment and every short length, then a big block. */
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len < 300; len++) {
			uint32_t seed = arc4random();

			assert_int_equal(
			    crc32c(seed, data + off, len), crc32c_sw(seed, data + off, len));
		}
	assert_int_equal(crc32c(0, data + 3, max), crc32c_sw(0, data + 3, max));
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_chaining),
	    cmocka_unit_test(test_combine),
	    cmocka_unit_test(test_hw_equals_sw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
