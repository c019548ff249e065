/*
 * ipc.c - the attribute codec every pair of tern processes speaks, and the
 * buffered connection that carries it.
 *
 * Wire format (see ipc.h): a record is (name netstring, value netstring)*
 * ended by the empty netstring "0:,".  The decoder is a pure function over
 * a buffer: it first scans the bytes without copying or allocating anything
 * (so a peer cannot make us allocate by announcing a large length), and
 * only when a whole record is present and valid does a second pass copy
 * names and values into the message's own storage.
 *
 * The connection half moves bytes only: recvmsg() into an input buffer
 * (taking at most one passed descriptor), send() from an output buffer,
 * and poll()-based blocking helpers with a deadline.
 *
 * Not here: what the attributes mean (proto.h), event-loop registration
 * (event.h), reconnecting or retrying.
 */
#include "ipc.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sock.h"
#include "util.h"

#define IPC_LEN_DIGITS 10 /* at most 9999999999 bytes in a netstring */
#define IPC_READ_CHUNK 65536
#define IPC_TERM_LEN 3 /* "0:," */

/* ------------------------------------------------------------------ */
/* Messages                                                             */

void ipc_msg_init(struct ipc_msg *m)
{
	m->attrs = NULL;
	m->count = 0;
	m->cap = 0;
	buf_init(&m->storage);
}

void ipc_msg_free(struct ipc_msg *m)
{
	free(m->attrs);
	buf_free(&m->storage);
	ipc_msg_init(m);
}

void ipc_msg_reset(struct ipc_msg *m)
{
	m->count = 0;
	buf_reset(&m->storage);
}

/* ------------------------------------------------------------------ */
/* Encoding                                                             */

static void ipc_put_netstring(struct buf *out, const void *p, size_t len)
{
	buf_printf(out, "%zu:", len);
	buf_append(out, p, len);
	buf_putc(out, ',');
}

void ipc_put(struct buf *out, const char *name, const void *value, size_t len)
{
	size_t nlen = strlen(name);

	/* A name the decoder would refuse is a bug in the sender, not data. */
	if (nlen == 0 || nlen > IPC_MAX_NAME)
		log_panic("ipc_put: bad attribute name length %zu", nlen);
	ipc_put_netstring(out, name, nlen);
	ipc_put_netstring(out, value ? value : "", value ? len : 0);
}

/* A NULL value is sent as the empty string. */
void ipc_put_str(struct buf *out, const char *name, const char *value)
{
	ipc_put(out, name, value, value ? strlen(value) : 0);
}

void ipc_put_int(struct buf *out, const char *name, long long value)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%lld", value);

	ipc_put(out, name, tmp, (size_t)n);
}

void ipc_end(struct buf *out)
{
	buf_append(out, "0:,", IPC_TERM_LEN);
}

/* ------------------------------------------------------------------ */
/* Decoding                                                             */

struct ipc_scan {
	const char *data;
	size_t len;
	size_t max;
	size_t pos;
	const char *err;
};

static enum ipc_result scan_fail(struct ipc_scan *s, const char *why)
{
	s->err = why;
	return IPC_ERROR;
}

/*
 * The input ran out at s->pos.  That is only a valid prefix if the record
 * could still end within max: it needs at least the byte at pos.
 */
static enum ipc_result scan_need(struct ipc_scan *s)
{
	if (s->pos >= s->max)
		return scan_fail(s, "record too large");
	return IPC_MORE;
}

/*
 * Checks, before anything is read or copied, that a netstring body of n
 * bytes (plus its comma) and the reserve bytes that must still follow it
 * fit within max.  Written to avoid overflow: n comes from the peer.
 */
static bool scan_fits(const struct ipc_scan *s, unsigned long long n, size_t reserve)
{
	size_t room;

	if (s->pos > s->max)
		return false;
	room = s->max - s->pos;
	return n < room && room - (size_t)n - 1 >= reserve;
}

/* Reads "<digits>:" at s->pos into *n. */
static enum ipc_result scan_length(struct ipc_scan *s, unsigned long long *n)
{
	unsigned long long v = 0;
	int digits = 0;

