/*
 * channel.c - one channel per logged-in user to that user's jmap
 * process, and the requests and push events that travel on it.
 *
 * A channel is opened the way imap-login hands over a client: a socket
 * pair, whose one end goes with auth's one-time token to postlogin
 * (login/postlogin, service "jmap"), which redeems the token, starts or
 * finds the user's jmap process (as the mailbox owner) and gives it the
 * end; http keeps the other and speaks jframe.h on it.  Every web
 * session and JMAP client of the user shares the channel; requests are
 * numbered and answered in order, so the pending requests are a FIFO.
 * A channel stays while a cookie session of its user lives, or while it
 * was used within the last CHANNEL_IDLE_MS (Basic clients); when it
 * breaks (the jmap process died) its waiting requests get 502 and the
 * next login opens a new one.
 *
 * EventSource (/jmap/eventsource/) is served here: the user's jmap
 * process sends an event frame whenever the mailbox changed, and each
 * EventSource connection of that user gets it as "event: state".  An
 * EventSource response waits suspended while it has nothing to send.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "http/jframe.h"
#include "log.h"
#include "login/handoff.h"
#include "sock.h"
#include "util.h"

#define CHANNEL_IDLE_MS 120000
#define HANDOFF_SEND_MS 2000
#define PING_MAX 3600

enum chan_state { CHAN_OPENING, CHAN_READY, CHAN_DEAD };

struct hchan {
	char *user;
	enum chan_state state;
	struct ipc_conn conn; /* to jmap */
	struct ipc_conn ho;   /* to postlogin, while opening */
	struct ipc_msg msg;
	unsigned refs; /* cookie sessions */
	unsigned long long next_id;
	struct hreq *pending, **ptail;
	struct hreq *es;
	long long used;
	struct hchan *next;
};

struct es_state {
	struct event_timer *ping;
	long ping_s;
	bool close_after_state;
};

static struct hchan *chans;

static struct hchan *chan_find(const char *user)
{
	for (struct hchan *c = chans; c; c = c->next)
		if (strcmp(c->user, user) == 0 && c->state != CHAN_DEAD)
			return c;
	return NULL;
}

static void chan_arm(struct hchan *c)
{
	if (c->state == CHAN_READY)
		event_fd_events(http.loop, c->conn.fd, EV_READ | (c->conn.out.len ? EV_WRITE : 0));
}

static void es_push(struct hreq *q, const char *text, size_t n)
{
	buf_append(&q->es_out, text, n);
	if (q->suspended && !q->done) {
		q->suspended = false;
		MHD_resume_connection(q->conn);
		http_server_kick();
	}
}

/* Ends the channel: waiting requests get 502, EventSource streams end. */
static void chan_kill(struct hchan *c, const char *why)
{
	struct hreq *q;

	if (c->state == CHAN_DEAD)
		return;
	if (why)
		log_warn("jmap channel of %s: %s", c->user, why);
	c->state = CHAN_DEAD;
	if (c->ho.fd >= 0)
		event_fd_del(http.loop, c->ho.fd);
	ipc_conn_close(&c->ho);
	ipc_conn_init(&c->ho, -1);
	if (c->conn.fd >= 0)
		event_fd_del(http.loop, c->conn.fd);
	ipc_conn_close(&c->conn);
	ipc_conn_init(&c->conn, -1);
	while ((q = c->pending) != NULL) {
		c->pending = q->qnext;
		q->chan = NULL;
		q->qnext = NULL;
		if (q->done)
			http_req_release(q);
		else
			http_finish(q, 502, http_error_json("the mailbox process is gone"));
	}
	c->ptail = &c->pending;
	while ((q = c->es) != NULL) {
		c->es = q->es_next;
		q->es_next = NULL;
		q->chan = NULL;
		es_push(q, "", 0);
	}
}

