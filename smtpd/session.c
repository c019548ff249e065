/*
 * session.c - one SMTP client connection: bytes in, lines out, time-outs.
 *
 * The session reads into a bounded buffer, hands complete command lines to
 * commands.c one at a time and in order, and message content to
 * message.c.  Replies are buffered and written when no further complete
 * command is waiting, before the session waits for I/O (RFC 2920 3.1), so
 * a pipelining client gets its replies in few packets and a client that
 * does not pipeline still gets each reply at once.
 *
 * Memory is bounded: while reading commands the input buffer holds at most
 * line_length_limit plus a read's worth; the rest of an over-long line is
 * skipped; replies stop being produced while too many wait to be written.
 * And it is small while a session waits between commands: buffers that
 * are empty then are freed (session_shrink), so an idle session costs its
 * struct and little else, and one process can hold thousands of them.
 *
 * Every event callback ends in session_run(), the only place that frees a
 * session.  This file knows nothing of individual commands or of policy.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "anvil.h"
#include "auth.h"
#include "cleanup_client.h"
#include "config.h"
#include "log.h"
#include "milter.h"
#include "peername.h"
#include "screen.h"
#include "smtpd.h"
#include "smtpd_spf.h"
#include "sock.h"
#include "tls_server.h"
#include "util.h"

#define SESSION_READ_SLACK 4096 /* read size beyond one command line */
#define SESSION_DATA_READ 65536 /* read size during DATA */
#define SESSION_OUT_HIGH 65536	/* stop running commands above this */

static struct {
	size_t line_limit;
	long timeout_ms;
	long tls_timeout_ms;
} session_cfg;

static struct smtpd_session *session_list;
static size_t session_n;
static void (*session_empty_hook)(struct event_loop *loop);

static void session_io(struct event_loop *loop, int fd, int events, void *ctx);
static void session_timeout(struct event_loop *loop, void *ctx);
static bool session_limits(struct smtpd_session *s);
static void session_connected(struct smtpd_session *s);

void session_init(void (*on_empty)(struct event_loop *loop))
{
	long limit = config_int("line_length_limit");

	session_cfg.line_limit = limit > 512 ? (size_t)limit : 512; /* RFC 5321 4.5.3.1.4 */
	session_cfg.timeout_ms = config_time("smtpd_timeout") * 1000;
	if (session_cfg.timeout_ms <= 0)
		session_cfg.timeout_ms = 300 * 1000;
	session_cfg.tls_timeout_ms = config_time("smtpd_starttls_timeout") * 1000;
	if (session_cfg.tls_timeout_ms <= 0)
		session_cfg.tls_timeout_ms = session_cfg.timeout_ms;
	session_empty_hook = on_empty;
}

size_t session_count(void)
{
	return session_n;
}

bool session_idle(void *ctx)
{
	(void)ctx;
	return session_n == 0;
}

void session_client(const struct smtpd_session *s, struct buf *out)
{
	buf_printf(out, "%s[%s]", s->name, s->addr);
}

void session_new(struct event_loop *loop, int fd)
{
	struct smtpd_session *s = xcalloc(1, sizeof(*s));

	s->loop = loop;
	s->fd = fd;
	peername_init(s);
	s->size_decl = -1;
	s->last_cmd = "CONNECT";
	s->last_io = event_now(loop);
	sock_peer(fd, s->addr, sizeof(s->addr), &s->port);
	s->next = session_list;
	if (session_list)
		session_list->prev = s;
	session_list = s;
	session_n++;
	event_fd_set(loop, fd, 0, session_io, s);
	s->timer = event_timer_add(loop, session_cfg.timeout_ms, session_timeout, s);
	s->name_wait = !peername_poll(s);
	if (!s->name_wait)
		session_connected(s);
	session_run(s);
}

/*
 * The client's name is known: the connect line, the connection limits,
 * then screening or the greeting.  Bytes the client sent meanwhile wait
 * in the input buffer: screening takes them for a pregreet.
 */
static void session_connected(struct smtpd_session *s)
{
	s->name_wait = false;
	log_info("connect from %s[%s]", s->name, s->addr);
	if (!session_limits(s))
		return;
	/* A client of smtps speaks first (TLS): no pregreet test there. */
	if (tls_server_wrappermode() || !screen_begin(s))
		session_greet(s);
}

