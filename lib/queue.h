/*
 * queue.h - the queue directory: its folders and the paths of queue files.
 */
#ifndef TERN_QUEUE_H
#define TERN_QUEUE_H

#include <stdbool.h>

#include "buf.h"

#define QUEUE_MAILDROP "maildrop"
#define QUEUE_INCOMING "incoming"
#define QUEUE_ACTIVE "active"
#define QUEUE_DEFERRED "deferred"
#define QUEUE_HOLD "hold"
#define QUEUE_CORRUPT "corrupt"
/* Not a queue: finished queue files whose inodes cleanup reuses. */
#define QUEUE_RECYCLE "recycle"

/* The message queues, in the order tools list them. */
extern const char *const queue_names[]; /* NULL-terminated */

/* queue_directory/name/qid (qid may be NULL for the folder itself). */
void queue_path(struct buf *out, const char *name, const char *qid);
/* queue_directory/private/service or public/service. */
void queue_socket_path(struct buf *out, bool private_, const char *service);

/* Atomically moves qid from one queue to another (rename). 0 or -1. */
int queue_move(const char *qid, const char *from, const char *to);

#endif
