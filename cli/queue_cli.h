/*
 * queue_cli.h - "tern queue ...": the operator's queue tools.
 *
 *   queue.c          dispatch, show
 *   lib/queue_list.c list (mailq layout and --json), shared with mailq
 *   queue_admin.c    delete, hold, release, requeue, flush
 *   queue_summary.c  summary (qshape)
 *
 * How the tools and a running qmgr stay consistent: every change is one
 * rename() or unlink() of a queue file, which is atomic, and qmgr
 * tolerates a file that moved under it (it keeps its descriptor, writes
 * its journal to the same inode wherever the file now is, and forgets the
 * message when its own rename finds the file gone).  A message being
 * delivered when it is held, deleted or requeued therefore finishes or
 * abandons that delivery; nothing is lost or duplicated beyond the one
 * delivery in flight.  When a rename loses a race with qmgr (ENOENT), the
 * tool looks the file up again and retries.  Only "flush" needs qmgr: it
 * is asked over private/qmgr to retry now.
 */
#ifndef TERN_CLI_QUEUE_H
#define TERN_CLI_QUEUE_H

/* queue_admin.c: argv[0] is the subcommand; -1 for a usage error. */
int queue_admin(int argc, char **argv);
/* queue_summary.c */
int queue_summary(int argc, char **argv);

#endif
