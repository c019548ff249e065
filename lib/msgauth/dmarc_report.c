/*
 * dmarc_report.c - the lines of DMARC evaluations and the XML aggregate
 * report (see dmarc_report.h).
 *
 * Line fields, in order: 1, time, policy domain, rua, p, sp, np, pct,
 * adkim, aspf, source ip, header from, disposition, dkim (pass/fail), spf
 * (pass/fail), spf domain, spf result, then the DKIM results, each
 * "domain/selector/result", then "arc=SEALER" when a trusted ARC sealer
 * overrode the policy.  An empty value is written "-".
 */
#include "msgauth/dmarc_report.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DMARC_REPORT_FIELDS 17

/* A value: printable ASCII but blank, tab, '/' where split matters; "-"
 * for empty. */
static void rl_put(struct buf *out, const char *v, bool slash_ok)
{
	buf_putc(out, '\t');
	if (v == NULL || *v == 0) {
		buf_putc(out, '-');
		return;
	}
	for (; *v; v++)
		buf_putc(out, *v > ' ' && *v < 127 && (slash_ok || *v != '/') ? *v : '?');
}

void dmarc_report_line(const struct dmarc_report_row *r, struct buf *out)
{
	buf_printf(out, "1\t%lld", r->time);
	rl_put(out, r->policy_domain, true);
	rl_put(out, r->rua, true);
	rl_put(out, r->p, true);
	rl_put(out, r->sp, true);
	rl_put(out, r->np, true);
	buf_printf(
	    out, "\t%d\t%c\t%c", r->pct, r->adkim_strict ? 's' : 'r', r->aspf_strict ? 's' : 'r');
	rl_put(out, r->source_ip, true);
	rl_put(out, r->header_from, true);
	rl_put(out, r->disposition, true);
	rl_put(out, r->dkim_pass ? "pass" : "fail", true);
	rl_put(out, r->spf_pass ? "pass" : "fail", true);
	rl_put(out, r->spf_domain, true);
	rl_put(out, r->spf_result, true);
	for (size_t i = 0; i < r->ndkim && i < DMARC_REPORT_DKIM_MAX; i++) {
		rl_put(out, r->dkim[i].domain, false);
		buf_putc(out, '/');
		for (const char *s = r->dkim[i].selector; s && *s; s++)
			buf_putc(out, *s > ' ' && *s < 127 && *s != '/' ? *s : '?');
		buf_putc(out, '/');
		for (const char *s = r->dkim[i].result; s && *s; s++)
			buf_putc(out, *s > ' ' && *s < 127 && *s != '/' ? *s : '?');
	}
	if (r->arc_override && *r->arc_override) {
		buf_puts(out, "\tarc=");
		for (const char *s = r->arc_override; *s; s++)
			buf_putc(out, *s > ' ' && *s < 127 && *s != '/' ? *s : '?');
	}
	buf_putc(out, '\n');
}

static bool rp_word(const char *v, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(v, *words) == 0)
			return true;
	return false;
}

static const char *rp_value(char *v)
{
	return strcmp(v, "-") == 0 ? "" : v;
}

/* One "domain/selector/result". */
static bool rp_dkim(char *f, struct dmarc_report_dkim *d)
{
	char *s = strchr(f, '/'), *res;

	if (s == NULL || (res = strchr(s + 1, '/')) == NULL || strchr(res + 1, '/'))
		return false;
	*s = *res = 0;
	d->domain = f;
	d->selector = s + 1;
	d->result = res + 1;
	return *f && s[1] && res[1];
}

