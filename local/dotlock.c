/*
 * dotlock.c - the "mailbox.lock" convention that mail readers (mutt,
 * mailx, procmail, Dovecot) honour next to fcntl locks.
 *
 * The lock is a file created with O_CREAT|O_EXCL next to the mailbox:
 * whoever creates it holds the lock.  A lock left by a crashed program
 * would block the mailbox forever, so a lock file older than
 * stale_lock_time is removed (and creation retried); the age is the lock
 * file's mtime, as every other dot-locking program judges it.  Attempts
 * are bounded by deliver_lock_attempts with deliver_lock_delay between
 * them, after which the caller defers.
 *
 * The caller decides the identity: in a sticky or group-writable spool
 * directory such as Debian's /var/mail (root:mail 2775) only root or the
 * mail group may create the lock, so local takes it as root there, as
 * Postfix does; in a home directory it takes it as the user.
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

/* Removes the lock when it is older than the stale limit. */
static void dotlock_break_stale(const char *lock)
{
	struct stat st;

	if (lstat(lock, &st) < 0)
		return;
	if (time(NULL) - st.st_mtime <= config_time("stale_lock_time"))
		return;
	if (unlink(lock) == 0)
		log_warn("removed stale lock file %s", lock);
}

char *dotlock_acquire(const char *path)
{
	char *lock = xasprintf("%s.lock", path);
	long tries = config_int("deliver_lock_attempts");
	struct timespec pause = {config_time("deliver_lock_delay"), 0};

	if (tries < 1)
		tries = 1;
	for (long i = 0; i < tries; i++) {
		int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd >= 0) {
			close(fd);
			return lock;
		}
		if (errno != EEXIST)
			break;
		dotlock_break_stale(lock);
		if (i + 1 < tries)
			nanosleep(&pause, NULL);
		errno = EAGAIN;
	}
	free(lock);
	return NULL;
}

void dotlock_release(char *lock)
{
	if (lock == NULL)
		return;
	if (unlink(lock) < 0 && errno != ENOENT)
		log_warn("cannot remove lock file %s: %s", lock, strerror(errno));
	free(lock);
}
