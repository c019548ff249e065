/*
 * tlsrpt.c - "tern tlsrpt report": the TLS-RPT reports (RFC 8460) of the
 * TLS sessions the smtp client recorded (smtp_tls_reports), one JSON
 * report per policy domain and day, gzipped and sent to the rua= URIs of
 * the domain's _smtp._tls record.  Run it daily, after midnight UTC (cron
 * or a timer), as `tern dmarc report`.
 *
 *   tern [-c DIR] tlsrpt report [--output DIR] [--range BEGIN END]
 *
 * Steps (the shape of cli/dmarc.c, with lib/report_mail.h):
 * 1. smtp_tls_report_log is renamed to LOG.sending (a failed run's
 *    LOG.sending is sent again with it);
 * 2. its lines (lib/tlsrpt_report.h; bad ones are counted and skipped)
 *    from before the end of the range (default: the previous UTC day)
 *    are grouped by policy domain and period: the range itself, or for
 *    older lines (left by a failed run) their own UTC day; lines from the
 *    range's end on are appended to the log again, for the next run;
 * 3. each report is gzipped and, for each URI of the domain's rua=:
 *    mailto: a message as RFC 8460 5.3 says (multipart/report;
 *    report-type="tlsrpt", TLS-Report-Domain and TLS-Report-Submitter,
 *    the attachment application/tlsrpt+gzip named
 *    SUBMITTER!DOMAIN!BEGIN!END.json.gz), handed to sendmail from
 *    tlsrpt_report_sender; https: a POST of the gzip as
 *    application/tlsrpt+gzip (5.4: any 2xx answer is success), through
 *    lib/https_get; a domain without a valid record gets nothing (said
 *    so).  With --output the reports are written to DIR instead;
 * 4. the .sending file is removed when every report went out; else it
 *    stays (the next run sends it again) and the exit status is 75.
 * The submitter is myhostname.  Exit 0, 1 for bad usage or a file that
 * cannot be read or written.
 */
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "gzip.h"
#include "https_get.h"
#include "report_mail.h"
#include "tern.h"
#include "tlsrpt.h"
#include "tlsrpt_report.h"
#include "util.h"

#define TR_WHO "tern tlsrpt"

struct tr_ctx {
	const char *output; /* --output DIR, or NULL: send */
	const char *org_name, *sender, *submitter;
	long long begin, end; /* the range */
	int failed;	      /* reports that could not be sent */
	int sent;	      /* reports sent or written */
};

/* A row with the start of its period (the range, or its UTC day). */
struct tr_item {
	struct tlsrpt_row row;
	long long period;
};

static long long tr_period(const struct tr_ctx *c, long long t)
{
	return t >= c->begin ? c->begin : t - t % 86400;
}

/* The rua= URIs of domain's _smtp._tls record; false (said why) when it
 * has no valid one. */
static bool tr_rua(const char *domain, struct tlsrpt_record *rec)
{
	char *name = xasprintf("_smtp._tls.%s", domain), **txt = NULL;
	struct buf why = BUF_INIT;
	unsigned char *ans = NULL;
	int len = 0, found = 0;
	size_t n = 0;
	const char *rec_txt = NULL;
	bool ok = false;

	if (dns_query(name, ns_t_txt, &ans, &len, &why) == DNS_OK &&
	    dns_txt_from_answer(ans, len, &txt, &n) == DNS_OK)
		for (size_t i = 0; i < n; i++)
			if (strncmp(txt[i], "v=TLSRPTv1", 10) == 0 && found++ == 0)
				rec_txt = txt[i];
	buf_reset(&why);
	if (found == 0)
		printf("%s: not sent: no TLS-RPT record at %s\n", domain, name);
	else if (found > 1)
		printf("%s: not sent: more than one TLS-RPT record at %s\n", domain, name);
	else if (!tlsrpt_record_parse(rec_txt, rec, &why))
		printf("%s: not sent: %s: %s\n", domain, name, buf_cstr(&why));
	else
		ok = true;
	strv_free(txt);
	free(ans);
	free(name);
	buf_free(&why);
	return ok;
}

/* RFC 8460 5.3: the report mailed to addr. */
static bool tr_mail(const struct tr_ctx *c, const char *addr, const char *domain, const char *id,
    const char *file, const struct buf *gz)
{
	char *subject =
	    xasprintf("Report Domain: %s Submitter: %s Report-ID: <%s>", domain, c->submitter, id);
	char *headers =
	    xasprintf("TLS-Report-Domain: %s\nTLS-Report-Submitter: %s\n", domain, c->submitter);
	char *text =
	    xasprintf("This is an aggregate TLS report for %s from %s.", domain, c->submitter);
	struct report_mail m = {
	    .from = c->sender,
	    .to = addr,
	    .subject = subject,
	    .headers = headers,
	    .type = "multipart/report; report-type=\"tlsrpt\"",
	    .text = text,
	    .file_type = "application/tlsrpt+gzip",
	    .file_name = file,
	    .file = gz,
	};
	struct buf msg = BUF_INIT;
	bool ok;

	report_mail_message(&m, &msg);
	ok = report_mail_send(TR_WHO, c->sender, addr, &msg);
	buf_free(&msg);
	free(subject);
	free(headers);
	free(text);
	return ok;
}

