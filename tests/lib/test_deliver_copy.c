/*
 * test_deliver_copy.c - a message written with Postfix's mail_copy()
 * flags: envelope lines, '>From ' and '.' escapes (also when a line start
 * falls on a block boundary of the queue file), CRLF line ends, the
 * empty line at the end, and a queue file shorter than its offsets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "deliver_copy.h"
#include "maildate.h"
#include "util.h"

/* A "queue file": header at 0, body right after it. */
static int queue_file(const char *hdr, const char *body, struct deliver_copy *c)
{
	int fd = memfd_create("q", 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, hdr, strlen(hdr)), (ssize_t)strlen(hdr));
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	memset(c, 0, sizeof(*c));
	c->qfd = fd;
	c->header_off = 0;
	c->header_len = (off_t)strlen(hdr);
	c->body_off = c->header_len;
	c->body_len = (off_t)strlen(body);
	return fd;
}

static char *copy(const struct deliver_copy *c)
{
	int out = memfd_create("o", 0);
	uint64_t n;
	char *text;
	off_t len;

	assert_int_equal(deliver_copy_write(out, c, &n, NULL), 0);
	len = lseek(out, 0, SEEK_END);
	assert_int_equal((off_t)n, len);
	text = xcalloc(1, (size_t)len + 1);
	assert_int_equal(pread(out, text, (size_t)len, 0), len);
	close(out);
	return text;
}

static void test_plain_and_envelope(void **state)
{
	struct deliver_copy c;
	int fd = queue_file("Subject: x\n", "From here\n.dot\nend\n", &c);
	char *t;

	(void)state;
	t = copy(&c);
	assert_string_equal(t, "Subject: x\n\nFrom here\n.dot\nend\n");
	free(t);
	/* a header section from memory (Sieve editheader) */
	c.header_mem = "X-Sieve: 1\nSubject: y\n";
	c.header_mem_len = strlen(c.header_mem);
	t = copy(&c);
	assert_string_equal(t, "X-Sieve: 1\nSubject: y\n\nFrom here\n.dot\nend\n");
	free(t);
	c.header_mem = NULL;
	c.return_path = "s@x";
	c.delivered_to = "r@y";
	c.original_to = "o@y";
	c.from_escape = true;
	c.dot_stuff = true;
	t = copy(&c);
	assert_string_equal(t, "Return-Path: <s@x>\nDelivered-To: r@y\nX-Original-To: o@y\n"
			       "Subject: x\n\n>From here\n..dot\nend\n");
	free(t);
	c.from_sender = "";
	c.return_path = c.delivered_to = c.original_to = NULL;
	c.eol = "\r\n";
	c.blank_line = true;
	t = copy(&c);
	assert_true(strncmp(t, "From MAILER-DAEMON ", 19) == 0);
	assert_non_null(strstr(t, "\r\nSubject: x\r\n\r\n>From here\r\n..dot\r\nend\r\n\r\n"));
	assert_null(strstr(strstr(t, "\r\n") + 2, "\n\n"));
	free(t);
	close(fd);
}

/* "From " and "Frog" split over lines, a body without a final LF. */
static void test_partial_matches(void **state)
{
	struct deliver_copy c;
	int fd = queue_file("H: 1\n", "Fro\nFrom\nFrom x\n xFrom y\nFrom ", &c);
	char *t;

	(void)state;
	c.from_escape = true;
	c.blank_line = true;
	t = copy(&c);
	assert_string_equal(t, "H: 1\n\nFro\nFrom\n>From x\n xFrom y\n>From \n\n");
	free(t);
	close(fd);
}

/* Line starts on the 128 KiB block boundaries of the reader. */
static void test_block_boundaries(void **state)
{
	size_t n = 300 * 1024, dots = 0;
	char *body = xmalloc(n + 1), *t;
	struct deliver_copy c;
	int fd;

	(void)state;
	for (size_t i = 0; i < n; i++)
		body[i] = i % 7 == 6 ? '\n' : (i % 7 == 0 ? '.' : 'a');
	body[n] = 0;
	for (size_t i = 0; i < n; i++)
		dots += body[i] == '.';
	fd = queue_file("H: 1\n", body, &c);
	c.dot_stuff = true;
	t = copy(&c);
	assert_int_equal(strlen(t), strlen("H: 1\n\n") + n + dots);
	assert_null(strstr(t, "\n.a"));
	free(t);
	free(body);
	close(fd);
}

static void test_short_queue_file(void **state)
{
	struct deliver_copy c;
	int fd = queue_file("H: 1\n", "body\n", &c), out = memfd_create("o", 0);
	uint64_t n;

	(void)state;
	c.body_len += 100;
	assert_int_equal(deliver_copy_write(out, &c, &n, NULL), -1);
	assert_int_equal(errno, EIO);
	close(out);
	close(fd);
}

static void test_ctime_date(void **state)
{
	char out[32];
	struct tm tm = {.tm_year = 126,
	    .tm_mon = 10,
	    .tm_mday = 2,
	    .tm_wday = 1,
	    .tm_hour = 9,
	    .tm_min = 5,
	    .tm_sec = 1};

	(void)state;
	maildate_ctime(out, &tm);
	assert_string_equal(out, "Mon Nov  2 09:05:01 2026");
}

/* The virtual size counts each bare LF as CRLF; CRLF line ends count once. */
static void test_vsize(void **state)
{
	struct deliver_copy c;
	int fd = queue_file("H: 1\n", "a\r\nb\n", &c), out = memfd_create("o", 0);
	uint64_t n, v;

	(void)state;
	c.return_path = "s@x";
	assert_int_equal(deliver_copy_write(out, &c, &n, &v), 0);
	/* "Return-Path: <s@x>\n" 19, "H: 1\n" 5, "\n" 1, "a\r\n" 3, "b\n" 2 */
	assert_int_equal(n, 30);
	assert_int_equal(v, 30 + 4);
	close(out);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_and_envelope),
	    cmocka_unit_test(test_partial_matches),
	    cmocka_unit_test(test_block_boundaries),
	    cmocka_unit_test(test_short_queue_file),
	    cmocka_unit_test(test_ctime_date),
	    cmocka_unit_test(test_vsize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
