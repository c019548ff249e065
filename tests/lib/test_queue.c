/*
 * test_queue.c - unit tests for lib/queue.c's folder table: every folder
 * made with its mode whatever the umask, existing ones given their mode
 * back, owners set as the table says (when run as root), and the socket
 * paths under private/ and public/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "proto.h"
#include "queue.h"

static char *tmp_dir(void)
{
	char *d = strdup("/tmp/tern-test-queue-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void remove_tree(const char *top, const char *qdir)
{
	char path[1024];

	for (const struct queue_dir *d = queue_dirs; d->name; d++) {
		snprintf(path, sizeof(path), "%s/%s", qdir, d->name);
		rmdir(path);
	}
	rmdir(qdir);
	rmdir(top);
}

static void check_modes(const char *qdir, bool root, uid_t uid, gid_t gid, gid_t drop)
{
	char path[1024];
	struct stat st;

	for (const struct queue_dir *d = queue_dirs; d->name; d++) {
		snprintf(path, sizeof(path), "%s/%s", qdir, d->name);
		assert_int_equal(stat(path, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, d->mode);
		if (!root)
			continue;
		assert_int_equal(st.st_uid, d->owner == QUEUE_OWNER_ROOT ? 0 : uid);
		assert_int_equal(st.st_gid, d->owner == QUEUE_OWNER_ROOT	? 0
					    : d->owner == QUEUE_OWNER_MAIL_DROP ? drop
										: gid);
	}
}

static void test_create(void **state)
{
	char *top = tmp_dir(), qdir[256], path[512];
	struct buf err = BUF_INIT;
	bool root = geteuid() == 0;
	mode_t old = umask(077);

	(void)state;
	snprintf(qdir, sizeof(qdir), "%s/queue", top);
	assert_int_equal(queue_dirs_create(qdir, root, 1, 2, 3, &err), 0);
	umask(old);
	check_modes(qdir, root, 1, 2, 3);
	/* A folder with a wrong mode gets its mode back; missing ones come back. */
	snprintf(path, sizeof(path), "%s/%s", qdir, QUEUE_MAILDROP);
	assert_int_equal(chmod(path, 0777), 0);
	snprintf(path, sizeof(path), "%s/%s", qdir, QUEUE_HOLD);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(queue_dirs_create(qdir, root, 1, 2, 3, &err), 0);
	check_modes(qdir, root, 1, 2, 3);
	assert_int_equal(err.len, 0);
	remove_tree(top, qdir);
	free(top);
	buf_free(&err);
}

static void test_create_fails(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(queue_dirs_create("/nonexistent/x/queue", false, 0, 0, 0, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "mkdir /nonexistent/x/queue"));
	buf_free(&err);
}

static void test_table_and_paths(void **state)
{
	struct buf b = BUF_INIT;
	size_t n = 0;

	(void)state;
	for (const struct queue_dir *d = queue_dirs; d->name; d++) {
		n++;
		/* Only pid/ is root's; only maildrop/ has postdrop's group. */
		assert_int_equal(d->owner == QUEUE_OWNER_ROOT, strcmp(d->name, QUEUE_PID) == 0);
		assert_int_equal(
		    d->owner == QUEUE_OWNER_MAIL_DROP, strcmp(d->name, QUEUE_MAILDROP) == 0);
	}
	assert_int_equal(n, 10);
	config_set("queue_directory", "/q");
	queue_socket_path(&b, true, SERVICE_CLEANUP);
	assert_string_equal(buf_cstr(&b), "/q/private/cleanup");
	queue_socket_path(&b, false, SERVICE_PICKUP);
	assert_string_equal(buf_cstr(&b), "/q/public/pickup");
	queue_path(&b, QUEUE_DEFERRED, "ABC");
	assert_string_equal(buf_cstr(&b), "/q/deferred/ABC");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create),
	    cmocka_unit_test(test_create_fails),
	    cmocka_unit_test(test_table_and_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
