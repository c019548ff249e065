/*
 * proc_status.h - a daemon tells master whether it can take a client.
 *
 * master gives every process of a service the write end of one pipe (on
 * descriptor DAEMON_STATUS_FD, see daemon.h) and keeps the read end.  A
 * process writes one record whenever its state changes: "busy" when it
 * cannot take another client (a blocking server serving one, an event
 * server at its session limit or draining after a reload), "avail" when
 * it can again.  A new process counts as available until it says
 * otherwise.  master starts another process, up to maxproc, when a
 * client waits and no process is available (master/avail.c).
 *
 * The record is the ipc.h codec's: {pid=N, state=avail|busy}.  It is
 * far below PIPE_BUF, so the records of processes sharing the pipe never
 * interleave.  The decoder is a pure function over the bytes master has
 * read; anything malformed is an error (master then drops what it read).
 *
 * The same pipe tells a daemon that master has gone: when its only
 * reader closes, the write end polls as POLLERR (daemon_status.c).
 */
#ifndef TERN_PROC_STATUS_H
#define TERN_PROC_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "ipc.h"

#define PROC_STATUS_MAX 128 /* longest encoded record */

void proc_status_encode(struct buf *out, pid_t pid, bool busy);

/*
 * Decodes one record from data[0..len): IPC_OK with *pid, *busy and *used
 * (bytes consumed), IPC_MORE when the record is incomplete, IPC_ERROR
 * when the bytes are not a status record (a pid of 0 or less, a missing
 * or unknown state).
 */
enum ipc_result proc_status_decode(
    const char *data, size_t len, pid_t *pid, bool *busy, size_t *used);

#endif
