/*
 * cmd.h - parsing one SMTP command line, ESMTP parameters and xtext.
 *
 * Pure functions over a buffer: no I/O, no allocation except into a
 * caller's struct buf, no session state.  smtp_cmd_parse() splits a command
 * line (CRLF already removed) into its verb and argument and checks only
 * what does not depend on the session: the argument count of each verb and
 * the "FROM:"/"TO:" of MAIL and RCPT.  Addresses are parsed by
 * addr_parse_path() (address.h), parameters by smtp_params_parse().
 * Whether a command is allowed now, and what it means, is the caller's job.
 */
#ifndef TERN_SMTPD_CMD_H
#define TERN_SMTPD_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define SMTP_PARAMS_MAX 16 /* more ESMTP parameters than this: error */

/* smtpd_strict_rfc821_envelopes: "MAIL FROM:<a>" exactly, no extra spaces. */
#define SMTP_CMD_STRICT 0x1

enum smtp_verb {
	SMTP_HELO,
	SMTP_EHLO,
	SMTP_MAIL,
	SMTP_RCPT,
	SMTP_DATA,
	SMTP_BDAT,
	SMTP_RSET,
	SMTP_NOOP,
	SMTP_QUIT,
	SMTP_VRFY,
	SMTP_EXPN,
	SMTP_HELP,
	SMTP_STARTTLS,
	SMTP_AUTH,
	SMTP_UNKNOWN,
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg;   /* points into the line; NULL when none */
	size_t arg_len;	   /* trailing white space is not counted */
	const char *error; /* a complete reply line on failure */
};

/* One ESMTP parameter, pointing into the parsed text. */
struct smtp_param {
	const char *key;
	size_t key_len;
	const char *value; /* NULL for a bare "KEY" */
	size_t value_len;
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

/*
 * Parses "KEY=VALUE KEY2" (RFC 5321 4.1.2 esmtp-param) from s[0..len),
 * which may start with spaces.  Stores at most max parameters; returns 0
 * with *count set, or -1 with *error a reply line.
 */
int smtp_params_parse(const char *s, size_t len, struct smtp_param *params, size_t max,
    size_t *count, const char **error);

/* Whether the parameter's key is key, ignoring ASCII case. */
bool smtp_param_is(const struct smtp_param *p, const char *key);

/*
 * Decodes xtext (RFC 3461 4.2, "+HH" escapes) into out, which is reset
 * first.  Returns -1 on bad xtext or an encoded NUL byte.
 */
int smtp_xtext_decode(const char *in, size_t len, struct buf *out);
/* Appends in[0..len) to out as xtext. */
void smtp_xtext_encode(const char *in, size_t len, struct buf *out);

#endif
