/*
 * test_dmarc_report.c - unit tests for lib/msgauth/dmarc_report.c: an
 * evaluation written as a line and parsed back, hostile values made
 * harmless (no extra fields or lines), lines refused (version, field
 * count, bad words, a policy domain that is no host name), lines of
 * version 1 still read, and the XML report in RFC 9990's format (counts of
 * equal rows, escaping, the policy published from the last row with its
 * defaults, reasons, envelope_from).  The schema itself is checked by
 * test_dmarc_report.py (xmllint).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "msgauth/dmarc_report.h"
#include "util.h"

static struct dmarc_report_row row(const char *ip, const char *from)
{
	struct dmarc_report_row r = {
	    .time = 1765000000,
	    .policy_domain = "example.com",
	    .rua = "mailto:r@example.com",
	    .p = "reject",
	    .sp = "",
	    .np = "none",
	    .testing = "n",
	    .discovery = "treewalk",
	    .adkim_strict = true,
	    .source_ip = ip,
	    .header_from = from,
	    .envelope_from = "example.com",
	    .disposition = "reject",
	    .dkim_pass = false,
	    .spf_pass = true,
	    .spf_domain = "example.com",
	    .spf_result = "pass",
	    .dkim = {{"example.com", "sel", "fail"}, {"other.example", "s2", "pass"}},
	    .ndkim = 2,
	    .reason = "",
	    .arc_override = "",
	};
	return r;
}

static void test_round_trip(void **state)
{
	struct dmarc_report_row r = row("192.0.2.1", "example.com"), back;
	struct buf line = BUF_INIT;
	char *copy;

	(void)state;
	dmarc_report_line(&r, &line);
	assert_int_equal(line.data[line.len - 1], '\n');
	copy = xstrndup(line.data, line.len - 1);
	assert_true(dmarc_report_parse(copy, &back));
	assert_true(back.time == 1765000000);
	assert_string_equal(back.policy_domain, "example.com");
	assert_string_equal(back.rua, "mailto:r@example.com");
	assert_string_equal(back.sp, "");
	assert_string_equal(back.np, "none");
	assert_string_equal(back.testing, "n");
	assert_string_equal(back.discovery, "treewalk");
	assert_string_equal(back.envelope_from, "example.com");
	assert_string_equal(back.reason, "");
	assert_true(back.adkim_strict);
	assert_false(back.aspf_strict);
	assert_string_equal(back.source_ip, "192.0.2.1");
	assert_false(back.dkim_pass);
	assert_true(back.spf_pass);
	assert_int_equal(back.ndkim, 2);
	assert_string_equal(back.dkim[1].domain, "other.example");
	assert_string_equal(back.dkim[1].selector, "s2");
	assert_string_equal(back.dkim[1].result, "pass");
	free(copy);
	buf_free(&line);
}

static void test_hostile_values(void **state)
{
	struct dmarc_report_row r = row("192.0.2.1", "evil\texample.com\n1\t2"), back;
	struct buf line = BUF_INIT;
	char *copy;

	(void)state;
	r.dkim[0].selector = "a/b";
	dmarc_report_line(&r, &line);
	assert_null(memchr(line.data, '\n', line.len - 1));
	copy = xstrndup(line.data, line.len - 1);
	assert_true(dmarc_report_parse(copy, &back));
	assert_string_equal(back.header_from, "evil?example.com?1?2");
	assert_string_equal(back.dkim[0].selector, "a?b");
	free(copy);
	buf_free(&line);
}

static void bad(const char *line)
{
	struct dmarc_report_row r;
	char *copy = xstrdup(line);

	assert_false(dmarc_report_parse(copy, &r));
	free(copy);
}

static void test_bad_lines(void **state)
{
	(void)state;
	bad("");
	bad("3\t1\td\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-\t-");
	/* one field short */
	bad("2\t1\td\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-");
	bad("2\t1\td\t-\tnever\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-\t-");
	bad("2\t1\td\t-\tnone\t-\t-\tx\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-\t-");
	bad("2\t1\td\t-\tnone\t-\t-\tn\twalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-\t-");
	bad("2\t1\td\t-\tnone\t-\t-\tn\ttreewalk\tx\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-\t-");
	bad("2\t1\td\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tmaybe\tpass\t-\t-\t-");
	bad("2\t1\td\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\tbored\t-"
	    "\t-");
	bad("2\t1\td\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-"
	    "\td\tbest");
	bad("2\t1\td\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-\t-"
	    "\tno-slash");
	bad("2\t1\td\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-\t-"
	    "\ta//pass");
	bad("2\t1\td\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-\t-"
	    "\ta/s/great");
	bad("2\tx\td\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-\t-");
	bad("2\t1\td\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\t\td\tnone\tpass\tpass\t-\t-\t-");
	/* the policy domain names the report's file: a host name only */
	bad("2\t1\ta/"
	    "b\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-\t-");
	bad("2\t1\td..e\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-"
	    "\t-");
	bad("2\t1\t-\t-\tnone\t-\t-\tn\ttreewalk\tr\tr\t1.2.3.4\td\td\tnone\tpass\tpass\t-\t-\t-");
	bad("1\t1\td\t-\tnone\t-\t-\t101\tr\tr\t1.2.3.4\td\tnone\tpass\tpass\t-\t-");
	bad("1\t1\td\t-\tnone\t-\t-\t100\tr\tr\t1.2.3.4\td\tnone\tpass\tpass\t-");
}