/* RFC 8460 5.4: the report POSTed to url. */
static bool tr_post(const char *url, const struct buf *gz)
{
	struct https_get_req req = {
	    .url = url,
	    .cafile = config_str("tlsrpt_report_https_CAfile"),
	    .timeout_ms = 60000,
	    .max_size = 65536,
	    .post_body = gz,
	    .post_type = "application/tlsrpt+gzip",
	};
	struct https_get_res res = {.body = BUF_INIT};
	struct buf why = BUF_INIT, entry = BUF_INIT;
	char host[256];
	const char *h = url + 8, *e = h + strcspn(h, ":/?#");
	long port = 443;
	bool ok = false;

	if ((size_t)(e - h) >= sizeof(host) || e == h) {
		fprintf(stderr, TR_WHO ": %s: bad URI\n", url);
		return false;
	}
	memcpy(host, h, (size_t)(e - h));
	host[e - h] = 0;
	if (*e == ':') {
		char digits[8] = "";
		size_t len = strcspn(e + 1, "/?#");

		if (len < sizeof(digits))
			memcpy(digits, e + 1, len);
		if (!parse_long(digits, 1, 65535, &port)) {
			fprintf(stderr, TR_WHO ": %s: bad port\n", url);
			return false;
		}
	}
	if (!https_resolve_entry(host, (int)port, &entry, &why))
		fprintf(stderr, TR_WHO ": %s: %s\n", url, buf_cstr(&why));
	else {
		req.resolve = buf_cstr(&entry);
		if (!https_get(&req, &res, &why))
			fprintf(stderr, TR_WHO ": %s\n", buf_cstr(&why));
		else if (res.status / 100 != 2)
			fprintf(stderr, TR_WHO ": %s: HTTP status %ld\n", url, res.status);
		else
			ok = true;
	}
	buf_free(&res.body);
	buf_free(&entry);
	buf_free(&why);
	return ok;
}

/* Sends (or writes) one report to each rua= URI. */
static void tr_deliver(
    struct tr_ctx *c, const char *domain, const char *id, const char *file, const struct buf *gz)
{
	struct tlsrpt_record rec = {.rua = NULL, .nrua = 0};

	if (!tr_rua(domain, &rec))
		return;
	for (size_t i = 0; i < rec.nrua; i++) {
		const char *uri = rec.rua[i];
		bool ok;

		if (str_prefix_case(uri, "mailto:")) {
			char *addr = xstrdup(uri + 7);

			addr[strcspn(addr, "?")] = 0;
			ok = *addr && tr_mail(c, addr, domain, id, file, gz);
			if (ok)
				printf("%s: report %s sent to <%s>\n", domain, id, addr);
			free(addr);
		} else {
			ok = tr_post(uri, gz);
			if (ok)
				printf("%s: report %s posted to %s\n", domain, id, uri);
		}
		if (ok)
			c->sent++;
		else
			c->failed++;
	}
	tlsrpt_record_free(&rec);
}

/* One policy domain's rows of one period: the report, then its delivery. */
static void tr_report(struct tr_ctx *c, const struct tr_item *items, size_t n)
{
	const char *domain = items[0].row.policy_domain;
	struct tlsrpt_row *rows = xcalloc(n, sizeof(*rows));
	struct tlsrpt_report_meta m = {.org_name = c->org_name, .contact_info = c->sender};
	struct buf json = BUF_INIT, gz = BUF_INIT;
	char *id, *file;

	for (size_t i = 0; i < n; i++)
		rows[i] = items[i].row;
	m.begin = items[0].period;
	m.end = m.begin == c->begin ? c->end : m.begin + 86400;
	id = xasprintf("%lld.%s@%s", m.begin, domain, c->submitter);
	m.report_id = id;
	file = xasprintf("%s!%s!%lld!%lld.json.gz", c->submitter, domain, m.begin, m.end - 1);
	tlsrpt_report_json(&m, rows, n, &json);
	if (!gzip_buf(json.data, json.len, &gz)) {
		fprintf(stderr, TR_WHO ": gzip failed\n");
		c->failed++;
	} else if (c->output) {
		if (report_file_write(TR_WHO, c->output, file, &gz)) {
			printf("%s: report %s written to %s/%s\n", domain, id, c->output, file);
			c->sent++;
		} else {
			c->failed++;
		}
	} else {
		tr_deliver(c, domain, id, file, &gz);
	}
	free(id);
	free(file);
	free(rows);
	buf_free(&json);
	buf_free(&gz);
}

