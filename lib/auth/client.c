/*
 * auth/client.c - the asynchronous and the blocking auth client.
 *
 * Asynchronous: one non-blocking connection, calls in a list, each with
 * its id, its callback and a timer for the step it waits for.  Every
 * connection has a generation number; a call belongs to the generation it
 * was sent on, so when the connection breaks exactly those calls fail
 * (their server-side state is gone), while calls started afterwards go
 * out on a fresh connection.  A call made while the daemon cannot be
 * reached waits, encoded, for the connection (retried every
 * AUTH_RETRY_MS) up to its own time-out: a busy or restarting auth
 * daemon delays a login, it does not fail it.  Failures are delivered
 * from a zero-delay timer, so a callback never runs inside the caller's
 * own auth_client_call().
 */
#include "auth/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sock.h"
#include "util.h"

#define AUTH_RETRY_MS 100 /* between connect attempts while calls wait */

struct auth_call {
	struct auth_client *c;
	unsigned long id;
	auth_reply_fn *fn;
	void *ctx;
	unsigned gen;		   /* connection generation it was sent on; 0: never sent */
	struct buf queued;	   /* the encoded request while gen == 0 */
	struct event_timer *timer; /* the step's time-out */
	const char *failure;	   /* a failure waiting to be delivered */
	bool in_callback;
	bool aborted;
	struct auth_call *prev, *next;
};

struct auth_client {
	struct event_loop *loop;
	char *path;
	char *service;
	long timeout_ms;
	struct ipc_conn conn; /* conn.fd < 0 when not connected */
	unsigned gen;
	struct event_timer *retry; /* the next connect attempt, while calls wait */
	bool unreachable;	   /* the last connect attempt failed */
	unsigned long next_id;
	struct auth_call *calls;
	unsigned ncalls;
	struct event_timer *defer;
	char *mechs;
	struct ipc_msg msg;
};

static void client_io(struct event_loop *loop, int fd, int events, void *ctx);

/* ------------------------------------------------------------ calls */

static void call_unlink(struct auth_call *call)
{
	struct auth_client *c = call->c;

	if (call->timer)
		event_timer_cancel(c->loop, call->timer);
	call->timer = NULL;
	if (call->prev)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	c->ncalls--;
	buf_free(&call->queued);
	free(call);
}

/* Runs the callback; frees the call when the reply ends it. */
static void call_deliver(struct auth_call *call, const struct auth_reply *r)
{
	bool final = r->status != AUTH_CONTINUE;

	if (call->timer)
		event_timer_cancel(call->c->loop, call->timer);
	call->timer = NULL;
	call->in_callback = true;
	call->fn(call, r, call->ctx);
	call->in_callback = false;
	if (final || call->aborted)
		call_unlink(call);
}

static void call_fail(struct auth_call *call, const char *reason)
{
	struct auth_reply r;

	memset(&r, 0, sizeof(r));
	r.id = call->id;
	r.status = AUTH_FAIL;
	r.code = AUTH_CODE_TEMPFAIL;
	r.reason = reason;
	call_deliver(call, &r);
}

/* Delivers the failures marked on calls (from a zero-delay timer). */
static void client_deferred(struct event_loop *loop, void *ctx)
{
	struct auth_client *c = ctx;
	struct auth_call *call = c->calls, *next;

	(void)loop;
	c->defer = NULL;
	for (; call; call = next) {
		next = call->next;
		if (call->failure) {
			/* A callback may abort or add calls: restart after each. */
			call_fail(call, call->failure);
			next = c->calls;
		}
	}
}

static void call_fail_later(struct auth_call *call, const char *reason)
{
	struct auth_client *c = call->c;

	if (call->timer)
		event_timer_cancel(c->loop, call->timer);
	call->timer = NULL;
	call->failure = reason;
	if (c->defer == NULL)
		c->defer = event_timer_add(c->loop, 0, client_deferred, c);
}

static void client_flush(struct auth_client *c);
static void client_mechs_reply(struct auth_call *call, const struct auth_reply *r, void *ctx);

/* No answer in time: the daemon forgets the request, the caller hears tempfail. */
static void call_timeout(struct event_loop *loop, void *ctx)
{
	struct auth_call *call = ctx;
	struct auth_client *c = call->c;
	struct auth_request r;

	(void)loop;
	call->timer = NULL;
	if (call->gen == 0) {
		log_warn("auth: %s unreachable for %ld ms", c->path, c->timeout_ms);
		call_fail(call, "authentication service unavailable");
		return;
	}
	log_warn("auth: no answer from %s within %ld ms", c->path, c->timeout_ms);
	if (c->conn.fd >= 0 && call->gen == c->gen) {
		memset(&r, 0, sizeof(r));
		r.op = AUTH_OP_CANCEL;
		r.id = call->id;
		auth_request_encode(&c->conn.out, &r);
		client_flush(c);
	}
	call_fail(call, "authentication service timed out");
}

