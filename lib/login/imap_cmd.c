/*
 * login/imap_cmd.c - the pre-login IMAP command parser (imap_cmd.h).
 *
 * A cursor walks the input; running out of bytes anywhere means MORE
 * (nothing is consumed), a grammar error means BAD for the whole line
 * (consumed up to its LF, once that has arrived, so that the client can
 * go on).
 */
#include "login/imap_cmd.h"

#include <string.h>

struct cur {
	const char *p, *end, *start;
	struct imap_cmd *cmd;
	size_t stored;
	int more; /* ran out of input */
	bool too_long;
};

/* RFC 9051 ATOM-CHAR: any CHAR except atom-specials. */
static bool atom_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("(){ %*\"\\]", ch);
}

static bool tag_char(unsigned char ch)
{
	return (atom_char(ch) || ch == ']') && ch != '+';
}

static const char *store(struct cur *c, const char *s, size_t n)
{
	char *dst = c->cmd->store + c->stored;

	memcpy(dst, s, n);
	dst[n] = 0;
	c->stored += n + 1;
	return dst;
}

static void add_arg(struct cur *c, enum imap_arg_type t, const char *s, size_t n, bool keep)
{
	struct imap_cmd *cmd = c->cmd;

	if (!keep || cmd->argc >= IMAP_CMD_MAX_ARGS) {
		if (keep && cmd->error == NULL)
			cmd->error = "Too many arguments";
		return;
	}
	cmd->argv[cmd->argc].type = t;
	cmd->argv[cmd->argc].s = store(c, s, n);
	cmd->argv[cmd->argc].len = n;
	cmd->argc++;
}

static bool need(struct cur *c, size_t n)
{
	if ((size_t)(c->end - c->p) >= n)
		return true;
	c->more = 1;
	return false;
}

static bool fail(struct cur *c, const char *why)
{
	if (c->cmd->error == NULL)
		c->cmd->error = why;
	return false;
}

static bool parse_quoted(struct cur *c, bool keep)
{
	char buf[IMAP_LOGIN_MAX_INPUT];
	size_t n = 0;

	c->p++; /* the opening quote */
	for (;;) {
		if (!need(c, 1))
			return false;
		if (*c->p == '"')
			break;
		if (*c->p == '\r' || *c->p == '\n' || *c->p == 0)
			return fail(c, "Invalid characters in quoted string");
		if (*c->p == '\\') {
			c->p++;
			if (!need(c, 1))
				return false;
			if (*c->p != '\\' && *c->p != '"')
				return fail(c, "Invalid escape in quoted string");
		}
		buf[n++] = *c->p++;
	}
	c->p++;
	add_arg(c, IMAP_ARG_STRING, buf, n, keep);
	return true;
}

static bool parse_literal(struct cur *c, bool keep)
{
	size_t n = 0, digits = 0;
	bool nonsync = false;

	c->p++; /* { */
	while (need(c, 1) && *c->p >= '0' && *c->p <= '9' && digits < 10) {
		n = n * 10 + (size_t)(*c->p++ - '0');
		digits++;
	}
	if (c->more)
		return false;
	if (*c->p == '+') {
		nonsync = true;
		c->p++;
	}
	if (!need(c, 1))
		return false;
	if (digits == 0 || *c->p != '}')
		return fail(c, "Invalid literal size");
	c->p++;
	if (!need(c, 1))
		return false;
	if (*c->p == '\r') {
		c->p++;
		if (!need(c, 1))
			return false;
	}
	if (*c->p != '\n')
		return fail(c, "Missing CRLF after literal size");
	c->p++;
	if (n > IMAP_LOGIN_MAX_INPUT) {
		c->too_long = true;
		return false;
	}
	if (!need(c, n)) {
		if (!nonsync)
			c->cmd->literal_at = (size_t)(c->p - c->start);
		return false;
	}
	add_arg(c, IMAP_ARG_STRING, c->p, n, keep);
	c->p += n;
	return true;
}

static bool parse_arg(struct cur *c, bool keep, int depth);

static bool parse_list(struct cur *c, bool keep, int depth)
{
	if (depth > 4)
		return fail(c, "Lists nested too deep");
	c->p++; /* ( */
	for (bool first = true;; first = false) {
		if (!need(c, 1))
			return false;
		if (*c->p == ')')
			break;
		if (!first) {
			if (*c->p != ' ')
				return fail(c, "Missing space in list");
			c->p++;
			if (!need(c, 1))
				return false;
		}
		if (!parse_arg(c, false, depth + 1))
			return false;
	}
	c->p++;
	add_arg(c, IMAP_ARG_LIST, "", 0, keep);
	return true;
}

