/*
 * expand.c - pipe(8)'s macros in the argv= words.
 *
 *   ${sender}              envelope sender (null_sender= for <>)
 *   ${recipient}           the recipient address
 *   ${original_recipient}  the address as first given (DSN ORCPT)
 *   ${user} ${extension}   the local part split at recipient_delimiter
 *   ${mailbox}             the whole local part
 *   ${domain}              the recipient's domain
 *   ${nexthop} ${size} ${queue_id}
 *   ${client_address} ${client_helo} ${client_hostname} ${client_port}
 *   ${client_protocol} ${sasl_method} ${sasl_sender} ${sasl_username}
 *                          empty: tern's delivery request does not carry them
 *
 * Written ${name}, $(name) or $name; ${name?text} gives text when the
 * value is not empty, ${name:text} when it is; "$$" is a '$'.  A word
 * that names a recipient macro becomes one word per recipient, in order
 * (Postfix's rule); flags u, h and q fold and quote as pipe.h says.
 * The words go to execve() directly, never through a shell, so a hostile
 * address can add no command of its own.
 */
#include <string.h>

#include "address.h"
#include "config.h"
#include "pipe.h"
#include "util.h"

enum pipe_macro_kind { PM_MESSAGE, PM_RECIPIENT, PM_EMPTY };

static const struct {
	const char *name;
	enum pipe_macro_kind kind;
} pipe_macros[] = {
    {"sender", PM_MESSAGE},
    {"nexthop", PM_MESSAGE},
    {"size", PM_MESSAGE},
    {"queue_id", PM_MESSAGE},
    {"recipient", PM_RECIPIENT},
    {"original_recipient", PM_RECIPIENT},
    {"user", PM_RECIPIENT},
    {"extension", PM_RECIPIENT},
    {"mailbox", PM_RECIPIENT},
    {"domain", PM_RECIPIENT},
    {"client_address", PM_EMPTY},
    {"client_helo", PM_EMPTY},
    {"client_hostname", PM_EMPTY},
    {"client_port", PM_EMPTY},
    {"client_protocol", PM_EMPTY},
    {"sasl_method", PM_EMPTY},
    {"sasl_sender", PM_EMPTY},
    {"sasl_username", PM_EMPTY},
};
#define PIPE_NMACROS (sizeof(pipe_macros) / sizeof(pipe_macros[0]))

/* One macro reference at p ('$' at p[0]), parsed. */
struct pm_ref {
	size_t len;	  /* bytes of the reference */
	int macro;	  /* index in pipe_macros, -1 for "$$" */
	char cond;	  /* '?', ':' or 0 */
	const char *text; /* conditional text */
	size_t text_len;
};

