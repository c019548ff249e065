/*
 * login/client.c - one client of a login process: its I/O (plaintext or
 * TLS, non-blocking), its time-out, and how it ends.
 *
 * A client is freed only from an event callback or a timer of its own,
 * never inside a call the protocol made: login_client_close() marks it
 * closing and lets the event loop send the last reply (at most
 * LOGIN_CLOSE_GRACE_MS) before it frees, so the protocol may go on
 * touching the client until it returns.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "auth/sasl.h"
#include "config.h"
#include "log.h"
#include "login/login_int.h"
#include "sock.h"
#include "util.h"

static void client_event(struct event_loop *loop, int fd, int events, void *ctx);

void *login_client_state(struct login_client *c)
{
	return c->state;
}

bool login_client_tls(const struct login_client *c)
{
	return c->tls != NULL;
}

bool login_client_secured(const struct login_client *c)
{
	return c->tls != NULL || c->secured;
}

bool login_client_plaintext_ok(const struct login_client *c)
{
	return login_client_secured(c) || !config_bool("login_disable_plaintext_auth");
}

bool login_client_tls_possible(const struct login_client *c)
{
	return c->tls == NULL && tls_server_level() != TLS_LEVEL_NONE;
}

bool login_client_tls_required(const struct login_client *c)
{
	return c->tls == NULL && tls_server_level() == TLS_LEVEL_ENCRYPT;
}

void login_client_set_utf8(struct login_client *c)
{
	c->utf8 = true;
}

bool login_client_utf8(const struct login_client *c)
{
	return c->utf8;
}

void login_client_log(struct login_client *c, const char *text, long mpid)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s: user=<%s>", text, c->user ? c->user : "");
	if (c->mech)
		buf_printf(&b, ", method=%s", c->mech);
	buf_printf(&b, ", rip=%s, lip=%s", c->rip, c->lip);
	if (mpid > 0)
		buf_printf(&b, ", mpid=%ld", mpid);
	if (c->tls)
		buf_puts(&b, ", TLS");
	else if (c->secured)
		buf_puts(&b, ", secured");
	buf_printf(&b, ", session=<%s>", c->session);
	log_info("%s", buf_cstr(&b));
	buf_free(&b);
}

/* Dovecot's session ids: 9 random bytes, base64 (12 characters). */
static void client_session_id(struct login_client *c)
{
	unsigned char raw[9];
	struct buf b = BUF_INIT;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		memset(raw, 0, sizeof(raw));
	sasl_base64_encode((const char *)raw, sizeof(raw), &b);
	snprintf(c->session, sizeof(c->session), "%s", buf_cstr(&b));
	buf_free(&b);
}

static void client_timeout(struct event_loop *loop, void *ctx)
{
	struct login_client *c = ctx;

	(void)loop;
	c->timer = NULL;
	if (c->phase == LOGIN_CLOSING) {
		login_client_free(c);
		return;
	}
	login_client_bye(c, LOGIN_BYE_TIMEOUT, "Inactivity");
	login_client_events(c);
}

static void client_timer_set(struct login_client *c, long ms)
{
	if (c->timer)
		event_timer_cancel(c->loop, c->timer);
	c->timer = ms > 0 ? event_timer_add(c->loop, ms, client_timeout, c) : NULL;
}

void login_client_idle(struct login_client *c)
{
	client_timer_set(c, login_engine.idle_ms);
}

void login_client_accept(struct event_loop *loop, int fd)
{
	const struct login_proto *p = login_engine.proto;
	struct login_client *c = xcalloc(1, sizeof(*c) + p->state_size);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	c->loop = loop;
	c->fd = fd;
	c->relay_fd = -1;
	c->started = event_now(loop);
	sock_peer(fd, c->rip, sizeof(c->rip), &c->rport);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		sock_ntop((struct sockaddr *)&ss, c->lip, sizeof(c->lip), &c->lport);
	else
		snprintf(c->lip, sizeof(c->lip), "unknown");
	c->secured = sock_addr_in_networks(c->rip, config_str("login_secured_networks"));
	client_session_id(c);
	ipc_conn_init(&c->ho, -1);
	ipc_msg_init(&c->ho_msg);
	c->next = login_engine.clients;
	if (c->next)
		c->next->prev = c;
	login_engine.clients = c;
	login_engine.nclients++;
	event_fd_set(loop, fd, 0, client_event, c);
	client_timer_set(c, login_engine.idle_ms);
	if (login_engine.client_limit > 0 && login_engine.nclients > login_engine.client_limit) {
		log_warn("login_client_limit (%ld) reached: refusing %s", login_engine.client_limit,
		    c->rip);
		c->phase = LOGIN_PRE_AUTH;
		login_client_bye(c, LOGIN_BYE_LIMIT, NULL);
	} else if (tls_server_wrappermode()) {
		login_client_starttls(c);
	} else {
		c->phase = LOGIN_PRE_AUTH;
		c->greeted = true;
		p->greet(c);
	}
	login_client_events(c);
}

