/*
 * sieve/vars.c - variables (RFC 5229) and encoded characters (RFC 5228
 * 2.4.2.4).
 *
 * Names are case-insensitive identifiers; "${name}" in a string is
 * replaced by the value at run time, "${N}" (a digit string) by match
 * variable N, and anything that is not a valid reference is left as
 * written (RFC 5229 3: "${foo" and "${a.b}" of an unknown namespace).
 * A value is at most SV_MAX_VAR_SIZE bytes and a script has at most
 * SV_MAX_VARS variables (Pigeonhole's defaults), so a script cannot grow
 * memory without bound.  Encoded characters are decoded once, at compile
 * time, for scripts that require "encoded-character".
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "sieve/sieve_int.h"
#include "util.h"

bool sv_var_name_valid(const char *name, bool allow_digits)
{
	if (allow_digits && isdigit((unsigned char)*name)) {
		for (const char *p = name; *p; p++)
			if (!isdigit((unsigned char)*p))
				return false;
		return true;
	}
	if (!(isalpha((unsigned char)*name) || *name == '_'))
		return false;
	for (const char *p = name; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return false;
	return true;
}

const char *sv_vars_get(const struct sv_vars *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcasecmp(v->names[i], name) == 0)
			return v->values[i];
	return NULL;
}

void sv_vars_set(struct sv_vars *v, const char *name, const char *value, size_t len)
{
	if (len > SV_MAX_VAR_SIZE)
		len = SV_MAX_VAR_SIZE;
	for (size_t i = 0; i < v->n; i++) {
		if (strcasecmp(v->names[i], name) == 0) {
			free(v->values[i]);
			v->values[i] = xmemdup(value, len);
			return;
		}
	}
	if (v->n >= SV_MAX_VARS)
		return;
	v->names = xreallocarray(v->names, v->n + 1, sizeof(char *));
	v->values = xreallocarray(v->values, v->n + 1, sizeof(char *));
	v->names[v->n] = xstrdup(name);
	v->values[v->n++] = xmemdup(value, len);
}

void sv_vars_free(struct sv_vars *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->names[i]);
		free(v->values[i]);
	}
	free(v->names);
	free(v->values);
	memset(v, 0, sizeof(*v));
}

void sv_vars_expand(
    const struct sv_vars *v, const struct sv_captures *caps, const char *s, struct buf *out)
{
	while (*s) {
		const char *close;

		if (s[0] != '$' || s[1] != '{' || (close = strchr(s + 2, '}')) == NULL) {
			buf_putc(out, *s++);
			continue;
		}
		char *name = xstrndup(s + 2, (size_t)(close - s - 2));

		if (sv_var_name_valid(name, true)) {
			const char *val = NULL;

			if (isdigit((unsigned char)name[0])) {
				long k = strtol(name, NULL, 10);

				if (k < SV_MATCH_VARS && caps && caps->set)
					val = caps->v[k];
			} else {
				val = sv_vars_get(v, name);
			}
			if (val)
				buf_puts(out, val);
			s = close + 1;
		} else {
			buf_putc(out, *s++);
		}
		free(name);
	}
}

/* The body of "${hex:...}" or "${unicode:...}": white-space separated
 * hex numbers; false (leave it as written) when malformed. */
static bool sv_encoded_one(const char *p, const char *end, bool unicode, struct buf *out)
{
	size_t start = out->len;

	while (p < end) {
		unsigned long v = 0;
		int nd = 0;

		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p >= end)
			break;
		while (p < end && isxdigit((unsigned char)*p)) {
			if (++nd > 8)
				goto bad;
			v = v * 16 + (unsigned long)hex_value((unsigned char)*p);
			p++;
		}
		if (nd == 0 || (p < end && !isspace((unsigned char)*p)))
			goto bad;
		if (unicode) {
			if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
				goto bad;
			buf_put_utf8(out, v);
		} else {
			if (v > 0xff)
				goto bad;
			buf_putc(out, (int)v);
		}
	}
	return true;
bad:
	buf_truncate(out, start);
	return false;
}

void sv_encoded_decode(char **sp)
{
	const char *s = *sp;
	struct buf out = BUF_INIT;

	if (strstr(s, "${") == NULL)
		return;
	while (*s) {
		const char *close;
		bool unicode = false, hex = false;

		if (s[0] == '$' && s[1] == '{') {
			hex = strncasecmp(s + 2, "hex:", 4) == 0;
			unicode = strncasecmp(s + 2, "unicode:", 8) == 0;
		}
		if ((hex || unicode) && (close = strchr(s, '}')) != NULL &&
		    sv_encoded_one(s + (hex ? 6 : 10), close, unicode, &out)) {
			s = close + 1;
			continue;
		}
		buf_putc(&out, *s++);
	}
	free(*sp);
	*sp = xstrdup(buf_cstr(&out));
	buf_free(&out);
}
