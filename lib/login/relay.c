/*
 * login/relay.c - after a TLS client logged in: the login process keeps
 * the TLS session and relays bytes between it and the socket pair whose
 * other end the user's process has.
 *
 * Each direction has one buffer of LOGIN_RELAY_BUF bytes (client ->
 * process: c->in; process -> client: c->relay_in); a side is read only
 * while its buffer has room, so a slow reader holds back the writer
 * instead of growing memory.  When the process closes its end (LOGOUT,
 * QUIT, its time-out), what it wrote is delivered before the client is
 * closed; when the client goes, the process's end is closed at once.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "login/login_int.h"
#include "sock.h"

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

	if (!c->relay_eof && c->in.len < LOGIN_RELAY_BUF)
		cev |= c->tls_rwant;
	if (c->relay_in.len > 0)
		cev |= c->tls_wwant;
	if (c->in.len > 0)
		pev |= EV_WRITE;
	if (!c->relay_eof && c->relay_in.len < LOGIN_RELAY_BUF)
		pev |= EV_READ;
	event_fd_events(c->loop, c->fd, cev);
	event_fd_events(c->loop, c->relay_fd, pev);
}

/* Moves what it can each way; -1 when the relay is over. */
static int relay_pump(struct login_client *c)
{
	ssize_t n;

	/* client -> process */
	while (!c->relay_eof && c->in.len < LOGIN_RELAY_BUF) {
		buf_reserve(&c->in, LOGIN_RELAY_BUF - c->in.len);
		n = login_client_recv(c, buf_tail(&c->in), LOGIN_RELAY_BUF - c->in.len);
		if (n > 0)
			buf_commit(&c->in, (size_t)n);
		else if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		else
			return -1; /* the client has gone */
	}
	while (c->in.len > 0) {
		n = send(c->relay_fd, c->in.data, c->in.len, MSG_NOSIGNAL);
		if (n > 0)
			buf_consume(&c->in, (size_t)n);
		else if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		else
			return -1;
	}
	/* process -> client */
	while (!c->relay_eof && c->relay_in.len < LOGIN_RELAY_BUF) {
		buf_reserve(&c->relay_in, LOGIN_RELAY_BUF - c->relay_in.len);
		n = recv(c->relay_fd, buf_tail(&c->relay_in), LOGIN_RELAY_BUF - c->relay_in.len, 0);
		if (n > 0)
			buf_commit(&c->relay_in, (size_t)n);
		else if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		else
			c->relay_eof = true;
	}
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

static void relay_run(struct login_client *c)
{
	if (relay_pump(c) < 0) {
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
