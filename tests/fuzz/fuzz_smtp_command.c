/*
 * fuzz_smtp_command.c - libFuzzer harness for lib/smtp/cmd.c, with the
 * rest of a MAIL or RCPT line as smtpd and sendmail -bs parse it.
 *
 * Each input is one command line: it goes through smtp_cmd_parse() in both
 * modes; MAIL/RCPT arguments then go through the address parser and the
 * parameters after it through esmtp_mail_parse() or esmtp_rcpt_parse()
 * with every extension offered.  Every pointer handed back must stay inside
 * the input, every refusal must come with a reply, and the verb's name
 * must parse back to the verb.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "smtp/cmd.h"
#include "smtp/esmtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ALL                                                                                        \
	(ESMTP_OFFER_SIZE | ESMTP_OFFER_8BITMIME | ESMTP_OFFER_DSN | ESMTP_OFFER_SMTPUTF8 |        \
	    ESMTP_OFFER_AUTH)

static void check_inside(const char *p, size_t len, const char *start, size_t size)
{
	if (p < start || len > size || p + len > start + size)
		abort();
}

/* The parameters after the path, as MAIL or RCPT takes them. */
static void fuzz_params(enum smtp_verb verb, const char *s, size_t len)
{
	char *reply;

	if (verb == SMTP_MAIL) {
		struct esmtp_mail m;

		reply = esmtp_mail_parse(s, len, ALL, 10240000, &m);
		if (reply == NULL && m.size > 10240000)
			abort();
		free(reply);
		esmtp_mail_free(&m);
	} else {
		struct esmtp_rcpt r;

		reply = esmtp_rcpt_parse(s, len, ALL, &r);
		free(reply);
		esmtp_rcpt_free(&r);
	}
}

static void fuzz_path(const struct smtp_cmd *c)
{
	const char *rest, *err;
	char *addr;

	if (addr_parse_path(c->arg, c->arg_len,
		ADDR_ALLOW_NULL | ADDR_ALLOW_LOCAL | ADDR_ALLOW_UTF8, &addr, &rest, &err) < 0)
		return;
	check_inside(rest, (size_t)(c->arg + c->arg_len - rest), c->arg, c->arg_len);
	fuzz_params(c->verb, rest, (size_t)(c->arg + c->arg_len - rest));
	free(addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct smtp_cmd c;

	for (int flags = 0; flags <= SMTP_CMD_STRICT; flags++) {
		const char *name;

		if (smtp_cmd_parse_flags(line, size, flags, &c) < 0) {
			if (c.error == NULL || c.arg != NULL)
				abort();
			continue;
		}
		name = smtp_verb_name(c.verb);
		if (c.verb == SMTP_UNKNOWN || strncasecmp(name, line, strlen(name)) != 0)
			abort();
		if (c.arg != NULL)
			check_inside(c.arg, c.arg_len, line, size);
		if ((c.verb == SMTP_MAIL || c.verb == SMTP_RCPT) && c.arg[0] == '<')
			fuzz_path(&c);
	}
	return 0;
}
