/*
 * login/relay.c - after a TLS client logged in (or any client, for a
 * protocol with keep_connection): the login process keeps the TLS session
 * and relays bytes between it and the socket pair whose other end the
 * user's process has.
 *
 * Each direction has one buffer of LOGIN_RELAY_BUF bytes (client ->
 * process: c->in; process -> client: c->relay_in); a side is read only
 * while its buffer has room, so a slow reader holds back the writer
 * instead of growing memory.  When the process closes its end (LOGOUT,
 * QUIT, its time-out), what it wrote is delivered before the client is
 * closed; when the client goes, the process's end is closed at once.
 *
 * The way back (keep_connection, login.h): a byte from the process with
 * a descriptor attached marks the end of its output.  From then on the
 * client is not read and nothing more goes to the process; the pair is
 * shut for writing, and what the process sends until it closes are the
 * client's bytes it had received and not used.  They go before those
 * still here (c->in), and the client is in the pre-login state again.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "login/login_int.h"
#include "sock.h"
#include "util.h"

static void relay_pair_event(struct event_loop *loop, int fd, int events, void *ctx);

static void relay_end(struct login_client *c)
{
	log_debug("session=<%s> relay ended", c->session);
	login_client_free(c);
}

/* Re-arms both descriptors for what each direction can do now. */
static void relay_arm(struct login_client *c)
{
	int cev = 0, pev = 0;

	if (!c->relay_eof && !c->giving_back && c->in.len < LOGIN_RELAY_BUF)
		cev |= c->tls_rwant;
	if (c->relay_in.len > 0)
		cev |= c->tls_wwant;
	if (c->in.len > 0 && !c->giving_back)
		pev |= EV_WRITE;
	if (!c->relay_eof && (c->giving_back || c->relay_in.len < LOGIN_RELAY_BUF))
		pev |= EV_READ;
	event_fd_events(c->loop, c->fd, cev);
	event_fd_events(c->loop, c->relay_fd, pev);
}

/*
 * Reads what the process sends (its output to the client, or once it
 * gives the client back, the client's unused bytes); -1 on a read error
 * or a peer that breaks the way back.
 */
static int relay_from_process(struct login_client *c)
{
	while (!c->relay_eof) {
		struct buf *b = c->giving_back ? &c->relay_back : &c->relay_in;
		size_t room =
		    LOGIN_RELAY_BUF - (b->len < LOGIN_RELAY_BUF ? b->len : LOGIN_RELAY_BUF);
		bool extra;
		int fd;
		ssize_t n;

		if (room == 0)
			return c->giving_back ? -1 : 0; /* more than a client sends at once */
		buf_reserve(b, room);
		n = sock_recv_fd(c->relay_fd, buf_tail(b), room, &fd, &extra);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			c->relay_eof = true;
			return 0;
		}
		buf_commit(b, (size_t)n);
		if (fd < 0 && !extra)
			continue;
		if (fd >= 0)
			close(fd);
		/* the marker: the last byte read, after the process's last output */
		if (extra || c->giving_back || !login_engine.proto->keep_connection)
			return -1;
		b->len--;
		c->giving_back = true;
		shutdown(c->relay_fd, SHUT_WR);
	}
	return 0;
}

/* Moves what it can each way; -1 when the relay is over. */
static int relay_pump(struct login_client *c)
{
	ssize_t n;

	/* client -> process */
	while (!c->relay_eof && !c->giving_back && c->in.len < LOGIN_RELAY_BUF) {
		buf_reserve(&c->in, LOGIN_RELAY_BUF - c->in.len);
		n = login_client_recv(c, buf_tail(&c->in), LOGIN_RELAY_BUF - c->in.len);
		if (n > 0)
			buf_commit(&c->in, (size_t)n);
		else if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		else
			return -1; /* the client has gone */
	}
	if (!c->giving_back && sock_write_some(c->relay_fd, &c->in, 0, NULL) < 0)
		return -1;
	/* process -> client */
	if (relay_from_process(c) < 0)
		return -1;
	while (c->relay_in.len > 0) {
		n = login_client_send(c, c->relay_in.data, c->relay_in.len);
		if (n > 0)
			buf_consume(&c->relay_in, (size_t)n);
		else if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		else
			return -1;
	}
	if (c->relay_eof && c->relay_in.len == 0)
		return -1;
	/* OpenSSL may hold more decrypted bytes than the buffer took. */
	return 0;
}

/* The process has given the client back: the pre-login state again. */
static void relay_back(struct login_client *c)
{
	event_fd_del(c->loop, c->relay_fd);
	close(c->relay_fd);
	c->relay_fd = -1;
	c->relay_eof = false;
	c->giving_back = false;
	buf_append(&c->relay_back, c->in.data, c->in.len);
	buf_reset(&c->in);
	buf_append(&c->in, c->relay_back.data, c->relay_back.len);
	buf_free(&c->relay_back);
	buf_free(&c->relay_in);
	login_client_log(c, "Unauthenticated", 0);
	free(c->user);
	free(c->mech);
	free(c->tag);
	c->user = c->mech = c->tag = NULL;
	c->phase = LOGIN_PRE_AUTH;
	login_client_idle(c);
	if (login_engine.proto->unauthenticated)
		login_engine.proto->unauthenticated(c);
	login_client_feed(c);
	login_client_events(c);
}

static void relay_run(struct login_client *c)
{
	if (relay_pump(c) < 0) {
		if (c->giving_back && c->relay_eof && c->relay_in.len == 0)
			relay_back(c);
		else
			relay_end(c);
		return;
	}
	relay_arm(c);
}

void login_relay_event(struct login_client *c, int fd, int events)
{
	(void)fd;
	(void)events;
	relay_run(c);
}

static void relay_pair_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	(void)loop;
	(void)fd;
	(void)events;
	relay_run(ctx);
}

void login_relay_start(struct login_client *c)
{
	if (c->timer) {
		event_timer_cancel(c->loop, c->timer);
		c->timer = NULL;
	}
	c->phase = LOGIN_RELAY;
	buf_reset(&c->in);
	c->tls_rwant = EV_READ;
	c->tls_wwant = EV_WRITE;
	sock_nonblock(c->relay_fd, true);
	event_fd_set(c->loop, c->relay_fd, 0, relay_pair_event, c);
	relay_run(c);
}