	for (;;) {
		if (s->pos >= s->len)
			return scan_need(s);
		char c = s->data[s->pos];
		if (c == ':')
			break;
		if (c < '0' || c > '9')
			return scan_fail(
			    s, digits ? "missing colon after length" : "length is not a number");
		if (digits == IPC_LEN_DIGITS)
			return scan_fail(s, "length has more than 10 digits");
		if (digits == 1 && v == 0)
			return scan_fail(s, "length has a leading zero");
		v = v * 10 + (unsigned long long)(c - '0');
		digits++;
		s->pos++;
		/* More digits only make it larger: refuse as soon as the
		 * colon, body and comma can no longer fit. */
		if (s->pos >= s->max || v + 2 > s->max - s->pos)
			return scan_fail(s, "record too large");
	}
	if (digits == 0)
		return scan_fail(s, "missing length");
	s->pos++;
	*n = v;
	return IPC_OK;
}

/*
 * Skips a netstring body of n bytes (length already checked by scan_fits)
 * and its comma; *off is where the body starts.  Names may not contain
 * NUL: the part already received is checked so the error comes early.
 */
static enum ipc_result scan_body(struct ipc_scan *s, size_t n, bool is_name, size_t *off)
{
	size_t avail = s->len - s->pos;

	if (is_name && avail > 0 && memchr(s->data + s->pos, 0, avail < n ? avail : n))
		return scan_fail(s, "NUL byte in attribute name");
	/* scan_fits already said the whole body fits, so waiting is valid. */
	if (avail <= n)
		return IPC_MORE;
	if (s->data[s->pos + n] != ',')
		return scan_fail(s, "missing comma after netstring");
	*off = s->pos;
	s->pos += n + 1;
	return IPC_OK;
}

/* The "0:," ending a record: the empty netstring's comma. */
static enum ipc_result scan_end(struct ipc_scan *s)
{
	if (!scan_fits(s, 0, 0))
		return scan_fail(s, "record too large");
	if (s->pos >= s->len)
		return scan_need(s);
	if (s->data[s->pos] != ',')
		return scan_fail(s, "missing comma after netstring");
	s->pos++;
	return IPC_OK;
}

static void msg_append(
    struct ipc_msg *m, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (m->count == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->attrs = xreallocarray(m->attrs, m->cap, sizeof(*m->attrs));
	}
	buf_append(&m->storage, name, nlen);
	buf_putc(&m->storage, 0);
	buf_append(&m->storage, value, vlen);
	buf_putc(&m->storage, 0);
	m->attrs[m->count].len = vlen;
	m->count++;
}

/*
 * Points every attribute into storage once all copying is done (storage
 * may have moved while it grew).  Layout: name NUL value NUL, in order;
 * names contain no NUL so strlen finds each value.
 */
static void msg_fix_pointers(struct ipc_msg *m)
{
	const char *p = buf_cstr(&m->storage);

	for (size_t i = 0; i < m->count; i++) {
		m->attrs[i].name = p;
		p += strlen(p) + 1;
		m->attrs[i].value = p;
		p += m->attrs[i].len + 1;
	}
}

/* One attribute whose name length n is known; copies it when m != NULL. */
static enum ipc_result scan_attr(struct ipc_scan *s, unsigned long long n, struct ipc_msg *m)
{
	unsigned long long vlen;
	size_t noff, voff;
	enum ipc_result r;

	if (n > IPC_MAX_NAME)
		return scan_fail(s, "attribute name too long");
	/* After a name come at least an empty value and the record end. */
	if (!scan_fits(s, n, 2 * IPC_TERM_LEN))
		return scan_fail(s, "record too large");
	if ((r = scan_body(s, (size_t)n, true, &noff)) != IPC_OK)
		return r;
	if ((r = scan_length(s, &vlen)) != IPC_OK)
		return r;
	if (!scan_fits(s, vlen, IPC_TERM_LEN))
		return scan_fail(s, "record too large");
	if ((r = scan_body(s, (size_t)vlen, false, &voff)) != IPC_OK)
		return r;
	if (m)
		msg_append(m, s->data + noff, (size_t)n, s->data + voff, (size_t)vlen);
	return IPC_OK;
}

