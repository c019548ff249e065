/*
 * deliver.c - local's side of the qmgr conversation (proto.h).
 *
 * qmgr connects and sends one {op=deliver} per connection with the
 * queue file's descriptor attached; local answers {op=status} for each
 * recipient as soon as its result is known (so a crash half-way loses no
 * finished work) and then {op=done}.  A request without a descriptor or
 * with malformed fields is a protocol error: the connection is closed,
 * qmgr defers whatever got no status.
 *
 * When local runs as root, each delivery runs with the mailbox owner's
 * effective ids and root is restored right after, also on failure.
 * Class "local" recipients go to system.c (users, aliases, .forward,
 * commands), class "virtual" to the virtual mailboxes here.
 */
#include "local.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dsn.h"
#include "ipc.h"
#include "log.h"
#include "privs.h"
#include "proto.h"
#include "qfile.h"
#include "qid.h"
#include "resolve.h"
#include "util.h"

struct ld_rcpt {
	const char *addr;
	const char *orcpt; /* DSN ORCPT, may be NULL: orig_to= in the log */
	long long index;
	enum addr_class cls;
	bool has_index, has_class;
};

struct ld_request {
	struct local_msg msg;
	long long arrival;   /* microseconds, 0 when unknown */
	long long activated; /* when qmgr took the message, 0 when unknown */
	long long received;  /* when this request reached us */
	struct ld_rcpt *rcpts;
	size_t nrcpt;
};

static bool ld_get_off(const struct ipc_msg *m, const char *name, off_t *out)
{
	long long v;

	if (!ipc_get_int(m, name, &v) || v < 0)
		return false;
	*out = (off_t)v;
	return true;
}

/* "rcpt" starts a recipient; "index", "class", "orcpt" apply to the one
 * before. */
static const char *ld_parse_rcpts(const struct ipc_msg *m, struct ld_request *q)
{
	q->rcpts = xcalloc(m->count + 1, sizeof(*q->rcpts));
	for (size_t i = 0; i < m->count; i++) {
		const struct ipc_attr *a = &m->attrs[i];
		struct ld_rcpt *r = q->nrcpt ? &q->rcpts[q->nrcpt - 1] : NULL;

		if (strcmp(a->name, A_RCPT) == 0) {
			if (a->len == 0 || strlen(a->value) != a->len)
				return "bad rcpt";
			q->rcpts[q->nrcpt++].addr = a->value;
		} else if (strcmp(a->name, A_INDEX) == 0 && r) {
			long v = 0;

			r->has_index = parse_long(a->value, 0, QF_MAX_RECIPIENTS - 1, &v);
			r->index = v;
		} else if (strcmp(a->name, A_CLASS) == 0 && r) {
			r->has_class = resolve_class_from_name(a->value, &r->cls);
		} else if (strcmp(a->name, A_ORCPT) == 0 && r && strlen(a->value) == a->len) {
			r->orcpt = a->value;
		}
	}
	for (size_t i = 0; i < q->nrcpt; i++)
		if (!q->rcpts[i].has_index || !q->rcpts[i].has_class)
			return "recipient without valid index or class";
	return q->nrcpt ? NULL : "no recipients";
}

static const char *ld_parse(const struct ipc_msg *m, struct ld_request *q)
{
	const char *op = ipc_get_str(m, A_OP);

	memset(q, 0, sizeof(*q));
	q->msg.fd = -1;
	if (op == NULL || strcmp(op, OP_DELIVER) != 0)
		return "expected op=deliver";
	q->msg.qid = ipc_get_str(m, A_QUEUE_ID);
	q->msg.sender = ipc_get_str(m, A_SENDER);
	if (q->msg.qid == NULL || !qid_valid(q->msg.qid) || q->msg.sender == NULL)
		return "missing or bad queue_id or sender";
	if (!ld_get_off(m, A_HEADER_OFF, &q->msg.header_off) ||
	    !ld_get_off(m, A_HEADER_LEN, &q->msg.header_len) ||
	    !ld_get_off(m, A_BODY_OFF, &q->msg.body_off) ||
	    !ld_get_off(m, A_BODY_LEN, &q->msg.body_len))
		return "bad header or body offsets";
	if (!ipc_get_int(m, A_ARRIVAL, &q->arrival))
		q->arrival = 0;
	if (!ipc_get_int(m, A_ACTIVATED, &q->activated))
		q->activated = 0;
	return ld_parse_rcpts(m, q);
}

/* Virtual mailbox delivery, as the mailbox owner when we are root. */
static void ld_virtual(const struct local_msg *m, const char *rcpt, struct local_result *r)
{
	struct vmailbox mb;
	bool root = geteuid() == 0;

	if (virtual_lookup(rcpt, &mb, r) < 0)
		return;
	if (root)
		priv_set_effective(mb.uid, mb.gid);
	if (mb.maildir) {
		maildir_deliver(m, rcpt, mb.path, r);
	} else {
		char *lock = dotlock_acquire(mb.path);

		if (lock == NULL)
			local_result_errno(r, errno, "create the mailbox dot-lock");
		else
			mbox_deliver(m, rcpt, mb.path, r);
		dotlock_release(lock);
	}
	if (root)
		priv_restore();
	free(mb.path);
}

