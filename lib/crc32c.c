/*
 * crc32c.c - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * The queue file checksum.  CRC-32C rather than zlib's CRC-32 because x86
 * has an instruction for it (SSE4.2), so checking a large body costs about
 * as much as reading it.  crc32c() uses that instruction when the CPU has
 * it and the slice-by-8 table code otherwise; both give the same values
 * (tested).  crc32c_combine() joins two checksums with the GF(2) matrix
 * method, so the queue file writer can checksum the body while streaming it
 * and the body length (known only at the end) afterwards.
 *
 * Not a cryptographic hash: it detects torn and damaged files, not forgery.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#ifdef __x86_64__
#include <nmmintrin.h>
#endif

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc32c_table[8][256];
static int crc32c_use_hw;
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc32c_table[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int k = 1; k < 8; k++) {
			uint32_t prev = crc32c_table[k - 1][n];

			crc32c_table[k][n] = (prev >> 8) ^ crc32c_table[0][prev & 0xff];
		}
#ifdef __x86_64__
	__builtin_cpu_init();
	crc32c_use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t load_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Eight bytes per step with eight 256-entry tables (slice-by-8). */
static uint32_t crc32c_slice8(uint32_t c, const unsigned char *p, size_t len)
{
	uint32_t(*t)[256] = crc32c_table;

	for (; len >= 8; p += 8, len -= 8) {
		uint32_t lo = c ^ load_le32(p), hi = load_le32(p + 4);

		c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^
		    t[4][lo >> 24] ^ t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		    t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (len--)
		c = (c >> 8) ^ t[0][(c ^ *p++) & 0xff];
	return c;
}

uint32_t crc32c_sw(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&crc32c_once, crc32c_init);
	return ~crc32c_slice8(~crc, data, len);
}

#ifdef __x86_64__
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(
    uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t c = ~crc;

	for (; len > 0 && ((uintptr_t)p & 7) != 0; len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		c = _mm_crc32_u64(c, v);
	}
	for (; len > 0; len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&crc32c_once, crc32c_init);
#ifdef __x86_64__
	if (crc32c_use_hw)
		return crc32c_hw(crc, data, len);
#endif
	return ~crc32c_slice8(~crc, data, len);
}

/* mat is a 32x32 GF(2) matrix, one uint32_t column per bit of vec. */
static uint32_t gf2_times(const uint32_t *mat, uint32_t vec)
{
	uint32_t sum = 0;

	for (; vec != 0; vec >>= 1, mat++)
		if (vec & 1)
			sum ^= *mat;
	return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat)
{
	for (int n = 0; n < 32; n++)
		square[n] = gf2_times(mat, mat[n]);
}

/*
 * Feeding len2 zero bytes through the raw register is a linear map; it is
 * built by repeated squaring of the one-zero-bit operator and applied to
 * crc1 for each set bit of len2.  The inversions cancel, so crc2 is simply
 * xor'ed in at the end.
 */
uint32_t crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
	uint32_t even[32], odd[32], row = 1;

	if (len2 == 0)
		return crc1;
	odd[0] = CRC32C_POLY; /* operator for one zero bit */
	for (int n = 1; n < 32; n++, row <<= 1)
		odd[n] = row;
	gf2_square(even, odd); /* two zero bits */
	gf2_square(odd, even); /* four zero bits */
	do {
		gf2_square(even, odd); /* first pass: one zero byte */
		if (len2 & 1)
			crc1 = gf2_times(even, crc1);
		len2 >>= 1;
		if (len2 == 0)
			break;
		gf2_square(odd, even);
		if (len2 & 1)
			crc1 = gf2_times(odd, crc1);
		len2 >>= 1;
	} while (len2 != 0);
	return crc1 ^ crc2;
}
