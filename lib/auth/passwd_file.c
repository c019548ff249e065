/*
 * auth/passwd_file.c - users lines (Dovecot's passwd-file) and app
 * password lines, split in place; a whole users file sorted for look-ups.
 *
 * See passwd_file.h for the formats.  The parser is strict about what
 * would make a line ambiguous (control characters, blanks in a user name,
 * a key that is not a word) and lenient about what Dovecot accepts
 * (missing trailing fields, empty uid/gid/home).
 */
#include "auth/passwd_file.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define PWF_MAX_USER 255

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

bool pwf_user_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PWF_MAX_USER)
		return false;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == ':' || *p == 0x7f)
			return false;
	return true;
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool pwf_word_valid(const char *word)
{
	size_t n = strlen(word);

	if (n == 0 || n > 64)
		return false;
	for (const char *p = word; *p; p++)
		if (!word_char(*p))
			return false;
	return true;
}

/* The next colon-separated field; the rest of the line when last. */
static char *next_field(char **p, bool last)
{
	char *start = *p, *colon;

	if (start == NULL)
		return NULL;
	colon = last ? NULL : strchr(start, ':');
	if (colon) {
		*colon = 0;
		*p = colon + 1;
	} else {
		*p = NULL;
	}
	return start;
}

/* "key=value" or "key": the key is a word. */
static bool extra_valid(const char *word)
{
	const char *eq = strchr(word, '=');
	size_t klen = eq ? (size_t)(eq - word) : strlen(word);

	if (klen == 0 || klen > 64)
		return false;
	for (size_t i = 0; i < klen; i++)
		if (!word_char(word[i]))
			return false;
	return true;
}

static int split_extra(char *s, struct pwf_entry *e, const char **why)
{
	while (s && *s) {
		char *w;

		while (is_blank(*s))
			s++;
		if (*s == 0)
			break;
		w = s;
		while (*s && !is_blank(*s))
			s++;
		if (*s)
			*s++ = 0;
		if (!extra_valid(w)) {
			*why = "malformed extra field";
			return -1;
		}
		if (e->nextra == PWF_MAX_EXTRA) {
			*why = "too many extra fields";
			return -1;
		}
		e->extra[e->nextra++] = w;
	}
	return 0;
}

static bool pwdfile_suffixed(const char *pw)
{
	size_t n = strlen(pw);

	return n > 4 && (strcmp(pw + n - 4, "[13]") == 0 || strcmp(pw + n - 4, "[34]") == 0);
}

/* libpam-pwdfile's "hash[13]" and "hash[34]" are the hash alone. */
static void strip_pwdfile_suffix(char *pw)
{
	if (pwdfile_suffixed(pw))
		pw[strlen(pw) - 4] = 0;
}