/*
 * At connect or once screening let the client through: the milters hear
 * of the connection, and the greeting waits for their answer (Postfix
 * asks them before its 220 too), so that a milter's connect-stage
 * rejection is the greeting.  With implicit TLS the handshake starts at
 * once; the greeting waits, queued, for it.
 */
void session_greet(struct smtpd_session *s)
{
	if (!smtpd_milter_connect(s))
		session_greet_send(s);
	if (tls_server_wrappermode())
		session_tls_begin(s);
}

/*
 * The greeting, as Postfix words it after its milters' connect answer: a
 * 5xx rejection makes it 554 (and HELO/MAIL get the milter's reply, as
 * they do after any connect-stage rejection), a 421 makes it 421 and the
 * session ends; any other answer leaves the 220.
 */
void session_greet_send(struct smtpd_session *s)
{
	const char *r = smtpd_milter_connect_reply(s);

	s->greet_wait = false;
	if (r && r[0] == '5') {
		smtpd_reply(s, "554 %s ESMTP not accepting connections", config_str("myhostname"));
	} else if (r && strncmp(r, "421", 3) == 0) {
		smtpd_reply(
		    s, "421 %s Service unavailable - try again later", config_str("myhostname"));
		s->closing = true;
	} else {
		smtpd_reply(s, "220 %s", config_str("smtpd_banner"));
	}
}

/*
 * smtpd_client_connection_count_limit and _rate_limit, across all smtpd
 * processes (anvil.c); clients in smtpd_client_event_limit_exceptions are
 * not counted.  False: the client got a 421 and the session is closing.
 */
static bool session_limits(struct smtpd_session *s)
{
	long max_count = config_int("smtpd_client_connection_count_limit");
	long max_rate = config_int("smtpd_client_connection_rate_limit");
	int count, rate;

	if ((max_count <= 0 && max_rate <= 0) ||
	    sock_addr_in_networks(s->addr, config_str("smtpd_client_event_limit_exceptions")))
		return true;
	s->anvil = anvil_connect(s->addr, config_time("anvil_rate_time_unit"), &count, &rate);
	if (max_count > 0 && count > max_count) {
		log_warn("Connection concurrency limit exceeded: %d from %s[%s] for service %s",
		    count, s->name, s->addr, "smtpd");
		smtpd_reply(s, "421 4.7.0 %s Error: too many connections from %s",
		    config_str("myhostname"), s->addr);
	} else if (max_rate > 0 && rate > max_rate) {
		log_warn("Connection rate limit exceeded: %d from %s[%s] for service %s", rate,
		    s->name, s->addr, "smtpd");
		smtpd_reply(s, "421 4.7.0 %s Error: too many connections from %s",
		    config_str("myhostname"), s->addr);
	} else {
		return true;
	}
	s->closing = true;
	return false;
}

void session_reset_transaction(struct smtpd_session *s)
{
	smtpd_milter_abort(s);
	free(s->sender);
	s->sender = NULL;
	for (size_t i = 0; i < s->nrcpt; i++) {
		free(s->rcpts[i]);
		esmtp_rcpt_free(&s->rcpt_dsn[i]);
	}
	free(s->rcpts);
	free(s->rcpt_dsn);
	s->rcpts = NULL;
	s->rcpt_dsn = NULL;
	s->nrcpt = 0;
	s->size_decl = -1;
	s->smtputf8 = false;
	s->requiretls = false;
	if (s->bdat_open)
		message_abort(s);
	s->dsn_ret = NULL;
	free(s->dsn_envid);
	s->dsn_envid = NULL;
}

static void session_log_end(struct smtpd_session *s)
{
	struct buf line = BUF_INIT;

	/* It left while its name was looked up: the connect line first, and
	 * the connection counted for the rate limit, as Postfix's smtpd
	 * (which looks the name up before anything) always does. */
	if (s->name_wait) {
		log_info("connect from %s[%s]", s->name, s->addr);
		(void)session_limits(s);
	}

	if (s->dead && s->closing == false) {
		buf_printf(&line, "lost connection after %s", s->last_cmd);
		if (s->state == SMTPD_DATA || s->state == SMTPD_BDAT)
			buf_printf(&line, " (%lld bytes)", s->msg_size);
		buf_puts(&line, " from ");
		session_client(s, &line);
		log_info("%s", buf_cstr(&line));
		buf_reset(&line);
	}
	buf_puts(&line, "disconnect from ");
	session_client(s, &line);
	smtpd_log_counts(s, &line);
	log_info("%s", buf_cstr(&line));
	buf_free(&line);
}

