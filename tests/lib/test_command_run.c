/*
 * test_command_run.c - running delivery commands: stdin from a
 * descriptor, output captured up to the bound and made one printable
 * line, exactly the given environment, an argument vector looked up in
 * PATH, the working directory (strict or falling back to "/"), the time
 * limit killing the whole process group; and the sysexits verdicts
 * (Postfix's table, unknown codes 5.3.0, a leading enhanced status code
 * of the same class winning, signals and time-outs deferred).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command_run.h"
#include "proto.h"
#include "util.h"

static int input(const char *text)
{
	int fd = memfd_create("in", 0);

	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void run(struct command_spec *s, struct command_outcome *o)
{
	if (s->time_limit == 0)
		s->time_limit = 20;
	if (s->output_max == 0)
		s->output_max = 1024;
	assert_int_equal(command_run(s, o), 0);
}

static void test_shell_stdin_env_output(void **state)
{
	char *env[] = {"PATH=/usr/bin:/bin", "FOO=bar baz", NULL};
	struct command_spec s = {
	    .shell_command = "tr a-z A-Z; echo \"$FOO\"; env | wc -l; pwd; exit 3",
	    .env = env,
	    .cwd = "/nonexistent-dir",
	    .stdin_fd = input("hello\nworld\n"),
	};
	struct command_outcome o;

	(void)state;
	run(&s, &o);
	assert_true(WIFEXITED(o.status));
	assert_int_equal(WEXITSTATUS(o.status), 3);
	assert_false(o.timed_out);
	/* Lines joined with blanks; PWD, SHLVL and _ are the shell's own. */
	assert_non_null(strstr(buf_cstr(&o.output), "HELLO WORLD bar baz"));
	assert_non_null(strstr(buf_cstr(&o.output), " /"));
	buf_free(&o.output);
	close(s.stdin_fd);
}

static void test_argv_bounded_output_strict_cwd(void **state)
{
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	char *argv[] = {"head", "-c", "100000", "/dev/zero", NULL};
	struct command_spec s = {.argv = argv, .env = env, .stdin_fd = -1, .output_max = 10};
	struct command_outcome o;
	char *missing[] = {"no-such-command-here", NULL};

	(void)state;
	run(&s, &o);
	assert_int_equal(WEXITSTATUS(o.status), 0);
	assert_int_equal(o.output.len, 0); /* ten NULs made blanks, trimmed */
	buf_free(&o.output);
	s.cwd = "/nonexistent-dir";
	s.cwd_strict = true;
	run(&s, &o);
	assert_int_equal(WEXITSTATUS(o.status), 75);
	buf_free(&o.output);
	s.cwd = NULL;
	s.argv = missing;
	run(&s, &o);
	assert_int_equal(WEXITSTATUS(o.status), 69);
	buf_free(&o.output);
}

static void test_time_limit_kills_the_group(void **state)
{
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct command_spec s = {
	    .shell_command = "sleep 30 & echo started; sleep 30",
	    .env = env,
	    .stdin_fd = -1,
	    .time_limit = 1,
	};
	struct command_outcome o;
	time_t t0 = time(NULL);

	(void)state;
	run(&s, &o);
	assert_true(o.timed_out);
	assert_true(WIFSIGNALED(o.status));
	/* The background sleep held the pipe open: killed too, or we would
	 * have waited for it. */
	assert_true(time(NULL) - t0 < 10);
	assert_string_equal(buf_cstr(&o.output), "started");
	buf_free(&o.output);
}

static void test_verdicts(void **state)
{
	struct command_verdict v;

	(void)state;
	command_verdict(0, false, "", "command", &v);
	assert_string_equal(v.result, RES_SENT);
	assert_string_equal(v.dsn, "2.0.0");
	command_verdict(75 << 8, false, "later", "command", &v);
	assert_string_equal(v.result, RES_DEFERRED);
	assert_string_equal(v.dsn, "4.3.0");
	assert_non_null(strstr(v.reason, "later"));
	command_verdict(71 << 8, false, "", "command", &v);
	assert_string_equal(v.result, RES_DEFERRED);
	command_verdict(67 << 8, false, "", "command", &v);
	assert_string_equal(v.result, RES_BOUNCED);
	assert_string_equal(v.dsn, "5.1.1");
	command_verdict(78 << 8, false, "", "command", &v);
	assert_string_equal(v.dsn, "5.3.5");
	command_verdict(1 << 8, false, "", "command", &v);
	assert_string_equal(v.result, RES_BOUNCED);
	assert_string_equal(v.dsn, "5.3.0");
	assert_non_null(strstr(v.reason, "died with status 1"));
	command_verdict(1 << 8, false, "5.7.1 go away", "command", &v);
	assert_string_equal(v.dsn, "5.7.1");
	command_verdict(75 << 8, false, "4.2.2 full", "command", &v);
	assert_string_equal(v.dsn, "4.2.2");
	/* Another class than the exit status says is ignored. */
	command_verdict(75 << 8, false, "5.1.1 nope", "command", &v);
	assert_string_equal(v.dsn, "4.3.0");
	command_verdict(1 << 8, false, "5.1 x", "command", &v);
	assert_string_equal(v.dsn, "5.3.0");
	command_verdict(SIGKILL, false, "", "command", &v);
	assert_string_equal(v.result, RES_DEFERRED);
	command_verdict(0, true, "", "command", &v);
	assert_string_equal(v.result, RES_DEFERRED);
	assert_non_null(strstr(v.reason, "time limit"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shell_stdin_env_output),
	    cmocka_unit_test(test_argv_bounded_output_strict_cwd),
	    cmocka_unit_test(test_time_limit_kills_the_group),
	    cmocka_unit_test(test_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
