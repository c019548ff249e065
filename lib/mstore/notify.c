/*
 * notify.c - waking sessions when a folder changes, with inotify: one
 * instance per store (per process), watches on each watched folder's
 * new/, cur/, its directory (dovecot-uidlist and the log are replaced by
 * rename) and tern.index.log (every tern change is a log write).  The
 * caller puts mstore_notify_fd() in its event loop and, when it is
 * readable, calls mstore_notify_read(), then syncs the views named.
 *
 * inotify instances are limited per user (fs.inotify.max_user_instances,
 * 128 by default); when none can be had the caller polls
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

int mstore_notify_fd(struct mstore *s)
{
	if (s->notify_fd < 0)
		s->notify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return s->notify_fd;
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
		f->wd[i] = inotify_add_watch(s->notify_fd, p, mask[i]);
		free(p);
		if (f->wd[i] < 0 && i < 3)
			return ms_fail_errno(s, "inotify", f->path);
	}
	return 0;
}

void mn_unwatch(struct mstore_folder *f)
{
	for (int i = 0; i < 4; i++) {
		if (f->wd[i] >= 0 && f->store->notify_fd >= 0)
			inotify_rm_watch(f->store->notify_fd, f->wd[i]);
		f->wd[i] = -1;
	}
}

static struct mstore_folder *mn_folder(struct mstore *s, int wd)
{
	for (struct mstore_folder *f = s->folders; f; f = f->next)
		for (int i = 0; i < 4; i++)
			if (f->wd[i] == wd)
				return f;
	return NULL;
}

void mstore_notify_read(
    struct mstore *s, void (*changed)(void *ctx, struct mstore_view *v), void *ctx)
{
	char events[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct mstore_folder *hit[64];
	size_t nhit = 0;
	ssize_t n;

	if (s->notify_fd < 0)
		return;
	while ((n = read(s->notify_fd, events, sizeof(events))) > 0) {
		for (char *p = events; p < events + n;) {
			struct inotify_event *ev = (struct inotify_event *)(void *)p;
			struct mstore_folder *f = mn_folder(s, ev->wd);
			bool dup = false;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* events were lost: every watched folder may have
				 * changed */
				for (struct mstore_folder *g = s->folders; g; g = g->next)
					if (g->wd[0] >= 0 && nhit < sizeof(hit) / sizeof(hit[0]))
						hit[nhit++] = g;
				continue;
			}
			if (f == NULL)
				continue;
			/* The log's replacement needs a new watch on it. */
			if (ev->wd == f->wd[2] && ev->len && strcmp(ev->name, IX_LOG_NAME) == 0 &&
			    f->wd[3] >= 0) {
				char *lp = xasprintf("%s/%s", f->path, IX_LOG_NAME);

				inotify_rm_watch(s->notify_fd, f->wd[3]);
				f->wd[3] = inotify_add_watch(s->notify_fd, lp, IN_MODIFY);
				free(lp);
			}
			for (size_t i = 0; i < nhit; i++)
				dup |= hit[i] == f;
			if (!dup && nhit < sizeof(hit) / sizeof(hit[0]))
				hit[nhit++] = f;
		}
	}
	for (size_t i = 0; i < nhit; i++)
		for (struct mstore_view *v = hit[i]->views; v; v = v->next)
			if (v->notify)
				changed(ctx, v);
}
