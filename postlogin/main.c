/*
 * main.c - postlogin: the root dispatcher between the login processes and
 * the users' processes (postlogin(8)).
 *
 * master starts one postlogin process (maxproc 1: the table of users'
 * processes is its state).  While root it binds login/postlogin, the
 * socket the login processes (default_login_user, chrooted into login/)
 * reach; it stays root, since it starts each user's process as that
 * user.  It trusts nothing a login process says about who logged in: a
 * login connection brings one client connection (SCM_RIGHTS) and the
 * one-time token auth gave the login process; the account comes from
 * auth itself, by redeeming the token on the trusted socket (for the
 * same service and client address, or auth refuses).  Everything else in
 * the record (addresses, TLS, the tag) only travels on to the user's
 * process, for its replies and log lines.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/client.h"
#include "config.h"
#include "daemon.h"
#include "dispatch.h"
#include "ipc.h"
#include "log.h"
#include "login/login_dir.h"
#include "sock.h"
#include "util.h"

#define POSTLOGIN_BACKLOG 1024
#define POSTLOGIN_READ_TIMEOUT_MS 10000

/* The services a user's process may be started for (userproc_program). */
static const char *const postlogin_services[] = {"imap", "pop3", "sieve", "jmap", NULL};

struct lconn {
	struct ipc_conn conn;
	struct ipc_msg msg;
	struct handoff h;
	int client_fd;
	struct auth_call *call;
	struct event_timer *timer;
	bool replied;
};

static struct {
	struct daemon d;
	struct event_loop *loop;
	struct auth_client *auth;
	int listen_fd;
	unsigned conns;
} pl;

static void lconn_free(struct lconn *c)
{
	if (c->call)
		auth_call_abort(c->call);
	if (c->timer)
		event_timer_cancel(pl.loop, c->timer);
	event_fd_del(pl.loop, c->conn.fd);
	if (c->client_fd >= 0)
		close(c->client_fd);
	ipc_conn_close(&c->conn);
	ipc_msg_free(&c->msg);
	free(c);
	pl.conns--;
}

static void lconn_writable(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct lconn *c = ctx;

	(void)loop;
	(void)fd;
	(void)events;
	if (ipc_conn_flush(&c->conn) != 0)
		lconn_free(c); /* all sent, or the login process is gone */
}

/* Answers the login process; the connection ends when the answer is out. */
static void lconn_reply(struct lconn *c, const struct handoff_reply *r)
{
	if (c->timer) {
		event_timer_cancel(pl.loop, c->timer);
		c->timer = NULL;
	}
	c->replied = true;
	handoff_reply_encode(&c->conn.out, r);
	if (ipc_conn_flush(&c->conn) != 0) {
		lconn_free(c);
		return;
	}
	event_fd_set(pl.loop, c->conn.fd, EV_WRITE, lconn_writable, c);
}

static void lconn_fail(struct lconn *c, bool temporary, const char *reason)
{
	struct handoff_reply r = {.ok = false, .temporary = temporary, .reason = reason};

	lconn_reply(c, &r);
}

static void lconn_redeemed(struct auth_call *call, const struct auth_reply *a, void *ctx)
{
	struct lconn *c = ctx;
	struct postlogin_info *i = &c->h.info;
	struct handoff_reply r = {.ok = true};
	const char *why = NULL;
	int fd = c->client_fd;

	(void)call;
	c->call = NULL;
	if (a->status != AUTH_OK || !a->has_account) {
		log_warn("%s login from %s: token refused (%s)", i->service, i->client_addr,
		    auth_code_name(a->code));
		lconn_fail(c, auth_code_temporary(a->code), "Login failed");
		return;
	}
	c->h.op = HANDOFF_CLIENT;
	c->h.token = NULL;
	i->user = a->account.user ? a->account.user : a->user;
	i->uid = a->account.uid;
	i->gid = a->account.gid;
	i->home = a->account.home ? a->account.home : "";
	i->maildir = a->account.maildir ? a->account.maildir : "";
	i->quota_rule = a->account.quota_rule ? a->account.quota_rule : "";
	c->client_fd = -1;
	if ((r.pid = userproc_give(&c->h, fd, &why)) < 0) {
		log_warn("%s(%s): %s", i->service, i->user, why);
		lconn_fail(
		    c, true, "Internal error occurred. Refer to server log for more information.");
		return;
	}
	lconn_reply(c, &r);
}

static bool postlogin_service_known(const char *s)
{
	for (size_t i = 0; postlogin_services[i]; i++)
		if (strcmp(s, postlogin_services[i]) == 0)
			return true;
	return false;
}

