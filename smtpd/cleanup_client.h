/*
 * cleanup_client.h - smtpd's non-blocking conversation with cleanup.
 *
 * One connection per message (lib/proto.h): begin record, data records,
 * end record, then one reply.  Records are queued in memory and written
 * from the event loop when the socket takes them; the caller watches
 * cleanup_client_pending() for backpressure.  The result callback runs at
 * most once, from the event loop (never from inside a cleanup_client_*
 * call), and is the last thing the client does in that callback, so the
 * owner may close the client from it.  This module knows nothing of SMTP
 * replies or of time-outs; the session applies smtpd_timeout.
 */
#ifndef TERN_SMTPD_CLEANUP_CLIENT_H
#define TERN_SMTPD_CLEANUP_CLIENT_H

#include <stddef.h>

#include "buf.h"
#include "event.h"

enum cleanup_status {
	CLEANUP_OK,	/* text: the queue ID */
	CLEANUP_DEFER,	/* text: "4.x.x reason" */
	CLEANUP_REJECT, /* text: "5.x.x reason" */
	CLEANUP_FAILED, /* text: what went wrong, for the log */
	CLEANUP_READY, /* not a result: the queue file exists (begin with ready); text: its queue ID
			*/
};

typedef void cleanup_result_fn(void *ctx, enum cleanup_status st, const char *text);
/* Called after output was written, so the owner can resume reading. */
typedef void cleanup_drain_fn(void *ctx);

struct cleanup_client;

/* Connects to private/cleanup; NULL (errno set) when that fails. */
struct cleanup_client *cleanup_client_open(
    struct event_loop *loop, cleanup_result_fn *result, cleanup_drain_fn *drain, void *ctx);

/* Queues a complete record built with ipc_put_*() and ipc_end(). */
void cleanup_client_send(struct cleanup_client *cc, const struct buf *record);

/* Queues content as data records of at most CLEANUP_DATA_CHUNK bytes. */
void cleanup_client_data(struct cleanup_client *cc, const char *p, size_t n);
/* Queues the end record; the reply follows through the result callback. */
void cleanup_client_end(struct cleanup_client *cc);
/* Bytes queued but not yet written. */
size_t cleanup_client_pending(const struct cleanup_client *cc);
/* Closes the connection; before a reply this abandons the message. */
void cleanup_client_close(struct cleanup_client *cc);

#endif
