/*
 * test_dsn.c - delivery status notifications: layout, fields, safety.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "dsn.h"

static const char HDR[] = "Subject: hello\nFrom: a@example.org\n";
static const char BODY[] = "line one\nline two\n";

static void report_init(struct dsn_report *r, const struct dsn_rcpt *rc, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->kind = DSN_FAILURE;
	r->hostname = "mx.example.net";
	r->to = "a@example.org";
	r->qid = "ABCDEF";
	r->sender = "a@example.org";
	r->arrival_usec = 1700000000000000LL;
	r->now_usec = 1700000100000000LL;
	r->rcpts = rc;
	r->nrcpt = n;
	r->header = HDR;
	r->header_len = strlen(HDR);
	r->body = BODY;
	r->body_len = strlen(BODY);
}

static void test_failure_layout(void **state)
{
	struct dsn_rcpt rc[2] = {
	    {"x@remote.example", "rfc822;X@remote.example", "5.1.1", "550 5.1.1 no such user",
		false},
	    {"y@remote.example", NULL, "5.4.7", "message expired", false},
	};
	struct dsn_report r;
	struct buf out = BUF_INIT;
	const char *s;

	(void)state;
	report_init(&r, rc, 2);
	r.envid = "env-1";
	dsn_compose(&r, &out);
	s = buf_cstr(&out);
	assert_non_null(strstr(s, "Content-Type: multipart/report; report-type=delivery-status;"));
	assert_non_null(strstr(s, "To: <a@example.org>\n"));
	assert_non_null(strstr(s, "Reporting-MTA: dns; mx.example.net\n"));
	assert_non_null(strstr(s, "Original-Envelope-Id: env-1\n"));
	assert_non_null(
	    strstr(s, "Final-Recipient: rfc822; x@remote.example\n"
		      "Original-Recipient: rfc822;X@remote.example\nAction: failed\nStatus: 5.1.1\n"
		      "Diagnostic-Code: smtp; 550 5.1.1 no such user\n"));
	assert_non_null(
	    strstr(s, "Final-Recipient: rfc822; y@remote.example\n"
		      "Action: failed\nStatus: 5.4.7\nDiagnostic-Code: X-tern; message expired\n"));
	assert_non_null(strstr(s, "Content-Type: message/rfc822\n"));
	assert_non_null(strstr(s, "line one\nline two\n"));
	assert_null(strstr(s, "\r"));
	buf_free(&out);
}

static void test_headers_only_and_kinds(void **state)
{
	struct dsn_rcpt rc = {"x@remote.example", "x@remote.example", "4.4.1", "", false};
	struct dsn_report r;
	struct buf out = BUF_INIT;

	(void)state;
	report_init(&r, &rc, 1);
	r.kind = DSN_DELAY;
	r.body = NULL;
	dsn_compose(&r, &out);
	assert_non_null(strstr(buf_cstr(&out), "Action: delayed\n"));
	assert_non_null(strstr(buf_cstr(&out), "Original-Recipient: rfc822; x@remote.example\n"));
	assert_non_null(strstr(buf_cstr(&out), "Content-Type: text/rfc822-headers\n"));
	assert_null(strstr(buf_cstr(&out), "line one"));
	assert_null(strstr(buf_cstr(&out), "Diagnostic-Code"));
	buf_reset(&out);
	r.kind = DSN_SUCCESS;
	dsn_compose(&r, &out);
	assert_non_null(strstr(buf_cstr(&out), "Action: delivered\n"));
	/* pipe(8) without flag X hands the message on: "relayed". */
	buf_reset(&out);
	rc.relayed = true;
	dsn_compose(&r, &out);
	assert_non_null(strstr(buf_cstr(&out), "Action: relayed\n"));
	buf_free(&out);
}

/* A reply with CR LF must not add a header line; a body line equal to the
 * natural boundary must not end the part. */
static void test_injection(void **state)
{
	struct dsn_rcpt rc = {"x@remote.example\nBcc: evil@example", NULL, "5.0.0",
	    "550 bad\r\nX-Injected: yes", false};
	struct dsn_report r;
	struct buf out = BUF_INIT;
	char body[256];

	(void)state;
	report_init(&r, &rc, 1);
	snprintf(body, sizeof(body), "--ABCDEF.1700000100.0/mx.example.net--\n");
	r.body = body;
	r.body_len = strlen(body);
	dsn_compose(&r, &out);
	assert_null(strstr(buf_cstr(&out), "\nBcc:"));
	assert_null(strstr(buf_cstr(&out), "\nX-Injected"));
	assert_non_null(strstr(buf_cstr(&out), "boundary=\"ABCDEF.1700000100.1/mx.example.net\""));
	buf_free(&out);
}

