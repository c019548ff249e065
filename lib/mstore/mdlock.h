/*
 * mdlock.h - dot-locks with Dovecot's semantics (its file-dotlock.c), for
 * dovecot-uidlist.lock, dovecot-keywords.lock and subscriptions.lock.
 *
 * The lock of "path" is "path.lock", created with O_CREAT|O_EXCL and
 * holding "<pid>:<host name>".  A lock is stale, and removed, when
 *  - its pid is on this host and no such process exists, or
 *  - neither the lock nor the file it protects changed (mtime, ctime,
 *    size, inode) for stale_secs;
 * a lock still held after timeout_secs is a temporary failure.  While
 * waiting, mstore polls every 10-20 ms (Dovecot waits 0.1-0.2 s or for an
 * inotify event; tern's own processes queue on tern.lock first, so the
 * only waits here are for Dovecot or for a crashed process).
 *
 * A lock file holds its owner from the moment it has a name: it is made
 * by link()ing a file that already holds "<pid>:<host>", never created
 * empty and written after, so a process killed at any point leaves a lock
 * that the dead-pid rule removes at once.  For the same reason a lock is
 * never turned into the new version of the file it guards (Dovecot
 * writes dovecot-keywords and subscriptions into the lock and renames
 * it): mdlock_replace() writes the new bytes to "<path>.lock.new" and
 * renames that over path, and only then releases the lock.
 */
#ifndef TERN_MSTORE_MDLOCK_H
#define TERN_MSTORE_MDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mdlock {
	int fd; /* -2 while held (no descriptor is kept), -1 when not */
	char *lock_path;
	char *path;
	dev_t dev;
	ino_t ino;
};

/* Dovecot's timeouts for dovecot-uidlist.lock (and dovecot-keywords). */
#define MDLOCK_UIDLIST_STALE 120
#define MDLOCK_UIDLIST_TIMEOUT 122
/* ... and for subscriptions.lock. */
#define MDLOCK_SUBS_STALE 30
#define MDLOCK_SUBS_TIMEOUT 120

/*
 * Takes the lock of path (dirfd: the directory path is relative to, or
 * AT_FDCWD).  0 with l filled; -1 with errno set: EAGAIN when it is still
 * held after timeout_secs (0: try once), others from the file system.
 * The lock is linked from a file made for the call in dirfd.
 */
int mdlock_take(struct mdlock *l, int dirfd, const char *path, int stale_secs, int timeout_secs);
/*
 * The same, but the lock is made by link()ing a file holding our
 * "<pid>:<host>" (*tmpl, made in tmpl_dirfd on first use and kept) to
 * the lock's name: link() fails when the name exists, as O_EXCL does,
 * and no inode is created and freed per lock (file systems pay for that:
 * ext4 scans past recently freed inodes when it allocates).  The template
 * is a file like any left in a Maildir's tmp/; mdlock_template_free()
 * removes it.
 */
struct mdlock_template {
	char *name;
	ino_t ino;
	pid_t pid;
};
int mdlock_take_linked(struct mdlock *l, int dirfd, const char *path, int stale_secs,
    int timeout_secs, int tmpl_dirfd, struct mdlock_template *tmpl);
void mdlock_template_free(struct mdlock_template *tmpl, int tmpl_dirfd);

/* Unlinks the lock if it is still ours.  0, or -1 with errno set
 * (EEXIST: someone overrode it meanwhile). */
int mdlock_release(struct mdlock *l, int dirfd);
/*
 * Replaces path with len bytes of data (mode: the new file's), the lock
 * held: written to "<path>.lock.new", synced, its mtime moved past
 * newer_than_ns when it is not later (readers compare mtimes; 0: no
 * such rule), renamed over path, the directory synced.  Then the lock is
 * released.  0, or -1 with errno set; the lock is gone either way.
 */
int mdlock_replace(
    struct mdlock *l, int dirfd, const void *data, size_t len, mode_t mode, int64_t newer_than_ns);
bool mdlock_held(const struct mdlock *l);

#endif
