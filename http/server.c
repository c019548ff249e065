/*
 * server.c - libmicrohttpd inside tern's event loop, and TLS.
 *
 * libmicrohttpd parses HTTP/1.1 (keep-alive, chunked bodies, limits on
 * the header block and time-outs); it runs without a listening socket
 * and without threads (MHD_USE_NO_LISTEN_SOCKET, MHD_USE_EPOLL): master
 * accepts nothing for it, this process accepts on the service's socket
 * and gives each connection with MHD_add_connection().  Its epoll
 * descriptor is one more descriptor of tern's loop: readable means
 * MHD_run() has work; MHD_get_timeout() says when it wants to run for
 * its time-outs.
 *
 * TLS is tern's (lib/tls_server, the instance's certificate), not
 * libmicrohttpd's (which only knows GnuTLS and has no hook for another
 * TLS library): after the handshake the connection is relayed, as the
 * login processes relay for IMAP, between the TLS session and a socket
 * pair whose other end libmicrohttpd reads as plaintext.  Each direction
 * buffers at most RELAY_BUF bytes and a side is read only while the
 * other has room.  Plain HTTP (http_tls_security_level = none) is
 * served to loopback clients only, for tests and for a proxy in front.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "mime/decode.h"
#include "sock.h"
#include "tls_server.h"
#include "util.h"

#define RELAY_BUF 65536
#define HANDSHAKE_MS 30000

struct relay {
	int fd, pfd;
	struct tls_conn *tls;
	int rwant, wwant;
	bool handshaken, peof;
	struct buf in, out; /* client -> pair, pair -> client */
	struct event_timer *timer;
	struct sockaddr_storage peer;
	socklen_t peerlen;
};

static struct event_timer *mhd_timer;
static bool mhd_kicked;
static unsigned relays;

static void mhd_run(void);

static void mhd_timer_fired(struct event_loop *loop, void *ctx)
{
	(void)loop;
	(void)ctx;
	mhd_timer = NULL;
	mhd_run();
}

/* Runs libmicrohttpd and re-arms the timer for its next time-out. */
static void mhd_run(void)
{
	MHD_UNSIGNED_LONG_LONG ms;

	mhd_kicked = false; /* the timer below replaces the kick's */
	MHD_run(http.mhd);
	http_session_expire();
	if (mhd_timer) {
		event_timer_cancel(http.loop, mhd_timer);
		mhd_timer = NULL;
	}
	if (MHD_get_timeout(http.mhd, &ms) == MHD_YES)
		mhd_timer = event_timer_add(
		    http.loop, ms > 3600000 ? 3600000 : (long)ms, mhd_timer_fired, NULL);
	else
		mhd_timer = event_timer_add(http.loop, 60000, mhd_timer_fired, NULL);
}

void http_server_kick(void)
{
	if (mhd_kicked)
		return;
	mhd_kicked = true;
	if (mhd_timer)
		event_timer_cancel(http.loop, mhd_timer);
	mhd_timer = event_timer_add(http.loop, 0, mhd_timer_fired, NULL);
}

static void mhd_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	(void)loop;
	(void)fd;
	(void)events;
	(void)ctx;
	mhd_run();
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;

	(void)cls;
	buf_vprintf(&b, fmt, ap);
	while (b.len && (b.data[b.len - 1] == '\n'))
		b.len--;
	log_debug("libmicrohttpd: %s", buf_cstr(&b));
	buf_free(&b);
}

/*
 * URL unescaping, as libmicrohttpd's own but for "%00": a decoded NUL
 * would end the path early ("/index.html%00.js" read as "/index.html"),
 * so it becomes a control character, which no route accepts.
 */
static size_t mhd_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *w = s;

	(void)cls;
	(void)conn;
	for (const char *r = s; *r; r++) {
		int hi, lo;

		if (*r == '%' && (hi = hex_value(r[1])) >= 0 && (lo = hex_value(r[2])) >= 0) {
			*w++ = (char)(hi * 16 + lo) ? (char)(hi * 16 + lo) : '\x01';
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
	return (size_t)(w - s);
}

void http_server_start(void)
{
	const union MHD_DaemonInfo *info;
	unsigned flags =
	    MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	http.mhd = MHD_start_daemon(flags, 0, NULL, NULL, http_handler, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)config_int("http_client_limit"),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)config_time("http_idle_timeout"),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)config_size("http_max_header_size"),
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	    NULL, MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_UNESCAPE_CALLBACK, mhd_unescape, NULL,
	    MHD_OPTION_END);
	if (http.mhd == NULL)
		log_fatal("cannot start libmicrohttpd");
	info = MHD_get_daemon_info(http.mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || info->epoll_fd < 0)
		log_fatal("libmicrohttpd has no epoll descriptor");
	event_fd_set(http.loop, info->epoll_fd, EV_READ, mhd_event, NULL);
	mhd_run();
}

