/*
 * auth/sasl.c - strict base64 and SASL PLAIN message splitting.
 *
 * See sasl.h for the rules.  No allocation but into the caller's buffer,
 * no state.
 */
#include "auth/sasl.h"

#include <string.h>

#include "base64.h"

/* One 4-character group; pad is how many '=' end it (only the last group). */
static int b64_group(const unsigned char *g, size_t pad, struct buf *out)
{
	int v[4];

	for (size_t i = 0; i < 4; i++) {
		v[i] = i < 4 - pad ? base64_value(g[i], '/') : 0;
		if (v[i] < 0)
			return -1;
	}
	/* Bits below the last full byte must be zero (canonical encoding). */
	if ((pad == 1 && (v[2] & 0x3)) || (pad == 2 && (v[1] & 0xf)))
		return -1;
	buf_putc(out, (v[0] << 2) | (v[1] >> 4));
	if (pad < 2)
		buf_putc(out, ((v[1] & 0xf) << 4) | (v[2] >> 2));
	if (pad < 1)
		buf_putc(out, ((v[2] & 0x3) << 6) | v[3]);
	return 0;
}

int sasl_base64_decode(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;

	buf_reset(out);
	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		size_t pad = 0;

		if (i + 4 == len)
			pad = p[i + 3] == '=' ? (p[i + 2] == '=' ? 2 : 1) : 0;
		if (pad == 1 && p[i + 2] == '=')
			return -1;
		if (b64_group(p + i, pad, out) < 0)
			return -1;
	}
	return 0;
}

void sasl_base64_encode(const char *in, size_t len, struct buf *out)
{
	base64_encode(in, len, out);
}

int sasl_plain_parse(const char *p, size_t len, struct sasl_plain *out)
{
	const char *end = p + len;
	const char *nul1 = memchr(p, 0, len), *nul2;

	memset(out, 0, sizeof(*out));
	if (nul1 == NULL)
		return -1;
	nul2 = memchr(nul1 + 1, 0, (size_t)(end - nul1 - 1));
	if (nul2 == NULL || memchr(nul2 + 1, 0, (size_t)(end - nul2 - 1)) != NULL)
		return -1;
	out->authzid = p;
	out->authzid_len = (size_t)(nul1 - p);
	out->authcid = nul1 + 1;
	out->authcid_len = (size_t)(nul2 - nul1 - 1);
	out->passwd = nul2 + 1;
	out->passwd_len = (size_t)(end - nul2 - 1);
	if (out->authcid_len == 0 || out->passwd_len == 0)
		return -1;
	return 0;
}