static void chan_free(struct hchan *c)
{
	struct hchan **pp;

	chan_kill(c, NULL); /* no longer needed */
	for (pp = &chans; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	ipc_msg_free(&c->msg);
	free(c->user);
	free(c);
}

static void answer(struct hchan *c, const struct jframe *f)
{
	struct hreq *q = c->pending;
	struct MHD_Response *r;

	if (q == NULL || q->id != f->id) {
		chan_kill(c, "answer out of order");
		return;
	}
	c->pending = q->qnext;
	if (c->pending == NULL)
		c->ptail = &c->pending;
	q->qnext = NULL;
	q->chan = NULL;
	if (q->done) {
		http_req_release(q);
		return;
	}
	r = http_text(*f->ctype ? f->ctype : NULL, f->body, f->body_len);
	if (*f->disposition) {
		MHD_add_response_header(r, "Content-Disposition", f->disposition);
		MHD_add_response_header(r, "Content-Security-Policy", "sandbox");
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    strncmp(q->url, "/jmap/download/", 15) == 0 ? "private, max-age=3600" : "no-store");
	http_finish(q, (unsigned)f->status, r);
}

static void event_frame(struct hchan *c, const struct jframe *f)
{
	struct buf b = BUF_INIT;
	struct hreq *q, **pp;

	buf_puts(&b, "event: state\ndata: ");
	for (size_t i = 0; i < f->body_len; i++)
		if (f->body[i] != '\n' && f->body[i] != '\r')
			buf_putc(&b, f->body[i]);
	buf_puts(&b, "\n\n");
	for (pp = &c->es; (q = *pp) != NULL;) {
		struct es_state *st = (struct es_state *)q->body.data;

		es_push(q, b.data, b.len);
		if (st->close_after_state) {
			*pp = q->es_next;
			q->es_next = NULL;
			q->chan = NULL;
		} else {
			pp = &q->es_next;
		}
	}
	buf_free(&b);
}

static void chan_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct hchan *c = ctx;
	struct jframe f;
	const char *why = "closed";
	enum ipc_result r;
	ssize_t n;

	(void)loop;
	(void)fd;
	if ((events & EV_WRITE) && ipc_conn_flush(&c->conn) < 0) {
		chan_kill(c, strerror(errno));
		return;
	}
	if (events & (EV_READ | EV_ERROR)) {
		while ((n = ipc_conn_fill(&c->conn)) > 0) {
			while ((r = ipc_conn_next(&c->conn, &c->msg, &why)) == IPC_OK) {
				if (jframe_decode(&c->msg, &f, &why) < 0 ||
				    f.op == JFRAME_REQUEST) {
					chan_kill(c, why ? why : "unexpected request");
					return;
				}
				if (f.op == JFRAME_RESPONSE)
					answer(c, &f);
				else
					event_frame(c, &f);
				if (c->state == CHAN_DEAD)
					return;
			}
			if (r == IPC_ERROR) {
				chan_kill(c, why);
				return;
			}
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			chan_kill(c, n == 0 ? "closed by jmap" : strerror(errno));
			return;
		}
	}
	chan_arm(c);
}

static void handoff_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct hchan *c = ctx;
	struct handoff_reply r;
	const char *why = "connection closed";
	enum ipc_result res = IPC_MORE;
	ssize_t n;

	(void)loop;
	(void)fd;
	(void)events;
	while ((n = ipc_conn_fill(&c->ho)) > 0)
		if ((res = ipc_conn_next(&c->ho, &c->msg, &why)) != IPC_MORE)
			break;
	if (res == IPC_MORE && n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (res != IPC_OK || handoff_reply_decode(&c->msg, &r, &why) < 0) {
		chan_kill(c, why);
		return;
	}
	if (!r.ok) {
		chan_kill(c, r.reason ? r.reason : "refused by postlogin");
		return;
	}
	log_debug("jmap channel of %s: jmap pid %ld", c->user, r.pid);
	event_fd_del(http.loop, c->ho.fd);
	ipc_conn_close(&c->ho);
	ipc_conn_init(&c->ho, -1);
	c->state = CHAN_READY;
	event_fd_set(http.loop, c->conn.fd, EV_READ, chan_event, c);
	chan_event(http.loop, c->conn.fd, EV_WRITE, c);
}

