/*
 * queue_list.h - reading the queue for the operator: the mailq listing.
 *
 * For "tern queue list" and for a mailq command (Postfix's mailq,
 * postqueue -p and postqueue -j): the caller loads main.cf first (it needs
 * queue_directory), then calls queue_list_main().  Nothing here changes
 * the queue; reading it needs root or the owner of the queue, and
 * everybody else gets the same listing from the showq service
 * (showq/main.c) when the mail system runs.
 */
#ifndef TERN_QUEUE_LIST_H
#define TERN_QUEUE_LIST_H

#include <stdbool.h>

#include "qfile.h"

/*
 * Prints the queue: argv[1..] may be "--json" or "-j" (one JSON object
 * per message); anything else prints a usage line.  Error messages start
 * with getprogname().  Returns a sysexits code (EX_NOPERM when the queue
 * cannot be read for lack of rights).
 */
int queue_list_main(int argc, char **argv);
/* True in the showq daemon: never ask showq (itself) for the listing. */
extern bool queue_list_direct_only;

/* Queues a message may be in, in the order tools search them. */
extern const char *const queue_list_queues[];
/* The queues mailq and "tern queue summary" show, in Postfix's order. */
extern const char *const queue_list_shown[];

/* Sorted queue IDs in one folder; NULL (errno) when it cannot be read. */
char **queue_list_ids(const char *queue);
/* The queue holding qid (a pointer into queue_list_queues), or NULL. */
const char *queue_list_find(const char *qid);
/* Loads queue/qid; false (with a message on stderr unless the file
 * vanished).  With fdp, the open descriptor is left there on success. */
bool queue_list_load(const char *queue, const char *qid, struct qfile *qf, int *fdp);

#endif
