/*
 * test_search.c - imap/search.c: SEARCH evaluated over messages given by
 * an accessor (flags, dates, sizes, bytes read in small pieces).
 *
 * Known difference from Dovecot: i;unicode-casemap here folds case but
 * does not decompose, so "e" does not find "é" (Dovecot's titlecase+NFD
 * form finds it); test_casemap_no_decomposition pins that down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "../../imap/search.h"
#include "cmd_util.h"
#include "mime/header.h"
#include "util.h"

struct msg {
	const char *flags; /* space separated */
	const char *text;
	size_t reads;
	int headers; /* 0: no headers callback, 1: answer, 2: refuse */
	size_t header_calls;
};

static bool msg_has_flag(void *ctx, const char *flag)
{
	struct msg *m = ctx;
	char **v = strv_split(m->flags, " ");
	bool found = false;

	for (size_t i = 0; v[i]; i++)
		found |= strcasecmp(v[i], flag) == 0;
	strv_free(v);
	return found;
}

/* Reads at most 7 bytes at a time, so matches cross chunks. */
static ssize_t msg_read(void *ctx, uint64_t off, char *buf, size_t n)
{
	struct msg *m = ctx;
	size_t len = strlen(m->text);

	m->reads++;
	if (off >= len)
		return 0;
	n = n < 7 ? n : 7;
	n = n < len - off ? n : len - off;
	memcpy(buf, m->text + off, n);
	return (ssize_t)n;
}

/* What mstore_msg_headers gives: the named fields of the top header, in
 * order. */
static int msg_headers(void *ctx, const char *const *names, size_t n, struct buf *out)
{
	struct msg *m = ctx;
	struct mime_hdr_iter it;
	struct mime_hdr_field f;

	m->header_calls++;
	if (m->headers == 2)
		return 1;
	mime_hdr_iter_init(&it, m->text, strlen(m->text));
	while (mime_hdr_iter_next(&it, &f))
		for (size_t i = 0; i < n; i++)
			if (mime_hdr_name_is(&f, names[i])) {
				buf_append(out, f.name, (size_t)(f.value + f.value_len - f.name));
				buf_putc(out, '\n');
				break;
			}
	return 0;
}

static const char body[] =
    "Date: Tue, 1 Feb 1994 23:30:00 -0500\n"
    "From: =?utf-8?q?J=C3=BCrgen?= <jurgen@example.de>\n"
    "Subject: Quarterly REPORT\n"
    "X-Tag: alpha\n"
    "Content-Type: multipart/mixed; boundary=b\n\n"
    "--b\nContent-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n\n"
    "Gr=FC=DFe aus K=F6ln, the NUMBERS are in=\nside.\n"
    "--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
    "c2VjcmV0IHBheWxvYWQ=\n--b--\n";

static bool search(
    const char *line, struct msg *m, uint32_t seq, uint32_t uid, const struct imap_seqset *saved)
{
	const struct imap_command *c = cmd_parse(line);
	struct imap_search s;
	const char *err;
	struct imap_search_env env = {10, 100, 760000000 + 86400 * 10, saved};
	struct imap_search_msg sm = {.seq = seq,
	    .uid = uid,
	    .modseq = 42,
	    .internaldate = 760000000,
	    .internal_tz = -300,
	    .size = 1234,
	    .has_flag = msg_has_flag,
	    .read = msg_read,
	    .headers = m->headers ? msg_headers : NULL,
	    .ctx = m};
	bool r;

	assert_non_null(c);
	assert_true(imap_search_parse(c->args, c->count, true, &s, &err));
	assert_true(imap_search_prepare(&s, &env, &err));
	r = imap_search_match(&s, &env, &sm);
	imap_search_free(&s);
	return r;
}