void login_client_free(struct login_client *c)
{
	if (login_engine.proto->destroy)
		login_engine.proto->destroy(c);
	if (c->call)
		auth_call_abort(c->call);
	if (c->timer)
		event_timer_cancel(c->loop, c->timer);
	if (c->fd >= 0) {
		event_fd_del(c->loop, c->fd);
		close(c->fd);
	}
	if (c->relay_fd >= 0) {
		event_fd_del(c->loop, c->relay_fd);
		close(c->relay_fd);
	}
	if (c->ho.fd >= 0)
		event_fd_del(c->loop, c->ho.fd);
	ipc_conn_close(&c->ho);
	ipc_msg_free(&c->ho_msg);
	tls_conn_free(c->tls);
	if (c->prev)
		c->prev->next = c->next;
	else
		login_engine.clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	login_engine.nclients--;
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->relay_in);
	buf_free(&c->relay_back);
	free(c->mech);
	free(c->user);
	free(c->tag);
	free(c->close_why);
	free(c);
}

ssize_t login_client_recv(struct login_client *c, void *p, size_t n)
{
	c->tls_rwant = EV_READ;
	if (c->tls)
		return tls_conn_read(c->tls, p, n, &c->tls_rwant);
	return recv(c->fd, p, n, 0);
}

ssize_t login_client_send(struct login_client *c, const void *p, size_t n)
{
	c->tls_wwant = EV_WRITE;
	if (c->tls)
		return tls_conn_write(c->tls, p, n, &c->tls_wwant);
	return send(c->fd, p, n, MSG_NOSIGNAL);
}

void login_client_write(struct login_client *c, const void *p, size_t n)
{
	if (c->phase == LOGIN_CLOSING || c->out.len + n > LOGIN_MAX_OUT)
		return;
	buf_append(&c->out, p, n);
}

void login_client_printf(struct login_client *c, const char *fmt, ...)
{
	va_list ap;

	if (c->phase == LOGIN_CLOSING)
		return;
	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
}

void login_client_close(struct login_client *c, const char *why)
{
	if (c->phase == LOGIN_CLOSING)
		return;
	if (c->call) {
		auth_call_abort(c->call);
		c->call = NULL;
	}
	free(c->close_why);
	c->close_why = why ? xstrdup(why) : NULL;
	c->phase = LOGIN_CLOSING;
	client_timer_set(c, LOGIN_CLOSE_GRACE_MS);
}

void login_client_bye(struct login_client *c, enum login_bye why, const char *log_why)
{
	if (c->phase != LOGIN_CLOSING && c->phase != LOGIN_TLS_HANDSHAKE)
		login_engine.proto->bye(c, why);
	login_client_close(c, log_why);
}

/* Writes what the socket takes; -1 when the client is gone. */
static int client_flush(struct login_client *c)
{
	while (c->out.len > 0) {
		ssize_t n = login_client_send(c, c->out.data, c->out.len);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		buf_consume(&c->out, (size_t)n);
	}
	return 0;
}

