/*
 * tlsrpt.c - the TLS-RPT policy record of RFC 8460 section 3 (see
 * tlsrpt.h).  The ABNF, in short:
 *
 *   record    = "v=TLSRPTv1" 1*(*WSP ";" *WSP field) [*WSP ";" *WSP]
 *   field     = "rua=" uri *(*WSP "," *WSP uri) / name "=" value
 *   name      = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   value     = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 * A URI runs up to the next ',' or ';' or white space (mailto: URIs with
 * ',' inside are not supported: RFC 8460 gives no escaping for them).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tlsrpt.h"
#include "util.h"

static const char *tlsrpt_skip_wsp(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static bool tlsrpt_name_ok(const char *p, size_t n)
{
	if (n == 0 || n > 32 || !isalnum((unsigned char)p[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && !strchr("_-.", p[i]))
			return false;
	return true;
}

static bool tlsrpt_value_char(int c)
{
	return c >= 0x21 && c <= 0x7e && c != ';' && c != '=';
}

/* rua's URI list at p (after "rua="), up to the field's end; advances *pp. */
static bool tlsrpt_rua(const char **pp, struct tlsrpt_record *r, struct buf *why)
{
	const char *p = *pp;
	size_t seen = 0;

	for (;;) {
		const char *s = p;

		while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t') {
			if (!tlsrpt_value_char((unsigned char)*p) && *p != '=') {
				buf_puts(why, "a character not allowed in rua=");
				return false;
			}
			p++;
		}
		if (p == s) {
			buf_puts(why, "an empty URI in rua=");
			return false;
		}
		seen++;
		if ((str_prefix_case(s, "mailto:") && (size_t)(p - s) > 7) ||
		    (str_prefix_case(s, "https:") && (size_t)(p - s) > 6)) {
			if (r->nrua < TLSRPT_RUA_MAX) {
				char *u = xstrndup(s, (size_t)(p - s));
				strv_add(&r->rua, u);
				free(u);
				r->nrua++;
			}
		}
		p = tlsrpt_skip_wsp(p);
		if (*p != ',')
			break;
		p = tlsrpt_skip_wsp(p + 1);
	}
	*pp = p;
	if (r->nrua == 0) {
		buf_puts(why, seen ? "rua= has no mailto: or https: URI" : "rua= is empty");
		return false;
	}
	return true;
}

bool tlsrpt_record_parse(const char *txt, struct tlsrpt_record *r, struct buf *why)
{
	const char *p = txt;
	bool rua = false;

	r->rua = NULL;
	r->nrua = 0;
	if (strncmp(p, "v=TLSRPTv1", 10) != 0 ||
	    (p[10] != 0 && p[10] != ';' && p[10] != ' ' && p[10] != '\t')) {
		buf_puts(why, "not a TLS-RPT record (v=TLSRPTv1 first)");
		return false;
	}
	p = tlsrpt_skip_wsp(p + 10);
	while (*p == ';') {
		const char *name = tlsrpt_skip_wsp(p + 1), *eq;

		if (*name == 0) {
			p = name; /* the optional final ';' */
			break;
		}
		eq = strchr(name, '=');
		if (eq == NULL || !tlsrpt_name_ok(name, (size_t)(eq - name))) {
			buf_puts(why, "a field that is not name=value");
			goto bad;
		}
		p = eq + 1;
		if (eq - name == 3 && strncmp(name, "rua", 3) == 0) {
			if (rua) {
				buf_puts(why, "more than one rua=");
				goto bad;
			}
			rua = true;
			if (!tlsrpt_rua(&p, r, why))
				goto bad;
		} else {
			const char *s = p;
			while (tlsrpt_value_char((unsigned char)*p))
				p++;
			if (p == s) {
				buf_puts(why, "an empty field value");
				goto bad;
			}
		}
		p = tlsrpt_skip_wsp(p);
	}
	if (*p != 0) {
		buf_puts(why, "junk after the fields");
		goto bad;
	}
	if (!rua) {
		buf_puts(why, "no rua=");
		goto bad;
	}
	return true;
bad:
	tlsrpt_record_free(r);
	return false;
}

void tlsrpt_record_free(struct tlsrpt_record *r)
{
	strv_free(r->rua);
	r->rua = NULL;
	r->nrua = 0;
}
