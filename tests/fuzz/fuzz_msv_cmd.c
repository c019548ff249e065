/*
 * fuzz_msv_cmd.c - libFuzzer harness for the ManageSieve command parser
 * (lib/managesieve/cmd.c), fed the bytes a client sends: every command of
 * the input is parsed in turn, as managesieve-login and managesieve do
 * (a too large literal skipped as managesieve skips it), and the same
 * bytes as SASL response lines.  A parsed command must have taken at
 * least one byte and no more than were given; a BAD or unknown command
 * keeps no arguments; a kept argument is a string or a number as its
 * command's grammar says and a string is NUL-terminated; a string never
 * exceeds the literal limit.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "managesieve/cmd.h"

#define FUZZ_LITERAL 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cmd(const struct msv_cmd *cmd, bool response)
{
	if (cmd->argc > MSV_MAX_ARGS)
		abort();
	if (cmd->id == MSV_CMD_BAD && cmd->argc != 0)
		abort();
	/* a response line is one string (its id stays UNKNOWN) */
	if (response && cmd->id != MSV_CMD_BAD && (cmd->argc != 1 || cmd->argv[0].number))
		abort();
	if (!response && cmd->id == MSV_CMD_UNKNOWN && cmd->argc != 0)
		abort();
	if (cmd->id == MSV_CMD_BAD && cmd->error == NULL)
		abort();
	for (size_t i = 0; i < cmd->argc; i++) {
		const struct msv_arg *a = &cmd->argv[i];

		if (a->number) {
			if (a->s != NULL || response || cmd->id != MSV_CMD_HAVESPACE || i != 1)
				abort();
			continue;
		}
		if (a->s == NULL || a->s[a->len] != 0 || a->len > FUZZ_LITERAL + MSV_MAX_LINE)
			abort();
	}
	if (cmd->id == MSV_CMD_HAVESPACE && (cmd->argc != 2 || !cmd->argv[1].number))
		abort();
	if (cmd->id == MSV_CMD_PUTSCRIPT && cmd->argc != 2)
		abort();
}

static void run(const char *p, size_t left, bool response)
{
	struct msv_cmd cmd;

	for (int rounds = 0; rounds < 10000 && left > 0; rounds++) {
		size_t used = 0;
		enum msv_parse r = response ? msv_response_parse(p, left, FUZZ_LITERAL, &cmd, &used)
					    : msv_cmd_parse(p, left, FUZZ_LITERAL, &cmd, &used);

		if (r == MSV_PARSE_MORE || r == MSV_PARSE_TOO_LONG) {
			if (used != 0 || cmd.argc != 0)
				abort();
			return;
		}
		if (used == 0 || used > left)
			abort();
		if (r == MSV_PARSE_TOO_BIG) {
			if (cmd.skip <= FUZZ_LITERAL || cmd.argc != 0)
				abort();
			p += used;
			left -= used;
			if (cmd.skip >= left)
				return;
			p += cmd.skip;
			left -= (size_t)cmd.skip;
			used = msv_skip_line(p, left);
			if (used == 0)
				return;
		} else {
			check_cmd(&cmd, response);
			msv_cmd_free(&cmd);
		}
		p += used;
		left -= used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run((const char *)data, size, false);
	run((const char *)data, size, true);
	return 0;
}