static struct hchan *chan_open(const char *user, const char *token, const char *rip, int rport)
{
	struct hchan *c = xcalloc(1, sizeof(*c));
	struct handoff h;
	struct postlogin_info *i = &h.info;
	int fd, sv[2];

	c->user = xstrdup(user);
	c->ptail = &c->pending;
	c->used = event_now(http.loop);
	ipc_msg_init(&c->msg);
	ipc_conn_init(&c->conn, -1);
	ipc_conn_init(&c->ho, -1);
	c->conn.max_record = JFRAME_MAX_RECORD;
	c->next = chans;
	chans = c;
	if ((fd = sock_unix_connect(HANDOFF_SOCKET_NAME, false)) < 0) {
		chan_kill(c, strerror(errno));
		return c;
	}
	ipc_conn_init(&c->ho, fd);
	c->ho.max_record = HANDOFF_MAX_RECORD;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		chan_kill(c, strerror(errno));
		return c;
	}
	ipc_conn_init(&c->conn, sv[0]);
	c->conn.max_record = JFRAME_MAX_RECORD;
	sock_nonblock(sv[0], true);
	memset(&h, 0, sizeof(h));
	h.op = HANDOFF_LOGIN;
	h.token = token;
	i->service = "jmap";
	i->user = i->home = i->maildir = i->quota_rule = "";
	i->uid = i->gid = -1;
	i->mech = "PLAIN";
	i->client_addr = rip;
	i->client_port = rport;
	i->local_addr = "";
	i->tls = http.tls;
	i->secured = true;
	i->session = "";
	handoff_encode(&c->ho.out, &h);
	if (ipc_conn_send_fd(&c->ho, sv[1], HANDOFF_SEND_MS) < 0) {
		close(sv[1]);
		chan_kill(c, strerror(errno));
		return c;
	}
	close(sv[1]);
	sock_nonblock(fd, true);
	event_fd_set(http.loop, fd, EV_READ, handoff_event, c);
	return c;
}

void http_channel_open(const char *user, const char *token, const char *rip, int rport)
{
	struct hchan *c = chan_find(user);

	if (c == NULL)
		c = chan_open(user, token, rip, rport);
	c->refs++;
}

void http_channel_release(const char *user)
{
	struct hchan *c = chan_find(user);

	if (c && c->refs > 0)
		c->refs--;
	for (struct hchan *d = chans, *next; d; d = next) {
		next = d->next;
		if (d->refs == 0 && d->pending == NULL && d->es == NULL &&
		    (d->state == CHAN_DEAD || event_now(http.loop) - d->used > CHANNEL_IDLE_MS ||
			d == c))
			chan_free(d);
	}
}

void http_channel_forget(struct hreq *q)
{
	struct hchan *c = q->chan;
	struct hreq **pp;

	/* a pending request stays queued: its answer will come and is dropped */
	if (!q->es)
		return;
	/* an EventSource stream, on a channel or left by a dead one */
	if (c)
		for (pp = &c->es; *pp; pp = &(*pp)->es_next)
			if (*pp == q) {
				*pp = q->es_next;
				break;
			}
	{
		struct es_state *st = (struct es_state *)q->body.data;

		if (st->ping)
			event_timer_cancel(http.loop, st->ping);
		st->ping = NULL;
	}
	q->chan = NULL;
	q->es = false;
}

/* ---------------------------------------------------------- EventSource */

static enum MHD_Result eventsource(struct hreq *q, struct hchan *c);

static ssize_t es_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct hreq *q = cls;
	size_t n;

	(void)pos;
	if (q->es_out.len > 0) {
		n = q->es_out.len < max ? q->es_out.len : max;
		memcpy(out, q->es_out.data, n);
		buf_consume(&q->es_out, n);
		return (ssize_t)n;
	}
	if (q->chan == NULL)
		return MHD_CONTENT_READER_END_OF_STREAM;
	q->suspended = true;
	MHD_suspend_connection(q->conn);
	return 0;
}

