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
 * A lock can be released (unlinked, only if it is still ours: same
 * inode) or used as the new version of the file: the content is written
 * into the lock file and mdlock_replace() renames it over path, the way
 * Dovecot replaces dovecot-keywords and subscriptions.
 */
#ifndef TERN_MSTORE_MDLOCK_H
#define TERN_MSTORE_MDLOCK_H

#include <stdbool.h>
#include <sys/types.h>

struct mdlock {
	int fd; /* the lock file, open for writing; -1 when not held */
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
 * mode is the lock file's mode (it may become the file).
 */
int mdlock_take(
    struct mdlock *l, int dirfd, const char *path, int stale_secs, int timeout_secs, mode_t mode);
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
/* Renames the lock file over path (its new content is already written
 * and synced by the caller).  0, or -1 with errno set; the lock is gone
 * either way. */
int mdlock_replace(struct mdlock *l, int dirfd);
bool mdlock_held(const struct mdlock *l);

#endif
