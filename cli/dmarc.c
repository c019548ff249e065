/*
 * dmarc.c - "tern dmarc report": the DMARC aggregate reports (RFC 9990)
 * of the evaluations cleanup recorded, gzipped and mailed to each
 * domain's rua= addresses.  Run it daily (cron or a timer).
 *
 *   tern [-c DIR] dmarc report [--output DIR]
 *
 * Steps:
 * 1. dmarc_aggregate_log is renamed to LOG.sending (cleanup's next line
 *    starts a new file; a line being written goes to the renamed one);
 *    a LOG.sending left by a run that failed is sent first, with it;
 * 2. its lines (lib/msgauth/dmarc_report.h; bad ones are counted and
 *    skipped) are grouped by policy domain, one report each;
 * 3. each report is gzipped and mailed (sendmail, from
 *    dmarc_report_sender) to the mailto: URIs of the domain's rua=, after
 *    RFC 9990's check for a destination outside the domain's
 *    organisational domain: POLICYDOMAIN._report._dmarc.DESTDOMAIN must
 *    have a v=DMARC1 TXT record, else that address is skipped (said so);
 *    with --output the reports are written to DIR as
 *    RECEIVER!DOMAIN!BEGIN!END.xml.gz instead, and nothing is mailed;
 * 4. the .sending file is removed when every report went out; else it
 *    stays (the next run sends it again) and the exit status is 75.
 * Exit 0, 1 for bad usage or a file that cannot be read.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "gzip.h"
#include "msgauth/dmarc.h"
#include "msgauth/dmarc_report.h"
#include "report_mail.h"
#include "tern.h"
#include "util.h"

struct dr_ctx {
	const char *output; /* --output DIR, or NULL: mail */
	const char *org_name, *sender, *receiver;
	int failed; /* reports that could not be sent */
	int sent;   /* reports sent or written */
};

/* The organisational domain of name by a blocking tree walk. */
static char *dr_org(const char *name)
{
	struct dmarc_walk w;
	char *org;

	dmarc_walk_init(
	    &w, name, str_case_eq(config_str("dmarc_organizational_domain"), "public_suffix_list"));
	while (w.next) {
		struct buf why = BUF_INIT, q = BUF_INIT;
		unsigned char *ans = NULL;
		int len = 0;
		char **txt = NULL;
		size_t n = 0;
		enum dns_status st;

		buf_printf(&q, "_dmarc.%s", w.next);
		st = dns_query(buf_cstr(&q), ns_t_txt, &ans, &len, &why);
		if (st == DNS_OK)
			st = dns_txt_from_answer(ans, len, &txt, &n);
		dmarc_walk_answer(&w, st, txt, n);
		strv_free(txt);
		free(ans);
		buf_free(&why);
		buf_free(&q);
	}
	org = xstrdup(w.org);
	dmarc_walk_free(&w);
	return org;
}

/*
 * RFC 9990's "Verifying External Destinations" (as RFC 7489 7.1): may
 * reports about domain go to an address at dest?  Yes when both have the
 * same organisational domain; else only when DOMAIN._report._dmarc.DEST
 * has a TXT record beginning v=DMARC1.
 */
static bool dr_destination_ok(const char *domain, const char *dest)
{
	char *od = dr_org(domain), *oa = dr_org(dest), *name;
	struct buf why = BUF_INIT;
	unsigned char *ans = NULL;
	int len = 0;
	char **txt = NULL;
	size_t n = 0;
	bool ok = strcasecmp(od, oa) == 0;

	if (!ok) {
		name = xasprintf("%s._report._dmarc.%s", domain, dest);
		if (dns_query(name, ns_t_txt, &ans, &len, &why) == DNS_OK &&
		    dns_txt_from_answer(ans, len, &txt, &n) == DNS_OK)
			for (size_t i = 0; i < n; i++)
				ok |= strncmp(txt[i], "v=DMARC1", 8) == 0;
		free(name);
	}
	strv_free(txt);
	free(ans);
	free(od);
	free(oa);
	buf_free(&why);
	return ok;
}

/* The message carrying one report: text part and the gzip as attachment. */
static void dr_message(const struct dr_ctx *c, const char *to, const char *domain, const char *id,
    const char *file, const struct buf *gz, struct buf *msg)
{
	/* RFC 9990: the Submitter is the receiver's domain name */
	char *subject =
	    xasprintf("Report Domain: %s Submitter: %s Report-ID: <%s>", domain, c->receiver, id);
	char *text =
	    xasprintf("This is a DMARC aggregate report for %s from %s.", domain, c->org_name);
	struct report_mail m = {
	    .from = c->sender,
	    .to = to,
	    .subject = subject,
	    .type = "multipart/mixed",
	    .text = text,
	    .file_type = "application/gzip",
	    .file_name = file,
	    .file = gz,
	};

	report_mail_message(&m, msg);
	free(subject);
	free(text);
}

