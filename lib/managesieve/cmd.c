/*
 * cmd.c - the ManageSieve command parser (managesieve/cmd.h).
 */
#include "managesieve/cmd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "sieve/sieve.h"
#include "util.h"

/* A command's grammar: its argument types ('s' string, 'n' number), the
 * first min of them required. */
static const struct msv_spec {
	const char *name;
	enum msv_cmd_id id;
	const char *types;
	size_t min;
} msv_specs[] = {
    {"AUTHENTICATE", MSV_CMD_AUTHENTICATE, "ss", 1},
    {"STARTTLS", MSV_CMD_STARTTLS, "", 0},
    {"LOGOUT", MSV_CMD_LOGOUT, "", 0},
    {"CAPABILITY", MSV_CMD_CAPABILITY, "", 0},
    {"HAVESPACE", MSV_CMD_HAVESPACE, "sn", 2},
    {"PUTSCRIPT", MSV_CMD_PUTSCRIPT, "ss", 2},
    {"LISTSCRIPTS", MSV_CMD_LISTSCRIPTS, "", 0},
    {"SETACTIVE", MSV_CMD_SETACTIVE, "s", 1},
    {"GETSCRIPT", MSV_CMD_GETSCRIPT, "s", 1},
    {"DELETESCRIPT", MSV_CMD_DELETESCRIPT, "s", 1},
    {"RENAMESCRIPT", MSV_CMD_RENAMESCRIPT, "ss", 2},
    {"CHECKSCRIPT", MSV_CMD_CHECKSCRIPT, "s", 1},
    {"NOOP", MSV_CMD_NOOP, "s", 0},
    {"UNAUTHENTICATE", MSV_CMD_UNAUTHENTICATE, "", 0},
};

/* RFC 5804's ATOM-CHAR: no space, control, "(){%*\ or quote. */
static bool msv_atom_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f && !strchr("(){%*\"\\", c);
}

void msv_cmd_free(struct msv_cmd *cmd)
{
	for (size_t i = 0; i < cmd->argc && i < MSV_MAX_ARGS; i++) {
		free(cmd->argv[i].s);
		cmd->argv[i].s = NULL;
	}
	cmd->argc = 0;
}

struct msv_scan {
	const char *d;
	size_t len, pos;
	size_t literal_bytes; /* of the line so far, not counted in its length */
};

enum scan_r { SCAN_OK, SCAN_MORE, SCAN_ERR, SCAN_TOO_BIG };

/* A quoted string at s->pos (the opening quote). */
static enum scan_r msv_quoted(struct msv_scan *s, struct buf *out, const char **err)
{
	size_t p = s->pos + 1;

	for (; p < s->len; p++) {
		unsigned char c = (unsigned char)s->d[p];

		if (c == '"') {
			s->pos = p + 1;
			return SCAN_OK;
		}
		if (c == '\\') {
			if (p + 1 >= s->len)
				return SCAN_MORE;
			c = (unsigned char)s->d[++p];
			if (c != '"' && c != '\\') {
				*err = "Invalid escape in quoted string";
				s->pos = p;
				return SCAN_ERR;
			}
		} else if (c == '\r' || c == '\n' || c == 0) {
			*err = "Invalid character in quoted string";
			s->pos = p;
			return SCAN_ERR;
		}
		if (out)
			buf_putc(out, (char)c);
	}
	return SCAN_MORE;
}

/* A literal at s->pos (the "{"). */
static enum scan_r msv_literal(
    struct msv_scan *s, size_t max_literal, struct buf *out, uint64_t *size, const char **err)
{
	size_t p = s->pos + 1;
	uint64_t n = 0;
	size_t digits = 0;

	for (; p < s->len && s->d[p] >= '0' && s->d[p] <= '9'; p++, digits++) {
		if (digits >= 10) {
			*err = "Literal size too large";
			s->pos = p;
			return SCAN_ERR;
		}
		n = n * 10 + (uint64_t)(s->d[p] - '0');
	}
	if (p < s->len && s->d[p] == '+')
		p++;
	if (p >= s->len)
		return SCAN_MORE;
	if (digits == 0 || s->d[p] != '}') {
		*err = "Invalid literal";
		s->pos = p;
		return SCAN_ERR;
	}
	p++;
	if (p < s->len && s->d[p] == '\r')
		p++;
	if (p >= s->len)
		return SCAN_MORE;
	if (s->d[p] != '\n') {
		*err = "Literal not followed by CRLF";
		s->pos = p;
		return SCAN_ERR;
	}
	p++;
	*size = n;
	if (n > max_literal) {
		s->pos = p;
		return SCAN_TOO_BIG;
	}
	if (s->len - p < n)
		return SCAN_MORE;
	if (out)
		buf_append(out, s->d + p, (size_t)n);
	s->pos = p + (size_t)n;
	s->literal_bytes += (size_t)n;
	return SCAN_OK;
}

