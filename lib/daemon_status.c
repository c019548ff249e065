/*
 * daemon_status.c - a daemon's side of the status pipe master gives it,
 * and its watch on master's life.
 *
 * master starts every daemon with the write end of its service's status
 * pipe on DAEMON_STATUS_FD and TERN_STATUS_FD set in the environment
 * (daemon.h).  Through it the daemon says when it is busy or available
 * again (proc_status.h), which is how master knows when to start another
 * process.
 *
 * The pipe also tells the daemon that master is gone: master holds the
 * only read end, so when master dies, even by SIGKILL, the write end
 * polls as POLLERR.  Event servers watch it in their loop and stop at
 * once; blocking servers look between clients.  As a second line, a
 * daemon asks the kernel for SIGTERM when its parent dies
 * (PR_SET_PDEATHSIG), after it dropped privileges, because a change of
 * credentials clears that setting; it covers servers with loops of their
 * own.  Either way a daemon finishes or abandons the client in hand the
 * way SIGTERM does, so orphans never keep serving a port or a socket
 * that a new master has taken over.
 *
 * Without TERN_STATUS_FD (a daemon run by hand or by a test) there is no
 * pipe and every function here does nothing.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "proc_status.h"

static int status_fd = -1;
static bool status_busy;

/* Adopts descriptor DAEMON_STATUS_FD when master said it is ours. */
void daemon_status_open(void)
{
	const char *env = getenv("TERN_STATUS_FD");
	struct stat st;

	if (env == NULL || atoi(env) != DAEMON_STATUS_FD)
		return;
	unsetenv("TERN_STATUS_FD"); /* not for our own children */
	if (fstat(DAEMON_STATUS_FD, &st) < 0 || !S_ISFIFO(st.st_mode))
		return;
	status_fd = DAEMON_STATUS_FD;
	/* Commands local runs must not inherit it, nor block us on it. */
	fcntl(status_fd, F_SETFD, FD_CLOEXEC);
	fcntl(status_fd, F_SETFL, fcntl(status_fd, F_GETFL) | O_NONBLOCK);
}

int daemon_status_fd(void)
{
	return status_fd;
}

void daemon_status_set_busy(bool busy)
{
	struct buf b = BUF_INIT;

	if (status_fd < 0 || busy == status_busy)
		return;
	status_busy = busy;
	proc_status_encode(&b, getpid(), busy);
	/* One small write is atomic; a full pipe (master stuck) loses a
	 * report, which costs at most a late extra process. */
	if (write(status_fd, b.data, b.len) < 0 && errno == EPIPE)
		log_debug("status pipe: master has gone");
	buf_free(&b);
}

bool daemon_master_gone(void)
{
	struct pollfd p = {.fd = status_fd, .events = 0};

	if (status_fd < 0)
		return false;
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0;
}

static void daemon_status_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	(void)ctx;
	if (!(events & EV_ERROR))
		return;
	log_info("master has gone: exiting");
	event_fd_del(loop, fd);
	event_loop_stop(loop);
}

void daemon_status_watch(struct event_loop *loop)
{
	/* A pipe's write end never reads as readable: only EV_ERROR comes. */
	if (status_fd >= 0)
		event_fd_set(loop, status_fd, EV_READ, daemon_status_event, NULL);
}

/*
 * SIGTERM when master dies.  parent is getppid() from before anything
 * could have raced: if master died meanwhile we have been re-parented
 * and leave at once.
 */
void daemon_parent_watch(pid_t parent)
{
	if (status_fd < 0)
		return;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		log_warn("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
	if (getppid() != parent || daemon_master_gone()) {
		log_info("master has gone: exiting");
		exit(0);
	}
}