static int tr_order(const void *a, const void *b)
{
	const struct tr_item *x = a, *y = b;
	int d = strcasecmp(x->row.policy_domain, y->row.policy_domain);

	if (d)
		return d;
	if (x->period != y->period)
		return x->period < y->period ? -1 : 1;
	return (x->row.time > y->row.time) - (x->row.time < y->row.time);
}

/*
 * Reads sending's lines: those before the range's end become items (they
 * point into *text: free both); later ones are appended to log again.
 * False when that append failed.
 */
static bool tr_read(struct tr_ctx *c, const char *sending, const char *log, char **text,
    struct tr_item **items, size_t *n, size_t *bad)
{
	struct buf later = BUF_INIT;
	char *line, *save = NULL;
	struct stat st;
	bool ok = true;

	*items = NULL;
	*n = 0;
	if ((*text = report_log_read(sending)) == NULL)
		return true;
	for (line = strtok_r(*text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct tlsrpt_row r;

		if (!tlsrpt_report_parse(line, &r)) {
			(*bad)++;
		} else if (r.time >= c->end) {
			tlsrpt_report_line(&r, &later);
		} else {
			*items = xreallocarray(*items, *n + 1, sizeof(**items));
			(*items)[*n].row = r;
			(*items)[(*n)++].period = tr_period(c, r.time);
		}
	}
	if (later.len && !report_log_append(log, &later)) {
		fprintf(stderr, TR_WHO ": %s: %m\n", log);
		ok = false;
	} else if (later.len && stat(sending, &st) == 0 && chown(log, st.st_uid, st.st_gid) < 0) {
		/* The log may now be this command's: smtp must still append. */
		fprintf(stderr, TR_WHO ": %s: %m\n", log);
		ok = false;
	}
	buf_free(&later);
	return ok;
}

static int tr_usage(void)
{
	fprintf(stderr, "usage: tern tlsrpt report [--output DIR] [--range BEGIN END]\n");
	return EX_USAGE;
}

static int tr_cmd_report(struct tr_ctx *c)
{
	const char *log = config_str("smtp_tls_report_log");
	char *sending = xasprintf("%s.sending", log), *text = NULL;
	struct tr_item *items = NULL;
	struct buf why = BUF_INIT;
	size_t n = 0, bad = 0, start = 0;
	int rc = report_log_take(TR_WHO, log, sending);

	if (!dns_init(config_time("smtp_mta_sts_timeout") * 1000 / 2, &why))
		fprintf(stderr, TR_WHO ": %s\n", buf_cstr(&why));
	if (!tr_read(c, sending, log, &text, &items, &n, &bad))
		rc = 1;
	if (bad)
		fprintf(stderr, TR_WHO ": %zu bad line(s) in %s skipped\n", bad, sending);
	if (n > 1) /* items is NULL when there are none: qsort must not see it */
		qsort(items, n, sizeof(*items), tr_order);
	for (size_t i = 1; i <= n; i++)
		if (i == n ||
		    strcasecmp(items[i].row.policy_domain, items[start].row.policy_domain) != 0 ||
		    items[i].period != items[start].period) {
			tr_report(c, items + start, i - start);
			start = i;
		}
	if (n == 0)
		printf("no TLS sessions to report\n");
	if (c->failed)
		rc = EX_TEMPFAIL;
	else if (rc == 0)
		unlink(sending);
	free(items);
	free(text);
	free(sending);
	buf_free(&why);
	return rc;
}

int cmd_tlsrpt(const char *confdir, int argc, char **argv)
{
	struct tr_ctx c = {0};
	long long now = (long long)time(NULL);
	long b = -1, e = -1;

	/* "send" is the same command, by the name the design gave it. */
	if (argc < 2 || (strcmp(argv[1], "report") != 0 && strcmp(argv[1], "send") != 0))
		return tr_usage();
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--output") == 0 && i + 1 < argc)
			c.output = argv[++i];
		else if (strcmp(argv[i], "--range") == 0 && i + 2 < argc &&
			 parse_long(argv[i + 1], 0, 1L << 40, &b) &&
			 parse_long(argv[i + 2], b + 1, 1L << 40, &e))
			i += 2;
		else
			return tr_usage();
	}
	cli_load_config(confdir);
	c.end = e >= 0 ? e : now - now % 86400;
	c.begin = b >= 0 ? b : c.end - 86400;
	c.org_name = config_str("tlsrpt_report_org_name");
	c.sender = config_str("tlsrpt_report_sender");
	c.submitter = config_str("myhostname");
	return tr_cmd_report(&c);
}
