/*
 * spf_record.c - parsing SPF records (RFC 7208 4.5, 4.6, 5, 6, 7.1).
 *
 * A pure function over the bytes of one TXT record: the whole record is
 * checked before any of it is evaluated, because 4.6 makes any syntax
 * error anywhere a permerror.  What is checked: printable ASCII only,
 * terms separated by spaces, known mechanisms with their arguments,
 * CIDR lengths in range without leading zeros, domain-specs that are
 * valid macro-strings ending in a macro or a top label, at most one
 * redirect= and one exp=.  Unknown modifiers are kept (and ignored) when
 * their name and value are well formed.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "msgauth/spf_int.h"
#include "util.h"

static const struct {
	const char *name;
	enum spf_term_kind kind;
} spf_mechs[] = {
    {"all", SPF_T_ALL},
    {"include", SPF_T_INCLUDE},
    {"a", SPF_T_A},
    {"mx", SPF_T_MX},
    {"ptr", SPF_T_PTR},
    {"ip4", SPF_T_IP4},
    {"ip6", SPF_T_IP6},
    {"exists", SPF_T_EXISTS},
};

static bool spf_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool spf_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool spf_record_is_spf(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool spf_toplabel_ok(const char *s, size_t len)
{
	bool alpha = false, hyphen = false;

	if (len == 0 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '-')
			hyphen = true;
		else if (spf_is_alpha(s[i]))
			alpha = true;
		else if (!spf_is_digit(s[i]))
			return false;
	}
	return alpha || hyphen;
}

/* domain-spec = macro-string domain-end;
 * domain-end = ( "." toplabel [ "." ] ) / macro-expand */
static bool spf_domain_spec_ok(const char *s, size_t len)
{
	size_t end = len, dot;

	if (len == 0 || !spf_macro_valid(s, len, false))
		return false;
	if (spf_macro_ends_with_expand(s, len))
		return true;
	if (s[end - 1] == '.')
		end--;
	for (dot = end; dot > 0 && s[dot - 1] != '.'; dot--)
		;
	if (dot == 0)
		return false;
	return spf_toplabel_ok(s + dot, end - dot);
}

/* A CIDR length: "0" or digits without a leading zero, at most max. */
static bool spf_cidr_ok(const char *s, size_t len, int max, int *out)
{
	long v = 0;

	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!spf_is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return false;
	*out = (int)v;
	return true;
}

/* Takes a trailing "/N" off [s, *len); -1 on a bad length, 0 when none. */
static int spf_take_cidr(const char *s, size_t *len, int max, int *out, bool dual)
{
	size_t i = *len;

	while (i > 0 && spf_is_digit(s[i - 1]))
		i--;
	if (i == 0 || s[i - 1] != '/' || i == *len)
		return 0;
	if (dual ? (i < 2 || s[i - 2] != '/') : false)
		return 0;
	if (!spf_cidr_ok(s + i, *len - i, max, out))
		return -1;
	*len = i - (dual ? 2 : 1);
	return 1;
}

/* The ":domain-spec" of a mechanism, if there (required: must be). */
static bool spf_take_spec(const char *s, size_t len, bool required, struct spf_term *t)
{
	if (len == 0)
		return !required;
	if (s[0] != ':' || !spf_domain_spec_ok(s + 1, len - 1))
		return false;
	t->spec = xstrndup(s + 1, len - 1);
	return true;
}

static bool spf_parse_ip(const char *s, size_t len, int family, struct spf_term *t)
{
	char text[64];

	if (len < 2 || s[0] != ':' || len - 1 >= sizeof(text))
		return false;
	memcpy(text, s + 1, len - 1);
	text[len - 1] = 0;
	return inet_pton(family, text, t->addr) == 1;
}

/* The arguments after a mechanism's name. */
static bool spf_parse_mech_args(const char *s, size_t len, struct spf_term *t)
{
	switch (t->kind) {
	case SPF_T_ALL: return len == 0;
	case SPF_T_INCLUDE:
	case SPF_T_EXISTS: return spf_take_spec(s, len, true, t);
	case SPF_T_PTR: return spf_take_spec(s, len, false, t);
	case SPF_T_A:
	case SPF_T_MX:
		if (spf_take_cidr(s, &len, 128, &t->cidr6, true) < 0 ||
		    spf_take_cidr(s, &len, 32, &t->cidr4, false) < 0)
			return false;
		return spf_take_spec(s, len, false, t);
	case SPF_T_IP4:
		if (spf_take_cidr(s, &len, 32, &t->cidr4, false) < 0)
			return false;
		return spf_parse_ip(s, len, AF_INET, t);
	case SPF_T_IP6:
		if (spf_take_cidr(s, &len, 128, &t->cidr6, false) < 0)
			return false;
		return spf_parse_ip(s, len, AF_INET6, t);
	default: return false;
	}
}

