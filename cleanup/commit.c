/*
 * commit.c - group commit: the messages that end in one event-loop round
 * share one fsync of the folder that holds their names.
 *
 * DESIGN.md invariant 1 asks, for each message, that its file be complete
 * and fdatasync'ed, named, and the folder holding the name fsync'ed
 * before its client hears "ok".  Done one message at a time that is two
 * synchronous disk waits per message, and while cleanup waits the other
 * clients' end records pile up in their sockets.  So conn.c does not
 * commit at op=end: it queues the file here, and a zero-delay timer runs
 * the group once every descriptor that was ready in this round has been
 * handled (event.c runs timers after the descriptors):
 *
 *  1. each file: E record, fdatasync, then its name (store.c).  Data
 *     before name, as before: after a crash a name never points at a file
 *     whose bytes are not on disk;
 *  2. each folder named into (incoming/, hold/) is fsync'ed once;
 *  3. each owner is called back, and only then answers its client: "ok"
 *     when its own file and name are durable, else the error, with the
 *     name taken back (cleanup_file_settle);
 *  4. qmgr hears of the new files, all over one connection.
 *
 * The busier the disk, the longer a round waits and the larger the next
 * group: k messages cost k fdatasyncs and one directory fsync instead of
 * 2k syncs.  A lone message costs what it did.  A crash before step 3
 * leaves files nobody was told about: delivered at worst once more than
 * the client expects (invariant 3), never lost once acknowledged.
 *
 * Not here: what is written (conn.c), the file operations (store.c).
 */
#include "cleanup.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct commit_item {
	struct cleanup_file *file;
	cleanup_commit_fn *fn;
	void *ctx;
	int err;
};

static struct commit_item *commit_items;
static size_t commit_count, commit_cap;
static struct event_timer *commit_timer;

/* fsyncs dirfd once for the group, or reports the error of the first
 * fsync of it. */
static int commit_sync_dir(int dirfd, int *done, size_t *ndone, int *errs)
{
	for (size_t i = 0; i < *ndone; i++)
		if (done[i] == dirfd)
			return errs[i];
	done[*ndone] = dirfd;
	errs[*ndone] = fsync(dirfd) < 0 ? errno : 0;
	if (errs[*ndone] != 0)
		log_error("fsync of the queue folder: %s", strerror(errs[*ndone]));
	return errs[(*ndone)++];
}

static void commit_run(struct event_loop *loop, void *ctx)
{
	struct commit_item *items = commit_items;
	size_t n = commit_count;
	int dirs[2], errs[2];
	size_t ndirs = 0, nq = 0;
	char(*qids)[QID_LEN + 1] = xreallocarray(NULL, n ? n : 1, sizeof(*qids));

	(void)loop;
	(void)ctx;
	commit_timer = NULL;
	commit_items = NULL;
	commit_count = commit_cap = 0;
	for (size_t i = 0; i < n; i++)
		items[i].err = cleanup_file_seal(items[i].file) < 0 ? errno : 0;
	for (size_t i = 0; i < n; i++) {
		if (items[i].err != 0)
			continue;
		items[i].err =
		    commit_sync_dir(cleanup_file_dirfd(items[i].file), dirs, &ndirs, errs);
		cleanup_file_settle(items[i].file, items[i].err);
	}
	if (n > 1)
		log_debug("group commit of %zu queue files", n);
	/* The callbacks may queue new commits: those go to the next group. */
	for (size_t i = 0; i < n; i++) {
		/* Copied first: the callback may free the file. */
		strlcpy(qids[nq], items[i].file->qid, sizeof(qids[nq]));
		if (items[i].fn(items[i].ctx, items[i].err))
			nq++;
	}
	cleanup_notify_qmgr(qids, nq);
	free(qids);
	free(items);
}

void cleanup_commit_queue(
    struct event_loop *loop, struct cleanup_file *f, cleanup_commit_fn *fn, void *ctx)
{
	if (commit_count == commit_cap) {
		commit_cap = commit_cap ? 2 * commit_cap : 16;
		commit_items = xreallocarray(commit_items, commit_cap, sizeof(*commit_items));
	}
	commit_items[commit_count++] = (struct commit_item){f, fn, ctx, 0};
	if (commit_timer == NULL)
		commit_timer = event_timer_add(loop, 0, commit_run, NULL);
}
