/*
 * deliver_agent.c - accept, decode, deliver, report: the part of every
 * delivery agent that is not delivery (deliver_agent.h).
 */
#include "deliver_agent.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dsn.h"
#include "log.h"
#include "util.h"

static int da_timeout_ms(void)
{
	return (int)config_time("ipc_timeout") * 1000;
}

void deliver_job_log(
    struct deliver_job *job, const char *to, const char *orcpt, const struct deliver_outcome *o)
{
	struct dsn_log l = {0};
	struct buf line = BUF_INIT;

	l.rcpt = to;
	l.orcpt = orcpt;
	l.relay = o->relay;
	l.dsn = o->dsn;
	l.status = o->result;
	l.reason = o->reason;
	l.arrival = job->dr.arrival;
	l.activated = job->dr.activated;
	l.request = job->received;
	l.connected = o->connected > 0 ? o->connected : job->received;
	l.done = now_usec();
	dsn_log_format(&line, &l);
	log_qid(job->dr.qid, "%s", buf_cstr(&line));
	buf_free(&line);
}

int deliver_job_status(
    struct deliver_job *job, const struct deliver_rcpt *rc, const struct deliver_outcome *o)
{
	deliver_status_encode(
	    &job->conn->out, rc->index, o->result, o->dsn, o->reason, o->relayed, o->notified);
	return ipc_conn_send(job->conn, da_timeout_ms());
}

int deliver_job_report(
    struct deliver_job *job, const struct deliver_rcpt *rc, const struct deliver_outcome *o)
{
	deliver_job_log(job, rc->addr, rc->orcpt, o);
	return deliver_job_status(job, rc, o);
}

/* The decoded request with its descriptor, or why it is refused. */
static const char *da_accept(const struct deliver_agent *a, const struct ipc_msg *m,
    struct ipc_conn *c, struct deliver_job *job)
{
	const char *err = deliver_request_decode(m, &job->dr);

	job->fd = c->passed_fd;
	c->passed_fd = -1;
	if (err == NULL && a->accept)
		err = a->accept(&job->dr, a->ctx);
	if (err == NULL && job->fd < 0)
		err = "no queue file descriptor attached";
	return err;
}

/* Delivers and ends the request with {op=done}; 0 or -1. */
static int da_deliver(const struct deliver_agent *a, struct deliver_job *job)
{
	if (a->deliver(job, a->ctx) < 0)
		return -1;
	deliver_done_encode(&job->conn->out);
	return ipc_conn_send(job->conn, da_timeout_ms());
}

void deliver_agent_serve(int fd, void *ctx)
{
	const struct deliver_agent *a = ctx;
	struct ipc_conn c;
	struct ipc_msg m;
	struct deliver_job job;
	const char *err;

	memset(&job, 0, sizeof(job));
	job.fd = -1;
	job.conn = &c;
	ipc_conn_init(&c, fd);
	ipc_msg_init(&m);
	if (ipc_conn_recv(&c, &m, da_timeout_ms()) < 0) {
		if (errno != EPIPE)
			log_warn("reading from qmgr: %s", strerror(errno));
	} else {
		job.received = now_usec();
		if ((err = da_accept(a, &m, &c, &job)) != NULL)
			log_warn("protocol error from qmgr: %s", err);
		else if (da_deliver(a, &job) < 0)
			log_warn("%s: cannot report to qmgr: %s", job.dr.qid, strerror(errno));
	}
	if (job.fd >= 0)
		close(job.fd);
	deliver_request_free(&job.dr);
	ipc_msg_free(&m);
	ipc_conn_close(&c);
}
