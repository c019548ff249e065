/*
 * event.c - a single-threaded event loop over epoll, with timers and signals.
 *
 * One round: wait in epoll_wait() until an fd is ready or the next timer is
 * due, dispatch the ready fds, then fire the timers that are due.
 *
 * Descriptors live in an array indexed by fd.  Each registration gets a
 * generation number that travels with the epoll event, so an event taken
 * in a batch is dropped when its fd was deleted - and perhaps reused by a
 * new registration - by an earlier callback of the same round.  The loop is
 * level-triggered: a callback that leaves data unread is called again.
 *
 * A paused fd (events 0) is kept registered here but removed from the epoll
 * set: epoll always reports EPOLLHUP/EPOLLERR, even for an empty event mask,
 * so a paused descriptor whose peer hung up would otherwise spin the loop.
 *
 * Timers sit in a binary min-heap ordered by (deadline, sequence), so equal
 * deadlines fire in the order they were added; each timer knows its heap
 * index, which makes cancelling O(log n).
 *
 * Signals are blocked and read from one signalfd, so their callbacks run as
 * ordinary code, not in a signal handler.  SIGPIPE is not handled here:
 * programs ignore it themselves.
 *
 * Not done here: threads, edge-triggered mode, I/O buffering.
 */
#include "event.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define EVENT_BATCH 64
#define TIMER_FIRING SIZE_MAX /* heap index of a timer whose callback runs */

struct event_fd {
	event_fd_fn *fn;
	void *ctx;
	int events;    /* EV_READ|EV_WRITE wanted; 0 = paused */
	bool used;     /* registered */
	bool in_epoll; /* present in the epoll set */
	uint32_t gen;  /* bumped at every new registration */
};

struct event_timer {
	long long deadline;	/* monotonic ms */
	unsigned long long seq; /* FIFO order among equal deadlines */
	size_t index;		/* position in the heap, or TIMER_FIRING */
	event_timer_fn *fn;
	void *ctx;
};

struct event_sig {
	event_signal_fn *fn;
	void *ctx;
};

struct event_loop {
	int epfd;
	struct event_fd *fds;
	size_t nfds;
	struct event_timer **heap;
	size_t nheap;
	size_t capheap;
	unsigned long long timer_seq;
	int sigfd;
	sigset_t sigs;	       /* signals delivered through sigfd */
	sigset_t sigs_blocked; /* of those, the ones we blocked ourselves */
	struct event_sig sigtab[NSIG];
	long long now;
	bool stop;
};

struct event_loop *event_loop_new(void)
{
	struct event_loop *loop = xcalloc(1, sizeof(*loop));

	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		log_fatal("epoll_create1: %s", strerror(errno));
	loop->sigfd = -1;
	sigemptyset(&loop->sigs);
	sigemptyset(&loop->sigs_blocked);
	loop->now = mono_msec();
	return loop;
}

/*
 * Discards signals still pending on the signalfd before unblocking them, so
 * a late SIGTERM does not kill the process with its default action while
 * it is cleaning up.
 */
static void event_signal_release(struct event_loop *loop)
{
	struct signalfd_siginfo si;

	if (loop->sigfd < 0)
		return;
	while (read(loop->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		continue;
	close(loop->sigfd);
	loop->sigfd = -1;
	sigprocmask(SIG_UNBLOCK, &loop->sigs_blocked, NULL);
}

void event_loop_free(struct event_loop *loop)
{
	if (loop == NULL)
		return;
	event_signal_release(loop);
	close(loop->epfd);
	for (size_t i = 0; i < loop->nheap; i++)
		free(loop->heap[i]);
	free(loop->heap);
	free(loop->fds);
	free(loop);
}

/* ---- descriptors ---- */

static struct event_fd *event_fd_slot(struct event_loop *loop, int fd)
{
	size_t n;

	if (fd < 0)
		log_panic("event: negative descriptor %d", fd);
	if ((size_t)fd >= loop->nfds) {
		n = loop->nfds ? loop->nfds : 64;
		while (n <= (size_t)fd)
			n *= 2;
		loop->fds = xreallocarray(loop->fds, n, sizeof(*loop->fds));
		memset(loop->fds + loop->nfds, 0, (n - loop->nfds) * sizeof(*loop->fds));
		loop->nfds = n;
	}
	return &loop->fds[fd];
}

static struct event_fd *event_fd_find(struct event_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nfds || !loop->fds[fd].used)
		return NULL;
	return &loop->fds[fd];
}

static uint32_t event_to_epoll(int events)
{
	return (events & EV_READ ? EPOLLIN : 0) | (events & EV_WRITE ? EPOLLOUT : 0);
}

/* Brings the epoll set in line with e->events (see the header comment). */
static void event_fd_sync(struct event_loop *loop, int fd, struct event_fd *e)
{
	struct epoll_event ev = {0};
	int op, r;

	if (e->events == 0) {
		if (e->in_epoll && epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 &&
		    errno != ENOENT && errno != EBADF)
			log_fatal("epoll_ctl del fd %d: %s", fd, strerror(errno));
		e->in_epoll = false;
		return;
	}
	ev.events = event_to_epoll(e->events);
	ev.data.u64 = (uint64_t)e->gen << 32 | (uint32_t)fd;
	op = e->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	r = epoll_ctl(loop->epfd, op, fd, &ev);
	/* A descriptor closed and reopened behind our back left the set. */
	if (r < 0 && op == EPOLL_CTL_MOD && errno == ENOENT)
		r = epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev);
	else if (r < 0 && op == EPOLL_CTL_ADD && errno == EEXIST)
		r = epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
	if (r < 0)
		log_fatal("epoll_ctl fd %d: %s", fd, strerror(errno));
	e->in_epoll = true;
}