static void session_free(struct smtpd_session *s)
{
	struct event_loop *loop = s->loop;

	session_log_end(s);
	message_abort(s);
	if (s->anvil)
		anvil_disconnect(s->addr);
	if (s->timer)
		event_timer_cancel(loop, s->timer);
	if (s->pause_timer)
		event_timer_cancel(loop, s->pause_timer);
	event_fd_del(loop, s->fd);
	tls_conn_free(s->tls);
	close(s->fd);
	if (s->prev)
		s->prev->next = s->next;
	else
		session_list = s->next;
	if (s->next)
		s->next->prev = s->prev;
	session_reset_transaction(s);
	smtpd_milter_free(s);
	screen_free(s);
	auth_reset(s);
	smtpd_spf_free(s);
	peername_free(s);
	buf_free(&s->in);
	buf_free(&s->out);
	buf_free(&s->chunk);
	free(s->helo);
	free(s);
	if (--session_n == 0 && session_empty_hook)
		session_empty_hook(loop);
}

void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
{
	va_list ap;
	size_t start = s->out.len;

	va_start(ap, fmt);
	buf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	if (s->out.len > start && (s->out.data[start] == '4' || s->out.data[start] == '5'))
		s->errors++;
	if (log_verbose())
		log_debug("> %s[%s]: %s", s->name, s->addr, s->out.data + start);
	buf_puts(&s->out, "\r\n");
}

/* A rejected MAIL/RCPT/DATA: the reply, and Postfix's NOQUEUE log line. */
void smtpd_reject(struct smtpd_session *s, const char *verb, const char *from, const char *to,
    const char *fmt, ...)
{
	struct buf text = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	smtpd_reply(s, "%s", buf_cstr(&text));
	smtpd_log_reject(s, "reject", verb, from, to, buf_cstr(&text));
	buf_free(&text);
}

/* Postfix's "NOQUEUE: reject: RCPT from name[addr]: reply; from=<> to=<>
 * proto=ESMTP helo=<>" line; what is "reject" or "reject_warning". */
void smtpd_log_reject(struct smtpd_session *s, const char *what, const char *verb, const char *from,
    const char *to, const char *text)
{
	struct buf line = BUF_INIT;

	buf_printf(&line, "NOQUEUE: %s: %s from ", what, verb);
	session_client(s, &line);
	buf_printf(&line, ": %s;", text);
	if (from)
		buf_printf(&line, " from=<%s>", from);
	if (to)
		buf_printf(&line, " to=<%s>", to);
	buf_printf(&line, " proto=%s", s->esmtp ? "ESMTP" : "SMTP");
	if (s->helo)
		buf_printf(&line, " helo=<%s>", s->helo);
	log_info("%s", buf_cstr(&line));
	buf_free(&line);
}

/* How many bytes one read may add: bounded while reading commands. */
static size_t session_room(const struct smtpd_session *s)
{
	size_t cap = session_cfg.line_limit + SESSION_READ_SLACK;

	if (s->closing || s->state == SMTPD_DATA_WAIT || s->state == SMTPD_DATA_OPEN ||
	    s->tls_phase == SMTPD_TLS_STARTING)
		return 0;
	/* smtps: the client's first bytes are its TLS hello, OpenSSL's to read. */
	if (s->name_wait && tls_server_wrappermode())
		return 0;
	if (s->state == SMTPD_DATA || s->state == SMTPD_BDAT)
		return message_paused(s) ? 0 : SESSION_DATA_READ;
	return s->in.len < cap ? cap - s->in.len : 0;
}

static void session_read(struct smtpd_session *s, int events)
{
	size_t room = session_room(s);
	ssize_t n;

	if (room == 0) {
		if (events & EV_ERROR)
			s->dead = true;
		return;
	}
	buf_reserve(&s->in, room);
	s->tls_rwant = EV_READ;
	do
		n = s->tls ? tls_conn_read(s->tls, buf_tail(&s->in), room, &s->tls_rwant)
			   : read(s->fd, buf_tail(&s->in), room);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		buf_commit(&s->in, (size_t)n);
		s->last_io = event_now(s->loop);
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
		s->dead = true;
	}
}