static void test_flags_numbers_dates(void **state)
{
	struct msg m = {"\\Seen \\Recent $Work", body, 0, 0, 0};

	(void)state;
	assert_true(search("a SEARCH ALL\r\n", &m, 3, 30, NULL));
	assert_true(search("a SEARCH SEEN KEYWORD $work\r\n", &m, 3, 30, NULL));
	assert_false(search("a SEARCH UNSEEN\r\n", &m, 3, 30, NULL));
	assert_false(search("a SEARCH NEW\r\n", &m, 3, 30, NULL));
	assert_false(search("a SEARCH OLD\r\n", &m, 3, 30, NULL));
	assert_true(search("a SEARCH 1:2,3\r\n", &m, 3, 30, NULL));
	assert_false(search("a SEARCH 4:*\r\n", &m, 3, 30, NULL));
	assert_true(search("a SEARCH 10:*\r\n", &m, 10, 30, NULL));
	assert_true(search("a SEARCH UID 20:30\r\n", &m, 3, 30, NULL));
	assert_true(search("a SEARCH LARGER 1000 SMALLER 2000\r\n", &m, 3, 30, NULL));
	assert_true(search("a SEARCH MODSEQ 42\r\n", &m, 3, 30, NULL));
	assert_false(search("a SEARCH MODSEQ 43\r\n", &m, 3, 30, NULL));
	/* Internal date 760000000 = 1994-01-31 07:06:40 UTC, 02:06:40 at -0500. */
	assert_true(search("a SEARCH ON 31-Jan-1994\r\n", &m, 3, 30, NULL));
	assert_true(search("a SEARCH BEFORE 1-Feb-1994 SINCE 31-Jan-1994\r\n", &m, 3, 30, NULL));
	assert_true(search("a SEARCH OLDER 864000 YOUNGER 864001\r\n", &m, 3, 30, NULL));
	assert_true(search("a SEARCH NOT OR DELETED DRAFT\r\n", &m, 3, 30, NULL));
	assert_int_equal(m.reads, 0); /* nothing needed the message */
	cmd_done();
}

/* Header keys and SENT* dates alone are answered from the headers
 * callback (the index cache) without reading the message, the same as by
 * reading it; a refusing callback falls back to reading. */
static void test_header_only(void **state)
{
	static const char *const lines[] = {"a SEARCH SENTON 1-Feb-1994\r\n",
	    "a SEARCH SENTBEFORE 1-Feb-1994\r\n", "a SEARCH FROM j\xc3\xbcrgen\r\n",
	    "a SEARCH FROM \"JURGEN@EXAMPLE\"\r\n", "a SEARCH SUBJECT report\r\n",
	    "a SEARCH SUBJECT numbers\r\n", "a SEARCH HEADER X-Tag \"\"\r\n",
	    "a SEARCH HEADER X-None \"\"\r\n", "a SEARCH OR FROM nobody SUBJECT quarterly\r\n",
	    "a SEARCH NOT HEADER x-tag beta SENTSINCE 1-Jan-1990\r\n",
	    "a SEARCH HEADER Content-Type mixed\r\n", "a SEARCH HEADER Content-Type side\r\n"};
	static const bool want[] = {
	    true, false, true, true, true, false, true, false, true, true, true, false};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++) {
		struct msg read = {"", body, 0, 0, 0}, cached = {"", body, 0, 1, 0},
			   refused = {"", body, 0, 2, 0};

		assert_int_equal(search(lines[i], &read, 1, 1, NULL), want[i]);
		assert_true(read.reads > 0);
		assert_int_equal(search(lines[i], &cached, 1, 1, NULL), want[i]);
		assert_int_equal(cached.reads, 0);
		assert_int_equal(cached.header_calls, 1);
		assert_int_equal(search(lines[i], &refused, 1, 1, NULL), want[i]);
		assert_true(refused.reads > 0);
	}
	/* a body key needs the message */
	struct msg m = {"", body, 0, 1, 0};

	assert_true(search("a SEARCH SUBJECT report BODY numbers\r\n", &m, 1, 1, NULL));
	assert_true(m.reads > 0);
	assert_int_equal(m.header_calls, 0);
	cmd_done();
}

