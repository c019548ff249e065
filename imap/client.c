/*
 * client.c - one IMAP connection after login, on lib/event.
 *
 * Input: bytes are read (inflated under COMPRESS), fed to the command
 * parser (parser.h) and each complete command is dispatched through
 * session.c.  Literals: a synchronising one gets "+ OK" once accepted,
 * LITERAL+ ones are taken as they come, APPEND's message literal goes
 * to a file (append.c) instead of memory.  While a command runs (it may
 * wait for its output to drain) or the output holds more than
 * IMAP_OUT_HIGH, input is not read: a pipelining client is held back by
 * TCP, not by our memory.
 *
 * Output: one buffer, written when the descriptor is writable; a
 * command that produces much (FETCH) stops at IMAP_OUT_HIGH and is
 * resumed (its continuation) once the buffer fell below IMAP_OUT_LOW.
 *
 * Timeouts: imap_idle_timeout without a command closes the session with
 * a BYE (IDLE refreshes it, as RFC 9051 5.4 allows); during IDLE the
 * folder's inotify watch (mstore notify) wakes the session, and every
 * imap_idle_notify_interval it checks the folder anyway and sends
 * "* OK Still here".  The stores of all sessions of the process share one
 * inotify instance (mstore_notify_fd), watched here once: when it is
 * readable, every session's store reports its own folders.  inotify
 * instances are limited per uid (fs.inotify.max_user_instances, 128 by
 * default), so a process may get none; its sessions then "poll": the
 * idling ones are kept in a list and checked every POLL_MS.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "imap.h"
#include "log.h"
#include "util.h"

#define READ_CHUNK 16384
#define POLL_MS 500

static void client_update_events(struct imap_client *c);
static void client_process(struct imap_client *c);
static void client_poll_del(struct imap_client *c);
static void client_idle_end(struct imap_client *c);

/* The idling sessions without an inotify instance, and the timer that
 * checks them. */
static struct imap_client *pollers;
static struct event_timer *poll_timer;
/* The sessions whose store is on the process's inotify instance. */
static struct imap_client *notify_clients;

static void client_poll_arm(struct event_loop *loop);

static void client_free(struct imap_client *c)
{
	void (*fn)(void *) = c->on_close;
	void *ctx = c->on_close_ctx;

	log_info("imap(%s): Logged out in=%llu out=%llu", c->user, (unsigned long long)c->bytes_in,
	    (unsigned long long)c->bytes_out);
	if (c->cont_free && c->cont_ctx)
		c->cont_free(c->cont_ctx);
	imap_append_abort(c);
	if (c->timer)
		event_timer_cancel(c->loop, c->timer);
	if (c->close_timer)
		event_timer_cancel(c->loop, c->close_timer);
	client_idle_end(c);
	if (c->yield_timer)
		event_timer_cancel(c->loop, c->yield_timer);
	event_fd_del(c->loop, c->fd_in);
	if (c->fd_out != c->fd_in)
		event_fd_del(c->loop, c->fd_out);
	if (c->store && !c->polls) {
		for (struct imap_client **p = &notify_clients; *p; p = &(*p)->notify_next)
			if (*p == c) {
				*p = c->notify_next;
				break;
			}
		if (notify_clients == NULL)
			event_fd_del(c->loop, mstore_notify_fd(c->store));
	}
	close(c->fd_in);
	if (c->fd_out != c->fd_in)
		close(c->fd_out);
	if (c->view)
		mstore_view_close(c->view);
	if (c->store)
		mstore_close(c->store);
	imap_parser_free(c->parser);
	if (c->z)
		imap_zlib_free(c->z);
	imap_seqset_free(&c->saved);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->wire);
	free(c->tag);
	free(c->own);
	free(c->user);
	free(c);
	if (fn)
		fn(ctx);
}

void imap_client_on_close(struct imap_client *c, void (*fn)(void *ctx), void *ctx)
{
	c->on_close = fn;
	c->on_close_ctx = ctx;
}

