/*
 * event.h - a single-threaded event loop over epoll, with timers and signals.
 *
 * Callbacks run one at a time from event_loop_run().  A callback may add,
 * change or delete any fd or timer, including its own, and may free the
 * context of an fd it deleted: the loop never touches a deleted entry again
 * in the same round.  Signals are delivered through signalfd as ordinary
 * callbacks, so handlers can do real work safely.
 */
#ifndef TERN_EVENT_H
#define TERN_EVENT_H

#include <stdbool.h>

#define EV_READ 0x1
#define EV_WRITE 0x2
#define EV_ERROR 0x4 /* passed to callbacks only: hang-up or error */

struct event_loop;
struct event_timer;

typedef void event_fd_fn(struct event_loop *loop, int fd, int events, void *ctx);
typedef void event_timer_fn(struct event_loop *loop, void *ctx);
typedef void event_signal_fn(struct event_loop *loop, int signo, void *ctx);

struct event_loop *event_loop_new(void);
/* Closes the loop's descriptors (not the watched ones), frees pending timers
 * without calling them, discards pending signals of event_signal() and
 * unblocks those it blocked. */
void event_loop_free(struct event_loop *loop);

/* Watches fd for events (EV_READ|EV_WRITE, may be 0 to pause: a paused fd
 * gets no callback at all, not even EV_ERROR).  Calling it again for the
 * same fd replaces callback, context and events. */
void event_fd_set(struct event_loop *loop, int fd, int events, event_fd_fn *fn, void *ctx);
/* Changes only the events of a watched fd. */
void event_fd_events(struct event_loop *loop, int fd, int events);
/* Stops watching fd (does not close it). */
void event_fd_del(struct event_loop *loop, int fd);

/* One-shot timer after ms milliseconds.  The handle is valid until the
 * timer fires or is cancelled. */
struct event_timer *event_timer_add(
    struct event_loop *loop, long ms, event_timer_fn *fn, void *ctx);
void event_timer_cancel(struct event_loop *loop, struct event_timer *t);

/* Blocks signo and delivers it as a callback (via signalfd).  The signal
 * stays blocked in children forked meanwhile: unblock it before exec. */
void event_signal(struct event_loop *loop, int signo, event_signal_fn *fn, void *ctx);

/* Runs until event_loop_stop(); returns 0, or -1 on an epoll error. */
int event_loop_run(struct event_loop *loop);
/* Runs one round, waiting at most max_ms (-1 = until something happens). */
int event_loop_once(struct event_loop *loop, long max_ms);
void event_loop_stop(struct event_loop *loop);

/* Cached monotonic time in ms, updated every round. */
long long event_now(struct event_loop *loop);

#endif
