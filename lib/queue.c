/*
 * queue.c - names and paths inside queue_directory.
 *
 * Daemons run with queue_directory as their working directory, but the
 * paths built here are absolute so that the command-line tools, which do
 * not, can use them too.
 */
#include "queue.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "config.h"

/*
 * private/ is mail_owner's alone; public/ (pickup's wake-up socket) is
 * reachable by all; maildrop/ is writable by postdrop's group, not
 * listable, and sticky so users cannot remove each other's files; pid/
 * holds the root master's lock.
 */
const struct queue_dir queue_dirs[] = {
    {QUEUE_INCOMING, QUEUE_OWNER_MAIL, 0700},
    {QUEUE_ACTIVE, QUEUE_OWNER_MAIL, 0700},
    {QUEUE_DEFERRED, QUEUE_OWNER_MAIL, 0700},
    {QUEUE_HOLD, QUEUE_OWNER_MAIL, 0700},
    {QUEUE_CORRUPT, QUEUE_OWNER_MAIL, 0700},
    {QUEUE_RECYCLE, QUEUE_OWNER_MAIL, 0700},
    {QUEUE_PRIVATE, QUEUE_OWNER_MAIL, 0700},
    {QUEUE_PUBLIC, QUEUE_OWNER_MAIL, 0711},
    {QUEUE_PID, QUEUE_OWNER_ROOT, 0755},
    {QUEUE_MAILDROP, QUEUE_OWNER_MAIL_DROP, 01730},
    {NULL, QUEUE_OWNER_ROOT, 0},
};

int queue_dirs_create(
    const char *qdir, bool set_owner, uid_t uid, gid_t gid, gid_t drop_gid, struct buf *err)
{
	struct buf path = BUF_INIT;
	int r = 0;

	if (mkdir(qdir, QUEUE_TOP_MODE) < 0 && errno != EEXIST) {
		buf_printf(err, "mkdir %s: %s", qdir, strerror(errno));
		return -1;
	}
	for (const struct queue_dir *d = queue_dirs; d->name && r == 0; d++) {
		uid_t u = d->owner == QUEUE_OWNER_ROOT ? 0 : uid;
		gid_t g = d->owner == QUEUE_OWNER_ROOT	      ? 0
			  : d->owner == QUEUE_OWNER_MAIL_DROP ? drop_gid
							      : gid;

		buf_reset(&path);
		buf_printf(&path, "%s/%s", qdir, d->name);
		/* chmod last: mkdir's mode went through the umask, and chown
		 * clears the set-id bits. */
		if (mkdir(path.data, d->mode) < 0 && errno != EEXIST) {
			buf_printf(err, "mkdir %s: %s", path.data, strerror(errno));
			r = -1;
		} else if (set_owner && chown(path.data, u, g) < 0) {
			buf_printf(err, "chown %s: %s", path.data, strerror(errno));
			r = -1;
		} else if (chmod(path.data, d->mode) < 0) {
			buf_printf(err, "chmod %s: %s", path.data, strerror(errno));
			r = -1;
		}
	}
	buf_free(&path);
	return r;
}

void queue_path(struct buf *out, const char *name, const char *qid)
{
	buf_reset(out);
	buf_printf(out, "%s/%s", config_str("queue_directory"), name);
	if (qid)
		buf_printf(out, "/%s", qid);
}

void queue_socket_path(struct buf *out, bool private_, const char *service)
{
	buf_reset(out);
	buf_printf(out, "%s/%s/%s", config_str("queue_directory"),
	    private_ ? QUEUE_PRIVATE : QUEUE_PUBLIC, service);
}

int queue_move(const char *qid, const char *from, const char *to)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	int r;

	queue_path(&a, from, qid);
	queue_path(&b, to, qid);
	r = rename(a.data, b.data);
	buf_free(&a);
	buf_free(&b);
	return r;
}

/*
 * Postfix's rule (queue_minfree): mail is taken only while the queue file
 * system has more than max(queue_minfree, 1.5 * message_size_limit) bytes
 * free, plus the size the client announced.  A full file system is then a
 * 452 at MAIL or DATA, before the client sends anything, instead of a
 * write error after the whole message.
 */
bool queue_space_ok(long long size)
{
	struct statvfs fs;
	long long need = config_size("queue_minfree");
	long long limit = config_size("message_size_limit");
	unsigned long long avail;

	if (statvfs(config_str("queue_directory"), &fs) < 0)
		return true; /* the write itself will tell */
	if (limit > 0 && limit <= LLONG_MAX / 3 && limit / 2 * 3 > need)
		need = limit / 2 * 3;
	if (size > 0 && need <= LLONG_MAX - size)
		need += size;
	avail = (unsigned long long)fs.f_bavail * fs.f_frsize;
	return avail >= (unsigned long long)need;
}
