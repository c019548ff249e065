/*
 * deliver.c - transports, and connections to their delivery agents.
 *
 * A transport is a service name from resolve_addr() ("local", "smtp",
 * "relay"); its agent listens on queue_directory/private/<name>.  qmgr
 * keeps up to default_destination_concurrency_limit connections per
 * transport, non-blocking, each carrying exactly one request; requests
 * beyond that wait in the transport's FIFO.  Connections are not reused:
 * the agents share one listening socket and a process serves one
 * connection at a time, so an idle connection held here would keep a
 * process from the requests waiting in the listen queue.
 *
 * A request goes out as one {op=deliver} record with a read-only
 * descriptor of the queue file attached (the agent must not be able to
 * write the file: qmgr is its only writer).  Status records come back;
 * {op=done} ends the request.  Any failure - the service cannot be
 * reached, the connection breaks, the agent stops answering for
 * ipc_timeout, or says something that makes no sense - defers the
 * recipients that have no status yet, so they are retried later; a
 * confused agent's connection is dropped rather than trusted.
 *
 * Not here: concurrency slow-start and per-destination limits (later).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "qmgr.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

struct qmgr_conn {
	struct qmgr *q;
	struct qmgr_transport *tp;
	struct ipc_conn ipc;
	struct qmgr_request *req;       /* NULL when idle */
	int send_fd;                    /* queue file still to be passed, or -1 */
	struct event_timer *timer;
	struct qmgr_conn *next;
};

static void transport_run(struct qmgr *q, struct qmgr_transport *tp);