static void call_arm(struct auth_call *call)
{
	struct auth_client *c = call->c;

	if (call->timer)
		event_timer_cancel(c->loop, call->timer);
	call->timer = event_timer_add(c->loop, c->timeout_ms, call_timeout, call);
}

/* ------------------------------------------------------------ connection */

static void client_watch(struct auth_client *c)
{
	if (c->conn.fd >= 0)
		event_fd_events(c->loop, c->conn.fd, EV_READ | (c->conn.out.len ? EV_WRITE : 0));
}

static void client_disconnect(struct auth_client *c, const char *why)
{
	struct auth_call *call;

	if (c->conn.fd < 0)
		return;
	if (why)
		log_warn("auth: connection to %s lost: %s", c->path, why);
	event_fd_del(c->loop, c->conn.fd);
	ipc_conn_close(&c->conn);
	c->conn.fd = -1;
	for (call = c->calls; call; call = call->next)
		if (call->gen == c->gen && !call->failure)
			call_fail_later(call, "authentication service unavailable");
}

static void client_retry(struct event_loop *loop, void *ctx);

/* Sends the calls that waited for a connection. */
static void client_send_queued(struct auth_client *c)
{
	for (struct auth_call *call = c->calls; call; call = call->next) {
		if (call->gen != 0 || call->failure)
			continue;
		call->gen = c->gen;
		buf_append(&c->conn.out, call->queued.data, call->queued.len);
		buf_free(&call->queued);
	}
}

/* Connects unless connected; false (and a retry timer) when it cannot. */
static bool client_connect(struct auth_client *c)
{
	struct auth_request r;
	int fd;

	if (c->conn.fd >= 0)
		return true;
	if (c->retry)
		return false; /* an attempt failed moments ago: wait for the timer */
	fd = sock_unix_connect(c->path, true);
	if (fd < 0) {
		if (!c->unreachable) /* once per outage, not every attempt */
			log_warn("auth: connect to %s: %s", c->path, strerror(errno));
		c->unreachable = true;
		c->retry = event_timer_add(c->loop, AUTH_RETRY_MS, client_retry, c);
		return false;
	}
	c->unreachable = false;
	ipc_conn_init(&c->conn, fd);
	c->gen++;
	event_fd_set(c->loop, fd, EV_READ, client_io, c);
	client_send_queued(c);
	memset(&r, 0, sizeof(r));
	r.op = AUTH_OP_MECHS;
	r.service = c->service;
	auth_client_call(c, &r, client_mechs_reply, c);
	return true;
}

/* Tries again while calls wait for the daemon. */
static void client_retry(struct event_loop *loop, void *ctx)
{
	struct auth_client *c = ctx;
	bool waiting = false;

	(void)loop;
	c->retry = NULL;
	for (struct auth_call *call = c->calls; call; call = call->next)
		if (call->gen == 0 && !call->failure)
			waiting = true;
	if (waiting && client_connect(c))
		client_flush(c);
}

static void client_mechs_reply(struct auth_call *call, const struct auth_reply *r, void *ctx)
{
	struct auth_client *c = ctx;
	struct buf b = BUF_INIT;

	(void)call;
	if (r->status != AUTH_OK)
		return;
	for (size_t i = 0; i < r->nmechs; i++)
		buf_printf(&b, "%s%s", i ? " " : "", r->mechs[i]);
	free(c->mechs);
	c->mechs = xstrdup(buf_cstr(&b));
	buf_free(&b);
}

static void client_flush(struct auth_client *c)
{
	if (c->conn.fd >= 0 && c->conn.out.len > 0 && ipc_conn_flush(&c->conn) < 0)
		client_disconnect(c, strerror(errno));
	client_watch(c);
}

static struct auth_call *client_find(struct auth_client *c, unsigned long id)
{
	for (struct auth_call *call = c->calls; call; call = call->next)
		if (call->id == id && call->gen == c->gen && !call->failure)
			return call;
	return NULL;
}

static void client_reply(struct auth_client *c)
{
	struct auth_reply r;
	struct auth_call *call;
	const char *why;

	if (auth_reply_decode(&c->msg, &r, &why) < 0) {
		client_disconnect(c, why);
		return;
	}
	/* A reply to a call that timed out or was aborted is dropped. */
	if ((call = client_find(c, r.id)) != NULL)
		call_deliver(call, &r);
}

