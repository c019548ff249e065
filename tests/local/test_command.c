/*
 * test_command.c - local's command delivery, dot-locks and size limits,
 * run as the current user in a temporary directory.
 *
 * Checked: the sysexits mapping (0 sent, 75 deferred, 67 bounced 5.1.1,
 * unknown codes 5.3.0, a signal deferred, an enhanced status code in the
 * output winning); a real /bin/sh command getting the message with its
 * "From " line and the environment, its output in the reason; dot-locks
 * (exclusive, released, stale ones broken, live ones waited for and then
 * given up with EAGAIN); mailbox_size_limit bouncing without touching
 * the mbox.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../local/local.h"
#include "buf.h"
#include "config.h"
#include "proto.h"
#include "qfile.h"
#include "util.h"

struct fixture {
	char dir[64];
	char qpath[128];
	struct qfile qf;
	struct local_msg msg;
};

static void make_queue_file(struct fixture *f, const char *hdr, const char *body)
{
	struct qfile_writer w;
	struct buf err = BUF_INIT;
	int fd;

	snprintf(f->qpath, sizeof(f->qpath), "%s/queuefile", f->dir);
	fd = open(f->qpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	qfw_init(&w, fd);
	qfw_arrival(&w, 1700000000000000LL);
	qfw_sender(&w, "s@example.org");
	qfw_rcpt(&w, "r@example.com", NULL, NULL);
	qfw_header(&w, hdr, strlen(hdr));
	qfw_body_begin(&w);
	qfw_body_write(&w, body, strlen(body));
	qfw_body_end(&w);
	assert_int_equal(qfw_finish(&w), 0);
	assert_int_equal(qfile_load(fd, &f->qf, &err), QF_LOAD_OK);
	close(fd);
	buf_free(&err);
	f->msg.fd = open(f->qpath, O_RDONLY);
	assert_true(f->msg.fd >= 0);
	f->msg.qid = "TESTQID";
	f->msg.sender = f->qf.sender;
	f->msg.header_off = f->qf.header_off;
	f->msg.header_len = f->qf.header_len;
	f->msg.body_off = f->qf.body_off;
	f->msg.body_len = f->qf.body_len;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	config_reset();
	strlcpy(f->dir, "/tmp/test_command.XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	make_queue_file(f, "Subject: hi\n", "From me\nbody\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	close(f->msg.fd);
	qfile_free(&f->qf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_exit_codes(void **state)
{
	struct local_result r;

	(void)state;
	command_result(0, false, "", &r);
	assert_string_equal(r.result, RES_SENT);
	command_result(75 << 8, false, "try later", &r);
	assert_string_equal(r.result, RES_DEFERRED);
	assert_string_equal(r.dsn, "4.3.0");
	assert_non_null(strstr(r.reason, "try later"));
	command_result(67 << 8, false, "who?", &r);
	assert_string_equal(r.result, RES_BOUNCED);
	assert_string_equal(r.dsn, "5.1.1");
	command_result(77 << 8, false, "", &r);
	assert_string_equal(r.dsn, "5.7.0");
	command_result(1 << 8, false, "", &r);
	assert_string_equal(r.result, RES_BOUNCED);
	assert_string_equal(r.dsn, "5.3.0");
	command_result(1 << 8, false, "5.2.2 mailbox full", &r);
	assert_string_equal(r.dsn, "5.2.2");
	/* A 4.x.x text cannot turn a permanent code into a deferral. */
	command_result(1 << 8, false, "4.2.2 later", &r);
	assert_string_equal(r.dsn, "5.3.0");
	command_result(SIGKILL, false, "", &r);
	assert_string_equal(r.result, RES_DEFERRED);
	command_result(0, true, "", &r);
	assert_string_equal(r.result, RES_DEFERRED);
}

static void test_command_deliver(void **state)
{
	struct fixture *f = *state;
	struct local_result r;
	struct local_cmd c = {NULL, getuid(), getgid(), NULL, f->dir, NULL};
	char *cmd = xasprintf(
	    "cat > %s/out; echo \"$SENDER\" > %s/env; echo said hello; exit 0", f->dir, f->dir);
	size_t n = 0;
	char buf[512];
	ssize_t len;
	int fd;

	command_env_add(&c.env, &n, "SENDER", "s@example.org; rm -rf /");
	c.command = cmd;
	assert_int_equal(command_deliver(&f->msg, "r@example.com", &c, &r), 0);
	assert_string_equal(r.result, RES_SENT);
	snprintf(buf, sizeof(buf), "%s/out", f->dir);
	fd = open(buf, O_RDONLY);
	assert_true(fd >= 0);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(len > 0);
	buf[len] = 0;
	assert_true(strncmp(buf, "From s@example.org ", 19) == 0);
	/* No ">From" escaping and no final empty line for commands. */
	assert_non_null(strstr(buf, "\nReturn-Path: <s@example.org>\nDelivered-To: "
				    "r@example.com\nSubject: hi\n\nFrom me\nbody\n"));
	assert_int_equal(buf[len - 2], 'y');
	snprintf(buf, sizeof(buf), "%s/env", f->dir);
	fd = open(buf, O_RDONLY);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[len] = 0;
	assert_string_equal(buf, "s@example.org__rm_-rf_/\n");
	free(cmd);

	c.command = "echo 'no such user here' >&2; exit 67";
	assert_int_equal(command_deliver(&f->msg, "r@example.com", &c, &r), -1);
	assert_string_equal(r.result, RES_BOUNCED);
	assert_non_null(strstr(r.reason, "no such user here"));
	strv_free(c.env);
}

static void test_dotlock(void **state)
{
	struct fixture *f = *state;
	char *path = xasprintf("%s/mbox", f->dir), *lock, *lock2;
	char *lockname = xasprintf("%s.lock", path);
	struct timespec old[2] = {{time(NULL) - 1000, 0}, {time(NULL) - 1000, 0}};

	assert_int_equal(config_override("deliver_lock_attempts=2"), 0);
	assert_int_equal(config_override("deliver_lock_delay=1"), 0);
	lock = dotlock_acquire(path);
	assert_non_null(lock);
	assert_string_equal(lock, lockname);
	lock2 = dotlock_acquire(path);
	assert_null(lock2);
	assert_int_equal(errno, EAGAIN);
	/* Made stale: the next attempt breaks it. */
	assert_int_equal(utimensat(AT_FDCWD, lockname, old, 0), 0);
	lock2 = dotlock_acquire(path);
	assert_non_null(lock2);
	dotlock_release(lock2);
	assert_int_equal(access(lockname, F_OK), -1);
	dotlock_release(lock); /* already gone: no harm */
	free(lockname);
	free(path);
}

static void test_mailbox_size_limit(void **state)
{
	struct fixture *f = *state;
	char *path = xasprintf("%s/mbox", f->dir);
	struct local_result r;
	struct stat st;

	assert_int_equal(mbox_deliver(&f->msg, "r@example.com", path, &r), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(config_override("mailbox_size_limit=100"), 0);
	assert_int_equal(mbox_deliver(&f->msg, "r@example.com", path, &r), -1);
	assert_string_equal(r.result, RES_BOUNCED);
	assert_string_equal(r.dsn, "5.2.2");
	{
		struct stat st2;

		assert_int_equal(stat(path, &st2), 0);
		assert_int_equal(st2.st_size, st.st_size);
	}
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exit_codes),
	    cmocka_unit_test_setup_teardown(test_command_deliver, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dotlock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mailbox_size_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
