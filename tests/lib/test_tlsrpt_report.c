/*
 * test_tlsrpt_report.c - unit tests for lib/tlsrpt_report.c: a session's
 * outcome written as a line and parsed back (lists, empty values, hostile
 * bytes that must not add fields or lines), lines refused (version, field
 * count, unknown words, bad escapes), and the JSON report (policies
 * grouped, success and failure counts, failure-details with their counts
 * and fields, date-range).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tlsrpt_report.h"
#include "util.h"

static struct tlsrpt_row row(const char *result, const char *mx)
{
	struct tlsrpt_row r = {
	    .time = 1765000000,
	    .policy_domain = "example.com",
	    .policy_type = "sts",
	    .policy_string = "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 86400",
	    .mx_host = "mx1.example.com\n*.example.net",
	    .result = result,
	    .sending_ip = "192.0.2.1",
	    .mx_hostname = mx,
	    .receiving_ip = "198.51.100.7",
	    .reason = "",
	};
	return r;
}

/* Writes r and parses the line back into *back; the line is returned
 * (back points into it: free it after). */
static char *round_trip(const struct tlsrpt_row *r, struct tlsrpt_row *back)
{
	struct buf line = BUF_INIT;
	char *copy;

	tlsrpt_report_line(r, &line);
	assert_int_equal(line.data[line.len - 1], '\n');
	assert_null(memchr(line.data, '\n', line.len - 1));
	copy = xstrndup(line.data, line.len - 1);
	buf_free(&line);
	assert_true(tlsrpt_report_parse(copy, back));
	return copy;
}

static void test_round_trip(void **state)
{
	struct tlsrpt_row r = row("certificate-expired", "mx1.example.com"), back;
	char *copy;

	(void)state;
	r.reason = "certificate has expired";
	copy = round_trip(&r, &back);
	assert_true(back.time == 1765000000);
	assert_string_equal(back.policy_domain, "example.com");
	assert_string_equal(back.policy_type, "sts");
	assert_string_equal(back.policy_string, r.policy_string);
	assert_string_equal(back.mx_host, r.mx_host);
	assert_string_equal(back.result, "certificate-expired");
	assert_string_equal(back.sending_ip, "192.0.2.1");
	assert_string_equal(back.mx_hostname, "mx1.example.com");
	assert_string_equal(back.receiving_ip, "198.51.100.7");
	assert_string_equal(back.reason, "certificate has expired");
	free(copy);
}

static void test_empty_and_hostile_values(void **state)
{
	struct tlsrpt_row r = row("sts-policy-fetch-error", ""), back;
	char *copy;

	(void)state;
	r.policy_type = "no-policy-found";
	r.policy_string = "";
	r.mx_host = "-";
	r.sending_ip = "";
	r.receiving_ip = "";
	r.reason = "a\tb|c%d\r\xff";
	copy = round_trip(&r, &back);
	assert_string_equal(back.policy_string, "");
	assert_string_equal(back.mx_host, "-");
	assert_string_equal(back.mx_hostname, "");
	assert_string_equal(back.sending_ip, "");
	assert_string_equal(back.reason, "a\tb|c%d\r\xff");
	free(copy);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
	    "", "2\t1\td\tsts\t-\t-\tsuccess\t-\t-\t-\t-",
	    "1\t1\td\tsts\t-\t-\tsuccess\t-\t-\t-",	   /* 10 fields */
	    "1\t1\td\tsts\t-\t-\tsuccess\t-\t-\t-\t-\t-",  /* 12 */
	    "1\tx\td\tsts\t-\t-\tsuccess\t-\t-\t-\t-",	   /* time */
	    "1\t1\t-\tsts\t-\t-\tsuccess\t-\t-\t-\t-",	   /* no domain */
	    "1\t1\td\tdmarc\t-\t-\tsuccess\t-\t-\t-\t-",   /* type */
	    "1\t1\td\tsts\t-\t-\tbroken\t-\t-\t-\t-",	   /* result */
	    "1\t1\td\tsts\t-\t-\tsuccess\t-\t-\t-\ta%2",   /* escape */
	    "1\t1\td\tsts\t-\t-\tsuccess\t-\t-\t-\ta%00b", /* NUL */
	    "1\t1\td\tsts\t-\t-\tsuccess\t-\t-\t-\ta b",   /* blank */
	    "1\t1\td\tsts\t-\t-\tsuccess\t-\ta|b\t-\t-",   /* list where none */
	    "1\t1\td\tsts\t-\t-\tsuccess\t\t-\t-\t-",	   /* empty field */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *copy = xstrdup(bad[i]);
		struct tlsrpt_row r;

		assert_false(tlsrpt_report_parse(copy, &r));
		free(copy);
	}
	assert_true(tlsrpt_result_valid("dane-required"));
	assert_false(tlsrpt_result_valid("dane"));
}

