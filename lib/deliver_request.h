/*
 * deliver_request.h - the qmgr -> delivery agent conversation (proto.h),
 * encoded and decoded in one place: qmgr encodes the request and decodes
 * the status replies, every agent (local, smtp and its error and discard
 * modes) decodes the request and encodes the replies.
 *
 * The request, one ipc record:
 *   op=deliver, queue_id, sender, arrival, header_off, header_len,
 *   body_off, body_len, [nexthop], [activated], [ret], [envid],
 *   [requiretls] ("yes": RFC 8689, verified TLS onward or bounce),
 *   [tls_required] ("no": the header said "TLS-Required: No"; cleanup
 *   records it in the queue file),
 *   then per recipient: rcpt, index, [class], [orcpt], [notify]
 * ("index", "class", "orcpt" and "notify" apply to the "rcpt" before them),
 * with the queue file's descriptor attached (ipc_conn_send_fd).
 * The replies: one {op=status, index, result, dsn, reason} per recipient,
 * then {op=done}.
 *
 * The decoders trust nothing from the other process.  A request is refused
 * (the agent drops the connection, qmgr defers what got no status) when
 * op, queue ID, sender, offsets or a recipient are missing or malformed:
 * the sender and every recipient must be text without CR, LF, '<' or '>'
 * (they go into SMTP commands and log lines), each recipient needs an
 * index below QF_MAX_RECIPIENTS, and a class, when given, must be one
 * resolve.h knows.  Optional DSN values that would be unsafe on the wire
 * (ret, orcpt, notify with white space, CR or LF; ret of 100 bytes or more;
 * envid over 100, RFC 3461 4.4) are dropped rather than refused.  A status must name an index and
 * one of sent/deferred/bounced; a DSN code that does not agree with the result is replaced by the
 * result's default, so a reply cannot say "sent" with a failure code.
 *
 * Decoded strings point into the ipc_msg: keep it while they are used.
 */
#ifndef TERN_DELIVER_REQUEST_H
#define TERN_DELIVER_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "ipc.h"
#include "qfile.h"
#include "resolve.h"

struct deliver_rcpt {
	const char *addr;
	long index;		/* in the queue file's recipient list */
	const char *cls;	/* encode: class name or NULL; decode: as sent */
	enum addr_class cls_id; /* decode: valid when has_class */
	bool has_class;
	const char *orcpt;  /* DSN ORCPT, NULL when none */
	const char *notify; /* DSN NOTIFY, NULL when none */
};

struct deliver_request {
	const char *qid;
	const char *sender;  /* "" for the null sender */
	long long arrival;   /* microseconds, 0 when unknown */
	long long activated; /* when qmgr took the message, 0 when unknown */
	off_t header_off, header_len, body_off, body_len;
	const char *nexthop; /* NULL when none */
	const char *ret;     /* DSN RET, NULL when none */
	const char *envid;   /* DSN ENVID, NULL when none */
	bool requiretls;     /* RFC 8689 REQUIRETLS */
	bool tls_optional;   /* RFC 8689 section 5: "TLS-Required: No" */
	struct deliver_rcpt *rcpts;
	size_t nrcpt;
};

struct deliver_status {
	long long index;
	enum qf_status status;
	const char *dsn;    /* agrees with status (defaulted when it did not) */
	const char *reason; /* "" when none */
	bool relayed;	    /* sent, to a next hop that is not the final one */
	bool notified;	    /* sent, and the next hop took the NOTIFY */
};

/* qmgr: the request record, appended to out. */
void deliver_request_encode(const struct deliver_request *r, struct buf *out);

/* Agents: NULL, or why m is refused.  Free with deliver_request_free()
 * either way. */
const char *deliver_request_decode(const struct ipc_msg *m, struct deliver_request *r);
void deliver_request_free(struct deliver_request *r);

/* Agents: one status record, and the record that ends the request.
 * relayed: a success's DSN action is "relayed", not "delivered" (RFC
 * 3464; Postfix's pipe(8) without flag X, smtp(8)); notified: the next
 * hop was given the recipient's NOTIFY (it announced DSN), so qmgr sends
 * no success notice of its own (RFC 3461 6.2). */
void deliver_status_encode(struct buf *out, long long index, const char *result, const char *dsn,
    const char *reason, bool relayed, bool notified);
void deliver_done_encode(struct buf *out);

/* qmgr: NULL, or why a status record (op=status) is refused. */
const char *deliver_status_decode(const struct ipc_msg *m, struct deliver_status *st);

#endif
