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
 * The records themselves are built and checked by lib/deliver_request.c,
 * the one codec of this conversation.  Nothing here touches a socket or a
 * file: deliver.c moves the bytes and message.c makes the results durable.
 */
#include <string.h>

#include "deliver_request.h"
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

/* An attribute of the queue file with this value (any case). */
static bool request_attr_is(const struct qfile *qf, const char *name, const char *value)
{
	const char *v = qfile_attr(qf, name);

	return v != NULL && str_case_eq(v, value);
}

void request_encode(const struct qmgr_request *r, struct buf *out)
{
	const struct qfile *qf = &r->msg->qf;
	struct deliver_request dr = {
	    .qid = r->msg->qid,
	    .sender = qf->sender ? qf->sender : "",
	    .arrival = qf->arrival_usec,
	    .activated = r->msg->activated,
	    .header_off = qf->header_off,
	    .header_len = qf->header_len,
	    .body_off = qf->body_off,
	    .body_len = qf->body_len,
	    .nexthop = r->dest ? r->dest->nexthop : NULL,
	    /* DSN envelope parameters, for agents that pass them on (smtp). */
	    .ret = qfile_attr(qf, A_RET),
	    .envid = qfile_attr(qf, A_ENVID),
	    .requiretls = qfile_attr(qf, A_REQUIRETLS) != NULL,
	    .tls_optional = request_attr_is(qf, A_TLS_REQUIRED, "no"),
	    .nrcpt = r->n,
	};

	dr.rcpts = xcalloc(r->n + 1, sizeof(*dr.rcpts));
	for (size_t i = 0; i < r->n; i++) {
		const struct qfile_rcpt *rc = &qf->rcpts[r->rcpt[i]];

		dr.rcpts[i].addr = rc->addr;
		dr.rcpts[i].index = (long)r->rcpt[i];
		dr.rcpts[i].cls = r->cls[i];
		dr.rcpts[i].orcpt = rc->orcpt;
		dr.rcpts[i].notify = rc->notify;
	}
	deliver_request_encode(&dr, out);
	free(dr.rcpts);
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

int request_status(struct qmgr_request *r, const struct ipc_msg *m, const char **why)
{
	struct deliver_status st;
	size_t pos;

	if ((*why = deliver_status_decode(m, &st)) != NULL)
		return -1;
	pos = request_find(r, st.index);
	if (pos == r->n)
		return *why = "status for a recipient not in the request", -1;
	if (r->reported[pos])
		return *why = "second status for one recipient", -1;
	r->reported[pos] = true;
	r->nreported++;
	msg_result_set(r->msg, r->rcpt[pos], st.status, st.dsn, st.reason);
	r->msg->res[r->rcpt[pos]].relayed = st.relayed;
	r->msg->res[r->rcpt[pos]].notified = st.notified;
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
	res->relayed = false;
	res->notified = false;
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
