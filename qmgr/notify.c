/*
 * notify.c - the private/qmgr socket: cleanup says "a new file is ready",
 * the operator's "tern queue flush" says "try deferred mail now".
 *
 * {op=flush} forgets every dead destination and rescans deferred/ (the
 * command has set the mtime, i.e. the retry time, of the files to now);
 * {op=flush, queue_id=ID} does the same for one message.  The socket is
 * private (mode 0700, mail_owner), so only root and the mail owner get
 * here.
 *
 * A client connects, sends {op=new, queue_id=ID} records and closes.  A
 * notification is only a hint to act now rather than at the next scan of
 * incoming/: the ID is checked, and activating is idempotent, so a stale,
 * repeated or bogus one costs a failed open at most.  Records are tiny, so
 * the size limit is small, and a client that stays silent is dropped
 * after ipc_timeout.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "proto.h"
#include "qmgr.h"
#include "queue.h"
#include "util.h"

#define NOTIFY_MAX_RECORD 1024

struct notify_client {
	struct qmgr *q;
	struct ipc_conn ipc;
	struct event_timer *timer;
};

static void notify_close(struct notify_client *c)
{
	if (c->timer)
		event_timer_cancel(c->q->loop, c->timer);
	event_fd_del(c->q->loop, c->ipc.fd);
	ipc_conn_close(&c->ipc);
	free(c);
}

static void notify_timeout(struct event_loop *loop, void *ctx)
{
	struct notify_client *c = ctx;

	(void)loop;
	c->timer = NULL;
	notify_close(c);
}

static void notify_record(struct qmgr *q, const struct ipc_msg *m)
{
	const char *op = ipc_get_str(m, A_OP);
	const char *qid = ipc_get_str(m, A_QUEUE_ID);

	if (op && strcmp(op, OP_FLUSH) == 0 && (qid == NULL || qid_valid(qid))) {
		log_info("flush requested%s%s", qid ? " for " : "", qid ? qid : "");
		deliver_revive(q);
		if (qid && qset_get(&q->known, qid) == NULL)
			sched_add(q, qid, time(NULL));
		scan_deferred(q);
		scan_incoming(q);
		return;
	}
	if (op == NULL || strcmp(op, OP_NEW) != 0 || qid == NULL || !qid_valid(qid)) {
		log_warn("private/qmgr: ignoring a malformed notification");
		return;
	}
	/* At the active limit the next scan of incoming/ finds it. */
	if (!msg_activate(q, qid, QUEUE_INCOMING))
		q->backlog = true;
}

static void notify_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct notify_client *c = ctx;
	struct ipc_msg m;
	const char *why = NULL;
	enum ipc_result r;
	ssize_t n;

	(void)loop;
	(void)fd;
	(void)events;
	n = ipc_conn_fill(&c->ipc);
	if (n < 0 && errno == EAGAIN)
		return;
	ipc_msg_init(&m);
	while ((r = ipc_conn_next(&c->ipc, &m, &why)) == IPC_OK)
		notify_record(c->q, &m);
	ipc_msg_free(&m);
	if (r == IPC_ERROR)
		log_warn("private/qmgr: bad record: %s", why ? why : "malformed");
	if (r == IPC_ERROR || n <= 0)
		notify_close(c);
}

void notify_accept(struct event_loop *loop, int fd, void *ctx)
{
	struct notify_client *c = xcalloc(1, sizeof(*c));

	c->q = ctx;
	ipc_conn_init(&c->ipc, fd);
	c->ipc.max_record = NOTIFY_MAX_RECORD;
	c->timer = event_timer_add(loop, c->q->cf.ipc_timeout * 1000, notify_timeout, c);
	event_fd_set(loop, fd, EV_READ, notify_event, c);
}
