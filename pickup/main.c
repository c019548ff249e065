/*
 * main.c - the pickup daemon: moves local submissions from maildrop/ to
 * cleanup.
 *
 * postdrop wakes it through the public socket public/pickup (any
 * connection is a wake-up; nothing is read from it).  It also scans
 * maildrop/ at start-up and every "wakeup" seconds of its master.cf entry
 * (default 60), which finds what arrived while it was down and retries
 * files cleanup could not take.  master runs one process (maxproc 1) as
 * mail_owner; the scans are synchronous, one file after another (file.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "event.h"
#include "log.h"
#include "mastercf.h"
#include "pickup.h"
#include "queue.h"
#include "util.h"

#define PICKUP_DEFAULT_WAKEUP 60

struct pickup {
	int dirfd;
	long wakeup_ms;
	struct event_timer *soon; /* a scan asked for by a wake-up */
};

/* One pass over maildrop/; files that fail stay for the next pass. */
static void pickup_scan(struct pickup *p)
{
	int fd = dup(p->dirfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (dir == NULL) {
		log_error("scan %s: %s", QUEUE_MAILDROP, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* ".", "..", and postdrop's unfinished files */
		if (pickup_file(p->dirfd, de->d_name) == PICKUP_RETRY)
			log_debug("%s: left in %s for the next scan", de->d_name, QUEUE_MAILDROP);
	}
	closedir(dir);
}

static void pickup_on_soon(struct event_loop *loop, void *ctx)
{
	struct pickup *p = ctx;

	(void)loop;
	p->soon = NULL;
	pickup_scan(p);
}

static void pickup_on_timer(struct event_loop *loop, void *ctx)
{
	struct pickup *p = ctx;

	pickup_scan(p);
	event_timer_add(loop, p->wakeup_ms, pickup_on_timer, p);
}

/* A wake-up: coalesce a burst of them into one scan. */
static void pickup_accept(struct event_loop *loop, int fd, void *ctx)
{
	struct pickup *p = ctx;

	close(fd);
	if (p->soon == NULL)
		p->soon = event_timer_add(loop, 0, pickup_on_soon, p);
}

static bool pickup_idle(void *ctx)
{
	(void)ctx;
	return true; /* scans run to completion inside one callback */
}

/* The wakeup column of our own master.cf entry. */
static long pickup_wakeup(const char *service)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	struct master_cf cf;
	long secs = PICKUP_DEFAULT_WAKEUP;

	buf_printf(&path, "%s/master.cf", config_dir());
	if (mastercf_load(path.data, &cf, &err) == 0) {
		for (size_t i = 0; i < cf.count; i++)
			if (cf.services[i].type == SERVICE_UNIX &&
			    strcmp(cf.services[i].name, service) == 0 && cf.services[i].wakeup > 0)
				secs = cf.services[i].wakeup;
		mastercf_free(&cf);
	}
	buf_free(&path);
	buf_free(&err);
	return secs;
}

int main(int argc, char **argv)
{
	struct daemon d;
	struct event_loop *loop;
	struct pickup p = {0};

	daemon_init(&d, argc, argv, "pickup", 0);
	p.dirfd = open(QUEUE_MAILDROP, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p.dirfd < 0)
		log_fatal("open %s: %s", QUEUE_MAILDROP, strerror(errno));
	p.wakeup_ms = pickup_wakeup(d.service) * 1000;
	loop = event_loop_new();
	daemon_event_server(&d, loop, pickup_accept, pickup_idle, &p);
	/* What waited while we were down goes first. */
	p.soon = event_timer_add(loop, 0, pickup_on_soon, &p);
	event_timer_add(loop, p.wakeup_ms, pickup_on_timer, &p);
	if (event_loop_run(loop) < 0)
		log_fatal("event loop failed");
	event_loop_free(loop);
	return 0;
}
