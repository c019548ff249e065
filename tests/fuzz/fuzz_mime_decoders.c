/*
 * fuzz_mime_decoders.c - the header and content decoders of lib/mime:
 * addresses, dates, RFC 2047 words, Content-Type with RFC 2231
 * parameters, charset conversion, base64 and quoted-printable (whole and
 * byte by byte: the result must not depend on the cut), and casemap.
 * Every UTF-8 output must be valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime/address.h"
#include "mime/casemap.h"
#include "mime/charset.h"
#include "mime/date.h"
#include "mime/decode.h"
#include "mime/param.h"
#include "mime/rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_be_utf8(const struct buf *b)
{
	if (!mime_utf8_valid(b->data ? b->data : "", b->len))
		abort();
}

static void fuzz_cte(enum mime_cte cte, const char *s, size_t len)
{
	struct mime_decoder d1, d2;
	struct buf a = BUF_INIT, b = BUF_INIT;
	bool r1, r2;

	mime_decoder_init(&d1, cte);
	mime_decoder_feed(&d1, s, len, &a);
	r1 = mime_decoder_finish(&d1, &a);
	mime_decoder_init(&d2, cte);
	for (size_t i = 0; i < len; i++)
		mime_decoder_feed(&d2, s + i, 1, &b);
	r2 = mime_decoder_finish(&d2, &b);
	if (r1 != r2 || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
		abort();
	buf_free(&a);
	buf_free(&b);
}

static void fuzz_charset(const char *cs, const char *s, size_t len)
{
	struct mime_charset c;
	struct buf a = BUF_INIT, b = BUF_INIT;

	if (!mime_charset_open(&c, cs))
		return;
	mime_charset_feed(&c, s, len, &a);
	mime_charset_close(&c, &a);
	must_be_utf8(&a);
	mime_charset_open(&c, cs);
	for (size_t i = 0; i < len; i++)
		mime_charset_feed(&c, s + i, 1, &b);
	mime_charset_close(&c, &b);
	must_be_utf8(&b);
	buf_free(&a);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = {"utf-8", "iso-8859-1", "iso-2022-jp", "shift_jis",
	    "utf-16", "gb18030", "windows-1252", "koi8-r"};
	const char *s = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	struct buf out = BUF_INIT;

	if (size < 1)
		return 0;
	switch (data[0] % 8) {
	case 0: {
		struct mime_addr *l =
		    mime_addr_parse(s, len, data[0] & 0x80 ? MIME_ADDR_FILL_MISSING : 0, 100);

		for (struct mime_addr *a = l; a; a = a->next)
			if (a->mailbox == NULL && a->host != NULL)
				abort();
		mime_addr_free(l);
		break;
	}
	case 1: {
		time_t t;
		int tz;

		if (mime_date_parse(s, len, &t, &tz) && (tz < -24 * 60 || tz > 24 * 60))
			abort();
		break;
	}
	case 2:
		mime_2047_decode(s, len, &out);
		must_be_utf8(&out);
		break;
	case 3: {
		struct mime_params ps;
		char *type, *sub;

		mime_content_type_parse(s, len, &type, &sub, &ps);
		for (size_t i = 0; i < ps.n; i++) {
			char *n = strdup(ps.v[i].name), *star = strchr(n, '*');

			if (star)
				*star = 0;
			mime_param_utf8(&ps, n, &out);
			must_be_utf8(&out);
			free(n);
		}
		if (ps.n > MIME_PARAMS_MAX)
			abort();
		mime_params_free(&ps);
		free(type);
		free(sub);
		break;
	}
	case 4: fuzz_charset(charsets[(data[0] >> 3) % 8], s, len); break;
	case 5: fuzz_cte(MIME_CTE_BASE64, s, len); break;
	case 6: fuzz_cte(MIME_CTE_QP, s, len); break;
	case 7:
		mime_casemap(s, len, &out);
		must_be_utf8(&out);
		break;
	}
	buf_free(&out);
	return 0;
}
