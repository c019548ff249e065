/*
 * cleanup.h - the cleanup daemon's parts: queue file store and connections.
 *
 * store.c creates, commits and discards queue files in incoming/ and tells
 * qmgr about new ones; conn.c runs one smtpd/pickup conversation per
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
/* Completes it (E record, fdatasync), gives it its name (in hold/ when
 * f->hold), makes the name durable.  0 or -1 (errno); on -1 the file is
 * gone. */
int cleanup_file_commit(struct cleanup_file *f);
/* Throws an unfinished file away. */
void cleanup_file_discard(struct cleanup_file *f);
/* Best effort, never blocks: {op=new} to qmgr. */
void cleanup_notify_qmgr(const char *qid);

/* daemon_accept_fn and daemon_idle_fn for daemon_event_server(). */
void cleanup_conn_accept(struct event_loop *loop, int fd, void *ctx);
bool cleanup_conn_idle(void *ctx);

#endif