void event_fd_set(struct event_loop *loop, int fd, int events, event_fd_fn *fn, void *ctx)
{
	struct event_fd *e = event_fd_slot(loop, fd);

	if (!e->used) {
		e->used = true;
		e->in_epoll = false;
		e->gen++;
	}
	e->fn = fn;
	e->ctx = ctx;
	e->events = events & (EV_READ | EV_WRITE);
	event_fd_sync(loop, fd, e);
}

void event_fd_events(struct event_loop *loop, int fd, int events)
{
	struct event_fd *e = event_fd_find(loop, fd);

	if (e == NULL)
		log_panic("event: fd %d is not watched", fd);
	events &= EV_READ | EV_WRITE;
	if (events == e->events)
		return;
	e->events = events;
	event_fd_sync(loop, fd, e);
}

void event_fd_del(struct event_loop *loop, int fd)
{
	struct event_fd *e = event_fd_find(loop, fd);

	if (e == NULL)
		return;
	e->events = 0;
	event_fd_sync(loop, fd, e);
	e->used = false;
	e->fn = NULL;
	e->ctx = NULL;
}

/*
 * Dispatches one epoll event unless its registration went away earlier in
 * this round.  A hang-up or error also reports EV_READ so that a reader
 * sees the end of file through its ordinary read path.
 */
static void event_fd_dispatch(struct event_loop *loop, const struct epoll_event *ev)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	struct event_fd *e = event_fd_find(loop, fd);
	int events = 0;

	if (e == NULL || e->gen != gen || !e->in_epoll)
		return;
	if (ev->events & EPOLLIN)
		events |= EV_READ;
	if (ev->events & EPOLLOUT)
		events |= EV_WRITE;
	events &= e->events;
	if (ev->events & (EPOLLHUP | EPOLLERR))
		events |= EV_ERROR | (e->events & EV_READ);
	if (events != 0)
		e->fn(loop, fd, events, e->ctx);
}

/* ---- timers ---- */

static bool timer_before(const struct event_timer *a, const struct event_timer *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return a->seq < b->seq;
}

static void heap_place(struct event_loop *loop, size_t i, struct event_timer *t)
{
	loop->heap[i] = t;
	t->index = i;
}