/* A line of tern before RFC 9990 (pct=, no t=, discovery, envelope_from
 * or reason): read, the unknown values "", an arc= override its reason. */
static void test_version_1(void **state)
{
	char line[] = "1\t1765000000\texample.com\tmailto:r@example.com\treject\t-\t-\t50\ts\tr"
		      "\t192.0.2.1\texample.com\tnone\tfail\tfail\telse.example\tsoftfail"
		      "\texample.com/sel/fail\tarc=lists.example.org";
	struct dmarc_report_row r;
	struct buf again = BUF_INIT;
	char *copy;

	(void)state;
	assert_true(dmarc_report_parse(line, &r));
	assert_string_equal(r.p, "reject");
	assert_string_equal(r.testing, "");
	assert_string_equal(r.discovery, "");
	assert_string_equal(r.envelope_from, "");
	assert_true(r.adkim_strict);
	assert_string_equal(r.disposition, "none");
	assert_string_equal(r.spf_domain, "else.example");
	assert_string_equal(r.spf_result, "softfail");
	assert_int_equal(r.ndkim, 1);
	assert_string_equal(r.reason, "trusted_forwarder");
	assert_string_equal(r.arc_override, "lists.example.org");
	/* written again, it is a version-2 line saying the same */
	dmarc_report_line(&r, &again);
	assert_non_null(strstr(buf_cstr(&again), "2\t1765000000\texample.com\t"));
	assert_non_null(strstr(buf_cstr(&again), "\treject\t-\t-\t-\t-\ts\tr\t"));
	copy = xstrndup(again.data, again.len - 1);
	assert_true(dmarc_report_parse(copy, &r));
	assert_string_equal(r.reason, "trusted_forwarder");
	free(copy);
	buf_free(&again);
}

static void test_xml(void **state)
{
	struct dmarc_report_row rows[3] = {
	    row("192.0.2.1", "example.com"),
	    row("192.0.2.2", "a<b>&\"c'"),
	    row("192.0.2.1", "example.com"),
	};
	struct dmarc_report_meta m = {.org_name = "Org & Co",
	    .email = "p@x.example",
	    .report_id = "id1",
	    .begin = 1,
	    .end = 2};
	struct buf xml = BUF_INIT;
	const char *x;

	(void)state;
	rows[2].p = "quarantine";
	dmarc_report_xml(&m, rows, 3, &xml);
	x = buf_cstr(&xml);
	assert_non_null(strstr(x, "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n"
				  "  <version>1.0</version>\n"));
	assert_non_null(strstr(x, "<org_name>Org &amp; Co</org_name>"));
	assert_non_null(strstr(x, "<begin>1</begin>"));
	assert_non_null(strstr(x, "</date_range>\n    <generator>tern</generator>\n"));
	assert_non_null(
	    strstr(x, "<domain>example.com</domain>\n"
		      "    <discovery_method>treewalk</discovery_method>\n"
		      "    <p>quarantine</p>\n    <sp>quarantine</sp>\n    <np>none</np>\n"
		      "    <adkim>s</adkim>\n    <aspf>r</aspf>\n    <testing>n</testing>\n"
		      "  </policy_published>"));
	assert_null(strstr(x, "<pct>"));
	assert_null(strstr(x, "<reason>"));
	assert_non_null(strstr(x, "<header_from>example.com</header_from>\n"
				  "      <envelope_from>example.com</envelope_from>\n"));
	assert_non_null(strstr(x, "<spf>\n        <domain>example.com</domain>\n"
				  "        <scope>mfrom</scope>\n        <result>pass</result>\n"));
	assert_non_null(strstr(x, "<source_ip>192.0.2.1</source_ip>\n      <count>2</count>"));
	assert_non_null(strstr(x, "<source_ip>192.0.2.2</source_ip>\n      <count>1</count>"));
	assert_non_null(strstr(x, "<header_from>a&lt;b&gt;&amp;&quot;c&apos;</header_from>"));
	assert_non_null(strstr(x, "<selector>s2</selector>"));
	assert_null(strstr(x, "<count>3</count>"));
	buf_free(&xml);
}

/* A trusted ARC sealer's override: the line's last field, parsed back,
 * a <reason> of type trusted_forwarder in the XML, a record of its own. */
