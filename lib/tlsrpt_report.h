/*
 * tlsrpt_report.h - TLS-RPT (RFC 8460) reports the smtp client sends: the
 * outcome of each TLS session with a domain, one line each in an
 * append-only file, and the JSON report made of them.
 *
 *   tlsrpt_result_valid  is this an RFC 8460 result type (or "success")?
 *   tlsrpt_report_line   one session's outcome -> one line (smtp appends it)
 *   tlsrpt_report_parse  one line -> a row (tern tlsrpt report reads them)
 *   tlsrpt_report_json   the rows of one policy domain -> the report
 *
 * A line is tab-separated, "1" (the format's version) first; each value
 * is percent-encoded (bytes up to blank, '%', '|', '-' alone and bytes
 * from 127 become %XX), the items of a list are joined by '|', and an
 * empty value is "-": what the network said (host names, policy text)
 * cannot add fields or lines.  The parser is pure (unit tested and
 * fuzzed).  Shape and handling of the file are the DMARC aggregate log's
 * (msgauth/dmarc_report.h, report_mail.h).
 *
 * Not here: the _smtp._tls look-up (tlsrpt.h parses the record), gzip and
 * mailing (cli/tlsrpt.c, report_mail.h).
 */
#ifndef TERN_TLSRPT_REPORT_H
#define TERN_TLSRPT_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* One session's outcome (smtp's), or one parsed row (pointers into the
 * decoded line).  Lists (policy_string, mx_host) are items separated by
 * '\n'; "" is empty. */
struct tlsrpt_row {
	long long time; /* seconds since the epoch */
	const char *policy_domain;
	const char *policy_type;   /* "sts", "tlsa" or "no-policy-found" */
	const char *policy_string; /* the MTA-STS policy's lines, or the TLSA records */
	const char *mx_host;	   /* the MTA-STS policy's mx patterns */
	const char *result;	   /* "success" or an RFC 8460 4.3 result type */
	const char *sending_ip, *mx_hostname, *receiving_ip;
	const char *reason; /* failure-reason-code: a short text, or "" */
};

/* "success" or one of RFC 8460 4.3's result types. */
bool tlsrpt_result_valid(const char *result);

/* Appends the row as one line (with its '\n') to out. */
void tlsrpt_report_line(const struct tlsrpt_row *r, struct buf *out);

/* Parses line (its '\n' removed; decoded in place: the row points into
 * it).  False when it is not a version-1 line with every field valid. */
bool tlsrpt_report_parse(char *line, struct tlsrpt_row *r);

struct tlsrpt_report_meta {
	const char *org_name, *contact_info, *report_id;
	long long begin, end; /* the date-range, seconds since the epoch */
};

/* The JSON report (RFC 8460 4) of rows[0..n), all of one policy domain:
 * one policies[] entry per distinct policy (type, string, mx patterns)
 * with its success and failure counts, and failure-details per distinct
 * (result type, addresses, MX host, reason) with its count. */
void tlsrpt_report_json(
    const struct tlsrpt_report_meta *m, const struct tlsrpt_row *rows, size_t n, struct buf *json);

#endif
