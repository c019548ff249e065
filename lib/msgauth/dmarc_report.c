/*
 * dmarc_report.c - the lines of DMARC evaluations and the XML aggregate
 * report (see dmarc_report.h).
 *
 * Line fields (version 2), in order: 2, time, policy domain, rua, p, sp,
 * np, t (y/n), discovery (treewalk/psl), adkim, aspf, source ip, header
 * from, envelope from, disposition, dkim (pass/fail), spf (pass/fail),
 * reason, spf domain, spf result, then the DKIM results, each
 * "domain/selector/result", then "arc=SEALER" when a trusted ARC sealer
 * overrode the policy.  An empty value is written "-".
 *
 * Version 1 (tern before RFC 9990) had pct where t and discovery are, and
 * neither envelope from nor reason: its lines are still read.
 */
#include "msgauth/dmarc_report.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DR_FIELDS_V1 17
#define DR_FIELDS_V2 20

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

/* The rest of a "domain/selector/result" or arc= value. */
static void rl_part(struct buf *out, const char *v)
{
	for (; v && *v; v++)
		buf_putc(out, *v > ' ' && *v < 127 && *v != '/' ? *v : '?');
}

void dmarc_report_line(const struct dmarc_report_row *r, struct buf *out)
{
	buf_printf(out, "2\t%lld", r->time);
	rl_put(out, r->policy_domain, true);
	rl_put(out, r->rua, true);
	rl_put(out, r->p, true);
	rl_put(out, r->sp, true);
	rl_put(out, r->np, true);
	rl_put(out, r->testing, true);
	rl_put(out, r->discovery, true);
	buf_printf(out, "\t%c\t%c", r->adkim_strict ? 's' : 'r', r->aspf_strict ? 's' : 'r');
	rl_put(out, r->source_ip, true);
	rl_put(out, r->header_from, true);
	rl_put(out, r->envelope_from, true);
	rl_put(out, r->disposition, true);
	rl_put(out, r->dkim_pass ? "pass" : "fail", true);
	rl_put(out, r->spf_pass ? "pass" : "fail", true);
	rl_put(out, r->reason, true);
	rl_put(out, r->spf_domain, true);
	rl_put(out, r->spf_result, true);
	for (size_t i = 0; i < r->ndkim && i < DMARC_REPORT_DKIM_MAX; i++) {
		rl_put(out, r->dkim[i].domain, false);
		buf_putc(out, '/');
		rl_part(out, r->dkim[i].selector);
		buf_putc(out, '/');
		rl_part(out, r->dkim[i].result);
	}
	if (r->arc_override && *r->arc_override) {
		buf_puts(out, "\tarc=");
		rl_part(out, r->arc_override);
	}
	buf_putc(out, '\n');
}

static const char *const rp_policies[] = {"none", "quarantine", "reject", NULL};
/* The results of RFC 8601 2.7.1 and 2.7.2 (the schema's enumerations). */
static const char *const rp_dkim_results[] = {
    "none", "pass", "fail", "policy", "neutral", "temperror", "permerror", NULL};
static const char *const rp_spf_results[] = {
    "none", "pass", "fail", "softfail", "policy", "neutral", "temperror", "permerror", NULL};

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

/* A host name (it becomes part of a file name): labels of letters,
 * digits, '-' and '_', not beginning with '-' ("-" is no value). */
static bool rp_domain(const char *d)
{
	size_t label = 0;

	for (; *d; d++) {
		if (*d == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*d) || *d == '_' || (*d == '-' && label)) {
			label++;
		} else {
			return false;
		}
	}
	return label > 0;
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
	return *f && s[1] && rp_word(d->result, rp_dkim_results);
}

/* The policy fields, p to aspf (f[4..]); v2 says where t= and discovery
 * are, v1 had pct there.  The rest of f are shifted by one for v1. */
static bool rp_policy(char **f, bool v2, struct dmarc_report_row *r)
{
	static const char *const yn[] = {"y", "n", NULL};
	static const char *const disc[] = {"treewalk", "psl", NULL};
	long pct;

	r->p = f[0];
	r->sp = rp_value(f[1]);
	r->np = rp_value(f[2]);
	if (!rp_word(r->p, rp_policies) || (*r->sp && !rp_word(r->sp, rp_policies)) ||
	    (*r->np && !rp_word(r->np, rp_policies)))
		return false;
	if (v2) {
		r->testing = rp_value(f[3]);
		r->discovery = rp_value(f[4]);
		if ((*r->testing && !rp_word(r->testing, yn)) ||
		    (*r->discovery && !rp_word(r->discovery, disc)))
			return false;
		f++;
	} else {
		r->testing = r->discovery = "";
		if (!parse_long(f[3], 0, 100, &pct))
			return false;
	}
	if ((strcmp(f[4], "r") != 0 && strcmp(f[4], "s") != 0) ||
	    (strcmp(f[5], "r") != 0 && strcmp(f[5], "s") != 0))
		return false;
	r->adkim_strict = f[4][0] == 's';
	r->aspf_strict = f[5][0] == 's';
	return true;
}

