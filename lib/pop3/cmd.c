/*
 * pop3/cmd.c - the POP3 command parser (cmd.h).
 */
#include "pop3/cmd.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum pop3_cmd_id id;
} pop3_cmds[] = {
    {"USER", POP3_CMD_USER},
    {"PASS", POP3_CMD_PASS},
    {"APOP", POP3_CMD_APOP},
    {"AUTH", POP3_CMD_AUTH},
    {"CAPA", POP3_CMD_CAPA},
    {"STLS", POP3_CMD_STLS},
    {"UTF8", POP3_CMD_UTF8},
    {"QUIT", POP3_CMD_QUIT},
    {"STAT", POP3_CMD_STAT},
    {"LIST", POP3_CMD_LIST},
    {"RETR", POP3_CMD_RETR},
    {"DELE", POP3_CMD_DELE},
    {"NOOP", POP3_CMD_NOOP},
    {"RSET", POP3_CMD_RSET},
    {"TOP", POP3_CMD_TOP},
    {"UIDL", POP3_CMD_UIDL},
    {"LANG", POP3_CMD_LANG},
};

enum pop3_parse pop3_line(
    const char *data, size_t len, const char **line, size_t *line_len, size_t *used)
{
	const char *lf = memchr(data, '\n', len > POP3_MAX_LINE ? POP3_MAX_LINE : len);
	size_t n;

	if (lf == NULL)
		return len >= POP3_MAX_LINE ? POP3_PARSE_TOO_LONG : POP3_PARSE_MORE;
	n = (size_t)(lf - data);
	*used = n + 1;
	if (n > 0 && data[n - 1] == '\r')
		n--;
	*line = data;
	*line_len = n;
	return POP3_PARSE_OK;
}

static enum pop3_cmd_id pop3_cmd_lookup(const char *word, const char **name)
{
	for (size_t i = 0; i < sizeof(pop3_cmds) / sizeof(pop3_cmds[0]); i++)
		if (strcasecmp(word, pop3_cmds[i].name) == 0) {
			*name = pop3_cmds[i].name;
			return pop3_cmds[i].id;
		}
	*name = "";
	return POP3_CMD_UNKNOWN;
}

/* Splits cmd->line (NUL-terminated, no control characters) in place. */
static void pop3_cmd_split(struct pop3_cmd *cmd)
{
	char *p = cmd->line, *word;

	word = p;
	while (*p && *p != ' ')
		p++;
	if (*p)
		*p++ = 0;
	cmd->id = pop3_cmd_lookup(word, &cmd->name);
	if (cmd->id == POP3_CMD_PASS) {
		/* The rest of the line, spaces and all, is the password. */
		if (*p)
			cmd->argv[cmd->argc++] = p;
		return;
	}
	while (*p) {
		while (*p == ' ')
			p++;
		if (*p == 0)
			break;
		if (cmd->argc == POP3_MAX_ARGS) {
			cmd->extra_args = true;
			break;
		}
		cmd->argv[cmd->argc++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = 0;
	}
}

enum pop3_parse pop3_cmd_parse(const char *data, size_t len, struct pop3_cmd *cmd, size_t *used)
{
	const char *line;
	size_t n;
	enum pop3_parse r = pop3_line(data, len, &line, &n, used);

	if (r != POP3_PARSE_OK)
		return r;
	cmd->argc = 0;
	cmd->extra_args = false;
	cmd->name = "";
	cmd->id = POP3_CMD_BAD;
	memcpy(cmd->line, line, n);
	cmd->line[n] = 0;
	if (n == 0 || line[0] == ' ')
		return POP3_PARSE_OK;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return POP3_PARSE_OK; /* NUL, CR, TAB...: BAD */
	pop3_cmd_split(cmd);
	return POP3_PARSE_OK;
}

static bool pop3_digits(const char *s, uint32_t *out)
{
	unsigned long long v = 0;

	if (s == NULL || *s == 0 || strlen(s) > 10)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool pop3_number(const char *s, uint32_t *out)
{
	return pop3_digits(s, out) && *out > 0;
}

bool pop3_count(const char *s, uint32_t *out)
{
	return pop3_digits(s, out);
}
