/*
 * session.c - one POP3 session in the pop3 process: from the hand-off by
 * postlogin (login/postlogin.h) to QUIT, a time-out or the client's
 * going away.
 *
 * At the start the session takes the mailbox's POP3 lock (a second
 * session gets "-ERR [IN-USE]", RFC 2449 8.1.1, and is closed), opens a
 * view of INBOX and numbers its messages once: a POP3 session never sees
 * mail that arrives after it started, nor loses a number (RFC 1939 says
 * numbers are stable for the session).  Deletions are only marked until
 * QUIT (the UPDATE state), when they are expunged through the store, so
 * IMAP sessions see them as EXPUNGEs; a session that ends any other way
 * deletes nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pop3.h"
#include "pop3/cmd.h"
#include "sock.h"
#include "util.h"

static void session_event(struct event_loop *loop, int fd, int events, void *ctx);

void pop3_reply(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	buf_puts(&s->out, "\r\n");
}

static void session_free(struct pop3_session *s)
{
	log_info("pop3(%s): Disconnected: %s top=%u/%llu, retr=%u/%llu, del=%u/%u, size=%llu, "
		 "in=%llu, out=%llu, session=<%s>",
	    s->user, s->closing ? "Logged out" : "Connection closed", s->top_count,
	    (unsigned long long)s->top_bytes, s->retr_count, (unsigned long long)s->retr_bytes,
	    s->del_count, s->count, (unsigned long long)s->size_total,
	    (unsigned long long)s->in_bytes, (unsigned long long)s->out_bytes, s->session);
	pop3_retr_abort(s);
	if (s->timer)
		event_timer_cancel(s->loop, s->timer);
	event_fd_del(s->loop, s->fd);
	close(s->fd);
	if (s->view)
		mstore_view_close(s->view);
	if (s->store)
		mstore_close(s->store);
	buf_free(&s->in);
	buf_free(&s->out);
	buf_free(&s->retr.hdr);
	free(s->msgs);
	free(s->user);
	free(s->session);
	free(s->rip);
	free(s);
	postlogin_client_done();
}

static void session_timeout(struct event_loop *loop, void *ctx)
{
	struct pop3_session *s = ctx;

	(void)loop;
	s->timer = NULL;
	if (s->closing) {
		session_free(s);
		return;
	}
	pop3_reply(s, "-ERR Disconnected for inactivity.");
	pop3_session_quit(s);
	event_fd_events(s->loop, s->fd, EV_WRITE);
}

static void session_timer(struct pop3_session *s, long ms)
{
	if (s->timer)
		event_timer_cancel(s->loop, s->timer);
	s->timer = event_timer_add(s->loop, ms, session_timeout, s);
}

void pop3_session_quit(struct pop3_session *s)
{
	s->closing = true;
	pop3_retr_abort(s);
	session_timer(s, 5000); /* to get the last reply out */
}

/* Opens INBOX and numbers its messages; a reply for the client on failure. */
static const char *session_open(struct pop3_session *s, const struct postlogin_info *info)
{
	struct mstore_opts opts;
	struct buf err = BUF_INIT;

	mstore_opts_from_config(&opts);
	opts.create = true;
	if (*info->maildir == 0)
		return "-ERR [SYS/PERM] The account has no Maildir.";
	if ((s->store = mstore_open(info->maildir, &opts, &err)) == NULL) {
		log_warn("pop3(%s): %s: %s", s->user, info->maildir, buf_cstr(&err));
		buf_free(&err);
		return "-ERR [SYS/TEMP] Cannot open the mailbox.";
	}
	buf_free(&err);
	if (mstore_pop3_lock(s->store) < 0) {
		if (mstore_error(s->store) == MSTORE_ETEMP)
			return "-ERR [IN-USE] Mailbox is locked by another POP3 session.";
		log_error("pop3(%s): lock: %s", s->user, mstore_strerror(s->store));
		return "-ERR [SYS/TEMP] Cannot lock the mailbox.";
	}
	if (mstore_view_open(s->store, "INBOX", 0, &s->view) < 0) {
		log_warn("pop3(%s): INBOX: %s", s->user, mstore_strerror(s->store));
		return "-ERR [SYS/TEMP] Cannot open INBOX.";
	}
	s->count = mstore_view_count(s->view);
	s->msgs = xcalloc(s->count ? s->count : 1, sizeof(*s->msgs));
	for (uint32_t i = 0; i < s->count; i++) {
		uint64_t size = 0;

		s->msgs[i].uid = mstore_view_uid(s->view, i + 1);
		if (mstore_view_sizes(s->view, s->msgs[i].uid, &size, &s->msgs[i].vsize) < 0)
			s->msgs[i].vsize = 0; /* expunged meanwhile: RETR will say so */
		s->size_total += s->msgs[i].vsize;
	}
	return NULL;
}

