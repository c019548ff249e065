/*
 * test_schedule.c - the retry-time heap and the back-off rules of qmgr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../qmgr/qmgr.h"

static void test_backoff_young_message(void **state)
{
	(void)state;
	/* 10 s old: the minimum applies. */
	assert_int_equal(qmgr_backoff_next(1000, 990, 300, 4000), 1300);
	/* Arrival in the future (clock step): still the minimum. */
	assert_int_equal(qmgr_backoff_next(1000, 5000, 300, 4000), 1300);
}

static void test_backoff_grows_with_age(void **state)
{
	(void)state;
	assert_int_equal(qmgr_backoff_next(10000, 9000, 300, 4000), 11000);
	assert_int_equal(qmgr_backoff_next(10000, 7000, 300, 4000), 13000);
}

static void test_backoff_capped(void **state)
{
	(void)state;
	assert_int_equal(qmgr_backoff_next(100000, 0, 300, 4000), 104000);
	/* max below min: min wins, never a zero or negative wait. */
	assert_int_equal(qmgr_backoff_next(100000, 0, 300, 100), 100300);
	assert_int_equal(qmgr_backoff_next(100000, 99999, 300, 100), 100300);
}

static void test_expired(void **state)
{
	(void)state;
	assert_false(qmgr_expired(1000, 900, 432000));
	assert_true(qmgr_expired(432900, 900, 432000));
	assert_true(qmgr_expired(433000, 900, 432000));
	assert_false(qmgr_expired(432899, 900, 432000));
	/* lifetime 0: one attempt, then give up */
	assert_true(qmgr_expired(900, 900, 0));
}

static void test_dsn_final(void **state)
{
	char out[32];

	(void)state;
	qmgr_dsn_final("4.4.1", out, sizeof(out));
	assert_string_equal(out, "5.4.1");
	qmgr_dsn_final("4.3.0", out, sizeof(out));
	assert_string_equal(out, "5.3.0");
	qmgr_dsn_final("5.1.1", out, sizeof(out));
	assert_string_equal(out, "5.1.1");
	qmgr_dsn_final(NULL, out, sizeof(out));
	assert_string_equal(out, "5.4.7");
	qmgr_dsn_final("", out, sizeof(out));
	assert_string_equal(out, "5.4.7");
	qmgr_dsn_final("2.0.0", out, sizeof(out));
	assert_string_equal(out, "5.4.7");
	qmgr_dsn_final("4", out, sizeof(out));
	assert_string_equal(out, "5.4.7");
	/* too long for out: a safe default rather than a truncated code */
	qmgr_dsn_final("4.123456789012345678901234567890", out, 8);
	assert_string_equal(out, "5.4.7");
}

static void test_heap_order(void **state)
{
	struct sched_heap h;
	struct sched_item it;
	long long dues[] = {50, 10, 40, 10, 30, 20, 60, 5, 45, 25};
	long long last = -1;
	size_t i;
	char qid[QID_LEN + 1];

	(void)state;
	sched_heap_init(&h);
	assert_null(sched_heap_peek(&h));
	assert_false(sched_heap_pop(&h, &it));
	for (i = 0; i < sizeof(dues) / sizeof(dues[0]); i++) {
		snprintf(qid, sizeof(qid), "%016zu", i);
		sched_heap_push(&h, dues[i], qid);
	}
	assert_int_equal(sched_heap_peek(&h)->due, 5);
	assert_string_equal(sched_heap_peek(&h)->qid, "0000000000000007");
	for (i = 0; i < sizeof(dues) / sizeof(dues[0]); i++) {
		assert_true(sched_heap_pop(&h, &it));
		assert_true(it.due >= last);
		last = it.due;
	}
	assert_int_equal(last, 60);
	assert_false(sched_heap_pop(&h, &it));
	sched_heap_free(&h);
}

static void test_heap_many(void **state)
{
	struct sched_heap h;
	struct sched_item it;
	long long last = -1;
	size_t i, n = 5000;

	(void)state;
	sched_heap_init(&h);
	srand(7);
	for (i = 0; i < n; i++)
		sched_heap_push(&h, rand() % 1000, "0123456789ABCDEF");
	for (i = 0; i < n; i++) {
		assert_true(sched_heap_pop(&h, &it));
		assert_true(it.due >= last);
		assert_string_equal(it.qid, "0123456789ABCDEF");
		last = it.due;
	}
	assert_int_equal(h.n, 0);
	sched_heap_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff_young_message),
	    cmocka_unit_test(test_backoff_grows_with_age),
	    cmocka_unit_test(test_backoff_capped),
	    cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_dsn_final),
	    cmocka_unit_test(test_heap_order),
	    cmocka_unit_test(test_heap_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