static void session_flush(struct smtpd_session *s)
{
	ssize_t n;

	while (s->out.len > 0 && !s->dead) {
		s->tls_wwant = EV_WRITE;
		n = s->tls ? tls_conn_write(s->tls, s->out.data, s->out.len, &s->tls_wwant)
			   : write(s->fd, s->out.data, s->out.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			s->dead = true;
			return;
		}
		buf_consume(&s->out, (size_t)n);
		s->last_io = event_now(s->loop);
	}
}

/* A command line ends at LF; the CR before it, if any, is not passed on. */
static void session_line(struct smtpd_session *s, size_t len)
{
	size_t n = len - 1;

	if (n > 0 && s->in.data[n - 1] == '\r')
		n--;
	s->pipelined_ahead = s->in.len > len;
	if (n > session_cfg.line_limit)
		smtpd_reply(s, "500 5.5.2 Error: line too long");
	else if (!smtpd_command(s, s->in.data, n))
		return; /* run again when DNS has answered */
	buf_consume(&s->in, len);
	/* CVE-2011-0411: plaintext pipelined after STARTTLS is never run. */
	if (s->tls_phase == SMTPD_TLS_STARTING && s->in.len > 0) {
		log_info("discarding %zu bytes pipelined after STARTTLS from %s[%s]", s->in.len,
		    s->name, s->addr);
		buf_reset(&s->in);
	}
}

/*
 * Runs the next buffered command line.  False when no complete line is
 * waiting.  The tail of an over-long line is skipped up to its LF, never
 * taken for a command (it is client data, perhaps crafted).
 */
static bool session_next_line(struct smtpd_session *s)
{
	char *lf = s->in.len ? memchr(s->in.data, '\n', s->in.len) : NULL;

	if (s->discard_line) {
		if (lf == NULL) {
			buf_reset(&s->in);
			return false;
		}
		buf_consume(&s->in, (size_t)(lf - s->in.data) + 1);
		s->discard_line = false;
		return true;
	}
	if (lf == NULL) {
		if (s->in.len > session_cfg.line_limit + 1) {
			smtpd_reply(s, "500 5.5.2 Error: line too long");
			buf_reset(&s->in);
			s->discard_line = true;
		}
		return false;
	}
	session_line(s, (size_t)(lf - s->in.data) + 1);
	return true;
}

/* Works through the buffered input as far as possible without waiting. */
static void session_process(struct smtpd_session *s)
{
	while (!s->dead && !s->closing && !s->name_wait && !s->greet_wait) {
		if (s->screen) {
			if (s->in.len > 0)
				screen_input(s);
			break;
		}
		if (s->state == SMTPD_DATA_WAIT || s->state == SMTPD_DATA_OPEN ||
		    s->tls_phase == SMTPD_TLS_STARTING || s->tls_phase == SMTPD_TLS_HANDSHAKE ||
		    s->pause_timer || s->dns_wait || s->auth_wait)
			break;
		if (s->state == SMTPD_DATA) {
			if (s->in.len == 0 || message_paused(s))
				break;
			message_input(s);
			continue;
		}
		if (s->state == SMTPD_BDAT) {
			/* A zero-length chunk is complete before any octet arrives. */
			if ((s->in.len == 0 && s->bdat_left > 0) || message_paused(s))
				break;
			bdat_input(s);
			continue;
		}
		if (s->out.len > SESSION_OUT_HIGH) {
			session_flush(s);
			if (s->out.len > SESSION_OUT_HIGH)
				break;
		}
		if (!session_next_line(s))
			break;
	}
}

/*
 * Between commands, empty buffers go back to the allocator: a read
 * reserves line_length_limit plus SESSION_READ_SLACK, a message leaves
 * a 64 KiB decoded chunk behind, and an idle client should pin neither.
 * The next read allocates again; that costs less than the memory of
 * thousands of idle sessions.
 */
