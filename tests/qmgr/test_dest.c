/*
 * test_dest.c - per-destination slow start and dead marking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../qmgr/qmgr.h"
#include "config.h"

static void test_slow_start(void **state)
{
	struct qmgr_transport tp = {.name = "smtp", .dest_limit = 8, .rcpt_limit = 50};
	struct qmgr_dest *d = deliver_dest(&tp, "example.com");
	int i;

	(void)state;
	assert_ptr_equal(deliver_dest(&tp, "example.com"), d);
	dest_feedback(d, false, 5, 1000, 60, NULL);
	assert_int_equal(d->window, 6);
	for (i = 0; i < 10; i++)
		dest_feedback(d, false, 5, 1000, 60, NULL);
	assert_int_equal(d->window, 8); /* capped by the limit */
	dest_feedback(d, true, 5, 1000, 60, "no route");
	assert_int_equal(d->window, 7);
	assert_false(dest_dead(d, 1000));
	dest_feedback(d, false, 5, 1000, 60, NULL); /* a success resets */
	assert_int_equal(d->fails, 0);
	free(d->nexthop);
	free(d);
}

/* Failures in a row as many as the window is wide: dead, until the time
 * is up; then it starts again at a window of one. */
static void test_dead_and_back(void **state)
{
	struct qmgr_transport tp = {.name = "smtp", .dest_limit = 20, .rcpt_limit = 50};
	struct qmgr_dest *d = deliver_dest(&tp, "down.example");

	(void)state;
	dest_feedback(d, true, 2, 1000, 60, "connection refused"); /* 2 -> 1 */
	assert_int_equal(d->window, 1);
	assert_true(dest_dead(d, 1000));
	assert_string_equal(d->dead_reason, "connection refused");
	assert_true(dest_dead(d, 1059));
	assert_false(dest_dead(d, 1060));
	assert_int_equal(d->window, 1);
	free(d->nexthop);
	free(d->dead_reason);
	free(d);
}

static void test_transport_limits(void **state)
{
	(void)state;
	assert_int_equal(deliver_tp_limit("smtp", "concurrency", 20), 20);
	config_set("smtp_destination_concurrency_limit", "3");
	assert_int_equal(deliver_tp_limit("smtp", "concurrency", 20), 3);
	config_set("smtp_destination_recipient_limit", "$local_destination_recipient_limit");
	config_set("local_destination_recipient_limit", "7");
	assert_int_equal(deliver_tp_limit("smtp", "recipient", 50), 7);
	assert_int_equal(deliver_tp_limit("nosuch", "recipient", 50), 50);
	config_set("nosuch_destination_recipient_limit", "0");
	assert_int_equal(deliver_tp_limit("nosuch", "recipient", 50), 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slow_start),
	    cmocka_unit_test(test_dead_and_back),
	    cmocka_unit_test(test_transport_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