static bool parse_arg(struct cur *c, bool keep, int depth)
{
	const char *s = c->p;

	if (!need(c, 1))
		return false;
	if (*c->p == '"')
		return parse_quoted(c, keep);
	if (*c->p == '{')
		return parse_literal(c, keep);
	if (*c->p == '(')
		return parse_list(c, keep, depth);
	while (c->p < c->end && (atom_char((unsigned char)*c->p) || *c->p == ']'))
		c->p++;
	if (c->p == c->end)
		return need(c, 1);
	if (c->p == s)
		return fail(c, "Invalid argument");
	if (c->p - s == 3 && strncasecmp(s, "NIL", 3) == 0)
		add_arg(c, IMAP_ARG_NIL, "", 0, keep);
	else
		add_arg(c, IMAP_ARG_ATOM, s, (size_t)(c->p - s), keep);
	return true;
}

/* tag SP name: false with more or an error. */
static bool parse_head(struct cur *c)
{
	const char *s = c->p;
	size_t n;

	while (c->p < c->end && tag_char((unsigned char)*c->p))
		c->p++;
	if (c->p == c->end)
		return need(c, 1);
	n = (size_t)(c->p - s);
	if (n == 0 || n > IMAP_CMD_MAX_TAG || *c->p != ' ')
		return fail(c, "Error in IMAP command received by server.");
	memcpy(c->cmd->tag, s, n);
	c->cmd->tag[n] = 0;
	s = ++c->p;
	while (c->p < c->end && atom_char((unsigned char)*c->p))
		c->p++;
	if (c->p == c->end)
		return need(c, 1);
	n = (size_t)(c->p - s);
	if (n == 0 || n >= sizeof(c->cmd->name))
		return fail(c, "Error in IMAP command received by server.");
	for (size_t i = 0; i < n; i++)
		c->cmd->name[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
	c->cmd->name[n] = 0;
	return true;
}

/* After an error: the line it was on is consumed once its end is here. */
static enum imap_cmd_result bad_line(struct cur *c, size_t *used)
{
	const char *lf = memchr(c->p, '\n', (size_t)(c->end - c->p));

	if (lf == NULL)
		return c->end - c->start >= IMAP_LOGIN_MAX_INPUT ? IMAP_CMD_TOO_LONG
								 : IMAP_CMD_MORE;
	*used = (size_t)(lf + 1 - c->start);
	return IMAP_CMD_BAD;
}

enum imap_cmd_result imap_cmd_parse(
    const char *data, size_t len, struct imap_cmd *cmd, size_t *used)
{
	struct cur c = {.p = data, .end = data + len, .start = data, .cmd = cmd};

	cmd->tag[0] = cmd->name[0] = 0;
	cmd->argc = 0;
	cmd->literal_at = 0;
	cmd->error = NULL;
	if (len > IMAP_LOGIN_MAX_INPUT)
		c.end = data + IMAP_LOGIN_MAX_INPUT;
	if (parse_head(&c)) {
		while (need(&c, 1) && *c.p == ' ') {
			c.p++;
			if (!parse_arg(&c, true, 0))
				break;
		}
		if (!c.more && !c.too_long && cmd->error == NULL && *c.p == '\r') {
			c.p++;
			need(&c, 1);
		}
		if (!c.more && !c.too_long && cmd->error == NULL && *c.p != '\n')
			fail(&c, "Error in IMAP command received by server.");
	}
	if (c.too_long)
		return IMAP_CMD_TOO_LONG;
	/* An error that did not stop the parse (too many arguments) is
	 * reported once the whole command, literals included, is here. */
	if (c.more)
		return len >= IMAP_LOGIN_MAX_INPUT ? IMAP_CMD_TOO_LONG : IMAP_CMD_MORE;
	if (cmd->error)
		return bad_line(&c, used);
	*used = (size_t)(c.p + 1 - data);
	if (cmd->error == NULL && cmd->argc > IMAP_CMD_MAX_ARGS)
		cmd->error = "Too many arguments";
	return IMAP_CMD_OK;
}

enum imap_cmd_result imap_cmd_line(
    const char *data, size_t len, const char **line, size_t *line_len, size_t *used)
{
	size_t max = len > IMAP_LOGIN_MAX_INPUT ? IMAP_LOGIN_MAX_INPUT : len;
	const char *lf = memchr(data, '\n', max);
	size_t n;

	if (lf == NULL)
		return len >= IMAP_LOGIN_MAX_INPUT ? IMAP_CMD_TOO_LONG : IMAP_CMD_MORE;
	n = (size_t)(lf - data);
	*used = n + 1;
	if (n > 0 && data[n - 1] == '\r')
		n--;
	*line = data;
	*line_len = n;
	return IMAP_CMD_OK;
}
