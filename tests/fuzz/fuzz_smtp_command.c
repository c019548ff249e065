/*
 * fuzz_smtp_command.c - libFuzzer harness for smtpd/cmd.c.
 *
 * Each input is one command line: it goes through smtp_cmd_parse() in both
 * modes, then, as smtpd does, MAIL/RCPT arguments go through the address
 * parser and the parameters after it through smtp_params_parse() and
 * smtp_xtext_decode().  Every pointer handed back must stay inside the input.
 */
/* FUZZ_LINK: smtpd/cmd.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../smtpd/cmd.h"
#include "address.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(const char *p, size_t len, const char *start, size_t size)
{
	if (p < start || len > size || p + len > start + size)
		abort();
}

/* The parameters of a MAIL or RCPT command, decoded as xtext. */
static void fuzz_params(const char *s, size_t len)
{
	struct smtp_param params[SMTP_PARAMS_MAX];
	struct buf b = BUF_INIT;
	const char *err;
	size_t n;

	if (smtp_params_parse(s, len, params, SMTP_PARAMS_MAX, &n, &err) < 0) {
		if (err == NULL)
			abort();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		check_inside(params[i].key, params[i].key_len, s, len);
		if (params[i].value != NULL) {
			check_inside(params[i].value, params[i].value_len, s, len);
			smtp_xtext_decode(params[i].value, params[i].value_len, &b);
		}
		smtp_param_is(&params[i], "SIZE");
	}
	buf_free(&b);
}

static void fuzz_path(const struct smtp_cmd *c)
{
	const char *rest, *err;
	char *addr;

	if (addr_parse_path(
		c->arg, c->arg_len, ADDR_ALLOW_NULL | ADDR_ALLOW_LOCAL, &addr, &rest, &err) < 0)
		return;
	fuzz_params(rest, (size_t)(c->arg + c->arg_len - rest));
	free(addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct smtp_cmd c;

	for (int flags = 0; flags <= SMTP_CMD_STRICT; flags++) {
		if (smtp_cmd_parse_flags(line, size, flags, &c) < 0) {
			if (c.error == NULL || c.arg != NULL)
				abort();
			continue;
		}
		if (c.arg != NULL)
			check_inside(c.arg, c.arg_len, line, size);
		if ((c.verb == SMTP_MAIL || c.verb == SMTP_RCPT) && c.arg[0] == '<')
			fuzz_path(&c);
	}
	return 0;
}