static enum ipc_result scan_record(struct ipc_scan *s, struct ipc_msg *m)
{
	unsigned long long n;
	enum ipc_result r;

	for (;;) {
		if ((r = scan_length(s, &n)) != IPC_OK)
			return r;
		if (n == 0)
			return scan_end(s);
		if ((r = scan_attr(s, n, m)) != IPC_OK)
			return r;
	}
}

enum ipc_result ipc_parse(
    const char *data, size_t len, size_t max, struct ipc_msg *m, size_t *used, const char **errmsg)
{
	struct ipc_scan s = {data, len, max, 0, NULL};
	enum ipc_result r;

	/* Pass 1 validates without touching m or allocating. */
	r = scan_record(&s, NULL);
	if (r == IPC_ERROR && errmsg)
		*errmsg = s.err;
	if (r != IPC_OK)
		return r;
	/* Pass 2 copies; it sees exactly the bytes pass 1 accepted. */
	ipc_msg_reset(m);
	s.len = s.pos;
	s.pos = 0;
	if (scan_record(&s, m) != IPC_OK)
		log_panic("ipc_parse: second pass disagrees with the first");
	msg_fix_pointers(m);
	*used = s.pos;
	return IPC_OK;
}

/* ------------------------------------------------------------------ */
/* Reading attributes                                                   */

const struct ipc_attr *ipc_get(const struct ipc_msg *m, const char *name)
{
	for (size_t i = 0; i < m->count; i++)
		if (strcmp(m->attrs[i].name, name) == 0)
			return &m->attrs[i];
	return NULL;
}

const char *ipc_get_str(const struct ipc_msg *m, const char *name)
{
	const struct ipc_attr *a = ipc_get(m, name);

	if (a == NULL || memchr(a->value, 0, a->len) != NULL)
		return NULL;
	return a->value;
}

/* Only "-?[0-9]+": no white space or '+' that strtoll would let through. */
bool ipc_get_int(const struct ipc_msg *m, const char *name, long long *out)
{
	const char *s = ipc_get_str(m, name);
	const char *p;
	char *end;
	long long v;

	if (s == NULL)
		return false;
	p = *s == '-' ? s + 1 : s;
	if (*p == 0 || strspn(p, "0123456789") != strlen(p))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != 0)
		return false;
	*out = v;
	return true;
}

/* ------------------------------------------------------------------ */
/* Connections                                                          */

void ipc_conn_init(struct ipc_conn *c, int fd)
{
	c->fd = fd;
	buf_init(&c->in);
	buf_init(&c->out);
	c->passed_fd = -1;
	c->max_record = IPC_MAX_RECORD;
	c->eof = false;
}

void ipc_conn_close(struct ipc_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	c->fd = -1;
	c->passed_fd = -1;
	buf_free(&c->in);
	buf_free(&c->out);
}

/*
 * Takes the descriptors of the SCM_RIGHTS messages.  Only one may wait in
 * passed_fd: any other is closed at once so a peer cannot make us hoard
 * descriptors, and the connection is then in a protocol error.
 */
static bool conn_take_fds(struct ipc_conn *c, struct msghdr *msg)
{
	bool ok = (msg->msg_flags & MSG_CTRUNC) == 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->passed_fd == -1) {
				c->passed_fd = fd;
			} else {
				close(fd);
				ok = false;
			}
		}
	}
	return ok;
}

