/*
 * fuzz_pop3_cmd.c - libFuzzer harness for the POP3 command parser
 * (lib/pop3/cmd.c), fed the bytes a client sends: every command of the
 * input is parsed in turn as pop3-login and pop3 do.  A parsed command
 * must have taken at least one byte and no more than were given, its
 * arguments must lie inside its line and hold no control characters,
 * and a line must never be longer than POP3_MAX_LINE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cmd(const struct pop3_cmd *cmd)
{
	if (cmd->argc > POP3_MAX_ARGS)
		abort();
	for (size_t i = 0; i < cmd->argc; i++) {
		const char *a = cmd->argv[i];

		if (a < cmd->line || a >= cmd->line + sizeof(cmd->line) || *a == 0)
			abort();
		for (; *a; a++)
			if ((unsigned char)*a < 0x20)
				abort();
	}
	if (cmd->id == POP3_CMD_BAD && cmd->argc != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pop3_cmd cmd;
	const char *p = (const char *)data;
	size_t left = size;

	for (int rounds = 0; rounds < 10000 && left > 0; rounds++) {
		const char *line;
		size_t used = 0, n, used2 = 0;
		enum pop3_parse r = pop3_cmd_parse(p, left, &cmd, &used);

		if (pop3_line(p, left, &line, &n, &used2) != r)
			abort();
		if (r != POP3_PARSE_OK)
			break;
		if (used == 0 || used > left || used > POP3_MAX_LINE || used != used2 || n >= used)
			abort();
		check_cmd(&cmd);
		{
			uint32_t v;

			for (size_t i = 0; i < cmd.argc; i++)
				if (pop3_number(cmd.argv[i], &v) && v == 0)
					abort();
		}
		p += used;
		left -= used;
	}
	return 0;
}
