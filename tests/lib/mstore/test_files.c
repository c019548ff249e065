/*
 * test_files.c - the small Dovecot files: dovecot-keywords,
 * subscriptions (version 2 as Dovecot 2.3 wrote it, version 1, tab
 * escapes, modified UTF-7), maildirsize (limits, deltas, the
 * recalculation rules).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mstore/keywords.h"
#include "mstore/quota.h"
#include "mstore/subs.h"
#include "util.h"

static void test_keywords(void **state)
{
	static const char text[] =
	    "0 $Label1\n1 Work\n2 Other\nbad line\n30 TooFar\n1 Dup\n4 Work\n"
	    "5 \n7 Seven";
	struct keywords kw = {0};
	struct buf b = BUF_INIT;
	bool added;

	(void)state;
	keywords_parse(text, strlen(text), &kw);
	assert_string_equal(kw.name[0], "$Label1");
	assert_string_equal(kw.name[1], "Work");
	assert_string_equal(kw.name[2], "Other");
	assert_null(kw.name[4]); /* "Work" again: skipped */
	assert_null(kw.name[5]);
	assert_string_equal(kw.name[7], "Seven");
	assert_int_equal(keywords_find(&kw, "Other"), 2);
	assert_int_equal(keywords_find(&kw, "other"), -1); /* case matters, as in Dovecot */
	assert_int_equal(keywords_add(&kw, "New", &added), 3);
	assert_true(added);
	assert_int_equal(keywords_add(&kw, "Work", &added), 1);
	assert_false(added);
	keywords_format(&kw, &b);
	assert_string_equal(buf_cstr(&b), "0 $Label1\n1 Work\n2 Other\n3 New\n7 Seven\n");
	for (int i = 0; i < 30; i++) {
		char name[16];

		snprintf(name, sizeof(name), "k%d", i);
		if (i < 21)
			assert_true(keywords_add(&kw, name, &added) >= 0);
		else
			assert_int_equal(keywords_add(&kw, name, &added), -1); /* 26 letters */
	}
	assert_true(keywords_name_valid("$Forwarded"));
	assert_false(keywords_name_valid("\\Seen"));
	assert_false(keywords_name_valid("a b"));
	assert_false(keywords_name_valid(""));
	assert_false(keywords_name_valid("a(b"));
	keywords_free(&kw);
	buf_free(&b);
}

static void test_subscriptions(void **state)
{
	/* as Dovecot 2.3 wrote it in our interoperability run */
	static const char v2[] = "V\t2\n\nArchive\t2026\nCaf&AOk-\n\n"
				 "Tab\001tbed\nArchive\t2026\n";
	static const char *const names[] = {
	    "INBOX", "Archive.2026", "Caf\303\251", "Tab\tbed", NULL};
	char **v = subs_parse(v2, strlen(v2));
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(strv_len(v), 3);
	assert_string_equal(v[0], "Archive.2026");
	assert_string_equal(v[1], "Caf\303\251");
	assert_string_equal(v[2], "Tab\tbed");
	strv_free(v);
	subs_format((char *const *)names, &b);
	assert_string_equal(buf_cstr(&b), "V\t2\n\nINBOX\nArchive\t2026\nCaf&AOk-\nTab&AAk-bed\n");
	v = subs_parse(b.data, b.len);
	assert_int_equal(strv_len(v), 4);
	assert_string_equal(v[3], "Tab\tbed");
	strv_free(v);
	/* version 1: plain names */
	v = subs_parse("INBOX\nA.B\n", 10);
	assert_int_equal(strv_len(v), 2);
	assert_string_equal(v[1], "A.B");
	strv_free(v);
	/* a level that is not modified UTF-7 is taken as UTF-8 */
	v = subs_parse("V\t2\n\nr\303\251sum\303\251\n", 14);
	assert_int_equal(strv_len(v), 1);
	assert_string_equal(v[0], "r\303\251sum\303\251");
	strv_free(v);
	v = subs_parse("", 0);
	assert_int_equal(strv_len(v), 0);
	strv_free(v);
	buf_free(&b);
}

static void test_maildirsize(void **state)
{
	struct mdsize q;
	struct buf b = BUF_INIT;
	uint64_t lb, lc;

	(void)state;
	assert_int_equal(mdsize_parse("1000S,10C\n500 3\n20 1\n-10 -1\n", 28, &q), MDSIZE_OK);
	assert_int_equal(q.limit_bytes, 1000);
	assert_int_equal(q.limit_count, 10);
	assert_int_equal(q.bytes, 510);
	assert_int_equal(q.count, 3);
	assert_int_equal(q.deltas, 3);
	/* unfinished last line: not counted */
	assert_int_equal(mdsize_parse("0S\n5 1\n7 1", 10, &q), MDSIZE_OK);
	assert_int_equal(q.bytes, 5);
	/* over a limit: the caller checks how much to trust it */
	assert_int_equal(mdsize_parse("100S\n500 3\n", 11, &q), MDSIZE_OVER);
	assert_int_equal(mdsize_parse("10C\n5 11\n", 9, &q), MDSIZE_OVER);
	/* broken, negative, empty or too big: recalculate */
	assert_int_equal(mdsize_parse("100S\nabc\n", 9, &q), MDSIZE_RECALC);
	assert_int_equal(mdsize_parse("100S\n-5 -1\n", 11, &q), MDSIZE_RECALC);
	assert_int_equal(mdsize_parse("100S\n", 5, &q), MDSIZE_RECALC);
	assert_int_equal(mdsize_parse("", 0, &q), MDSIZE_RECALC);
	assert_int_equal(mdsize_parse("1S\n1\0 1\n", 8, &q), MDSIZE_RECALC);
	{
		char big[MDSIZE_MAX_FILE + 10];

		memset(big, '\n', sizeof(big));
		assert_int_equal(mdsize_parse(big, sizeof(big), &q), MDSIZE_RECALC);
	}
	assert_true(mdsize_parse_limits("10S,3C", 6, &lb, &lc));
	assert_true(lb == 10 && lc == 3);
	assert_true(mdsize_parse_limits("3C", 2, &lb, &lc));
	assert_true(lb == 0 && lc == 3);
	assert_false(mdsize_parse_limits("10X", 3, &lb, &lc));
	assert_false(mdsize_parse_limits("-1S", 3, &lb, &lc));
	mdsize_format(&b, 0, 0, 12, 2);
	assert_string_equal(buf_cstr(&b), "0S\n12 2\n"); /* Dovecot writes 0S for none */
	buf_reset(&b);
	mdsize_format(&b, 1000, 10, 12, 2);
	assert_string_equal(buf_cstr(&b), "1000S,10C\n12 2\n");
	buf_reset(&b);
	mdsize_format(&b, 0, 10, 12, 2);
	assert_string_equal(buf_cstr(&b), "10C\n12 2\n");
	buf_reset(&b);
	mdsize_format_delta(&b, -4096, -1);
	assert_string_equal(buf_cstr(&b), "-4096 -1\n");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keywords),
	    cmocka_unit_test(test_subscriptions),
	    cmocka_unit_test(test_maildirsize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