static int pm_lookup(const char *name, size_t n)
{
	for (size_t i = 0; i < PIPE_NMACROS; i++)
		if (strlen(pipe_macros[i].name) == n && strncmp(pipe_macros[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

/* The bracket that closes a conditional text, nested ones skipped. */
static const char *pm_close(const char *p, char open, char close)
{
	int depth = 0;

	for (; *p; p++) {
		if (p[0] == '$' && p[1] == open)
			depth++, p++;
		else if (*p == close && depth-- == 0)
			return p;
	}
	return NULL;
}

/* false: a reference pipe does not know (err says which). */
static bool pm_parse(const char *p, struct pm_ref *r, struct buf *err)
{
	char open = p[1], close = open == '{' ? '}' : open == '(' ? ')' : 0;
	const char *name = close ? p + 2 : p + 1;
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz_");

	memset(r, 0, sizeof(*r));
	if (p[1] == '$') {
		r->len = 2;
		r->macro = -1;
		return true;
	}
	r->macro = pm_lookup(name, n);
	if (r->macro < 0 || n == 0) {
		buf_printf(err, "unknown macro in argv=: \"%.*s\"", (int)(n + (close ? 2 : 1)), p);
		return false;
	}
	r->len = (size_t)(name - p) + n;
	if (!close)
		return true;
	if (name[n] == '?' || name[n] == ':') {
		const char *end = pm_close(name + n + 1, open, close);

		if (end == NULL) {
			buf_printf(err, "unterminated macro in argv=: \"%s\"", p);
			return false;
		}
		r->cond = name[n];
		r->text = name + n + 1;
		r->text_len = (size_t)(end - r->text);
		r->len = (size_t)(end + 1 - p);
		return true;
	}
	if (name[n] != close) {
		buf_printf(err, "bad macro in argv=: \"%s\"", p);
		return false;
	}
	r->len++;
	return true;
}

/* The local part, quoted when flag q asks and it needs it. */
static void pm_local(struct buf *out, const char *local, size_t n, unsigned flags)
{
	char *l = xstrndup(local, n), *q;

	if (flags & PIPE_FLAG_FOLD_USER)
		str_lower(l);
	q = flags & PIPE_FLAG_QUOTE ? addr_quote_local(l) : xstrdup(l);
	buf_puts(out, q);
	free(q);
	free(l);
}

static void pm_domain(struct buf *out, const char *domain, unsigned flags)
{
	char *d = xstrdup(domain);

	if (flags & PIPE_FLAG_FOLD_HOST)
		str_lower(d);
	buf_puts(out, d);
	free(d);
}

/* An address with u, h and q applied. */
static void pm_address(struct buf *out, const char *addr, unsigned flags)
{
	const char *at = strrchr(addr, '@');

	pm_local(out, addr, at ? (size_t)(at - addr) : strlen(addr), flags);
	if (at) {
		buf_putc(out, '@');
		pm_domain(out, at + 1, flags);
	}
}

/* The value of recipient macro m for recipient i. */
static void pm_rcpt_value(struct buf *out, const char *m, const struct pipe_vars *v, size_t i)
{
	const char *rcpt = v->rcpts[i], *at = strrchr(rcpt, '@');
	const char *orcpt = v->orcpts && v->orcpts[i] ? v->orcpts[i] : rcpt, *semi;
	const char *delims = config_str("recipient_delimiter");
	size_t llen = at ? (size_t)(at - rcpt) : strlen(rcpt);
	size_t cut = *delims ? strcspn(rcpt, delims) : llen;

	if (cut >= llen || cut == 0)
		cut = llen;
	if (strcmp(m, "recipient") == 0)
		pm_address(out, rcpt, v->flags);
	else if (strcmp(m, "original_recipient") == 0)
		pm_address(out, (semi = strchr(orcpt, ';')) ? semi + 1 : orcpt, v->flags);
	else if (strcmp(m, "user") == 0)
		pm_local(out, rcpt, cut, v->flags);
	else if (strcmp(m, "extension") == 0 && cut < llen)
		buf_append(out, rcpt + cut + 1, llen - cut - 1);
	else if (strcmp(m, "mailbox") == 0)
		pm_local(out, rcpt, llen, v->flags);
	else if (strcmp(m, "domain") == 0 && at)
		pm_domain(out, at + 1, v->flags);
}

static void pm_value(struct buf *out, int macro, const struct pipe_vars *v, size_t i)
{
	const char *m = pipe_macros[macro].name;

	if (pipe_macros[macro].kind == PM_RECIPIENT)
		pm_rcpt_value(out, m, v, i);
	else if (strcmp(m, "sender") == 0)
		pm_address(out, *v->sender ? v->sender : v->null_sender,
		    v->flags & ~PIPE_FLAG_FOLD_USER & ~PIPE_FLAG_FOLD_HOST);
	else if (strcmp(m, "nexthop") == 0 && v->nexthop)
		pm_domain(out, v->nexthop, v->flags);
	else if (strcmp(m, "size") == 0)
		buf_printf(out, "%lld", v->size);
	else if (strcmp(m, "queue_id") == 0)
		buf_puts(out, v->queue_id);
}

static bool pm_word(const char *w, const struct pipe_vars *v, size_t i, struct buf *out,
    bool *per_rcpt, struct buf *err);

/* One word expanded for recipient i; false on a bad reference.  The
 * text of ${name?text} is itself expanded. */
static bool pm_word(const char *w, const struct pipe_vars *v, size_t i, struct buf *out,
    bool *per_rcpt, struct buf *err)
{
	struct pm_ref r;

	for (const char *p = w; *p;) {
		struct buf val = BUF_INIT;

		if (*p != '$' || p[1] == 0) {
			buf_putc(out, *p++);
			continue;
		}
		if (!pm_parse(p, &r, err))
			return false;
		p += r.len;
		if (r.macro < 0) {
			buf_putc(out, '$');
			continue;
		}
		*per_rcpt |= pipe_macros[r.macro].kind == PM_RECIPIENT;
		pm_value(&val, r.macro, v, i);
		if (r.cond == 0)
			buf_append(out, val.data, val.len);
		else if ((r.cond == '?') == (val.len > 0)) {
			char *text = xstrndup(r.text, r.text_len);
			bool ok = pm_word(text, v, i, out, per_rcpt, err);

			free(text);
			if (!ok) {
				buf_free(&val);
				return false;
			}
		}
		buf_free(&val);
	}
	return true;
}

char **pipe_expand_argv(char *const *argv, const struct pipe_vars *v, struct buf *err)
{
	char **out = NULL;

	for (size_t w = 0; argv[w]; w++) {
		for (size_t i = 0; i < (v->nrcpt ? v->nrcpt : 1); i++) {
			struct buf word = BUF_INIT;
			bool per_rcpt = false, ok = pm_word(argv[w], v, i, &word, &per_rcpt, err);

			if (ok)
				strv_add(&out, buf_cstr(&word));
			buf_free(&word);
			if (!ok) {
				strv_free(out);
				return NULL;
			}
			if (!per_rcpt)
				break;
		}
	}
	return out;
}