static void ld_one(const struct ld_request *q, const struct ld_rcpt *rc, struct local_result *r)
{
	switch (rc->cls) {
	case CLASS_VIRTUAL: ld_virtual(&q->msg, rc->addr, r); break;
	case CLASS_LOCAL: local_deliver_system(&q->msg, rc->addr, r); break;
	default:
		log_qid_warn(q->msg.qid, "to=<%s>: address class %s is not for local delivery",
		    rc->addr, resolve_class_name(rc->cls));
		local_result_set(r, RES_DEFERRED, "4.3.5", "mail system configuration error");
		break;
	}
}

/*
 * The Postfix-shaped line (lib/dsn_log.c).  local has no connection to
 * set up, so delays c is 0 and d runs from the request's arrival here to
 * this recipient's result (earlier recipients of the request included).
 */
static void ld_log(
    const struct ld_request *q, const struct ld_rcpt *rc, const struct local_result *r)
{
	struct dsn_log l = {0};
	struct buf line = BUF_INIT;

	l.rcpt = rc->addr;
	l.orcpt = rc->orcpt;
	l.relay = "local";
	l.dsn = r->dsn;
	l.status = r->result;
	l.reason = r->reason;
	l.arrival = q->arrival;
	l.activated = q->activated;
	l.request = q->received;
	l.connected = q->received;
	l.done = now_usec();
	dsn_log_format(&line, &l);
	log_qid(q->msg.qid, "%s", buf_cstr(&line));
	buf_free(&line);
}

static int ld_send_status(struct ipc_conn *c, long long index, const struct local_result *r)
{
	ipc_put_str(&c->out, A_OP, OP_STATUS);
	ipc_put_int(&c->out, A_INDEX, index);
	ipc_put_str(&c->out, A_RESULT, r->result);
	ipc_put_str(&c->out, A_DSN, r->dsn);
	ipc_put_str(&c->out, A_REASON, r->reason);
	ipc_end(&c->out);
	return ipc_conn_send(c, (int)config_time("ipc_timeout") * 1000);
}

/*
 * Delivers every recipient, then makes the Maildir renames durable (one
 * fsync per new/ folder for the whole request), then reports.  A
 * recipient whose Maildir rename could not be made durable is deferred
 * (it may then arrive twice, never zero times).  0, or -1 when the
 * connection broke.
 */
static int ld_deliver_all(struct ipc_conn *c, const struct ld_request *q)
{
	struct local_result *res = xcalloc(q->nrcpt ? q->nrcpt : 1, sizeof(*res));
	bool *queued = xcalloc(q->nrcpt ? q->nrcpt : 1, sizeof(*queued));
	int rc = 0;

	for (size_t i = 0; i < q->nrcpt; i++) {
		unsigned long before = maildir_pending_added();

		ld_one(q, &q->rcpts[i], &res[i]);
		queued[i] = maildir_pending_added() != before;
	}
	if (maildir_sync_pending() < 0) {
		int err = errno;

		for (size_t i = 0; i < q->nrcpt; i++)
			if (queued[i] && strcmp(res[i].result, RES_SENT) == 0)
				local_result_errno(&res[i], err, "fsync maildir new/");
	}
	for (size_t i = 0; i < q->nrcpt && rc == 0; i++) {
		ld_log(q, &q->rcpts[i], &res[i]);
		rc = ld_send_status(c, q->rcpts[i].index, &res[i]);
	}
	free(res);
	free(queued);
	if (rc < 0)
		return -1;
	ipc_put_str(&c->out, A_OP, OP_DONE);
	ipc_end(&c->out);
	return ipc_conn_send(c, (int)config_time("ipc_timeout") * 1000);
}

/* One request; -1 ends the connection. */
static int ld_request(struct ipc_conn *c, const struct ipc_msg *m)
{
	long long received = now_usec();
	struct ld_request q;
	const char *err = ld_parse(m, &q);
	int rc = -1;

	q.received = received;
	q.msg.fd = c->passed_fd;
	c->passed_fd = -1;
	if (err == NULL && q.msg.fd < 0)
		err = "no queue file descriptor attached";
	if (err)
		log_warn("protocol error from qmgr: %s", err);
	else if ((rc = ld_deliver_all(c, &q)) < 0)
		log_warn("%s: cannot report to qmgr: %s", q.msg.qid, strerror(errno));
	if (q.msg.fd >= 0)
		close(q.msg.fd);
	free(q.rcpts);
	return rc;
}

/*
 * Serves exactly one request per connection.  The local processes share
 * one listening socket and each serves one connection at a time: if qmgr
 * kept an idle connection open, that process would sit on it while new
 * connections waited in the listen queue, so qmgr's concurrency could
 * exceed the number of processes and starve.  Closing after each request
 * hands every connection to whichever process is free.
 */
void local_serve(int fd, void *ctx)
{
	struct ipc_conn c;
	struct ipc_msg m;

	(void)ctx;
	ipc_conn_init(&c, fd);
	ipc_msg_init(&m);
	if (ipc_conn_recv(&c, &m, (int)config_time("ipc_timeout") * 1000) < 0) {
		if (errno != EPIPE)
			log_warn("reading from qmgr: %s", strerror(errno));
	} else {
		ld_request(&c, &m);
	}
	ipc_msg_free(&m);
	ipc_conn_close(&c);
}
