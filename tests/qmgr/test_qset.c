/*
 * test_qset.c - the set of queue IDs qmgr knows (no message twice).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "../../qmgr/qmgr.h"

static void test_add_get_del(void **state)
{
	struct qset s;
	struct qset_entry *e, *f;
	bool created;

	(void)state;
	qset_init(&s);
	assert_null(qset_get(&s, "0123456789ABCDEF"));
	e = qset_add(&s, "0123456789ABCDEF", &created);
	assert_true(created);
	assert_int_equal(e->state, QSET_ACTIVE);
	e->state = QSET_SCHEDULED;
	e->due = 42;
	f = qset_add(&s, "0123456789ABCDEF", &created);
	assert_false(created);
	assert_ptr_equal(e, f);
	assert_int_equal(f->due, 42);
	assert_int_equal(s.count, 1);
	qset_del(&s, "0123456789ABCDEF");
	assert_null(qset_get(&s, "0123456789ABCDEF"));
	assert_int_equal(s.count, 0);
	qset_del(&s, "0123456789ABCDEF"); /* absent: harmless */
	assert_int_equal(s.count, 0);
	qset_free(&s);
}

static void test_many_with_growth(void **state)
{
	struct qset s;
	struct qset_entry *e;
	char key[32];
	size_t i, n = 20000;

	(void)state;
	qset_init(&s);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "K%015zu", i);
		e = qset_add(&s, key, NULL);
		e->due = (long long)i;
	}
	assert_int_equal(s.count, n);
	assert_true(s.nbucket >= n);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "K%015zu", i);
		e = qset_get(&s, key);
		assert_non_null(e);
		assert_int_equal(e->due, (long long)i);
	}
	for (i = 0; i < n; i += 2) {
		snprintf(key, sizeof(key), "K%015zu", i);
		qset_del(&s, key);
	}
	assert_int_equal(s.count, n / 2);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "K%015zu", i);
		if (i % 2)
			assert_non_null(qset_get(&s, key));
		else
			assert_null(qset_get(&s, key));
	}
	qset_free(&s);
}

static void test_arbitrary_names(void **state)
{
	struct qset s;
	bool created;

	(void)state;
	qset_init(&s);
	qset_add(&s, "", &created);
	assert_true(created);
	qset_add(&s, "a name with spaces and \xff bytes", &created);
	assert_true(created);
	qset_add(&s, "a name with spaces and \xff bytes", &created);
	assert_false(created);
	assert_non_null(qset_get(&s, ""));
	assert_int_equal(s.count, 2);
	qset_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_get_del),
	    cmocka_unit_test(test_many_with_growth),
	    cmocka_unit_test(test_arbitrary_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