/* The message's fields, source ip to spf result (v2: f[11..19]). */
static bool rp_message(char **f, bool v2, struct dmarc_report_row *r)
{
	static const char *const dis[] = {"none", "pass", "quarantine", "reject", NULL};
	static const char *const reasons[] = {
	    "policy_test_mode", "sampled_out", "trusted_forwarder", NULL};
	static const char *const pf[] = {"pass", "fail", NULL};

	r->source_ip = f[0];
	r->header_from = f[1];
	if (strcmp(r->header_from, "-") == 0)
		return false;
	r->envelope_from = "";
	r->reason = "";
	if (v2) {
		r->envelope_from = rp_value(f[2]);
		f++;
	}
	r->disposition = f[2];
	if (!rp_word(r->disposition, dis) || !rp_word(f[3], pf) || !rp_word(f[4], pf))
		return false;
	r->dkim_pass = f[3][0] == 'p';
	r->spf_pass = f[4][0] == 'p';
	if (v2) {
		r->reason = rp_value(f[5]);
		if (*r->reason && !rp_word(r->reason, reasons))
			return false;
		f++;
	}
	r->spf_domain = rp_value(f[5]);
	r->spf_result = rp_value(f[6]);
	return !*r->spf_result || rp_word(r->spf_result, rp_spf_results);
}

