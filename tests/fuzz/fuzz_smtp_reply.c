/*
 * fuzz_smtp_reply.c - libFuzzer harness for smtp/reply.c.
 *
 * The input is what a hostile SMTP server could send: replies are parsed
 * one after another as the client does, each complete one goes through
 * the EHLO extension parser and the one-line formatter.  used must never
 * exceed the input, and the enhanced code must always be well formed.
 */
/* FUZZ_LINK: smtp/reply.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../smtp/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t left = size;
	struct smtp_reply r;
	struct smtp_ext e;

	smtp_reply_init(&r);
	while (left) {
		size_t used = 0;
		struct buf line = BUF_INIT;

		if (smtp_reply_parse(p, left, &r, &used) != 1)
			break;
		if (used == 0 || used > left)
			abort();
		if (r.code < 200 || r.code > 599 || r.dsn[0] != '0' + r.code / 100 ||
		    r.dsn[1] != '.')
			abort();
		smtp_ext_parse(&r, &e);
		smtp_reply_line(&r, &line);
		if (strchr(buf_cstr(&line), '\n') != NULL)
			abort();
		buf_free(&line);
		p += used;
		left -= used;
	}
	smtp_reply_free(&r);
	return 0;
}