static void client_read(struct auth_client *c)
{
	const char *why = NULL;
	ssize_t n;

	while ((n = ipc_conn_fill(&c->conn)) > 0)
		;
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		client_disconnect(c, strerror(errno));
		return;
	}
	for (;;) {
		unsigned gen = c->gen;
		enum ipc_result res = ipc_conn_next(&c->conn, &c->msg, &why);

		if (res == IPC_ERROR) {
			client_disconnect(c, why);
			return;
		}
		if (res == IPC_MORE)
			break;
		client_reply(c);
		if (c->conn.fd < 0 || c->gen != gen)
			return; /* a callback's call reconnected or the reply broke it */
	}
	if (c->conn.eof)
		client_disconnect(c, "closed by the auth service");
}

static void client_io(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct auth_client *c = ctx;

	(void)loop;
	(void)fd;
	if (events & (EV_READ | EV_ERROR))
		client_read(c);
	if (c->conn.fd >= 0)
		client_flush(c);
}

/* ------------------------------------------------------------ public */

struct auth_client *auth_client_new(
    struct event_loop *loop, const char *path, const char *service, long timeout_ms)
{
	struct auth_client *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	c->path = xstrdup(path);
	c->service = xstrdup(service);
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 60000;
	c->conn.fd = -1;
	ipc_msg_init(&c->msg);
	client_connect(c);
	return c;
}

void auth_client_free(struct auth_client *c)
{
	if (c == NULL)
		return;
	while (c->calls)
		call_unlink(c->calls);
	if (c->conn.fd >= 0) {
		event_fd_del(c->loop, c->conn.fd);
		ipc_conn_close(&c->conn);
	}
	if (c->defer)
		event_timer_cancel(c->loop, c->defer);
	if (c->retry)
		event_timer_cancel(c->loop, c->retry);
	ipc_msg_free(&c->msg);
	free(c->mechs);
	free(c->path);
	free(c->service);
	free(c);
}

struct auth_call *auth_client_call(
    struct auth_client *c, const struct auth_request *r, auth_reply_fn *fn, void *ctx)
{
	struct auth_call *call = xcalloc(1, sizeof(*call));
	struct auth_request req = *r;

	call->c = c;
	call->fn = fn;
	call->ctx = ctx;
	call->id = c->next_id = c->next_id % AUTH_MAX_ID + 1;
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	c->ncalls++;
	req.id = call->id;
	call_arm(call);
	if (!client_connect(c)) {
		auth_request_encode(&call->queued, &req);
		return call;
	}
	call->gen = c->gen;
	auth_request_encode(&c->conn.out, &req);
	client_flush(c);
	return call;
}

void auth_call_continue(struct auth_call *call, const char *resp)
{
	struct auth_client *c = call->c;
	struct auth_request r;

	if (call->failure)
		return;
	if (c->conn.fd < 0 || call->gen != c->gen) {
		call_fail_later(call, "authentication service restarted");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.op = AUTH_OP_CONT;
	r.id = call->id;
	r.resp = resp;
	auth_request_encode(&c->conn.out, &r);
	call_arm(call);
	client_flush(c);
}

void auth_call_abort(struct auth_call *call)
{
	struct auth_client *c = call->c;
	struct auth_request r;

	if (call->aborted)
		return;
	if (c->conn.fd >= 0 && call->gen == c->gen && !call->failure) {
		memset(&r, 0, sizeof(r));
		r.op = AUTH_OP_CANCEL;
		r.id = call->id;
		auth_request_encode(&c->conn.out, &r);
		client_flush(c);
	}
	if (call->in_callback)
		call->aborted = true;
	else
		call_unlink(call);
}

const char *auth_client_mechanisms(const struct auth_client *c)
{
	return c->mechs;
}

unsigned auth_client_pending(const struct auth_client *c)
{
	return c->ncalls;
}

/* ------------------------------------------------------------ blocking */

struct ipc_conn *auth_sync_open(const char *path)
{
	int fd = sock_unix_connect(path, false);
	struct ipc_conn *conn;

	if (fd < 0)
		return NULL;
	conn = xcalloc(1, sizeof(*conn));
	ipc_conn_init(conn, fd);
	return conn;
}

void auth_sync_close(struct ipc_conn *conn)
{
	if (conn == NULL)
		return;
	ipc_conn_close(conn);
	free(conn);
}

int auth_sync_call(struct ipc_conn *conn, const struct auth_request *r, struct ipc_msg *msg,
    struct auth_reply *reply, int timeout_ms)
{
	const char *why;

	auth_request_encode(&conn->out, r);
	if (ipc_conn_send(conn, timeout_ms) < 0)
		return -1;
	do {
		if (ipc_conn_recv(conn, msg, timeout_ms) < 0)
			return -1;
		if (auth_reply_decode(msg, reply, &why) < 0) {
			log_warn("auth: malformed reply: %s", why);
			errno = EPROTO;
			return -1;
		}
	} while (reply->id != r->id); /* a late reply to an earlier, timed-out request */
	return 0;
}
