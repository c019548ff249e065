/*
 * deliver.c - transports, and connections to their delivery agents.
 *
 * A transport is a service name from resolve_addr() ("local", "smtp",
 * "relay"); its agent listens on queue_directory/private/<name>.  Its
 * requests wait per destination (transport, next hop), each destination
 * with its own FIFO and concurrency window; the transport takes them in
 * round-robin over the destinations, so one destination with a huge
 * backlog or a slow server delays no other: it only ever holds its own
 * window of connections.  A transport has at most default_process_limit
 * connections in all, each carrying exactly one request.
 *
 * Slow start (Postfix's names): a destination starts at
 * initial_destination_concurrency, grows by one per request that got
 * through, up to <transport>_destination_concurrency_limit (default
 * default_destination_concurrency_limit), and shrinks by one per request
 * that failed at the connection level - the agent could not be reached
 * or hung up, or every recipient was deferred with an X.4.X "network and
 * routing" code (RFC 3463).  As many such failures in a row as the
 * window is wide mark the destination dead for dead_destination_time:
 * its waiting requests, and new ones, are deferred at once without an
 * attempt ("delivery temporarily suspended").
 *
 * Connections are not reused:
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
 * Every request carries its next hop (A_NEXTHOP) for the agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <time.h>

#include "config.h"
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
	struct qmgr_request *req; /* NULL when idle */
	int send_fd;		  /* queue file still to be passed, or -1 */
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

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

size_t deliver_tp_limit(const char *tp, const char *what, size_t def)
{
	char *name = xasprintf("%s_destination_%s_limit", tp, what);
	const char *raw = config_raw(name);
	char *val;
	long v;

	if (raw != NULL) {
		val = config_expand(raw);
		if (parse_long(val, 1, 1000000, &v))
			def = (size_t)v;
		else
			log_warn("%s = %s: not a number from 1 up, using %zu", name, val, def);
		free(val);
	}
	free(name);
	return def;
}

static struct qmgr_transport *transport_get(struct qmgr *q, const char *name)
{
	struct qmgr_transport *tp;

	for (tp = q->transports; tp; tp = tp->next)
		if (strcmp(tp->name, name) == 0)
			return tp;
	tp = xcalloc(1, sizeof(*tp));
	strlcpy(tp->name, name, sizeof(tp->name));
	tp->dest_limit = deliver_tp_limit(name, "concurrency", q->cf.conc_limit);
	tp->rcpt_limit = deliver_tp_limit(name, "recipient", q->cf.rcpt_limit);
	tp->next = q->transports;
	q->transports = tp;
	return tp;
}

struct qmgr_dest *deliver_dest(struct qmgr_transport *tp, const char *nexthop)
{
	struct qmgr_dest *d;

	for (d = tp->dests; d; d = d->next)
		if (strcmp(d->nexthop, nexthop) == 0)
			return d;
	d = xcalloc(1, sizeof(*d));
	d->nexthop = xstrdup(nexthop);
	d->tp = tp;
	d->next = tp->dests;
	tp->dests = d;
	return d;
}

/* A destination with nothing to remember is forgotten, so the list stays
 * as short as the set of busy or dead destinations. */