/* Sends (or writes) one report to each usable rua= address. */
static void dr_deliver(struct dr_ctx *c, const struct dmarc_report_row *last, const char *id,
    const char *file, const struct buf *gz)
{
	char **uris = strv_split(last->rua, ",");

	for (char **u = uris; *u; u++) {
		char *addr = str_trim(*u), *at, *bang;
		struct buf msg = BUF_INIT;

		if (!str_prefix_case(addr, "mailto:"))
			continue; /* RFC 9990 defines mailto: only */
		addr += 7;
		if ((bang = strchr(addr, '!')) != NULL)
			*bang = 0; /* RFC 7489's size limit suffix */
		if ((at = strrchr(addr, '@')) == NULL || at[1] == 0)
			continue;
		if (!dr_destination_ok(last->policy_domain, at + 1)) {
			printf("%s: not sent to <%s>: %s._report._dmarc.%s has no v=DMARC1 "
			       "record (RFC 9990)\n",
			    last->policy_domain, addr, last->policy_domain, at + 1);
			continue;
		}
		dr_message(c, addr, last->policy_domain, id, file, gz, &msg);
		if (report_mail_send("tern dmarc", c->sender, addr, &msg)) {
			printf("%s: report %s sent to <%s>\n", last->policy_domain, id, addr);
			c->sent++;
		} else {
			c->failed++;
		}
		buf_free(&msg);
	}
	strv_free(uris);
}

/* One policy domain's rows: the report, then its delivery. */
static void dr_report(struct dr_ctx *c, const struct dmarc_report_row *rows, size_t n)
{
	struct dmarc_report_meta m = {.org_name = c->org_name, .email = c->sender};
	struct buf xml = BUF_INIT, gz = BUF_INIT;
	char *id, *file;

	m.begin = m.end = rows[0].time;
	for (size_t i = 1; i < n; i++) {
		if (rows[i].time < m.begin)
			m.begin = rows[i].time;
		if (rows[i].time > m.end)
			m.end = rows[i].time;
	}
	/* The same rows give the same Report-ID and file name, so a report
	 * sent again after a failed run carries the same ones (RFC 9990). */
	id = xasprintf("%lld.%lld.%s@%s", m.begin, m.end, rows[0].policy_domain, c->receiver);
	m.report_id = id;
	file =
	    xasprintf("%s!%s!%lld!%lld.xml.gz", c->receiver, rows[0].policy_domain, m.begin, m.end);
	dmarc_report_xml(&m, rows, n, &xml);
	if (!gzip_buf(xml.data, xml.len, &gz)) {
		fprintf(stderr, "tern dmarc: gzip failed\n");
		c->failed++;
	} else if (c->output) {
		if (report_file_write("tern dmarc", c->output, file, &gz)) {
			printf("%s: report %s written to %s/%s\n", rows[0].policy_domain, id,
			    c->output, file);
			c->sent++;
		} else {
			c->failed++;
		}
	} else {
		dr_deliver(c, &rows[n - 1], id, file, &gz);
	}
	free(id);
	free(file);
	buf_free(&xml);
	buf_free(&gz);
}

static int dr_by_domain(const void *a, const void *b)
{
	const struct dmarc_report_row *x = a, *y = b;
	int d = strcasecmp(x->policy_domain, y->policy_domain);

	return d ? d : (x->time > y->time) - (x->time < y->time);
}

/* Reads path's lines; rows point into *text (free both). */
static size_t dr_read(const char *path, char **text, struct dmarc_report_row **rows, size_t *bad)
{
	size_t n = 0;
	char *line, *save = NULL;

	*rows = NULL;
	if ((*text = report_log_read(path)) == NULL)
		return 0;
	for (line = strtok_r(*text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		*rows = xreallocarray(*rows, n + 1, sizeof(**rows));
		if (dmarc_report_parse(line, &(*rows)[n]))
			n++;
		else
			(*bad)++;
	}
	return n;
}

static int dr_usage(void)
{
	fprintf(stderr, "usage: tern dmarc report [--output DIR]\n");
	return EX_USAGE;
}

static int dr_cmd_report(struct dr_ctx *c)
{
	const char *log = config_str("dmarc_aggregate_log");
	char *sending = xasprintf("%s.sending", log), *text = NULL;
	struct dmarc_report_row *rows = NULL;
	struct buf why = BUF_INIT;
	size_t n, bad = 0, start = 0;
	int rc = 0;

	rc = report_log_take("tern dmarc", log, sending);
	if (!dns_init(config_time("smtpd_dns_timeout") * 1000 / 2, &why))
		fprintf(stderr, "tern dmarc: %s\n", buf_cstr(&why));
	n = dr_read(sending, &text, &rows, &bad);
	if (bad)
		fprintf(stderr, "tern dmarc: %zu bad line(s) in %s skipped\n", bad, sending);
	if (n > 1) /* rows is NULL when there are none: qsort must not see it */
		qsort(rows, n, sizeof(*rows), dr_by_domain);
	for (size_t i = 1; i <= n; i++)
		if (i == n || strcasecmp(rows[i].policy_domain, rows[start].policy_domain) != 0) {
			dr_report(c, rows + start, i - start);
			start = i;
		}
	if (n == 0)
		printf("no DMARC evaluations to report\n");
	if (c->failed)
		rc = EX_TEMPFAIL;
	else if (rc == 0)
		unlink(sending);
	free(rows);
	free(text);
	free(sending);
	buf_free(&why);
	return rc;
}

int cmd_dmarc(const char *confdir, int argc, char **argv)
{
	struct dr_ctx c = {0};

	if (argc < 2 || strcmp(argv[1], "report") != 0)
		return dr_usage();
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--output") == 0 && i + 1 < argc)
			c.output = argv[++i];
		else
			return dr_usage();
	}
	cli_load_config(confdir);
	c.org_name = config_str("dmarc_report_org_name");
	c.sender = config_str("dmarc_report_sender");
	c.receiver = config_str("myhostname");
	return dr_cmd_report(&c);
}