static void session_shrink(struct smtpd_session *s)
{
	if (s->state != SMTPD_CMD)
		return;
	if (s->in.len == 0 && s->in.data)
		buf_free(&s->in);
	if (s->out.len == 0 && s->out.data)
		buf_free(&s->out);
	if (s->chunk.data)
		buf_free(&s->chunk);
}

/* While paused (a tarpit or AUTH failure delay) nothing is read or sent. */
static void session_watch(struct smtpd_session *s)
{
	int events = 0;

	if (s->pause_timer) {
		event_fd_events(s->loop, s->fd, 0);
		return;
	}
	if (s->tls_phase == SMTPD_TLS_HANDSHAKE) {
		event_fd_events(s->loop, s->fd, s->tls_want);
		return;
	}
	/* Under TLS a read may have to wait until the socket is writable (and
	 * a write until it is readable): wait for what the last call wanted. */
	if (session_room(s) > 0)
		events |= s->tls ? s->tls_rwant : EV_READ;
	if (s->out.len > 0)
		events |= s->tls ? s->tls_wwant : EV_WRITE;
	event_fd_events(s->loop, s->fd, events);
}

/*
 * STARTTLS was answered (or the service is smtps): hand the socket to
 * OpenSSL.  Plaintext the client sent after STARTTLS was dropped by the
 * command itself; whatever else arrives now is handshake data.
 */
void session_tls_begin(struct smtpd_session *s)
{
	s->tls = tls_conn_new(s->fd);
	if (s->tls == NULL) {
		log_warn("cannot start TLS for %s[%s]", s->name, s->addr);
		s->dead = true;
		return;
	}
	s->tls_phase = SMTPD_TLS_HANDSHAKE;
	s->tls_want = EV_READ;
	s->tls_deadline = event_now(s->loop) + session_cfg.tls_timeout_ms;
	if (s->timer)
		event_timer_cancel(s->loop, s->timer);
	s->timer = event_timer_add(s->loop, session_cfg.tls_timeout_ms, session_timeout, s);
}

/* One handshake step; when it completes the session starts afresh. */
static void session_tls_step(struct smtpd_session *s)
{
	struct buf err = BUF_INIT;
	int r = tls_conn_handshake(s->tls, &s->tls_want, &err);

	if (r < 0) {
		log_info("SSL_accept error from %s[%s]: %s", s->name, s->addr, buf_cstr(&err));
		s->dead = true;
	} else if (r > 0) {
		s->tls_phase = SMTPD_TLS_ACTIVE;
		s->tls_rwant = EV_READ;
		s->tls_wwant = EV_WRITE;
		s->last_io = event_now(s->loop);
		tls_conn_info(s->tls, &s->tls_info);
		log_info(
		    "%s TLS connection established from %s[%s]: %s with cipher %s (%d/%d bits)%s%s",
		    s->tls_info.fingerprint[0] ? "Untrusted" : "Anonymous", s->name, s->addr,
		    s->tls_info.protocol, s->tls_info.cipher, s->tls_info.bits,
		    s->tls_info.alg_bits,
		    s->tls_info.fingerprint[0] ? " client certificate SHA256 fingerprint " : "",
		    s->tls_info.fingerprint);
		smtpd_tls_ready(s);
	}
	buf_free(&err);
}

/* TLS buffers decrypted bytes internally, where epoll cannot see them. */
static bool session_tls_more(struct smtpd_session *s)
{
	return s->tls_phase == SMTPD_TLS_ACTIVE && !s->dead && !s->pause_timer &&
	       session_room(s) > 0 && tls_conn_pending(s->tls);
}

/*
 * Drives the session as far as it can go, then frees it or sets the
 * events to wait for.  The last call of every callback.
 */
void session_run(struct smtpd_session *s)
{
	for (;;) {
		if (!s->dead && s->tls_phase == SMTPD_TLS_HANDSHAKE)
			session_tls_step(s);
		if (!s->dead)
			session_process(s);
		if (!s->dead && !s->pause_timer && s->tls_phase != SMTPD_TLS_HANDSHAKE)
			session_flush(s);
		if (!s->dead && s->tls_phase == SMTPD_TLS_STARTING && s->out.len == 0) {
			session_tls_begin(s);
			continue;
		}
		if (!session_tls_more(s))
			break;
		session_read(s, 0);
	}
	if (s->dead || (s->closing && s->out.len == 0)) {
		session_free(s);
		return;
	}
	session_shrink(s);
	session_watch(s);
}

