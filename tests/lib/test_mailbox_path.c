/*
 * test_mailbox_path.c - unit tests for lib/mailbox_path.c: a path is
 * itself, a virtual address goes through virtual_mailbox_maps (address,
 * then "@domain") below virtual_mailbox_base with the trailing '/'
 * dropped, values that would leave the base are refused, unknown users
 * are an error with a reason, system users get home_mailbox.
 */
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "mailbox_path.h"
#include "maps.h"

static void load(const char *text)
{
	struct buf err = BUF_INIT;

	config_reset();
	maps_reset();
	assert_int_equal(config_load_text(text, strlen(text), "main.cf", &err), 0);
	buf_free(&err);
}

static void expect(const char *who, const char *want)
{
	struct buf err = BUF_INIT;
	char *got = mailbox_resolve(who, &err);

	if (want == NULL) {
		assert_null(got);
		assert_true(err.len > 0);
	} else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	free(got);
	buf_free(&err);
}

static void test_virtual(void **state)
{
	(void)state;
	load("virtual_mailbox_base = /srv/mail\n"
	     "virtual_mailbox_maps = inline:{ a@example.com=example.com/a/, "
	     "@example.org=catchall/, evil@example.com=../etc/, abs@example.com=/etc/ }\n");
	expect("a@example.com", "/srv/mail/example.com/a");
	expect("anyone@example.org", "/srv/mail/catchall");
	expect("b@example.com", NULL);
	expect("evil@example.com", NULL);
	expect("abs@example.com", NULL);
	expect("/some/Maildir/", "/some/Maildir");
}

static void test_system_user(void **state)
{
	(void)state;
	char want[4096];

	snprintf(want, sizeof(want), "%s/Maildir", getpwnam("root")->pw_dir);
	load("home_mailbox = Maildir/\n");
	expect("root", want);
	expect("no-such-user-here", NULL);
	load("home_mailbox =\n");
	expect("root", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_virtual),
	    cmocka_unit_test(test_system_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
