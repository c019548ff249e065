/*
 * avail.c - processes on demand: the status pipes and the listening
 * sockets master itself watches.
 *
 * Every process of a service shares the service's listening socket and
 * writes to the service's status pipe when it becomes busy or available
 * again (proc_status.h); a new process counts as available.  While at
 * least one process is available, master leaves the socket to them.
 * When none is and the service may still grow (below maxproc, not
 * throttled after failures), master watches the socket itself: a client
 * that is waiting there means nobody can take it, so master starts one
 * more process, which counts as available until it says otherwise.
 * This is Postfix's master_avail.c scheme; it lets "maxproc -" mean an
 * upper bound rather than a hundred processes started up front.
 *
 * master never accepts a connection itself.  Because it stops watching
 * as soon as it has started a process, a connection that waits while a
 * process is starting costs one wake-up, not a busy loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "proc_status.h"
#include "util.h"

#define AVAIL_STATUS_BUF 65536 /* unread status bytes kept, at most */

static struct master *avail_master;

static struct mchild *avail_child(struct master *m, struct mservice *s, pid_t pid)
{
	for (struct mchild *c = m->children; c; c = c->next)
		if (c->pid == pid && c->svc == s)
			return c;
	return NULL;
}

static void avail_set(struct mservice *s, struct mchild *c, bool busy)
{
	if (c->busy == busy)
		return;
	c->busy = busy;
	s->avail += busy ? -1 : 1;
}

/* Applies every complete record; false on bytes that are no record. */
static bool avail_records(struct master *m, struct mservice *s)
{
	size_t used;
	pid_t pid;
	bool busy;
	enum ipc_result r;

	while ((r = proc_status_decode(s->status_in.data, s->status_in.len, &pid, &busy, &used)) ==
	       IPC_OK) {
		struct mchild *c = avail_child(m, s, pid);

		buf_consume(&s->status_in, used);
		/* A process reaped meanwhile, or one of another service. */
		if (c)
			avail_set(s, c, busy);
	}
	return r != IPC_ERROR;
}

static void avail_status_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct mservice *s = ctx;
	ssize_t n;

	(void)loop;
	(void)events;
	do {
		buf_reserve(&s->status_in, 4096);
		n = read(fd, buf_tail(&s->status_in), 4096);
		if (n > 0)
			buf_commit(&s->status_in, (size_t)n);
	} while (n > 0 && s->status_in.len < AVAIL_STATUS_BUF);
	if (!avail_records(avail_master, s) || s->status_in.len >= AVAIL_STATUS_BUF) {
		log_warn("service %s: garbled status reports; ignoring them", s->cf.name);
		buf_reset(&s->status_in);
	}
	master_avail_update(avail_master, s);
}

void master_status_open(struct master *m, struct mservice *s)
{
	avail_master = m;
	s->status_fd[0] = s->status_fd[1] = -1;
	if (pipe2(s->status_fd, O_CLOEXEC) < 0)
		log_fatal("pipe: %s", strerror(errno));
	fcntl(s->status_fd[0], F_SETFL, O_NONBLOCK);
	event_fd_set(m->loop, s->status_fd[0], EV_READ, avail_status_event, s);
}

void master_status_close(struct master *m, struct mservice *s)
{
	if (s->status_fd[0] >= 0) {
		event_fd_del(m->loop, s->status_fd[0]);
		close(s->status_fd[0]);
		close(s->status_fd[1]);
	}
	s->status_fd[0] = s->status_fd[1] = -1;
	buf_free(&s->status_in);
}

/* A client waits and no process is available: one more. */
static void avail_listen_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct mservice *s = ctx;

	(void)loop;
	(void)fd;
	(void)events;
	if (s->avail == 0 && (s->limit == 0 || s->running - s->draining < s->limit))
		master_spawn_one(avail_master, s);
	master_avail_update(avail_master, s);
}

/* Whether master should watch the socket for clients nobody takes. */
static bool avail_should_watch(struct master *m, struct mservice *s)
{
	if (m->stopping || s->retired || s->listen_fd < 0 || s->avail > 0)
		return false;
	if (s->limit > 0 && s->running - s->draining >= s->limit)
		return false;
	/* Throttled, or probing after failures: the timers decide. */
	if (mono_msec() < s->not_before || (s->failures > 1 && s->running > 0))
		return false;
	return true;
}

void master_avail_update(struct master *m, struct mservice *s)
{
	bool want = avail_should_watch(m, s);

	avail_master = m;
	if (want == s->watching)
		return;
	if (want)
		event_fd_set(m->loop, s->listen_fd, EV_READ, avail_listen_event, s);
	else
		event_fd_del(m->loop, s->listen_fd);
	s->watching = want;
}

void master_avail_child_gone(struct mservice *s, struct mchild *c)
{
	if (!c->busy)
		s->avail--;
}
