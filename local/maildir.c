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
#include <string.h>
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
	char host[256] = "localhost";
	struct timeval tv;

	gettimeofday(&tv, NULL);
	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == 0)
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

static int maildir_sync_new(const char *dir)
{
	struct buf p = BUF_INIT;
	int fd, r;

	buf_printf(&p, "%s/new", dir);
	fd = open(buf_cstr(&p), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fd < 0 ? -1 : fsync(fd);
	if (fd >= 0)
		close(fd);
	buf_free(&p);
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
	const char *what = "create maildir";
	int fd = -1, rc = maildir_dirs(dir);

	if (rc == 0 && (rc = maildir_create(dir, &fd, &tmp, &new_)) < 0)
		what = "create maildir file";
	if (rc == 0)
		rc = maildir_write(fd, m, rcpt, &what);
	if (rc == 0 && (rc = rename(buf_cstr(&tmp), buf_cstr(&new_))) < 0)
		what = "rename maildir file";
	if (rc == 0 && (rc = maildir_sync_new(dir)) < 0)
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
