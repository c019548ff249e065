/*
 * cmd.c - parsing one SMTP command line (smtp/cmd.h).
 *
 * The grammar is RFC 5321 4.1.1 and 4.1.2 with Postfix's tolerance for
 * clients that put a space after "MAIL FROM:" (unless strict), and none for
 * bytes that have no business in a command line: a NUL or a bare CR or LF
 * inside a line is refused, since later stages would see a different
 * command than this parser did (the root of SMTP smuggling tricks).
 *
 * Not done here: the address (address.c), the meaning of parameters, the
 * session state machine, pipelining checks, line length limits (the reader
 * enforces those).
 */
#include "smtp/cmd.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define ERR_EMPTY "500 5.5.2 Error: bad syntax"
#define ERR_BYTE "500 5.5.2 Error: bad character in command"
#define ERR_UNKNOWN "502 5.5.2 Error: command not recognized"

enum arg_rule {
	ARG_NONE,     /* DATA: nothing may follow */
	ARG_OPTIONAL, /* NOOP [text] */
	ARG_REQUIRED, /* EHLO hostname */
	ARG_PATH,     /* MAIL FROM:<path> [params] */
};

struct verb_def {
	const char *name;
	enum arg_rule rule;
	const char *prefix; /* ARG_PATH: "FROM:" or "TO:" */
	const char *syntax; /* the reply when the argument is wrong */
};

/* Indexed by enum smtp_verb: the one table of SMTP verbs. */
static const struct verb_def verbs[SMTP_NVERBS] = {
    [SMTP_HELO] = {"HELO", ARG_REQUIRED, NULL, "501 5.5.4 Syntax: HELO hostname"},
    [SMTP_EHLO] = {"EHLO", ARG_REQUIRED, NULL, "501 5.5.4 Syntax: EHLO hostname"},
    [SMTP_STARTTLS] = {"STARTTLS", ARG_NONE, NULL, "501 5.5.4 Syntax: STARTTLS"},
    [SMTP_AUTH] = {"AUTH", ARG_REQUIRED, NULL, "501 5.5.4 Syntax: AUTH mechanism"},
    [SMTP_MAIL] = {"MAIL", ARG_PATH, "FROM:", "501 5.5.4 Syntax: MAIL FROM:<address>"},
    [SMTP_RCPT] = {"RCPT", ARG_PATH, "TO:", "501 5.5.4 Syntax: RCPT TO:<address>"},
    [SMTP_DATA] = {"DATA", ARG_NONE, NULL, "501 5.5.4 Syntax: DATA"},
    [SMTP_BDAT] = {"BDAT", ARG_REQUIRED, NULL, "501 5.5.4 Syntax: BDAT count [LAST]"},
    [SMTP_RSET] = {"RSET", ARG_NONE, NULL, "501 5.5.4 Syntax: RSET"},
    [SMTP_NOOP] = {"NOOP", ARG_OPTIONAL, NULL, NULL},
    [SMTP_VRFY] = {"VRFY", ARG_REQUIRED, NULL, "501 5.5.4 Syntax: VRFY address"},
    [SMTP_EXPN] = {"EXPN", ARG_REQUIRED, NULL, "501 5.5.4 Syntax: EXPN mailing-list"},
    [SMTP_HELP] = {"HELP", ARG_OPTIONAL, NULL, NULL},
    [SMTP_QUIT] = {"QUIT", ARG_NONE, NULL, "501 5.5.4 Syntax: QUIT"},
    [SMTP_UNKNOWN] = {"UNKNOWN", ARG_OPTIONAL, NULL, NULL},
};

static bool is_sp(int c)
{
	return c == ' ' || c == '\t';
}

static int cmd_fail(struct smtp_cmd *out, const char *error)
{
	out->error = error;
	return -1;
}

/* SMTP_UNKNOWN when s[0..len) names no verb ("UNKNOWN" is no verb). */
static enum smtp_verb verb_find(const char *s, size_t len)
{
	for (int v = 0; v < SMTP_UNKNOWN; v++)
		if (strlen(verbs[v].name) == len && strncasecmp(s, verbs[v].name, len) == 0)
			return (enum smtp_verb)v;
	return SMTP_UNKNOWN;
}

const char *smtp_verb_name(enum smtp_verb verb)
{
	return (unsigned)verb < SMTP_UNKNOWN ? verbs[verb].name : verbs[SMTP_UNKNOWN].name;
}

/*
 * "FROM:<path> params" after MAIL (p is just past the verb).  RFC 5321
 * wants exactly "MAIL FROM:<"; Postfix lets "MAIL FROM: <" through unless
 * smtpd_strict_rfc821_envelopes, and so do we.
 */
static int cmd_path(
    const struct verb_def *v, const char *p, const char *end, int flags, struct smtp_cmd *out)
{
	size_t plen = strlen(v->prefix);

	if (flags & SMTP_CMD_STRICT) {
		if (p == end || *p != ' ')
			return cmd_fail(out, v->syntax);
		p++;
	} else {
		while (p < end && is_sp(*p))
			p++;
	}
	if ((size_t)(end - p) < plen || strncasecmp(p, v->prefix, plen) != 0)
		return cmd_fail(out, v->syntax);
	p += plen;
	while (!(flags & SMTP_CMD_STRICT) && p < end && is_sp(*p))
		p++;
	if (p == end || *p != '<')
		return cmd_fail(out, v->syntax);
	out->arg = p;
	out->arg_len = (size_t)(end - p);
	return 0;
}

/* Checks the argument (from p to end, trailing blanks gone) for v's rule. */
static int cmd_args(
    const struct verb_def *v, const char *p, const char *end, int flags, struct smtp_cmd *out)
{
	if (v->rule == ARG_PATH)
		return cmd_path(v, p, end, flags, out);
	while (p < end && is_sp(*p))
		p++;
	if (p == end && v->rule == ARG_REQUIRED)
		return cmd_fail(out, v->syntax);
	if (p != end && v->rule == ARG_NONE)
		return cmd_fail(out, v->syntax);
	if (p != end) {
		out->arg = p;
		out->arg_len = (size_t)(end - p);
	}
	return 0;
}

int smtp_cmd_parse_flags(const char *line, size_t len, int flags, struct smtp_cmd *out)
{
	const char *end = line + len, *p = line;

	out->verb = SMTP_UNKNOWN;
	out->arg = NULL;
	out->arg_len = 0;
	out->error = NULL;
	if (len == 0)
		return cmd_fail(out, ERR_EMPTY);
	if (memchr(line, 0, len) || memchr(line, '\r', len) || memchr(line, '\n', len))
		return cmd_fail(out, ERR_BYTE);
	while (end > line && is_sp(end[-1]))
		end--;
	while (p < end && !is_sp(*p))
		p++;
	out->verb = verb_find(line, (size_t)(p - line));
	if (out->verb == SMTP_UNKNOWN)
		return cmd_fail(out, ERR_UNKNOWN);
	return cmd_args(&verbs[out->verb], p, end, flags, out);
}

int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *out)
{
	return smtp_cmd_parse_flags(line, len, 0, out);
}
