/*
 * maildir.c - Maildir delivery (https://cr.yp.to/proto/maildir.html).
 *
 * DESIGN.md invariant 2: a recipient is reported delivered only once the
 * message is durable in new/: written to tmp/<unique>, fsync'ed, renamed
 * into new/<unique>, and new/ itself fsync'ed so the rename survives a
 * crash.  A crash before that leaves at most a file in tmp/, which mail
 * readers ignore and qmgr retries the delivery; at worst a message then
 * arrives twice, never zero times.  Any failure removes the tmp/ file.
 *
 * The fsync of new/ is shared: maildir_deliver() keeps new/ open (opened
 * as the mailbox owner) in a short list, once per directory, and the
 * caller runs maildir_sync_pending() before it reports any of the
 * request's recipients, so 20 recipients with one Maildir cost one
 * directory fsync, not 20.  The folders are made only when the tmp/ file
 * or the rename says one is missing.
 *
 * Unique names follow the Maildir convention "<sec>.M<usec>P<pid>Q<n>.<host>";
 * O_EXCL on the tmp/ file is the final guarantee.
 *
 * Not here: which user we are (the caller switched to the mailbox owner),
 * quotas, maildir++ sub-folders, ",S=" size fields.
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "proto.h"
#include "util.h"

bool maildir_path_safe(const char *path)
{
	const char *p = path;

	if (*path == 0 || *path == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

bool maildir_name(
    char *out, size_t size, long long usec, long pid, unsigned long n, const char *host)
{
	struct buf b = BUF_INIT;
	bool ok;

	buf_printf(&b, "%lld.M%lldP%ldQ%lu.", usec / 1000000, usec % 1000000, pid, n);
	for (; *host; host++) {
		if (*host == '/')
			buf_puts(&b, "\\057");
		else if (*host == ':')
			buf_puts(&b, "\\072");
		else
			buf_putc(&b, *host);
	}
	ok = b.len < size;
	if (ok)
		memcpy(out, b.data, b.len + 1);
	buf_free(&b);
	return ok;
}

void maildir_unique_name(char out[MAILDIR_NAME_MAX])
{
	static unsigned long count;
	static char host[256];
	struct timeval tv;

	gettimeofday(&tv, NULL);
	if (host[0] == 0 && (gethostname(host, sizeof(host) - 1) < 0 || host[0] == 0))
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = 0;
	maildir_name(out, MAILDIR_NAME_MAX, (long long)tv.tv_sec * 1000000 + tv.tv_usec,
	    (long)getpid(), ++count, host);
}

/* Creates dir/tmp/<name> exclusively; 0 with *fd and tmp/new paths set. */
static int maildir_create(const char *dir, int *fd, struct buf *tmp, struct buf *new_)
{
	char name[MAILDIR_NAME_MAX];

	for (int tries = 0; tries < 5; tries++) {
		maildir_unique_name(name);
		buf_reset(tmp);
		buf_printf(tmp, "%s/tmp/%s", dir, name);
		*fd =
		    open(buf_cstr(tmp), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (*fd >= 0 || errno != EEXIST)
			break;
	}
	if (*fd < 0) {
		buf_reset(tmp); /* not ours: never unlink it */
		return -1;
	}
	buf_reset(new_);
	buf_printf(new_, "%s/new/%s", dir, name);
	return 0;
}

static int maildir_dirs(const char *dir)
{
	static const char *const sub[] = {"tmp", "new", "cur"};
	struct buf p = BUF_INIT;
	int r = local_mkdirs(dir);

	for (size_t i = 0; i < 3 && r == 0; i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", dir, sub[i]);
		r = local_mkdirs(buf_cstr(&p));
	}
	buf_free(&p);
	return r;
}

/* new/ folders renamed into and not fsync'ed yet, each once. */
#define MAILDIR_PENDING_MAX 32

struct maildir_pending {
	int fd;
	dev_t dev;
	ino_t ino;
	char *dir; /* as given: the same path again needs no open */
};

static struct maildir_pending maildir_pend[MAILDIR_PENDING_MAX];
static size_t maildir_npend;
static unsigned long maildir_nadded;

static int maildir_sync_fd(int fd)
{
	int r = fsync(fd);

	if (close(fd) < 0 && r == 0)
		r = -1;
	return r;
}

/* Queues dir/new for maildir_sync_pending(); syncs at once when the list
 * is full.  made: this delivery made folders, so a queued entry for the
 * same path may be a removed folder and the path is opened again.  0, or
 * -1 with errno set. */
static int maildir_sync_later(const char *dir, bool made)
{
	struct buf p = BUF_INIT;
	struct stat st;
	int fd;

	for (size_t i = 0; i < maildir_npend && !made; i++) {
		if (strcmp(maildir_pend[i].dir, dir) == 0) {
			maildir_nadded++;
			return 0;
		}
	}
	buf_printf(&p, "%s/new", dir);
	fd = open(buf_cstr(&p), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	buf_free(&p);
	if (fd < 0)
		return -1;
	maildir_nadded++;
	if (fstat(fd, &st) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	for (size_t i = 0; i < maildir_npend; i++) {
		if (maildir_pend[i].dev == st.st_dev && maildir_pend[i].ino == st.st_ino) {
			close(fd);
			return 0;
		}
	}
	if (maildir_npend == MAILDIR_PENDING_MAX)
		return maildir_sync_fd(fd);
	maildir_pend[maildir_npend].fd = fd;
	maildir_pend[maildir_npend].dev = st.st_dev;
	maildir_pend[maildir_npend].ino = st.st_ino;
	maildir_pend[maildir_npend].dir = xstrdup(dir);
	maildir_npend++;
	return 0;
}

unsigned long maildir_pending_added(void)
{
	return maildir_nadded;
}

int maildir_sync_pending(void)
{
	int r = 0, err = 0;

	for (size_t i = 0; i < maildir_npend; i++) {
		if (maildir_sync_fd(maildir_pend[i].fd) < 0 && r == 0) {
			r = -1;
			err = errno;
		}
		free(maildir_pend[i].dir);
	}
	maildir_npend = 0;
	errno = err;
	return r;
}

/* Writes, syncs and closes the tmp file; on failure says which step failed. */
static int maildir_write(int fd, const struct local_msg *m, const char *rcpt, const char **what)
{
	int r = local_copy_message(fd, m, rcpt, false);

	*what = "write maildir file";
	if (r == 0 && (r = fsync(fd)) < 0)
		*what = "fsync maildir file";
	if (close(fd) < 0 && r == 0) {
		*what = "close maildir file";
		r = -1;
	}
	return r;
}

int maildir_deliver(
    const struct local_msg *m, const char *rcpt, const char *dir, struct local_result *r)
{
	struct buf tmp = BUF_INIT, new_ = BUF_INIT;
	const char *what = "create maildir file";
	int fd = -1, rc = maildir_create(dir, &fd, &tmp, &new_);
	bool made = false;

	if (rc < 0 && errno == ENOENT) {
		what = "create maildir";
		made = true;
		if ((rc = maildir_dirs(dir)) == 0 &&
		    (rc = maildir_create(dir, &fd, &tmp, &new_)) < 0)
			what = "create maildir file";
	}
	if (rc == 0)
		rc = maildir_write(fd, m, rcpt, &what);
	if (rc == 0 && (rc = rename(buf_cstr(&tmp), buf_cstr(&new_))) < 0) {
		what = "rename maildir file";
		if (errno == ENOENT && maildir_dirs(dir) == 0) {
			made = true;
			rc = rename(buf_cstr(&tmp), buf_cstr(&new_));
		}
	}
	if (rc == 0 && (rc = maildir_sync_later(dir, made)) < 0)
		what = "fsync maildir new/";
	if (rc < 0) {
		int err = errno;

		if (tmp.len > 0)
			unlink(buf_cstr(&tmp));
		local_result_errno(r, err, what);
	} else {
		local_result_set(r, RES_SENT, "2.0.0", "delivered to maildir");
	}
	buf_free(&tmp);
	buf_free(&new_);
	return rc;
}