bool dmarc_report_parse(char *line, struct dmarc_report_row *r)
{
	static const char *const pol[] = {"none", "quarantine", "reject", NULL};
	static const char *const pf[] = {"pass", "fail", NULL};
	char *f[DMARC_REPORT_FIELDS + DMARC_REPORT_DKIM_MAX + 1];
	size_t n = 0;
	long v;

	memset(r, 0, sizeof(*r));
	for (char *p = line; n < sizeof(f) / sizeof(f[0]);) {
		f[n++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = 0;
	}
	if (n < DMARC_REPORT_FIELDS || n > DMARC_REPORT_FIELDS + DMARC_REPORT_DKIM_MAX + 1 ||
	    strcmp(f[0], "1") != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (*f[i] == 0)
			return false;
	if (!parse_long(f[1], 0, 1L << 40, &v))
		return false;
	r->time = v;
	r->policy_domain = f[2];
	r->rua = rp_value(f[3]);
	r->p = f[4];
	r->sp = rp_value(f[5]);
	r->np = rp_value(f[6]);
	if (!rp_word(r->p, pol) || (*r->sp && !rp_word(r->sp, pol)) ||
	    (*r->np && !rp_word(r->np, pol)) || !parse_long(f[7], 0, 100, &v))
		return false;
	r->pct = (int)v;
	if ((strcmp(f[8], "r") != 0 && strcmp(f[8], "s") != 0) ||
	    (strcmp(f[9], "r") != 0 && strcmp(f[9], "s") != 0))
		return false;
	r->adkim_strict = f[8][0] == 's';
	r->aspf_strict = f[9][0] == 's';
	r->source_ip = f[10];
	r->header_from = f[11];
	r->disposition = f[12];
	if (!rp_word(r->disposition, pol) || !rp_word(f[13], pf) || !rp_word(f[14], pf))
		return false;
	r->dkim_pass = f[13][0] == 'p';
	r->spf_pass = f[14][0] == 'p';
	r->spf_domain = rp_value(f[15]);
	r->spf_result = rp_value(f[16]);
	r->arc_override = "";
	if (n > DMARC_REPORT_FIELDS && strncmp(f[n - 1], "arc=", 4) == 0 && f[n - 1][4])
		r->arc_override = f[--n] + 4;
	if (n > DMARC_REPORT_FIELDS + DMARC_REPORT_DKIM_MAX)
		return false;
	for (size_t i = DMARC_REPORT_FIELDS; i < n; i++)
		if (!rp_dkim(f[i], &r->dkim[r->ndkim++]))
			return false;
	return strcmp(r->policy_domain, "-") != 0 && strcmp(r->header_from, "-") != 0;
}

/* Text for an XML element: the five special characters escaped. */
static void rx_text(struct buf *x, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': buf_puts(x, "&lt;"); break;
		case '>': buf_puts(x, "&gt;"); break;
		case '&': buf_puts(x, "&amp;"); break;
		case '"': buf_puts(x, "&quot;"); break;
		case '\'': buf_puts(x, "&apos;"); break;
		default: buf_putc(x, *s);
		}
	}
}

static void rx_elem(struct buf *x, const char *indent, const char *name, const char *v)
{
	buf_printf(x, "%s<%s>", indent, name);
	rx_text(x, v);
	buf_printf(x, "</%s>\n", name);
}

/* Do two rows make the same <record> (all but time and policy)? */
static bool rx_same(const struct dmarc_report_row *a, const struct dmarc_report_row *b)
{
	if (strcmp(a->source_ip, b->source_ip) != 0 ||
	    strcmp(a->header_from, b->header_from) != 0 ||
	    strcmp(a->disposition, b->disposition) != 0 || a->dkim_pass != b->dkim_pass ||
	    a->spf_pass != b->spf_pass || strcmp(a->spf_domain, b->spf_domain) != 0 ||
	    strcmp(a->spf_result, b->spf_result) != 0 || a->ndkim != b->ndkim ||
	    strcmp(a->arc_override ? a->arc_override : "", b->arc_override ? b->arc_override : ""))
		return false;
	for (size_t i = 0; i < a->ndkim; i++)
		if (strcmp(a->dkim[i].domain, b->dkim[i].domain) != 0 ||
		    strcmp(a->dkim[i].selector, b->dkim[i].selector) != 0 ||
		    strcmp(a->dkim[i].result, b->dkim[i].result) != 0)
			return false;
	return true;
}