/* Moves c->out to the wire buffer (deflating under COMPRESS). */
static void client_encode(struct imap_client *c)
{
	if (c->out.len == 0)
		return;
	c->bytes_out += c->out.len;
	if (c->z)
		imap_zlib_deflate(c->z, c->out.data, c->out.len, &c->wire);
	else
		buf_append(&c->wire, c->out.data, c->out.len);
	buf_reset(&c->out);
	if (c->compress_pending) {
		c->compress_pending = false;
		c->z = imap_zlib_new();
	}
}

/* Writes what it can; false when the peer is gone. */
static bool client_write(struct imap_client *c)
{
	client_encode(c);
	while (c->wire.len > 0) {
		ssize_t n = write(c->fd_out, c->wire.data, c->wire.len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		buf_consume(&c->wire, (size_t)n);
	}
	return true;
}

static size_t client_pending_out(const struct imap_client *c)
{
	return c->out.len + c->wire.len;
}

static void client_yield_event(struct event_loop *loop, void *ctx);

/* Runs the command's continuation while the output has room and it
 * does not yield. */
static void client_run_cont(struct imap_client *c)
{
	while (c->cont && !c->closing && client_pending_out(c) < IMAP_OUT_LOW &&
	       c->yield_timer == NULL) {
		imap_cont_fn *fn = c->cont;

		if (fn(c)) {
			c->cont = NULL;
			if (c->cont_free && c->cont_ctx)
				c->cont_free(c->cont_ctx);
			c->cont_ctx = NULL;
			c->cont_free = NULL;
			break;
		}
		if (c->cont_yield) {
			c->cont_yield = false;
			c->yield_timer = event_timer_add(c->loop, 0, client_yield_event, c);
		}
		if (!client_write(c)) {
			c->closing = true;
			c->wire.len = 0;
		}
	}
}

void imap_client_yield(struct imap_client *c)
{
	c->cont_yield = true;
}

static void client_close_check(struct imap_client *c)
{
	if ((c->closing || c->in_eof) && (c->wire.len == 0 || c->in_eof) && c->out.len == 0 &&
	    (c->cont == NULL || c->closing))
		client_free(c);
	else
		client_update_events(c);
}

static void client_fd_event(struct event_loop *loop, int fd, int events, void *ctx);

static void client_update_events(struct imap_client *c)
{
	int rd = 0, wr = 0;

	if (!c->closing && !c->in_eof && c->cont == NULL && client_pending_out(c) < IMAP_OUT_HIGH)
		rd = EV_READ;
	if (c->wire.len > 0 || c->out.len > 0)
		wr = EV_WRITE;
	if (c->fd_in == c->fd_out) {
		event_fd_set(c->loop, c->fd_in, rd | wr, client_fd_event, c);
	} else {
		event_fd_set(c->loop, c->fd_in, rd, client_fd_event, c);
		event_fd_set(c->loop, c->fd_out, wr, client_fd_event, c);
	}
}

static void client_close_later(struct event_loop *loop, void *ctx)
{
	struct imap_client *c = ctx;

	(void)loop;
	c->close_timer = NULL;
	client_close_check(c);
}

void imap_client_flush(struct imap_client *c)
{
	if (!client_write(c)) {
		c->closing = true;
		c->wire.len = 0;
	}
	client_update_events(c);
	/* Closed outside an event of its own (at creation, from a timer or
	 * notification): no event would come to free it. */
	if ((c->closing || c->in_eof) && client_pending_out(c) == 0 && c->close_timer == NULL)
		c->close_timer = event_timer_add(c->loop, 0, client_close_later, c);
}

void imap_client_bye(struct imap_client *c, const char *text)
{
	buf_printf(&c->out, "* BYE %s\r\n", text);
	c->closing = true;
	c->state = IMAP_STATE_LOGOUT;
}

void imap_client_compress_start(struct imap_client *c)
{
	c->compress_pending = true;
}

static void client_read(struct imap_client *c)
{
	char tmp[READ_CHUNK];
	ssize_t n = read(c->fd_in, tmp, sizeof(tmp));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->in_eof = true;
		return;
	}
	c->bytes_in += (uint64_t)n;
	c->last_input = event_now(c->loop);
	if (c->z) {
		if (imap_zlib_inflate(c->z, tmp, (size_t)n, &c->in) < 0) {
			imap_client_bye(c, "Invalid compressed data");
			return;
		}
	} else {
		buf_append(&c->in, tmp, (size_t)n);
	}
}

