/*
 * fuzz_imap_login_cmd.c - libFuzzer harness for imap-login's command
 * parser (lib/login/imap_cmd.c), fed what a client sends before logging
 * in: every command of the input is parsed in turn, and every prefix of
 * the first one must say MORE (never OK or a different BAD) as bytes
 * arrive one by one, which is how the parser is called.  A parsed
 * command must have taken at least one byte and no more than given, and
 * its arguments must lie in the command's own storage.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "login/imap_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct imap_cmd cmd, cmd2;

static void check(const struct imap_cmd *c)
{
	if (c->argc > IMAP_CMD_MAX_ARGS || strlen(c->tag) > IMAP_CMD_MAX_TAG)
		abort();
	for (size_t i = 0; i < c->argc; i++) {
		const char *s = c->argv[i].s;

		if (s < c->store || s + c->argv[i].len >= c->store + sizeof(c->store) ||
		    s[c->argv[i].len] != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t left = size, used = 0, used2 = 0;
	enum imap_cmd_result r = imap_cmd_parse(p, left, &cmd, &used);

	/* Byte by byte up to the end of the first command: MORE until then. */
	if (r == IMAP_CMD_OK || r == IMAP_CMD_BAD) {
		for (size_t n = 1; n < used && n < 2048; n++)
			if (imap_cmd_parse(p, n, &cmd2, &used2) != IMAP_CMD_MORE)
				abort();
	}
	for (int rounds = 0; rounds < 1000 && left > 0; rounds++) {
		r = imap_cmd_parse(p, left, &cmd, &used);
		if (r == IMAP_CMD_MORE || r == IMAP_CMD_TOO_LONG)
			break;
		if (used == 0 || used > left)
			abort();
		if (r == IMAP_CMD_OK)
			check(&cmd);
		else if (cmd.error == NULL)
			abort();
		p += used;
		left -= used;
	}
	return 0;
}
