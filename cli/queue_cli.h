/*
 * queue_cli.h - "tern queue ...": the operator's queue tools.
 *
 *   queue.c          dispatch, list (mailq layout and --json), show
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

#include <stdbool.h>

#include "buf.h"
#include "qfile.h"

/*
 * The mailq listing, for "tern queue list" and for a mailq command
 * (argv[0] "mailq"; "-j" or "--json" for JSON).  Loads no configuration:
 * the caller has (cli_load_config or equivalent).  Returns a sysexits code.
 */
int queue_list_main(int argc, char **argv);

/* Queues a message may be in, in the order tools search them. */
extern const char *const queue_cli_queues[];

/* Sorted queue IDs in one folder; NULL (errno) when it cannot be read. */
char **queue_cli_ids(const char *name);
/* The queue holding qid (a pointer into queue_cli_queues), or NULL. */
const char *queue_cli_find(const char *qid);
/* Loads queue/qid; false (with a message on stderr unless it vanished). */
bool queue_cli_load(const char *queue, const char *qid, struct qfile *qf, int *fdp);

/* queue_admin.c */
int queue_admin(int argc, char **argv);
/* queue_summary.c */
int queue_summary(int argc, char **argv);

#endif
