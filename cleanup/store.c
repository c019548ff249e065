/*
 * store.c - queue files in incoming/: create, commit, discard; notify qmgr.
 *
 * Crash safety (DESIGN.md invariant 1): a queue file gets its name in
 * incoming/ only once it is complete and fdatasync'ed, and cleanup answers
 * "ok" only after the directory holding that name is fsync'ed too.  Until
 * then the file is an O_TMPFILE inode with no name at all, so a crash at
 * any moment leaves nothing behind for qmgr to find half-written.
 *
 * The name is given with linkat() through /proc/self/fd: linkat() with
 * AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH, which cleanup does not
 * have.
 *
 * A file qmgr has finished with waits in recycle/ (qmgr/message.c); when
 * there is one, cleanup takes it instead of a new inode: renamed to
 * incoming/.tmp.QID (the rename is the claim: of two cleanups taking
 * the same file one gets ENOENT), opened with O_TRUNC, written, synced,
 * and renamed to its queue ID at the end (RENAME_NOREPLACE).  qmgr
 * ignores names starting with '.'; cleanup holds an flock on its
 * temporary file while it writes, so qmgr removes one left by a cleanup
 * that died (no lock) within seconds, never one still being written.
 * The same temporary name serves where O_TMPFILE or /proc is missing
 * (old file systems, a chroot).  The final name never replaces a file.
 *
 * A commit has two halves around the fsync of the folder, which
 * commit.c shares between the files of one group: cleanup_file_seal()
 * (E record, fdatasync, the name) and cleanup_file_settle().
 *
 * This file does not write records: conn.c drives the qfile writer.
 */
#include "cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "queue.h"
#include "sock.h"

static int store_dirfd = -1;
static int store_holdfd = -1; /* hold/, for quarantined messages */
static bool store_use_tmpfile;
static DIR *store_recycle;

