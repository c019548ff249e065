/*
 * scan.c - reading the queue folders: start-up recovery and safety nets.
 *
 * At start-up, files left in active/ by a qmgr that died are moved back
 * to incoming/ (as Postfix does): their journal says which recipients are
 * done, so activating them again delivers only the rest.  incoming/ is
 * then scanned at once and every INCOMING_SCAN_MS afterwards, in case a
 * cleanup's notification was lost; deferred/ is read at start-up and every
 * queue_run_delay, and each file is scheduled for the time in its mtime.
 *
 * Names that are not queue IDs are warned about once and left alone;
 * ".name" files in incoming/ are a cleanup's temporary files (a file
 * taken from recycle/, or written there when O_TMPFILE is unavailable)
 * and are removed once stale.
 *
 * Not here: hashed subfolders (the queue folders are flat).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "qmgr.h"
#include "queue.h"

#define INCOMING_SCAN_MS 5000
#define TEMP_FILE_GRACE 10 /* seconds from the rename to the lock */

/* What to do with one file; false stops the scan. */
typedef bool scan_fn(struct qmgr *q, int dirfd, const char *name);

static void scan_dir(struct qmgr *q, const char *queue, scan_fn *fn)
{
	struct buf path = BUF_INIT;
	struct dirent *de;
	DIR *d;

	queue_path(&path, queue, NULL);
	d = opendir(path.data);
	if (d == NULL) {
		log_error("open %s: %s", path.data, strerror(errno));
		buf_free(&path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!fn(q, dirfd(d), de->d_name))
			break;
	}
	closedir(d);
	buf_free(&path);
}

/* A name that is no queue ID: warn once per name, then ignore it. */
static bool scan_bad_name(struct qmgr *q, const char *queue, const char *name)
{
	bool created;

	if (qid_valid(name))
		return false;
	qset_add(&q->warned, name, &created);
	if (created)
		log_warn("%s/%s: not a queue file name, ignored", queue, name);
	return true;
}

/*
 * A cleanup holds an flock on its temporary file for as long as it
 * writes it (cleanup/store.c), and the lock dies with the process: a
 * file nobody has locked for TEMP_FILE_GRACE seconds (by ctime, which
 * the rename that made it set) belongs to a dead cleanup and goes.
 */
void scan_temp_file(int dirfd, const char *name, long long now)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return;
	if (now - st.st_ctime <= TEMP_FILE_GRACE)
		return;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd); /* a cleanup is still writing it */
		return;
	}
	if (unlinkat(dirfd, name, 0) < 0)
		log_warn("remove stale %s/%s: %s", QUEUE_INCOMING, name, strerror(errno));
	else
		log_info("removed stale temporary file %s/%s", QUEUE_INCOMING, name);
	close(fd);
}

static bool scan_incoming_one(struct qmgr *q, int dirfd, const char *name)
{
	if (name[0] == '.') {
		scan_temp_file(dirfd, name, time(NULL));
		return true;
	}
	if (scan_bad_name(q, QUEUE_INCOMING, name))
		return true;
	if (!msg_activate(q, name, QUEUE_INCOMING)) {
		q->backlog = true; /* the rest waits for a free slot */
		return false;
	}
	return true;
}

void scan_incoming(struct qmgr *q)
{
	q->backlog = false;
	scan_dir(q, QUEUE_INCOMING, scan_incoming_one);
}

static bool scan_deferred_one(struct qmgr *q, int dirfd, const char *name)
{
	struct qset_entry *e;
	struct stat st;

	if (name[0] == '.' || scan_bad_name(q, QUEUE_DEFERRED, name))
		return true;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return true;
	e = qset_get(&q->known, name);
	if (e && e->state == QSET_ACTIVE)
		return true;
	/* The mtime is the truth: an operator may have changed it to flush
	 * the message; a new heap item supersedes the old one. */
	if (e == NULL || e->due != (long long)st.st_mtime)
		sched_add(q, name, st.st_mtime);
	return true;
}

/*
 * recycle/ (message.c, cleanup/store.c) holds finished files for reuse.
 * It keeps at most RECYCLE_KEEP of them, none older than RECYCLE_MAX_AGE
 * (by ctime, which the rename into recycle/ set): after a burst the
 * surplus goes, and delivered mail does not linger there for long.  A
 * file cleanup takes meanwhile is simply not found (ENOENT).
 */
#define RECYCLE_KEEP 1000
#define RECYCLE_MAX_AGE 600 /* seconds */

static void scan_recycle(void)
{
	struct buf path = BUF_INIT;
	struct dirent *de;
	struct stat st;
	long long now = time(NULL);
	size_t kept = 0;
	DIR *d;

	queue_path(&path, QUEUE_RECYCLE, NULL);
	d = opendir(path.data);
	buf_free(&path);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode) && kept < RECYCLE_KEEP &&
		    now - st.st_ctime <= RECYCLE_MAX_AGE) {
			kept++;
			continue;
		}
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			log_warn("remove %s/%s: %s", QUEUE_RECYCLE, de->d_name, strerror(errno));
	}
	closedir(d);
}

void scan_deferred(struct qmgr *q)
{
	scan_dir(q, QUEUE_DEFERRED, scan_deferred_one);
	scan_recycle();
	sched_run(q);
}

static bool scan_recover_one(struct qmgr *q, int dirfd, const char *name)
{
	(void)dirfd;
	if (name[0] == '.' || scan_bad_name(q, QUEUE_ACTIVE, name))
		return true;
	if (queue_move(name, QUEUE_ACTIVE, QUEUE_INCOMING) < 0)
		log_error("%s: move active/ to incoming/: %s", name, strerror(errno));
	return true;
}

void scan_recover(struct qmgr *q)
{
	scan_dir(q, QUEUE_ACTIVE, scan_recover_one);
}

static void scan_incoming_timer(struct event_loop *loop, void *ctx)
{
	struct qmgr *q = ctx;

	scan_incoming(q);
	event_timer_add(loop, INCOMING_SCAN_MS, scan_incoming_timer, q);
}

static void scan_deferred_timer(struct event_loop *loop, void *ctx)
{
	struct qmgr *q = ctx;

	scan_deferred(q);
	event_timer_add(loop, q->cf.run_delay * 1000, scan_deferred_timer, q);
}

void scan_start(struct qmgr *q)
{
	scan_recover(q);
	scan_incoming(q);
	scan_deferred(q);
	event_timer_add(q->loop, INCOMING_SCAN_MS, scan_incoming_timer, q);
	event_timer_add(q->loop, q->cf.run_delay * 1000, scan_deferred_timer, q);
}
