/*
 * reply.c - SMTP replies and EHLO extensions, parsed from bytes.
 *
 * Pure functions over buffers (unit tested, fuzzed): the network code
 * only moves bytes.  A reply (RFC 5321 section 4.2) is one or more lines
 * "NNN-text" ending with "NNN text" (or a bare "NNN"); all lines must
 * carry the same code.  The enhanced status code (RFC 3463) is taken from
 * the first line; a missing one becomes "X.0.0", and one whose class
 * disagrees with the reply code gets the reply's class, as Postfix does,
 * so a "550 4.1.1" is never retried for ever nor a "450 5.1.1" bounced.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "smtp.h"
#include "util.h"

void smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text);
}

void smtp_reply_free(struct smtp_reply *r)
{
	buf_free(&r->text);
}

/* The reply's status code from its text (RFC 3463, first line), else
 * the class of the reply code with ".0.0". */
static void reply_set_dsn(struct smtp_reply *r)
{
	const char *t = r->text.data ? r->text.data : "";
	size_t dl = dsn_code_len(t);

	if (dl && dl < sizeof(r->dsn)) {
		memcpy(r->dsn, t, dl);
		r->dsn[dl] = 0;
		r->dsn[0] = (char)('0' + r->code / 100);
	} else {
		snprintf(r->dsn, sizeof(r->dsn), "%d.0.0", r->code / 100);
	}
}

int smtp_reply_parse(const char *data, size_t len, struct smtp_reply *r, size_t *used)
{
	size_t pos = 0;
	int code = -1;

	buf_reset(&r->text);
	while (pos < len) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll;
		int c;

		if (nl == NULL)
			return len - pos > SMTP_LINE_MAX ? -1 : 0;
		ll = (size_t)(nl - line);
		pos += ll + 1;
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (ll > SMTP_LINE_MAX || pos > SMTP_REPLY_MAX || ll < 3)
			return -1;
		if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]) || line[0] < '2' || line[0] > '5')
			return -1;
		c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (code >= 0 && c != code)
			return -1;
		code = c;
		if (ll > 3 && line[3] != ' ' && line[3] != '-')
			return -1;
		if (r->text.len)
			buf_putc(&r->text, '\n');
		if (ll > 4)
			buf_append(&r->text, line + 4, ll - 4);
		if (ll == 3 || line[3] == ' ') {
			r->code = code;
			reply_set_dsn(r);
			*used = pos;
			return 1;
		}
	}
	return 0;
}

void smtp_reply_line(const struct smtp_reply *r, struct buf *out)
{
	const char *t = r->text.data ? r->text.data : "";

	buf_printf(out, "%d", r->code);
	if (*t)
		buf_putc(out, ' ');
	for (; *t; t++) {
		unsigned char c = (unsigned char)*t;

		/* One line, printable: reasons go into logs and bounces. */
		buf_putc(out, c == '\n' ? ' ' : (c < 32 || c == 127) ? '?' : c);
	}
}

static bool ext_word(const char *line, size_t n, const char *word, const char **rest)
{
	size_t wl = strlen(word);

	if (n < wl || strncasecmp(line, word, wl) != 0)
		return false;
	if (n > wl && line[wl] != ' ' && line[wl] != '=')
		return false;
	*rest = line + wl;
	return true;
}

static void ext_auth(const char *p, size_t n, struct smtp_ext *ext)
{
	char *list = xstrndup(p, n);
	char **v = strv_split(list, " =");

	for (char **m = v; *m; m++) {
		if (str_case_eq(*m, "PLAIN"))
			ext->auth_plain = true;
		else if (str_case_eq(*m, "LOGIN"))
			ext->auth_login = true;
	}
	strv_free(v);
	free(list);
}

static void ext_line(const char *line, size_t n, struct smtp_ext *ext)
{
	const char *rest;

	if (ext_word(line, n, "PIPELINING", &rest))
		ext->pipelining = true;
	else if (ext_word(line, n, "8BITMIME", &rest))
		ext->eightbit = true;
	else if (ext_word(line, n, "SMTPUTF8", &rest))
		ext->smtputf8 = true;
	else if (ext_word(line, n, "DSN", &rest))
		ext->dsn = true;
	else if (ext_word(line, n, "CHUNKING", &rest))
		ext->chunking = true;
	else if (ext_word(line, n, "STARTTLS", &rest))
		ext->starttls = true;
	else if (ext_word(line, n, "REQUIRETLS", &rest))
		ext->requiretls = true;
	else if (ext_word(line, n, "AUTH", &rest))
		ext_auth(rest, n - (size_t)(rest - line), ext);
	else if (ext_word(line, n, "SIZE", &rest)) {
		char num[24];
		size_t k = n - (size_t)(rest - line);
		long v;

		while (k && (*rest == ' ' || *rest == '=')) {
			rest++;
			k--;
		}
		if (k && k < sizeof(num)) {
			memcpy(num, rest, k);
			num[k] = 0;
			if (parse_long(num, 0, 0x7fffffffffffffffL, &v))
				ext->size = v;
		}
	}
}

void smtp_ext_parse(const struct smtp_reply *r, struct smtp_ext *ext)
{
	const char *t = r->text.data ? r->text.data : "";
	const char *nl = strchr(t, '\n');

	memset(ext, 0, sizeof(*ext));
	ext->esmtp = true;
	while (nl) {
		const char *line = nl + 1;

		nl = strchr(line, '\n');
		ext_line(line, nl ? (size_t)(nl - line) : strlen(line), ext);
	}
}
