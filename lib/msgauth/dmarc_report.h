/*
 * dmarc_report.h - DMARC aggregate reports (RFC 9990): the evaluations
 * cleanup records, one line each in an append-only file, and the XML
 * report made of them (RFC 9990's format, namespace
 * urn:ietf:params:xml:ns:dmarc-2.0, valid against its schema).
 *
 *   dmarc_report_line    one evaluation -> one line (cleanup appends it)
 *   dmarc_report_parse   one line -> a row (tern dmarc report reads them)
 *   dmarc_report_xml     the rows of one policy domain -> the report
 *
 * A line is tab-separated, "2" (the format's version) first; every value
 * is made printable ASCII without blanks (anything else becomes '?'), so
 * a hostile From: or d= cannot add fields or lines.  The parser is pure
 * (unit tested and fuzzed): the file is written by cleanup, but what it
 * holds came from the network.
 *
 * Not here: the look-ups of RFC 9990's "Verifying External Destinations",
 * gzip and mailing (cli/dmarc.c).
 */
#ifndef TERN_MSGAUTH_DMARC_REPORT_H
#define TERN_MSGAUTH_DMARC_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "msgauth/dmarc.h"

#define DMARC_REPORT_DKIM_MAX 8 /* DKIM results kept per message */

struct dmarc_report_dkim {
	const char *domain, *selector, *result;
};

/*
 * One evaluation (cleanup's), or one parsed row (pointers into the line).
 * "" is "not known" where a line of version 1 (before RFC 9990) lacks the
 * value; such lines are still read, so an upgrade loses no evaluation.
 */
struct dmarc_report_row {
	long long time; /* seconds since the epoch */
	const char *policy_domain;
	const char *rua;
	const char *p, *sp, *np; /* policy names; sp, np "" when unset */
	const char *testing;	 /* t=: "y", "n" */
	const char *discovery;	 /* "treewalk" (RFC 9989), "psl" (RFC 7489) */
	bool adkim_strict, aspf_strict;
	const char *source_ip;
	const char *header_from;
	/* the MAIL FROM domain SPF checked; "<>" for the null reverse-path
	 * (SPF checked postmaster@HELO), "" when SPF was not checked */
	const char *envelope_from;
	/* none, pass (DMARC passed, the policy not none), quarantine, reject */
	const char *disposition;
	bool dkim_pass, spf_pass;	     /* aligned passes (policy_evaluated) */
	const char *spf_domain, *spf_result; /* "" when SPF was not checked */
	struct dmarc_report_dkim dkim[DMARC_REPORT_DKIM_MAX];
	size_t ndkim;
	/* why a failing message did not get the policy: "" (it did),
	 * "policy_test_mode" (t=y), "sampled_out" (pct=), "trusted_forwarder"
	 * (arc_override names the sealer) */
	const char *reason;
	/* the trusted ARC sealer whose pass overrode the policy
	 * (dmarc_arc_trusted_sealers), or "" */
	const char *arc_override;
};

/* Appends the row as one line (with its '\n') to out. */
void dmarc_report_line(const struct dmarc_report_row *r, struct buf *out);

/* Parses line (its '\n' removed; modified in place: the row points into
 * it).  False when it is not a version-2 (or 1) line with every field
 * valid: the words the schema allows, a policy domain that is a host
 * name (it goes into the report's file name). */
bool dmarc_report_parse(char *line, struct dmarc_report_row *r);

struct dmarc_report_meta {
	const char *org_name, *email, *report_id;
	long long begin, end;
};

/* The aggregate report (RFC 9990's XML, its appendix A schema) of rows[0..n), n >= 1,
 * all of one policy domain: the policy published as the last row saw it
 * (sp= and np= with their defaults), one record per distinct (source,
 * identifiers, results) with its count. */
void dmarc_report_xml(const struct dmarc_report_meta *m, const struct dmarc_report_row *rows,
    size_t n, struct buf *xml);

#endif
