/*
 * subs.c - the subscriptions file (see subs.h).
 */
#include "mstore/subs.h"

#include <string.h>

#include "mstore/mutf7.h"
#include "util.h"

static const char subs_v2[] = "V\t2\n\n";

/* Undoes the tab-escaping of one level into out; \001 before anything
 * else is kept as it is. */
static void subs_unescape(const char *p, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\001' || i + 1 == len) {
			buf_putc(out, p[i]);
			continue;
		}
		switch (p[++i]) {
		case '1': buf_putc(out, '\001'); break;
		case 't': buf_putc(out, '\t'); break;
		case 'r': buf_putc(out, '\r'); break;
		case 'n': buf_putc(out, '\n'); break;
		default: buf_putc(out, '\001'); buf_putc(out, p[i]);
		}
	}
}

static void subs_escape(const char *p, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		switch (p[i]) {
		case '\001': buf_puts(out, "\0011"); break;
		case '\t': buf_puts(out, "\001t"); break;
		case '\r': buf_puts(out, "\001r"); break;
		case '\n': buf_puts(out, "\001n"); break;
		default: buf_putc(out, p[i]);
		}
	}
}

static bool subs_have(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

char **subs_parse(const char *data, size_t len)
{
	bool v2 = len >= sizeof(subs_v2) - 1 && memcmp(data, subs_v2, sizeof(subs_v2) - 1) == 0;
	size_t off = v2 ? sizeof(subs_v2) - 1 : 0, n = 0, cap = 8;
	char **v = xcalloc(cap + 1, sizeof(*v));
	struct buf raw = BUF_INIT, name = BUF_INIT;

	while (off < len) {
		const char *line = data + off, *nl = memchr(line, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - line) : len - off;

		off += ll + (nl != NULL);
		if (ll == 0)
			continue;
		buf_reset(&raw);
		if (v2) {
			for (size_t i = 0; i <= ll;) {
				const char *tab = memchr(line + i, '\t', ll - i);
				size_t part = tab ? (size_t)(tab - (line + i)) : ll - i;

				if (raw.len)
					buf_putc(&raw, '.');
				subs_unescape(line + i, part, &raw);
				i += part + 1;
			}
		} else {
			buf_append(&raw, line, ll);
		}
		buf_reset(&name);
		if (mutf7_decode(raw.data, raw.len, &name) < 0) {
			if (!mutf7_utf8_valid(raw.data, raw.len))
				continue;
			buf_append(&name, raw.data, raw.len);
		}
		if (subs_have(v, n, buf_cstr(&name)))
			continue;
		if (n == cap) {
			cap *= 2;
			v = xreallocarray(v, cap + 1, sizeof(*v));
		}
		v[n++] = xstrdup(buf_cstr(&name));
		v[n] = NULL;
	}
	buf_free(&raw);
	buf_free(&name);
	return v;
}

void subs_format(char *const *names, struct buf *out)
{
	struct buf enc = BUF_INIT;

	buf_puts(out, subs_v2);
	for (; names && *names; names++) {
		const char *p;
		size_t i = 0;

		buf_reset(&enc);
		if (mutf7_encode(*names, strlen(*names), &enc) < 0)
			buf_puts(&enc, *names);
		p = buf_cstr(&enc);
		while (i <= enc.len) {
			const char *dot = memchr(p + i, '.', enc.len - i);
			size_t part = dot ? (size_t)(dot - (p + i)) : enc.len - i;

			if (i)
				buf_putc(out, '\t');
			subs_escape(p + i, part, out);
			i += part + 1;
		}
		buf_putc(out, '\n');
	}
	buf_free(&enc);
}
