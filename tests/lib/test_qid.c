/*
 * test_qid.c - queue IDs: format, uniqueness, time order, time decoding,
 * and the strict validity check that keeps them safe as file names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qid.h"
#include "util.h"

#define NIDS 10000

static void test_time(void **state)
{
	char id[QID_LEN + 1];
	long long before, after, t;

	(void)state;
	before = now_usec();
	qid_new(id);
	after = now_usec();
	t = qid_time_usec(id);
	assert_true(t >= before);
	assert_true(t <= after + 1);
	assert_int_equal(strlen(id), QID_LEN);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void test_many(void **state)
{
	char(*ids)[QID_LEN + 1] = xcalloc(NIDS, sizeof(*ids));

	(void)state;
	for (int i = 0; i < NIDS; i++) {
		qid_new(ids[i]);
		assert_true(qid_valid(ids[i]));
	}
	/* Created in sequence: the time part never goes back (and here,
	 * within one process, it strictly increases). */
	for (int i = 1; i < NIDS; i++) {
		assert_true(memcmp(ids[i - 1], ids[i], 11) < 0);
		assert_true(qid_time_usec(ids[i - 1]) < qid_time_usec(ids[i]));
	}
	qsort(ids, NIDS, sizeof(*ids), cmp_str);
	for (int i = 1; i < NIDS; i++)
		assert_true(strcmp(ids[i - 1], ids[i]) != 0);
	free(ids);
}

static void test_valid(void **state)
{
	static const char *bad[] = {
	    "",
	    "0123456789ABCDE",
	    "0123456789ABCDEFG",
	    "0123456789ABCDEf",
	    "0123456789ABCDEW",
	    "0123456789ABCDE/",
	    "0123456789ABCDE.",
	    "../3456789ABCDEF",
	    "0123456789ABCDE ",
	    " 0123456789ABCDE",
	    "0123456789ABCDE\xc3",
	    "abcdefghijklmnop",
	    "0123456789ABCDE\n",
	    "0123456789ABCD-F",
	    "ZZZZZZZZZZZZZZZZ",
	};
	char nul[] = "0123456\0"
		     "89ABCDEF";

	(void)state;
	assert_true(qid_valid("0123456789ABCDEF"));
	assert_true(qid_valid("VVVVVVVVVVVVVVVV"));
	assert_true(qid_valid("0000000000000000"));
	assert_false(qid_valid(NULL));
	assert_false(qid_valid(nul));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(qid_valid(bad[i]));
		assert_int_equal(qid_time_usec(bad[i]), -1);
	}
}

static void test_decode(void **state)
{
	(void)state;
	assert_int_equal(qid_time_usec("0000000000000000"), 0);
	assert_int_equal(qid_time_usec("0000000001V00000"), 63);
	assert_int_equal(qid_time_usec("1000000000000000"), 1LL << 50);
	assert_int_equal(qid_time_usec("VVVVVVVVVVVVVVVV"), (1LL << 55) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
