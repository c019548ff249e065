/*
 * daemon.c - the common start of every tern daemon, its server loops, and
 * their timers.
 *
 * The order in daemon_init() matters: configuration and the log file are
 * opened while still root (the log descriptor survives the switch), then
 * privileges are dropped, and only then does the caller touch the network
 * or the queue.  A daemon that cannot drop privileges does not run.
 *
 * Timers are one list per process, served by whichever loop the daemon
 * runs: an event server arms one event-loop timer for the earliest of
 * them, a blocking server bounds its wait for the next client by it.
 * Either way daemon_timers_run() calls what is due, so both kinds of
 * server behave alike.
 */
#include "daemon.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "privs.h"
#include "sock.h"
#include "util.h"

static struct daemon *daemon_self;

struct daemon_timer {
	long long due; /* mono_msec() */
	long period;   /* 0: one-shot */
	daemon_timer_fn *fn;
	void *ctx;
	bool ready; /* due in the current round */
	bool dead;  /* ran (one-shot) or cancelled: freed after the round */
	struct daemon_timer *next;
};

static struct {
	struct daemon_timer *list;
	struct event_loop *loop; /* an event server's, once it runs */
	struct event_timer *armed;
	bool running; /* inside daemon_timers_run() */
} daemon_timers;

static void daemon_timers_arm(struct daemon *d);

static void daemon_usage(const char *prog)
{
	log_fatal(
	    "usage: %s -c config_dir [-n service] [-t inet|unix] [-v] [-o name=value]...", prog);
}

/* Logging: stderr when master runs in the foreground, else maillog_file or syslog. */
static void daemon_open_log(const char *prog)
{
	const char *file = config_str("maillog_file");

	log_set_syslog_name(config_str("syslog_name"));
	if (getenv("TERN_LOG_STDERR") != NULL && *file) {
		log_open(prog, LOG_DEST_FILE, file); /* "make run": file and terminal */
		log_also_stderr(LOG_DEBUG);
	} else if (getenv("TERN_LOG_STDERR") != NULL)
		log_open(prog, LOG_DEST_STDERR, NULL);
	else
		log_open_maillog(prog, file);
}

static void daemon_parse_args(struct daemon *d, int argc, char **argv, const char **confdir)
{
	int c, verbose = 0;
	char **overrides = xcalloc((size_t)argc + 1, sizeof(char *));
	int nover = 0;

	d->service = d->prog;
	d->type = SERVICE_UNIX;
	opterr = 0;
	while ((c = getopt(argc, argv, "+c:n:t:o:v")) != -1) {
		switch (c) {
		case 'c': *confdir = optarg; break;
		case 'n': d->service = optarg; break;
		case 't':
			d->type = strcmp(optarg, "inet") == 0 ? SERVICE_INET : SERVICE_UNIX;
			break;
		case 'o': overrides[nover++] = optarg; break;
		case 'v': verbose++; break;
		default: daemon_usage(d->prog);
		}
	}
	/* "+": the options end at the first other word, so master.cf
	 * arguments such as pipe's "argv=/usr/bin/maildrop -d ${user}" keep
	 * their own options (as Postfix's daemons parse them). */
	d->args = argv + optind;
	log_set_verbose(verbose);
	/* Overrides are applied after main.cf is read; config keeps them. */
	for (int i = 0; i < nover; i++)
		if (config_override(overrides[i]) < 0)
			log_fatal("bad -o argument: %s (need name=value)", overrides[i]);
	free(overrides);
}

static void daemon_signal_flag(int signo)
{
	if (daemon_self == NULL)
		return;
	if (signo == SIGTERM)
		daemon_self->stop = 1;
	else
		daemon_self->reload = 1;
}

