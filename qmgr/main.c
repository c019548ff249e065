/*
 * main.c - qmgr, the queue manager: main.cf values and the event loop.
 *
 * master runs exactly one qmgr, as mail_owner, in queue_directory, with
 * private/qmgr on descriptor 3.  Start-up recovers what a previous qmgr
 * left behind (scan.c), then everything happens in callbacks: cleanup's
 * notifications, periodic scans, retry timers, delivery agents' replies.
 *
 * SIGTERM stops at once: files in active/ stay there and are recovered at
 * the next start.  SIGHUP (reload) stops taking new messages and exits
 * when the ones in memory are finished; master starts a fresh qmgr.
 */
#include <stdlib.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "qmgr.h"

/* A limit below 1 would stop all delivery: treat it as 1. */
static size_t qmgr_limit(const char *name)
{
	long v = config_int(name);

	if (v < 1) {
		log_warn("%s = %ld is too small, using 1", name, v);
		v = 1;
	}
	return (size_t)v;
}

static long qmgr_seconds(const char *name, long min)
{
	long v = config_time(name);

	return v < min ? min : v;
}

static void qmgr_config_load(struct qmgr_config *cf)
{
	cf->active_limit = qmgr_limit("qmgr_message_active_limit");
	cf->rcpt_mem_limit = qmgr_limit("qmgr_message_recipient_limit");
	cf->conc_limit = qmgr_limit("default_destination_concurrency_limit");
	cf->rcpt_limit = qmgr_limit("default_destination_recipient_limit");
	cf->ipc_timeout = qmgr_seconds("ipc_timeout", 1);
	cf->run_delay = qmgr_seconds("queue_run_delay", 1);
	cf->min_backoff = qmgr_seconds("minimal_backoff_time", 1);
	cf->max_backoff = qmgr_seconds("maximal_backoff_time", 1);
	cf->max_lifetime = qmgr_seconds("maximal_queue_lifetime", 0);
	cf->bounce_lifetime = qmgr_seconds("bounce_queue_lifetime", 0);
	cf->delay_warning = qmgr_seconds("delay_warning_time", 0);
	cf->soft_bounce = config_bool("soft_bounce");
	cf->initial_conc = qmgr_limit("initial_destination_concurrency");
	cf->process_limit = qmgr_limit("default_process_limit");
	cf->dead_time = qmgr_seconds("dead_destination_time", 1);
}

/* After SIGHUP: take nothing new, report idle once all is finished. */
static bool qmgr_idle(void *ctx)
{
	struct qmgr *q = ctx;

	q->draining = true;
	return q->active == 0;
}

int main(int argc, char **argv)
{
	struct daemon d;
	struct qmgr q = {0};

	daemon_init(&d, argc, argv, "qmgr", 0);
	qmgr_config_load(&q.cf);
	q.loop = event_loop_new();
	qset_init(&q.known);
	qset_init(&q.warned);
	sched_heap_init(&q.heap);
	daemon_event_server(&d, q.loop, notify_accept, qmgr_idle, &q);
	scan_start(&q);
	if (event_loop_run(q.loop) < 0)
		log_fatal("event loop failed");
	return 0;
}
