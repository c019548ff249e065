/*
 * test_header.c - cleanup's header splitter, header values, Received: and
 * dates.
 *
 * Every splitter case is checked three ways: all bytes at once, split in
 * two at every possible point, and one byte at a time, so the incremental
 * scan cannot depend on where the network happened to cut the data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../cleanup/header.h"
#include "buf.h"

/* Runs the splitter over data fed as [0..cut) then [0..len). */
static void split_two(const char *data, size_t len, size_t cut, size_t limit, struct hdr_split *s)
{
	hdr_split_init(s, limit);
	if (!hdr_split_scan(s, data, cut))
		if (!hdr_split_scan(s, data, len))
			hdr_split_finish(s, data, len);
}

static void split_bytewise(const char *data, size_t len, size_t limit, struct hdr_split *s)
{
	hdr_split_init(s, limit);
	for (size_t i = 0; i <= len; i++)
		if (hdr_split_scan(s, data, i))
			return;
	hdr_split_finish(s, data, len);
}

/* Checks the expected split for every way of feeding data. */
static void check_split(const char *data, size_t limit, size_t header_len, size_t body_off)
{
	size_t len = strlen(data);
	struct hdr_split s;

	for (size_t cut = 0; cut <= len; cut++) {
		split_two(data, len, cut, limit, &s);
		assert_true(s.done);
		assert_int_equal(s.header_len, header_len);
		assert_int_equal(s.body_off, body_off);
	}
	split_bytewise(data, len, limit, &s);
	assert_int_equal(s.header_len, header_len);
	assert_int_equal(s.body_off, body_off);
}

static void test_split_blank_line(void **state)
{
	const char *m = "From: a@b\nTo: c@d\nSubject: hi\n\nbody\nFrom: x\n";

	(void)state;
	check_split(m, 1000, 30, 31);
}

static void test_split_continuation(void **state)
{
	const char *m = "Subject: a\n\tlong\n  one\nX: y\n\nbody\n";

	(void)state;
	check_split(m, 1000, 28, 29);
}

static void test_split_no_separator(void **state)
{
	/* The first line that is no header starts the body, kept whole. */
	check_split("To: a\nhello world\n\nmore\n", 1000, 6, 6);
	check_split("To: a\nFrom someone Sun Nov 22\nx\n", 1000, 6, 6);
	check_split("Subject : spaced name\n", 1000, 0, 0);
	check_split(": no name\n", 1000, 0, 0);
	check_split("N\xe4me: 8bit\n", 1000, 0, 0);
	check_split("plain text body\n", 1000, 0, 0);
	(void)state;
}

static void test_split_leading_continuation(void **state)
{
	/* A continuation line with nothing to continue is body. */
	(void)state;
	check_split(" indented\nTo: a\n\n", 1000, 0, 0);
	check_split("\tx: y\n", 1000, 0, 0);
}

static void test_split_empty_message(void **state)
{
	struct hdr_split s;

	(void)state;
	hdr_split_init(&s, 100);
	assert_false(hdr_split_scan(&s, "", 0));
	hdr_split_finish(&s, "", 0);
	assert_true(s.done);
	assert_int_equal(s.header_len, 0);
	assert_int_equal(s.body_off, 0);
	check_split("\nbody only\n", 1000, 0, 1);
}

static void test_split_headers_only(void **state)
{
	(void)state;
	check_split("To: a\nSubject: b\n", 1000, 17, 17);
	/* The last header lacks its LF: still a header, caller adds one. */
	check_split("To: a\nSubject: b", 1000, 16, 16);
	check_split("To: a\n\tcont", 1000, 11, 11);
	/* An unfinished name with no colon is body text. */
	check_split("To: a\nSubject", 1000, 6, 6);
}

static void test_split_value_bytes(void **state)
{
	const char m[] = "X: a\0b\rc\n\nbody";
	struct hdr_split s;

	(void)state;
	hdr_split_init(&s, 1000);
	assert_true(hdr_split_scan(&s, m, sizeof(m) - 1));
	assert_int_equal(s.header_len, 9);
	assert_int_equal(s.body_off, 10);
}

