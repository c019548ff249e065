/*
 * io.c - the bytes of one SMTP connection, plain or TLS.
 *
 * The socket is non-blocking; every wait is a poll() bounded by the
 * deadline of the current stage (smtp_*_timeout), so a server that stops
 * answering costs at most that long.  With TLS, OpenSSL's WANT_READ /
 * WANT_WRITE say which way to wait.  Any failure marks the connection
 * broken so it is never cached for reuse.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "sock.h"
#include "smtp.h"
#include "util.h"

void smtp_io_init(struct smtp_io *io, int fd)
{
	memset(io, 0, sizeof(*io));
	io->fd = fd;
	sock_nonblock(fd, true);
}

void smtp_io_close(struct smtp_io *io)
{
	if (io->ssl) {
		/* close_notify on a clean end: OpenSSL marks the session of a
		 * connection freed without it as not resumable. */
		if (!io->broken)
			SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
		io->ssl = NULL;
	}
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	buf_free(&io->in);
	buf_free(&io->out);
}

static int io_fail(struct smtp_io *io, const char *what)
{
	io->broken = true;
	snprintf(io->err, sizeof(io->err), "%s", what);
	return -1;
}

/* Waits for events until deadline; 1 ready, 0 timed out. */
static int io_wait(struct smtp_io *io, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - mono_msec();
		struct pollfd p = {.fd = io->fd, .events = events};
		int n;

		if (left <= 0)
			return 0;
		n = poll(&p, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return 0;
	}
}

/* One read or write attempt: >0 bytes, 0 EOF, -1 error, -2 wait (events). */
static ssize_t io_op(struct smtp_io *io, bool writing, void *p, size_t n, short *events)
{
	if (io->ssl) {
		int r = writing ? SSL_write(io->ssl, p, (int)n) : SSL_read(io->ssl, p, (int)n);
		int e;

		if (r > 0)
			return r;
		e = SSL_get_error(io->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			*events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
			return -2;
		}
		ERR_clear_error();
		return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	} else {
		ssize_t r = writing ? write(io->fd, p, n) : read(io->fd, p, n);

		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			*events = writing ? POLLOUT : POLLIN;
			return -2;
		}
		return r;
	}
}

int smtp_io_flush(struct smtp_io *io, long timeout_s)
{
	long long deadline = mono_msec() + timeout_s * 1000;

	while (io->out.len) {
		short ev = 0;
		ssize_t r = io_op(io, true, io->out.data, io->out.len, &ev);

		if (r > 0)
			buf_consume(&io->out, (size_t)r);
		else if (r == -2) {
			if (!io_wait(io, ev, deadline))
				return io_fail(io, "conversation timed out");
		} else
			return io_fail(io, "lost connection");
	}
	return 0;
}

int smtp_io_reply(struct smtp_io *io, struct smtp_reply *r, long timeout_s)
{
	long long deadline = mono_msec() + timeout_s * 1000;

	for (;;) {
		size_t used = 0;
		int rc = smtp_reply_parse(io->in.data ? io->in.data : "", io->in.len, r, &used);
		short ev = 0;
		ssize_t n;

		if (rc > 0) {
			buf_consume(&io->in, used);
			return 0;
		}
		if (rc < 0)
			return io_fail(io, "malformed reply");
		buf_reserve(&io->in, 4096);
		n = io_op(io, false, buf_tail(&io->in), 4096, &ev);
		if (n > 0)
			buf_commit(&io->in, (size_t)n);
		else if (n == -2) {
			if (!io_wait(io, ev, deadline))
				return io_fail(io, "conversation timed out");
		} else
			return io_fail(io, "lost connection");
	}
}

int smtp_io_starttls(struct smtp_io *io, SSL *ssl, long timeout_s)
{
	long long deadline = mono_msec() + timeout_s * 1000;

	io->ssl = ssl;
	SSL_set_fd(ssl, io->fd);
	for (;;) {
		int r = SSL_connect(ssl);
		int e;

		if (r == 1)
			return 0;
		e = SSL_get_error(ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (!io_wait(io, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
				return io_fail(io, "TLS handshake timed out");
			continue;
		}
		{
			char msg[200];
			unsigned long ec = ERR_get_error();

			if (ec)
				ERR_error_string_n(ec, msg, sizeof(msg));
			else
				snprintf(msg, sizeof(msg), "%s", "handshake failed");
			ERR_clear_error();
			snprintf(io->err, sizeof(io->err), "TLS handshake failed: %s", msg);
			io->broken = true;
			return -1;
		}
	}
}

bool smtp_io_dead(struct smtp_io *io)
{
	struct pollfd p = {.fd = io->fd, .events = POLLIN};

	/* An idle SMTP session has nothing to say; readable means EOF, an
	 * error, or a 421 time-out notice: either way not reusable. */
	return io->broken || io->in.len || poll(&p, 1, 0) != 0;
}
