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
#include "deliver_request.h"
#include "dsn.h"
#include "ipc.h"
#include "log.h"
#include "privs.h"
#include "proto.h"
#include "resolve.h"
#include "util.h"

struct ld_request {
	struct local_msg msg;
	struct deliver_request dr; /* qmgr's request (lib/deliver_request.h) */
	long long received;	   /* when this request reached us */
};

/* The request's message, or why it is refused (local needs a class). */
static const char *ld_parse(const struct ipc_msg *m, struct ld_request *q)
{
	const char *err;

	memset(q, 0, sizeof(*q));
	q->msg.fd = -1;
	err = deliver_request_decode(m, &q->dr);
	if (err)
		return err;
	for (size_t i = 0; i < q->dr.nrcpt; i++)
		if (!q->dr.rcpts[i].has_class)
			return "recipient without a class";
	q->msg.qid = q->dr.qid;
	q->msg.sender = q->dr.sender;
	q->msg.header_off = q->dr.header_off;
	q->msg.header_len = q->dr.header_len;
	q->msg.body_off = q->dr.body_off;
	q->msg.body_len = q->dr.body_len;
	return NULL;
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
		/* a virtual mailbox's "~" for Sieve is its directory */
		if (local_sieve_deliver(m, rcpt, mb.path, mb.path, r) == 0)
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

static void ld_one(
    const struct ld_request *q, const struct deliver_rcpt *rc, struct local_result *r)
{
	switch (rc->cls_id) {
	case CLASS_VIRTUAL: ld_virtual(&q->msg, rc->addr, r); break;
	case CLASS_LOCAL: local_deliver_system(&q->msg, rc->addr, r); break;
	default:
		log_qid_warn(q->msg.qid, "to=<%s>: address class %s is not for local delivery",
		    rc->addr, resolve_class_name(rc->cls_id));
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
    const struct ld_request *q, const struct deliver_rcpt *rc, const struct local_result *r)
{
	struct dsn_log l = {0};
	struct buf line = BUF_INIT;

	l.rcpt = rc->addr;
	l.orcpt = rc->orcpt;
	l.relay = "local";
	l.dsn = r->dsn;
	l.status = r->result;
	l.reason = r->reason;
	l.arrival = q->dr.arrival;
	l.activated = q->dr.activated;
	l.request = q->received;
	l.connected = q->received;
	l.done = now_usec();
	dsn_log_format(&line, &l);
	log_qid(q->msg.qid, "%s", buf_cstr(&line));
	buf_free(&line);
}

static int ld_send_status(struct ipc_conn *c, long long index, const struct local_result *r)
{
	deliver_status_encode(&c->out, index, r->result, r->dsn, r->reason);
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
	size_t n = q->dr.nrcpt;
	struct local_result *res = xcalloc(n ? n : 1, sizeof(*res));
	bool *queued = xcalloc(n ? n : 1, sizeof(*queued));
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned long before = maildir_pending_added();

		ld_one(q, &q->dr.rcpts[i], &res[i]);
		queued[i] = maildir_pending_added() != before;
	}
	if (maildir_sync_pending() < 0) {
		int err = errno;

		for (size_t i = 0; i < n; i++)
			if (queued[i] && strcmp(res[i].result, RES_SENT) == 0)
				local_result_errno(&res[i], err, "fsync maildir new/");
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		ld_log(q, &q->dr.rcpts[i], &res[i]);
		rc = ld_send_status(c, q->dr.rcpts[i].index, &res[i]);
	}
	free(res);
	free(queued);
	if (rc < 0)
		return -1;
	deliver_done_encode(&c->out);
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
	deliver_request_free(&q.dr);
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
