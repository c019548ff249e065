/*
 * managesieve/cmd.h - the ManageSieve command parser (RFC 5804 4), shared
 * by managesieve-login and managesieve: a pure function over the bytes a
 * client sent, unit-tested (tests/lib/managesieve/test_msv_cmd.c) and
 * fuzzed (tests/fuzz/fuzz_msv_cmd.c).
 *
 * A command is a keyword (an atom, any case) and arguments separated by
 * one space, ended by CRLF (a bare LF is taken too).  An argument is a
 * string, quoted ("..." with \" and \\ as the only escapes, no CR, LF or
 * NUL) or a literal ({n+} CRLF and n octets; {n} is taken the same way,
 * without a continuation, as Dovecot does), or a number (digits, at most
 * 4294967295).  Each command's arguments are checked against its
 * grammar (which are strings, which numbers, how many), so a caller only
 * meets well-formed commands or MSV_CMD_BAD with a reason.
 *
 * Limits: the line around the literals is at most MSV_MAX_LINE bytes; a
 * literal longer than the caller's max_literal is not buffered:
 * MSV_PARSE_TOO_BIG says how many octets to skip (then the rest of the
 * line), so a 100 MB PUTSCRIPT never sits in memory.
 *
 * Not here: what a command means in which state.
 */
#ifndef TERN_MANAGESIEVE_CMD_H
#define TERN_MANAGESIEVE_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSV_MAX_LINE 8192
#define MSV_MAX_ARGS 3

enum msv_cmd_id {
	MSV_CMD_UNKNOWN, /* a keyword tern does not know (arguments not kept) */
	MSV_CMD_BAD,	 /* a syntax error: cmd->error says what */
	MSV_CMD_AUTHENTICATE,
	MSV_CMD_STARTTLS,
	MSV_CMD_LOGOUT,
	MSV_CMD_CAPABILITY,
	MSV_CMD_HAVESPACE,
	MSV_CMD_PUTSCRIPT,
	MSV_CMD_LISTSCRIPTS,
	MSV_CMD_SETACTIVE,
	MSV_CMD_GETSCRIPT,
	MSV_CMD_DELETESCRIPT,
	MSV_CMD_RENAMESCRIPT,
	MSV_CMD_CHECKSCRIPT,
	MSV_CMD_NOOP,
	MSV_CMD_UNAUTHENTICATE,
};

struct msv_arg {
	bool number;	/* a number (value), else a string (s, len) */
	bool atom;	/* (a bare atom: only in a SASL response) */
	uint32_t value; /* number */
	char *s;	/* string, NUL-terminated (may hold NULs: len) */
	size_t len;
};

struct msv_cmd {
	enum msv_cmd_id id;
	const char *name;  /* the keyword as tern spells it; "" when none */
	const char *error; /* MSV_CMD_BAD: why, for the NO reply */
	size_t argc;
	struct msv_arg argv[MSV_MAX_ARGS];
	uint64_t skip; /* MSV_PARSE_TOO_BIG: literal octets to discard */
};

enum msv_parse {
	MSV_PARSE_TOO_LONG = -1, /* no line end within MSV_MAX_LINE */
	MSV_PARSE_MORE = 0,	 /* the command is not complete yet */
	MSV_PARSE_OK = 1,	 /* *cmd filled, *used bytes taken */
	/*
	 * A literal longer than max_literal: *used bytes (through the
	 * literal's CRLF) are taken and cmd->skip octets follow; the caller
	 * discards them and the rest of the line (msv_skip_line), then
	 * answers cmd->id (the keyword, arguments not kept).
	 */
	MSV_PARSE_TOO_BIG = 2,
};

/* Parses the first command of data[0..len); msv_cmd_free() it after OK
 * or TOO_BIG. */
enum msv_parse msv_cmd_parse(
    const char *data, size_t len, size_t max_literal, struct msv_cmd *cmd, size_t *used);

/*
 * A SASL response line (RFC 5804 2.1): one string (quoted or literal),
 * or a bare base64 atom as some clients send.  On OK cmd->argv[0] holds
 * it (argc 1); a malformed line is MSV_CMD_BAD.
 */
enum msv_parse msv_response_parse(
    const char *data, size_t len, size_t max_literal, struct msv_cmd *cmd, size_t *used);

void msv_cmd_free(struct msv_cmd *cmd);

/* After MSV_PARSE_TOO_BIG and the skipped octets: the bytes up to and
 * including the next LF in data[0..len), or 0 when there is none yet. */
size_t msv_skip_line(const char *data, size_t len);

/* Appends s[0..len) to out as a ManageSieve string: quoted when it is
 * short and plain, else a literal {n} (the server's form). */
struct buf;
void msv_put_string(struct buf *out, const char *s, size_t len);

/*
 * The capability lines (RFC 5804 1.7), the greeting's and CAPABILITY's,
 * without the final OK: IMPLEMENTATION (managesieve_implementation_string),
 * SIEVE (lib/sieve's extensions), SASL (sasl, "" after login), STARTTLS
 * when starttls, MAXREDIRECTS, VERSION "1.0".
 */
void msv_capability(struct buf *out, const char *sasl, bool starttls);

#endif