static void test_notify_ret(void **state)
{
	(void)state;
	assert_int_equal(dsn_notify_parse(NULL), DSN_NOTIFY_DEFAULT);
	assert_int_equal(dsn_notify_parse(""), DSN_NOTIFY_DEFAULT);
	assert_int_equal(dsn_notify_parse("NEVER"), DSN_NOTIFY_NEVER);
	assert_int_equal(dsn_notify_parse("success,Delay"), DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY);
	assert_int_equal(dsn_notify_parse("FAILURE"), DSN_NOTIFY_FAILURE);
	assert_int_equal(dsn_notify_parse("bogus"), DSN_NOTIFY_DEFAULT);
	assert_true(dsn_ret_hdrs("hdrs"));
	assert_false(dsn_ret_hdrs("FULL"));
	assert_false(dsn_ret_hdrs(NULL));
}

static void test_log_line(void **state)
{
	struct dsn_log l = {"x@remote.example", "rfc822;Alias+x@remote.example",
	    "smtp[192.0.2.1]:25", "2.0.0", "sent", "250 ok\r\nforged", 1000000, 1500000, 1530000,
	    1600000, 13600000};
	struct buf out = BUF_INIT;

	(void)state;
	dsn_log_format(&out, &l);
	assert_string_equal(buf_cstr(&out),
	    "to=<x@remote.example>, "
	    "orig_to=<Alias+x@remote.example>, relay=smtp[192.0.2.1]:25, delay=13, "
	    "delays=0.50/0.03/0.07/12, dsn=2.0.0, status=sent (250 ok??forged)");
	buf_reset(&out);
	/* An ORCPT naming the recipient itself is not logged. */
	l.orcpt = "rfc822;X@Remote.Example";
	l.activated = l.request = l.connected = 0;
	l.done = 3500000;
	dsn_log_format(&out, &l);
	assert_string_equal(buf_cstr(&out),
	    "to=<x@remote.example>, relay=smtp[192.0.2.1]:25, "
	    "delay=2.5, delays=0/0/0/2.5, dsn=2.0.0, status=sent (250 ok??forged)");
	buf_free(&out);
}

/* The queue keeps ORCPT decoded ("type;address"): shown as it is. */
static void test_orig_to(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_false(dsn_log_orig_to("a@x", NULL, &out));
	assert_false(dsn_log_orig_to("a@x", "", &out));
	assert_false(dsn_log_orig_to("a@x", "rfc822;", &out));
	assert_false(dsn_log_orig_to("a@x", "RFC822;A@X", &out));
	assert_false(dsn_log_orig_to("a+b@x", "rfc822;a+b@x", &out));
	assert_int_equal(out.len, 0);
	assert_true(dsn_log_orig_to("a@x", "rfc822;list=me@y", &out));
	assert_string_equal(buf_cstr(&out), "list=me@y");
	buf_reset(&out);
	/* Decoded once, by smtpd: "+41" here is three characters, not "A". */
	assert_true(dsn_log_orig_to("a@x", "rfc822;b+41@y", &out));
	assert_string_equal(buf_cstr(&out), "b+41@y");
	buf_reset(&out);
	/* A bare address (from a local submission) and another type: as is. */
	assert_true(dsn_log_orig_to("a@x", "alias@y", &out));
	assert_string_equal(buf_cstr(&out), "alias@y");
	buf_reset(&out);
	assert_true(dsn_log_orig_to("a@x", "utf-8;b+2Bc@y", &out));
	assert_string_equal(buf_cstr(&out), "b+2Bc@y");
	buf_reset(&out);
	/* A ';' inside a bare address is no type. */
	assert_true(dsn_log_orig_to("a@x", "\"b;c\"@y", &out));
	assert_string_equal(buf_cstr(&out), "\"b;c\"@y");
	buf_free(&out);
}

static void test_code_len(void **state)
{
	(void)state;
	assert_int_equal(dsn_code_len("5.7.1 text"), 5);
	assert_int_equal(dsn_code_len("4.3.5"), 5);
	assert_int_equal(dsn_code_len("4.3.5\nnext line"), 5);
	assert_int_equal(dsn_code_len("2.123.456 ok"), 9);
	assert_int_equal(dsn_code_len("5.7.1text"), 0);
	assert_int_equal(dsn_code_len("3.1.1 x"), 0);
	assert_int_equal(dsn_code_len("5.1234.1 x"), 0);
	assert_int_equal(dsn_code_len("5..1 x"), 0);
	assert_int_equal(dsn_code_len("5.7 x"), 0);
	assert_int_equal(dsn_code_len("550 5.7.1 x"), 0);
	assert_int_equal(dsn_code_len(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_failure_layout),
	    cmocka_unit_test(test_headers_only_and_kinds),
	    cmocka_unit_test(test_injection),
	    cmocka_unit_test(test_notify_ret),
	    cmocka_unit_test(test_log_line),
	    cmocka_unit_test(test_orig_to),
	    cmocka_unit_test(test_code_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
