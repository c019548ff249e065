/*
 * test_plan.c - grouping recipients by transport, with the recipient limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../../qmgr/qmgr.h"

static void assert_batch(const struct plan_batch *b, const char *tp, const size_t *idx, size_t n)
{
	size_t i;

	assert_string_equal(b->transport, tp);
	assert_int_equal(b->n, n);
	for (i = 0; i < n; i++)
		assert_int_equal(b->rcpt[i], idx[i]);
}

static void test_group_by_transport(void **state)
{
	const char *tp[] = {"local", "smtp", "local", "relay", "smtp", "local"};
	bool want[] = {true, true, true, true, true, true};
	struct plan_batch *b;
	size_t nb;

	(void)state;
	nb = plan_make(tp, want, 6, 0, &b);
	assert_int_equal(nb, 3);
	assert_batch(&b[0], "local", (size_t[]){0, 2, 5}, 3);
	assert_batch(&b[1], "smtp", (size_t[]){1, 4}, 2);
	assert_batch(&b[2], "relay", (size_t[]){3}, 1);
	plan_free(b, nb);
}

static void test_skips_unwanted(void **state)
{
	const char *tp[] = {NULL, "smtp", "local", NULL, "smtp"};
	bool want[] = {false, true, false, false, true};
	struct plan_batch *b;
	size_t nb;

	(void)state;
	nb = plan_make(tp, want, 5, 0, &b);
	assert_int_equal(nb, 1);
	assert_batch(&b[0], "smtp", (size_t[]){1, 4}, 2);
	plan_free(b, nb);
}

static void test_nothing_wanted(void **state)
{
	const char *tp[] = {"local"};
	bool want[] = {false};
	struct plan_batch *b;
	size_t nb;

	(void)state;
	nb = plan_make(tp, want, 1, 10, &b);
	assert_int_equal(nb, 0);
	plan_free(b, nb);
	nb = plan_make(tp, want, 0, 10, &b);
	assert_int_equal(nb, 0);
	plan_free(b, nb);
}

static void test_recipient_limit(void **state)
{
	const char *tp[] = {"local", "local", "smtp", "local", "local", "local", "smtp"};
	bool want[] = {true, true, true, true, true, true, true};
	struct plan_batch *b;
	size_t nb;

	(void)state;
	nb = plan_make(tp, want, 7, 2, &b);
	assert_int_equal(nb, 4);
	assert_batch(&b[0], "local", (size_t[]){0, 1}, 2);
	assert_batch(&b[1], "local", (size_t[]){3, 4}, 2);
	assert_batch(&b[2], "local", (size_t[]){5}, 1);
	assert_batch(&b[3], "smtp", (size_t[]){2, 6}, 2);
	plan_free(b, nb);
	nb = plan_make(tp, want, 7, 1, &b);
	assert_int_equal(nb, 7);
	plan_free(b, nb);
}

/* Many recipients alternating between transports: every recipient lands
 * in exactly one batch of its own transport, none over the limit. */
static void test_large_alternating(void **state)
{
	enum { N = 10001, LIMIT = 50 };
	const char *names[] = {"local", "smtp", "relay"};
	const char **tp = calloc(N, sizeof(*tp));
	bool *want = calloc(N, sizeof(*want)), *seen = calloc(N, sizeof(*seen));
	struct plan_batch *b;
	size_t i, j, nb, total = 0;

	(void)state;
	for (i = 0; i < N; i++) {
		tp[i] = names[i % 3];
		want[i] = i % 7 != 0;
	}
	nb = plan_make(tp, want, N, LIMIT, &b);
	for (i = 0; i < nb; i++) {
		assert_true(b[i].n >= 1 && b[i].n <= LIMIT);
		for (j = 0; j < b[i].n; j++) {
			size_t k = b[i].rcpt[j];

			assert_true(want[k]);
			assert_false(seen[k]);
			assert_string_equal(tp[k], b[i].transport);
			if (j > 0)
				assert_true(b[i].rcpt[j - 1] < k);
			seen[k] = true;
			total++;
		}
	}
	for (i = 0; i < N; i++)
		assert_int_equal(seen[i], want[i]);
	assert_int_equal(total, N - (N + 6) / 7);
	plan_free(b, nb);
	free(tp);
	free(want);
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_by_transport),
	    cmocka_unit_test(test_skips_unwanted),
	    cmocka_unit_test(test_nothing_wanted),
	    cmocka_unit_test(test_recipient_limit),
	    cmocka_unit_test(test_large_alternating),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
