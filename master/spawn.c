/*
 * spawn.c - starting, reaping and restarting the daemons.
 *
 * A service keeps its prestart processes running; avail.c starts more on
 * demand.  A process that exits 0 (it served max_use clients, sat idle,
 * or was told to re-read its configuration) is replaced at once if the
 * service is below prestart.  One that dies of a signal or a non-zero
 * exit within RESTART_GRACE_MS of its start counts as a failure, and
 * each consecutive failure doubles the wait before the next start, up to
 * service_throttle_time.  After the second failure in a row the service
 * is probed with one process at a time until one has lived through the
 * grace period: a daemon that cannot start costs a line or two per
 * attempt, never a fork storm nor a flood of log lines, and one that
 * crashed once after running a while is back at once.
 *
 * A process that master itself signalled (stop, reload, a retired
 * service) and that dies of it is expected and logged at debug level
 * only.  One told to reload (SIGHUP) finishes its sessions first (an
 * idle IMAP client may keep a login process for login_idle_timeout); for
 * an inet service it counts against neither maxproc nor prestart, so that
 * new clients get new processes of the new configuration meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "master.h"
#include "util.h"

#define RESTART_GRACE_MS 10000
#define RESTART_FIRST_MS 100

static struct master *spawn_master;

static void spawn_timer(struct event_loop *loop, void *ctx);

/*
 * In the child: descriptor 3 is the listener, 4 the status pipe, nothing
 * else leaks.  Both are first moved out of the way, so that neither
 * dup2() can overwrite the other.
 */
static void spawn_fds(struct mservice *s)
{
	int lfd = fcntl(s->listen_fd, F_DUPFD_CLOEXEC, 10);
	int sfd = fcntl(s->status_fd[1], F_DUPFD_CLOEXEC, 10);

	if (lfd < 0 || sfd < 0 || dup2(lfd, DAEMON_LISTEN_FD) < 0 ||
	    dup2(sfd, DAEMON_STATUS_FD) < 0)
		_exit(75);
	/* The daemon opens its own log; it inherits nothing but fds 0-4. */
	close_range(DAEMON_STATUS_FD + 1, ~0U, 0);
	setenv("TERN_STATUS_FD", "4", 1);
}

static void spawn_exec(struct master *m, struct mservice *s)
{
	char **argv = xcalloc((size_t)s->cf.argc + 12, sizeof(char *));
	int n = 0;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	spawn_fds(s);
	argv[n++] = s->cf.argv[0];
	argv[n++] = "-c";
	argv[n++] = (char *)config_dir();
	argv[n++] = "-n";
	argv[n++] = s->cf.name;
	argv[n++] = "-t";
	argv[n++] = s->plan.type == SERVICE_INET ? "inet" : "unix";
	for (int i = 0; i < m->verbose; i++)
		argv[n++] = "-v";
	for (int i = 1; i < s->cf.argc; i++)
		argv[n++] = s->cf.argv[i];
	if (s->plan.mode)
		argv[n++] = (char *)s->plan.mode;
	argv[n] = NULL;
	if (m->foreground)
		setenv("TERN_LOG_STDERR", "1", 1);
	execv(s->path, argv);
	log_error("exec %s: %s", s->path, strerror(errno));
	_exit(75);
}