/* Reads what is there; -1 on end of stream or error. */
static int client_read(struct login_client *c)
{
	size_t max = login_engine.proto->max_input;

	while (c->in.len < max) {
		ssize_t n;

		buf_reserve(&c->in, max - c->in.len);
		n = login_client_recv(c, buf_tail(&c->in), max - c->in.len);
		if (n > 0) {
			buf_commit(&c->in, (size_t)n);
			client_timer_set(c, login_engine.idle_ms);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return -1;
	}
	return 0;
}

void login_client_feed(struct login_client *c)
{
	const struct login_proto *p = login_engine.proto;

	while (c->phase == LOGIN_PRE_AUTH && c->in.len > 0) {
		size_t used = p->input(c, c->in.data, c->in.len);

		if (used == 0)
			break;
		buf_consume(&c->in, used);
	}
	if (c->phase == LOGIN_PRE_AUTH && c->in.len >= p->max_input)
		login_client_bye(c, LOGIN_BYE_TOO_LONG, "Input buffer full");
}

void login_client_starttls(struct login_client *c)
{
	buf_reset(&c->in);
	c->phase = LOGIN_STARTTLS;
}

static void client_tls_begin(struct login_client *c)
{
	if ((c->tls = tls_conn_new(c->fd)) == NULL) {
		c->phase = LOGIN_CLOSING;
		c->close_why = xstrdup("TLS initialization failed");
		return;
	}
	c->phase = LOGIN_TLS_HANDSHAKE;
	c->tls_want = EV_READ;
}

/* Advances the handshake; -1 when it failed (client to be freed). */
static int client_tls_step(struct login_client *c)
{
	struct buf err = BUF_INIT;
	int r = tls_conn_handshake(c->tls, &c->tls_want, &err);

	if (r < 0) {
		c->close_why = xasprintf("TLS handshaking: %s", buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	if (r == 1) {
		c->phase = LOGIN_PRE_AUTH;
		if (!c->greeted) { /* implicit TLS: the greeting comes now */
			c->greeted = true;
			login_engine.proto->greet(c);
		} else if (login_engine.proto->tls_started)
			login_engine.proto->tls_started(c);
		client_timer_set(c, login_engine.idle_ms);
	}
	return 0;
}

static void client_log_close(struct login_client *c)
{
	char text[256];
	long secs = (long)((event_now(c->loop) - c->started) / 1000);

	if (c->failures > 0)
		snprintf(text, sizeof(text),
		    "Disconnected (%s, auth failed, %u attempts in %ld secs)",
		    c->close_why ? c->close_why : "closed", c->failures, secs);
	else
		snprintf(text, sizeof(text), "Disconnected (%s, no auth attempts in %ld secs)",
		    c->close_why ? c->close_why : "closed", secs);
	login_client_log(c, text, 0);
}

static void client_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct login_client *c = ctx;

	(void)loop;
	(void)fd;
	if (c->phase == LOGIN_RELAY) {
		login_relay_event(c, fd, events);
		return;
	}
	if (c->phase == LOGIN_TLS_HANDSHAKE) {
		if (client_tls_step(c) < 0) {
			client_log_close(c);
			login_client_free(c);
			return;
		}
		if (c->phase == LOGIN_TLS_HANDSHAKE) {
			login_client_events(c);
			return;
		}
		events |= EV_READ; /* the handshake may have brought data */
	}
	if (client_flush(c) < 0) {
		if (!c->close_why)
			c->close_why = xstrdup("Connection closed");
		client_log_close(c);
		login_client_free(c);
		return;
	}
	if (c->phase == LOGIN_CLOSING && c->out.len == 0) {
		client_log_close(c);
		login_client_free(c);
		return;
	}
	if (c->phase == LOGIN_STARTTLS && c->out.len == 0)
		client_tls_begin(c);
	if (c->phase == LOGIN_PRE_AUTH && (events & (EV_READ | EV_ERROR)) && client_read(c) < 0) {
		c->close_why = xstrdup("Connection closed");
		client_log_close(c);
		login_client_free(c);
		return;
	}
	login_client_feed(c);
	login_client_events(c);
}

static void client_kick(struct event_loop *loop, void *ctx)
{
	struct login_client *c = ctx;

	c->timer = NULL;
	client_timer_set(c, login_engine.idle_ms);
	client_event(loop, c->fd, EV_READ, c);
}

void login_client_events(struct login_client *c)
{
	int ev = 0;

	switch (c->phase) {
	case LOGIN_TLS_HANDSHAKE: ev = c->tls_want; break;
	case LOGIN_PRE_AUTH:
		ev = c->tls ? c->tls_rwant : EV_READ;
		/* OpenSSL may hold decrypted bytes no epoll event announces. */
		if (c->tls && tls_conn_pending(c->tls) &&
		    c->in.len < login_engine.proto->max_input) {
			if (c->timer)
				event_timer_cancel(c->loop, c->timer);
			c->timer = event_timer_add(c->loop, 0, client_kick, c);
		}
		break;
	case LOGIN_RELAY: return;
	default: break;
	}
	if (c->out.len > 0 || c->phase == LOGIN_CLOSING || c->phase == LOGIN_STARTTLS)
		ev |= c->tls ? c->tls_wwant : EV_WRITE;
	if (c->tls && c->tls_wwant == EV_READ && c->out.len > 0)
		ev |= EV_READ;
	event_fd_events(c->loop, c->fd, ev);
}