unsigned http_server_clients(void)
{
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(http.mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return (info ? info->num_connections : 0) + relays;
}

/* ------------------------------------------------------------ TLS relay */

static void relay_free(struct relay *r)
{
	if (r->timer)
		event_timer_cancel(http.loop, r->timer);
	event_fd_del(http.loop, r->fd);
	close(r->fd);
	if (r->pfd >= 0) {
		event_fd_del(http.loop, r->pfd);
		close(r->pfd);
	}
	tls_conn_free(r->tls);
	buf_free(&r->in);
	buf_free(&r->out);
	free(r);
	relays--;
}

/* Moves what it can each way; -1 when the relay is over. */
static int relay_pump(struct relay *r)
{
	ssize_t n;
	bool progress = true;

	while (progress) {
		progress = false;
		while (r->in.len < RELAY_BUF) {
			buf_reserve(&r->in, RELAY_BUF - r->in.len);
			n = tls_conn_read(
			    r->tls, buf_tail(&r->in), RELAY_BUF - r->in.len, &r->rwant);
			if (n > 0) {
				buf_commit(&r->in, (size_t)n);
				progress = true;
			} else if (n < 0 && errno == EAGAIN) {
				break;
			} else {
				return -1; /* the client has gone */
			}
		}
		while (r->in.len > 0) {
			n = send(r->pfd, r->in.data, r->in.len, MSG_NOSIGNAL);
			if (n > 0) {
				buf_consume(&r->in, (size_t)n);
				progress = true;
			} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				break;
			} else {
				return -1;
			}
		}
		while (!r->peof && r->out.len < RELAY_BUF) {
			buf_reserve(&r->out, RELAY_BUF - r->out.len);
			n = recv(r->pfd, buf_tail(&r->out), RELAY_BUF - r->out.len, 0);
			if (n > 0) {
				buf_commit(&r->out, (size_t)n);
				progress = true;
			} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				break;
			} else {
				r->peof = true;
			}
		}
		while (r->out.len > 0) {
			n = tls_conn_write(r->tls, r->out.data, r->out.len, &r->wwant);
			if (n > 0) {
				buf_consume(&r->out, (size_t)n);
				progress = true;
			} else if (n < 0 && errno == EAGAIN) {
				break;
			} else {
				return -1;
			}
		}
		if (r->peof && r->out.len == 0)
			return -1;
	}
	return 0;
}

static void relay_arm(struct relay *r)
{
	int cev = 0, pev = 0;

	if (r->in.len < RELAY_BUF)
		cev |= r->rwant;
	if (r->out.len > 0)
		cev |= r->wwant;
	if (r->in.len > 0)
		pev |= EV_WRITE;
	if (!r->peof && r->out.len < RELAY_BUF)
		pev |= EV_READ;
	event_fd_events(http.loop, r->fd, cev);
	event_fd_events(http.loop, r->pfd, pev);
}

static void relay_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct relay *r = ctx;

	(void)loop;
	(void)fd;
	(void)events;
	if (relay_pump(r) < 0)
		relay_free(r);
	else
		relay_arm(r);
}

static void relay_start(struct relay *r)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		log_warn("socketpair: %s", strerror(errno));
		relay_free(r);
		return;
	}
	if (MHD_add_connection(http.mhd, sv[1], (struct sockaddr *)&r->peer, r->peerlen) !=
	    MHD_YES) {
		/* libmicrohttpd closed sv[1] (at its connection limit) */
		close(sv[0]);
		relay_free(r);
		return;
	}
	r->pfd = sv[0];
	r->rwant = EV_READ;
	r->wwant = EV_WRITE;
	event_fd_set(http.loop, r->pfd, 0, relay_event, r);
	event_fd_set(http.loop, r->fd, 0, relay_event, r);
	http_server_kick();
	relay_event(http.loop, r->fd, 0, r);
}

static void handshake_timeout(struct event_loop *loop, void *ctx)
{
	struct relay *r = ctx;

	(void)loop;
	r->timer = NULL;
	relay_free(r);
}

static void handshake_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct relay *r = ctx;
	struct buf err = BUF_INIT;
	int want = 0, rc;

	(void)loop;
	(void)fd;
	(void)events;
	rc = tls_conn_handshake(r->tls, &want, &err);
	if (rc < 0) {
		log_debug("TLS handshake failed: %s", buf_cstr(&err));
		buf_free(&err);
		relay_free(r);
		return;
	}
	buf_free(&err);
	if (rc == 0) {
		event_fd_events(http.loop, r->fd, want);
		return;
	}
	event_timer_cancel(http.loop, r->timer);
	r->timer = NULL;
	if (tls_conn_acme_alpn(r->tls)) {
		relay_free(r); /* tls-alpn-01: the handshake was all (RFC 8737 3) */
		return;
	}
	relay_start(r);
}

void http_server_accept(struct event_loop *loop, int fd, void *ctx)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct relay *r;

	(void)ctx;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return;
	}
	if (!http.tls) {
		/* Others than loopback clients get ACME's challenges only (route.c). */
		if (MHD_add_connection(http.mhd, fd, (struct sockaddr *)&ss, len) == MHD_YES)
			http_server_kick();
		return;
	}
	r = xcalloc(1, sizeof(*r));
	relays++;
	r->fd = fd;
	r->pfd = -1;
	r->peer = ss;
	r->peerlen = len;
	if ((r->tls = tls_conn_new(fd)) == NULL) {
		relay_free(r);
		return;
	}
	r->timer = event_timer_add(loop, HANDSHAKE_MS, handshake_timeout, r);
	event_fd_set(loop, fd, EV_READ, handshake_event, r);
	handshake_event(loop, fd, EV_READ, r);
}