void cleanup_store_init(void)
{
	store_dirfd = open(QUEUE_INCOMING, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (store_dirfd < 0)
		log_fatal("open %s: %s", QUEUE_INCOMING, strerror(errno));
	store_holdfd = open(QUEUE_HOLD, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	store_recycle = opendir(QUEUE_RECYCLE);
	if (store_recycle == NULL)
		log_info("no %s/ folder: every queue file is a new one", QUEUE_RECYCLE);
	store_use_tmpfile = access("/proc/self/fd", X_OK) == 0;
	if (!store_use_tmpfile)
		log_info("no /proc/self/fd: queue files are written under temporary names");
}

static void store_tmp_name(const struct cleanup_file *f, char *out, size_t size)
{
	snprintf(out, size, ".tmp.%s", f->qid);
}

/* A queue ID not in incoming/ yet; the final link catches a late clash. */
static void store_new_qid(struct cleanup_file *f)
{
	for (int tries = 0; tries < 10; tries++) {
		qid_new(f->qid);
		if (faccessat(store_dirfd, f->qid, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			return;
	}
}

static int store_open_tmpfile(struct cleanup_file *f)
{
	f->fd = openat(store_dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (f->fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return f->fd;
	log_info("O_TMPFILE not supported in %s: using temporary names", QUEUE_INCOMING);
	store_use_tmpfile = false;
	return -1;
}

/*
 * Takes a finished file from recycle/ as incoming/.tmp.QID, emptied.
 * 0 with f->fd set, or -1 when there is none to take.  The directory
 * stream is read on across calls and rewound once when it runs out.
 */
static int store_claim_recycled(struct cleanup_file *f)
{
	char tmp[QID_LEN + 8];
	struct dirent *de;
	struct stat st;
	bool rewound = false;

	if (store_recycle == NULL)
		return -1;
	store_tmp_name(f, tmp, sizeof(tmp));
	for (int tries = 0; tries < 32;) {
		if ((de = readdir(store_recycle)) == NULL) {
			if (rewound)
				return -1;
			rewinddir(store_recycle);
			rewound = true;
			continue;
		}
		if (de->d_name[0] == '.')
			continue;
		tries++;
		if (renameat(dirfd(store_recycle), de->d_name, store_dirfd, tmp) < 0)
			continue; /* another cleanup took it, or qmgr trimmed it */
		f->fd = openat(store_dirfd, tmp, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
		if (f->fd >= 0 && fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_nlink == 1 && st.st_size == 0 && flock(f->fd, LOCK_EX) == 0) {
			f->named = true;
			return 0;
		}
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		unlinkat(store_dirfd, tmp, 0);
	}
	return -1;
}

int cleanup_file_create(struct cleanup_file *f)
{
	char tmp[QID_LEN + 8];

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	store_new_qid(f);
	if (store_claim_recycled(f) == 0) {
		qfw_init(&f->w, f->fd);
		return 0;
	}
	if (store_use_tmpfile && store_open_tmpfile(f) < 0 && store_use_tmpfile)
		return -1; /* a real error, not a missing feature */
	if (f->fd < 0) {
		store_tmp_name(f, tmp, sizeof(tmp));
		f->fd = openat(store_dirfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		if (f->fd < 0)
			return -1;
		if (flock(f->fd, LOCK_EX) < 0) {
			int saved = errno;

			unlinkat(store_dirfd, tmp, 0);
			close(f->fd);
			f->fd = -1;
			errno = saved;
			return -1;
		}
		f->named = true;
	}
	qfw_init(&f->w, f->fd);
	return 0;
}

/* The folder the finished file is named in: incoming/, or hold/ (which
 * qmgr never reads, so a held message is never seen in incoming/). */
static int store_target(const struct cleanup_file *f)
{
	return f->hold && store_holdfd >= 0 ? store_holdfd : store_dirfd;
}

/* Gives the finished file its queue ID as name (never replacing one). */
static int store_link(struct cleanup_file *f)
{
	char path[64];
	int to = store_target(f);

	if (f->named) {
		store_tmp_name(f, path, sizeof(path));
		if (renameat2(store_dirfd, path, to, f->qid, RENAME_NOREPLACE) == 0) {
			f->named = false; /* the temporary name is gone */
			return 0;
		}
		if (errno != EINVAL && errno != ENOSYS)
			return -1;
		return linkat(store_dirfd, path, to, f->qid, 0);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
	return linkat(AT_FDCWD, path, to, f->qid, AT_SYMLINK_FOLLOW);
}

static void store_close(struct cleanup_file *f)
{
	char tmp[QID_LEN + 8];
	int saved = errno;

	if (f->named) {
		store_tmp_name(f, tmp, sizeof(tmp));
		unlinkat(store_dirfd, tmp, 0);
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	errno = saved;
}

int cleanup_file_seal(struct cleanup_file *f)
{
	f->finished = true;
	if (qfw_finish(&f->w) < 0 || store_link(f) < 0) {
		store_close(f);
		return -1;
	}
	return 0;
}

int cleanup_file_dirfd(const struct cleanup_file *f)
{
	return store_target(f);
}

void cleanup_file_settle(struct cleanup_file *f, int err)
{
	/* The name did not become durable: take it back, so that a file
	 * whose client hears "defer" is not delivered as well. */
	if (err != 0)
		unlinkat(store_target(f), f->qid, 0);
	store_close(f);
}

void cleanup_file_discard(struct cleanup_file *f)
{
	if (f->fd < 0)
		return;
	if (!f->finished)
		qfw_abort(&f->w);
	f->finished = true;
	store_close(f);
}

void cleanup_notify_qmgr(char (*qids)[QID_LEN + 1], size_t n)
{
	struct buf path = BUF_INIT;
	struct ipc_conn c;
	int fd;

	if (n == 0)
		return;
	queue_socket_path(&path, true, SERVICE_QMGR);
	fd = sock_unix_connect(buf_cstr(&path), true);
	if (fd < 0) {
		log_debug(
		    "%s: cannot notify qmgr: %s: %s", qids[0], buf_cstr(&path), strerror(errno));
		buf_free(&path);
		return;
	}
	ipc_conn_init(&c, fd);
	for (size_t i = 0; i < n; i++) {
		ipc_put_str(&c.out, A_OP, OP_NEW);
		ipc_put_str(&c.out, A_QUEUE_ID, qids[i]);
		ipc_end(&c.out);
	}
	/* qmgr's periodic scan finds the files anyway if this fails. */
	if (ipc_conn_flush(&c) != 1)
		log_debug("%s: cannot notify qmgr: %s", qids[0], strerror(errno));
	ipc_conn_close(&c);
	buf_free(&path);
}
