/*
 * cmd.h - one SMTP command line: its verb and argument.
 *
 * Pure functions over a buffer: no I/O, no allocation, no session state.
 * smtp_cmd_parse() splits a command line (CRLF already removed) into its
 * verb and argument and checks only what does not depend on the session:
 * the argument rule of each verb and the "FROM:"/"TO:" of MAIL and RCPT.
 * Addresses are parsed by addr_parse_path() (address.h), parameters by
 * esmtp_params_split() (smtp/esmtp.h).  Whether a command is allowed now,
 * and what it means, is the caller's job (smtpd, sendmail -bs).
 *
 * The verb table here is the only list of SMTP verbs in tern; the enum's
 * order is the order of Postfix's "disconnect from ..." counters.
 */
#ifndef TERN_SMTP_CMD_H
#define TERN_SMTP_CMD_H

#include <stddef.h>

/* smtpd_strict_rfc821_envelopes: "MAIL FROM:<a>" exactly, no extra spaces. */
#define SMTP_CMD_STRICT 0x1

enum smtp_verb {
	SMTP_HELO,
	SMTP_EHLO,
	SMTP_STARTTLS,
	SMTP_AUTH,
	SMTP_MAIL,
	SMTP_RCPT,
	SMTP_DATA,
	SMTP_BDAT,
	SMTP_RSET,
	SMTP_NOOP,
	SMTP_VRFY,
	SMTP_EXPN,
	SMTP_HELP,
	SMTP_QUIT,
	SMTP_UNKNOWN, /* last: anything else */
	SMTP_NVERBS,
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg;   /* points into the line; NULL when none */
	size_t arg_len;	   /* trailing white space is not counted */
	const char *error; /* a complete reply line on failure */
};

/*
 * Parses line[0..len).  Returns 0, or -1 with out->error set to a reply
 * such as "501 5.5.4 Syntax: MAIL FROM:<address>"; out->verb is set even
 * then when the verb was recognised.  For MAIL and RCPT, arg starts at the
 * '<' of the path and runs to the end of the parameters.  Verbs are
 * case-insensitive; MAIL/RCPT tolerate spaces around "FROM:"/"TO:" unless
 * flags has SMTP_CMD_STRICT.
 */
int smtp_cmd_parse_flags(const char *line, size_t len, int flags, struct smtp_cmd *out);
int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *out);

/* The verb in upper case ("MAIL"; "UNKNOWN" for SMTP_UNKNOWN). */
const char *smtp_verb_name(enum smtp_verb verb);

#endif