bool dmarc_report_parse(char *line, struct dmarc_report_row *r)
{
	char *f[DR_FIELDS_V2 + DMARC_REPORT_DKIM_MAX + 1];
	size_t n = 0, fields;
	bool v2;
	long v;

	memset(r, 0, sizeof(*r));
	for (char *p = line; n < sizeof(f) / sizeof(f[0]);) {
		f[n++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = 0;
	}
	v2 = strcmp(f[0], "2") == 0;
	if (!v2 && strcmp(f[0], "1") != 0)
		return false;
	fields = v2 ? DR_FIELDS_V2 : DR_FIELDS_V1;
	if (n < fields || n > fields + DMARC_REPORT_DKIM_MAX + 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (*f[i] == 0)
			return false;
	if (!parse_long(f[1], 0, 1L << 40, &v))
		return false;
	r->time = v;
	r->policy_domain = f[2];
	r->rua = rp_value(f[3]);
	if (!rp_domain(r->policy_domain) || !rp_policy(f + 4, v2, r) ||
	    !rp_message(f + (v2 ? 11 : 10), v2, r))
		return false;
	r->arc_override = "";
	if (n > fields && strncmp(f[n - 1], "arc=", 4) == 0 && f[n - 1][4]) {
		r->arc_override = f[--n] + 4;
		if (!v2)
			r->reason = "trusted_forwarder";
	}
	if (n > fields + DMARC_REPORT_DKIM_MAX)
		return false;
	for (size_t i = fields; i < n; i++)
		if (!rp_dkim(f[i], &r->dkim[r->ndkim++]))
			return false;
	return true;
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

static bool rx_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Do two rows make the same <record> (all but time and policy)? */
static bool rx_same(const struct dmarc_report_row *a, const struct dmarc_report_row *b)
{
	if (!rx_eq(a->source_ip, b->source_ip) || !rx_eq(a->header_from, b->header_from) ||
	    !rx_eq(a->envelope_from, b->envelope_from) || !rx_eq(a->disposition, b->disposition) ||
	    a->dkim_pass != b->dkim_pass || a->spf_pass != b->spf_pass ||
	    !rx_eq(a->reason, b->reason) || !rx_eq(a->arc_override, b->arc_override) ||
	    !rx_eq(a->spf_domain, b->spf_domain) || !rx_eq(a->spf_result, b->spf_result) ||
	    a->ndkim != b->ndkim)
		return false;
	for (size_t i = 0; i < a->ndkim; i++)
		if (!rx_eq(a->dkim[i].domain, b->dkim[i].domain) ||
		    !rx_eq(a->dkim[i].selector, b->dkim[i].selector) ||
		    !rx_eq(a->dkim[i].result, b->dkim[i].result))
			return false;
	return true;
}

/* RFC 9990's policy override reason, when the policy was not applied. */
static void rx_reason(struct buf *x, const struct dmarc_report_row *r)
{
	struct buf c = BUF_INIT;
	const char *type = r->reason;

	if (r->reason == NULL || *r->reason == 0)
		return;
	if (strcmp(r->reason, "trusted_forwarder") == 0)
		buf_printf(&c, "arc=pass, sealed by %s (a trusted ARC sealer)",
		    r->arc_override && *r->arc_override ? r->arc_override : "?");
	else if (strcmp(r->reason, "sampled_out") == 0) /* RFC 7489's, gone in 9990 */
		type = "other", buf_puts(&c, "sampled out by the record's pct=");
	buf_puts(x, "        <reason>\n");
	rx_elem(x, "          ", "type", type);
	if (c.len)
		rx_elem(x, "          ", "comment", buf_cstr(&c));
	buf_puts(x, "        </reason>\n");
	buf_free(&c);
}

static void rx_record(struct buf *x, const struct dmarc_report_row *r, size_t count)
{
	buf_puts(x, "  <record>\n    <row>\n");
	rx_elem(x, "      ", "source_ip", r->source_ip);
	buf_printf(x, "      <count>%zu</count>\n      <policy_evaluated>\n", count);
	rx_elem(x, "        ", "disposition", r->disposition);
	rx_elem(x, "        ", "dkim", r->dkim_pass ? "pass" : "fail");
	rx_elem(x, "        ", "spf", r->spf_pass ? "pass" : "fail");
	rx_reason(x, r);
	buf_puts(x, "      </policy_evaluated>\n    </row>\n    <identifiers>\n");
	rx_elem(x, "      ", "header_from", r->header_from);
	if (r->envelope_from && *r->envelope_from) /* empty for the null reverse-path */
		rx_elem(x, "      ", "envelope_from",
		    strcmp(r->envelope_from, "<>") == 0 ? "" : r->envelope_from);
	buf_puts(x, "    </identifiers>\n    <auth_results>\n");
	for (size_t i = 0; i < r->ndkim; i++) {
		buf_puts(x, "      <dkim>\n");
		rx_elem(x, "        ", "domain", r->dkim[i].domain);
		rx_elem(x, "        ", "selector", r->dkim[i].selector);
		rx_elem(x, "        ", "result", r->dkim[i].result);
		buf_puts(x, "      </dkim>\n");
	}
	if (r->spf_domain && *r->spf_domain && r->spf_result && *r->spf_result) {
		/* RFC 7208 2.4: the null reverse-path's MAIL FROM identity is
		 * postmaster@HELO, so the scope is mfrom either way */
		buf_puts(x, "      <spf>\n");
		rx_elem(x, "        ", "domain", r->spf_domain);
		rx_elem(x, "        ", "scope", "mfrom");
		rx_elem(x, "        ", "result", r->spf_result);
		buf_puts(x, "      </spf>\n");
	}
	buf_puts(x, "    </auth_results>\n  </record>\n");
}

/* The policy published, as the last row saw it; unspecified tags with
 * their defaults (sp= is p=, np= is sp=, as RFC 9989 has them). */
static void rx_policy(struct buf *x, const struct dmarc_report_row *last)
{
	const char *sp = *last->sp ? last->sp : last->p;

	buf_puts(x, "  <policy_published>\n");
	rx_elem(x, "    ", "domain", last->policy_domain);
	if (*last->discovery)
		rx_elem(x, "    ", "discovery_method", last->discovery);
	rx_elem(x, "    ", "p", last->p);
	rx_elem(x, "    ", "sp", sp);
	rx_elem(x, "    ", "np", *last->np ? last->np : sp);
	rx_elem(x, "    ", "adkim", last->adkim_strict ? "s" : "r");
	rx_elem(x, "    ", "aspf", last->aspf_strict ? "s" : "r");
	if (*last->testing)
		rx_elem(x, "    ", "testing", last->testing);
	buf_puts(x, "  </policy_published>\n");
}

void dmarc_report_xml(const struct dmarc_report_meta *m, const struct dmarc_report_row *rows,
    size_t n, struct buf *xml)
{
	bool *done = xcalloc(n ? n : 1, sizeof(bool));

	buf_puts(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n"
		      "  <version>1.0</version>\n  <report_metadata>\n");
	rx_elem(xml, "    ", "org_name", m->org_name);
	rx_elem(xml, "    ", "email", m->email);
	rx_elem(xml, "    ", "report_id", m->report_id);
	buf_printf(xml,
	    "    <date_range>\n      <begin>%lld</begin>\n      <end>%lld</end>\n"
	    "    </date_range>\n",
	    m->begin, m->end);
	rx_elem(xml, "    ", "generator", "tern");
	buf_puts(xml, "  </report_metadata>\n");
	rx_policy(xml, &rows[n - 1]);
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
