/*
 * login/imap_cmd.h - the parser of IMAP commands before authentication
 * (imap-login): a pure function over the bytes a client sent,
 * unit-tested (tests/lib/login/test_imap_cmd.c) and fuzzed
 * (tests/fuzz/fuzz_imap_login_cmd.c).
 *
 * A command is "tag SP name *(SP argument) CRLF" (RFC 9051 and 3501
 * grammar, what the pre-login commands need): an argument is an atom, a
 * quoted string, a literal ({n} CRLF n bytes, or LITERAL+'s {n+}), NIL,
 * or a parenthesized list of those (for ID).  The parser is stateless:
 * it is given everything buffered so far each time and says MORE until
 * the command is complete; when it stops at a synchronizing literal it
 * says so (literal_at), so that the caller sends "+ OK" once.
 *
 * Not here: what the commands do (imap/login/main.c), the post-login
 * grammar (imap/parser.c).
 */
#ifndef TERN_LOGIN_IMAP_CMD_H
#define TERN_LOGIN_IMAP_CMD_H

#include <stdbool.h>
#include <stddef.h>

#define IMAP_LOGIN_MAX_INPUT 16384 /* a whole command, literals included */
#define IMAP_CMD_MAX_ARGS 8
#define IMAP_CMD_MAX_TAG 64

enum imap_arg_type {
	IMAP_ARG_ATOM,
	IMAP_ARG_STRING, /* quoted or literal, decoded */
	IMAP_ARG_NIL,
	IMAP_ARG_LIST, /* its elements are not kept */
};

struct imap_arg {
	enum imap_arg_type type;
	const char *s; /* NUL-terminated copy in the command (may hold NULs: len) */
	size_t len;
};

struct imap_cmd {
	char tag[IMAP_CMD_MAX_TAG + 1]; /* "" when the line had none */
	char name[32];			/* upper-cased; "" when none */
	size_t argc;
	struct imap_arg argv[IMAP_CMD_MAX_ARGS];
	size_t literal_at; /* MORE: offset after a sync literal's "{n}\r\n", else 0 */
	const char *error; /* BAD: why (static) */
	char store[IMAP_LOGIN_MAX_INPUT + IMAP_CMD_MAX_ARGS];
};

enum imap_cmd_result {
	IMAP_CMD_TOO_LONG = -2, /* over IMAP_LOGIN_MAX_INPUT: hang up */
	IMAP_CMD_BAD = -1,	/* malformed: *used covers the line, error says why */
	IMAP_CMD_MORE = 0,	/* incomplete */
	IMAP_CMD_OK = 1,	/* *used bytes make the command */
};

enum imap_cmd_result imap_cmd_parse(
    const char *data, size_t len, struct imap_cmd *cmd, size_t *used);

/* The first line of data (a SASL response): as pop3_line. */
enum imap_cmd_result imap_cmd_line(
    const char *data, size_t len, const char **line, size_t *line_len, size_t *used);

#endif
