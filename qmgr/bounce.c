/*
 * bounce.c - delivery status notices, queued through cleanup.
 *
 * What Postfix's bounce daemon does, done inside qmgr with lib/dsn.c: the
 * notice is composed in memory and handed to cleanup over the same
 * conversation smtpd uses (proto.h: begin, data, end), so it becomes an
 * ordinary queue file with the null sender.  bounce_send() returns 0 only
 * after cleanup answered "ok", i.e. after the notice was written and
 * fsync'ed: the caller may then journal the recipients as bounced and
 * remove the original.  Any failure returns -1 and the caller keeps the
 * recipients as "bounce pending" (deferred with a 5.x.x code), so the
 * notice is tried again on the next round and never lost.
 *
 * Who gets what (Postfix's rules, simplified):
 *   - a message with a sender: the sender, from <>;
 *   - a message from <> (a bounce that failed): a copy to
 *     bounce_notice_recipient (default postmaster@$myorigin), from
 *     double_bounce_sender@$myorigin (the "double bounce");
 *   - a message from double_bounce_sender that fails: nobody; it is
 *     dropped with a log line, which is what ends every loop.
 *   Delay and success notices are never sent for mail from <>.
 *
 * REQUIRETLS (RFC 8689 section 5): a notice about a message that asked
 * for REQUIRETLS is queued with REQUIRETLS itself, so that it too travels
 * only over verified TLS, and returns only the original's header, never
 * its body, whatever RET asked (the redacted copy).
 *
 * The conversation is blocking, bounded by BOUNCE_TIMEOUT_MS: cleanup is
 * a local, event-driven process that answers in milliseconds, and a
 * notice is rare next to deliveries.  Not here: which recipients deserve
 * a notice (NOTIFY, message.c decides) and per-class notify_classes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "dsn.h"
#include "log.h"
#include "proto.h"
#include "qmgr.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

#define BOUNCE_TIMEOUT_MS 60000
/* Envelope attributes (qfile 'A' records) written for ESMTP DSN
 * parameters of MAIL FROM (RFC 3461): RET=FULL|HDRS and ENVID. */
#define QF_ATTR_RET "ret"
#define QF_ATTR_ENVID "envid"

/* "name" qualified with @$myorigin unless it has a domain; caller frees. */
static char *bounce_qualify(const char *name)
{
	if (strchr(name, '@'))
		return xstrdup(name);
	return xasprintf("%s@%s", name, config_str("myorigin"));
}

/* True when sender is double_bounce_sender, bare or qualified. */
static bool bounce_from_double(const char *sender)
{
	const char *dbs = config_str("double_bounce_sender");
	size_t n = strlen(dbs);
	char *q;
	bool same;

	if (*sender == 0 || *dbs == 0)
		return false;
	if (str_case_eq(sender, dbs))
		return true;
	if (strncasecmp(sender, dbs, n) == 0 && sender[n] == '@')
		return true;
	q = bounce_qualify(dbs);
	same = str_case_eq(sender, q);
	free(q);
	return same;
}

/* Reads len bytes at off of the queue file into a new buffer. */
static char *bounce_read(int fd, off_t off, size_t len)
{
	char *p = xmalloc(len + 1);
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, p + got, len - got, off + (off_t)got);
		if (n <= 0) {
			free(p);
			return NULL;
		}
		got += (size_t)n;
	}
	p[len] = 0;
	return p;
}

/* Talks to cleanup: 0 and the new queue ID in qid, or -1. */
static int bounce_submit(const char *from, const char *to, bool requiretls,
    const struct buf *content, char *qid, size_t qidlen, const char **why)
{
	struct buf path = BUF_INIT;
	struct ipc_conn c;
	struct ipc_msg m;
	const char *st, *v;
	size_t off, n;
	int fd, rc = -1;

	queue_socket_path(&path, true, SERVICE_CLEANUP);
	fd = sock_unix_connect(path.data, false);
	buf_free(&path);
	if (fd < 0) {
		*why = "cannot connect to cleanup";
		return -1;
	}
	ipc_conn_init(&c, fd);
	ipc_msg_init(&m);
	ipc_put_str(&c.out, A_OP, OP_BEGIN);
	ipc_put_str(&c.out, A_SENDER, from);
	ipc_put_str(&c.out, A_RCPT, to);
	ipc_put_str(&c.out, A_PROTOCOL, "bounce");
	if (requiretls)
		ipc_put_str(&c.out, A_REQUIRETLS, "yes");
	ipc_end(&c.out);
	for (off = 0; off < content->len; off += n) {
		n = content->len - off;
		if (n > CLEANUP_DATA_CHUNK)
			n = CLEANUP_DATA_CHUNK;
		ipc_put_str(&c.out, A_OP, OP_DATA);
		ipc_put(&c.out, A_DATA, content->data + off, n);
		ipc_end(&c.out);
	}
	ipc_put_str(&c.out, A_OP, OP_END);
	ipc_end(&c.out);
	*why = "cleanup did not answer";
	if (ipc_conn_send(&c, BOUNCE_TIMEOUT_MS) == 0 &&
	    ipc_conn_recv(&c, &m, BOUNCE_TIMEOUT_MS) == 0) {
		st = ipc_get_str(&m, A_STATUS);
		v = ipc_get_str(&m, A_QUEUE_ID);
		if (st && strcmp(st, ST_OK) == 0 && v) {
			strlcpy(qid, v, qidlen);
			rc = 0;
		} else {
			*why = "cleanup refused the notice";
		}
	}
	ipc_msg_free(&m);
	ipc_conn_close(&c);
	return rc;
}

