/*
 * test_dmarc_report.c - unit tests for lib/msgauth/dmarc_report.c: an
 * evaluation written as a line and parsed back, hostile values made
 * harmless (no extra fields or lines), lines refused (version, field
 * count, bad words), and the XML report (counts of equal rows, escaping,
 * the policy published from the last row).
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
	    .pct = 50,
	    .adkim_strict = true,
	    .source_ip = ip,
	    .header_from = from,
	    .disposition = "reject",
	    .dkim_pass = false,
	    .spf_pass = true,
	    .spf_domain = "example.com",
	    .spf_result = "pass",
	    .dkim = {{"example.com", "sel", "fail"}, {"other.example", "s2", "pass"}},
	    .ndkim = 2,
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
	assert_int_equal(back.pct, 50);
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
	bad("2\t1\td\t-\tnone\t-\t-\t100\tr\tr\t1.2.3.4\td\tnone\tpass\tpass\t-\t-");
	bad("1\t1\td\t-\tnone\t-\t-\t100\tr\tr\t1.2.3.4\td\tnone\tpass\tpass\t-");
	bad("1\t1\td\t-\tnever\t-\t-\t100\tr\tr\t1.2.3.4\td\tnone\tpass\tpass\t-\t-");
	bad("1\t1\td\t-\tnone\t-\t-\t101\tr\tr\t1.2.3.4\td\tnone\tpass\tpass\t-\t-");
	bad("1\t1\td\t-\tnone\t-\t-\t100\tx\tr\t1.2.3.4\td\tnone\tpass\tpass\t-\t-");
	bad("1\t1\td\t-\tnone\t-\t-\t100\tr\tr\t1.2.3.4\td\tnone\tmaybe\tpass\t-\t-");
	bad("1\t1\td\t-\tnone\t-\t-\t100\tr\tr\t1.2.3.4\td\tnone\tpass\tpass\t-\t-\tno-slash");
	bad("1\t1\td\t-\tnone\t-\t-\t100\tr\tr\t1.2.3.4\td\tnone\tpass\tpass\t-\t-\ta//pass");
	bad("1\tx\td\t-\tnone\t-\t-\t100\tr\tr\t1.2.3.4\td\tnone\tpass\tpass\t-\t-");
	bad("1\t1\td\t-\tnone\t-\t-\t100\tr\tr\t1.2.3.4\t\tnone\tpass\tpass\t-\t-");
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
	assert_non_null(strstr(x, "<org_name>Org &amp; Co</org_name>"));
	assert_non_null(strstr(x, "<begin>1</begin>"));
	assert_non_null(strstr(x, "<p>quarantine</p>"));
	assert_non_null(strstr(x, "<sp>quarantine</sp>"));
	assert_non_null(strstr(x, "<np>none</np>"));
	assert_non_null(strstr(x, "<adkim>s</adkim>"));
	assert_non_null(strstr(x, "<pct>50</pct>"));
	assert_non_null(strstr(x, "<source_ip>192.0.2.1</source_ip>\n      <count>2</count>"));
	assert_non_null(strstr(x, "<source_ip>192.0.2.2</source_ip>\n      <count>1</count>"));
	assert_non_null(strstr(x, "<header_from>a&lt;b&gt;&amp;&quot;c&apos;</header_from>"));
	assert_non_null(strstr(x, "<selector>s2</selector>"));
	assert_null(strstr(x, "<count>3</count>"));
	buf_free(&xml);
}

/* A trusted ARC sealer's override: the line's last field, parsed back,
 * a <reason> of type local_policy in the XML, a record of its own. */
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
	rows[1].arc_override = "lists.example.org";
	dmarc_report_line(&rows[1], &line);
	assert_non_null(
	    strstr(buf_cstr(&line), "\tother.example/s2/pass\tarc=lists.example.org\n"));
	copy = xstrndup(line.data, line.len - 1);
	assert_true(dmarc_report_parse(copy, &back));
	assert_string_equal(back.arc_override, "lists.example.org");
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
	assert_non_null(
	    strstr(x, "<spf>pass</spf>\n        <reason>\n          <type>local_policy</type>\n"
		      "          <comment>arc=pass sealed by lists.example.org</comment>"));
	assert_null(strstr(strstr(x, "<reason>") + 1, "<reason>")); /* one record has it */
	assert_null(strstr(x, "<count>2</count>"));
	buf_free(&xml);
	buf_free(&line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_hostile_values),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_xml),
	    cmocka_unit_test(test_arc_override),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
