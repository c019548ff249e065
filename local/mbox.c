/*
 * mbox.c - appending to an mbox file.
 *
 * The file is opened O_APPEND as the mailbox owner and write-locked with
 * fcntl (what mail readers on Linux honour); the lock is retried for
 * MBOX_LOCK_SECONDS rather than waited for without bound, so one stuck
 * reader cannot hold a delivery agent forever.  The size before our
 * append is remembered and, on ANY error, the file is truncated back to
 * it: a half-written message would corrupt the message after it for every
 * reader.  The message counts as delivered only after fsync (DESIGN.md
 * invariant 2).
 *
 * mailbox_size_limit is checked under the lock: a message that would make
 * the file larger fails with EFBIG, which bounces (5.2.2).
 *
 * Not here: dot-locking (dotlock.c, taken by the caller, who knows which
 * identity may create the lock), ownership checks (user.c).
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "proto.h"
#include "maildate.h"
#include "util.h"

#define MBOX_LOCK_SECONDS 30
#define MBOX_LOCK_POLL_MS 100

static int mbox_lock(int fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	struct timespec pause = {0, MBOX_LOCK_POLL_MS * 1000000L};

	for (int i = 0; i < MBOX_LOCK_SECONDS * 1000 / MBOX_LOCK_POLL_MS; i++) {
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return -1;
		nanosleep(&pause, NULL);
	}
	errno = EAGAIN;
	return -1;
}

/* Would the message make the mailbox exceed mailbox_size_limit? */
static bool mbox_too_big(off_t size, const struct local_msg *m)
{
	long long limit = config_size("mailbox_size_limit");

	return limit > 0 && (long long)size + m->header_len + m->body_len > limit;
}

/* Opens, checks and locks the mailbox; 0 with *fd and *size set. */
static int mbox_open(
    const struct local_msg *m, const char *path, int *fd, off_t *size, const char **what)
{
	struct stat st;

	*what = "open mailbox";
	*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return -1;
	*what = "lock mailbox";
	if (mbox_lock(*fd) < 0)
		return -1;
	*what = "stat mailbox";
	if (fstat(*fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		*what = "deliver to a mailbox that is not a regular file";
		errno = EINVAL;
		return -1;
	}
	*size = st.st_size; /* after the lock: nobody else appends now */
	if (mbox_too_big(st.st_size, m)) {
		*what = "append to the mailbox (mailbox_size_limit)";
		errno = EFBIG;
		return -1;
	}
	return 0;
}

static int mbox_append(int fd, const struct local_msg *m, const char *rcpt, const char **what)
{
	*what = "write mailbox";
	if (local_copy_message(fd, m, rcpt, LOCAL_COPY_MBOX) < 0)
		return -1;
	*what = "fsync mailbox";
	return fsync(fd);
}

static int mbox_parent(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int r = 0;

	if (slash && slash != dir) {
		*slash = 0;
		r = local_mkdirs(dir);
	}
	free(dir);
	return r;
}

int mbox_deliver(
    const struct local_msg *m, const char *rcpt, const char *path, struct local_result *r)
{
	const char *what = "create mailbox directory";
	off_t size = -1;
	int fd = -1, rc = mbox_parent(path);

	if (rc == 0)
		rc = mbox_open(m, path, &fd, &size, &what);
	if (rc == 0)
		rc = mbox_append(fd, m, rcpt, &what);
	if (rc < 0) {
		int err = errno;

		/* Leave the mailbox exactly as we found it. */
		if (size >= 0 && ftruncate(fd, size) == 0)
			fsync(fd);
		local_result_errno(r, err, what);
	} else {
		local_result_set(r, RES_SENT, "2.0.0", "delivered to mailbox");
	}
	if (fd >= 0)
		close(fd);
	return rc;
}
