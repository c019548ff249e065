/*
 * address.c - RFC 5321 paths and mailbox addresses.
 *
 * A strict recursive-descent parser of the RFC 5321 4.1.2 grammar:
 *
 *   Path       = "<" [ A-d-l ":" ] Mailbox ">"
 *   Mailbox    = Local-part "@" ( Domain / address-literal )
 *   Local-part = Dot-string / Quoted-string
 *
 * The result is canonical, so that policy code compares like with like: the
 * local part is quoted only when it must be, the domain is lower-cased, and
 * a source route is dropped (RFC 5321 appendix C lets us ignore it).
 * Addresses that merely look like relay tricks ("user%host@local",
 * "host!user@local", "\"user@host\"@local") are returned as what they
 * literally are; deciding about them is the policy layer's job.
 *
 * Not done here: a lenient mode for broken clients (no brackets, spaces
 * inside the brackets), RFC 5322 comments, and the 64-octet local part
 * limit of RFC 5321 4.5.3.1.1 (real mail exceeds it; only ADDR_MAX holds).
 */
#include "address.h"

#include <arpa/inet.h>
#include <strings.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "util.h"

#define DOMAIN_MAX 255 /* RFC 5321 4.5.3.1.2 */
#define LABEL_MAX 63   /* RFC 1035 2.3.4 */

/* The parser's cursor over the path; err is set by the first failure. */
struct ap {
	const unsigned char *p;
	const unsigned char *end;
	int flags;
	const char *err;
};

static const char ERR_SYNTAX[] = "Syntax error in mailbox address";

