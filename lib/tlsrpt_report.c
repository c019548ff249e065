/*
 * tlsrpt_report.c - the lines of TLS session outcomes and the JSON report
 * (see tlsrpt_report.h).
 *
 * Line fields, in order: 1, time, policy domain, policy type, policy
 * string, mx host, result, sending MTA ip, receiving MX host name,
 * receiving ip, reason.
 */
#include "tlsrpt_report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define TLSRPT_FIELDS 11

static const char *const tr_results[] = {"success", "starttls-not-supported",
    "certificate-host-mismatch", "certificate-expired", "certificate-not-trusted",
    "validation-failure", "tlsa-invalid", "dnssec-invalid", "dane-required",
    "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid", NULL};
static const char *const tr_types[] = {"sts", "tlsa", "no-policy-found", NULL};

static bool tr_word(const char *v, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(v, *words) == 0)
			return true;
	return false;
}

bool tlsrpt_result_valid(const char *result)
{
	return result && tr_word(result, tr_results);
}

/* One value; in a list, '\n' -> '|' between items. */
static void tl_put(struct buf *out, const char *v, bool list)
{
	buf_putc(out, '\t');
	if (v == NULL || *v == 0) {
		buf_putc(out, '-');
		return;
	}
	if (strcmp(v, "-") == 0) {
		buf_puts(out, "%2D");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '\n' && list)
			buf_putc(out, '|');
		else if (*p <= ' ' || *p >= 127 || *p == '%' || *p == '|') {
			buf_put_hexbyte(out, '%', *p);
		} else
			buf_putc(out, (char)*p);
	}
}

void tlsrpt_report_line(const struct tlsrpt_row *r, struct buf *out)
{
	buf_printf(out, "1\t%lld", r->time);
	tl_put(out, r->policy_domain, false);
	tl_put(out, r->policy_type, false);
	tl_put(out, r->policy_string, true);
	tl_put(out, r->mx_host, true);
	tl_put(out, r->result, false);
	tl_put(out, r->sending_ip, false);
	tl_put(out, r->mx_hostname, false);
	tl_put(out, r->receiving_ip, false);
	tl_put(out, r->reason, false);
	buf_putc(out, '\n');
}

/* Decodes one field in place; false on a bad escape, a NUL or a byte
 * that should have been escaped. */
static bool tr_decode(char *f, bool list, const char **out)
{
	char *w = f;

	*out = f;
	if (strcmp(f, "-") == 0) {
		*f = 0;
		return true;
	}
	for (const char *p = f; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c >= 127)
			return false;
		if (c == '|') {
			if (!list)
				return false;
			*w++ = '\n';
		} else if (c == '%') {
			int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			*w++ = (char)(hi << 4 | lo);
			p += 2;
		} else
			*w++ = (char)c;
	}
	*w = 0;
	return true;
}

