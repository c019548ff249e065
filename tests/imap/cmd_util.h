/*
 * cmd_util.h - for the imap/ unit tests: a command line parsed with
 * imap/parser.c (literals accepted), kept alive until cmd_done().
 */
#ifndef TERN_TESTS_IMAP_CMD_UTIL_H
#define TERN_TESTS_IMAP_CMD_UTIL_H

#include <string.h>

#include "../../imap/parser.h"

static struct imap_parser *cmd_parser;

static const struct imap_command *cmd_parse(const char *line)
{
	size_t pos = 0, len = strlen(line), used;

	if (cmd_parser == NULL)
		cmd_parser = imap_parser_new(NULL);
	for (;;) {
		enum imap_parse_result r =
		    imap_parser_feed(cmd_parser, line + pos, len - pos, &used);

		pos += used;
		if (r == IMAP_PARSE_COMMAND)
			return imap_parser_command(cmd_parser);
		if (r == IMAP_PARSE_LITERAL) {
			imap_parser_literal_accept(cmd_parser);
			continue;
		}
		return NULL;
	}
}

static void cmd_done(void)
{
	imap_parser_free(cmd_parser);
	cmd_parser = NULL;
}

#endif
