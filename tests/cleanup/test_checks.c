/*
 * test_checks.c - cleanup's header and body checks: which table sees which
 * line of a MIME message, the actions' edits, and that the result does not
 * depend on how the body was cut into chunks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../cleanup/checks.h"
#include "buf.h"
#include "config.h"
#include "maps.h"

static char dir[] = "/tmp/tern-test-checks-XXXXXX";

static char *table(const char *name, const char *text)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void set_table(const char *param, const char *name, const char *text)
{
	char *path = table(name, text);
	char *spec;

	if (asprintf(&spec, "pcre:%s", path) < 0)
		abort();
	config_set(param, spec);
	free(spec);
	free(path);
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	set_table("header_checks", "h",
	    "/^Subject: primary$/ REJECT primary table\n"
	    "/^X-Drop:/ IGNORE\n"
	    "/^X-Add: (.*)/ PREPEND X-Added: $1\n");
	set_table("mime_header_checks", "m",
	    "/^X-In-Part: bad/ REJECT mime table\n"
	    "/^Content-Type: application\\/x-bad/ REJECT bad type\n");
	set_table("nested_header_checks", "n", "/^Subject: inner$/ REJECT nested table\n");
	set_table("body_checks", "b",
	    "/^body bad$/ REJECT body table\n"
	    "/^swap me$/ REPLACE swapped\n"
	    "/^drop me$/ IGNORE\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	maps_reset();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const struct checks_origin origin = {
    "QID", "s@example.org", "r@example.com", "unknown[192.0.2.1]", "ESMTP", "helo.example"};

/* Runs a message (header, then body in chunks of step bytes) through checks. */
static enum checks_verdict run(
    const char *hdr, const char *body, size_t step, struct buf *out, char **reason)
{
	struct cleanup_checks *c = checks_new(&origin);
	size_t n = strlen(body);
	enum checks_verdict v;

	buf_reset(out);
	checks_header(c, hdr, strlen(hdr), out);
	for (size_t i = 0; i < n; i += step)
		checks_body(c, body + i, n - i < step ? n - i : step, out);
	checks_body_end(c, out);
	v = checks_verdict(c);
	*reason = checks_reason(c) ? strdup(checks_reason(c)) : NULL;
	checks_free(c);
	return v;
}

/* Every chunking gives the same verdict and output. */
static void expect(const char *hdr, const char *body, enum checks_verdict want,
    const char *want_reason, const char *want_out)
{
	struct buf out = BUF_INIT, first = BUF_INIT;
	size_t steps[] = {1, 2, 3, 7, 64, 100000};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char *reason = NULL;

		assert_int_equal(run(hdr, body, steps[i], &out, &reason), want);
		if (want_reason)
			assert_string_equal(reason, want_reason);
		else
			assert_null(reason);
		if (want_out)
			assert_string_equal(buf_cstr(&out), want_out);
		if (i == 0)
			buf_puts(&first, buf_cstr(&out));
		else if (want == CHECKS_PASS)
			assert_string_equal(buf_cstr(&out), buf_cstr(&first));
		free(reason);
	}
	buf_free(&out);
	buf_free(&first);
}

static void test_primary(void **state)
{
	(void)state;
	expect("Subject: primary\n", "x\n", CHECKS_REJECT, "5.7.1 primary table", NULL);
	expect("Subject: other\nX-Drop: 1\nX-Add: v\n", "x\n", CHECKS_PASS, NULL,
	    "Subject: other\nX-Added: v\nX-Add: v\nx\n");
	/* A part's header is not header_checks' business... */
	expect("Subject: s\n", "x\nSubject: primary\n", CHECKS_PASS, NULL, NULL);
}

#define MP_HEAD "Content-Type: multipart/mixed; boundary=\"b\"\n"

static void test_mime_part_headers(void **state)
{
	(void)state;
	expect(MP_HEAD, "pre\n--b\nX-In-Part: bad\n\nbody\n--b--\n", CHECKS_REJECT,
	    "5.7.1 mime table", NULL);
	/* ...nor is a primary X-In-Part mime_header_checks'. */
	expect("X-In-Part: bad\n", "x\n", CHECKS_PASS, NULL, NULL);
	/* Content-Type in the primary header goes to mime_header_checks. */
	expect("Content-Type: application/x-bad\n", "x\n", CHECKS_REJECT, "5.7.1 bad type", NULL);
	/* After the closing boundary, a header-like line is body. */
	expect(MP_HEAD, "--b\n\nx\n--b--\nX-In-Part: bad\n", CHECKS_PASS, NULL, NULL);
	/* Nested multiparts: the outer boundary closes the inner one. */
	expect(MP_HEAD,
	    "--b\nContent-Type: multipart/alternative; boundary=c\n\n--c\n\nin c\n--b\n"
	    "X-In-Part: bad\n\nx\n--b--\n",
	    CHECKS_REJECT, "5.7.1 mime table", NULL);
}

static void test_nested(void **state)
{
	(void)state;
	expect(MP_HEAD, "--b\nContent-Type: message/rfc822\n\nSubject: inner\n\nbody\n--b--\n",
	    CHECKS_REJECT, "5.7.1 nested table", NULL);
	expect("Content-Type: message/rfc822\n", "Subject: inner\n\nbody\n", CHECKS_REJECT,
	    "5.7.1 nested table", NULL);
	expect("Subject: mime\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n",
	    "preamble\n--b1\nContent-Type: text/plain\n\nhello\n--b1\nContent-Type: "
	    "message/rfc822\n\nFrom: x@example.net\nSubject: inner\n\ninner body\n\n--b1--\n"
	    "epilogue\n",
	    CHECKS_REJECT, "5.7.1 nested table", NULL);
	/* The attached message's body is body. */
	expect("Content-Type: message/rfc822\n", "From: a\n\nSubject: inner\n", CHECKS_PASS, NULL,
	    NULL);
}

static void test_body(void **state)
{
	(void)state;
	expect("Subject: s\n", "a\nbody bad\nb\n", CHECKS_REJECT, "5.7.1 body table", NULL);
	expect("Subject: s\n", "a\nswap me\ndrop me\nb", CHECKS_PASS, NULL,
	    "Subject: s\na\nswapped\nb");
	expect(MP_HEAD, "--b\n\nbody bad\n--b--\n", CHECKS_REJECT, "5.7.1 body table", NULL);
}

static void test_long_lines_pass_unchanged(void **state)
{
	struct buf body = BUF_INIT, want = BUF_INIT;

	(void)state;
	for (int i = 0; i < 5000; i++)
		buf_putc(&body, (char)('a' + i % 26));
	buf_puts(&body, "\nend\n");
	buf_puts(&want, "S: x\n");
	buf_puts(&want, buf_cstr(&body));
	expect("S: x\n", buf_cstr(&body), CHECKS_PASS, NULL, buf_cstr(&want));
	buf_free(&body);
	buf_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_primary),
	    cmocka_unit_test(test_mime_part_headers),
	    cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_body),
	    cmocka_unit_test(test_long_lines_pass_unchanged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
