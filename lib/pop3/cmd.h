/*
 * pop3/cmd.h - the POP3 command parser (RFC 1939, 2449, 2595, 5034,
 * 6856), shared by pop3-login and pop3: a pure function over the bytes a
 * client sent, unit-tested (tests/lib/test_pop3_cmd.c) and fuzzed
 * (tests/fuzz/fuzz_pop3_cmd.c).
 *
 * A command is a keyword (any case) and arguments separated by spaces,
 * ended by CRLF (a bare LF is taken as well, as every server does).  PASS
 * takes the rest of its line as one argument (passwords hold spaces);
 * every other command at most two.  Lines are at most POP3_MAX_LINE bytes
 * with the line end: RFC 2449 allows 255 for commands, but SASL
 * responses (RFC 5034) and long passwords need more.
 *
 * Not here: what a command means in which state (pop3-login, pop3).
 */
#ifndef TERN_POP3_CMD_H
#define TERN_POP3_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POP3_MAX_LINE 8192
#define POP3_MAX_ARGS 2

enum pop3_cmd_id {
	POP3_CMD_UNKNOWN, /* a keyword tern does not know */
	POP3_CMD_BAD,	  /* empty, or control characters in the line */
	POP3_CMD_USER,
	POP3_CMD_PASS,
	POP3_CMD_APOP,
	POP3_CMD_AUTH,
	POP3_CMD_CAPA,
	POP3_CMD_STLS,
	POP3_CMD_UTF8,
	POP3_CMD_QUIT,
	POP3_CMD_STAT,
	POP3_CMD_LIST,
	POP3_CMD_RETR,
	POP3_CMD_DELE,
	POP3_CMD_NOOP,
	POP3_CMD_RSET,
	POP3_CMD_TOP,
	POP3_CMD_UIDL,
	POP3_CMD_LANG,
};

struct pop3_cmd {
	enum pop3_cmd_id id;
	const char *name; /* the keyword as tern spells it, "" for BAD */
	size_t argc;
	const char *argv[POP3_MAX_ARGS]; /* into line */
	bool extra_args;		 /* more arguments than POP3_MAX_ARGS */
	char line[POP3_MAX_LINE + 1];
};

enum pop3_parse {
	POP3_PARSE_TOO_LONG = -1, /* no line end within POP3_MAX_LINE */
	POP3_PARSE_MORE = 0,	  /* no complete line yet */
	POP3_PARSE_OK = 1,	  /* *cmd filled, *used bytes taken */
};

/* Parses the first line of data[0..len). */
enum pop3_parse pop3_cmd_parse(const char *data, size_t len, struct pop3_cmd *cmd, size_t *used);

/* The first line of data[0..len) as it is (a SASL response): *line,
 * *line_len point into data (line end excluded). */
enum pop3_parse pop3_line(
    const char *data, size_t len, const char **line, size_t *line_len, size_t *used);

/* A message number: decimal digits only, 1..UINT32_MAX. */
bool pop3_number(const char *s, uint32_t *out);
/* A line count (TOP): decimal digits only, 0..UINT32_MAX. */
bool pop3_count(const char *s, uint32_t *out);

#endif
