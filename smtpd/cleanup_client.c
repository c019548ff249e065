/*
 * cleanup_client.c - smtpd's non-blocking conversation with cleanup.
 *
 * Records are appended to the connection's output buffer and written as
 * far as the socket takes them; the rest goes out from the event loop.
 * The socket is always watched for input too, because cleanup may answer
 * early (a reject, or a failure) while data is still flowing; reading
 * before writing means such an answer is seen even when cleanup has
 * already closed its end and a write would fail.
 *
 * It does not compose SMTP replies and does not time out: the session owns
 * both.  Replies are cleaned of control characters here because their
 * text ends up in an SMTP reply line.
 */
#include "cleanup_client.h"

#include <errno.h>
#include <string.h>

#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "qid.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

/* cleanup's replies are a few short attributes. */
#define CLEANUP_REPLY_MAX 8192

struct cleanup_client {
	struct event_loop *loop;
	struct ipc_conn conn;
	cleanup_result_fn *result;
	cleanup_drain_fn *drain;
	void *ctx;
	int events; /* what the loop watches now */
	bool done;  /* the result was delivered */
};

static void cleanup_client_io(struct event_loop *loop, int fd, int events, void *ctx);

struct cleanup_client *cleanup_client_open(
    struct event_loop *loop, cleanup_result_fn *result, cleanup_drain_fn *drain, void *ctx)
{
	struct cleanup_client *cc;
	struct buf path = BUF_INIT;
	int fd;

	queue_socket_path(&path, true, SERVICE_CLEANUP);
	fd = sock_unix_connect(buf_cstr(&path), true);
	buf_free(&path);
	if (fd < 0)
		return NULL;
	cc = xcalloc(1, sizeof(*cc));
	cc->loop = loop;
	cc->result = result;
	cc->drain = drain;
	cc->ctx = ctx;
	ipc_conn_init(&cc->conn, fd);
	cc->conn.max_record = CLEANUP_REPLY_MAX;
	cc->events = EV_READ;
	event_fd_set(loop, fd, EV_READ, cleanup_client_io, cc);
	return cc;
}

static void cleanup_client_watch(struct cleanup_client *cc)
{
	int want = EV_READ | (cc->conn.out.len > 0 ? EV_WRITE : 0);

	if (!cc->done && want != cc->events) {
		event_fd_events(cc->loop, cc->conn.fd, want);
		cc->events = want;
	}
}

/* Writes what the socket takes now; errors are left for the event loop,
 * which sees the socket's error or hang-up and reports it once. */
static void cleanup_client_push(struct cleanup_client *cc)
{
	if (!cc->done)
		(void)ipc_conn_flush(&cc->conn);
	cleanup_client_watch(cc);
}

void cleanup_client_send(struct cleanup_client *cc, const struct buf *record)
{
	buf_append(&cc->conn.out, record->data, record->len);
	cleanup_client_push(cc);
}

void cleanup_client_data(struct cleanup_client *cc, const char *p, size_t n)
{
	while (n > 0) {
		size_t k = n < CLEANUP_DATA_CHUNK ? n : CLEANUP_DATA_CHUNK;

		ipc_put_str(&cc->conn.out, A_OP, OP_DATA);
		ipc_put(&cc->conn.out, A_DATA, p, k);
		ipc_end(&cc->conn.out);
		p += k;
		n -= k;
	}
	cleanup_client_push(cc);
}

void cleanup_client_end(struct cleanup_client *cc)
{
	ipc_put_str(&cc->conn.out, A_OP, OP_END);
	ipc_end(&cc->conn.out);
	cleanup_client_push(cc);
}

size_t cleanup_client_pending(const struct cleanup_client *cc)
{
	return cc->conn.out.len;
}

void cleanup_client_close(struct cleanup_client *cc)
{
	if (cc == NULL)
		return;
	if (!cc->done)
		event_fd_del(cc->loop, cc->conn.fd);
	ipc_conn_close(&cc->conn);
	free(cc);
}