void master_spawn_one(struct master *m, struct mservice *s)
{
	struct mchild *c;
	pid_t pid = fork();

	if (pid < 0) {
		log_warn("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0)
		spawn_exec(m, s);
	c = xcalloc(1, sizeof(*c));
	c->pid = pid;
	c->svc = s;
	c->started = mono_msec();
	c->next = m->children;
	m->children = c;
	s->running++;
	s->avail++; /* available until it says otherwise */
	log_debug("service %s: started pid %ld", s->cf.name, (long)pid);
}

static void spawn_healthy_now(struct master *m, struct mservice *s)
{
	if (s->healthy) {
		event_timer_cancel(m->loop, s->healthy);
		s->healthy = NULL;
	}
	if (s->failures > 1)
		log_info("service %s: running again", s->cf.name);
	s->failures = 0;
}

/* The probe survived the grace period: the service is healthy again. */
static void spawn_healthy(struct event_loop *loop, void *ctx)
{
	struct mservice *s = ctx;

	(void)loop;
	s->healthy = NULL;
	spawn_healthy_now(spawn_master, s);
	master_spawn_service(spawn_master, s);
}

void master_spawn_service(struct master *m, struct mservice *s)
{
	long long now = mono_msec();
	int want = s->prestart;

	spawn_master = m;
	if (m->stopping || s->retired || s->listen_fd < 0)
		return;
	if (now < s->not_before) {
		if (s->timer == NULL)
			s->timer =
			    event_timer_add(m->loop, (long)(s->not_before - now), spawn_timer, s);
		master_avail_update(m, s);
		return;
	}
	if (s->failures > 1 && s->running == 0 && s->healthy == NULL) {
		/* One probe, healthy once it lives through the grace period. */
		master_spawn_one(m, s);
		s->healthy = event_timer_add(m->loop, RESTART_GRACE_MS, spawn_healthy, s);
	}
	while (s->failures <= 1 && s->running - s->draining < want &&
	       (s->limit == 0 || s->running - s->draining < s->limit))
		master_spawn_one(m, s);
	master_avail_update(m, s);
}

static void spawn_timer(struct event_loop *loop, void *ctx)
{
	struct mservice *s = ctx;

	(void)loop;
	s->timer = NULL;
	master_spawn_service(spawn_master, s);
}

void master_spawn_all(struct master *m)
{
	spawn_master = m;
	for (struct mservice *s = m->services; s; s = s->next)
		master_spawn_service(m, s);
}

/* Master asked for this death: stop, reload, a retired service. */
static bool spawn_expected(struct master *m, struct mchild *c, int status)
{
	if (c->signalled == 0)
		return false;
	if (WIFSIGNALED(status) && WTERMSIG(status) == c->signalled)
		return true;
	return m->stopping || c->svc->retired;
}

/* Decides how long a service waits after one of its processes ended. */
static void spawn_account(struct master *m, struct mchild *c, int status)
{
	struct mservice *s = c->svc;
	long long lived = mono_msec() - c->started;
	long long cap = (long long)config_time("service_throttle_time") * 1000;
	long long delay;

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		spawn_healthy_now(m, s); /* a clean exit: nothing is wrong */
		return;
	}
	if (spawn_expected(m, c, status)) {
		log_debug("process %s pid %ld ended as asked", s->path, (long)c->pid);
		return;
	}
	if (WIFSIGNALED(status))
		log_warn("process %s pid %ld killed by signal %d", s->path, (long)c->pid,
		    WTERMSIG(status));
	else
		log_warn("process %s pid %ld exit status %d", s->path, (long)c->pid,
		    WEXITSTATUS(status));
	if (m->stopping || s->retired)
		return;
	if (s->healthy) {
		event_timer_cancel(m->loop, s->healthy);
		s->healthy = NULL;
	}
	/* Siblings that die together are one failure, not several. */
	if (mono_msec() < s->not_before)
		return;
	s->failures = lived < RESTART_GRACE_MS ? s->failures + 1 : 1;
	delay = RESTART_FIRST_MS;
	for (int i = 1; i < s->failures && delay < cap; i++)
		delay *= 2;
	if (delay > cap)
		delay = cap;
	if (s->failures > 1)
		log_warn("service %s: %d failures in a row, next start in %lld ms", s->cf.name,
		    s->failures, delay);
	s->not_before = mono_msec() + delay;
}

static struct mchild *spawn_unlink(struct master *m, pid_t pid)
{
	for (struct mchild **pp = &m->children; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			struct mchild *c = *pp;

			*pp = c->next;
			return c;
		}
	}
	return NULL;
}

void master_reap(struct master *m)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct mchild *c = spawn_unlink(m, pid);

		if (c == NULL)
			continue;
		c->svc->running--;
		if (c->draining)
			c->svc->draining--;
		master_avail_child_gone(c->svc, c);
		spawn_account(m, c, status);
		master_spawn_service(m, c->svc);
		free(c);
	}
	master_services_prune(m);
}

void master_signal_children(struct master *m, struct mservice *only, int signo)
{
	for (struct mchild *c = m->children; c; c = c->next) {
		if (only == NULL || c->svc == only) {
			c->signalled = signo;
			kill(c->pid, signo);
			/* inet services only: a unix one such as qmgr must never
			 * have two processes of two configurations at once. */
			if (signo == SIGHUP && !c->draining && c->svc->listen_spec) {
				c->draining = true;
				c->svc->draining++;
			}
		}
	}
}

int master_child_count(struct master *m)
{
	int n = 0;

	for (struct mchild *c = m->children; c; c = c->next)
		n++;
	return n;
}