bool deliver_transport_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	/* The name becomes a path under private/: no separators, no dot
	 * files, nothing that could climb out of the folder. */
	if (n == 0 || n >= sizeof(((struct qmgr_transport *)0)->name) || name[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

static struct qmgr_transport *transport_get(struct qmgr *q, const char *name)
{
	struct qmgr_transport *tp;

	for (tp = q->transports; tp; tp = tp->next)
		if (strcmp(tp->name, name) == 0)
			return tp;
	tp = xcalloc(1, sizeof(*tp));
	strlcpy(tp->name, name, sizeof(tp->name));
	tp->next = q->transports;
	q->transports = tp;
	return tp;
}

/* Ends a request: every recipient has a result now; the message may
 * finish (and be freed) inside msg_release. */
static void request_end(struct qmgr_request *r)
{
	struct qmgr_msg *msg = r->msg;

	request_free(r);
	msg_release(msg);
}

static void request_defer(struct qmgr_request *r, const char *reason)
{
	request_fail(r, QF_DEFERRED, "4.3.0", reason);
	request_end(r);
}

static void conn_free(struct qmgr_conn *c)
{
	struct qmgr_transport *tp = c->tp;
	struct qmgr_conn **pp;

	for (pp = &tp->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	tp->nconn--;
	if (c->timer)
		event_timer_cancel(c->q->loop, c->timer);
	event_fd_del(c->q->loop, c->ipc.fd);
	if (c->send_fd >= 0)
		close(c->send_fd);
	ipc_conn_close(&c->ipc);
	free(c);
}

/* Drops a connection; its request's unreported recipients, if any, are
 * deferred.  Then the transport may start its next request. */
static void conn_drop(struct qmgr_conn *c, const char *reason)
{
	struct qmgr *q = c->q;
	struct qmgr_transport *tp = c->tp;
	struct qmgr_request *r = c->req;

	c->req = NULL;
	conn_free(c);
	if (r)
		request_defer(r, reason);
	transport_run(q, tp);
}

static void conn_timeout(struct event_loop *loop, void *ctx)
{
	struct qmgr_conn *c = ctx;

	(void)loop;
	c->timer = NULL;
	log_warn("%s: timeout waiting for delivery agent %s",
	    c->req ? c->req->msg->qid : "-", c->tp->name);
	conn_drop(c, "timeout waiting for delivery agent");
}

static void conn_arm(struct qmgr_conn *c)
{
	if (c->timer)
		event_timer_cancel(c->q->loop, c->timer);
	c->timer = event_timer_add(c->q->loop, c->q->cf.ipc_timeout * 1000, conn_timeout, c);
}

static void conn_event(struct event_loop *loop, int fd, int events, void *ctx);

static struct qmgr_conn *conn_open(struct qmgr *q, struct qmgr_transport *tp)
{
	struct buf path = BUF_INIT;
	struct qmgr_conn *c;
	int fd;

	queue_socket_path(&path, true, tp->name);
	fd = sock_unix_connect(path.data, true);
	if (fd < 0) {
		log_warn("connect to transport %s (%s): %s", tp->name, path.data,
		    strerror(errno));
		buf_free(&path);
		return NULL;
	}
	buf_free(&path);
	c = xcalloc(1, sizeof(*c));
	c->q = q;
	c->tp = tp;
	c->send_fd = -1;
	ipc_conn_init(&c->ipc, fd);
	c->next = tp->conns;
	tp->conns = c;
	tp->nconn++;
	event_fd_set(q->loop, fd, EV_READ, conn_event, c);
	return c;
}

/* Pushes the request out: first the bytes carrying the descriptor, then
 * the rest.  Returns -1 when the connection was dropped. */
static int conn_send(struct qmgr_conn *c)
{
	int r;

	if (c->send_fd >= 0) {
		r = ipc_conn_flush_fd(&c->ipc, c->send_fd);
		if (r < 0 && errno == EAGAIN) {
			event_fd_events(c->q->loop, c->ipc.fd, EV_READ | EV_WRITE);
			return 0;
		}
		if (r >= 0) {
			close(c->send_fd);
			c->send_fd = -1;
		}
	} else {
		r = ipc_conn_flush(&c->ipc);
	}
	if (r < 0) {
		log_warn("%s: send to delivery agent %s: %s", c->req->msg->qid,
		    c->tp->name, strerror(errno));
		conn_drop(c, "lost connection with delivery agent");
		return -1;
	}
	event_fd_events(c->q->loop, c->ipc.fd, r == 1 ? EV_READ : EV_READ | EV_WRITE);
	return 0;
}

/* Opens the queue file a second time, read-only, for the agent. */
static int conn_file(const struct qmgr_msg *msg)
{
	struct buf path = BUF_INIT;
	int fd;

	queue_path(&path, QUEUE_ACTIVE, msg->qid);
	fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		log_qid_warn(msg->qid, "open %s: %s", path.data, strerror(errno));
	buf_free(&path);
	return fd;
}

/* Starts r on the idle connection c. */
static void conn_start(struct qmgr_conn *c, struct qmgr_request *r)
{
	int fd = conn_file(r->msg);

	if (fd < 0) {
		request_defer(r, "cannot open queue file");
		return;
	}
	c->req = r;
	c->send_fd = fd;
	buf_reset(&c->ipc.out);
	request_encode(r, &c->ipc.out);
	conn_arm(c);
	conn_send(c);
}

/* The agent finished r.  Bytes after {op=done} would belong to no
 * request: the agent is confused. */
static void conn_done(struct qmgr_conn *c)
{
	struct qmgr_request *r = c->req;

	c->req = NULL;
	if (c->timer) {
		event_timer_cancel(c->q->loop, c->timer);
		c->timer = NULL;
	}
	if (r->nreported < r->n)
		log_warn("%s: delivery agent %s ended the request without all statuses",
		    r->msg->qid, c->tp->name);
	request_fail(r, QF_DEFERRED, "4.3.0", "delivery agent did not report a status");
	request_end(r);
}

/* Handles one record.  Returns 1 to go on, 0 when the request ended,
 * -1 on a protocol error (why says what). */
static int conn_record(struct qmgr_conn *c, const struct ipc_msg *m, const char **why)
{
	const char *op = ipc_get_str(m, A_OP);

	if (c->req == NULL)
		return *why = "reply while no request is open", -1;
	if (op && strcmp(op, OP_STATUS) == 0) {
		if (request_status(c->req, m, why) < 0)
			return -1;
		conn_arm(c);
		return 1;
	}
	if (op && strcmp(op, OP_DONE) == 0) {
		conn_done(c);
		return 0;
	}
	return *why = "unexpected reply", -1;
}

/* Reads and handles what the agent sent.  Returns -1 when c was dropped. */
static int conn_read(struct qmgr_conn *c)
{
	struct ipc_msg m;
	const char *why = NULL;
	enum ipc_result r = IPC_MORE;
	ssize_t n;
	int rc = 1;

	n = ipc_conn_fill(&c->ipc);
	if (n < 0 && errno == EAGAIN)
		return 0;
	ipc_msg_init(&m);
	while (rc == 1 && (r = ipc_conn_next(&c->ipc, &m, &why)) == IPC_OK)
		rc = conn_record(c, &m, &why);
	ipc_msg_free(&m);
	if (rc == 1 && r == IPC_ERROR)
		rc = -1;
	if (rc == 0 && c->ipc.in.len > 0) {
		why = "data after the end of a request";
		rc = -1;
	}
	if (rc < 0) {
		log_warn("delivery agent %s: protocol error: %s", c->tp->name,
		    why ? why : "malformed record");
		conn_drop(c, "protocol error with delivery agent");
		return -1;
	}
	if (rc == 0) {
		conn_drop(c, NULL);     /* done: one request per connection */
		return -1;
	}
	if (n <= 0) {
		if (c->req)
			log_warn("%s: lost connection with delivery agent %s%s%s",
			    c->req->msg->qid, c->tp->name, n < 0 ? ": " : "",
			    n < 0 ? strerror(errno) : "");
		conn_drop(c, "lost connection with delivery agent");
		return -1;
	}
	return 0;
}

static void conn_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct qmgr_conn *c = ctx;

	(void)loop;
	(void)fd;
	if ((events & (EV_WRITE | EV_ERROR)) && c->req && conn_send(c) < 0)
		return;
	if (events & (EV_READ | EV_ERROR))
		conn_read(c);
}

/* A new connection if the limit allows; NULL when none can be had
 * (*failed tells a connect failure from the limit). */
static struct qmgr_conn *transport_conn(struct qmgr *q, struct qmgr_transport *tp,
    bool *failed)
{
	struct qmgr_conn *c;

	*failed = false;
	if (tp->nconn >= q->cf.conc_limit)
		return NULL;
	c = conn_open(q, tp);
	*failed = c == NULL;
	return c;
}

/* Starts waiting requests while connections are available. */
static void transport_run(struct qmgr *q, struct qmgr_transport *tp)
{
	struct qmgr_request *r;
	struct qmgr_conn *c;
	bool failed;

	while ((r = tp->head) != NULL) {
		c = transport_conn(q, tp, &failed);
		if (c == NULL && !failed)
			return;
		tp->head = r->next;
		if (tp->head == NULL)
			tp->tail = NULL;
		r->next = NULL;
		if (c == NULL)
			request_defer(r, "mail transport unavailable");
		else
			conn_start(c, r);
	}
}

void deliver_submit(struct qmgr *q, struct qmgr_request *r)
{
	struct qmgr_transport *tp = r->tp;

	if (tp->tail)
		tp->tail->next = r;
	else
		tp->head = r;
	tp->tail = r;
	transport_run(q, tp);
}

struct qmgr_transport *deliver_transport(struct qmgr *q, const char *name)
{
	return transport_get(q, name);
}

void deliver_free_all(struct qmgr *q)
{
	struct qmgr_transport *tp, *next;

	for (tp = q->transports; tp; tp = next) {
		next = tp->next;
		while (tp->conns) {
			tp->conns->req = NULL;
			conn_free(tp->conns);
		}
		free(tp);
	}
	q->transports = NULL;
}