static void test_split_limit(void **state)
{
	const char *m = "To: a\nSubject: b\n\nbody\n"; /* header section 17 bytes */

	(void)state;
	check_split(m, 17, 17, 18);
	/* One byte less: the line that crosses goes to the body, whole. */
	check_split(m, 16, 6, 6);
	check_split(m, 6, 6, 6);
	check_split(m, 5, 0, 0);
	/* A continuation that crosses splits the header it continues. */
	check_split("S: a\n b\n\nx", 7, 5, 5);
}

static void test_split_limit_without_newline(void **state)
{
	char big[300];
	struct hdr_split s;

	(void)state;
	memset(big, 'a', sizeof(big));
	memcpy(big, "To: x\nSubject: ", 15);
	/* Decided before any LF arrives: nothing unbounded is buffered. */
	hdr_split_init(&s, 100);
	assert_false(hdr_split_scan(&s, big, 100));
	assert_true(hdr_split_scan(&s, big, 101));
	assert_int_equal(s.header_len, 6);
	assert_int_equal(s.body_off, 6);
	/* Likewise an endless "name". */
	memset(big, 'a', sizeof(big));
	hdr_split_init(&s, 100);
	assert_true(hdr_split_scan(&s, big, sizeof(big)));
	assert_int_equal(s.header_len, 0);
}

static void test_split_limit_zero(void **state)
{
	(void)state;
	check_split("To: a\n\nb", 0, 0, 0);
}

static void test_value(void **state)
{
	const char *h = "From: a\nMessage-Id:  <x@y>  \nX-Message-ID: no\n";
	const char *f = "To: a\nmessage-id:\n <folded@\n\thost>\nSubject: s\n";
	struct buf v = BUF_INIT;

	(void)state;
	assert_true(hdr_value(h, strlen(h), "Message-ID", &v));
	assert_string_equal(buf_cstr(&v), "<x@y>");
	assert_true(hdr_value(f, strlen(f), "Message-ID", &v));
	assert_string_equal(buf_cstr(&v), "<folded@\thost>");
	assert_false(hdr_value(h, strlen(h), "Subject", &v));
	assert_false(hdr_value(h, strlen(h), "Message", &v));
	assert_true(hdr_value("Subject: last", 13, "subject", &v));
	assert_string_equal(buf_cstr(&v), "last");
	assert_false(hdr_value("", 0, "To", &v));
	buf_free(&v);
}

static struct received_info base_info(void)
{
	struct received_info ri = {
	    .helo = "client.example",
	    .client_name = "mail.example",
	    .client_addr = "192.0.2.1",
	    .protocol = "ESMTP",
	    .myhostname = "mx.tern.test",
	    .qid = "0123456789ABCDEF",
	    .rcpt = "user@tern.test",
	    .date = "Sun, 22 Nov 2026 09:20:01 +0000 (UTC)",
	};

	return ri;
}

