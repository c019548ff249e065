/*
 * test_event.c - unit tests for lib/event.c over socketpairs and pipes.
 *
 * Covers fd readiness (read, write, pause/resume, hang-up), deletion of a
 * ready fd by an earlier callback of the same round (including reuse of the
 * fd number), timer order, cancelling, event_loop_stop and signals.  Each
 * test bounds its waiting with max_ms so a bug fails rather than hangs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "util.h"

struct rec {
	int calls;
	int fd;
	int events;
	char data[64];
	ssize_t n;
};

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static void on_read(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct rec *r = ctx;

	(void)loop;
	r->calls++;
	r->fd = fd;
	r->events = events;
	r->n = read(fd, r->data, sizeof(r->data) - 1);
	if (r->n > 0)
		r->data[r->n] = 0;
}

static void test_read(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct rec r = {0};
	int sv[2];

	(void)state;
	pair(sv);
	event_fd_set(loop, sv[0], EV_READ, on_read, &r);
	assert_int_equal(event_loop_once(loop, 0), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(write(sv[1], "hello", 5), 5);
	assert_int_equal(event_loop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.fd, sv[0]);
	assert_int_equal(r.events, EV_READ);
	assert_string_equal(r.data, "hello");
	event_loop_free(loop);
	close(sv[0]);
	close(sv[1]);
}

static void on_any(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct rec *r = ctx;

	(void)loop;
	r->calls++;
	r->fd = fd;
	r->events = events;
}

static void test_write(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct rec r = {0};
	int sv[2];

	(void)state;
	pair(sv);
	event_fd_set(loop, sv[0], EV_WRITE, on_any, &r);
	assert_int_equal(event_loop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.events, EV_WRITE);
	/* Changing to read-only: nothing to read, so no callback. */
	event_fd_events(loop, sv[0], EV_READ);
	assert_int_equal(event_loop_once(loop, 20), 0);
	assert_int_equal(r.calls, 1);
	event_loop_free(loop);
	close(sv[0]);
	close(sv[1]);
}

static void test_pause_resume(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct rec r = {0};
	int sv[2];

	(void)state;
	pair(sv);
	event_fd_set(loop, sv[0], 0, on_read, &r);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(event_loop_once(loop, 20), 0);
	assert_int_equal(r.calls, 0);
	event_fd_events(loop, sv[0], EV_READ);
	assert_int_equal(event_loop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.data, "x");
	/* Paused again, with data waiting and then the peer gone. */
	event_fd_events(loop, sv[0], 0);
	assert_int_equal(write(sv[1], "y", 1), 1);
	close(sv[1]);
	assert_int_equal(event_loop_once(loop, 20), 0);
	assert_int_equal(r.calls, 1);
	event_fd_events(loop, sv[0], EV_READ);
	assert_int_equal(event_loop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 2);
	assert_string_equal(r.data, "y");
	event_loop_free(loop);
	close(sv[0]);
}

/* Two ready fds: whichever callback runs first deletes the other. */
struct duel {
	int fds[2];
	int calls[2];
	int reuse_fd; /* if >= 0: re-register the deleted number */
	struct rec reused;
};

static void duel_cb(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct duel *d = ctx;
	int me = fd == d->fds[0] ? 0 : 1;
	int other = d->fds[1 - me];
	char c;

	(void)events;
	d->calls[me]++;
	assert_int_equal(read(fd, &c, 1), 1);
	event_fd_del(loop, other);
	if (d->reuse_fd >= 0) {
		/* The fd number comes back at once, as after close + accept. */
		close(other);
		assert_int_equal(dup2(d->reuse_fd, other), other);
		event_fd_set(loop, other, EV_READ, on_any, &d->reused);
	}
}