static json_t *report(const struct tlsrpt_row *rows, size_t n)
{
	struct tlsrpt_report_meta m = {
	    .org_name = "Example Org",
	    .contact_info = "tls@example.org",
	    .report_id = "1.example.com@mx.example.org",
	    .begin = 1764979200,
	    .end = 1765065600,
	};
	struct buf json = BUF_INIT;
	json_error_t err;
	json_t *root;

	tlsrpt_report_json(&m, rows, n, &json);
	root = json_loadb(json.data, json.len, 0, &err);
	buf_free(&json);
	assert_non_null(root);
	return root;
}

static void test_json(void **state)
{
	struct tlsrpt_row rows[6];
	json_t *root, *pols, *p, *fd;

	(void)state;
	rows[0] = row("success", "mx1.example.com");
	rows[1] = row("certificate-host-mismatch", "mx2.example.com");
	rows[2] = row("success", "mx1.example.com");
	rows[3] = row("certificate-host-mismatch", "mx2.example.com");
	rows[4] = row("starttls-not-supported", "mx2.example.com");
	rows[5] = row("success", "mx1.example.com");
	rows[5].policy_type = "no-policy-found";
	rows[5].policy_string = "";
	rows[5].mx_host = "";
	root = report(rows, 6);
	assert_string_equal(
	    json_string_value(json_object_get(root, "organization-name")), "Example Org");
	assert_string_equal(
	    json_string_value(json_object_get(root, "contact-info")), "tls@example.org");
	assert_string_equal(
	    json_string_value(json_object_get(root, "report-id")), "1.example.com@mx.example.org");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(root, "date-range"), "start-datetime")),
	    "2025-12-06T00:00:00Z");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(root, "date-range"), "end-datetime")),
	    "2025-12-07T00:00:00Z");
	pols = json_object_get(root, "policies");
	assert_int_equal(json_array_size(pols), 2);

	p = json_array_get(pols, 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(p, "policy"), "policy-type")), "sts");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(p, "policy"), "policy-domain")),
	    "example.com");
	assert_int_equal(
	    json_array_size(json_object_get(json_object_get(p, "policy"), "mx-host")), 2);
	assert_int_equal(
	    json_array_size(json_object_get(json_object_get(p, "policy"), "policy-string")), 4);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(p, "summary"), "total-successful-session-count")),
	    2);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(p, "summary"), "total-failure-session-count")),
	    3);
	assert_int_equal(json_array_size(json_object_get(p, "failure-details")), 2);
	fd = json_array_get(json_object_get(p, "failure-details"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(fd, "result-type")), "certificate-host-mismatch");
	assert_int_equal(json_integer_value(json_object_get(fd, "failed-session-count")), 2);
	assert_string_equal(
	    json_string_value(json_object_get(fd, "receiving-mx-hostname")), "mx2.example.com");
	assert_string_equal(json_string_value(json_object_get(fd, "sending-mta-ip")), "192.0.2.1");
	assert_string_equal(json_string_value(json_object_get(fd, "receiving-ip")), "198.51.100.7");
	assert_null(json_object_get(fd, "failure-reason-code"));
	fd = json_array_get(json_object_get(p, "failure-details"), 1);
	assert_string_equal(
	    json_string_value(json_object_get(fd, "result-type")), "starttls-not-supported");
	assert_int_equal(json_integer_value(json_object_get(fd, "failed-session-count")), 1);

	p = json_array_get(pols, 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(p, "policy"), "policy-type")),
	    "no-policy-found");
	assert_null(json_object_get(json_object_get(p, "policy"), "policy-string"));
	assert_null(json_object_get(p, "failure-details"));
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(p, "summary"), "total-successful-session-count")),
	    1);
	json_decref(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_empty_and_hostile_values),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