static void check_received(const struct received_info *ri, const char *want)
{
	struct buf b = BUF_INIT;

	hdr_received_build(&b, ri);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

static void test_received_one_rcpt(void **state)
{
	struct received_info ri = base_info();

	(void)state;
	check_received(&ri, "Received: from client.example (mail.example [192.0.2.1])\n"
			    "\tby mx.tern.test (tern) with ESMTP id 0123456789ABCDEF\n"
			    "\tfor <user@tern.test>; Sun, 22 Nov 2026 09:20:01 +0000 (UTC)\n");
}

static void test_received_many_rcpts(void **state)
{
	struct received_info ri = base_info();

	(void)state;
	ri.rcpt = NULL;
	check_received(&ri, "Received: from client.example (mail.example [192.0.2.1])\n"
			    "\tby mx.tern.test (tern) with ESMTP id 0123456789ABCDEF;\n"
			    "\tSun, 22 Nov 2026 09:20:01 +0000 (UTC)\n");
}

static void test_received_no_helo_v6(void **state)
{
	struct received_info ri = base_info();

	(void)state;
	ri.helo = NULL;
	ri.client_name = "unknown";
	ri.client_addr = "2001:db8::1";
	ri.protocol = NULL;
	check_received(&ri, "Received: from unknown ([IPv6:2001:db8::1])\n"
			    "\tby mx.tern.test (tern) with SMTP id 0123456789ABCDEF\n"
			    "\tfor <user@tern.test>; Sun, 22 Nov 2026 09:20:01 +0000 (UTC)\n");
}

static void test_received_local(void **state)
{
	struct received_info ri = base_info();

	(void)state;
	ri.helo = ri.client_name = ri.client_addr = NULL;
	ri.uid = "1000";
	ri.protocol = "local";
	check_received(&ri,
	    "Received: by mx.tern.test (tern, from userid 1000) with local id 0123456789ABCDEF\n"
	    "\tfor <user@tern.test>; Sun, 22 Nov 2026 09:20:01 +0000 (UTC)\n");
}

static void test_received_tls(void **state)
{
	struct received_info ri = base_info();
	struct buf b = BUF_INIT;

	(void)state;
	ri.tls_proto = "TLSv1.3";
	ri.tls_cipher = "TLS_AES_256_GCM_SHA384";
	ri.tls_bits = "256/256";
	hdr_received_build(&b, &ri);
	assert_non_null(strstr(buf_cstr(&b),
	    ")\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\tby "));
	buf_free(&b);
}

static void test_received_injection(void **state)
{
	struct received_info ri = base_info();
	struct buf b = BUF_INIT;

	(void)state;
	ri.helo = "evil\nBcc: victim@x\r";
	ri.rcpt = "a\n\tb@c";
	hdr_received_build(&b, &ri);
	assert_null(strstr(buf_cstr(&b), "\nBcc"));
	assert_non_null(strstr(buf_cstr(&b), "from evil?Bcc: victim@x? (mail.example"));
	assert_non_null(strstr(buf_cstr(&b), "for <a??b@c>"));
	/* Exactly three lines. */
	assert_int_equal(b.data[b.len - 1], '\n');
	assert_int_equal((int)(strchr(strchr(strchr(b.data, '\n') + 1, '\n') + 1, '\n') - b.data),
	    (int)b.len - 1);
	buf_free(&b);
}

static void test_date(void **state)
{
	char out[HDR_DATE_SIZE];
	struct tm tm = {
	    .tm_year = 126,
	    .tm_mon = 10,
	    .tm_mday = 22,
	    .tm_wday = 0,
	    .tm_hour = 9,
	    .tm_min = 20,
	    .tm_sec = 1,
	    .tm_gmtoff = 0,
	    .tm_zone = "UTC",
	};

	(void)state;
	hdr_date_format(out, &tm);
	assert_string_equal(out, "Sun, 22 Nov 2026 09:20:01 +0000 (UTC)");
	tm.tm_gmtoff = -(5 * 3600 + 30 * 60);
	tm.tm_zone = "bad zone)";
	tm.tm_mday = 3;
	tm.tm_wday = 2;
	tm.tm_mon = 0;
	hdr_date_format(out, &tm);
	assert_string_equal(out, "Tue, 3 Jan 2026 09:20:01 -0530");
	tm.tm_gmtoff = 3600;
	tm.tm_zone = "CET";
	hdr_date_format(out, &tm);
	assert_string_equal(out, "Tue, 3 Jan 2026 09:20:01 +0100 (CET)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_blank_line),
	    cmocka_unit_test(test_split_continuation),
	    cmocka_unit_test(test_split_no_separator),
	    cmocka_unit_test(test_split_leading_continuation),
	    cmocka_unit_test(test_split_empty_message),
	    cmocka_unit_test(test_split_headers_only),
	    cmocka_unit_test(test_split_value_bytes),
	    cmocka_unit_test(test_split_limit),
	    cmocka_unit_test(test_split_limit_without_newline),
	    cmocka_unit_test(test_split_limit_zero),
	    cmocka_unit_test(test_value),
	    cmocka_unit_test(test_received_one_rcpt),
	    cmocka_unit_test(test_received_many_rcpts),
	    cmocka_unit_test(test_received_no_helo_v6),
	    cmocka_unit_test(test_received_local),
	    cmocka_unit_test(test_received_tls),
	    cmocka_unit_test(test_received_injection),
	    cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