static void dest_gc(struct qmgr_dest *d, long long now)
{
	struct qmgr_transport *tp = d->tp;
	struct qmgr_dest **pp;

	if (d->head || d->nconn || dest_dead(d, now) || d->fails)
		return;
	for (pp = &tp->dests; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	if (tp->cursor == d)
		tp->cursor = d->next;
	free(d->nexthop);
	free(d->dead_reason);
	free(d);
}

bool dest_dead(struct qmgr_dest *d, long long now)
{
	if (d->dead_until && d->dead_until <= now) {
		d->dead_until = 0; /* time is up: try again, gently */
		d->fails = 0;
		d->window = 1;
	}
	return d->dead_until != 0;
}

void dest_feedback(struct qmgr_dest *d, bool site_fail, size_t initial, long long now,
    long dead_time, const char *reason)
{
	size_t limit = d->tp->dest_limit;

	if (d->window == 0)
		d->window = initial < limit ? initial : limit;
	if (!site_fail) {
		d->fails = 0;
		if (d->window < limit)
			d->window++;
		return;
	}
	d->fails++;
	if (d->window > 1)
		d->window--;
	if (d->fails >= d->window && d->dead_until == 0) {
		d->dead_until = now + dead_time;
		free(d->dead_reason);
		d->dead_reason = xstrdup(reason ? reason : "connection failed");
		log_warn("%s destination %s is dead for %ld s: %s", d->tp->name, d->nexthop,
		    dead_time, d->dead_reason);
	}
}

/* Ends a request: every recipient has a result now; the message may
 * finish (and be freed) inside msg_release. */
static void request_end(struct qmgr_request *r)
{
	struct qmgr_msg *msg = r->msg;

	msg_journal_sent(msg, r);
	request_free(r);
	msg_release(msg);
}

static void request_defer(struct qmgr_request *r, const char *reason)
{
	request_fail(r, QF_DEFERRED, "4.3.0", reason);
	request_end(r);
}

/* Defers every request waiting for the dead destination d. */
static void dest_suspend(struct qmgr_dest *d)
{
	struct qmgr_request *r;
	char *why = xasprintf("delivery temporarily suspended: %s", d->dead_reason);

	while ((r = d->head) != NULL) {
		d->head = r->next;
		if (d->head == NULL)
			d->tail = NULL;
		d->nwait--;
		r->next = NULL;
		request_defer(r, why);
	}
	free(why);
}

/* True when every recipient of r ended deferred with an X.4.X code, or
 * none was reported at all: the destination itself is the problem. */
static bool request_site_failed(const struct qmgr_request *r)
{
	const struct qmgr_result *res;
	size_t i;

	for (i = 0; i < r->n; i++) {
		res = &r->msg->res[r->rcpt[i]];
		if (!res->set || res->status != QF_DEFERRED)
			return false;
		if (res->dsn == NULL || strncmp(res->dsn + 1, ".4.", 3) != 0)
			return false;
	}
	return r->n > 0;
}

/* Accounting when a request leaves its connection. */
static void dest_request_done(
    struct qmgr *q, struct qmgr_request *r, bool site_fail, const char *reason)
{
	struct qmgr_dest *d = r->dest;
	long long now = time(NULL);

	d->nconn--;
	dest_feedback(d, site_fail || request_site_failed(r), q->cf.initial_conc, now,
	    q->cf.dead_time, reason);
	if (dest_dead(d, now))
		dest_suspend(d);
	else
		dest_gc(d, now);
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
	if (r) {
		/* Unreported recipients take a 4.4.2 (bad connection) code, so
		 * the failure counts against the destination. */
		request_fail(r, QF_DEFERRED, "4.4.2", reason);
		dest_request_done(q, r, true, reason);
		request_end(r);
	}
	transport_run(q, tp);
}

static void conn_timeout(struct event_loop *loop, void *ctx)
{
	struct qmgr_conn *c = ctx;

	(void)loop;
	c->timer = NULL;
	log_warn("%s: timeout waiting for delivery agent %s", c->req ? c->req->msg->qid : "-",
	    c->tp->name);
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
		log_warn("connect to transport %s (%s): %s", tp->name, path.data, strerror(errno));
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
		log_warn("%s: send to delivery agent %s: %s", c->req->msg->qid, c->tp->name,
		    strerror(errno));
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
		r->dest->nconn--;
		conn_free(c);
		request_defer(r, "cannot open queue file");
		return;
	}
	c->req = r;
	r->started = now_usec();
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
	dest_request_done(c->q, r, false, r->n ? r->msg->res[r->rcpt[0]].reason : NULL);
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
		conn_drop(c, NULL); /* done: one request per connection */
		return -1;
	}
	if (n <= 0) {
		if (c->req)
			log_warn("%s: lost connection with delivery agent %s%s%s", c->req->msg->qid,
			    c->tp->name, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
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

/* The next destination, round-robin from the cursor, with a request
 * waiting and room in its window; NULL when none. */
static struct qmgr_dest *transport_pick(struct qmgr_transport *tp, size_t initial)
{
	struct qmgr_dest *d, *start = tp->cursor ? tp->cursor : tp->dests;
	size_t window;

	if (start == NULL)
		return NULL;
	d = start;
	do {
		window =
		    d->window ? d->window : (initial < tp->dest_limit ? initial : tp->dest_limit);
		if (d->head && d->nconn < window && !d->dead_until) {
			tp->cursor = d->next ? d->next : tp->dests;
			return d;
		}
		d = d->next ? d->next : tp->dests;
	} while (d != start);
	return NULL;
}

static struct qmgr_request *dest_pop(struct qmgr_dest *d)
{
	struct qmgr_request *r = d->head;

	d->head = r->next;
	if (d->head == NULL)
		d->tail = NULL;
	d->nwait--;
	r->next = NULL;
	return r;
}

/* Starts waiting requests while connections are available. */
static void transport_run(struct qmgr *q, struct qmgr_transport *tp)
{
	struct qmgr_request *r;
	struct qmgr_conn *c;
	struct qmgr_dest *d;

	while (tp->nconn < q->cf.process_limit && (d = transport_pick(tp, q->cf.initial_conc))) {
		r = dest_pop(d);
		c = conn_open(q, tp);
		if (c == NULL) {
			/* The agent is missing, not the destination: no feedback. */
			request_defer(r, "mail transport unavailable");
			continue;
		}
		d->nconn++;
		conn_start(c, r);
	}
}

void deliver_submit(struct qmgr *q, struct qmgr_request *r)
{
	struct qmgr_dest *d = r->dest;

	if (dest_dead(d, time(NULL))) {
		char *why = xasprintf("delivery temporarily suspended: %s", d->dead_reason);

		request_defer(r, why);
		free(why);
		return;
	}
	if (d->tail)
		d->tail->next = r;
	else
		d->head = r;
	d->tail = r;
	d->nwait++;
	transport_run(q, r->tp);
}

struct qmgr_transport *deliver_transport(struct qmgr *q, const char *name)
{
	return transport_get(q, name);
}

void deliver_revive(struct qmgr *q)
{
	struct qmgr_transport *tp;
	struct qmgr_dest *d;

	for (tp = q->transports; tp; tp = tp->next) {
		for (d = tp->dests; d; d = d->next) {
			if (d->dead_until)
				d->dead_until = 1; /* expired: dest_dead() resets */
			d->fails = 0;
		}
	}
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
		while (tp->dests) {
			struct qmgr_dest *d = tp->dests;

			tp->dests = d->next;
			free(d->nexthop);
			free(d->dead_reason);
			free(d);
		}
		free(tp);
	}
	q->transports = NULL;
}
