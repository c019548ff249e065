/*
 * test_sort.c - imap/sort.c and imap/thread.c: the RFC 5256 base subject,
 * SORT keys and orders, THREAD ORDEREDSUBJECT and REFERENCES.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imap/sort.h"
#include "buf.h"
#include "mime/part.h"
#include "util.h"

static void check_base(const char *in, const char *want, bool reply)
{
	struct buf b = BUF_INIT;

	assert_int_equal(imap_base_subject(in, &b), reply);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

static void test_base_subject(void **state)
{
	(void)state;
	check_base("Hello", "hello", false);
	check_base("Re: Hello", "hello", true);
	check_base("RE: re:  Fwd:[list] Hello  (fwd)", "hello", true);
	check_base("[list] Re: Hello", "hello", true);
	check_base("[Fwd: Hello]", "hello", true);
	check_base("[only-blob]", "[only-blob]", false);
	check_base("  lots   of\t space ", "lots of space", false);
	check_base("=?utf-8?q?Re=3A_caf=C3=A9?=", "caf\xc3\xa9", true);
	check_base("Re:", "", true);
	check_base("", "", false);
}

/* A message from a small header text. */
static void fill(
    struct imap_sort_msg *m, uint32_t seq, const char *hdr, time_t arrival, uint64_t size)
{
	struct mime_envelope *env = mime_envelope_parse(hdr, strlen(hdr));
	const char *refs = strstr(hdr, "References: ");
	char *r = NULL;

	if (refs) {
		refs += 12;
		r = xstrndup(refs, strcspn(refs, "\n"));
	}
	imap_sort_msg_fill(m, env, r, seq, seq, arrival, size);
	free(r);
	mime_envelope_free(env);
}

static void test_sort(void **state)
{
	struct imap_sort_msg m[4];
	struct imap_sort_criterion by_subject[] = {
	    {IMAP_SORT_SUBJECT, false}, {IMAP_SORT_DATE, true}};
	struct imap_sort_criterion by_from[] = {{IMAP_SORT_DISPLAYFROM, false}};
	struct imap_sort_criterion by_size[] = {{IMAP_SORT_SIZE, true}};

	(void)state;
	fill(&m[0], 1, "Subject: beta\nFrom: Zed <a@x>\nDate: 2 Jan 2000 00:00 +0000\n", 50, 10);
	fill(&m[1], 2, "Subject: Re: alpha\nFrom: b@x\nDate: 1 Jan 2000 00:00 +0000\n", 40, 30);
	fill(&m[2], 3, "Subject: ALPHA\nFrom: \"amy\" <z@x>\nDate: 3 Jan 2000 00:00 +0000\n", 30,
	    20);
	fill(&m[3], 4, "Subject: beta\nFrom: c@x\n", 20, 30); /* no Date: its arrival */
	assert_string_equal(m[1].base_subject, "alpha");
	assert_string_equal(m[2].display_from, "amy");
	assert_string_equal(m[1].display_from, "b@x");
	assert_string_equal(m[0].from, "a");
	imap_sort(m, 4, by_subject, 2);
	assert_int_equal(m[0].id, 3);
	assert_int_equal(m[1].id, 2);
	assert_int_equal(m[2].id, 1);
	assert_int_equal(m[3].id, 4);
	imap_sort(m, 4, by_from, 1);
	assert_int_equal(m[0].id, 3); /* amy */
	assert_int_equal(m[3].id, 1); /* zed */
	imap_sort(m, 4, by_size, 1);
	assert_int_equal(m[0].id, 2); /* 30, ties by arrival order */
	assert_int_equal(m[1].id, 4);
	for (int i = 0; i < 4; i++)
		imap_sort_msg_free(&m[i]);
}

static void thread_check(const char **hdrs, size_t n, enum imap_thread_alg alg, const char *want)
{
	struct imap_sort_msg *m = calloc(n, sizeof(*m));
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < n; i++)
		fill(&m[i], (uint32_t)i + 1, hdrs[i], (time_t)(1000 + i), 1);
	imap_thread(m, n, alg, &b);
	assert_string_equal(buf_cstr(&b), want);
	for (size_t i = 0; i < n; i++)
		imap_sort_msg_free(&m[i]);
	free(m);
	buf_free(&b);
}

static void test_thread(void **state)
{
	const char *msgs[] = {
	    "Message-ID: <1@x>\nSubject: root\nDate: 1 Jan 2000 00:00 +0000\n",
	    "Message-ID: <2@x>\nSubject: Re: root\nReferences: <1@x>\nDate: 2 Jan 2000 00:00 "
	    "+0000\n",
	    "Message-ID: <3@x>\nSubject: other\nDate: 3 Jan 2000 00:00 +0000\n",
	    "Message-ID: <4@x>\nSubject: Re: root\nReferences: <1@x> <2@x>\nDate: 4 Jan 2000 00:00 "
	    "+0000\n",
	    "Message-ID: <5@x>\nSubject: Re: root\nIn-Reply-To: <1@x>\nDate: 5 Jan 2000 00:00 "
	    "+0000\n",
	    /* its parent is missing: a dummy, pruned; same subject as 3 */
	    "Message-ID: <6@x>\nSubject: Re: other\nReferences: <gone@x>\nDate: 6 Jan 2000 00:00 "
	    "+0000\n",
	};
	const char *loop[] = {
	    "Message-ID: <a@x>\nSubject: s\nReferences: <b@x>\nDate: 1 Jan 2000 00:00 +0000\n",
	    "Message-ID: <b@x>\nSubject: t\nReferences: <a@x>\nDate: 2 Jan 2000 00:00 +0000\n",
	};

	(void)state;
	thread_check(msgs, 6, IMAP_THREAD_REFERENCES, "(1 (2 4)(5))(3 6)");
	thread_check(msgs, 6, IMAP_THREAD_ORDEREDSUBJECT, "(1 (2)(4)(5))(3 6)");
	thread_check(loop, 2, IMAP_THREAD_REFERENCES, "(2 1)");
	thread_check(msgs, 0, IMAP_THREAD_REFERENCES, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base_subject),
	    cmocka_unit_test(test_sort),
	    cmocka_unit_test(test_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
