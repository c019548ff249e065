/*
 * sieve/notify.c - enotify (RFC 5435) with the mailto method (RFC 5436):
 * the notification URI, the notify action, :encodeurl.
 *
 * A mailto URI is "mailto:" [to] ["?" name "=" value *("&" name "=" value)]
 * (RFC 6068): characters outside RFC 3986's unreserved set and the few
 * delimiters it allows must be %-encoded (%00 is refused); the to-part and
 * the to/cc fields hold addresses separated by ','.  As in Pigeonhole:
 * at most SIEVE_MAILTO_MAX_RCPTS recipients (the rest dropped), a
 * repeated one counted once (a To: wins over a Cc:; local parts compared
 * with case, domains without), the first subject
 * and body, at most SIEVE_MAILTO_MAX_HEADERS fields, reserved fields
 * (those a notification sets itself or that would change where it goes)
 * dropped, Reply-To once.  The only method is mailto; its only
 * capability is "online", always "maybe" (RFC 5436 2.5); it takes no
 * options.  The notify action itself is performed by the caller
 * (local); an auto-submitted message gets none (RFC 5436 2.7, the loop
 * guard: notifications are auto-submitted themselves).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "sieve/sieve_int.h"
#include "util.h"

static const char *const sv_reserved[] = {"auto-submitted", "received", "message-id", "date", "bcc",
    "in-reply-to", "references", "resent-date", "resent-from", "resent-sender", "resent-to",
    "resent-cc", "resent-bcc", "resent-msg-id", "from", "sender", "mime-version", "content-type",
    "content-transfer-encoding", NULL};

/* RFC 6068 qchar without '%': unreserved and some-delims. */
static bool sv_qchar(unsigned char c)
{
	return isalnum(c) || strchr("-._~!$'()*+,;:@", c) != NULL;
}

static int sv_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes s[0..len) into out; false on a bad %-escape or a character
 * that must be encoded. */
static bool sv_pct_decode(const char *s, size_t len, struct buf *out, struct buf *err)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 1 < len ? sv_hex((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < len ? sv_hex((unsigned char)s[i + 2]) : -1;

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				if (err)
					buf_puts(err, "invalid % encoding");
				return false;
			}
			buf_putc(out, (char)(hi * 16 + lo));
			i += 2;
		} else if (sv_qchar(c) || c == '=') {
			buf_putc(out, (char)c);
		} else {
			if (err)
				buf_printf(err, "invalid character '%c'", isprint(c) ? c : '?');
			return false;
		}
	}
	return true;
}

/* One recipient: the local part with case (RFC 5321 2.4), the domain
 * without. */
static bool sv_rcpt_eq(const char *a, const char *b)
{
	const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');

	if (at_a == NULL || at_b == NULL || at_a - a != at_b - b)
		return false;
	return strncmp(a, b, (size_t)(at_a - a)) == 0 && strcasecmp(at_a, at_b) == 0;
}

static bool sv_mailto_add(
    struct sieve_mailto *m, const char *addr, size_t len, bool cc, struct buf *err)
{
	bool bad = false;
	char *a;

	while (len && (*addr == ' ' || *addr == '\t')) {
		addr++;
		len--;
	}
	while (len && (addr[len - 1] == ' ' || addr[len - 1] == '\t'))
		len--;
	a = xstrndup(addr, len);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)a[i] <= ' ' || (unsigned char)a[i] >= 0x7f)
			bad = true; /* no blanks, controls or 8-bit bytes in an address */
	if (bad || !sv_address_ok(a) || strpbrk(a, "<>\"") != NULL) {
		if (err)
			buf_printf(err, "invalid recipient '%s'", bad ? "(not printable)" : a);
		free(a);
		return false;
	}
	for (size_t i = 0; i < m->nrcpts; i++) {
		if (sv_rcpt_eq(m->rcpts[i], a)) {
			m->cc[i] = m->cc[i] && cc;
			free(a);
			return true;
		}
	}
	if (m->nrcpts >= SIEVE_MAILTO_MAX_RCPTS) {
		free(a);
		return true;
	}
	m->rcpts = xreallocarray(m->rcpts, m->nrcpts + 1, sizeof(char *));
	m->cc = xreallocarray(m->cc, m->nrcpts + 1, sizeof(bool));
	m->rcpts[m->nrcpts] = a;
	m->cc[m->nrcpts++] = cc;
	return true;
}

