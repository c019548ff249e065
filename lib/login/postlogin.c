/*
 * login/postlogin.c - the user process's end of the hand-off (postlogin.h).
 *
 * The dispatcher started this process with its channel on the descriptor
 * named by TERN_POSTLOGIN_FD.  Each {op=client} record carries one client
 * connection (SCM_RIGHTS on the record's first bytes); each finished
 * session is reported back with {op=done}, so that the dispatcher knows
 * when the user has no session left.  The dispatcher, not this process,
 * decides when the process ends: it closes the channel when the count of
 * sessions it handed over reaches zero, and since it counts the sessions
 * it sent and the dones it read, no client can be in flight then.  This
 * process stops once the channel is closed and no session is open.
 */
#include "login/postlogin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "login/handoff.h"
#include "sock.h"
#include "util.h"

#define POSTLOGIN_ENV "TERN_POSTLOGIN_FD"

static struct {
	struct event_loop *loop;
	struct ipc_conn conn;
	struct ipc_msg msg;
	postlogin_client_fn *fn;
	void *ctx;
	unsigned clients;
	bool gone; /* the dispatcher closed the channel */
} pl;

bool postlogin_started(void)
{
	return getenv(POSTLOGIN_ENV) != NULL;
}

static void postlogin_check_end(void)
{
	if (pl.gone && pl.clients == 0)
		event_loop_stop(pl.loop);
}

static void postlogin_lost(const char *why)
{
	if (!pl.gone && why != NULL)
		log_warn("channel to postlogin: %s", why);
	if (pl.conn.fd >= 0)
		event_fd_del(pl.loop, pl.conn.fd);
	ipc_conn_close(&pl.conn);
	pl.conn.fd = -1;
	pl.gone = true;
	postlogin_check_end();
}

static void postlogin_client(const struct handoff *h)
{
	int fd = pl.conn.passed_fd;

	pl.conn.passed_fd = -1;
	if (fd < 0) {
		log_warn("postlogin sent a client without a connection");
		return;
	}
	sock_nonblock(fd, true);
	sock_cloexec(fd, true);
	pl.clients++;
	pl.fn(pl.loop, fd, &h->info, h->pending, h->pending_len, pl.ctx);
}

static void postlogin_records(void)
{
	struct handoff h;
	const char *why;
	enum ipc_result r;

	while ((r = ipc_conn_next(&pl.conn, &pl.msg, &why)) == IPC_OK) {
		if (handoff_decode(&pl.msg, &h, &why) < 0 || h.op != HANDOFF_CLIENT) {
			postlogin_lost(h.op != HANDOFF_CLIENT ? "unexpected record" : why);
			return;
		}
		postlogin_client(&h);
	}
	if (r == IPC_ERROR)
		postlogin_lost(why);
}

static void postlogin_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	ssize_t n;

	(void)loop;
	(void)fd;
	(void)ctx;
	if ((events & EV_WRITE) && ipc_conn_flush(&pl.conn) < 0) {
		postlogin_lost(strerror(errno));
		return;
	}
	if (events & (EV_READ | EV_ERROR)) {
		while ((n = ipc_conn_fill(&pl.conn)) > 0) {
			postlogin_records();
			if (pl.conn.fd < 0)
				return;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			postlogin_lost(NULL); /* closed: the dispatcher let go */
			return;
		}
	}
	event_fd_events(pl.loop, pl.conn.fd, EV_READ | (pl.conn.out.len ? EV_WRITE : 0));
}

int postlogin_run(struct event_loop *loop, postlogin_client_fn *fn, void *ctx)
{
	const char *env = getenv(POSTLOGIN_ENV);
	struct stat st;
	long fd;

	if (env == NULL || !parse_long(env, 0, 1024 * 1024, &fd) || fstat((int)fd, &st) < 0 ||
	    !S_ISSOCK(st.st_mode)) {
		log_error("no channel from postlogin (%s)", env ? env : "not started by it");
		return 1;
	}
	unsetenv(POSTLOGIN_ENV);
	pl.loop = loop;
	pl.fn = fn;
	pl.ctx = ctx;
	ipc_conn_init(&pl.conn, (int)fd);
	pl.conn.max_record = HANDOFF_MAX_RECORD;
	ipc_msg_init(&pl.msg);
	sock_nonblock((int)fd, true);
	sock_cloexec((int)fd, true);
	event_fd_set(loop, (int)fd, EV_READ, postlogin_event, NULL);
	if (event_loop_run(loop) < 0)
		log_fatal("event loop failed");
	ipc_msg_free(&pl.msg);
	return 0;
}

void postlogin_client_done(void)
{
	struct handoff h = {.op = HANDOFF_DONE};

	if (pl.clients == 0)
		log_panic("postlogin_client_done without a client");
	pl.clients--;
	if (pl.conn.fd >= 0) {
		handoff_encode(&pl.conn.out, &h);
		if (ipc_conn_flush(&pl.conn) < 0)
			postlogin_lost(strerror(errno));
		else
			event_fd_events(
			    pl.loop, pl.conn.fd, EV_READ | (pl.conn.out.len ? EV_WRITE : 0));
	}
	postlogin_check_end();
}