static bool spf_parse_directive(const char *s, size_t len, struct spf_term *t)
{
	size_t n;

	t->qualifier = '+';
	if (len > 0 && strchr("+-~?", s[0]) != NULL) {
		t->qualifier = s[0];
		s++;
		len--;
	}
	for (n = 0; n < len && s[n] != ':' && s[n] != '/'; n++)
		;
	for (size_t i = 0; i < sizeof(spf_mechs) / sizeof(spf_mechs[0]); i++) {
		if (strlen(spf_mechs[i].name) == n && strncasecmp(s, spf_mechs[i].name, n) == 0) {
			t->kind = spf_mechs[i].kind;
			return spf_parse_mech_args(s + n, len - n, t);
		}
	}
	return false;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ); the length of the
 * name before "=", or 0 when the term is no modifier. */
static size_t spf_modifier_name(const char *s, size_t len)
{
	size_t n = 0;

	if (len == 0 || !spf_is_alpha(s[0]))
		return 0;
	while (n < len && (spf_is_alpha(s[n]) || spf_is_digit(s[n]) || strchr("-_.", s[n]) != NULL))
		n++;
	return n < len && s[n] == '=' ? n : 0;
}

static bool spf_parse_modifier(const char *s, size_t len, size_t n, struct spf_term *t)
{
	const char *v = s + n + 1;
	size_t vlen = len - n - 1;

	if (n == 8 && strncasecmp(s, "redirect", 8) == 0)
		t->kind = SPF_T_REDIRECT;
	else if (n == 3 && strncasecmp(s, "exp", 3) == 0)
		t->kind = SPF_T_EXP;
	else
		t->kind = SPF_T_UNKNOWN_MOD;
	if (t->kind == SPF_T_UNKNOWN_MOD)
		return spf_macro_valid(v, vlen, true);
	if (!spf_domain_spec_ok(v, vlen))
		return false;
	t->spec = xstrndup(v, vlen);
	return true;
}

static bool spf_parse_term(const char *s, size_t len, struct spf_record *r, struct buf *err)
{
	struct spf_term t = {.cidr4 = 32, .cidr6 = 128};
	size_t n = spf_modifier_name(s, len);
	bool ok = n > 0 ? spf_parse_modifier(s, len, n, &t) : spf_parse_directive(s, len, &t);
	int idx = (int)r->n;

	if (ok && t.kind == SPF_T_REDIRECT)
		ok = r->redirect < 0 ? (r->redirect = idx, true) : false;
	else if (ok && t.kind == SPF_T_EXP)
		ok = r->exp < 0 ? (r->exp = idx, true) : false;
	if (!ok) {
		buf_printf(err, "bad term \"%.*s\"", (int)(len > 100 ? 100 : len), s);
		free(t.spec);
		return false;
	}
	t.text = xstrndup(s, len);
	r->terms = xreallocarray(r->terms, r->n + 1, sizeof(*r->terms));
	r->terms[r->n++] = t;
	return true;
}

int spf_record_parse(const char *txt, size_t len, struct spf_record *out, struct buf *err)
{
	size_t i = 6, start;

	memset(out, 0, sizeof(*out));
	out->redirect = out->exp = -1;
	if (!spf_record_is_spf(txt, len)) {
		buf_puts(err, "not an SPF record");
		return -1;
	}
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)txt[k];
		if (c < 0x20 || c > 0x7e) {
			buf_puts(err, "the record has a control or non-ASCII character");
			return -1;
		}
	}
	while (i < len) {
		while (i < len && txt[i] == ' ')
			i++;
		for (start = i; i < len && txt[i] != ' '; i++)
			;
		if (i > start && !spf_parse_term(txt + start, i - start, out, err)) {
			spf_record_free(out);
			return -1;
		}
	}
	return 0;
}

void spf_record_free(struct spf_record *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->terms[i].spec);
		free(r->terms[i].text);
	}
	free(r->terms);
	r->terms = NULL;
	r->n = 0;
}