/* The original's content for the notice; false on a read error. */
static bool bounce_content(struct qmgr_msg *msg, struct dsn_report *r, bool full)
{
	const struct qfile *qf = &msg->qf;
	long long limit = config_size("bounce_size_limit");

	r->header_len = (size_t)qf->header_len;
	r->header = bounce_read(msg->fd, qf->header_off, r->header_len);
	if (r->header == NULL)
		return false;
	if (full && (limit <= 0 || qf->header_len + qf->body_len <= limit)) {
		r->body_len = (size_t)qf->body_len;
		r->body = bounce_read(msg->fd, qf->body_off, r->body_len);
		if (r->body == NULL)
			return false;
	}
	return true;
}

static const char *bounce_kind_name(enum dsn_kind kind)
{
	return kind == DSN_DELAY ? "delay" : kind == DSN_SUCCESS ? "success" : "non-delivery";
}

int bounce_send(struct qmgr_msg *msg, enum dsn_kind kind, const size_t *idx, size_t n)
{
	const struct qfile *qf = &msg->qf;
	const char *sender = qf->sender ? qf->sender : "", *why = "cannot read queue file";
	bool requiretls = qfile_attr(qf, A_REQUIRETLS) != NULL;
	struct dsn_rcpt *rc = xcalloc(n ? n : 1, sizeof(*rc));
	struct dsn_report r = {0};
	struct buf out = BUF_INIT;
	char newqid[QID_LEN + 1];
	char *to, *from;
	size_t i;
	int ret = -1;

	if (bounce_from_double(sender)) {
		if (kind == DSN_FAILURE)
			log_qid(msg->qid, "discarding undeliverable postmaster notice");
		free(rc);
		return 0;
	}
	if (*sender == 0 && kind != DSN_FAILURE) {
		free(rc);
		return 0; /* nobody asked, nobody to tell */
	}
	to = *sender ? xstrdup(sender) : bounce_qualify(config_str("bounce_notice_recipient"));
	from = *sender ? xstrdup("") : bounce_qualify(config_str("double_bounce_sender"));
	for (i = 0; i < n; i++) {
		const struct qfile_rcpt *q = &qf->rcpts[idx[i]];
		const struct qmgr_result *res = &msg->res[idx[i]];

		rc[i].addr = q->addr;
		rc[i].orcpt = q->orcpt;
		rc[i].status = res->set && res->dsn ? res->dsn : q->dsn ? q->dsn : "5.0.0";
		rc[i].diag = res->set ? res->reason : q->reason;
		rc[i].relayed = res->set && res->relayed;
	}
	r.kind = kind;
	r.hostname = config_str("myhostname");
	r.to = to;
	r.qid = msg->qid;
	r.sender = sender;
	r.envid = qfile_attr(qf, QF_ATTR_ENVID);
	r.arrival_usec = qf->arrival_usec;
	r.now_usec = now_usec();
	r.rcpts = rc;
	r.nrcpt = n;
	r.postmaster_copy = *sender == 0;
	if (bounce_content(msg, &r,
		kind == DSN_FAILURE && !requiretls && !dsn_ret_hdrs(qfile_attr(qf, QF_ATTR_RET)))) {
		dsn_compose(&r, &out);
		ret = bounce_submit(from, to, requiretls, &out, newqid, sizeof(newqid), &why);
	}
	if (ret == 0)
		log_qid(msg->qid, "sender %s notification: %s", bounce_kind_name(kind), newqid);
	else
		log_qid_warn(msg->qid, "%s notification to <%s> not queued: %s",
		    bounce_kind_name(kind), to, why);
	free((char *)r.header);
	free((char *)r.body);
	buf_free(&out);
	free(rc);
	free(to);
	free(from);
	return ret;
}
