/*
 * milter/codec.c - milter protocol 6 packets (see codec.h).
 *
 * Builders cannot fail: they append to a growing buffer.  Parsers take a
 * packet that milter_parse() bounded and check every field against the
 * packet's length, so a hostile or broken filter can cause an error but
 * never a read past its bytes.
 */
#include "milter/codec.h"

#include <string.h>

static void milter_put_u32(struct buf *out, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	    (unsigned char)(v >> 8), (unsigned char)v};

	buf_append(out, b, 4);
}

static uint32_t milter_get_u32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* Length word, command letter; the caller appends len - 1 data bytes. */
static void milter_put_head(struct buf *out, char cmd, size_t datalen)
{
	milter_put_u32(out, (uint32_t)(datalen + 1));
	buf_putc(out, cmd);
}

void milter_put(struct buf *out, char cmd, const void *data, size_t len)
{
	milter_put_head(out, cmd, len);
	if (len > 0)
		buf_append(out, data, len);
}

void milter_put_optneg(struct buf *out, uint32_t version, uint32_t actions, uint32_t protocol)
{
	milter_put_head(out, SMFIC_OPTNEG, 12);
	milter_put_u32(out, version);
	milter_put_u32(out, actions);
	milter_put_u32(out, protocol);
}

void milter_put_macros(
    struct buf *out, char stage_cmd, const char *const *names, const char *const *values, size_t n)
{
	size_t len = 1;

	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1 + strlen(values[i]) + 1;
	milter_put_head(out, SMFIC_MACRO, len);
	buf_putc(out, stage_cmd);
	for (size_t i = 0; i < n; i++) {
		buf_append(out, names[i], strlen(names[i]) + 1);
		buf_append(out, values[i], strlen(values[i]) + 1);
	}
}

void milter_put_connect(struct buf *out, const char *host, char family, int port, const char *addr)
{
	size_t len = strlen(host) + 2;

	if (family != 'U')
		len += 2 + strlen(addr) + 1;
	milter_put_head(out, SMFIC_CONNECT, len);
	buf_append(out, host, strlen(host) + 1);
	buf_putc(out, family);
	if (family == 'U')
		return;
	buf_putc(out, (port >> 8) & 0xff);
	buf_putc(out, port & 0xff);
	buf_append(out, addr, strlen(addr) + 1);
}

void milter_put_string(struct buf *out, char cmd, const char *s)
{
	milter_put(out, cmd, s, strlen(s) + 1);
}

void milter_put_args(struct buf *out, char cmd, const char *const *args, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += strlen(args[i]) + 1;
	milter_put_head(out, cmd, len);
	for (size_t i = 0; i < n; i++)
		buf_append(out, args[i], strlen(args[i]) + 1);
}

void milter_put_header(struct buf *out, const char *name, const char *value)
{
	milter_put_head(out, SMFIC_HEADER, strlen(name) + 1 + strlen(value) + 1);
	buf_append(out, name, strlen(name) + 1);
	buf_append(out, value, strlen(value) + 1);
}

enum milter_parse_result milter_parse(
    const char *in, size_t len, size_t max, struct milter_packet *p, size_t *used)
{
	uint32_t n;

	if (len < 4)
		return MILTER_PARSE_MORE;
	n = milter_get_u32(in);
	if (n == 0 || n > max)
		return MILTER_PARSE_ERROR; /* no command letter, or too big */
	if (len - 4 < n)
		return MILTER_PARSE_MORE;
	p->cmd = in[4];
	p->data = in + 5;
	p->len = n - 1;
	*used = 4 + (size_t)n;
	return MILTER_PARSE_OK;
}

bool milter_parse_optneg(const struct milter_packet *p, uint32_t *version, uint32_t *actions,
    uint32_t *protocol, const char **symlist, size_t *symlen)
{
	if (p->cmd != SMFIC_OPTNEG || p->len < 12)
		return false;
	*version = milter_get_u32(p->data);
	*actions = milter_get_u32(p->data + 4);
	*protocol = milter_get_u32(p->data + 8);
	*symlist = p->data + 12;
	*symlen = p->len - 12;
	return true;
}

bool milter_next_symlist(const char **p, size_t *n, uint32_t *stage, const char **list, bool *bad)
{
	const char *nul;

	*bad = false;
	if (*n == 0)
		return false;
	if (*n < 5 || (nul = memchr(*p + 4, '\0', *n - 4)) == NULL) {
		*bad = true;
		return false;
	}
	*stage = milter_get_u32(*p);
	*list = *p + 4;
	*n -= (size_t)(nul + 1 - *p);
	*p = nul + 1;
	return true;
}

int milter_parse_strings(const struct milter_packet *p, const char **out, int min, int max)
{
	const char *s = p->data, *end = p->data + p->len;
	int k = 0;

	while (s < end) {
		const char *nul = memchr(s, '\0', (size_t)(end - s));

		if (nul == NULL || k == max)
			return -1;
		out[k++] = s;
		s = nul + 1;
	}
	return k < min ? -1 : k;
}

bool milter_parse_indexed_header(
    const struct milter_packet *p, uint32_t *index, const char **name, const char **value)
{
	struct milter_packet rest;
	const char *str[2];

	if (p->len < 4)
		return false;
	*index = milter_get_u32(p->data);
	rest.cmd = p->cmd;
	rest.data = p->data + 4;
	rest.len = p->len - 4;
	if (milter_parse_strings(&rest, str, 2, 2) != 2 || str[0][0] == '\0')
		return false;
	*name = str[0];
	*value = str[1];
	return true;
}

/* One line of a reply: "xyz" then ' ' or '-' (or the end), no controls. */
static bool milter_reply_line(const char *s, size_t n, const char *code, bool last)
{
	if (n < 3 || memcmp(s, code, 3) != 0)
		return false;
	if (n > 3 && s[3] != (last ? ' ' : '-'))
		return false;
	if (n == 3 && !last)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

bool milter_reply_valid(const char *text)
{
	char code[3];
	const char *s = text;

	if ((text[0] != '4' && text[0] != '5') || text[1] < '0' || text[1] > '9' || text[2] < '0' ||
	    text[2] > '9')
		return false;
	memcpy(code, text, 3);
	for (;;) {
		const char *eol = strstr(s, "\r\n");
		size_t n = eol ? (size_t)(eol - s) : strlen(s);

		if (!milter_reply_line(s, n, code, eol == NULL))
			return false;
		if (eol == NULL)
			return true;
		s = eol + 2;
	}
}
