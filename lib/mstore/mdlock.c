/*
 * mdlock.c - Dovecot-compatible dot-locks (see mdlock.h).
 *
 * Overriding a lock: between deciding a lock is stale and unlinking it,
 * another process may have replaced it with a fresh one; so the lock is
 * looked at again right before the unlink and only removed when it is
 * still the same inode with the same mtime.  (A race remains in that
 * window, as in Dovecot; both sides then notice at release time, when
 * the inode is no longer theirs.)
 */
#include "mstore/mdlock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static const char *mdlock_host(void)
{
	static char host[256];

	if (host[0] == 0 && (gethostname(host, sizeof(host) - 1) < 0 || host[0] == 0))
		strlcpy(host, "localhost", sizeof(host));
	return host;
}

static pid_t mdlock_pid_cached;

static void mdlock_pid_reset(void)
{
	mdlock_pid_cached = 0;
}

/* getpid() once per process (a fork forgets it). */
static pid_t mdlock_pid(void)
{
	static bool hooked;

	if (!hooked) {
		pthread_atfork(NULL, NULL, mdlock_pid_reset);
		hooked = true;
	}
	if (mdlock_pid_cached == 0)
		mdlock_pid_cached = getpid();
	return mdlock_pid_cached;
}

static int64_t mdlock_change_time(const struct stat *st)
{
	int64_t m = st->st_mtim.tv_sec, c = st->st_ctim.tv_sec;

	return m > c ? m : c;
}