static void session_io(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct smtpd_session *s = ctx;

	(void)loop;
	(void)fd;
	if (s->tls_phase == SMTPD_TLS_HANDSHAKE) {
		session_run(s);
		return;
	}
	/* Under TLS, either event may be what a blocked SSL_read waited for. */
	if ((events & (EV_READ | EV_ERROR)) || (s->tls && (s->tls_rwant & events)))
		session_read(s, events);
	session_run(s);
}

/*
 * The process is stopping (SIGTERM): every client still connected hears
 * 421 (RFC 5321 3.8) if it is between commands and can take it without
 * waiting; a message not yet acknowledged is not lost, only not accepted.
 */
void session_shutdown(void)
{
	struct smtpd_session *s, *next;

	for (s = session_list; s; s = next) {
		next = s->next;
		if (s->tls_phase != SMTPD_TLS_HANDSHAKE && s->tls_phase != SMTPD_TLS_STARTING &&
		    !s->closing && !s->dead) {
			smtpd_reply(
			    s, "421 4.3.2 %s Service shutting down", config_str("myhostname"));
			session_flush(s);
		}
		s->closing = true;
		s->dead = true;
		session_free(s);
	}
}

/* DNS answers came in: sessions that waited run their command again. */
void session_dns_wake(void)
{
	struct smtpd_session *s = session_list, *next;

	for (; s; s = next) {
		next = s->next;
		if (s->name_wait) {
			if (peername_poll(s))
				session_connected(s);
			session_run(s);
		} else if (s->screen) {
			screen_dns(s);
			session_run(s);
		} else if (s->dns_wait) {
			s->dns_wait = false;
			session_run(s);
		}
	}
}

/* The end of a pause: replies held back go out, input is read again. */
static void session_unpause(struct event_loop *loop, void *ctx)
{
	struct smtpd_session *s = ctx;

	(void)loop;
	s->pause_timer = NULL;
	s->last_io = event_now(s->loop);
	session_run(s);
}

/* Holds the session (and its queued replies) for ms, without blocking. */
void session_pause(struct smtpd_session *s, long ms)
{
	if (s->pause_timer || ms <= 0)
		return;
	s->pause_timer = event_timer_add(s->loop, ms, session_unpause, s);
}

/*
 * smtpd_timeout limits every wait: for the client to send or to take our
 * replies, and for cleanup to take content or to answer.  A stalled cleanup
 * is cleanup's fault, not the client's: the client gets a 451, not a 421.
 */
static void session_timeout(struct event_loop *loop, void *ctx)
{
	struct smtpd_session *s = ctx;
	long long idle = event_now(loop) - s->last_io;

	s->timer = NULL;
	if (s->tls_phase == SMTPD_TLS_HANDSHAKE && event_now(loop) >= s->tls_deadline) {
		/* Nothing can be said to a client that is half-way into TLS. */
		log_info("timeout after STARTTLS from %s[%s]", s->name, s->addr);
		s->dead = true;
		s->closing = true;
		session_run(s);
		return;
	}
	if (s->tls_phase == SMTPD_TLS_HANDSHAKE && idle >= session_cfg.timeout_ms)
		idle = 0;
	if (s->tls_phase == SMTPD_TLS_HANDSHAKE) {
		long long left = s->tls_deadline - event_now(loop);

		s->timer = event_timer_add(loop,
		    left < session_cfg.timeout_ms ? left : session_cfg.timeout_ms, session_timeout,
		    s);
		return;
	}
	if (idle < session_cfg.timeout_ms) {
		s->timer = event_timer_add(loop, session_cfg.timeout_ms - idle, session_timeout, s);
		return;
	}
	s->last_io = event_now(loop);
	s->timer = event_timer_add(loop, session_cfg.timeout_ms, session_timeout, s);
	if (message_timeout(s)) {
		session_run(s);
		return;
	}
	log_info("timeout after %s from %s[%s]", s->last_cmd, s->name, s->addr);
	smtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded", config_str("myhostname"));
	session_flush(s);
	s->closing = true;
	s->dead = true;
	session_run(s);
}