static void test_content(void **state)
{
	struct msg m = {"", body, 0, 0, 0};

	(void)state;
	/* The Date: header's own day (in its zone) for SENT*. */
	assert_true(search("a SEARCH SENTON 1-Feb-1994\r\n", &m, 1, 1, NULL));
	assert_true(m.reads > 0);
	assert_true(search("a SEARCH FROM j\xc3\xbcrgen\r\n", &m, 1, 1, NULL));
	assert_true(search("a SEARCH FROM \"JURGEN@EXAMPLE\"\r\n", &m, 1, 1, NULL));
	assert_true(search("a SEARCH SUBJECT report\r\n", &m, 1, 1, NULL));
	assert_true(search("a SEARCH HEADER X-Tag \"\"\r\n", &m, 1, 1, NULL));
	assert_false(search("a SEARCH HEADER X-None \"\"\r\n", &m, 1, 1, NULL));
	/* Quoted-printable, ISO-8859-1 and a soft line break crossing chunks. */
	assert_true(search("a SEARCH BODY \"gr\xc3\xbc\xc3\x9f"
			   "e aus k\xc3\xb6ln\"\r\n",
	    &m, 1, 1, NULL));
	assert_true(search("a SEARCH BODY \"numbers are inside\"\r\n", &m, 1, 1, NULL));
	assert_true(search("a SEARCH CHARSET ISO-8859-1 BODY {4}\r\nK\xf6ln\r\n", &m, 1, 1, NULL));
	/* Not in the body, but in a header: TEXT finds it, BODY does not. */
	assert_false(search("a SEARCH BODY quarterly\r\n", &m, 1, 1, NULL));
	assert_true(search("a SEARCH TEXT quarterly\r\n", &m, 1, 1, NULL));
	assert_true(search("a SEARCH TEXT x-tag\r\n", &m, 1, 1, NULL));
	/* Attachments are not searched as text. */
	assert_false(search("a SEARCH BODY payload\r\n", &m, 1, 1, NULL));
	assert_true(search("a SEARCH OR BODY nothing SUBJECT quarterly\r\n", &m, 1, 1, NULL));
	assert_false(search("a SEARCH NOT SUBJECT quarterly\r\n", &m, 1, 1, NULL));
	cmd_done();
}

static void test_saved_and_charset(void **state)
{
	struct msg m = {"", body, 0, 0, 0};
	struct imap_seqset saved;
	const char *err;
	const struct imap_command *c;
	struct imap_search s;
	struct imap_search_env env = {10, 100, 0, NULL};

	(void)state;
	assert_true(imap_seqset_parse("5,30:31", false, &saved, &err));
	imap_seqset_resolve(&saved, 100);
	assert_true(search("a SEARCH $\r\n", &m, 2, 30, &saved));
	assert_false(search("a SEARCH UID $\r\n", &m, 2, 29, &saved));
	assert_false(search("a SEARCH $\r\n", &m, 2, 30, NULL));
	imap_seqset_free(&saved);
	c = cmd_parse("a SEARCH CHARSET X-NOPE BODY x\r\n");
	assert_true(imap_search_parse(c->args, c->count, false, &s, &err));
	assert_false(imap_search_prepare(&s, &env, &err));
	assert_non_null(strstr(err, "BADCHARSET"));
	imap_search_free(&s);
	cmd_done();
}

static void test_casemap_no_decomposition(void **state)
{
	struct msg m = {"", "Subject: caf\xc3\xa9\n\nx\n", 0, 0, 0};

	(void)state;
	assert_true(search("a SEARCH SUBJECT CAF\xc3\x89\r\n", &m, 1, 1, NULL));
	assert_false(search("a SEARCH SUBJECT cafe\r\n", &m, 1, 1, NULL));
	cmd_done();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flags_numbers_dates),
	    cmocka_unit_test(test_content),
	    cmocka_unit_test(test_header_only),
	    cmocka_unit_test(test_saved_and_charset),
	    cmocka_unit_test(test_casemap_no_decomposition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