/* The pid in the lock when it names a process of this host, else -1. */
static pid_t mdlock_read_pid(int dirfd, const char *lock_path)
{
	char buf[300], *colon;
	int fd = openat(dirfd, lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	long pid;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if ((colon = strchr(buf, ':')) == NULL)
		return -1;
	*colon = 0;
	if (strcmp(colon + 1, mdlock_host()) != 0 || !parse_long(buf, 1, 0x7fffffff, &pid))
		return -1;
	return (pid_t)pid;
}

/* Removes the lock if it is still the one we judged stale. */
static void mdlock_override(int dirfd, const char *lock_path, const struct stat *judged)
{
	struct stat now;

	if (fstatat(dirfd, lock_path, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    now.st_ino == judged->st_ino && now.st_dev == judged->st_dev &&
	    now.st_mtim.tv_sec == judged->st_mtim.tv_sec &&
	    now.st_mtim.tv_nsec == judged->st_mtim.tv_nsec)
		unlinkat(dirfd, lock_path, 0);
}

/* 1 when the existing lock is stale (and was removed), 0 when it is
 * held, -1 on errors other than its disappearance. */
static int mdlock_check(int dirfd, const struct mdlock *l, int stale_secs)
{
	struct stat lst, fst;
	pid_t pid;
	int64_t last;

	if (fstatat(dirfd, l->lock_path, &lst, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 1 : -1;
	pid = mdlock_read_pid(dirfd, l->lock_path);
	if (pid > 0 && pid != mdlock_pid() && kill(pid, 0) < 0 && errno == ESRCH) {
		mdlock_override(dirfd, l->lock_path, &lst);
		return 1;
	}
	if (pid > 0 && pid != mdlock_pid())
		return 0; /* its process lives */
	last = mdlock_change_time(&lst);
	if (fstatat(dirfd, l->path, &fst, 0) == 0 && mdlock_change_time(&fst) > last)
		last = mdlock_change_time(&fst);
	if ((int64_t)time(NULL) - last > stale_secs) {
		mdlock_override(dirfd, l->lock_path, &lst);
		return 1;
	}
	return 0;
}

/* Makes the template: a file in tmpl_dirfd holding "<pid>:<host>". */
static int mdlock_template_make(int tmpl_dirfd, struct mdlock_template *t)
{
	char name[400], content[320];
	struct stat st;
	int fd, n;

	mdlock_template_free(t, tmpl_dirfd);
	snprintf(name, sizeof(name), "%lld.tern-lock.P%ld.%s", (long long)time(NULL),
	    (long)mdlock_pid(), mdlock_host());
	for (char *c = name; *c; c++)
		if (*c == '/' || *c == ':')
			*c = '_';
	fd = openat(tmpl_dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	n = snprintf(content, sizeof(content), "%ld:%s", (long)mdlock_pid(), mdlock_host());
	if (write(fd, content, (size_t)n) != n || fstat(fd, &st) < 0) {
		int err = errno ? errno : EIO;

		close(fd);
		unlinkat(tmpl_dirfd, name, 0);
		errno = err;
		return -1;
	}
	close(fd);
	t->name = xstrdup(name);
	t->ino = st.st_ino;
	t->pid = mdlock_pid();
	return 0;
}

void mdlock_template_free(struct mdlock_template *t, int tmpl_dirfd)
{
	if (t->name && t->pid == mdlock_pid() && tmpl_dirfd >= 0)
		unlinkat(tmpl_dirfd, t->name, 0);
	free(t->name);
	t->name = NULL;
	t->ino = 0;
	t->pid = 0;
}

static void mdlock_clear(struct mdlock *l)
{
	if (l->fd >= 0)
		close(l->fd);
	free(l->lock_path);
	free(l->path);
	l->fd = -1;
	l->lock_path = l->path = NULL;
}

/* One attempt through the template; 0, or -1 with errno (EEXIST: held). */
static int mdlock_link(struct mdlock *l, int dirfd, int tmpl_dirfd, struct mdlock_template *t)
{
	for (int tries = 0; tries < 2; tries++) {
		if ((t->name == NULL || t->pid != mdlock_pid()) &&
		    mdlock_template_make(tmpl_dirfd, t) < 0)
			return -1;
		if (linkat(tmpl_dirfd, t->name, dirfd, l->lock_path, 0) == 0) {
			/* held; no descriptor is kept (-2 marks it) */
			l->fd = -2;
			l->ino = t->ino;
			l->dev = 0;
			return 0;
		}
		if (errno != ENOENT)
			return -1;
		/* the template was removed (old tmp/ files are): again */
		free(t->name);
		t->name = NULL;
	}
	return -1;
}

static int mdlock_wait(struct mdlock *l, int dirfd, int stale_secs, int timeout_secs,
    int tmpl_dirfd, struct mdlock_template *tmpl)
{
	long long deadline = mono_msec() + (long long)timeout_secs * 1000;

	for (unsigned tries = 0;; tries++) {
		int r = mdlock_link(l, dirfd, tmpl_dirfd, tmpl);

		if (r == 0)
			return 0;
		if (errno != EEXIST)
			break;
		if ((r = mdlock_check(dirfd, l, stale_secs)) < 0)
			break;
		if (r == 1)
			continue; /* gone or removed: try again at once */
		if (mono_msec() >= deadline || tries > 100000) {
			errno = EAGAIN;
			break;
		}
		struct timespec ts = {0, (10 + arc4random_uniform(10)) * 1000000L};

		nanosleep(&ts, NULL);
	}
	int err = errno;

	mdlock_clear(l);
	errno = err;
	return -1;
}

int mdlock_take(struct mdlock *l, int dirfd, const char *path, int stale_secs, int timeout_secs)
{
	struct mdlock_template t = {0};
	int r, err;

	l->fd = -1;
	l->path = xstrdup(path);
	l->lock_path = xasprintf("%s.lock", path);
	r = mdlock_wait(l, dirfd, stale_secs, timeout_secs, dirfd, &t);
	err = errno;
	mdlock_template_free(&t, dirfd);
	errno = err;
	return r;
}

int mdlock_take_linked(struct mdlock *l, int dirfd, const char *path, int stale_secs,
    int timeout_secs, int tmpl_dirfd, struct mdlock_template *tmpl)
{
	l->fd = -1;
	l->path = xstrdup(path);
	l->lock_path = xasprintf("%s.lock", path);
	return mdlock_wait(l, dirfd, stale_secs, timeout_secs, tmpl_dirfd, tmpl);
}

static bool mdlock_ours(const struct mdlock *l, int dirfd)
{
	struct stat st;

	return fstatat(dirfd, l->lock_path, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == l->ino &&
	       (l->dev == 0 || st.st_dev == l->dev);
}

int mdlock_release(struct mdlock *l, int dirfd)
{
	int r = 0;

	if (l->fd == -1)
		return 0;
	if (!mdlock_ours(l, dirfd)) {
		errno = EEXIST;
		r = -1;
	} else if (unlinkat(dirfd, l->lock_path, 0) < 0 && errno != ENOENT) {
		r = -1;
	}
	int err = errno;

	mdlock_clear(l);
	errno = err;
	return r;
}

int mdlock_replace(
    struct mdlock *l, int dirfd, const void *data, size_t len, mode_t mode, int64_t newer_than_ns)
{
	char *tmp;
	struct stat st;
	int fd, r = -1, err;

	if (l->fd == -1) {
		errno = EINVAL;
		return -1;
	}
	if (!mdlock_ours(l, dirfd)) {
		err = EEXIST;
		mdlock_clear(l);
		errno = err;
		return -1;
	}
	tmp = xasprintf("%s.new", l->lock_path);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	err = fd < 0 ? errno : 0;
	if (fd >= 0) {
		ssize_t n = write(fd, data, len);

		if (fchmod(fd, mode) < 0 || n != (ssize_t)len || fstat(fd, &st) < 0)
			err =
			    n >= 0 && n != (ssize_t)len ? EIO : errno; /* a short write sets none */
		else if (newer_than_ns > 0 &&
			 (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec <=
			     newer_than_ns) {
			struct timespec ts[2] = {
			    {0, UTIME_NOW}, {(time_t)(newer_than_ns / 1000000000) + 1, 0}};

			if (futimens(fd, ts) < 0)
				err = errno;
		}
		if (err == 0 && fsync(fd) < 0)
			err = errno;
		close(fd);
	}
	if (err == 0 && renameat(dirfd, tmp, dirfd, l->path) < 0)
		err = errno;
	if (err != 0 && fd >= 0)
		unlinkat(dirfd, tmp, 0); /* nothing of it stays */
	else if (err == 0 && fsync(dirfd) < 0)
		err = errno;
	r = err ? -1 : 0;
	free(tmp);
	mdlock_release(l, dirfd);
	errno = err;
	return r;
}

bool mdlock_held(const struct mdlock *l)
{
	return l->fd != -1;
}