static bool is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* atext of RFC 5322 3.2.3, minus the 8-bit extension handled elsewhere. */
static bool is_atext(int c)
{
	return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool is_ctl(int c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629 section 4: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Picks the most useful message for the byte the parser stopped at. */
static int ap_fail(struct ap *a, const char *msg)
{
	if (a->err != NULL)
		return -1;
	if (a->p >= a->end)
		a->err = "Missing closing bracket";
	else if (is_ctl(*a->p))
		a->err = "Control character in address";
	else if (*a->p >= 0x80 && !(a->flags & ADDR_ALLOW_UTF8))
		a->err = "8-bit address requires SMTPUTF8";
	else if (*a->p >= 0x80 && utf8_len(a->p, a->end) == 0)
		a->err = "Invalid UTF-8 in address";
	else
		a->err = msg;
	return -1;
}

/* Records msg as the failure, unless an earlier, more precise one exists. */
static int ap_error(struct ap *a, const char *msg)
{
	if (a->err == NULL)
		a->err = msg;
	return -1;
}

static bool ap_at(const struct ap *a, int c)
{
	return a->p < a->end && *a->p == c;
}

/* Length of one atext unit at the cursor (a UTF-8 sequence counts as one). */
static size_t ap_atext(const struct ap *a, bool utf8)
{
	if (a->p >= a->end)
		return 0;
	if (*a->p < 0x80)
		return is_atext(*a->p) ? 1 : 0;
	return utf8 ? utf8_len(a->p, a->end) : 0;
}

/* Dot-string = Atom *("." Atom); copies it to local. */
static int ap_dot_string(struct ap *a, struct buf *local)
{
	bool utf8 = a->flags & ADDR_ALLOW_UTF8;
	size_t n;

	for (;;) {
		if (ap_atext(a, utf8) == 0)
			return ap_fail(a, ERR_SYNTAX);
		while ((n = ap_atext(a, utf8)) > 0) {
			buf_append(local, a->p, n);
			a->p += n;
		}
		if (!ap_at(a, '.'))
			return 0;
		buf_putc(local, '.');
		a->p++;
	}
}

/*
 * Quoted-string of RFC 5321 4.1.2 (qtextSMTP and quoted-pairSMTP; RFC 6531
 * adds UTF-8 to qtext).  Copies the unquoted content to local.
 */
static int ap_quoted(struct ap *a, struct buf *local)
{
	size_t n;

	for (a->p++; a->p < a->end && *a->p != '"'; a->p += n) {
		n = 1;
		if (*a->p == '\\') {
			a->p++;
			if (a->p >= a->end)
				break;
			if (*a->p < 0x20 || *a->p > 0x7e)
				return ap_fail(a, ERR_SYNTAX);
		} else if (*a->p >= 0x80) {
			if (!(a->flags & ADDR_ALLOW_UTF8) || (n = utf8_len(a->p, a->end)) == 0)
				return ap_fail(a, ERR_SYNTAX);
		} else if (is_ctl(*a->p)) {
			return ap_fail(a, ERR_SYNTAX);
		}
		buf_append(local, a->p, n);
	}
	if (a->p >= a->end)
		return ap_error(a, "Unterminated quoted string");
	a->p++;
	return 0;
}

/* Whether s[0..len) is a Dot-string (so needs no quotes). */
static bool is_dot_string(const char *s, size_t len)
{
	struct buf scratch = BUF_INIT;
	struct ap a = {(const unsigned char *)s, NULL, ADDR_ALLOW_UTF8, NULL};
	bool ok;

	/* An empty local part ("" quoted) has no bytes at all: s may be NULL. */
	if (len == 0)
		return false;
	a.end = a.p + len;
	ok = ap_dot_string(&a, &scratch) == 0 && a.p == a.end;
	buf_free(&scratch);
	return ok;
}

/* Appends local (unquoted form) to out, quoting it only if it must be. */
static void local_put(struct buf *out, const char *s, size_t len)
{
	if (is_dot_string(s, len)) {
		buf_append(out, s, len);
		return;
	}
	buf_put_quoted(out, s, len);
}

/* One LDH label (RFC 1035 2.3.1, RFC 5321 4.1.2 sub-domain), lower-cased. */
static int ap_label(struct ap *a, struct buf *out)
{
	const unsigned char *start = a->p;
	bool utf8 = a->flags & ADDR_ALLOW_UTF8;
	size_t n;

	while (a->p < a->end) {
		if (is_alnum(*a->p) || *a->p == '-')
			n = 1;
		else if (*a->p >= 0x80 && utf8 && (n = utf8_len(a->p, a->end)) > 0)
			;
		else
			break;
		for (size_t i = 0; i < n; i++)
			buf_putc(out, a->p[i] >= 'A' && a->p[i] <= 'Z' ? a->p[i] + 32 : a->p[i]);
		a->p += n;
	}
	if (a->p == start)
		return ap_fail(a, "Syntax error in domain name");
	if (*start == '-' || a->p[-1] == '-')
		return ap_error(a, "Syntax error in domain name");
	if (a->p - start > LABEL_MAX)
		return ap_error(a, "Domain label too long");
	return 0;
}

/* Domain = sub-domain *("." sub-domain), at most DOMAIN_MAX octets. */
static int ap_domain_name(struct ap *a, struct buf *out)
{
	size_t start = out->len;

	for (;;) {
		if (ap_label(a, out) < 0)
			return -1;
		if (!ap_at(a, '.'))
			break;
		buf_putc(out, '.');
		a->p++;
	}
	if (out->len - start > DOMAIN_MAX)
		return ap_error(a, "Domain name too long");
	return 0;
}

/*
 * address-literal: "[" IPv4 "]" or "[IPv6:" IPv6 "]", checked by inet_pton.
 * The General-address-literal of RFC 5321 4.1.3 is refused: nothing could
 * deliver to it.
 */
static int ap_literal(struct ap *a, struct buf *out)
{
	static const char ERR_LITERAL[] = "Invalid address literal";
	const unsigned char *close;
	unsigned char addr[16];
	char text[64];
	size_t len;
	int af = AF_INET;

	close = memchr(a->p, ']', (size_t)(a->end - a->p));
	if (close == NULL)
		return ap_error(a, ERR_LITERAL);
	len = (size_t)(close - a->p - 1);
	if (len >= 5 && strncasecmp((const char *)a->p + 1, "IPv6:", 5) == 0) {
		af = AF_INET6;
		len -= 5;
	}
	if (len == 0 || len >= sizeof(text))
		return ap_error(a, ERR_LITERAL);
	memcpy(text, close - len, len);
	text[len] = 0;
	/* inet_pton stops at a NUL: "[1.2.3.4\0junk]" must not pass. */
	if (strspn(text, "0123456789abcdefABCDEF.:") != len || inet_pton(af, text, addr) != 1)
		return ap_error(a, ERR_LITERAL);
	str_lower(text);
	buf_printf(out, "[%s%s]", af == AF_INET6 ? "IPv6:" : "", text);
	a->p = close + 1;
	return 0;
}

static int ap_domain(struct ap *a, struct buf *out)
{
	if (ap_at(a, '['))
		return ap_literal(a, out);
	return ap_domain_name(a, out);
}

/* A-d-l = At-domain *( "," At-domain ) ":" ; parsed and forgotten. */
static int ap_source_route(struct ap *a)
{
	struct buf scratch = BUF_INIT;
	int rc = 0;

	for (;;) {
		if (!ap_at(a, '@')) {
			rc = ap_fail(a, "Syntax error in source route");
			break;
		}
		a->p++;
		if (ap_domain_name(a, &scratch) < 0) {
			rc = ap_fail(a, "Syntax error in source route");
			break;
		}
		buf_reset(&scratch);
		if (ap_at(a, ':')) {
			a->p++;
			break;
		}
		if (!ap_at(a, ',')) {
			rc = ap_fail(a, "Syntax error in source route");
			break;
		}
		a->p++;
	}
	buf_free(&scratch);
	return rc;
}

/* Mailbox, written canonically to out. */
static int ap_mailbox(struct ap *a, struct buf *out)
{
	struct buf local = BUF_INIT;
	int rc;

	if (ap_at(a, '"'))
		rc = ap_quoted(a, &local);
	else
		rc = ap_dot_string(a, &local);
	if (rc == 0)
		local_put(out, local.data, local.len);
	buf_free(&local);
	if (rc < 0)
		return -1;
	if (ap_at(a, '@')) {
		buf_putc(out, '@');
		a->p++;
		return ap_domain(a, out);
	}
	if (ap_at(a, '>') && (a->flags & ADDR_ALLOW_LOCAL))
		return 0;
	if (ap_at(a, '>'))
		return ap_error(a, "Domain name required");
	return ap_fail(a, ERR_SYNTAX);
}

/* Everything between the brackets; the cursor is just past the '<'. */
static int ap_path(struct ap *a, struct buf *out)
{
	if (ap_at(a, '>')) {
		if (!(a->flags & ADDR_ALLOW_NULL))
			return ap_error(a, "Null sender not allowed here");
		return 0;
	}
	if (ap_at(a, '@') && ap_source_route(a) < 0)
		return -1;
	if (ap_mailbox(a, out) < 0)
		return -1;
	if (!ap_at(a, '>'))
		return ap_fail(a, ERR_SYNTAX);
	return 0;
}

int addr_parse_path(
    const char *in, size_t len, int flags, char **out, const char **rest, const char **errmsg)
{
	struct ap a = {(const unsigned char *)in, (const unsigned char *)in + len, flags, NULL};
	struct buf b = BUF_INIT;

	if (!ap_at(&a, '<')) {
		*errmsg = "Missing opening bracket";
		return -1;
	}
	a.p++;
	if (ap_path(&a, &b) == 0) {
		a.p++;
		if ((const char *)a.p - in > ADDR_MAX)
			ap_error(&a, "Address too long");
		else if (a.p < a.end && *a.p != ' ' && *a.p != '\t')
			ap_error(&a, ERR_SYNTAX);
	}
	if (a.err != NULL) {
		buf_free(&b);
		*errmsg = a.err;
		return -1;
	}
	*out = (char *)buf_cstr(&b);
	*rest = (const char *)a.p;
	return 0;
}

bool addr_valid_domain(const char *domain, bool utf8)
{
	struct ap a = {(const unsigned char *)domain,
	    (const unsigned char *)domain + strlen(domain), utf8 ? ADDR_ALLOW_UTF8 : 0, NULL};
	struct buf scratch = BUF_INIT;
	bool ok;

	ok = ap_domain(&a, &scratch) == 0 && a.p == a.end;
	buf_free(&scratch);
	return ok;
}

void addr_split(const char *addr, char **local, char **domain)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL) {
		*local = xstrdup(addr);
		*domain = xstrdup("");
		return;
	}
	*local = xstrndup(addr, (size_t)(at - addr));
	*domain = xstrdup(at + 1);
	str_lower(*domain);
}

bool addr_is_utf8(const char *addr)
{
	for (; *addr; addr++)
		if ((unsigned char)*addr >= 0x80)
			return true;
	return false;
}

char *addr_quote_local(const char *local)
{
	struct buf b = BUF_INIT;

	local_put(&b, local, strlen(local));
	return (char *)buf_cstr(&b);
}