static void rx_record(struct buf *x, const struct dmarc_report_row *r, size_t count)
{
	buf_puts(x, "  <record>\n    <row>\n");
	rx_elem(x, "      ", "source_ip", r->source_ip);
	buf_printf(x, "      <count>%zu</count>\n      <policy_evaluated>\n", count);
	rx_elem(x, "        ", "disposition", r->disposition);
	rx_elem(x, "        ", "dkim", r->dkim_pass ? "pass" : "fail");
	rx_elem(x, "        ", "spf", r->spf_pass ? "pass" : "fail");
	if (r->arc_override && *r->arc_override) { /* RFC 7489 appendix C */
		struct buf c = BUF_INIT;

		buf_printf(&c, "arc=pass sealed by %s", r->arc_override);
		buf_puts(x, "        <reason>\n");
		rx_elem(x, "          ", "type", "local_policy");
		rx_elem(x, "          ", "comment", buf_cstr(&c));
		buf_puts(x, "        </reason>\n");
		buf_free(&c);
	}
	buf_puts(x, "      </policy_evaluated>\n    </row>\n    <identifiers>\n");
	rx_elem(x, "      ", "header_from", r->header_from);
	buf_puts(x, "    </identifiers>\n    <auth_results>\n");
	for (size_t i = 0; i < r->ndkim; i++) {
		buf_puts(x, "      <dkim>\n");
		rx_elem(x, "        ", "domain", r->dkim[i].domain);
		rx_elem(x, "        ", "selector", r->dkim[i].selector);
		rx_elem(x, "        ", "result", r->dkim[i].result);
		buf_puts(x, "      </dkim>\n");
	}
	buf_puts(x, "      <spf>\n");
	rx_elem(x, "        ", "domain", *r->spf_domain ? r->spf_domain : r->header_from);
	rx_elem(x, "        ", "result", *r->spf_result ? r->spf_result : "none");
	buf_puts(x, "      </spf>\n    </auth_results>\n  </record>\n");
}

void dmarc_report_xml(const struct dmarc_report_meta *m, const struct dmarc_report_row *rows,
    size_t n, struct buf *xml)
{
	const struct dmarc_report_row *last = &rows[n - 1];
	bool *done = xcalloc(n ? n : 1, sizeof(bool));

	buf_puts(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n"
		      "  <version>1.0</version>\n  <report_metadata>\n");
	rx_elem(xml, "    ", "org_name", m->org_name);
	rx_elem(xml, "    ", "email", m->email);
	rx_elem(xml, "    ", "report_id", m->report_id);
	buf_printf(xml,
	    "    <date_range>\n      <begin>%lld</begin>\n      <end>%lld</end>\n"
	    "    </date_range>\n  </report_metadata>\n  <policy_published>\n",
	    m->begin, m->end);
	rx_elem(xml, "    ", "domain", last->policy_domain);
	rx_elem(xml, "    ", "adkim", last->adkim_strict ? "s" : "r");
	rx_elem(xml, "    ", "aspf", last->aspf_strict ? "s" : "r");
	rx_elem(xml, "    ", "p", last->p);
	rx_elem(xml, "    ", "sp", *last->sp ? last->sp : last->p);
	if (*last->np)
		rx_elem(xml, "    ", "np", last->np);
	buf_printf(xml, "    <pct>%d</pct>\n  </policy_published>\n", last->pct);
	for (size_t i = 0; i < n; i++) {
		size_t count = 0;

		if (done[i])
			continue;
		for (size_t k = i; k < n; k++)
			if (!done[k] && rx_same(&rows[i], &rows[k])) {
				done[k] = true;
				count++;
			}
		rx_record(xml, &rows[i], count);
	}
	buf_puts(xml, "</feedback>\n");
	free(done);
}