/* One complete record from the login process: check it, redeem its token. */
static void lconn_request(struct lconn *c)
{
	struct auth_request req = {.op = AUTH_OP_REDEEM};
	const char *why;

	c->client_fd = c->conn.passed_fd;
	c->conn.passed_fd = -1;
	if (handoff_decode(&c->msg, &c->h, &why) < 0 || c->h.op != HANDOFF_LOGIN) {
		log_warn("bad request from a login process: %s",
		    c->h.op != HANDOFF_LOGIN ? "not a login" : why);
		lconn_free(c);
		return;
	}
	if (c->client_fd < 0 || !postlogin_service_known(c->h.info.service)) {
		log_warn("bad request from a login process: %s",
		    c->client_fd < 0 ? "no connection passed" : "unknown service");
		lconn_free(c);
		return;
	}
	event_fd_events(pl.loop, c->conn.fd, 0);
	req.token = c->h.token;
	req.service = c->h.info.service;
	req.client_addr = c->h.info.client_addr;
	c->call = auth_client_call(pl.auth, &req, lconn_redeemed, c);
}

static void lconn_readable(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct lconn *c = ctx;
	enum ipc_result r = IPC_MORE;
	const char *why = "closed";
	ssize_t n;

	(void)loop;
	(void)fd;
	(void)events;
	while ((n = ipc_conn_fill(&c->conn)) > 0)
		if ((r = ipc_conn_next(&c->conn, &c->msg, &why)) != IPC_MORE)
			break;
	if (r == IPC_OK) {
		lconn_request(c);
		return;
	}
	if (r == IPC_MORE && n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == IPC_ERROR)
		log_warn("bad request from a login process: %s", why);
	lconn_free(c);
}

static void lconn_timeout(struct event_loop *loop, void *ctx)
{
	struct lconn *c = ctx;

	(void)loop;
	c->timer = NULL;
	if (c->call == NULL && !c->replied) {
		log_warn("a login process sent no request in time");
		lconn_free(c);
	}
}

static void postlogin_accept(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct lconn *c;
	int cfd;

	(void)fd;
	(void)events;
	(void)ctx;
	while ((cfd = accept4(pl.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = xcalloc(1, sizeof(*c));
		ipc_conn_init(&c->conn, cfd);
		c->conn.max_record = HANDOFF_MAX_RECORD;
		ipc_msg_init(&c->msg);
		c->client_fd = -1;
		c->timer = event_timer_add(loop, POSTLOGIN_READ_TIMEOUT_MS, lconn_timeout, c);
		pl.conns++;
		event_fd_set(loop, cfd, EV_READ, lconn_readable, c);
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		log_warn("accept on %s: %s", HANDOFF_SOCKET, strerror(errno));
}

/* Nobody is meant to connect to the master.cf socket (private/postlogin). */
static void postlogin_master_accept(struct event_loop *loop, int fd, void *ctx)
{
	(void)loop;
	(void)ctx;
	close(fd);
}

static void postlogin_sigchld(struct event_loop *loop, int signo, void *ctx)
{
	(void)loop;
	(void)signo;
	(void)ctx;
	userproc_reap();
}

/* After SIGHUP: a new dispatcher takes over once no login is half-way. */
static bool postlogin_idle(void *ctx)
{
	(void)ctx;
	return pl.conns == 0;
}

int main(int argc, char **argv)
{
	struct buf err = BUF_INIT;

	daemon_init(&pl.d, argc, argv, "postlogin", DAEMON_KEEP_ROOT);
	login_dir_make();
	pl.listen_fd = sock_unix_listen(HANDOFF_SOCKET, 0666, POSTLOGIN_BACKLOG, &err);
	if (pl.listen_fd < 0)
		log_fatal("%s: %s", HANDOFF_SOCKET, buf_cstr(&err));
	buf_free(&err);
	pl.loop = event_loop_new();
	userproc_init(pl.loop);
	pl.auth = auth_client_new(
	    pl.loop, AUTH_SOCKET_TRUSTED, "postlogin", config_time("auth_request_timeout") * 1000);
	event_signal(pl.loop, SIGCHLD, postlogin_sigchld, NULL);
	event_fd_set(pl.loop, pl.listen_fd, EV_READ, postlogin_accept, NULL);
	daemon_event_server(&pl.d, pl.loop, postlogin_master_accept, postlogin_idle, NULL);
	if (event_loop_run(pl.loop) < 0)
		log_fatal("event loop failed");
	return 0;
}