static void run_duel(bool reuse)
{
	struct event_loop *loop = event_loop_new();
	struct duel d = {.reuse_fd = -1};
	int a[2], b[2], c[2];

	pair(a);
	pair(b);
	pair(c);
	d.fds[0] = a[0];
	d.fds[1] = b[0];
	if (reuse)
		d.reuse_fd = c[0];
	assert_int_equal(write(a[1], "1", 1), 1);
	assert_int_equal(write(b[1], "2", 1), 1);
	assert_int_equal(write(c[1], "3", 1), 1); /* the reused fd is ready */
	event_fd_set(loop, a[0], EV_READ, duel_cb, &d);
	event_fd_set(loop, b[0], EV_READ, duel_cb, &d);
	assert_int_equal(event_loop_once(loop, 1000), 0);
	assert_int_equal(d.calls[0] + d.calls[1], 1);
	assert_int_equal(d.reused.calls, 0);
	if (reuse) {
		assert_int_equal(event_loop_once(loop, 1000), 0);
		assert_int_equal(d.reused.calls, 1);
		assert_int_equal(d.calls[0] + d.calls[1], 1);
	}
	event_loop_free(loop);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]), close(c[0]), close(c[1]);
}

static void test_delete_in_round(void **state)
{
	(void)state;
	run_duel(false);
}

static void test_delete_and_reuse_in_round(void **state)
{
	(void)state;
	run_duel(true);
}

static void test_error_on_close(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct rec r = {0};
	int sv[2], p[2];

	(void)state;
	pair(sv);
	event_fd_set(loop, sv[0], EV_READ, on_read, &r);
	close(sv[1]);
	assert_int_equal(event_loop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_true(r.events & EV_ERROR);
	assert_true(r.events & EV_READ);
	assert_int_equal(r.n, 0); /* the reader sees end of file */
	event_fd_del(loop, sv[0]);
	close(sv[0]);

	memset(&r, 0, sizeof(r));
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	event_fd_set(loop, p[0], EV_READ, on_read, &r);
	close(p[1]);
	assert_int_equal(event_loop_once(loop, 1000), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.events, EV_ERROR | EV_READ);
	assert_int_equal(r.n, 0);
	event_loop_free(loop);
	close(p[0]);
}

/* ---- timers ---- */

struct order {
	int seq[16];
	int n;
	struct event_timer *victim;
};

struct tctx {
	struct order *o;
	int id;
};

static void on_timer(struct event_loop *loop, void *ctx)
{
	struct tctx *t = ctx;

	(void)loop;
	t->o->seq[t->o->n++] = t->id;
}

static void run_until(struct event_loop *loop, struct order *o, int n)
{
	long long end = mono_msec() + 2000;

	while (o->n < n && mono_msec() < end)
		assert_int_equal(event_loop_once(loop, 100), 0);
}

static void test_timer_order(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct order o = {0};
	struct tctx t[5];
	long ms[5] = {30, 10, 20, 10, 0};

	(void)state;
	for (int i = 0; i < 5; i++) {
		t[i] = (struct tctx){&o, i};
		event_timer_add(loop, ms[i], on_timer, &t[i]);
	}
	run_until(loop, &o, 5);
	assert_int_equal(o.n, 5);
	assert_int_equal(o.seq[0], 4);
	assert_int_equal(o.seq[1], 1);
	assert_int_equal(o.seq[2], 3);
	assert_int_equal(o.seq[3], 2);
	assert_int_equal(o.seq[4], 0);
	event_loop_free(loop);
}

static void test_timer_fifo(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct order o = {0};
	struct tctx t[10];

	(void)state;
	for (int i = 0; i < 10; i++) {
		t[i] = (struct tctx){&o, i};
		event_timer_add(loop, 0, on_timer, &t[i]);
	}
	assert_int_equal(event_loop_once(loop, 100), 0);
	assert_int_equal(o.n, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(o.seq[i], i);
	event_loop_free(loop);
}

static void test_timer_cancel(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct order o = {0};
	struct tctx t[4];
	struct event_timer *h[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		t[i] = (struct tctx){&o, i};
		h[i] = event_timer_add(loop, 5 * i, on_timer, &t[i]);
	}
	event_timer_cancel(loop, h[2]);
	event_timer_cancel(loop, h[0]);
	run_until(loop, &o, 2);
	assert_int_equal(event_loop_once(loop, 30), 0);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.seq[0], 1);
	assert_int_equal(o.seq[1], 3);
	event_loop_free(loop);
}

static void on_killer(struct event_loop *loop, void *ctx)
{
	struct tctx *t = ctx;

	on_timer(loop, ctx);
	event_timer_cancel(loop, t->o->victim);
}

static void test_timer_cancel_same_round(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct order o = {0};
	struct tctx killer = {&o, 1}, victim = {&o, 2}, after = {&o, 3};

	(void)state;
	/* All three are due in the same round; the first cancels the second. */
	event_timer_add(loop, 0, on_killer, &killer);
	o.victim = event_timer_add(loop, 0, on_timer, &victim);
	event_timer_add(loop, 0, on_timer, &after);
	assert_int_equal(event_loop_once(loop, 100), 0);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.seq[0], 1);
	assert_int_equal(o.seq[1], 3);
	event_loop_free(loop);
}