/* Stops watching and reports; the caller must not touch cc afterwards. */
static void cleanup_client_finish(
    struct cleanup_client *cc, enum cleanup_status st, const char *text)
{
	cc->done = true;
	event_fd_del(cc->loop, cc->conn.fd);
	cc->result(cc->ctx, st, text);
}

/* Reply text goes into an SMTP reply: no CR, LF or other controls. */
static char *cleanup_client_clean(const char *text, const char *fallback)
{
	char *s = xstrdup(text && *text ? text : fallback);

	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

static void cleanup_client_reply(struct cleanup_client *cc, const struct ipc_msg *m)
{
	const char *status = ipc_get_str(m, A_STATUS);
	const char *qid = ipc_get_str(m, A_QUEUE_ID);
	enum cleanup_status st;
	char *text;

	if (status && strcmp(status, ST_OK) == 0 && qid && *qid) {
		st = CLEANUP_OK;
		text = cleanup_client_clean(qid, "");
	} else if (status && strcmp(status, ST_REJECT) == 0) {
		st = CLEANUP_REJECT;
		text =
		    cleanup_client_clean(ipc_get_str(m, A_REASON), "5.3.0 Error: message rejected");
	} else if (status && strcmp(status, ST_DEFER) == 0) {
		st = CLEANUP_DEFER;
		text = cleanup_client_clean(
		    ipc_get_str(m, A_REASON), "4.3.0 Error: queue file write error");
	} else {
		st = CLEANUP_FAILED;
		text = xstrdup("malformed reply from cleanup");
	}
	cleanup_client_finish(cc, st, text);
	free(text);
}

static bool cleanup_client_is_ready(const struct ipc_msg *m)
{
	const char *status = ipc_get_str(m, A_STATUS);

	return status && strcmp(status, ST_READY) == 0;
}

/* Reads and, when a whole reply is in, delivers it.  True when finished. */
static bool cleanup_client_read(struct cleanup_client *cc)
{
	struct ipc_msg m;
	const char *why = NULL;
	enum ipc_result r;
	bool eof;
	ssize_t n = ipc_conn_fill(&cc->conn);

	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		why = strerror(errno);
		cleanup_client_finish(cc, CLEANUP_FAILED, why);
		return true;
	}
	ipc_msg_init(&m);
	r = ipc_conn_next(&cc->conn, &m, &why);
	eof = cc->conn.eof; /* cc may be freed by the result callback */
	while (r == IPC_OK && cleanup_client_is_ready(&m)) {
		/* Not the end: the reply may follow in the same read. */
		const char *qid = ipc_get_str(&m, A_QUEUE_ID);
		char *text = cleanup_client_clean(qid && qid_valid(qid) ? qid : "", "");

		cc->result(cc->ctx, CLEANUP_READY, text);
		free(text);
		ipc_msg_free(&m);
		ipc_msg_init(&m);
		r = ipc_conn_next(&cc->conn, &m, &why);
		if (r == IPC_MORE && !eof) {
			ipc_msg_free(&m);
			return false;
		}
	}
	if (r == IPC_OK)
		cleanup_client_reply(cc, &m);
	else if (r == IPC_ERROR)
		cleanup_client_finish(cc, CLEANUP_FAILED, why ? why : "malformed reply");
	else if (eof)
		cleanup_client_finish(cc, CLEANUP_FAILED, "connection closed by cleanup");
	ipc_msg_free(&m);
	return r != IPC_MORE || eof;
}

static void cleanup_client_io(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct cleanup_client *cc = ctx;
	size_t before = cc->conn.out.len;

	(void)loop;
	(void)fd;
	if ((events & (EV_READ | EV_ERROR)) && cleanup_client_read(cc))
		return;
	if (cc->conn.out.len > 0 && ipc_conn_flush(&cc->conn) < 0) {
		cleanup_client_finish(cc, CLEANUP_FAILED, strerror(errno));
		return;
	}
	cleanup_client_watch(cc);
	if (cc->conn.out.len < before && cc->drain)
		cc->drain(cc->ctx);
}