static void client_fd_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct imap_client *c = ctx;

	(void)loop;
	if ((events & EV_WRITE) && fd == c->fd_out) {
		if (!client_write(c)) {
			c->closing = true;
			c->wire.len = 0;
		}
		client_run_cont(c);
	}
	if ((events & (EV_READ | EV_ERROR)) && fd == c->fd_in && !c->closing) {
		client_read(c);
		client_process(c);
	} else if (c->cont == NULL && !c->closing) {
		client_process(c);
	}
	if (!client_write(c)) {
		c->closing = true;
		c->wire.len = 0;
	}
	client_close_check(c);
}

/* A yielding continuation's turn: a timer due at once fires after the
 * descriptors of the round (lib/event), so other sessions go first. */
static void client_yield_event(struct event_loop *loop, void *ctx)
{
	struct imap_client *c = ctx;

	(void)loop;
	c->yield_timer = NULL;
	client_run_cont(c);
	if (c->cont == NULL && !c->closing)
		client_process(c); /* commands that came meanwhile */
	if (!client_write(c)) {
		c->closing = true;
		c->wire.len = 0;
	}
	client_close_check(c);
}

/* ---- IDLE ---- */

static void client_idle_check(struct imap_client *c)
{
	if (c->idling && c->view)
		imap_session_sync(c, true);
	imap_client_flush(c);
}

static void client_notify(void *ctx, struct mstore_view *v)
{
	struct imap_client *c = ctx;

	(void)v;
	client_idle_check(c);
}

static void client_poll_del(struct imap_client *c)
{
	for (struct imap_client **p = &pollers; *p; p = &(*p)->poll_next)
		if (*p == c) {
			*p = c->poll_next;
			break;
		}
	c->poll_next = NULL;
}

/* The sessions that cannot hear a change look for one. */
static void client_poll_all(void)
{
	struct imap_client *p, *next;

	for (p = pollers; p; p = next) {
		next = p->poll_next;
		if (p->idling && p->view && mstore_view_changed(p->view)) {
			client_idle_check(p);
			client_close_check(p);
		}
	}
}

static void client_poll_timer(struct event_loop *loop, void *ctx)
{
	(void)ctx;
	poll_timer = NULL;
	client_poll_all();
	client_poll_arm(loop);
}

static void client_poll_arm(struct event_loop *loop)
{
	if (pollers) {
		if (poll_timer == NULL)
			poll_timer = event_timer_add(loop, POLL_MS, client_poll_timer, NULL);
	} else if (poll_timer) {
		event_timer_cancel(loop, poll_timer);
		poll_timer = NULL;
	}
}

/* The end of an IDLE (or of its session). */
static void client_idle_end(struct imap_client *c)
{
	c->idling = false;
	client_poll_del(c);
	client_poll_arm(c->loop);
}

/* The process's inotify instance is readable: the first store reads the
 * events, each store reports its folders' to its session. */
static void client_notify_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct imap_client *c, *next;

	(void)loop;
	(void)fd;
	(void)events;
	(void)ctx;
	for (c = notify_clients; c; c = next) {
		next = c->notify_next;
		mstore_notify_read(c->store, client_notify, c);
		client_close_check(c);
	}
}

static void client_timer(struct event_loop *loop, void *ctx);

static void client_arm_timer(struct imap_client *c)
{
	long ms;

	if (c->timer)
		event_timer_cancel(c->loop, c->timer);
	if (c->idling) {
		ms = config_time("imap_idle_notify_interval") * 1000L;
		if (ms <= 0)
			ms = 120000;
	} else {
		ms = config_time("imap_idle_timeout") * 1000L;
		if (ms <= 0)
			ms = 1800000;
	}
	c->timer = event_timer_add(c->loop, ms, client_timer, c);
}

