/*
 * spf_macro.c - SPF macro strings (RFC 7208 7): checking and expanding.
 *
 * A macro-string is literal bytes (0x21-0x7e but '%') and expands:
 * "%{" letter [digits] ["r"] [delimiters] "}", "%%", "%_" (space) and
 * "%-" (URL-encoded space).  The letters c, r and t, and spaces, belong
 * to explanation strings only.  Digits keep that many right-hand parts
 * (after the reversal "r" asks for); zero is not allowed.  An upper-case
 * letter URL-encodes the value (7.3).
 *
 * Pure functions over strings: the %{p} name is found by the evaluator
 * (it needs DNS) and handed in through the environment.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "msgauth/spf_int.h"
#include "util.h"

#define SPF_DELIMS ".-+,/_="

struct spf_macro {
	char letter; /* lower case */
	bool upper;  /* URL-encode */
	long digits; /* 0: all parts */
	bool reverse;
	char delims[8];
};

static bool spf_letter_ok(char c, bool exp)
{
	if (strchr("slodiphv", c) != NULL)
		return true;
	return exp && strchr("crt", c) != NULL;
}

/*
 * Parses "%{...}" at s (s[0] == '%', s[1] == '{'); the length taken, or 0
 * when it is not a valid macro-expand.
 */
static size_t spf_macro_parse(const char *s, size_t len, bool exp, struct spf_macro *m)
{
	size_t i = 2, nd = 0;
	char c;

	if (i >= len)
		return 0;
	c = s[i++];
	m->upper = c >= 'A' && c <= 'Z';
	m->letter = m->upper ? (char)(c - 'A' + 'a') : c;
	if (!spf_letter_ok(m->letter, exp))
		return 0;
	m->digits = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
		if (m->digits < 100000)
			m->digits = m->digits * 10 + (s[i] - '0');
	if (nd > 0 && m->digits == 0)
		return 0;
	m->reverse = i < len && (s[i] == 'r' || s[i] == 'R');
	if (m->reverse)
		i++;
	memset(m->delims, 0, sizeof(m->delims));
	for (size_t n = 0; i < len && s[i] != '}'; i++) {
		if (strchr(SPF_DELIMS, s[i]) == NULL || s[i] == 0)
			return 0;
		if (strchr(m->delims, s[i]) == NULL && n < sizeof(m->delims) - 1)
			m->delims[n++] = s[i];
	}
	if (i >= len)
		return 0;
	if (m->delims[0] == 0)
		m->delims[0] = '.';
	return i + 1;
}

/* Length of the token at s, 0 when invalid; *is_macro says it expands. */
static size_t spf_macro_token(
    const char *s, size_t len, bool exp, bool *is_macro, struct spf_macro *m)
{
	*is_macro = false;
	if (s[0] == '%') {
		*is_macro = true;
		if (len >= 2 && (s[1] == '%' || s[1] == '_' || s[1] == '-'))
			return 2;
		if (len >= 2 && s[1] == '{')
			return spf_macro_parse(s, len, exp, m);
		return 0;
	}
	if ((unsigned char)s[0] >= 0x21 && (unsigned char)s[0] <= 0x7e)
		return 1;
	return exp && s[0] == ' ' ? 1 : 0;
}

bool spf_macro_valid(const char *s, size_t len, bool exp)
{
	struct spf_macro m;
	bool is_macro;

	for (size_t i = 0, n; i < len; i += n)
		if ((n = spf_macro_token(s + i, len - i, exp, &is_macro, &m)) == 0)
			return false;
	return true;
}

bool spf_macro_ends_with_expand(const char *s, size_t len)
{
	struct spf_macro m;
	bool is_macro = false;

	for (size_t i = 0, n; i < len; i += n)
		if ((n = spf_macro_token(s + i, len - i, true, &is_macro, &m)) == 0)
			return false;
	return is_macro;
}

bool spf_macro_uses_ptr(const char *s)
{
	for (const char *p = s; (p = strstr(p, "%{")) != NULL; p += 2)
		if (p[2] == 'p' || p[2] == 'P')
			return true;
	return false;
}