/* A timer that re-arms itself with 0 ms fires once per round, not forever. */
static void on_rearm(struct event_loop *loop, void *ctx)
{
	int *n = ctx;

	if (++*n < 100)
		event_timer_add(loop, 0, on_rearm, ctx);
}

static void test_timer_rearm(void **state)
{
	struct event_loop *loop = event_loop_new();
	int n = 0;

	(void)state;
	event_timer_add(loop, 0, on_rearm, &n);
	assert_int_equal(event_loop_once(loop, 100), 0);
	assert_int_equal(n, 1);
	assert_int_equal(event_loop_once(loop, 100), 0);
	assert_int_equal(n, 2);
	event_loop_free(loop); /* frees the pending timer without calling it */
	assert_int_equal(n, 2);
}

/* Many timers, half cancelled at random: the heap keeps its promises. */
#define STRESS 300

struct stress {
	struct event_loop *loop;
	long long due[STRESS];
	int fired[STRESS];
	int total;
	int late_misses;
	long long last_due;
	int order_errors;
};

struct stress_ctx {
	struct stress *s;
	int id;
};

static void on_stress(struct event_loop *loop, void *ctx)
{
	struct stress_ctx *c = ctx;

	c->s->fired[c->id]++;
	c->s->total++;
	if (event_now(loop) < c->s->due[c->id])
		c->s->late_misses++;
	/* Fired in deadline order (2 ms slack: our clock reading precedes the
	 * loop's by a little). */
	if (c->s->due[c->id] + 2 < c->s->last_due)
		c->s->order_errors++;
	if (c->s->due[c->id] > c->s->last_due)
		c->s->last_due = c->s->due[c->id];
}

static void test_timer_stress(void **state)
{
	struct stress s = {.loop = event_loop_new()};
	struct stress_ctx c[STRESS];
	struct event_timer *h[STRESS];
	bool cancelled[STRESS] = {false};
	int want = 0;
	long long end;

	(void)state;
	for (int i = 0; i < STRESS; i++) {
		long ms = (long)arc4random_uniform(200);

		c[i] = (struct stress_ctx){&s, i};
		s.due[i] = mono_msec() + ms;
		h[i] = event_timer_add(s.loop, ms, on_stress, &c[i]);
	}
	for (int i = 0; i < STRESS; i++) {
		if (arc4random_uniform(2)) {
			event_timer_cancel(s.loop, h[i]);
			cancelled[i] = true;
		} else {
			want++;
		}
	}
	end = mono_msec() + 3000;
	while (s.total < want && mono_msec() < end)
		assert_int_equal(event_loop_once(s.loop, 100), 0);
	assert_int_equal(s.total, want);
	for (int i = 0; i < STRESS; i++)
		assert_int_equal(s.fired[i], cancelled[i] ? 0 : 1);
	assert_int_equal(s.late_misses, 0);
	assert_int_equal(s.order_errors, 0);
	event_loop_free(s.loop);
}