static void client_timer(struct event_loop *loop, void *ctx)
{
	struct imap_client *c = ctx;
	long long idle_ms = config_time("imap_idle_timeout") * 1000LL;

	(void)loop;
	c->timer = NULL;
	if (c->idling) {
		/* Whatever inotify said, look now and then (NFS, lost events). */
		if (c->view && mstore_view_changed(c->view))
			imap_session_sync(c, true);
		buf_puts(&c->out, "* OK Still here\r\n");
	} else if (c->cont == NULL && event_now(c->loop) - c->last_input >= idle_ms) {
		imap_client_bye(c, "Disconnected for inactivity.");
		imap_client_flush(c);
		client_close_check(c);
		return;
	}
	client_arm_timer(c);
	imap_client_flush(c);
	client_close_check(c);
}

void imap_client_idle_start(struct imap_client *c)
{
	c->idling = true;
	buf_puts(&c->out, "+ idling\r\n");
	if (c->view) {
		/* no instance, or no watch (fs.inotify.max_user_watches):
		 * the session looks for itself */
		bool poll = c->polls || mstore_notify_add(c->view) < 0;

		imap_session_sync(c, true);
		if (poll) {
			client_poll_del(c);
			c->poll_next = pollers;
			pollers = c;
		}
		client_poll_arm(c->loop);
	}
	client_arm_timer(c);
}

/* A line of input during IDLE: "DONE" ends it. */
static bool client_idle_input(struct imap_client *c)
{
	char *nl = memchr(c->in.data, '\n', c->in.len);
	size_t len;

	if (nl == NULL) {
		if (c->in.len > 1024)
			imap_client_bye(c, "Expected DONE.");
		return false;
	}
	len = (size_t)(nl - c->in.data);
	if (len > 0 && c->in.data[len - 1] == '\r')
		len--;
	client_idle_end(c);
	if (imap_idle_done(c->in.data, len))
		imap_reply(c, c->tag, "OK", "Idle completed.");
	else
		imap_reply(c, c->tag, "BAD", "Expected DONE.");
	buf_consume(&c->in, (size_t)(nl - c->in.data) + 1);
	client_arm_timer(c);
	return true;
}

/* ---- commands ---- */

static void client_bad(struct imap_client *c)
{
	const char *tag = imap_parser_error_tag(c->parser);

	imap_reply(
	    c, tag ? tag : "*", "BAD", "Error in IMAP command: %s", imap_parser_error(c->parser));
}

static void client_literal(struct imap_client *c)
{
	const struct imap_literal_info *li = imap_parser_literal(c->parser);
	const struct imap_command *pc = imap_parser_partial(c->parser);

	if (pc && pc->name && strcmp(pc->name, "APPEND") == 0 && li->argc >= 1 &&
	    (li->depth == 0 || (li->depth == 1 && li->literal8))) {
		if (imap_append_literal(c)) {
			imap_parser_literal_stream(c->parser);
			c->lit_left = li->size;
			if (li->sync)
				buf_puts(&c->out, "+ OK\r\n");
			if (c->lit_left == 0) {
				imap_append_data(c, NULL, 0);
				imap_parser_literal_streamed(c->parser);
			}
		}
		return;
	}
	if (!imap_parser_literal_accept(c->parser)) {
		client_bad(c);
		return;
	}
	if (li->sync)
		buf_puts(&c->out, "+ OK\r\n");
}

static void client_dispatch(struct imap_client *c)
{
	const struct imap_command *cmd = imap_parser_command(c->parser);

	free(c->tag);
	c->tag = xstrdup(cmd->tag);
	imap_session_command(c, cmd);
}