/* A number at s->pos: digits up to a space or line end. */
static enum scan_r msv_number(struct msv_scan *s, uint32_t *v, const char **err)
{
	uint64_t n = 0;
	size_t p = s->pos;

	for (; p < s->len && s->d[p] >= '0' && s->d[p] <= '9'; p++) {
		n = n * 10 + (uint64_t)(s->d[p] - '0');
		if (n > UINT32_MAX) {
			*err = "Number too large";
			s->pos = p;
			return SCAN_ERR;
		}
	}
	if (p >= s->len)
		return SCAN_MORE;
	if (msv_atom_char((unsigned char)s->d[p])) {
		*err = "Invalid number";
		s->pos = p;
		return SCAN_ERR;
	}
	*v = (uint32_t)n;
	s->pos = p;
	return SCAN_OK;
}

static enum msv_parse msv_incomplete(const struct msv_scan *s)
{
	return s->len - s->literal_bytes >= MSV_MAX_LINE ? MSV_PARSE_TOO_LONG : MSV_PARSE_MORE;
}

/* After an error at s->pos: the command is BAD once its line has ended. */
static enum msv_parse msv_bad(
    struct msv_scan *s, struct msv_cmd *cmd, const char *why, size_t *used)
{
	const char *lf = memchr(s->d + s->pos, '\n', s->len - s->pos);

	msv_cmd_free(cmd);
	if (lf == NULL)
		return msv_incomplete(s);
	cmd->id = MSV_CMD_BAD;
	cmd->error = why;
	*used = (size_t)(lf - s->d) + 1;
	return MSV_PARSE_OK;
}

static const struct msv_spec *msv_spec_find(const char *kw, size_t n)
{
	for (size_t i = 0; i < sizeof(msv_specs) / sizeof(msv_specs[0]); i++)
		if (strlen(msv_specs[i].name) == n && strncasecmp(msv_specs[i].name, kw, n) == 0)
			return &msv_specs[i];
	return NULL;
}

/* Checks the arguments against the command's grammar; NULL when fine. */
static const char *msv_check(const struct msv_spec *spec, const struct msv_cmd *cmd, size_t n)
{
	size_t max = strlen(spec->types);

	if (n < spec->min)
		return "Missing arguments";
	if (n > max)
		return "Too many arguments";
	for (size_t i = 0; i < n; i++) {
		const struct msv_arg *a = &cmd->argv[i];

		if (spec->types[i] == 'n' && !a->number)
			return "Expected a number";
		if (spec->types[i] == 's' && (a->number || a->atom))
			return "Expected a string";
	}
	return NULL;
}

static enum msv_parse msv_parse(const char *data, size_t len, size_t max_literal, bool keyword,
    struct msv_cmd *cmd, size_t *used)
{
	struct msv_scan s = {data, len, 0, 0};
	const struct msv_spec *spec = NULL;
	size_t nargs = 0;
	const char *err = NULL;

