/*
 * forward.c - re-submitting a message for non-local alias and .forward
 * targets, through cleanup, as a new queue file.
 *
 * Postfix's reasoning, kept: a forwarded copy is a new message with its
 * own queue file, so each forwarded recipient gets its own delivery
 * status and retries, and the original recipient counts as delivered
 * once cleanup has the copy on disk (cleanup answers only after fsync).
 * The copy starts with "Delivered-To: <the address whose alias or
 * .forward sent it>", which the loop check of every later local delivery
 * sees.  forward_submit_text() sends a new message the same way (Sieve's
 * vacation replies and enotify notifications, quota warnings).  The conversation is smtpd's
 * (proto.h smtpd -> cleanup), done blocking with ipc_timeout.
 */
#include "local.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

static int fwd_send(struct ipc_conn *c)
{
	return ipc_conn_send(c, (int)config_time("ipc_timeout") * 1000);
}

/* Sends len bytes at off of the queue file as op=data records. */
static int fwd_range(struct ipc_conn *c, const struct local_msg *m, off_t off, off_t len)
{
	char *block = xmalloc(CLEANUP_DATA_CHUNK);
	int rc = 0;

	while (len > 0 && rc == 0) {
		size_t want = len > CLEANUP_DATA_CHUNK ? CLEANUP_DATA_CHUNK : (size_t)len;
		ssize_t n = pread(m->fd, block, want, off);

		if (n <= 0) {
			errno = n == 0 ? EIO : errno;
			rc = -1;
			break;
		}
		ipc_put_str(&c->out, A_OP, OP_DATA);
		ipc_put(&c->out, A_DATA, block, (size_t)n);
		ipc_end(&c->out);
		rc = fwd_send(c);
		off += n;
		len -= n;
	}
	free(block);
	return rc;
}

static int fwd_text(struct ipc_conn *c, const char *text)
{
	ipc_put_str(&c->out, A_OP, OP_DATA);
	ipc_put_str(&c->out, A_DATA, text);
	ipc_end(&c->out);
	return fwd_send(c);
}

/* One submission: a copy of the queued message m, or a new text. */
struct fwd_job {
	const struct local_msg *m; /* NULL: text is the message */
	const char *text;
	const char *sender;
	const char *delivered_to;
	char *const *rcpts;
	size_t n;
};

static int fwd_conversation(struct ipc_conn *c, const struct fwd_job *j)
{
	int rc;

	ipc_put_str(&c->out, A_OP, OP_BEGIN);
	ipc_put_str(&c->out, A_SENDER, j->sender);
	for (size_t i = 0; i < j->n; i++)
		ipc_put_str(&c->out, A_RCPT, j->rcpts[i]);
	ipc_put_str(&c->out, A_CLIENT_NAME, "localhost");
	ipc_put_str(&c->out, A_PROTOCOL, "local");
	ipc_end(&c->out);
	rc = fwd_send(c);
	if (j->m == NULL) {
		if (rc == 0)
			rc = fwd_text(c, j->text);
	} else {
		char *dt = xasprintf("Delivered-To: %s\n", j->delivered_to);

		if (rc == 0)
			rc = fwd_text(c, dt);
		if (rc == 0)
			rc = j->m->header_mem
				 ? fwd_text(c, j->m->header_mem)
				 : fwd_range(c, j->m, j->m->header_off, j->m->header_len);
		if (rc == 0)
			rc = fwd_text(c, "\n");
		if (rc == 0)
			rc = fwd_range(c, j->m, j->m->body_off, j->m->body_len);
		free(dt);
	}
	if (rc == 0) {
		ipc_put_str(&c->out, A_OP, OP_END);
		ipc_end(&c->out);
		rc = fwd_send(c);
	}
	return rc;
}

static int fwd_run(const char *qid, const struct fwd_job *j, struct local_result *r)
{
	struct buf path = BUF_INIT;
	struct ipc_conn c;
	struct ipc_msg reply;
	const char *st, *reason, *nqid;
	int fd, rc = -1;

	queue_socket_path(&path, true, SERVICE_CLEANUP);
	fd = sock_unix_connect(buf_cstr(&path), false);
	buf_free(&path);
	if (fd < 0) {
		local_result_errno(r, errno, "connect to cleanup to forward");
		return -1;
	}
	ipc_conn_init(&c, fd);
	ipc_msg_init(&reply);
	if (fwd_conversation(&c, j) < 0 ||
	    ipc_conn_recv(&c, &reply, (int)config_time("ipc_timeout") * 1000) < 0) {
		local_result_errno(r, errno, "forward the message through cleanup");
	} else if ((st = ipc_get_str(&reply, A_STATUS)) && strcmp(st, ST_OK) == 0) {
		nqid = ipc_get_str(&reply, A_QUEUE_ID);
		if (j->m)
			log_qid(
			    qid, "forwarded as %s to %zu recipient(s)", nqid ? nqid : "?", j->n);
		else
			log_qid(qid, "sent a reply as %s to <%s>", nqid ? nqid : "?", j->rcpts[0]);
		local_result_set(r, RES_SENT, "2.0.0", "forwarded as %s", nqid ? nqid : "?");
		rc = 0;
	} else {
		reason = ipc_get_str(&reply, A_REASON);
		local_result_set(r, st && strcmp(st, ST_REJECT) == 0 ? RES_BOUNCED : RES_DEFERRED,
		    st && strcmp(st, ST_REJECT) == 0 ? "5.3.0" : "4.3.0", "cannot forward: %s",
		    reason ? reason : "no reason given");
	}
	ipc_msg_free(&reply);
	ipc_conn_close(&c);
	return rc;
}

int forward_submit(const struct local_msg *m, const char *sender, const char *delivered_to,
    char *const *rcpts, size_t n, struct local_result *r)
{
	struct fwd_job j = {m, NULL, sender, delivered_to, rcpts, n};

	return fwd_run(m->qid, &j, r);
}

int forward_submit_text(const char *qid, const char *sender, char *const *rcpts, size_t n,
    const char *text, struct local_result *r)
{
	struct fwd_job j = {NULL, text, sender, NULL, rcpts, n};

	return fwd_run(qid, &j, r);
}
