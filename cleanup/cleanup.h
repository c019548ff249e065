/*
 * cleanup.h - the cleanup daemon's parts: queue file store and connections.
 *
 * store.c creates, commits and discards queue files in incoming/ and tells
 * qmgr about new ones; commit.c commits the files of one event-loop round
 * as a group; conn.c runs one smtpd/pickup conversation per
 * connection (proto.h) inside the event loop.  The pure header functions
 * are in header.h.
 */
#ifndef TERN_CLEANUP_H
#define TERN_CLEANUP_H

#include <stdbool.h>

#include "event.h"
#include "proto.h"
#include "qfile.h"
#include "qid.h"

/* Hard caps on what one begin record may carry. */
#define CLEANUP_MAX_RCPT QF_MAX_RECIPIENTS
#define CLEANUP_MAX_ADDR 512
#define CLEANUP_MAX_ATTR PROTO_MAX_ATTR

struct cleanup_file {
	char qid[QID_LEN + 1];
	int fd;	       /* -1 when none */
	bool named;    /* fallback: visible as incoming/.tmp.QID */
	bool finished; /* qfw_finish() ran: the writer is spent */
	bool hold;     /* committed into hold/ instead (a milter's quarantine) */
	struct qfile_writer w;
};

/* Opens incoming/ (relative to queue_directory, the working directory). */
void cleanup_store_init(void);
/* A new, still invisible queue file with a fresh queue ID: 0 or -1 (errno). */
int cleanup_file_create(struct cleanup_file *f);
/* Completes it (E record, fdatasync) and gives it its name (in hold/ when
 * f->hold).  0 or -1 (errno); on -1 the file is gone.  The name is not
 * durable yet: fsync cleanup_file_dirfd(f), then cleanup_file_settle(). */
int cleanup_file_seal(struct cleanup_file *f);
/* The folder a sealed file is named in (incoming/ or hold/). */
int cleanup_file_dirfd(const struct cleanup_file *f);
/* Closes a sealed file once its folder's fsync is done; err != 0 (the
 * fsync failed) removes its name first. */
void cleanup_file_settle(struct cleanup_file *f, int err);
/* Throws an unfinished file away. */
void cleanup_file_discard(struct cleanup_file *f);
/*
 * Group commit (commit.c): seals f at the end of this event-loop round
 * together with every other file queued in it, fsyncs each folder once,
 * then calls fn(ctx, 0), or fn(ctx, errno) with the file gone.  f and ctx
 * must stay alive until fn runs; fn runs from the loop, never from here,
 * and may free both.  fn returns true when qmgr is to hear of the file:
 * one notification then goes to qmgr for the whole group.
 */
typedef bool cleanup_commit_fn(void *ctx, int err);
void cleanup_commit_queue(
    struct event_loop *loop, struct cleanup_file *f, cleanup_commit_fn *fn, void *ctx);
/* Best effort, never blocks: one {op=new} per queue ID to qmgr, all over
 * one connection (qmgr/notify.c reads records until EOF). */
void cleanup_notify_qmgr(char (*qids)[QID_LEN + 1], size_t n);

/* daemon_accept_fn and daemon_idle_fn for daemon_event_server(). */
void cleanup_conn_accept(struct event_loop *loop, int fd, void *ctx);
bool cleanup_conn_idle(void *ctx);

#endif
