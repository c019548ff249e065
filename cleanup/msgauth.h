/*
 * msgauth.h - cleanup's DKIM verification and Authentication-Results
 * header (msgauth.c).
 *
 * The conversation (conn.c) calls, for one message: begin (NULL: nothing
 * to check), header with the header section as received, body with every
 * body byte, end (true: key look-ups run, done is called from the event
 * loop when the last is in), then result for the header to write.
 * filter drops forged Authentication-Results headers.
 */
#ifndef TERN_CLEANUP_MSGAUTH_H
#define TERN_CLEANUP_MSGAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "ipc.h"

struct cleanup_msgauth;
typedef void cleanup_msgauth_done_fn(void *ctx);

/* At start: the resolver when dkim_verify is on; false (why) when the
 * name servers are unusable. */
bool cleanup_msgauth_init(struct buf *why);
/* The authserv-id: authserv_id, else myhostname. */
const char *cleanup_msgauth_id(void);
struct cleanup_msgauth *cleanup_msgauth_begin(const struct ipc_msg *m, const char *qid);
void cleanup_msgauth_header(struct cleanup_msgauth *ma, const char *hdr, size_t len);
void cleanup_msgauth_body(struct cleanup_msgauth *ma, const char *p, size_t len);
bool cleanup_msgauth_end(struct cleanup_msgauth *ma, cleanup_msgauth_done_fn *done, void *ctx);
/* The Authentication-Results header (LF-terminated) onto out, under the
 * ARC set that seals hdr (the header section cleanup writes below it)
 * with arc_sealing. */
void cleanup_msgauth_result(
    struct cleanup_msgauth *ma, const char *hdr, size_t hlen, struct buf *out);
/* hdr without the Authentication-Results fields that carry our
 * authserv-id, onto out; the number of bytes left out. */
size_t cleanup_msgauth_filter(const char *hdr, size_t len, struct buf *out);
/* After result: the DMARC verdict is reject (reason: "5.7.1 ..."). */
bool cleanup_msgauth_reject(const struct cleanup_msgauth *ma, struct buf *reason);
/* Cancels look-ups still running. */
void cleanup_msgauth_free(struct cleanup_msgauth *ma);

#endif