	memset(cmd, 0, sizeof(*cmd));
	cmd->name = "";
	*used = 0;
	if (keyword) {
		while (s.pos < len && msv_atom_char((unsigned char)data[s.pos]))
			s.pos++;
		if (s.pos >= len)
			return msv_incomplete(&s);
		if (s.pos == 0)
			return msv_bad(&s, cmd, "Empty command", used);
		spec = msv_spec_find(data, s.pos);
		cmd->id = spec ? spec->id : MSV_CMD_UNKNOWN;
		cmd->name = spec ? spec->name : "";
	}
	for (;;) {
		struct buf str = BUF_INIT;
		struct msv_arg a = {0};
		enum scan_r r;
		uint64_t size = 0;

		if (s.pos >= len)
			return msv_cmd_free(cmd), msv_incomplete(&s);
		if (data[s.pos] == '\r' || data[s.pos] == '\n') {
			if (data[s.pos] == '\r') {
				if (s.pos + 1 >= len)
					return msv_cmd_free(cmd), msv_incomplete(&s);
				if (data[s.pos + 1] != '\n')
					return msv_bad(&s, cmd, "Bare CR in command", used);
				s.pos++;
			}
			s.pos++;
			break;
		}
		if (keyword || nargs > 0) {
			if (data[s.pos] != ' ')
				return msv_bad(&s, cmd, "Expected a space", used);
			s.pos++;
			if (s.pos >= len)
				return msv_cmd_free(cmd), msv_incomplete(&s);
		}
		/* Only the arguments that may be used are kept. */
		bool keep = nargs < MSV_MAX_ARGS && (!keyword || cmd->id != MSV_CMD_UNKNOWN);
		char c = data[s.pos];

		if (c == '"')
			r = msv_quoted(&s, keep ? &str : NULL, &err);
		else if (c == '{') {
			r = msv_literal(&s, max_literal, keep ? &str : NULL, &size, &err);
			if (r == SCAN_TOO_BIG) {
				msv_cmd_free(cmd);
				cmd->skip = size;
				*used = s.pos;
				return MSV_PARSE_TOO_BIG;
			}
		} else if (c >= '0' && c <= '9') {
			a.number = true;
			r = msv_number(&s, &a.value, &err);
		} else if (msv_atom_char((unsigned char)c)) {
			size_t start = s.pos;

			while (s.pos < len && msv_atom_char((unsigned char)data[s.pos]))
				s.pos++;
			r = s.pos < len ? SCAN_OK : SCAN_MORE;
			a.atom = true;
			if (r == SCAN_OK && keep)
				buf_append(&str, data + start, s.pos - start);
		} else {
			r = SCAN_ERR;
			err = "Invalid argument";
		}
		if (r != SCAN_OK) {
			buf_free(&str);
			if (r == SCAN_MORE)
				return msv_cmd_free(cmd), msv_incomplete(&s);
			return msv_bad(&s, cmd, err, used);
		}
		if (keep) {
			if (!a.number) {
				a.len = str.len;
				buf_cstr(&str);
				a.s = str.data ? str.data : xstrdup("");
				str = (struct buf)BUF_INIT;
			}
			cmd->argv[cmd->argc++] = a;
		}
		buf_free(&str);
		nargs++;
	}
	*used = s.pos;
	if (!keyword) {
		const char *why = nargs != 1		? "Expected one string"
				  : cmd->argv[0].number ? "Expected a string"
							: NULL;

		if (why) {
			msv_cmd_free(cmd);
			cmd->id = MSV_CMD_BAD;
			cmd->error = why;
		}
		return MSV_PARSE_OK;
	}
	if (spec) {
		const char *why = msv_check(spec, cmd, nargs);

		if (why) {
			msv_cmd_free(cmd);
			cmd->id = MSV_CMD_BAD;
			cmd->error = why;
		}
	}
	return MSV_PARSE_OK;
}

enum msv_parse msv_cmd_parse(
    const char *data, size_t len, size_t max_literal, struct msv_cmd *cmd, size_t *used)
{
	return msv_parse(data, len, max_literal, true, cmd, used);
}

enum msv_parse msv_response_parse(
    const char *data, size_t len, size_t max_literal, struct msv_cmd *cmd, size_t *used)
{
	return msv_parse(data, len, max_literal, false, cmd, used);
}

size_t msv_skip_line(const char *data, size_t len)
{
	const char *lf = memchr(data, '\n', len);

	return lf ? (size_t)(lf - data) + 1 : 0;
}

void msv_put_string(struct buf *out, const char *s, size_t len)
{
	bool plain = len <= 1024;

	for (size_t i = 0; plain && i < len; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == 0)
			plain = false;
	if (!plain) {
		buf_printf(out, "{%zu}\r\n", len);
		buf_append(out, s, len);
		return;
	}
	buf_put_quoted(out, s, len);
}

void msv_capability(struct buf *out, const char *sasl, bool starttls)
{
	const char *impl = config_str("managesieve_implementation_string");

	buf_puts(out, "\"IMPLEMENTATION\" ");
	msv_put_string(out, impl, strlen(impl));
	/* NOTIFY: the enotify methods (RFC 5804 1.7) */
	buf_printf(out, "\r\n\"SIEVE\" \"%s\"\r\n\"NOTIFY\" \"mailto\"\r\n", sieve_extensions());
	buf_puts(out, "\"SASL\" ");
	msv_put_string(out, sasl, strlen(sasl));
	buf_puts(out, "\r\n");
	if (starttls)
		buf_puts(out, "\"STARTTLS\"\r\n");
	buf_printf(out, "\"MAXREDIRECTS\" \"%d\"\r\n\"UNAUTHENTICATE\"\r\n\"VERSION\" \"1.0\"\r\n",
	    SIEVE_MAX_REDIRECTS);
}