/* Addresses separated by ','. */
static bool sv_mailto_list(struct sieve_mailto *m, const char *s, bool cc, struct buf *err)
{
	if (*s == 0)
		return true;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (!sv_mailto_add(m, s, len, cc, err))
			return false;
		if (comma == NULL)
			return true;
		s = comma + 1;
	}
}

/* Printable ASCII and blanks: a header value sent as it is. */
static bool sv_hvalue_ok(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool sv_mailto_field(
    struct sieve_mailto *m, const char *name, const char *value, size_t *nfields, struct buf *err)
{
	if (!sv_field_name_ok(name)) {
		if (err)
			buf_puts(err, "invalid header field name");
		return false;
	}
	if (strcasecmp(name, "body") != 0 && !sv_hvalue_ok(value)) {
		if (err)
			buf_puts(err, "invalid header field body");
		return false;
	}
	if ((*nfields)++ >= SIEVE_MAILTO_MAX_HEADERS)
		return true;
	if (strcasecmp(name, "to") == 0 || strcasecmp(name, "cc") == 0)
		return sv_mailto_list(m, value, strcasecmp(name, "cc") == 0, err);
	if (strcasecmp(name, "subject") == 0) {
		if (m->subject == NULL)
			m->subject = xstrdup(value);
		return true;
	}
	if (strcasecmp(name, "body") == 0) {
		if (m->body == NULL)
			m->body = xstrdup(value);
		return true;
	}
	for (size_t i = 0; sv_reserved[i]; i++)
		if (strcasecmp(name, sv_reserved[i]) == 0)
			return true;
	if (strcasecmp(name, "reply-to") == 0)
		for (size_t i = 0; i < m->nheaders; i++)
			if (strcasecmp(m->hnames[i], name) == 0)
				return true;
	m->hnames = xreallocarray(m->hnames, m->nheaders + 1, sizeof(char *));
	m->hvalues = xreallocarray(m->hvalues, m->nheaders + 1, sizeof(char *));
	m->hnames[m->nheaders] = xstrdup(name);
	m->hvalues[m->nheaders++] = xstrdup(value);
	return true;
}

bool sieve_mailto_parse(const char *uri, struct sieve_mailto *m, struct buf *err)
{
	struct buf to = BUF_INIT, name = BUF_INIT, value = BUF_INIT;
	const char *p, *q;
	size_t nfields = 0;
	bool ok = false;

	memset(m, 0, sizeof(*m));
	if (strncasecmp(uri, "mailto:", 7) != 0) {
		if (err)
			buf_puts(err, "not a mailto URI");
		return false;
	}
	p = uri + 7;
	q = strchr(p, '?');
	if (!sv_pct_decode(p, q ? (size_t)(q - p) : strlen(p), &to, err))
		goto out;
	if (!sv_mailto_list(m, buf_cstr(&to), false, err))
		goto out;
	while (q && *q) {
		const char *f = q + 1, *amp = strchr(f, '&'), *eq;
		size_t flen = amp ? (size_t)(amp - f) : strlen(f);

		q = amp;
		if (flen == 0)
			continue;
		eq = memchr(f, '=', flen);
		buf_reset(&name);
		buf_reset(&value);
		if (eq == NULL) {
			if (err)
				buf_puts(err, "header field without '='");
			goto out;
		}
		if (!sv_pct_decode(f, (size_t)(eq - f), &name, err) ||
		    !sv_pct_decode(eq + 1, flen - (size_t)(eq - f) - 1, &value, err))
			goto out;
		if (!sv_mailto_field(m, buf_cstr(&name), buf_cstr(&value), &nfields, err))
			goto out;
	}
	ok = true;
out:
	buf_free(&to);
	buf_free(&name);
	buf_free(&value);
	if (!ok)
		sieve_mailto_free(m);
	return ok;
}

void sieve_mailto_free(struct sieve_mailto *m)
{
	for (size_t i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	for (size_t i = 0; i < m->nheaders; i++) {
		free(m->hnames[i]);
		free(m->hvalues[i]);
	}
	free(m->rcpts);
	free(m->cc);
	free(m->hnames);
	free(m->hvalues);
	free(m->subject);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

bool sv_notify_uri_ok(const char *uri, struct buf *err)
{
	struct sieve_mailto m;
	const char *colon = strchr(uri, ':');

	if (colon == NULL || colon == uri) {
		if (err)
			buf_printf(err, "invalid notify method URI '%s'", uri);
		return false;
	}
	if ((size_t)(colon - uri) != 6 || strncasecmp(uri, "mailto", 6) != 0) {
		if (err)
			buf_printf(err, "invalid method '%.*s'", (int)(colon - uri), uri);
		return false;
	}
	if (!sieve_mailto_parse(uri, &m, err))
		return false;
	sieve_mailto_free(&m);
	return true;
}

const char *sv_notify_capability(const char *uri, const char *capability)
{
	if (!sv_notify_uri_ok(uri, NULL) || strcasecmp(capability, "online") != 0)
		return NULL;
	return "maybe";
}

bool sv_notify_option_ok(const char *opt)
{
	const char *eq = strchr(opt, '=');

	/* optionname = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-" / "_" / "." / "+") */
	if (eq == NULL || eq == opt || !isalnum((unsigned char)opt[0]))
		return false;
	for (const char *p = opt; p < eq; p++)
		if (!isalnum((unsigned char)*p) && strchr("-_.+", *p) == NULL)
			return false;
	for (const char *p = eq + 1; *p; p++)
		if (*p == '\r' || *p == '\n')
			return false;
	return true;
}

void sv_encodeurl(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			buf_putc(out, (char)c);
		} else {
			buf_put_hexbyte(out, '%', c);
		}
	}
}

/* Has every recipient of m been notified by an earlier action? */
static bool sv_notify_dup(const struct sieve_result *res, const struct sieve_mailto *m)
{
	size_t seen = 0;

	for (size_t i = 0; i < m->nrcpts; i++) {
		bool found = false;

		for (size_t j = 0; j < res->nactions && !found; j++) {
			struct sieve_mailto o;

			if (res->actions[j].type != SIEVE_ACT_NOTIFY ||
			    !sieve_mailto_parse(res->actions[j].target, &o, NULL))
				continue;
			for (size_t k = 0; k < o.nrcpts && !found; k++)
				found = sv_rcpt_eq(o.rcpts[k], m->rcpts[i]);
			sieve_mailto_free(&o);
		}
		seen += found;
	}
	return m->nrcpts > 0 && seen == m->nrcpts;
}

void sv_notify(const struct sv_msg *msg, const struct sv_notify_req *n, struct sieve_result *res)
{
	struct sv_action_req req = {.type = SIEVE_ACT_NOTIFY, .target = n->uri, .line = n->line};
	struct sieve_mailto m;
	struct buf err = BUF_INIT;
	struct sieve_action *a;

	if (!sv_notify_uri_ok(n->uri, &err) || !sieve_mailto_parse(n->uri, &m, NULL)) {
		sv_result_error(res, n->line, "notify action: %s", buf_cstr(&err));
		buf_free(&err);
		return;
	}
	buf_free(&err);
	if (sv_notify_dup(res, &m) || !sv_result_add(res, &req)) {
		sieve_mailto_free(&m);
		return;
	}
	sieve_mailto_free(&m);
	a = &res->actions[res->nactions - 1];
	a->from = n->from ? xstrdup(n->from) : NULL;
	a->subject = n->message ? xstrdup(n->message) : NULL;
	a->importance = n->importance;
	if (sv_auto_submitted(msg->data, msg->hdr_len))
		a->suppressed = "message is auto-submitted";
}
