/*
 * test_state.c - unit tests for the auth daemon's state: failure
 * counters and delays (penalty.c, on a real LMDB file, kept across a
 * re-open as across a restart), one-time tokens (token.c) and the
 * verification cache (cache.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../auth/auth.h"
#include "buf.h"
#include "config.h"
#include "event.h"
#include "util.h"

static char dir[64];
static struct event_loop *loop;

static void load(const char *extra)
{
	struct buf err = BUF_INIT;
	char *text = xasprintf("auth_failure_delay = 1s\nauth_failure_delay_max = 8s\n"
			       "auth_failure_limit = 5\nauth_failure_window = 10m\n"
			       "auth_token_ttl = 60s\nauth_cache_ttl = 60s\n%s",
	    extra);

	config_reset();
	assert_int_equal(config_load_text(text, strlen(text), "main.cf", &err), 0);
	free(text);
	buf_free(&err);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/tern-auth-XXXXXX");
	assert_non_null(mkdtemp(dir));
	loop = event_loop_new();
	server_init(loop, -1);
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf %s", dir);

	(void)state;
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static void test_penalties(void **state)
{
	char *path = xasprintf("%s/penalty.lmdb", dir);
	unsigned n;
	long delays[6];

	(void)state;
	load("auth_failure_exceptions = 10.0.0.0/8\n");
	penalty_init(path);
	assert_int_equal(penalty_refused("192.0.2.1"), 0);
	for (int i = 0; i < 6; i++)
		delays[i] = penalty_failure("192.0.2.1", "Alice", &n);
	assert_int_equal(n, 6);
	assert_int_equal(delays[0], 1000);
	assert_int_equal(delays[1], 2000);
	assert_int_equal(delays[2], 4000);
	assert_int_equal(delays[3], 8000);
	assert_int_equal(delays[5], 8000); /* auth_failure_delay_max */
	assert_int_equal(penalty_refused("192.0.2.1"), 6);
	assert_int_equal(penalty_refused("192.0.2.2"), 0);
	/* The account's count delays another address's failures, never refuses it. */
	assert_int_equal(penalty_failure("192.0.2.2", "alice", &n), 8000);
	assert_int_equal(n, 1);
	assert_int_equal(penalty_refused("192.0.2.2"), 0);
	/* Exempt networks: no delay, no count. */
	assert_int_equal(penalty_failure("10.1.2.3", "bob", &n), 0);
	assert_int_equal(penalty_refused("10.1.2.3"), 0);
	/* IPv6 clients are counted per /64. */
	for (int i = 0; i < 5; i++)
		penalty_failure(i % 2 ? "2001:db8::1" : "2001:db8::2", NULL, &n);
	assert_int_equal(penalty_refused("2001:db8::ffff"), 5);
	assert_int_equal(penalty_refused("2001:db8:0:1::1"), 0);
	/* A success clears the address and the account. */
	penalty_success("192.0.2.2", "ALICE");
	assert_int_equal(penalty_failure("192.0.2.3", "alice", &n), 1000);
	/* Counts survive a re-open (a restart of auth). */
	penalty_close();
	penalty_init(path);
	assert_int_equal(penalty_refused("192.0.2.1"), 6);
	penalty_close();
	free(path);
}

static void test_tokens(void **state)
{
	char *u;
	const char *t;
	char copy[64];

	(void)state;
	load("");
	token_init(loop);
	t = token_issue("alice@example.com", "imap", "192.0.2.1");
	assert_non_null(t);
	assert_int_equal(strlen(t), 24);
	strcpy(copy, t);
	assert_null(token_redeem(copy, "imap", "192.0.2.9")); /* wrong address: spent */
	assert_null(token_redeem(copy, "imap", "192.0.2.1"));
	t = token_issue("alice@example.com", "imap", "192.0.2.1");
	strcpy(copy, t);
	assert_string_not_equal(copy, token_issue("bob", "pop3", NULL));
	u = token_redeem(copy, "IMAP", "192.0.2.1");
	assert_non_null(u);
	assert_string_equal(u, "alice@example.com");
	free(u);
	assert_null(token_redeem(copy, "imap", "192.0.2.1")); /* single use */
	assert_null(token_redeem("short", "imap", "192.0.2.1"));
}

static void test_cache(void **state)
{
	(void)state;
	load("");
	cache_init();
	assert_false(cache_check("alice", "smtp", "pw"));
	cache_add("alice", "smtp", "pw");
	assert_true(cache_check("ALICE", "smtp", "pw"));
	assert_false(cache_check("alice", "smtp", "pw2"));
	assert_false(cache_check("alice", "imap", "pw")); /* per service */
	cache_flush();
	assert_false(cache_check("alice", "smtp", "pw"));
	load("auth_cache_ttl = 0\n");
	cache_init();
	cache_add("alice", "smtp", "pw");
	assert_false(cache_check("alice", "smtp", "pw"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_penalties),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
