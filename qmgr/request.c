/*
 * request.c - one delivery request and the results it brings back.
 *
 * A request names some recipients of one message for one transport.  The
 * agent answers with one {op=status} per recipient; each is checked
 * against the request (a recipient it does not carry, or a second status
 * for the same one, is a protocol error: the agent is confused and its
 * connection is dropped) and kept in the message's result table for this
 * round.  Whatever was not reported when the request ends is deferred by
 * the caller with request_fail(), so no recipient is ever forgotten.
 *
 * Nothing here touches a socket or a file: deliver.c moves the bytes and
 * message.c makes the results durable.
 */
#include <string.h>

#include "proto.h"
#include "qmgr.h"
#include "util.h"

struct qmgr_request *request_new(struct qmgr_msg *msg, const size_t *rcpt, size_t n)
{
	struct qmgr_request *r = xcalloc(1, sizeof(*r));

	r->msg = msg;
	r->n = n;
	r->rcpt = xcalloc(n, sizeof(*r->rcpt));
	memcpy(r->rcpt, rcpt, n * sizeof(*rcpt));
	r->cls = xcalloc(n, sizeof(*r->cls));
	r->reported = xcalloc(n, sizeof(*r->reported));
	return r;
}

void request_free(struct qmgr_request *r)
{
	if (r == NULL)
		return;
	free(r->rcpt);
	free(r->cls);
	free(r->reported);
	free(r);
}

void request_encode(const struct qmgr_request *r, struct buf *out)
{
	const struct qfile *qf = &r->msg->qf;
	const struct qfile_rcpt *rc;
	size_t i;

	ipc_put_str(out, A_OP, OP_DELIVER);
	ipc_put_str(out, A_QUEUE_ID, r->msg->qid);
	ipc_put_str(out, A_SENDER, qf->sender ? qf->sender : "");
	ipc_put_int(out, A_ARRIVAL, qf->arrival_usec);
	ipc_put_int(out, A_HEADER_OFF, qf->header_off);
	ipc_put_int(out, A_HEADER_LEN, qf->header_len);
	ipc_put_int(out, A_BODY_OFF, qf->body_off);
	ipc_put_int(out, A_BODY_LEN, qf->body_len);
	if (r->dest)
		ipc_put_str(out, A_NEXTHOP, r->dest->nexthop);
	ipc_put_int(out, A_ACTIVATED, r->msg->activated);
	/* DSN envelope parameters, for agents that pass them on (smtp). */
	if (qfile_attr(qf, A_RET))
		ipc_put_str(out, A_RET, qfile_attr(qf, A_RET));
	if (qfile_attr(qf, A_ENVID))
		ipc_put_str(out, A_ENVID, qfile_attr(qf, A_ENVID));
	for (i = 0; i < r->n; i++) {
		rc = &qf->rcpts[r->rcpt[i]];
		ipc_put_str(out, A_RCPT, rc->addr);
		ipc_put_int(out, A_INDEX, (long long)r->rcpt[i]);
		ipc_put_str(out, A_CLASS, r->cls[i] ? r->cls[i] : "");
		if (rc->orcpt)
			ipc_put_str(out, A_ORCPT, rc->orcpt);
		if (rc->notify)
			ipc_put_str(out, A_NOTIFY, rc->notify);
	}
	ipc_end(out);
}

static bool request_result(const char *s, enum qf_status *st)
{
	if (s == NULL)
		return false;
	if (strcmp(s, RES_SENT) == 0)
		*st = QF_SENT;
	else if (strcmp(s, RES_DEFERRED) == 0)
		*st = QF_DEFERRED;
	else if (strcmp(s, RES_BOUNCED) == 0)
		*st = QF_BOUNCED;
	else
		return false;
	return true;
}

/* Position of recipient index idx in r, or r->n. */
static size_t request_find(const struct qmgr_request *r, long long idx)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if ((long long)r->rcpt[i] == idx)
			return i;
	return r->n;
}

static const char *request_default_dsn(enum qf_status st)
{
	return st == QF_SENT ? "2.0.0" : st == QF_BOUNCED ? "5.0.0" : "4.0.0";
}

int request_status(struct qmgr_request *r, const struct ipc_msg *m, const char **why)
{
	enum qf_status st;
	long long idx;
	const char *dsn, *reason;
	size_t pos;

	if (!ipc_get_int(m, A_INDEX, &idx))
		return *why = "status without a valid index", -1;
	if (!request_result(ipc_get_str(m, A_RESULT), &st))
		return *why = "status without a valid result", -1;
	pos = request_find(r, idx);
	if (pos == r->n)
		return *why = "status for a recipient not in the request", -1;
	if (r->reported[pos])
		return *why = "second status for one recipient", -1;
	dsn = ipc_get_str(m, A_DSN);
	reason = ipc_get_str(m, A_REASON);
	/* The DSN class must agree with the result, or a report could say
	 * "sent" with a failure code; the result is what we act on. */
	if (dsn == NULL || dsn[0] != request_default_dsn(st)[0] || dsn[1] != '.')
		dsn = request_default_dsn(st);
	r->reported[pos] = true;
	r->nreported++;
	msg_result_set(r->msg, r->rcpt[pos], st, dsn, reason ? reason : "");
	return 0;
}

void request_fail(struct qmgr_request *r, enum qf_status st, const char *dsn, const char *reason)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->reported[i])
			continue;
		r->reported[i] = true;
		r->nreported++;
		msg_result_set(r->msg, r->rcpt[i], st, dsn, reason);
		msg_log_result(r->msg, r->rcpt[i], r->tp ? r->tp->name : "none", r->started);
	}
}

void msg_result_set(
    struct qmgr_msg *msg, size_t i, enum qf_status st, const char *dsn, const char *reason)
{
	struct qmgr_result *res = &msg->res[i];

	free(res->dsn);
	free(res->reason);
	res->set = true;
	res->journaled = false;
	res->status = st;
	res->dsn = xstrdup(dsn);
	res->reason = xstrdup(reason);
}

void msg_results_free(struct qmgr_msg *msg)
{
	size_t i;

	if (msg->res == NULL)
		return;
	for (i = 0; i < msg->qf.nrcpt; i++) {
		free(msg->res[i].dsn);
		free(msg->res[i].reason);
	}
	free(msg->res);
	msg->res = NULL;
}