/* The IP for %{i}: dotted quad, or dotted nibbles for IPv6 (upper case,
 * as the RFC 7208 test suite has them; DNS names ignore the case). */
static void spf_ip_dotted(const struct spf_macro_env *env, struct buf *out)
{
	if (env->family == AF_INET) {
		buf_printf(out, "%u.%u.%u.%u", env->ip[0], env->ip[1], env->ip[2], env->ip[3]);
		return;
	}
	for (int i = 0; i < 16; i++) {
		buf_printf(out, "%s%c.%c", i ? "." : "", hex_digit(env->ip[i] >> 4, true),
		    hex_digit(env->ip[i], true));
	}
}

static void spf_macro_value(char letter, const struct spf_macro_env *env, struct buf *v)
{
	char text[INET6_ADDRSTRLEN];

	switch (letter) {
	case 's': buf_puts(v, env->sender); break;
	case 'l': buf_puts(v, env->local); break;
	case 'o': buf_puts(v, env->sender_dom); break;
	case 'd': buf_puts(v, env->domain); break;
	case 'i': spf_ip_dotted(env, v); break;
	case 'p': buf_puts(v, env->ptr_name ? env->ptr_name : "unknown"); break;
	case 'v': buf_puts(v, env->family == AF_INET ? "in-addr" : "ip6"); break;
	case 'h': buf_puts(v, env->helo); break;
	case 'c':
		inet_ntop(env->family, env->ip, text, sizeof(text));
		buf_puts(v, text);
		break;
	case 'r': buf_puts(v, env->receiver ? env->receiver : "unknown"); break;
	case 't': buf_printf(v, "%lld", env->now); break;
	}
}

/* Splits, reverses, keeps the right-hand parts, joins with dots. */
static void spf_macro_transform(const struct spf_macro *m, const char *value, struct buf *out)
{
	char **parts = NULL;
	size_t n = 0, first;
	const char *p = value;

	for (;;) {
		size_t k = strcspn(p, m->delims);
		parts = xreallocarray(parts, n + 1, sizeof(*parts));
		parts[n++] = xstrndup(p, k);
		if (p[k] == 0)
			break;
		p += k + 1;
	}
	if (m->reverse)
		for (size_t i = 0; i < n / 2; i++) {
			char *t = parts[i];
			parts[i] = parts[n - 1 - i];
			parts[n - 1 - i] = t;
		}
	first = m->digits > 0 && (size_t)m->digits < n ? n - (size_t)m->digits : 0;
	for (size_t i = first; i < n; i++) {
		if (i > first)
			buf_putc(out, '.');
		buf_puts(out, parts[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(parts[i]);
	free(parts);
}

/* RFC 3986 unreserved characters stay, the rest becomes %XX. */
static void spf_url_escape(const char *s, struct buf *out)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c) != NULL)
			buf_putc(out, c);
		else
			buf_put_hexbyte(out, '%', c);
	}
}

bool spf_macro_expand(const char *s, const struct spf_macro_env *env, bool exp, struct buf *out)
{
	size_t len = strlen(s);
	struct buf value = BUF_INIT, done = BUF_INIT;
	struct spf_macro m;
	bool is_macro, ok = true;

	for (size_t i = 0, n; i < len && ok; i += n) {
		if ((n = spf_macro_token(s + i, len - i, exp, &is_macro, &m)) == 0) {
			ok = false;
		} else if (!is_macro) {
			buf_append(out, s + i, n);
		} else if (s[i + 1] != '{') {
			buf_puts(out, s[i + 1] == '%' ? "%" : s[i + 1] == '_' ? " " : "%20");
		} else {
			buf_reset(&value);
			buf_reset(&done);
			spf_macro_value(m.letter, env, &value);
			spf_macro_transform(&m, buf_cstr(&value), &done);
			if (m.upper)
				spf_url_escape(buf_cstr(&done), out);
			else
				buf_append(out, done.data, done.len);
		}
	}
	buf_free(&value);
	buf_free(&done);
	return ok;
}