bool tlsrpt_report_parse(char *line, struct tlsrpt_row *r)
{
	char *f[TLSRPT_FIELDS + 1];
	size_t n = 0;
	long v;

	memset(r, 0, sizeof(*r));
	for (char *p = line; n < sizeof(f) / sizeof(f[0]);) {
		f[n++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = 0;
	}
	if (n != TLSRPT_FIELDS || strcmp(f[0], "1") != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (*f[i] == 0)
			return false;
	if (!parse_long(f[1], 0, 1L << 40, &v))
		return false;
	r->time = v;
	if (!tr_decode(f[2], false, &r->policy_domain) ||
	    !tr_decode(f[3], false, &r->policy_type) || !tr_decode(f[4], true, &r->policy_string) ||
	    !tr_decode(f[5], true, &r->mx_host) || !tr_decode(f[6], false, &r->result) ||
	    !tr_decode(f[7], false, &r->sending_ip) || !tr_decode(f[8], false, &r->mx_hostname) ||
	    !tr_decode(f[9], false, &r->receiving_ip) || !tr_decode(f[10], false, &r->reason))
		return false;
	return *r->policy_domain && tr_word(r->policy_type, tr_types) &&
	       tlsrpt_result_valid(r->result);
}

/* "2026-12-06T00:00:00Z" */
static json_t *tj_time(long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[40];

	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(s);
}

/* A '\n'-separated list as a JSON array of strings. */
static json_t *tj_list(const char *v)
{
	json_t *a = json_array();

	while (v && *v) {
		const char *nl = strchr(v, '\n');
		size_t len = nl ? (size_t)(nl - v) : strlen(v);

		json_array_append_new(a, json_stringn(v, len));
		v += len + (nl != NULL);
	}
	return a;
}

static bool tj_same_policy(const struct tlsrpt_row *a, const struct tlsrpt_row *b)
{
	return strcmp(a->policy_type, b->policy_type) == 0 &&
	       strcmp(a->policy_string, b->policy_string) == 0 &&
	       strcmp(a->mx_host, b->mx_host) == 0;
}

static bool tj_same_failure(const struct tlsrpt_row *a, const struct tlsrpt_row *b)
{
	return strcmp(a->result, b->result) == 0 && strcmp(a->sending_ip, b->sending_ip) == 0 &&
	       strcmp(a->mx_hostname, b->mx_hostname) == 0 &&
	       strcmp(a->receiving_ip, b->receiving_ip) == 0 && strcmp(a->reason, b->reason) == 0;
}

/* A failure-details entry (RFC 8460 4.4); empty fields left out. */
static json_t *tj_failure(const struct tlsrpt_row *r, size_t count)
{
	json_t *o = json_object();

	json_object_set_new(o, "result-type", json_string(r->result));
	if (*r->sending_ip)
		json_object_set_new(o, "sending-mta-ip", json_string(r->sending_ip));
	if (*r->mx_hostname)
		json_object_set_new(o, "receiving-mx-hostname", json_string(r->mx_hostname));
	if (*r->receiving_ip)
		json_object_set_new(o, "receiving-ip", json_string(r->receiving_ip));
	json_object_set_new(o, "failed-session-count", json_integer((json_int_t)count));
	if (*r->reason)
		json_object_set_new(o, "failure-reason-code", json_string(r->reason));
	return o;
}

/* The policies[] entry of rows like rows[i] (marked done). */
static json_t *tj_policy(const struct tlsrpt_row *rows, size_t n, size_t i, bool *done)
{
	json_t *o = json_object(), *pol = json_object(), *fails = json_array();
	bool *fdone = xcalloc(n, sizeof(bool));
	size_t ok = 0, bad = 0;

	json_object_set_new(pol, "policy-type", json_string(rows[i].policy_type));
	if (*rows[i].policy_string)
		json_object_set_new(pol, "policy-string", tj_list(rows[i].policy_string));
	json_object_set_new(pol, "policy-domain", json_string(rows[i].policy_domain));
	if (*rows[i].mx_host)
		json_object_set_new(pol, "mx-host", tj_list(rows[i].mx_host));
	for (size_t k = i; k < n; k++) {
		size_t count = 0;

		if (done[k] || !tj_same_policy(&rows[i], &rows[k]))
			continue;
		done[k] = true;
		if (strcmp(rows[k].result, "success") == 0) {
			ok++;
			continue;
		}
		bad++;
		if (fdone[k])
			continue;
		for (size_t j = k; j < n; j++)
			if (!fdone[j] && tj_same_policy(&rows[k], &rows[j]) &&
			    tj_same_failure(&rows[k], &rows[j])) {
				fdone[j] = true;
				count++;
			}
		json_array_append_new(fails, tj_failure(&rows[k], count));
	}
	json_object_set_new(o, "policy", pol);
	json_object_set_new(o, "summary",
	    json_pack("{s:I,s:I}", "total-successful-session-count", (json_int_t)ok,
		"total-failure-session-count", (json_int_t)bad));
	if (json_array_size(fails))
		json_object_set_new(o, "failure-details", fails);
	else
		json_decref(fails);
	free(fdone);
	return o;
}

void tlsrpt_report_json(
    const struct tlsrpt_report_meta *m, const struct tlsrpt_row *rows, size_t n, struct buf *json)
{
	json_t *root = json_object(), *range = json_object(), *pols = json_array();
	bool *done = xcalloc(n ? n : 1, sizeof(bool));
	char *text;

	json_object_set_new(root, "organization-name", json_string(m->org_name));
	json_object_set_new(range, "start-datetime", tj_time(m->begin));
	json_object_set_new(range, "end-datetime", tj_time(m->end));
	json_object_set_new(root, "date-range", range);
	json_object_set_new(root, "contact-info", json_string(m->contact_info));
	json_object_set_new(root, "report-id", json_string(m->report_id));
	for (size_t i = 0; i < n; i++)
		if (!done[i])
			json_array_append_new(pols, tj_policy(rows, n, i, done));
	json_object_set_new(root, "policies", pols);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	buf_puts(json, text ? text : "{}");
	buf_putc(json, '\n');
	free(text);
	json_decref(root);
	free(done);
}
