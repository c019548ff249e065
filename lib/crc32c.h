/*
 * crc32c.h - CRC-32C (Castagnoli), the queue file checksum.
 * Start with crc = 0; feed data in any chunks:
 *   crc32c(crc32c(0, a, na), b, nb) == crc32c(0, ab, na + nb).
 * The pre- and post-inversion are handled inside, so crc32c(0, "123456789",
 * 9) is the standard check value 0xE3069283.
 */
#ifndef TERN_CRC32C_H
#define TERN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *data, size_t len);
/* The portable table-driven code, always; crc32c() uses SSE4.2 when it can. */
uint32_t crc32c_sw(uint32_t crc, const void *data, size_t len);
/*
 * Given crc1 = crc32c(0, a, na) and crc2 = crc32c(0, b, len2), returns
 * crc32c(0, ab, na + len2) without touching the bytes again.
 */
uint32_t crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);

#endif
