/*
 * test_privs.c - unit tests for lib/privs.c.
 *
 * Look-ups run everywhere.  Every test that changes ids does so in a forked
 * child that reports through its exit status (0 = as expected), so the test
 * process keeps its own ids.  As root (as in CI) the real drop and switch
 * are checked, including that root cannot be regained; as an ordinary user
 * priv_drop() must leave the ids alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privs.h"

#include <stdbool.h>

static uid_t nobody_uid;
static gid_t nobody_gid;

static int setup(void **state)
{
	struct passwd *pw = getpwnam("nobody");

	(void)state;
	if (pw == NULL)
		return -1;
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	return 0;
}

/* Runs fn in a child; returns its exit status, or -1 if it did not exit. */
static int in_child(int (*fn)(void))
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_lookup_user(void **state)
{
	uid_t uid = 1;
	gid_t gid = 1;
	char num[32];

	(void)state;
	assert_true(priv_lookup_user("root", &uid, &gid));
	assert_int_equal(uid, 0);
	assert_int_equal(gid, 0);
	uid = gid = 1;
	assert_true(priv_lookup_user("0", &uid, &gid));
	assert_int_equal(uid, 0);
	assert_int_equal(gid, 0);
	assert_true(priv_lookup_user("nobody", &uid, &gid));
	assert_int_equal(uid, nobody_uid);
	assert_int_equal(gid, nobody_gid);
	snprintf(num, sizeof(num), "%lu", (unsigned long)nobody_uid);
	uid = gid = 1;
	assert_true(priv_lookup_user(num, &uid, NULL));
	assert_int_equal(uid, nobody_uid);
	assert_false(priv_lookup_user("no-such-user-tern", &uid, &gid));
	assert_false(priv_lookup_user("", &uid, &gid));
	assert_false(priv_lookup_user("0x0", &uid, &gid));
	assert_false(priv_lookup_user("-1", &uid, &gid));
	assert_false(priv_lookup_user("99999999999999", &uid, &gid));
	assert_false(priv_lookup_user("4294967295", &uid, &gid));
}

static void test_lookup_group(void **state)
{
	gid_t gid = 1;
	struct group *gr;
	char num[32];

	(void)state;
	assert_true(priv_lookup_group("root", &gid));
	assert_int_equal(gid, 0);
	gid = 1;
	assert_true(priv_lookup_group("0", &gid));
	assert_int_equal(gid, 0);
	gr = getgrgid(nobody_gid);
	if (gr != NULL) {
		char *name = strdup(gr->gr_name);

		gid = 1;
		assert_true(priv_lookup_group(name, &gid));
		assert_int_equal(gid, nobody_gid);
		free(name);
		snprintf(num, sizeof(num), "%lu", (unsigned long)nobody_gid);
		gid = 1;
		assert_true(priv_lookup_group(num, &gid));
		assert_int_equal(gid, nobody_gid);
	}
	assert_false(priv_lookup_group("no-such-group-tern", &gid));
	assert_false(priv_lookup_group("", &gid));
	assert_false(priv_lookup_group("12abc", &gid));
}

/* Whether root's group is among the supplementary groups (nobody's is not). */
static bool has_root_group(void)
{
	gid_t groups[256];
	int n = getgroups(256, groups);

	if (n < 0)
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == 0 && nobody_gid != 0)
			return true;
	return false;
}

/* After dropping, no id and no supplementary group may be root's. */
static int child_drop(void)
{
	uid_t r, e, s;
	gid_t root_gid = 0;

	/* Start like a root daemon that is in root's group. */
	if (setgroups(1, &root_gid) < 0 || !has_root_group())
		return 9;
	priv_drop("nobody");
	if (getresuid(&r, &e, &s) < 0 || r != nobody_uid || e != nobody_uid || s != nobody_uid)
		return 2;
	if (getgid() != nobody_gid || getegid() != nobody_gid)
		return 3;
	if (has_root_group())
		return 4;
	if (setuid(0) == 0 || seteuid(0) == 0)
		return 1;
	return 0;
}

/* When not root (or once dropped), priv_drop changes nothing. */
static int child_noop(void)
{
	uid_t uid = getuid(), euid = geteuid();
	gid_t gid = getgid();

	priv_drop("no-such-user-tern"); /* not even looked up */
	priv_drop("nobody");
	if (getuid() != uid || geteuid() != euid || getgid() != gid)
		return 2;
	return 0;
}