static ssize_t conn_recv(struct ipc_conn *c, int flags)
{
	union {
		char space[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;

	buf_reserve(&c->in, IPC_READ_CHUNK);
	iov.iov_base = buf_tail(&c->in);
	iov.iov_len = IPC_READ_CHUNK;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.space;
	msg.msg_controllen = sizeof(ctl.space);
	do
		n = recvmsg(c->fd, &msg, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	buf_commit(&c->in, (size_t)n);
	if (n == 0)
		c->eof = true;
	if (!conn_take_fds(c, &msg)) {
		errno = EPROTO;
		return -1;
	}
	return n;
}

ssize_t ipc_conn_fill(struct ipc_conn *c)
{
	return conn_recv(c, 0);
}

enum ipc_result ipc_conn_next(struct ipc_conn *c, struct ipc_msg *m, const char **errmsg)
{
	size_t used = 0;
	enum ipc_result r;

	r = ipc_parse(c->in.data, c->in.len, c->max_record, m, &used, errmsg);
	if (r == IPC_OK)
		buf_consume(&c->in, used);
	return r;
}

static int conn_write(struct ipc_conn *c, int flags)
{
	if (sock_write_some(c->fd, &c->out, flags, NULL) < 0)
		return -1;
	return c->out.len == 0;
}

int ipc_conn_flush(struct ipc_conn *c)
{
	return conn_write(c, 0);
}

/* One sendmsg() carrying fd with as much of c->out as the socket takes. */
static int conn_write_fd(struct ipc_conn *c, int fd, int flags)
{
	ssize_t n;

	if (c->out.len == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((n = sock_send_fd(c->fd, c->out.data, c->out.len, fd, flags)) < 0)
		return -1;
	buf_consume(&c->out, (size_t)n);
	return conn_write(c, flags);
}

int ipc_conn_flush_fd(struct ipc_conn *c, int fd)
{
	return conn_write_fd(c, fd, 0);
}

/*
 * Waits for events on fd until deadline (mono_msec, -1 = none).  Returns
 * 0 when the caller should try its I/O again, -1 with ETIMEDOUT or the
 * poll error.  POLLERR/POLLHUP count as ready: the I/O call then reports.
 */
static int conn_wait(int fd, short events, long long deadline)
{
	struct pollfd p = {fd, events, 0};
	long long left = -1;
	int r;

	if (deadline >= 0) {
		left = deadline - mono_msec();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (left > INT_MAX)
			left = INT_MAX;
	}
	r = poll(&p, 1, (int)left);
	if (r < 0 && errno == EINTR)
		return 0;
	if (r < 0)
		return -1;
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

static long long conn_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : mono_msec() + timeout_ms;
}

/*
 * The blocking helpers poll first and then do the I/O with MSG_DONTWAIT,
 * so the time-out holds on blocking and non-blocking sockets alike.
 */
static int conn_send_rest(struct ipc_conn *c, long long deadline)
{
	int r;

	while ((r = conn_write(c, MSG_DONTWAIT)) == 0)
		if (conn_wait(c->fd, POLLOUT, deadline) < 0)
			return -1;
	return r < 0 ? -1 : 0;
}

int ipc_conn_send(struct ipc_conn *c, int timeout_ms)
{
	return conn_send_rest(c, conn_deadline(timeout_ms));
}

int ipc_conn_send_fd(struct ipc_conn *c, int fd, int timeout_ms)
{
	long long deadline = conn_deadline(timeout_ms);

	for (;;) {
		if (conn_write_fd(c, fd, MSG_DONTWAIT) >= 0)
			return conn_send_rest(c, deadline);
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (conn_wait(c->fd, POLLOUT, deadline) < 0)
			return -1;
	}
}

/* Decodes a buffered record: 1 done, 0 need more, -1 error (errno). */
static int conn_try_next(struct ipc_conn *c, struct ipc_msg *m)
{
	const char *why = NULL;

	switch (ipc_conn_next(c, m, &why)) {
	case IPC_OK: return 1;
	case IPC_MORE:
		if (!c->eof)
			return 0;
		errno = EPIPE;
		return -1;
	default:
		log_warn("malformed IPC record: %s", why);
		errno = EPROTO;
		return -1;
	}
}

int ipc_conn_recv(struct ipc_conn *c, struct ipc_msg *m, int timeout_ms)
{
	long long deadline = conn_deadline(timeout_ms);
	ssize_t n;
	int r;

	while ((r = conn_try_next(c, m)) == 0) {
		if (conn_wait(c->fd, POLLIN, deadline) < 0)
			return -1;
		n = conn_recv(c, MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
	return r < 0 ? -1 : 0;
}
