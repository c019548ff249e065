/*
 * imap/parser.h - the incremental IMAP command parser (RFC 9051 and RFC
 * 3501 section 9 "command", with LITERAL+/LITERAL- of RFC 7888 and
 * literal8 of RFC 3516), in the shape of Dovecot's imap-parser.
 *
 * The caller feeds bytes as they arrive; the parser consumes what it can
 * and says what happened:
 *
 *   IMAP_PARSE_MORE     everything was consumed; a command is not complete.
 *   IMAP_PARSE_COMMAND  a complete command (tag, name, argument tree) is in
 *                       imap_parser_command() until the next feed.
 *   IMAP_PARSE_LITERAL  a literal "{n}", "{n+}" or "~{n}" was announced
 *                       (imap_parser_literal()).  The caller decides before
 *                       feeding again: _literal_accept() reads it into
 *                       memory (for a synchronising literal the caller
 *                       sends "+ OK" first); _literal_stream() lets the
 *                       caller take the n bytes itself (an APPEND message
 *                       going to a file) and call _literal_streamed() after;
 *                       _literal_reject() makes it a BAD (the bytes of a
 *                       non-synchronising literal are then skipped).
 *   IMAP_PARSE_BAD      a syntax error: reply "tag BAD ..." (tag may be
 *                       NULL: use "*"); the parser skips the rest of the
 *                       command by itself (including the data of a
 *                       non-synchronising literal on it) and goes on.
 *   IMAP_PARSE_FATAL    the client broke a limit the parser cannot recover
 *                       from (the line is longer than max_line): send
 *                       "* BYE <text>" and close.
 *
 * Argument tree: atoms (ATOM-CHARs plus '%', '*', ']', '\' as Dovecot
 * accepts them, and a "[...]" section kept whole, spaces and parentheses
 * included, so BODY[HEADER.FIELDS (A B)]<0.10> is one atom), quoted
 * strings (unescaped), literals (in memory; NUL only in literal8),
 * parenthesised lists and NIL.  Lines end in CRLF or LF.  8-bit bytes are
 * accepted in atoms and quoted strings (UTF8=ACCEPT; RFC 3501 clients do
 * not send them).  The command name is upper-cased; "UID x" becomes the
 * name "UID X".  Empty lines are ignored.
 *
 * Limits (struct imap_parser_limits, 0 = default): max_line counts the
 * line and every in-memory literal (default 64 KiB, Dovecot's
 * imap_max_line_length); max_literal is the largest in-memory literal
 * (default = max_line); list depth (default 100) and number of arguments
 * (default 10,000).  Memory is bounded by them.
 */
#ifndef TERN_IMAP_PARSER_H
#define TERN_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The error texts (BAD unless said otherwise). */
#define IMAP_ERR_LINE_TOO_LONG "Too long argument." /* FATAL: BYE */
#define IMAP_ERR_LITERAL_TOO_BIG "Literal size too large"
#define IMAP_ERR_LITERAL_SIZE "Invalid literal size"
#define IMAP_ERR_LITERAL_CRLF "Missing CRLF after literal size"
#define IMAP_ERR_LIST_DEEP "Too deep parenthesis nesting"
#define IMAP_ERR_TOO_MANY_ARGS "Too many arguments"
#define IMAP_ERR_UNEXPECTED_PAREN "Unexpected ')'"
#define IMAP_ERR_MISSING_PAREN "Missing ')'"
#define IMAP_ERR_NUL "NUL characters not allowed"
#define IMAP_ERR_CR "CR without LF"
#define IMAP_ERR_TAG "Invalid tag"
#define IMAP_ERR_NAME "Invalid command name"
#define IMAP_ERR_EOL_STRING "Missing '\"'"
#define IMAP_ERR_CHAR "Unexpected character"
#define IMAP_ERR_LITERAL_REJECTED "Literal rejected"

enum imap_arg_type {
	IMAP_ARG_NIL,
	IMAP_ARG_ATOM,
	IMAP_ARG_STRING,	 /* quoted */
	IMAP_ARG_LITERAL,	 /* in memory (str, len; literal8 flag) */
	IMAP_ARG_LITERAL_STREAM, /* size only: the caller took the bytes */
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	char *str; /* NUL-terminated (may hold NULs in a literal8) */
	size_t len;
	bool literal8;
	uint64_t size; /* LITERAL_STREAM */
	struct imap_arg *list;
	size_t count;
};

struct imap_command {
	char *tag;
	char *name; /* upper case; "UID FETCH" for UID commands */
	struct imap_arg *args;
	size_t count;
};

enum imap_parse_result {
	IMAP_PARSE_MORE,
	IMAP_PARSE_COMMAND,
	IMAP_PARSE_LITERAL,
	IMAP_PARSE_BAD,
	IMAP_PARSE_FATAL,
};

struct imap_parser_limits {
	size_t max_line;
	uint64_t max_literal;
	unsigned max_depth;
	size_t max_args;
};

#define IMAP_PARSER_DEFAULT_LINE (64 * 1024)
#define IMAP_PARSER_DEFAULT_DEPTH 100
#define IMAP_PARSER_DEFAULT_ARGS 10000

struct imap_literal_info {
	uint64_t size;
	bool sync;	/* "{n}": the client waits for "+" */
	bool literal8;	/* "~{n}" */
	unsigned depth; /* list nesting where it stands (0: top level) */
	size_t argc;	/* top-level arguments before it */
};

struct imap_parser;

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits);
void imap_parser_free(struct imap_parser *p);
enum imap_parse_result imap_parser_feed(
    struct imap_parser *p, const char *data, size_t len, size_t *consumed);
const struct imap_command *imap_parser_command(const struct imap_parser *p);
/* The command as far as it is parsed (tag/name may be NULL): what an
 * APPEND looks at when its message literal is announced. */
const struct imap_command *imap_parser_partial(struct imap_parser *p);
const struct imap_literal_info *imap_parser_literal(const struct imap_parser *p);
/* False (and the command becomes a BAD) if it is larger than the limits. */
bool imap_parser_literal_accept(struct imap_parser *p);
void imap_parser_literal_stream(struct imap_parser *p);
void imap_parser_literal_streamed(struct imap_parser *p);
void imap_parser_literal_reject(struct imap_parser *p, const char *text);
/* After BAD/FATAL: the error text and the tag (NULL if not read). */
const char *imap_parser_error(const struct imap_parser *p);
const char *imap_parser_error_tag(const struct imap_parser *p);

/* Helpers over arguments. */
bool imap_arg_is_atom(const struct imap_arg *a, const char *word); /* any case */
/* An astring/nstring's text: atoms, quoted strings, in-memory literals. */
bool imap_arg_string(const struct imap_arg *a, const char **s, size_t *len);
void imap_command_free(struct imap_command *cmd);

#endif
