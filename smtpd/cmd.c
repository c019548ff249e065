/*
 * cmd.c - parsing one SMTP command line, ESMTP parameters and xtext.
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
#include "cmd.h"

#include <string.h>
#include <strings.h>

#define ERR_EMPTY "500 5.5.2 Error: bad syntax"
#define ERR_BYTE "500 5.5.2 Error: bad character in command"
#define ERR_UNKNOWN "502 5.5.2 Error: command not recognized"
#define ERR_PARAM "501 5.5.4 Syntax error in parameters"
#define ERR_NPARAM "501 5.5.4 Too many parameters"

enum arg_rule {
	ARG_NONE,     /* DATA: nothing may follow */
	ARG_OPTIONAL, /* NOOP [text] */
	ARG_REQUIRED, /* EHLO hostname */
	ARG_PATH,     /* MAIL FROM:<path> [params] */
};

struct verb_def {
	const char *name;
	enum smtp_verb verb;
	enum arg_rule rule;
	const char *prefix; /* ARG_PATH: "FROM:" or "TO:" */
	const char *syntax; /* the reply when the argument is wrong */
};

static const struct verb_def verbs[] = {
    {"HELO", SMTP_HELO, ARG_REQUIRED, NULL, "501 5.5.4 Syntax: HELO hostname"},
    {"EHLO", SMTP_EHLO, ARG_REQUIRED, NULL, "501 5.5.4 Syntax: EHLO hostname"},
    {"MAIL", SMTP_MAIL, ARG_PATH, "FROM:", "501 5.5.4 Syntax: MAIL FROM:<address>"},
    {"RCPT", SMTP_RCPT, ARG_PATH, "TO:", "501 5.5.4 Syntax: RCPT TO:<address>"},
    {"DATA", SMTP_DATA, ARG_NONE, NULL, "501 5.5.4 Syntax: DATA"},
    {"BDAT", SMTP_BDAT, ARG_REQUIRED, NULL, "501 5.5.4 Syntax: BDAT count [LAST]"},
    {"RSET", SMTP_RSET, ARG_NONE, NULL, "501 5.5.4 Syntax: RSET"},
    {"NOOP", SMTP_NOOP, ARG_OPTIONAL, NULL, NULL},
    {"QUIT", SMTP_QUIT, ARG_NONE, NULL, "501 5.5.4 Syntax: QUIT"},
    {"VRFY", SMTP_VRFY, ARG_REQUIRED, NULL, "501 5.5.4 Syntax: VRFY address"},
    {"EXPN", SMTP_EXPN, ARG_REQUIRED, NULL, "501 5.5.4 Syntax: EXPN mailing-list"},
    {"HELP", SMTP_HELP, ARG_OPTIONAL, NULL, NULL},
    {"STARTTLS", SMTP_STARTTLS, ARG_NONE, NULL, "501 5.5.4 Syntax: STARTTLS"},
    {"AUTH", SMTP_AUTH, ARG_REQUIRED, NULL, "501 5.5.4 Syntax: AUTH mechanism"},
};

static bool is_sp(int c)
{
	return c == ' ' || c == '\t';
}

static bool is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int cmd_fail(struct smtp_cmd *out, const char *error)
{
	out->error = error;
	return -1;
}

static const struct verb_def *verb_find(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == len && strncasecmp(s, verbs[i].name, len) == 0)
			return &verbs[i];
	return NULL;
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
	const struct verb_def *v;

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
	if ((v = verb_find(line, (size_t)(p - line))) == NULL)
		return cmd_fail(out, ERR_UNKNOWN);
	out->verb = v->verb;
	return cmd_args(v, p, end, flags, out);
}

int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *out)
{
	return smtp_cmd_parse_flags(line, len, 0, out);
}

/* esmtp-param = esmtp-keyword ["=" esmtp-value] (RFC 5321 4.1.2). */
static bool param_parse(const char *s, size_t len, struct smtp_param *p)
{
	size_t i = 1;

	if (len == 0 || !is_alnum(s[0]))
		return false;
	while (i < len && (is_alnum(s[i]) || s[i] == '-'))
		i++;
	p->key = s;
	p->key_len = i;
	p->value = NULL;
	p->value_len = 0;
	if (i == len)
		return true;
	if (s[i] != '=' || i + 1 == len)
		return false;
	for (size_t j = i + 1; j < len; j++)
		if (s[j] < 33 || s[j] > 126 || s[j] == '=')
			return false;
	p->value = s + i + 1;
	p->value_len = len - i - 1;
	return true;
}

int smtp_params_parse(const char *s, size_t len, struct smtp_param *params, size_t max,
    size_t *count, const char **error)
{
	const char *end = s + len, *tok;

	*count = 0;
	for (;;) {
		while (s < end && is_sp(*s))
			s++;
		if (s == end)
			return 0;
		for (tok = s; s < end && !is_sp(*s); s++)
			;
		if (*count == max) {
			*error = ERR_NPARAM;
			return -1;
		}
		if (!param_parse(tok, (size_t)(s - tok), &params[*count])) {
			*error = ERR_PARAM;
			return -1;
		}
		(*count)++;
	}
}

bool smtp_param_is(const struct smtp_param *p, const char *key)
{
	return strlen(key) == p->key_len && strncasecmp(p->key, key, p->key_len) == 0;
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * xtext = *( xchar / hexchar ); xchar is 33..126 but '+' and '=', hexchar
 * is "+" and two hex digits (RFC 3461 4.2; lower case is accepted).
 */
int smtp_xtext_decode(const char *in, size_t len, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int hi, lo;

		if (c == '+') {
			if (len - i < 3 || (hi = hex_value(in[i + 1])) < 0 ||
			    (lo = hex_value(in[i + 2])) < 0 || hi * 16 + lo == 0)
				return -1;
			buf_putc(out, hi * 16 + lo);
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return -1;
		} else {
			buf_putc(out, c);
		}
	}
	return 0;
}

void smtp_xtext_encode(const char *in, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 33 || c > 126 || c == '+' || c == '=')
			buf_printf(out, "+%02X", c);
		else
			buf_putc(out, c);
	}
}