static bool has_controls(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < ' ' && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

int pwf_parse_line(char *line, struct pwf_entry *e, const char **why)
{
	char *p = line, *f[7];
	const char *s = line;

	memset(e, 0, sizeof(*e));
	*why = NULL;
	while (is_blank(*s))
		s++;
	if (*s == 0 || *line == '#')
		return 0;
	if (strlen(line) > PWF_MAX_LINE || has_controls(line)) {
		*why = strlen(line) > PWF_MAX_LINE ? "line too long" : "control character";
		return -1;
	}
	for (int i = 0; i < 7; i++)
		f[i] = next_field(&p, false);
	if (!pwf_user_valid(f[0])) {
		*why = "bad user name";
		return -1;
	}
	e->user = f[0];
	if (f[1])
		strip_pwdfile_suffix(f[1]);
	e->password = f[1] ? f[1] : "";
	e->uid = f[2] ? f[2] : "";
	e->gid = f[3] ? f[3] : "";
	e->home = f[5] ? f[5] : "";
	/* A {PLAIN} password may hold blanks (Dovecot reads it so); ids may not. */
	if (strpbrk(e->uid, " \t") || strpbrk(e->gid, " \t")) {
		*why = "blank inside uid or gid";
		return -1;
	}
	return split_extra(next_field(&p, true), e, why) < 0 ? -1 : 1;
}

const char *pwf_extra(const struct pwf_entry *e, const char *key, bool userdb)
{
	size_t klen = strlen(key);

	for (int pass = userdb ? 0 : 1; pass < 2; pass++) {
		const char *prefix = pass == 0 ? "userdb_" : "";
		size_t plen = strlen(prefix);

		for (size_t i = 0; i < e->nextra; i++) {
			const char *w = e->extra[i];

			if (strncmp(w, prefix, plen) != 0 || strncmp(w + plen, key, klen) != 0)
				continue;
			if (w[plen + klen] == '=')
				return w + plen + klen + 1;
			if (w[plen + klen] == 0)
				return "";
		}
	}
	return NULL;
}

void pwf_format_line(struct buf *out, const struct pwf_entry *e)
{
	const char *pw = e->password ? e->password : "";

	/* A password that itself ends like the suffix keeps it: one is stripped. */
	buf_printf(out, "%s:%s%s:%s:%s::%s::", e->user, pw, pwdfile_suffixed(pw) ? "[13]" : "",
	    e->uid ? e->uid : "", e->gid ? e->gid : "", e->home ? e->home : "");
	for (size_t i = 0; i < e->nextra; i++)
		buf_printf(out, "%s%s", i ? " " : "", e->extra[i]);
	buf_putc(out, '\n');
}

/* ------------------------------------------------------------ whole files */

static int entry_cmp(const void *a, const void *b)
{
	const struct pwf_entry *x = a, *y = b;
	int c = strcasecmp(x->user, y->user);

	if (c)
		return c;
	return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

static void drop_duplicates(struct pwf *f, const char *name, struct buf *errs)
{
	size_t w = 0;

	for (size_t i = 0; i < f->n; i++) {
		if (w > 0 && strcasecmp(f->ents[w - 1].user, f->ents[i].user) == 0) {
			buf_printf(errs, "%s:%u: user %s already on line %u: line ignored\n", name,
			    f->ents[i].lineno, f->ents[i].user, f->ents[w - 1].lineno);
			continue;
		}
		f->ents[w++] = f->ents[i];
	}
	f->n = w;
}

void pwf_parse(const char *text, size_t len, const char *name, struct pwf *out, struct buf *errs)
{
	size_t cap = 0;
	char *p, *end;
	unsigned lineno = 0;

	memset(out, 0, sizeof(*out));
	out->text = xmemdup(text, len);
	p = out->text;
	end = p + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		struct pwf_entry e;
		const char *why;
		int r;

		if (nl)
			*nl = 0;
		lineno++;
		if (memchr(p, 0, (size_t)((nl ? nl : end) - p)) != NULL) {
			buf_printf(errs, "%s:%u: NUL byte: line ignored\n", name, lineno);
		} else {
			if (nl > p && nl[-1] == '\r')
				nl[-1] = 0;
			r = pwf_parse_line(p, &e, &why);
			if (r < 0)
				buf_printf(errs, "%s:%u: %s: line ignored\n", name, lineno, why);
			if (r > 0) {
				e.lineno = lineno;
				if (out->n == cap) {
					cap = cap ? cap * 2 : 16;
					out->ents = xreallocarray(out->ents, cap, sizeof(e));
				}
				out->ents[out->n++] = e;
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (out->n)
		qsort(out->ents, out->n, sizeof(*out->ents), entry_cmp);
	drop_duplicates(out, name, errs);
}

static int find_cmp(const void *key, const void *elem)
{
	return strcasecmp(key, ((const struct pwf_entry *)elem)->user);
}

const struct pwf_entry *pwf_find(const struct pwf *f, const char *user)
{
	if (f->n == 0)
		return NULL;
	return bsearch(user, f->ents, f->n, sizeof(*f->ents), find_cmp);
}

void pwf_free(struct pwf *f)
{
	if (f->text)
		explicit_bzero(f->text, strlen(f->text));
	free(f->text);
	free(f->ents);
	memset(f, 0, sizeof(*f));
}

/* ------------------------------------------------------------ app passwords */

int pwf_app_parse_line(char *line, struct pwf_app *a, const char **why)
{
	char *p = line, *f[5];
	long v;

	memset(a, 0, sizeof(*a));
	*why = NULL;
	if (*line == 0 || *line == '#')
		return 0;
	if (strlen(line) > PWF_MAX_LINE || has_controls(line) || strpbrk(line, " \t")) {
		*why = "blank or control character";
		return -1;
	}
	for (int i = 0; i < 5; i++)
		f[i] = next_field(&p, i == 4);
	if (f[4] == NULL || !pwf_user_valid(f[0]) || !pwf_word_valid(f[1]) || *f[3] == 0 ||
	    !parse_long(f[4], 0, 0x7fffffffL, &v)) {
		*why = "expected user:label:services:hash:created";
		return -1;
	}
	for (const char *s = f[2]; *s; s++)
		if (!word_char(*s) && *s != ',') {
			*why = "bad service list";
			return -1;
		}
	a->user = f[0];
	a->label = f[1];
	a->services = f[2];
	a->hash = f[3];
	a->created = v;
	return 1;
}

bool pwf_app_allows(const char *services, const char *service)
{
	size_t n = strlen(service);
	const char *p = services;

	if (*services == 0)
		return true;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && strncasecmp(p, service, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}
