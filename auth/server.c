/*
 * server.c - the auth daemon's client connections.
 *
 * Two listening sockets: private/auth (fd 3 from master; trusted daemons
 * and root's) and login/auth (bound by main.c; the login processes).  A
 * connection remembers which one it came from: the login socket offers
 * the SASL ops only, everything else is answered fail/denied, so a
 * compromised login process can try passwords (under the same penalties
 * as anyone) but cannot look accounts up or redeem tokens.
 *
 * A connection carries many requests at once; replies are written as
 * they are ready, in any order.  A peer that sends a malformed record is
 * disconnected (it is one of tern's own programs gone wrong); one that
 * stops reading its replies is disconnected when they pile up.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "util.h"

#define CONN_MAX_REQUESTS 8192	   /* open requests per connection */
#define CONN_MAX_OUT (4 << 20)	   /* unread reply bytes per connection */
#define CONN_MAX_RECORD (64 << 10) /* bytes of one request */

struct aconn {
	struct ipc_conn io;
	bool trusted;
	bool dead;
	struct areq **reqs;
	size_t nreqs, cap;
	struct aconn *prev, *next;
};

static struct {
	struct event_loop *loop;
	struct aconn *conns;
	struct ipc_msg msg;
} server;

static void conn_io(struct event_loop *loop, int fd, int events, void *ctx);

struct event_loop *server_loop(void)
{
	return server.loop;
}

bool server_conn_trusted(const struct aconn *conn)
{
	return conn->trusted;
}

bool server_idle(void *ctx)
{
	(void)ctx;
	return request_count() == 0;
}

static void conn_free(struct aconn *c)
{
	/* Requests may outlive the connection while a worker hashes. */
	while (c->nreqs > 0)
		request_orphan(c->reqs[--c->nreqs]);
	free(c->reqs);
	event_fd_del(server.loop, c->io.fd);
	ipc_conn_close(&c->io);
	if (c->prev)
		c->prev->next = c->next;
	else
		server.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void conn_new(struct event_loop *loop, int fd, bool trusted)
{
	struct aconn *c = xcalloc(1, sizeof(*c));

	ipc_conn_init(&c->io, fd);
	c->io.max_record = CONN_MAX_RECORD;
	c->trusted = trusted;
	c->next = server.conns;
	if (server.conns)
		server.conns->prev = c;
	server.conns = c;
	event_fd_set(loop, fd, EV_READ, conn_io, c);
}

static void conn_watch(struct aconn *c)
{
	event_fd_events(server.loop, c->io.fd, EV_READ | (c->io.out.len ? EV_WRITE : 0));
}

static void conn_flush(struct aconn *c)
{
	if (c->io.out.len > 0 && ipc_conn_flush(&c->io) < 0)
		c->dead = true;
	else if (c->io.out.len > CONN_MAX_OUT) {
		log_warn("client does not read its replies: disconnecting it");
		c->dead = true;
	}
}

void server_reply(struct aconn *c, const struct auth_reply *r)
{
	auth_reply_encode(&c->io.out, r);
	conn_flush(c);
	if (!c->dead)
		conn_watch(c);
}

void server_reply_fail(struct aconn *c, unsigned long id, enum auth_code code, const char *why)
{
	struct auth_reply r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.status = AUTH_FAIL;
	r.code = code;
	r.reason = why;
	server_reply(c, &r);
}

static struct areq *conn_find(struct aconn *c, unsigned long id)
{
	for (size_t i = 0; i < c->nreqs; i++)
		if (request_id(c->reqs[i]) == id)
			return c->reqs[i];
	return NULL;
}

void server_request_add(struct aconn *c, struct areq *q)
{
	if (c->nreqs == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		c->reqs = xreallocarray(c->reqs, c->cap, sizeof(*c->reqs));
	}
	c->reqs[c->nreqs++] = q;
}

void server_request_done(struct aconn *c, struct areq *q)
{
	for (size_t i = 0; i < c->nreqs; i++)
		if (c->reqs[i] == q) {
			c->reqs[i] = c->reqs[--c->nreqs];
			return;
		}
}

static void reply_mechs(struct aconn *c, const struct auth_request *r)
{
	struct auth_reply rep;

	memset(&rep, 0, sizeof(rep));
	rep.id = r->id;
	rep.status = AUTH_OK;
	rep.nmechs = mech_list(rep.mechs, AUTH_MAX_MECHS);
	server_reply(c, &rep);
}

static bool op_allowed(const struct aconn *c, enum auth_op op)
{
	return c->trusted || op == AUTH_OP_MECHS || op == AUTH_OP_AUTH || op == AUTH_OP_CONT ||
	       op == AUTH_OP_CANCEL || op == AUTH_OP_VERIFY;
}

static void conn_request(struct aconn *c, const struct auth_request *r)
{
	struct areq *q = NULL;

	if (!op_allowed(c, r->op)) {
		log_warn("login socket client asked for %s: denied", auth_op_name(r->op));
		server_reply_fail(c, r->id, AUTH_CODE_DENIED, "operation not allowed");
		return;
	}
	if (r->op != AUTH_OP_MECHS)
		q = conn_find(c, r->id);
	switch (r->op) {
	case AUTH_OP_MECHS: reply_mechs(c, r); return;
	case AUTH_OP_CONT:
		if (q)
			request_continue(q, r);
		else
			server_reply_fail(c, r->id, AUTH_CODE_MALFORMED, "no such request");
		return;
	case AUTH_OP_CANCEL:
		if (q)
			request_cancel(q);
		return;
	default: break;
	}
	if (q) {
		server_reply_fail(c, r->id, AUTH_CODE_MALFORMED, "request id in use");
		return;
	}
	if (c->nreqs >= CONN_MAX_REQUESTS) {
		server_reply_fail(c, r->id, AUTH_CODE_TEMPFAIL, "too many requests");
		return;
	}
	request_start(c, r);
}

static void conn_read(struct aconn *c)
{
	const char *why = NULL;
	struct auth_request r;
	ssize_t n;

	n = ipc_conn_fill(&c->io);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		c->dead = true;
	while (!c->dead) {
		enum ipc_result res = ipc_conn_next(&c->io, &server.msg, &why);

		if (res == IPC_MORE)
			break;
		if (res == IPC_ERROR || auth_request_decode(&server.msg, &r, &why) < 0) {
			log_warn("malformed request from a %s client: %s: disconnecting it",
			    c->trusted ? "trusted" : "login", why);
			c->dead = true;
			break;
		}
		conn_request(c, &r);
	}
	if (c->io.eof)
		c->dead = true;
}

static void conn_io(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct aconn *c = ctx;

	(void)loop;
	(void)fd;
	if (events & (EV_READ | EV_ERROR))
		conn_read(c);
	if (!c->dead)
		conn_flush(c);
	if (c->dead)
		conn_free(c);
	else
		conn_watch(c);
}

void server_accept_trusted(struct event_loop *loop, int fd, void *ctx)
{
	(void)ctx;
	conn_new(loop, fd, true);
}

static void accept_login(struct event_loop *loop, int lfd, int events, void *ctx)
{
	(void)events;
	(void)ctx;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept on %s: %s", AUTH_SOCKET_LOGIN, strerror(errno));
			return;
		}
		conn_new(loop, fd, false);
	}
}

void server_init(struct event_loop *loop, int login_fd)
{
	server.loop = loop;
	ipc_msg_init(&server.msg);
	if (login_fd >= 0)
		event_fd_set(loop, login_fd, EV_READ, accept_login, NULL);
}
