/*
 * test_proc_status.c - unit tests for lib/proc_status.c, the record a
 * daemon writes to master's status pipe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proc_status.h"

static void test_round_trip(void **state)
{
	struct buf b = BUF_INIT;
	pid_t pid;
	bool busy;
	size_t used, first;

	(void)state;
	proc_status_encode(&b, 4242, true);
	first = b.len;
	proc_status_encode(&b, 7, false);
	assert_true(b.len < 2 * PROC_STATUS_MAX);
	assert_int_equal(proc_status_decode(b.data, b.len, &pid, &busy, &used), IPC_OK);
	assert_int_equal(pid, 4242);
	assert_true(busy);
	assert_int_equal(used, first);
	assert_int_equal(
	    proc_status_decode(b.data + used, b.len - used, &pid, &busy, &used), IPC_OK);
	assert_int_equal(pid, 7);
	assert_false(busy);
	/* Every prefix of a record asks for more. */
	for (size_t n = 0; n < first; n++)
		assert_int_equal(proc_status_decode(b.data, n, &pid, &busy, &used), IPC_MORE);
	buf_free(&b);
}

static void test_bad_records(void **state)
{
	static const char *const bad[] = {
	    "3:pid,1:0,5:state,4:busy,0:,",	       /* pid 0 */
	    "3:pid,2:-5,5:state,4:busy,0:,",	       /* negative */
	    "3:pid,11:99999999999,5:state,4:busy,0:,", /* too big */
	    "3:pid,2:12,5:state,4:idle,0:,",	       /* unknown state */
	    "3:pid,2:12,0:,",			       /* no state */
	    "5:state,4:busy,0:,",		       /* no pid */
	    "3:pid,2:1x,5:state,4:busy,0:,",	       /* not a number */
	    "x",				       /* not a netstring */
	    NULL,
	};
	pid_t pid;
	bool busy;
	size_t used;

	(void)state;
	for (int i = 0; bad[i]; i++)
		if (proc_status_decode(bad[i], strlen(bad[i]), &pid, &busy, &used) != IPC_ERROR)
			fail_msg("accepted: %s", bad[i]);
}

/* A record longer than PROC_STATUS_MAX is an error, not a wait for more. */
static void test_too_long(void **state)
{
	char text[400];
	pid_t pid;
	bool busy;
	size_t used;

	(void)state;
	memset(text, 'a', sizeof(text));
	memcpy(text, "3:pid,2:12,5:state,300:", 23);
	assert_int_equal(proc_status_decode(text, sizeof(text), &pid, &busy, &used), IPC_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_bad_records),
	    cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
