/*
 * login/handoff.h - the records of the login hand-off (postlogin(8)), one
 * encoder and one decoder for each, used by both sides, fuzzed through
 * tests/fuzz/fuzz_login_handoff.c.
 *
 *   login process -> dispatcher (login/postlogin, with the client's fd):
 *       {op=login, token, service, mech, client_addr, client_port,
 *        local_addr, local_port, tls, secured, session, [tag], [utf8],
 *        [pending]}
 *       <- {status=ok, pid} or {status=fail, code, reason}
 *          (pid: the user process, for the log line's mpid)
 *   dispatcher -> user process (its channel, with the client's fd):
 *       {op=client, user, uid, gid, home, maildir, quota_rule, and the
 *        rest as above but the token}
 *   user process -> dispatcher: {op=done} when a session is over.
 *
 * pending: bytes the client sent after its login command.  The decoders
 * accept a record only with every attribute its op needs, each string
 * free of NULs and under HANDOFF_MAX_FIELD.
 */
#ifndef TERN_LOGIN_HANDOFF_H
#define TERN_LOGIN_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "ipc.h"
#include "login/postlogin.h"

#define HANDOFF_SOCKET "login/postlogin" /* relative to queue_directory */
#define HANDOFF_SOCKET_NAME "postlogin"	 /* inside the chroot (login/) */
#define HANDOFF_MAX_FIELD 1024
#define HANDOFF_MAX_PENDING 65536
#define HANDOFF_MAX_RECORD (HANDOFF_MAX_PENDING + 32 * HANDOFF_MAX_FIELD)

enum handoff_op {
	HANDOFF_LOGIN,
	HANDOFF_CLIENT,
	HANDOFF_DONE,
};

struct handoff {
	enum handoff_op op;
	struct postlogin_info info; /* LOGIN: account fields are "" / -1 */
	const char *token;	    /* LOGIN only */
	const char *pending;
	size_t pending_len;
};

void handoff_encode(struct buf *out, const struct handoff *h);
/* Strings point into m.  -1 with *why (static) on a malformed record. */
int handoff_decode(const struct ipc_msg *m, struct handoff *h, const char **why);

/* The dispatcher's answer to LOGIN. */
struct handoff_reply {
	bool ok;
	bool temporary;	    /* a failure: try later */
	const char *reason; /* a failure: fit for the client */
	long pid;	    /* ok: the user process */
};
void handoff_reply_encode(struct buf *out, const struct handoff_reply *r);
int handoff_reply_decode(const struct ipc_msg *m, struct handoff_reply *r, const char **why);

#endif
