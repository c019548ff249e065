/*
 * test_anvil.c - unit tests for smtpd/anvil.c: counts per client across
 * processes, slots of a dead process ignored, and a scan of a table full
 * of another process's clients asking the kernel about that process once,
 * not once per slot.
 *
 * kill() is defined here, so anvil.c's liveness checks in this process
 * come here: they are counted, then passed to the real system call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../smtpd/anvil.h"

static int kill_calls;

int kill(pid_t pid, int sig)
{
	kill_calls++;
	return (int)syscall(SYS_kill, pid, sig);
}

static char table_path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	strcpy(table_path, "/tmp/test_anvil.XXXXXX");
	fd = mkstemp(table_path);
	assert_true(fd >= 0);
	close(fd);
	anvil_init(table_path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(table_path);
	return 0;
}

static void test_count_and_disconnect(void **state)
{
	int count, rate;

	(void)state;
	assert_true(anvil_connect("192.0.2.1", 60, &count, &rate));
	assert_int_equal(count, 1);
	assert_true(anvil_connect("192.0.2.1", 60, &count, &rate));
	assert_int_equal(count, 2);
	assert_int_equal(rate, 2);
	assert_true(anvil_connect("192.0.2.2", 60, &count, &rate));
	assert_int_equal(count, 1);
	anvil_disconnect("192.0.2.1");
	anvil_disconnect("192.0.2.1");
	anvil_disconnect("192.0.2.2");
	assert_true(anvil_connect("192.0.2.1", 60, &count, &rate));
	assert_int_equal(count, 1);
	anvil_disconnect("192.0.2.1");
}

/* A child registers n clients, then waits until the pipe closes. */
static pid_t child_with_clients(int n, int *release)
{
	int ready[2], hold[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int count, rate;
		char addr[48];

		close(ready[0]);
		close(hold[1]);
		for (int i = 0; i < n; i++) {
			snprintf(addr, sizeof(addr), "2001:db8::%x", i + 1);
			if (!anvil_connect(addr, 60, &count, &rate))
				_exit(2);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		if (read(hold[0], &c, 1) < 0)
			_exit(4);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*release = hold[1];
	return pid;
}

static void reap(pid_t pid, int release)
{
	int status;

	close(release);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_other_process_counts_once_per_pid(void **state)
{
	int release, count, rate;
	pid_t pid;

	(void)state;
	pid = child_with_clients(3000, &release);
	/* One more for a client the child holds: counted together. */
	kill_calls = 0;
	assert_true(anvil_connect("2001:db8::7", 60, &count, &rate));
	assert_int_equal(count, 2);
	assert_int_equal(kill_calls, 1);
	anvil_disconnect("2001:db8::7");
	reap(pid, release);
}

static void test_dead_process_slots_ignored(void **state)
{
	int release, count, rate;
	pid_t pid;

	(void)state;
	pid = child_with_clients(10, &release);
	reap(pid, release); /* gone without disconnecting its clients */
	assert_true(anvil_connect("2001:db8::3", 60, &count, &rate));
	assert_int_equal(count, 1);
	anvil_disconnect("2001:db8::3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_count_and_disconnect),
	    cmocka_unit_test(test_other_process_counts_once_per_pid),
	    cmocka_unit_test(test_dead_process_slots_ignored),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