static void heap_up(struct event_loop *loop, size_t i)
{
	struct event_timer *t = loop->heap[i];

	while (i > 0 && timer_before(t, loop->heap[(i - 1) / 2])) {
		heap_place(loop, i, loop->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_place(loop, i, t);
}

static void heap_down(struct event_loop *loop, size_t i)
{
	struct event_timer *t = loop->heap[i];
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap && timer_before(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!timer_before(loop->heap[c], t))
			break;
		heap_place(loop, i, loop->heap[c]);
		i = c;
	}
	heap_place(loop, i, t);
}

/* Takes the timer at heap index i out of the heap. */
static void heap_remove(struct event_loop *loop, size_t i)
{
	struct event_timer *last = loop->heap[--loop->nheap];

	loop->heap[i]->index = TIMER_FIRING;
	if (i == loop->nheap)
		return;
	heap_place(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->index);
}

struct event_timer *event_timer_add(struct event_loop *loop, long ms, event_timer_fn *fn, void *ctx)
{
	struct event_timer *t = xmalloc(sizeof(*t));

	/* A fresh clock reading: the cached one may be stale after slow work. */
	t->deadline = mono_msec() + (ms > 0 ? ms : 0);
	t->seq = loop->timer_seq++;
	t->fn = fn;
	t->ctx = ctx;
	if (loop->nheap == loop->capheap) {
		loop->capheap = loop->capheap ? loop->capheap * 2 : 16;
		loop->heap = xreallocarray(loop->heap, loop->capheap, sizeof(*loop->heap));
	}
	loop->nheap++;
	heap_place(loop, loop->nheap - 1, t);
	heap_up(loop, loop->nheap - 1);
	return t;
}

/* Cancelling a timer from its own callback is harmless: it is freed anyway. */
void event_timer_cancel(struct event_loop *loop, struct event_timer *t)
{
	if (t == NULL || t->index == TIMER_FIRING)
		return;
	if (t->index >= loop->nheap || loop->heap[t->index] != t)
		log_panic("event: cancelling a timer that is not pending");
	heap_remove(loop, t->index);
	free(t);
}

/*
 * Fires the timers due now, earliest first.  Only timers that existed when
 * the run started may fire, so a callback that re-arms itself with 0 ms
 * cannot keep the loop from polling descriptors.  A timer cancelled by an
 * earlier callback has already left the heap and so never fires.
 */
static void event_timers_run(struct event_loop *loop)
{
	unsigned long long limit = loop->timer_seq;
	struct event_timer *t;

	while (loop->nheap > 0) {
		t = loop->heap[0];
		if (t->deadline > loop->now || t->seq >= limit)
			break;
		heap_remove(loop, 0);
		t->fn(loop, t->ctx);
		free(t);
	}
}

/* epoll_wait timeout: the time to the next timer, bounded by max_ms. */
static int event_timeout(struct event_loop *loop, long max_ms)
{
	long long wait = -1;

	if (loop->nheap > 0) {
		wait = loop->heap[0]->deadline - mono_msec();
		if (wait < 0)
			wait = 0;
	}
	if (max_ms >= 0 && (wait < 0 || max_ms < wait))
		wait = max_ms;
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

/* ---- signals ---- */

static void event_signal_read(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct signalfd_siginfo si;
	struct event_sig *s;
	ssize_t n;

	(void)events;
	(void)ctx;
	while ((n = read(fd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo >= NSIG)
			continue;
		s = &loop->sigtab[si.ssi_signo];
		if (s->fn != NULL)
			s->fn(loop, (int)si.ssi_signo, s->ctx);
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		log_fatal("read signalfd: %s", strerror(errno));
}

void event_signal(struct event_loop *loop, int signo, event_signal_fn *fn, void *ctx)
{
	sigset_t one, old;
	int fd;

	if (signo <= 0 || signo >= NSIG)
		log_panic("event: bad signal number %d", signo);
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, &old) < 0)
		log_fatal("sigprocmask: %s", strerror(errno));
	if (!sigismember(&old, signo))
		sigaddset(&loop->sigs_blocked, signo);
	sigaddset(&loop->sigs, signo);
	loop->sigtab[signo].fn = fn;
	loop->sigtab[signo].ctx = ctx;
	fd = signalfd(loop->sigfd, &loop->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		log_fatal("signalfd: %s", strerror(errno));
	if (loop->sigfd < 0) {
		loop->sigfd = fd;
		event_fd_set(loop, fd, EV_READ, event_signal_read, NULL);
	}
}

/* ---- running ---- */

int event_loop_once(struct event_loop *loop, long max_ms)
{
	struct epoll_event evs[EVENT_BATCH];
	int n;

	n = epoll_wait(loop->epfd, evs, EVENT_BATCH, event_timeout(loop, max_ms));
	loop->now = mono_msec();
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		log_error("epoll_wait: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++)
		event_fd_dispatch(loop, &evs[i]);
	event_timers_run(loop);
	return 0;
}

int event_loop_run(struct event_loop *loop)
{
	int r = 0;

	while (!loop->stop && r == 0)
		r = event_loop_once(loop, -1);
	loop->stop = false;
	return r;
}

void event_loop_stop(struct event_loop *loop)
{
	loop->stop = true;
}

long long event_now(struct event_loop *loop)
{
	return loop->now;
}