void pop3_session_start(struct event_loop *loop, int fd, const struct postlogin_info *info,
    const char *pending, size_t len, void *ctx)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));
	const char *fail;

	(void)ctx;
	s->loop = loop;
	s->fd = fd;
	s->retr.fd = -1;
	s->user = xstrdup(info->user);
	s->session = xstrdup(info->session);
	s->rip = xstrdup(info->client_addr);
	s->utf8 = info->utf8;
	buf_append(&s->in, pending, len);
	event_fd_set(loop, fd, 0, session_event, s);
	if ((fail = session_open(s, info)) != NULL) {
		pop3_reply(s, "%s", fail);
		log_info("pop3(%s): %s, session=<%s>", s->user, fail + 5, s->session);
		pop3_session_quit(s);
	} else {
		pop3_reply(s, "+OK Logged in.");
		session_timer(s, config_time("pop3_idle_timeout") * 1000);
	}
	session_event(loop, fd, EV_WRITE, s);
}

/* Writes what the socket takes; -1 when the client has gone. */
static int session_flush(struct pop3_session *s)
{
	for (;;) {
		if (sock_write_some(s->fd, &s->out, 0, &s->out_bytes) < 0)
			return -1;
		if (s->out.len > 0 || s->retr.fd < 0)
			return 0; /* the socket is full, or nothing more to send */
		pop3_retr_more(s);
		if (s->out.len == 0)
			return 0;
	}
}

static int session_read(struct pop3_session *s)
{
	ssize_t n = sock_read_some(s->fd, &s->in, 4096, 16, POP3_MAX_LINE, &s->in_bytes);

	if (n > 0)
		session_timer(s, config_time("pop3_idle_timeout") * 1000);
	return n < 0 ? -1 : 0;
}

/* Runs the commands that are complete while no message is being sent. */
static void session_commands(struct pop3_session *s)
{
	while (!s->closing && s->retr.fd < 0 && s->in.len > 0 && s->out.len < POP3_OUT_HIGH) {
		size_t used = pop3_command(s, s->in.data, s->in.len);

		if (used == 0)
			break;
		buf_consume(&s->in, used);
	}
	if (!s->closing && s->retr.fd < 0 && s->in.len >= POP3_MAX_LINE) {
		pop3_reply(s, "-ERR Input line too long.");
		pop3_session_quit(s);
	}
}

static void session_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct pop3_session *s = ctx;
	int ev;

	(void)loop;
	(void)fd;
	if (s->retr.fd >= 0)
		pop3_retr_more(s);
	if (session_flush(s) < 0) {
		session_free(s);
		return;
	}
	if (s->closing && s->out.len == 0) {
		session_free(s);
		return;
	}
	if (!s->closing && (events & (EV_READ | EV_ERROR)) && session_read(s) < 0) {
		session_free(s);
		return;
	}
	session_commands(s);
	if (s->retr.fd >= 0)
		pop3_retr_more(s);
	if (session_flush(s) < 0) {
		session_free(s);
		return;
	}
	if (s->closing && s->out.len == 0) {
		session_free(s);
		return;
	}
	ev = s->closing ? 0 : EV_READ;
	if (s->in.len >= POP3_MAX_LINE || s->retr.fd >= 0)
		ev &= ~EV_READ; /* back-pressure: finish what is asked first */
	if (s->out.len > 0 || s->retr.fd >= 0)
		ev |= EV_WRITE;
	event_fd_events(s->loop, s->fd, ev);
}
