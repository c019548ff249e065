/*
 * notify.c - waking sessions when a folder changes, with inotify: one
 * instance per process, shared by every store of the process, with
 * watches on each watched folder's new/, cur/, its directory
 * (dovecot-uidlist and the log are replaced by rename) and
 * tern.index.log (every tern change is a log write).  The caller puts
 * mstore_notify_fd() in its event loop once and, when it is readable,
 * calls mstore_notify_read() for each store it holds, then syncs the
 * views named.
 *
 * One instance a process, not one a store: instances are limited per
 * user (fs.inotify.max_user_instances, 128 by default), and an imap
 * process holds a store per session, a hundred or more.  Two stores
 * watching one folder get the same watch descriptor from the kernel, so
 * the descriptors are counted and a watch is removed with its last user.
 * The events are read once, into a flag on every folder of every store
 * that has their descriptor; each store's mstore_notify_read() then
 * reports its own.  When no instance can be had the caller polls
 * mstore_view_changed() instead (the fd is -1).
 */
#include "mstore/mstore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "util.h"

/* The process's instance, its watch descriptors with their users, and
 * the stores that use it. */
static int mn_fd = -1;
static struct mn_ref {
	int wd;
	unsigned refs;
} * mn_refs;
static size_t mn_nrefs;
static struct mstore **mn_stores;
static size_t mn_nstores;

int mstore_notify_fd(struct mstore *s)
{
	if (mn_fd < 0)
		mn_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (mn_fd >= 0 && s->notify_fd < 0) {
		s->notify_fd = mn_fd;
		mn_stores = xreallocarray(mn_stores, mn_nstores + 1, sizeof(*mn_stores));
		mn_stores[mn_nstores++] = s;
	}
	return s->notify_fd;
}

/* At mstore_close (its folders unwatched already). */
void mn_store_gone(struct mstore *s)
{
	for (size_t i = 0; i < mn_nstores; i++)
		if (mn_stores[i] == s) {
			mn_stores[i] = mn_stores[--mn_nstores];
			break;
		}
	s->notify_fd = -1;
}

static int mn_watch(const char *path, uint32_t mask)
{
	int wd = inotify_add_watch(mn_fd, path, mask);

	if (wd < 0)
		return -1;
	for (size_t i = 0; i < mn_nrefs; i++)
		if (mn_refs[i].wd == wd) {
			mn_refs[i].refs++;
			return wd;
		}
	mn_refs = xreallocarray(mn_refs, mn_nrefs + 1, sizeof(*mn_refs));
	mn_refs[mn_nrefs++] = (struct mn_ref){wd, 1};
	return wd;
}

static void mn_release(int wd)
{
	for (size_t i = 0; i < mn_nrefs; i++)
		if (mn_refs[i].wd == wd) {
			if (--mn_refs[i].refs == 0) {
				inotify_rm_watch(mn_fd, wd);
				mn_refs[i] = mn_refs[--mn_nrefs];
			}
			return;
		}
}

int mstore_notify_add(struct mstore_view *v)
{
	struct mstore_folder *f = v->f;
	struct mstore *s = f->store;
	static const char *const sub[] = {"new", "cur", "", IX_LOG_NAME};
	static const uint32_t mask[] = {
	    IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE,
	    IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE,
	    IN_CREATE | IN_MOVED_TO,
	    IN_MODIFY,
	};

	if (mstore_notify_fd(s) < 0)
		return ms_fail_errno(s, "inotify", "init");
	v->notify = true;
	for (int i = 0; i < 4; i++) {
		char *p;

		if (f->wd[i] >= 0)
			continue;
		p = *sub[i] ? xasprintf("%s/%s", f->path, sub[i]) : xstrdup(f->path);
		f->wd[i] = mn_watch(p, mask[i]);
		free(p);
		if (f->wd[i] < 0 && i < 3)
			return ms_fail_errno(s, "inotify", f->path);
	}
	return 0;
}

void mn_unwatch(struct mstore_folder *f)
{
	for (int i = 0; i < 4; i++) {
		if (f->wd[i] >= 0 && mn_fd >= 0)
			mn_release(f->wd[i]);
		f->wd[i] = -1;
	}
	f->notify_hit = false;
}

/* An event of descriptor wd: every folder watching it, in every store. */
static void mn_hit(int wd, const char *name, bool overflow)
{
	for (size_t k = 0; k < mn_nstores; k++)
		for (struct mstore_folder *f = mn_stores[k]->folders; f; f = f->next) {
			if (overflow) {
				/* events were lost: every watched folder may
				 * have changed */
				f->notify_hit |= f->wd[0] >= 0;
				continue;
			}
			if (f->wd[0] != wd && f->wd[1] != wd && f->wd[2] != wd && f->wd[3] != wd)
				continue;
			f->notify_hit = true;
			/* The log's replacement needs a new watch on it. */
			if (wd == f->wd[2] && name && strcmp(name, IX_LOG_NAME) == 0 &&
			    f->wd[3] >= 0) {
				char *lp = xasprintf("%s/%s", f->path, IX_LOG_NAME);

				mn_release(f->wd[3]);
				f->wd[3] = mn_watch(lp, IN_MODIFY);
				free(lp);
			}
		}
}

void mstore_notify_read(
    struct mstore *s, void (*changed)(void *ctx, struct mstore_view *v), void *ctx)
{
	char events[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	if (s->notify_fd < 0)
		return;
	while ((n = read(mn_fd, events, sizeof(events))) > 0) {
		for (char *p = events; p < events + n;) {
			struct inotify_event *ev = (struct inotify_event *)(void *)p;

			p += sizeof(*ev) + ev->len;
			mn_hit(ev->wd, ev->len ? ev->name : NULL, (ev->mask & IN_Q_OVERFLOW) != 0);
		}
	}
	for (struct mstore_folder *f = s->folders; f; f = f->next) {
		if (!f->notify_hit)
			continue;
		f->notify_hit = false;
		for (struct mstore_view *v = f->views; v; v = v->next)
			if (v->notify)
				changed(ctx, v);
	}
}