static void test_arc_override(void **state)
{
	struct dmarc_report_row rows[2] = {row("192.0.2.1", "example.com"),
	    row("192.0.2.1", "example.com")},
				back;
	struct dmarc_report_meta m = {.org_name = "o", .email = "p@x.example", .report_id = "i"};
	struct buf line = BUF_INIT, xml = BUF_INIT;
	char *copy;
	const char *x;

	(void)state;
	rows[1].disposition = "none";
	rows[1].reason = "trusted_forwarder";
	rows[1].arc_override = "lists.example.org";
	dmarc_report_line(&rows[1], &line);
	assert_non_null(
	    strstr(buf_cstr(&line), "\tother.example/s2/pass\tarc=lists.example.org\n"));
	copy = xstrndup(line.data, line.len - 1);
	assert_true(dmarc_report_parse(copy, &back));
	assert_string_equal(back.arc_override, "lists.example.org");
	assert_string_equal(back.reason, "trusted_forwarder");
	assert_int_equal(back.ndkim, 2);
	assert_string_equal(back.disposition, "none");
	free(copy);
	buf_reset(&line);
	dmarc_report_line(&rows[0], &line);
	copy = xstrndup(line.data, line.len - 1);
	assert_true(dmarc_report_parse(copy, &back));
	assert_string_equal(back.arc_override, "");
	free(copy);
	dmarc_report_xml(&m, rows, 2, &xml);
	x = buf_cstr(&xml);
	assert_non_null(strstr(x,
	    "<spf>pass</spf>\n        <reason>\n          <type>trusted_forwarder</type>\n"
	    "          <comment>arc=pass, sealed by lists.example.org (a trusted ARC "
	    "sealer)</comment>"));
	assert_null(strstr(strstr(x, "<reason>") + 1, "<reason>")); /* one record has it */
	assert_null(strstr(x, "<count>2</count>"));
	buf_free(&xml);
	buf_free(&line);
}

/* The other reasons, a DMARC pass, the null reverse-path, no SPF, and
 * the defaults of sp= and np= (np= is sp=). */
static void test_reasons_and_identifiers(void **state)
{
	struct dmarc_report_row rows[4] = {row("192.0.2.1", "example.com"),
	    row("192.0.2.2", "example.com"), row("192.0.2.3", "example.com"),
	    row("192.0.2.4", "example.com")};
	struct dmarc_report_meta m = {.org_name = "o", .email = "p@x.example", .report_id = "i"};
	struct buf xml = BUF_INIT;
	const char *x;

	(void)state;
	rows[0].disposition = "quarantine";
	rows[0].reason = "policy_test_mode";
	rows[1].disposition = "none";
	rows[1].reason = "sampled_out";
	rows[2].disposition = "pass";
	rows[2].dkim_pass = true;
	rows[2].envelope_from = "<>";
	rows[2].spf_domain = "helo.example";
	rows[3].envelope_from = "";
	rows[3].spf_domain = "";
	rows[3].spf_result = "";
	rows[3].sp = "quarantine";
	rows[3].np = "";
	rows[3].testing = "y";
	rows[3].discovery = "psl";
	dmarc_report_xml(&m, rows, 4, &xml);
	x = buf_cstr(&xml);
	assert_non_null(strstr(x, "<discovery_method>psl</discovery_method>"));
	assert_non_null(strstr(x, "<sp>quarantine</sp>\n    <np>quarantine</np>"));
	assert_non_null(strstr(x, "<testing>y</testing>"));
	assert_non_null(
	    strstr(x, "<disposition>quarantine</disposition>\n        <dkim>fail</dkim>\n"
		      "        <spf>pass</spf>\n        <reason>\n"
		      "          <type>policy_test_mode</type>\n        </reason>"));
	assert_non_null(
	    strstr(x, "<reason>\n          <type>other</type>\n"
		      "          <comment>sampled out by the record&apos;s pct=</comment>"));
	assert_non_null(strstr(x, "<disposition>pass</disposition>\n        <dkim>pass</dkim>"));
	assert_non_null(strstr(x, "<envelope_from></envelope_from>\n    </identifiers>\n"
				  "    <auth_results>\n      <dkim>\n        <domain>example.com"));
	assert_non_null(strstr(x, "<domain>helo.example</domain>\n        <scope>mfrom</scope>"));
	/* the last record: neither envelope_from nor an SPF result */
	x = strstr(x, "<source_ip>192.0.2.4</source_ip>");
	assert_non_null(x);
	assert_null(strstr(x, "<envelope_from>"));
	assert_null(strstr(x, "<spf>\n"));
	buf_free(&xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_hostile_values),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_version_1),
	    cmocka_unit_test(test_xml),
	    cmocka_unit_test(test_arc_override),
	    cmocka_unit_test(test_reasons_and_identifiers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