static void es_ping(struct event_loop *loop, void *ctx)
{
	struct hreq *q = ctx;
	struct es_state *st = (struct es_state *)q->body.data;
	char line[64];

	(void)loop;
	snprintf(line, sizeof(line), "event: ping\ndata: {\"interval\":%ld}\n\n", st->ping_s);
	st->ping = event_timer_add(http.loop, st->ping_s * 1000, es_ping, q);
	es_push(q, line, strlen(line));
}

enum MHD_Result http_eventsource(struct hreq *q)
{
	struct hchan *c = q->es_wait;

	q->es_wait = NULL;
	if (c->state == CHAN_DEAD)
		return http_queue(q, 503, http_error_json("no mailbox process: log in again"));
	return eventsource(q, c);
}

static enum MHD_Result eventsource(struct hreq *q, struct hchan *c)
{
	const char *ping = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "ping");
	const char *close_after =
	    MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "closeafter");
	struct MHD_Response *r;
	struct es_state *st;
	long p = 0;

	if (ping && *ping && !parse_long(ping, 0, PING_MAX, &p))
		return http_queue(q, 400, http_error_json("bad ping"));
	buf_reset(&q->body);
	buf_reserve(&q->body, sizeof(*st));
	st = (struct es_state *)q->body.data;
	memset(st, 0, sizeof(*st));
	st->ping_s = p;
	st->close_after_state = close_after && strcmp(close_after, "state") == 0;
	q->es = true;
	q->chan = c;
	q->es_next = c->es;
	c->es = q;
	if (p > 0)
		st->ping = event_timer_add(http.loop, p * 1000, es_ping, q);
	buf_puts(&q->es_out, ": tern push\n\n");
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, es_read, q, NULL);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	return http_queue(q, 200, r);
}

/* ------------------------------------------------------------- requests */

static void query_of(struct hreq *q, struct buf *out);

enum MHD_Result http_jmap(struct hreq *q, const char *user, const char *token)
{
	struct hchan *c = chan_find(user);
	struct jframe f;
	struct buf query = BUF_INIT;
	char rip[64];
	int rport;

	if (c == NULL && token) {
		http_client_addr(q->conn, rip, sizeof(rip), &rport);
		c = chan_open(user, token, rip, rport);
	}
	if (c == NULL || c->state == CHAN_DEAD) {
		if (q->suspended) {
			http_finish(q, 503, http_error_json("no mailbox process: log in again"));
			return MHD_YES;
		}
		return http_queue(q, 503, http_error_json("no mailbox process: log in again"));
	}
	c->used = event_now(http.loop);
	if (strncmp(q->url, "/jmap/eventsource", 17) == 0 && strcmp(q->method, "GET") == 0) {
		if (q->suspended) { /* Basic: answered when resumed */
			q->suspended = false;
			MHD_resume_connection(q->conn);
			http_server_kick();
			q->es_wait = c;
			return MHD_YES;
		}
		return eventsource(q, c);
	}
	memset(&f, 0, sizeof(f));
	f.op = JFRAME_REQUEST;
	f.id = q->id = ++c->next_id;
	f.method = q->method;
	f.path = q->url;
	query_of(q, &query);
	f.query = buf_cstr(&query);
	f.ctype = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Type");
	f.body = q->body.data;
	f.body_len = q->body.len;
	jframe_encode(&c->conn.out, &f);
	buf_free(&query);
	buf_free(&q->body);
	q->chan = c;
	*c->ptail = q;
	c->ptail = &q->qnext;
	if (!q->suspended) {
		q->suspended = true;
		MHD_suspend_connection(q->conn);
	}
	chan_arm(c);
	return MHD_YES;
}

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct buf *out = cls;
	(void)kind;
	if (out->len)
		buf_putc(out, '&');
	for (int part = 0; part < 2; part++) {
		const char *s = part ? v : k;

		if (part) {
			if (s == NULL)
				break;
			buf_putc(out, '=');
		}
		buf_put_urlencoded(out, s, strlen(s));
	}
	return MHD_YES;
}

static void query_of(struct hreq *q, struct buf *out)
{
	MHD_get_connection_values(q->conn, MHD_GET_ARGUMENT_KIND, query_arg, out);
}
