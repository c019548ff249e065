/*
 * ipc.h - the attribute codec every pair of tern processes speaks.
 *
 * A record is a sequence of attributes, each two netstrings, name then
 * value ("<len>:<bytes>,"), ended by the empty netstring "0:,".  Names are
 * non-empty; values are binary-safe; a name may repeat (e.g. one "rcpt" per
 * recipient) and order is kept.  Decoding is a pure function over a buffer
 * that never trusts the peer: lengths are decimal without leading zeros
 * (except "0"), at most 10 digits, and every record is bounded by a maximum
 * size given by the caller; anything else is an error, never a crash.
 *
 * Building:  struct buf out = BUF_INIT;
 *            ipc_put_str(&out, "op", "begin"); ipc_put_int(&out, "n", 3);
 *            ipc_end(&out);
 * Reading:   struct ipc_msg m; ipc_msg_init(&m);
 *            r = ipc_parse(data, len, IPC_MAX_RECORD, &m, &used);
 *            ipc_get_str(&m, "op") ...; ipc_msg_free(&m);
 */
#ifndef TERN_IPC_H
#define TERN_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define IPC_MAX_RECORD (1024 * 1024 + 4096)
#define IPC_MAX_NAME 256 /* bytes in an attribute name */

struct ipc_attr {
	const char *name;  /* NUL-terminated (points into msg storage) */
	const char *value; /* NUL-terminated, may contain NULs inside */
	size_t len;	   /* value length */
};

struct ipc_msg {
	struct ipc_attr *attrs;
	size_t count;
	size_t cap;
	struct buf storage; /* private copy of names and values */
};

enum ipc_result {
	IPC_ERROR = -1, /* malformed or over the size limit */
	IPC_MORE = 0,	/* no complete record yet */
	IPC_OK = 1,	/* one record decoded */
};

void ipc_msg_init(struct ipc_msg *m);
void ipc_msg_free(struct ipc_msg *m);
void ipc_msg_reset(struct ipc_msg *m);

/* Encoding: appends to out. */
void ipc_put(struct buf *out, const char *name, const void *value, size_t len);
void ipc_put_str(struct buf *out, const char *name, const char *value);
void ipc_put_int(struct buf *out, const char *name, long long value);
void ipc_end(struct buf *out);

/*
 * Decodes one record from data[0..len).  On IPC_OK, m holds it (previous
 * content replaced) and *used is the number of bytes consumed.  On IPC_MORE
 * nothing is consumed.  On IPC_ERROR, errmsg (if not NULL) points to a
 * static description.  max bounds the encoded record size, "0:," included.
 * IPC_MORE means data is a valid prefix of a record that fits in max;
 * IPC_ERROR is returned as soon as the bytes seen cannot start one.
 */
enum ipc_result ipc_parse(
    const char *data, size_t len, size_t max, struct ipc_msg *m, size_t *used, const char **errmsg);

/* First attribute with this name, or NULL. */
const struct ipc_attr *ipc_get(const struct ipc_msg *m, const char *name);
/* Value as a string; NULL if absent or if it contains a NUL byte. */
const char *ipc_get_str(const struct ipc_msg *m, const char *name);
/* Strict decimal; false if absent or malformed. */
bool ipc_get_int(const struct ipc_msg *m, const char *name, long long *out);

/*
 * A connection: a socket with input and output buffers, usable from an
 * event loop (non-blocking fd) or blocking with timeouts.  A descriptor
 * passed with SCM_RIGHTS is kept in passed_fd (-1 when none) until the
 * caller takes it; a second one arriving before that is closed and
 * counted as a protocol error.
 */
struct ipc_conn {
	int fd;
	struct buf in;
	struct buf out;
	int passed_fd;
	size_t max_record;
	bool eof;
};

void ipc_conn_init(struct ipc_conn *c, int fd);
/* Closes fd and passed_fd, frees buffers. */
void ipc_conn_close(struct ipc_conn *c);

/* One recvmsg() into c->in.  Returns bytes read, 0 on EOF, -1 on error
 * (errno; EAGAIN when nothing is ready). */
ssize_t ipc_conn_fill(struct ipc_conn *c);
/* Decodes one buffered record; consumes it on IPC_OK. */
enum ipc_result ipc_conn_next(struct ipc_conn *c, struct ipc_msg *m, const char **errmsg);
/* Writes as much of c->out as the socket takes.  Returns 1 when all is
 * written, 0 when some remains (EAGAIN), -1 on error. */
int ipc_conn_flush(struct ipc_conn *c);
/* Sends c->out with fd attached (SCM_RIGHTS on the first bytes sent).
 * Returns 1 when all is written, 0 when the fd went but some data remains
 * (go on with ipc_conn_flush), -1 on error; with errno EAGAIN nothing was
 * sent and ipc_conn_flush_fd must be called again.  c->out must not be
 * empty (EINVAL): a descriptor needs a byte to travel with. */
int ipc_conn_flush_fd(struct ipc_conn *c, int fd);

/* Blocking helpers with a timeout in milliseconds (-1 = none).  Return 0 on
 * success, -1 on error, time-out (errno ETIMEDOUT), EOF (errno EPIPE) or a
 * malformed record (errno EPROTO). */
int ipc_conn_send(struct ipc_conn *c, int timeout_ms);
int ipc_conn_send_fd(struct ipc_conn *c, int fd, int timeout_ms);
int ipc_conn_recv(struct ipc_conn *c, struct ipc_msg *m, int timeout_ms);

#endif