/* Feeds input to the parser while nothing holds it back. */
static void client_process(struct imap_client *c)
{
	while (!c->closing && c->cont == NULL && client_pending_out(c) < IMAP_OUT_HIGH) {
		size_t used = 0;
		enum imap_parse_result r;

		if (c->idling) {
			if (!client_idle_input(c))
				break;
			continue;
		}
		if (c->lit_left > 0) {
			size_t n = c->in.len < c->lit_left ? c->in.len : (size_t)c->lit_left;

			if (n == 0)
				break;
			imap_append_data(c, c->in.data, n);
			buf_consume(&c->in, n);
			c->lit_left -= n;
			if (c->lit_left == 0) {
				imap_append_data(c, NULL, 0);
				imap_parser_literal_streamed(c->parser);
			}
			continue;
		}
		if (c->in.len == 0)
			break;
		r = imap_parser_feed(c->parser, c->in.data, c->in.len, &used);
		buf_consume(&c->in, used);
		switch (r) {
		case IMAP_PARSE_MORE:
			if (used == 0)
				goto out;
			break;
		case IMAP_PARSE_COMMAND:
			client_dispatch(c);
			client_run_cont(c);
			break;
		case IMAP_PARSE_LITERAL: client_literal(c); break;
		case IMAP_PARSE_BAD:
			imap_append_abort(c);
			client_bad(c);
			break;
		case IMAP_PARSE_FATAL:
			imap_append_abort(c);
			imap_client_bye(c, imap_parser_error(c->parser));
			break;
		}
	}
out:
	if (c->in_eof && c->cont == NULL)
		imap_append_abort(c);
}

/* ---- creation ---- */

static bool client_open_store(struct imap_client *c, const char *maildir, const char *quota_rule)
{
	struct mstore_opts o;
	struct buf err = BUF_INIT;

	mstore_opts_init(&o);
	mstore_opts_from_config(&o);
	/* the account's quota, as local enforces it at delivery */
	mstore_opts_quota_rule(&o, quota_rule);
	o.create = true;
	c->store = mstore_open(maildir, &o, &err);
	if (c->store == NULL) {
		log_warn("imap(%s): cannot open mailbox %s: %s", c->user, maildir, buf_cstr(&err));
		buf_free(&err);
		return false;
	}
	buf_free(&err);
	if (mstore_notify_fd(c->store) >= 0) {
		if (notify_clients == NULL)
			event_fd_set(c->loop, mstore_notify_fd(c->store), EV_READ,
			    client_notify_event, NULL);
		c->notify_next = notify_clients;
		notify_clients = c;
	} else {
		c->polls = true;
	}
	return true;
}

struct imap_client *imap_client_new_fds(struct event_loop *loop, int fd_in, int fd_out,
    const struct imap_login_info *li, const char *pending, size_t len)
{
	struct imap_client *c = xcalloc(1, sizeof(*c));
	struct imap_parser_limits lim;

	memset(&lim, 0, sizeof(lim));
	lim.max_line = (size_t)config_size("imap_max_line_length");
	c->loop = loop;
	c->fd_in = fd_in;
	c->fd_out = fd_out;
	c->user = xstrdup(li->user);
	c->parser = imap_parser_new(&lim);
	c->last_input = event_now(loop);
	fcntl(fd_in, F_SETFL, fcntl(fd_in, F_GETFL) | O_NONBLOCK);
	if (fd_out != fd_in)
		fcntl(fd_out, F_SETFL, fcntl(fd_out, F_GETFL) | O_NONBLOCK);
	if (!client_open_store(c, li->maildir, li->quota_rule)) {
		/* Not "OK Logged in" then BYE: the login has failed for the
		 * client, which is told so on its login command. */
		imap_client_bye(c, "[UNAVAILABLE] Internal error: the mailbox cannot be opened.");
		if (li->tag)
			buf_printf(&c->out,
			    "%s NO [UNAVAILABLE] Login failed: the mailbox cannot be opened.\r\n",
			    li->tag);
		imap_client_flush(c);
		client_close_check(c);
		return NULL;
	}
	if (li->tag)
		buf_printf(
		    &c->out, "%s OK [CAPABILITY %s] Logged in\r\n", li->tag, imap_capabilities());
	log_info("imap(%s): Login%s%s", c->user, li->rip ? " rip=" : "", li->rip ? li->rip : "");
	if (pending && len)
		buf_append(&c->in, pending, len);
	client_arm_timer(c);
	client_process(c);
	imap_client_flush(c);
	return c;
}

struct imap_client *imap_client_new(struct event_loop *loop, int fd,
    const struct imap_login_info *li, const char *pending, size_t len)
{
	return imap_client_new_fds(loop, fd, fd, li, pending, len);
}
