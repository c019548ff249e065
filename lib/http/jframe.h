/*
 * http/jframe.h - the frames between http and a user's jmap process
 * (http(8), jmap(8)): one encoder and one decoder for each, used by
 * both sides, fuzzed through tests/fuzz/fuzz_jframe.c.
 *
 * http keeps one channel per logged-in user: a socket pair whose other
 * end went to the user's jmap process through postlogin (like an IMAP
 * session).  Every frame is one ipc.h record:
 *
 *   http -> jmap:  {op=request, id, method, path, query, ctype, body}
 *                  one HTTP request under /jmap/ or /.well-known/jmap,
 *                  already authenticated; path is the URL path
 *                  (undecoded), query the raw query string or "".
 *   jmap -> http:  {op=response, id, status, ctype, body, [disposition]}
 *                  the answer to the request with the same id; answers
 *                  come in the order of the requests.
 *                  {op=event, body}  a push notification (a JMAP
 *                  StateChange object), for the user's EventSource
 *                  connections.
 *
 * The decoders accept a frame only with every attribute its op needs,
 * strings free of NULs and under JFRAME_MAX_FIELD, a status 100..599.
 */
#ifndef TERN_HTTP_JFRAME_H
#define TERN_HTTP_JFRAME_H

#include <stddef.h>

#include "buf.h"
#include "ipc.h"

#define JFRAME_MAX_FIELD 8192
#define JFRAME_MAX_BODY (64 * 1024 * 1024)
#define JFRAME_MAX_RECORD (JFRAME_MAX_BODY + 8 * JFRAME_MAX_FIELD)

enum jframe_op {
	JFRAME_REQUEST,
	JFRAME_RESPONSE,
	JFRAME_EVENT,
};

struct jframe {
	enum jframe_op op;
	unsigned long long id;	 /* request, response */
	const char *method;	 /* request: "GET", "POST" */
	const char *path;	 /* request */
	const char *query;	 /* request ("" when none) */
	const char *ctype;	 /* request, response ("" when none) */
	const char *disposition; /* response: Content-Disposition, "" when none */
	int status;		 /* response */
	const char *body;	 /* may hold NULs; body_len bytes */
	size_t body_len;
};

void jframe_encode(struct buf *out, const struct jframe *f);
/* Strings point into m.  -1 with *why (static) on a malformed frame. */
int jframe_decode(const struct ipc_msg *m, struct jframe *f, const char **why);

#endif
