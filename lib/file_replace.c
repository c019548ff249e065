/*
 * file_replace.c - atomic replacement of a small text file (file_replace.h).
 */
#include "file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int file_read_all(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int saved;

	if (fd < 0)
		return -1;
	do {
		buf_reserve(out, 8192);
		n = read(fd, buf_tail(out), 8192);
		if (n > 0)
			buf_commit(out, (size_t)n);
	} while (n > 0 || (n < 0 && errno == EINTR));
	saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}

static int fr_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory entry is durable only once the directory is synced. */
static void fr_sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int file_replace(const char *path, const void *data, size_t len, mode_t new_mode, struct buf *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	struct stat st;
	bool old = stat(path, &st) == 0;
	int fd =
	    open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, old ? st.st_mode & 07777 : new_mode);
	const char *what = "create";

	if (fd < 0)
		goto fail;
	what = "set the owner and mode of";
	if (old && ((geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0) ||
		       fchmod(fd, st.st_mode & 07777) < 0))
		goto fail;
	what = "write";
	if (fr_write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	what = "rename";
	if (rename(tmp, path) < 0)
		goto fail;
	fr_sync_dir(path);
	free(tmp);
	return 0;
fail:
	buf_printf(err, "cannot %s %s: %s", what, strcmp(what, "rename") == 0 ? path : tmp,
	    strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}