void daemon_init(struct daemon *d, int argc, char **argv, const char *prog, int flags)
{
	const char *confdir = NULL;
	struct buf err = BUF_INIT;
	struct stat st;
	pid_t parent = getppid();

	memset(d, 0, sizeof(*d));
	d->prog = prog;
	/*
	 * Keep freed memory instead of giving it back at once: every message
	 * allocates and frees buffers of 64-512 KiB, and glibc's default
	 * (trim the heap top above 128 KiB, mmap blocks from 128 KiB) turned
	 * that into brk/munmap calls with a TLB flush each, a tenth of
	 * cleanup's CPU time.  Blocks from 1 MiB are still mapped, and at
	 * most 1 MiB of free heap stays (W4 measured 4 MiB: 7% more memory
	 * for no speed; 256 KiB mapping: half W4's speed).
	 */
	mallopt(M_TRIM_THRESHOLD, 1 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	d->listen_fd = -1;
	daemon_self = d;
	log_open(prog, getenv("TERN_LOG_STDERR") ? LOG_DEST_STDERR : LOG_DEST_SYSLOG, NULL);
	daemon_parse_args(d, argc, argv, &confdir);
	if (config_load(confdir, false, &err) < 0)
		log_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	config_set("service_name", d->service);
	daemon_open_log(prog);
	daemon_status_open();
	signal(SIGPIPE, SIG_IGN);
	if (!(flags & DAEMON_NO_LISTEN)) {
		if (fstat(DAEMON_LISTEN_FD, &st) < 0 || !S_ISSOCK(st.st_mode))
			log_fatal("no listening socket on descriptor %d: run me from master",
			    DAEMON_LISTEN_FD);
		d->listen_fd = DAEMON_LISTEN_FD;
		sock_cloexec(d->listen_fd, true);
	}
	if (chdir(config_str("queue_directory")) < 0)
		log_fatal("chdir %s: %s", config_str("queue_directory"), strerror(errno));
	if (!(flags & DAEMON_KEEP_ROOT))
		priv_drop(config_str("mail_owner"));
	daemon_parent_watch(parent);
	log_debug("%s started (service %s)", prog, d->service);
}

/* ------------------------------------------------------------ event servers */

struct daemon_event {
	struct daemon *d;
	daemon_accept_fn *fn;
	daemon_idle_fn *idle;
	void *ctx;
	bool accepting;
	struct event_timer *pause_timer; /* out of descriptors: wait */
};

#define DAEMON_ACCEPT_PAUSE_MS 1000

static struct daemon_event daemon_ev;

/* The end of an accept pause: listen again unless told to stop meanwhile. */
static void daemon_accept_unpause(struct event_loop *loop, void *ctx)
{
	struct daemon_event *de = ctx;

	de->pause_timer = NULL;
	if (de->accepting)
		event_fd_events(loop, de->d->listen_fd, EV_READ);
}

/*
 * Out of descriptors or memory: the connection stays in the listen queue,
 * so the level-triggered loop would call us again at once and spin.  Stop
 * watching the socket for a while; another process, or we later, take it.
 */
static void daemon_accept_pause(struct event_loop *loop, struct daemon_event *de)
{
	log_warn("accept: %s: not accepting for %d ms", strerror(errno), DAEMON_ACCEPT_PAUSE_MS);
	if (de->pause_timer)
		return;
	event_fd_events(loop, de->d->listen_fd, 0);
	de->pause_timer = event_timer_add(loop, DAEMON_ACCEPT_PAUSE_MS, daemon_accept_unpause, de);
}

static void daemon_accept_ready(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct daemon_event *de = ctx;

	(void)events;
	/* Several processes share the socket: EAGAIN just means another won. */
	for (int i = 0; i < 64 && de->accepting; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				daemon_accept_pause(loop, de);
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				 errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		de->fn(loop, cfd, de->ctx);
	}
}

static void daemon_on_term(struct event_loop *loop, int signo, void *ctx)
{
	(void)signo;
	(void)ctx;
	log_debug("terminating on signal");
	event_loop_stop(loop);
}

static void daemon_idle_poll(struct event_loop *loop, void *ctx);

static void daemon_on_hup(struct event_loop *loop, int signo, void *ctx)
{
	struct daemon_event *de = ctx;

	(void)signo;
	de->d->reload = 1;
	daemon_stop_accepting(de->d, loop);
	daemon_idle_poll(loop, de);
}

/* After SIGHUP, exit once the server says it has no work left. */
static void daemon_idle_poll(struct event_loop *loop, void *ctx)
{
	struct daemon_event *de = ctx;

	if (de->idle == NULL || de->idle(de->ctx))
		event_loop_stop(loop);
	else
		event_timer_add(loop, 200, daemon_idle_poll, de);
}

void daemon_stop_accepting(struct daemon *d, struct event_loop *loop)
{
	if (d->listen_fd >= 0 && daemon_ev.accepting) {
		daemon_ev.accepting = false;
		event_fd_events(loop, d->listen_fd, 0);
		daemon_status_set_busy(true);
	}
}

bool daemon_stopping(struct daemon *d)
{
	return d->stop || d->reload;
}

void daemon_event_server(struct daemon *d, struct event_loop *loop, daemon_accept_fn *fn,
    daemon_idle_fn *idle_check, void *ctx)
{
	daemon_ev.d = d;
	daemon_ev.fn = fn;
	daemon_ev.idle = idle_check;
	daemon_ev.ctx = ctx;
	daemon_ev.accepting = true;
	sock_nonblock(d->listen_fd, true);
	event_fd_set(loop, d->listen_fd, EV_READ, daemon_accept_ready, &daemon_ev);
	event_signal(loop, SIGTERM, daemon_on_term, &daemon_ev);
	event_signal(loop, SIGHUP, daemon_on_hup, &daemon_ev);
	daemon_status_watch(loop);
	daemon_timers.loop = loop;
	daemon_timers_arm(d);
}

/* ------------------------------------------------------------ timers */

static struct daemon_timer *daemon_timer_add(
    struct daemon *d, long ms, long period, daemon_timer_fn *fn, void *ctx)
{
	struct daemon_timer *t = xcalloc(1, sizeof(*t));

	t->due = mono_msec() + (ms > 0 ? ms : 0);
	t->period = period;
	t->fn = fn;
	t->ctx = ctx;
	t->next = daemon_timers.list;
	daemon_timers.list = t;
	daemon_timers_arm(d);
	return t;
}

struct daemon_timer *daemon_timer_after(struct daemon *d, long ms, daemon_timer_fn *fn, void *ctx)
{
	return daemon_timer_add(d, ms, 0, fn, ctx);
}

struct daemon_timer *daemon_timer_every(struct daemon *d, long ms, daemon_timer_fn *fn, void *ctx)
{
	return daemon_timer_add(d, ms, ms > 0 ? ms : 1, fn, ctx);
}

void daemon_timer_cancel(struct daemon *d, struct daemon_timer *t)
{
	t->dead = true;
	daemon_timers_arm(d);
}

/* Frees the timers that ran once or were cancelled. */
static void daemon_timers_sweep(void)
{
	struct daemon_timer **pp = &daemon_timers.list, *t;

	while ((t = *pp) != NULL) {
		if (t->dead) {
			*pp = t->next;
			free(t);
		} else {
			pp = &t->next;
		}
	}
}

/* Milliseconds until the next timer is due (0: now), or -1 for none. */
static long daemon_timers_next(void)
{
	long long now = mono_msec(), next = -1;

	for (const struct daemon_timer *t = daemon_timers.list; t; t = t->next)
		if (!t->dead && (next < 0 || t->due - now < next))
			next = t->due > now ? t->due - now : 0;
	return (long)next;
}

/*
 * Runs every timer that is due now, once: one that a callback adds or
 * makes due waits for the next round, so a timer of 0 ms cannot keep
 * the loop from its clients.
 */
static void daemon_timers_run(struct daemon *d)
{
	long long now = mono_msec();
	struct daemon_timer *t;

	daemon_timers.running = true;
	for (t = daemon_timers.list; t; t = t->next)
		t->ready = !t->dead && t->due <= now;
	for (t = daemon_timers.list; t; t = t->next) {
		if (!t->ready || t->dead)
			continue;
		t->ready = false;
		if (t->period > 0)
			t->due = now + t->period;
		else
			t->dead = true;
		t->fn(d, t->ctx);
	}
	daemon_timers.running = false;
	daemon_timers_sweep();
}

static void daemon_timers_fire(struct event_loop *loop, void *ctx)
{
	(void)loop;
	daemon_timers.armed = NULL;
	daemon_timers_run(ctx);
	daemon_timers_arm(ctx);
}

/* An event server: one loop timer for the earliest daemon timer. */
static void daemon_timers_arm(struct daemon *d)
{
	long next;

	if (daemon_timers.loop == NULL || daemon_timers.running)
		return;
	if (daemon_timers.armed) {
		event_timer_cancel(daemon_timers.loop, daemon_timers.armed);
		daemon_timers.armed = NULL;
	}
	daemon_timers_sweep();
	if ((next = daemon_timers_next()) >= 0)
		daemon_timers.armed =
		    event_timer_add(daemon_timers.loop, next, daemon_timers_fire, d);
}

/* ------------------------------------------------------------ blocking servers */

/* How long to wait for a client: until the next timer, or until max_idle
 * runs out since the last client; -1 for ever, 0 when idle too long. */
static long daemon_blocking_wait(long max_idle_ms, long long idle_since)
{
	long next = daemon_timers_next();
	long long left;

	if (max_idle_ms <= 0)
		return next;
	left = idle_since + max_idle_ms - mono_msec();
	if (left <= 0)
		return 0;
	return next >= 0 && next < left ? next : (long)left;
}

void daemon_blocking_server(struct daemon *d, daemon_serve_fn *fn, void *ctx)
{
	struct sigaction sa;
	long max_use = config_int("max_use");
	long max_idle_ms = config_time("max_idle") * 1000;
	long long idle_since = mono_msec();
	long served = 0;

	/* This loop serves the timers now (one server per process; tests run
	 * both kinds in one). */
	daemon_timers.loop = NULL;
	daemon_timers.armed = NULL;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = daemon_signal_flag;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGHUP, &sa, NULL);
	sock_nonblock(d->listen_fd, true);
	while (!daemon_stopping(d) && (max_use <= 0 || served < max_use)) {
		struct pollfd p[2] = {{.fd = d->listen_fd, .events = POLLIN},
		    {.fd = daemon_status_fd(), .events = 0}};
		long wait = daemon_blocking_wait(max_idle_ms, idle_since);
		int n, cfd;

		if (wait == 0 && max_idle_ms > 0 && mono_msec() - idle_since >= max_idle_ms)
			break; /* idle too long: master starts a fresh one */
		n = poll(p, p[1].fd >= 0 ? 2 : 1, wait > INT_MAX ? INT_MAX : (int)wait);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			log_fatal("poll: %s", strerror(errno));
		daemon_timers_run(d);
		if (n == 0)
			continue;
		if (p[1].revents & (POLLERR | POLLHUP)) {
			log_info("master has gone: exiting");
			break;
		}
		cfd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			continue;
		}
		daemon_status_set_busy(true);
		fn(cfd, ctx);
		daemon_status_set_busy(false);
		served++;
		idle_since = mono_msec();
	}
}
