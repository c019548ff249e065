/*
 * test_daemon.c - the daemon skeleton's timers, in both kinds of server:
 * one-shot and periodic timers, timers added before the event loop runs,
 * a timer that cancels itself or adds another from its callback (run in
 * a later round), and a blocking server whose timers run between clients
 * without counting as clients: it still exits after max_idle, and after
 * max_use clients.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "daemon.h"
#include "event.h"
#include "util.h"

static char sock_path[] = "/tmp/test_daemon.XXXXXX";

static int listen_unix(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	unlink(sock_path);
	strlcpy(sun.sun_path, sock_path, sizeof(sun.sun_path));
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static int connect_unix(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strlcpy(sun.sun_path, sock_path, sizeof(sun.sun_path));
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

struct counts {
	int once, every, late, chained;
	struct daemon_timer *every_timer;
	long long once_at, start;
};

static void on_once(struct daemon *d, void *ctx)
{
	struct counts *c = ctx;

	(void)d;
	c->once++;
	c->once_at = mono_msec();
}

static void on_late(struct daemon *d, void *ctx)
{
	(void)d;
	((struct counts *)ctx)->late++;
}

static void on_chained(struct daemon *d, void *ctx)
{
	(void)d;
	((struct counts *)ctx)->chained++;
}

/* Periodic; at the fifth run it cancels itself and adds a 0 ms timer. */
static void on_every(struct daemon *d, void *ctx)
{
	struct counts *c = ctx;

	if (++c->every == 5) {
		daemon_timer_cancel(d, c->every_timer);
		daemon_timer_after(d, 0, on_chained, c);
		assert_int_equal(c->chained, 0);
	}
}

static void no_accept(struct event_loop *loop, int fd, void *ctx)
{
	(void)loop;
	(void)ctx;
	close(fd);
}

static void test_event_server(void **state)
{
	struct daemon d = {.prog = "test", .listen_fd = listen_unix()};
	struct event_loop *loop = event_loop_new();
	struct counts c = {.start = mono_msec()};
	struct daemon_timer *cancelled;

	(void)state;
	/* Added before the loop exists: they wait for it. */
	daemon_timer_after(&d, 50, on_once, &c);
	c.every_timer = daemon_timer_every(&d, 20, on_every, &c);
	cancelled = daemon_timer_after(&d, 10, on_late, &c);
	daemon_timer_cancel(&d, cancelled);
	daemon_event_server(&d, loop, no_accept, NULL, NULL);
	daemon_timer_after(&d, 150, on_late, &c);
	/* Until everything ran (a generous bound: the machine may be busy),
	 * then a while longer, to see that nothing runs twice. */
	while ((c.every < 5 || !c.chained || !c.late || !c.once) && mono_msec() - c.start < 10000)
		event_loop_once(loop, 50);
	for (long long until = mono_msec() + 200; mono_msec() < until;)
		event_loop_once(loop, 50);
	assert_int_equal(c.once, 1);
	assert_true(c.once_at - c.start >= 50);
	assert_int_equal(c.every, 5);
	assert_int_equal(c.chained, 1);
	assert_int_equal(c.late, 1);
	event_loop_free(loop);
	close(d.listen_fd);
}

static int served;

static void serve(int fd, void *ctx)
{
	(void)ctx;
	served++;
	close(fd);
}

static void test_blocking_server(void **state)
{
	struct daemon d = {.prog = "test", .listen_fd = listen_unix()};
	struct counts c = {0};
	long long start;
	int client;

	(void)state;
	config_reset();
	assert_int_equal(config_override("max_idle=2"), 0);
	assert_int_equal(config_override("max_use=0"), 0);
	c.every_timer = daemon_timer_every(&d, 100, on_every, &c);
	daemon_timer_after(&d, 300, on_once, &c);
	/* Timers are not clients: the server still exits after max_idle. */
	start = mono_msec();
	daemon_blocking_server(&d, serve, NULL);
	assert_true(mono_msec() - start >= 2000);
	assert_true(mono_msec() - start < 30000); /* does not hang */
	assert_int_equal(c.every, 5);
	assert_int_equal(c.chained, 1);
	assert_int_equal(c.once, 1);
	assert_int_equal(served, 0);
	/* max_use: a waiting client is served, then the server returns. */
	assert_int_equal(config_override("max_use=1"), 0);
	client = connect_unix();
	daemon_blocking_server(&d, serve, NULL);
	assert_int_equal(served, 1);
	close(client);
	close(d.listen_fd);
	config_reset();
}

static int setup(void **state)
{
	int fd = mkstemp(sock_path);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(sock_path);
	return 0;
}

int main(void)
{
	/* The blocking server first: a process runs one kind of server, and
	 * the event server's loop is gone once its test ends. */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blocking_server),
	    cmocka_unit_test(test_event_server),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