static void test_timeout_bounds(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct order o = {0};
	struct tctx t = {&o, 7};
	long long start;

	(void)state;
	/* With no timer, max_ms bounds the wait. */
	start = mono_msec();
	assert_int_equal(event_loop_once(loop, 50), 0);
	assert_true(mono_msec() - start >= 45);
	/* A timer shorter than max_ms wakes the loop early. */
	event_timer_add(loop, 30, on_timer, &t);
	start = mono_msec();
	while (o.n == 0 && mono_msec() - start < 2000)
		assert_int_equal(event_loop_once(loop, 5000), 0);
	assert_int_equal(o.n, 1);
	assert_true(mono_msec() - start < 1000);
	assert_true(event_now(loop) >= start + 29);
	event_loop_free(loop);
}

static void on_stop(struct event_loop *loop, void *ctx)
{
	int *n = ctx;

	(*n)++;
	event_loop_stop(loop);
}

static void on_never(struct event_loop *loop, void *ctx)
{
	(void)loop;
	(void)ctx;
	fail_msg("timer after event_loop_stop fired");
}

static void test_stop(void **state)
{
	struct event_loop *loop = event_loop_new();
	int n = 0;

	(void)state;
	event_timer_add(loop, 10, on_stop, &n);
	event_timer_add(loop, 60000, on_never, NULL);
	assert_int_equal(event_loop_run(loop), 0);
	assert_int_equal(n, 1);
	event_loop_free(loop);
}

/* ---- signals ---- */

struct sigrec {
	int signo;
	int calls;
};

static void on_signal(struct event_loop *loop, int signo, void *ctx)
{
	struct sigrec *s = ctx;

	s->signo = signo;
	s->calls++;
	event_loop_stop(loop);
}

static void test_signal(void **state)
{
	struct event_loop *loop = event_loop_new();
	struct sigrec s1 = {0}, s2 = {0};
	sigset_t cur;

	(void)state;
	event_signal(loop, SIGUSR1, on_signal, &s1);
	event_signal(loop, SIGUSR2, on_signal, &s2);
	raise(SIGUSR1); /* blocked: would kill us otherwise */
	event_timer_add(loop, 2000, on_never, NULL);
	assert_int_equal(event_loop_run(loop), 0);
	assert_int_equal(s1.calls, 1);
	assert_int_equal(s1.signo, SIGUSR1);
	assert_int_equal(s2.calls, 0);
	raise(SIGUSR2);
	assert_int_equal(event_loop_run(loop), 0);
	assert_int_equal(s2.calls, 1);
	assert_int_equal(s2.signo, SIGUSR2);
	assert_int_equal(s1.calls, 1);
	raise(SIGUSR1); /* pending at free: discarded, not fatal */
	event_loop_free(loop);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	assert_false(sigismember(&cur, SIGUSR1));
	assert_false(sigismember(&cur, SIGUSR2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read),
	    cmocka_unit_test(test_write),
	    cmocka_unit_test(test_pause_resume),
	    cmocka_unit_test(test_delete_in_round),
	    cmocka_unit_test(test_delete_and_reuse_in_round),
	    cmocka_unit_test(test_error_on_close),
	    cmocka_unit_test(test_timer_order),
	    cmocka_unit_test(test_timer_fifo),
	    cmocka_unit_test(test_timer_cancel),
	    cmocka_unit_test(test_timer_cancel_same_round),
	    cmocka_unit_test(test_timer_rearm),
	    cmocka_unit_test(test_timer_stress),
	    cmocka_unit_test(test_timeout_bounds),
	    cmocka_unit_test(test_stop),
	    cmocka_unit_test(test_signal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