static int child_drop_then_noop(void)
{
	priv_drop("nobody");
	if (getuid() == 0)
		return 2;
	return child_noop();
}

static int child_drop_to_root(void)
{
	priv_drop_ids(0, 0, "root");
	return 0; /* must not be reached */
}

static int child_drop_by_name_root(void)
{
	priv_drop("root");
	return 0;
}

static int child_drop_unknown(void)
{
	priv_drop("no-such-user-tern");
	return 0;
}

static void test_drop(void **state)
{
	(void)state;
	if (geteuid() == 0) {
		assert_int_equal(in_child(child_drop), 0);
		assert_int_equal(in_child(child_drop_then_noop), 0);
		assert_int_equal(in_child(child_drop_by_name_root), 1);
		assert_int_equal(in_child(child_drop_unknown), 1);
	} else {
		assert_int_equal(in_child(child_noop), 0);
	}
	/* Dropping to uid 0 is a configuration error whoever we are. */
	assert_int_equal(in_child(child_drop_to_root), 1);
}

/* The supplementary groups now are exactly want[0..n). */
static bool groups_are(const gid_t *want, int n)
{
	gid_t got[64];
	int k = getgroups(64, got);

	if (k != n)
		return false;
	for (int i = 0; i < n; i++) {
		bool found = false;

		for (int j = 0; j < k; j++)
			found = found || got[j] == want[i];
		if (!found)
			return false;
	}
	return true;
}

/* The groups are those initgroups() would give (looked up once, then
 * from the cache), or just the gid for a uid without a passwd entry. */
static int child_effective_groups(void)
{
	struct passwd *pw = getpwuid(nobody_uid);
	gid_t want[64], alone = 4242;
	int n = 64;

	if (pw == NULL || getgrouplist(pw->pw_name, nobody_gid, want, &n) < 0)
		return 2;
	for (int round = 0; round < 2; round++) {
		priv_set_effective(nobody_uid, nobody_gid);
		if (!groups_are(want, n))
			return 3 + round;
		priv_restore();
	}
	priv_set_effective(4242424, alone);
	if (!groups_are(&alone, 1) || geteuid() != 4242424)
		return 5;
	priv_restore();
	return 0;
}

/* Switch to nobody, create a file, check its owner, come back to root. */
static int child_effective(void)
{
	char path[] = "/tmp/tern-privs-XXXXXX";
	char secret[] = "/tmp/tern-privs-root-XXXXXX";
	struct stat st;
	gid_t root_gid = 0;
	int fd;

	if (setgroups(1, &root_gid) < 0 || !has_root_group())
		return 11;
	/* mkstemp makes it 0600: the switched process must not open it. */
	fd = mkstemp(secret);
	if (fd < 0)
		return 9;
	close(fd);
	priv_set_effective(nobody_uid, nobody_gid);
	if (geteuid() != nobody_uid || getegid() != nobody_gid || getuid() != 0)
		return 2;
	if (has_root_group())
		return 10;
	fd = mkstemp(path);
	if (fd < 0)
		return 3;
	if (fstat(fd, &st) < 0 || st.st_uid != nobody_uid || st.st_gid != nobody_gid)
		return 4;
	close(fd);
	unlink(path);
	fd = open(secret, O_RDONLY);
	priv_restore();
	unlink(secret);
	if (fd >= 0)
		return 5;
	if (geteuid() != 0 || getegid() != 0 || getgroups(0, NULL) != 0)
		return 6;
	/* And again: the switch can be repeated, delivery after delivery. */
	priv_set_effective(nobody_uid, nobody_gid);
	if (geteuid() != nobody_uid)
		return 7;
	priv_restore();
	return geteuid() == 0 ? 0 : 8;
}

static int child_effective_unprivileged(void)
{
	priv_drop("nobody");
	priv_set_effective(nobody_uid, nobody_gid); /* fatal: not root */
	return 0;
}

static void test_set_effective(void **state)
{
	(void)state;
	/* Without root (or after a drop) switching is refused: fatal. */
	assert_int_equal(in_child(child_effective_unprivileged), 1);
	if (geteuid() != 0)
		skip();
	assert_int_equal(in_child(child_effective), 0);
	assert_int_equal(in_child(child_effective_groups), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup_user),
	    cmocka_unit_test(test_lookup_group),
	    cmocka_unit_test(test_drop),
	    cmocka_unit_test(test_set_effective),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
